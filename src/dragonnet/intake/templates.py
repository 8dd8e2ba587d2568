"""The exchange-format templates: a CSV header row, and an XLSX workbook with drop-down lists."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dragonnet.domain.exchange import FORMAT
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS

# Column -> the values its drop-down list offers (vocabulary columns and the unit), from the exchange format.
ENUM_COLUMNS: dict[str, list[str]] = FORMAT.allowed_values("items")
PARTY_ENUM_COLUMNS: dict[str, list[str]] = FORMAT.allowed_values("parties")


def csv_template() -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(ITEM_COLUMNS)
    return buf.getvalue().encode("utf-8")


def write_csv_template(path: Path) -> None:
    path.write_bytes(csv_template())


def write_xlsx_template(path: Path | io.BytesIO) -> None:
    """Sheets `items` and `parties` with the header row and drop-down lists on the enum columns."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    lists = wb.create_sheet("lists")
    column_of_list: dict[str, str] = {}
    for n, (name, values) in enumerate({**ENUM_COLUMNS, **PARTY_ENUM_COLUMNS}.items(), start=1):
        letter = get_column_letter(n)
        lists.cell(row=1, column=n, value=name)
        for i, value in enumerate(values, start=2):
            lists.cell(row=i, column=n, value=value)
        column_of_list[name] = f"lists!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"
    for title, columns, enums in (
        ("items", ITEM_COLUMNS, ENUM_COLUMNS),
        ("parties", PARTY_COLUMNS, PARTY_ENUM_COLUMNS),
    ):
        ws = wb.active if title == "items" else wb.create_sheet(title, 1)
        assert ws is not None
        ws.title = title
        ws.append(list(columns))
        ws.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(12, len(column) + 2)
            if column in enums:
                dv = DataValidation(type="list", formula1=f"={column_of_list[column]}", allow_blank=True)
                dv.error = f"use one of: {', '.join(enums[column])}"
                dv.errorTitle = column
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}100000")
    wb.save(path)


def xlsx_template() -> bytes:
    buf = io.BytesIO()
    write_xlsx_template(buf)
    return buf.getvalue()
