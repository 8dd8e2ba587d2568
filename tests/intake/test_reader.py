"""Reading CSV/XLSX safely: encodings, header detection, formulas, and files that must be refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from dragonnet.intake.reader import decode, read_bytes
from dragonnet.tabular import MAX_UNCOMPRESSED, ImportRejected

from .helpers import HEADER, csv_bytes, with_cached_formula_values, xlsx_bytes

DATA = Path(__file__).parent / "data"
ROW = ["VN-1", "VN-CUS", "2023-06-01", "VNHAN", "VN", "", "drug", "heroin", "", "1,5", "kg", "", "", ""]


def test_utf8_with_and_without_bom() -> None:
    plain = csv_bytes([ROW])
    for data, encoding in ((plain, "utf-8"), (b"\xef\xbb\xbf" + plain, "utf-8-sig")):
        result = read_bytes(data, "cases.csv")
        assert result.encoding == encoding
        assert result.items.headers == tuple(HEADER)
        assert result.items.frame.height == 1


def test_cp1252_and_gb18030_are_detected() -> None:
    fr = read_bytes((DATA / "cp1252_fr.csv").read_bytes(), "fr.csv")
    assert fr.encoding == "cp1252"
    assert fr.items.headers[0] == "Référence"
    assert "café" in fr.items.frame["c10"][0]
    zh = read_bytes((DATA / "gb18030_zh.csv").read_bytes(), "zh.csv")
    assert zh.encoding == "gb18030"
    assert zh.items.headers[:3] == ("案件编号", "报告机构", "查获日期")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_with_or_without_bom(encoding: str) -> None:
    result = read_bytes(csv_bytes([ROW], encoding=encoding), "cases.csv")
    assert result.encoding.startswith("utf-16")
    assert result.items.frame["c0"][0] == "VN-1"


def test_decode_prefers_the_encoding_whose_headers_make_sense() -> None:
    text, encoding = decode("case_ref,seizure_date,quantity,remarque\nA,2023-01-01,1,déjà vu\n".encode("cp1252"))
    assert encoding == "cp1252" and "déjà" in text


def test_title_rows_and_empty_rows_keep_source_row_numbers() -> None:
    result = read_bytes((DATA / "messy_vi.csv").read_bytes(), "messy.csv")
    assert result.items.header_row == 3
    assert result.items.frame["_row"].to_list() == [4, 5, 7, 8, 9]  # row 6 is empty


def test_semicolon_delimited_csv() -> None:
    data = ";".join(HEADER).encode() + b"\n" + ";".join(ROW).encode() + b"\n"
    assert read_bytes(data, "x.csv").items.frame["c9"][0] == "1,5"


def test_nul_bytes_are_refused() -> None:
    with pytest.raises(ImportRejected, match="NUL bytes"):
        read_bytes(csv_bytes([ROW]) + b"VN-2,\x00\x00,evil\n", "cases.csv")


def test_no_header_row() -> None:
    with pytest.raises(ImportRejected, match="no header row found"):
        read_bytes(b"a,b,c\n1,2,3\n", "cases.csv")


def test_size_limit() -> None:
    with pytest.raises(ImportRejected, match="over the 0 MB limit"):
        read_bytes(csv_bytes([ROW]), "cases.csv", max_bytes=100)


def test_row_limit() -> None:
    with pytest.raises(ImportRejected, match="more than 3 data rows"):
        read_bytes(csv_bytes([ROW] * 5), "cases.csv", max_rows=3)


def test_png_renamed_xlsx_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(ImportRejected, match="not an XLSX workbook"):
        read_bytes(png, "cases.xlsx")


def test_zip_without_content_types_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ImportRejected, match=r"no \[Content_Types\].xml"):
        read_bytes(buf.getvalue(), "cases.xlsx")


def test_xlsx_named_csv_is_refused() -> None:
    with pytest.raises(ImportRejected, match="not a CSV"):
        read_bytes(xlsx_bytes({"items": [HEADER]}), "cases.csv")


def test_zip_bomb_is_refused_before_opening() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))  # ratio ~1000
    with pytest.raises(ImportRejected, match="zip bomb"):
        read_bytes(buf.getvalue(), "bomb.xlsx")


def test_huge_uncompressed_total_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import dragonnet.tabular as tabular

    monkeypatch.setattr(tabular, "MAX_UNCOMPRESSED", 1024)
    assert MAX_UNCOMPRESSED == 200 * 1024 * 1024
    with pytest.raises(ImportRejected, match="would expand to"):
        read_bytes(xlsx_bytes({"items": [HEADER, ROW]}), "cases.xlsx")


def test_xlsx_merged_title_header_and_empty_rows() -> None:
    rows: list[list[object]] = [["Seizure report, phase V"], [], HEADER, ROW, [], [*ROW[:1], *ROW[1:]]]
    data = xlsx_bytes({"items": rows}, merge={"items": ["A1:N1"]})
    result = read_bytes(data, "cases.xlsx")
    assert result.format == "xlsx" and result.encoding is None
    assert result.items.header_row == 3
    assert result.items.frame["_row"].to_list() == [4, 6]
    assert result.parties is None


def test_xlsx_formulas_give_their_cached_value_and_are_not_evaluated() -> None:
    row: list[object] = [*ROW]
    row[9] = "=1+0.5"
    row[13] = '=WEBSERVICE("http://127.0.0.1:9/steal")'
    data = with_cached_formula_values(xlsx_bytes({"items": [HEADER, row]}), {"J2": "1.5"})
    frame = read_bytes(data, "cases.xlsx").items.frame
    assert frame["c9"][0] == "1.5"
    assert frame["c13"][0] is None  # no cached value: nothing is fetched or computed


def test_xlsx_dates_and_numbers_become_text() -> None:
    import datetime as dt

    row: list[object] = [*ROW]
    row[2] = dt.datetime(2023, 6, 1)
    row[9] = 12.0
    row[12] = 3
    frame = read_bytes(xlsx_bytes({"items": [HEADER, row]}), "cases.xlsx").items.frame
    assert (frame["c2"][0], frame["c9"][0], frame["c12"][0]) == ("2023-06-01", "12", "3")


def test_xlsx_needs_an_items_sheet() -> None:
    data = xlsx_bytes({"seizures": [HEADER], "other": [HEADER]})
    with pytest.raises(ImportRejected, match="no sheet named 'items'"):
        read_bytes(data, "cases.xlsx")


def test_unsupported_extension() -> None:
    with pytest.raises(ImportRejected, match="unsupported file type"):
        read_bytes(b"x", "cases.pdf")
