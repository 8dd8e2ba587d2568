"""`dragonnet import cases` and `dragonnet import template`: exit codes 0 / 2 / 1 and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.cli.intake import import_app
from dragonnet.intake.headers import ITEM_COLUMNS
from dragonnet.storage.models import Case, Operation

from .helpers import HEADER, csv_bytes

runner = CliRunner()
GOOD = ["VN-1", "VN-CUS", "2023-06-01", "", "VN", "", "drug", "heroin", "", "1", "kg", "", "", ""]
BAD = ["VN-2", "VN-CUS", "2023-06-01", "", "VN", "", "drug", "heroin", "", "1", "bags", "", "", ""]


def invoke(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(import_app, [*args, "--database-url", db_url])
    return result.exit_code, result.stdout, result.stderr


def test_exit_codes(db_url: str, session: Session, operation: Operation, tmp_path: Path) -> None:
    good, mixed = tmp_path / "good.csv", tmp_path / "mixed.csv"
    good.write_bytes(csv_bytes([GOOD]))
    mixed.write_bytes(csv_bytes([GOOD, BAD]))
    code, out, err = invoke(db_url, "cases", str(mixed), "--agency", "VN-CUS", "--all-or-nothing", "--json")
    assert code == 2
    summary = json.loads(out)
    assert summary["rows_rejected"] == 2 and summary["written"] is False
    assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 0
    session.rollback()  # release SQLite's write lock (sessions begin IMMEDIATE) before the next import

    code, out, err = invoke(db_url, "cases", str(mixed), "--agency", "VN-CUS")
    assert code == 2 and "imported 1 new" in out and "items row 3, unit: unknown unit" in err
    code, out, _ = invoke(db_url, "cases", str(good), "--agency", "vn-cus")
    assert code == 0 and "0 new, 0 updated and 1 unchanged" in out  # the same row again: left as it is
    code, out, _ = invoke(db_url, "cases", str(good), "--agency", "VN-CUS", "--dry-run")
    assert code == 0 and "would import" in out
    guessed = tmp_path / "guessed.csv"
    guessed.write_bytes(csv_bytes([["VN-3", *GOOD[1:7], "heroinn", *GOOD[8:]]]))
    code, out, err = invoke(db_url, "cases", str(guessed), "--agency", "VN-CUS", "--dry-run")
    assert code == 0 and "1 value(s) accepted with a warning (read by a guess" in err
    assert "items row 2, substance: 'heroinn' read as heroin, the closest listed name" in err


def test_file_level_errors_are_one_line(db_url: str, operation: Operation, tmp_path: Path) -> None:
    png = tmp_path / "photo.xlsx"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    for args, message in (
        (["cases", str(png), "--agency", "VN-CUS"], "error: photo.xlsx: not an XLSX workbook"),
        (["cases", str(tmp_path / "missing.csv"), "--agency", "VN-CUS"], "error: cannot read"),
        (["cases", str(png), "--agency", "VN-CUS", "--user", "ghost"], "error: unknown or disabled user 'ghost'"),
        (["cases", str(png), "--agency", "VN-CUS", "--operation", "x"], "error: unknown operation 'x'"),
    ):
        code, out, err = invoke(db_url, *args)
        assert code == 1, (args, out, err)
        assert err.startswith(message) and len(err.strip().splitlines()) == 1
        assert "Traceback" not in out + err


def test_templates(tmp_path: Path) -> None:
    result = runner.invoke(import_app, ["template", str(tmp_path)])
    assert result.exit_code == 0
    header, example = (tmp_path / "cases-template.csv").read_text().strip().splitlines()
    assert header.split(",") == list(ITEM_COLUMNS)
    assert example.startswith("EXAMPLE-0001,VN-CUS,2024-03-05,VNHPH")  # an example row, from the format file
    wb = load_workbook(tmp_path / "cases-template.xlsx")
    assert wb.sheetnames == ["items", "parties", "allowed values", "columns"]
    items = wb["items"]
    assert [c.value for c in items[1]] == list(ITEM_COLUMNS)
    assert items["A2"].value == "EXAMPLE-0001" and items["M2"].value == "wildlife"
    validated = {str(dv.sqref).split(":")[0]: dv for dv in items.data_validations.dataValidation}
    assert "M2" in validated and "allowed values" in validated["M2"].formula1  # commodity_class: a drop-down
    assert "Allowed values: drug, precursor" in items["M1"].comment.text
    allowed = wb["allowed values"]
    assert allowed.sheet_state == "visible"
    listed = {allowed.cell(1, c).value: [allowed.cell(r, c).value for r in range(2, 8)] for c in range(1, 4)}
    assert listed["place_type"][:3] == ["seaport", "airport", "land_border"]
    assert [r[1].value for r in wb["columns"].iter_rows(min_row=2, max_row=3)] == ["case_ref", "reporting_agency"]
    assert HEADER[0] == "case_ref"


def test_templates_in_a_language(tmp_path: Path) -> None:
    result = runner.invoke(import_app, ["template", str(tmp_path), "--lang", "vi"])
    assert result.exit_code == 0, result.output
    header = (tmp_path / "cases-template.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("số vụ,cơ quan,ngày bắt giữ,")
    assert load_workbook(tmp_path / "cases-template.xlsx").sheetnames[2:] == ["giá trị cho phép", "các cột"]
    refused = runner.invoke(import_app, ["template", str(tmp_path / "x"), "--lang", "xx"])
    assert refused.exit_code == 1 and "error: unknown language 'xx'" in refused.output
