"""The exchange-format templates, read from the format file: a CSV and an XLSX workbook, each with the header
row and an example row (one coherent case, EXAMPLE-0001); the XLSX also has drop-down lists on the columns with
allowed values, a note on every header (what the column holds, whether it is required), a visible sheet of
the allowed values and a sheet describing every column.

An unchanged example row is never imported (`example_rows`): a template filled in below its example, or
uploaded as downloaded, does not create a case EXAMPLE-0001.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from dragonnet.domain.exchange import FORMAT, SheetKind
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS

# Column -> the values its drop-down list offers (vocabulary columns and the unit), from the exchange format.
ENUM_COLUMNS: dict[str, list[str]] = FORMAT.allowed_values("items")
PARTY_ENUM_COLUMNS: dict[str, list[str]] = FORMAT.allowed_values("parties")
EXAMPLE: dict[SheetKind, dict[str, str]] = {sheet: FORMAT.example_row(sheet) for sheet in ("items", "parties")}
EXAMPLE_CASE_REF = EXAMPLE["items"]["case_ref"]
VALIDATED_ROWS = 100_000  # rows of the XLSX sheets that carry the drop-down lists


def _example(columns: tuple[str, ...], sheet: SheetKind) -> list[str]:
    return [EXAMPLE[sheet].get(c, "") for c in columns]


def csv_template() -> bytes:
    """The items sheet as CSV: the header row and the example row (overwrite it, or leave it: it is skipped)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(ITEM_COLUMNS)
    writer.writerow(_example(ITEM_COLUMNS, "items"))
    return buf.getvalue().encode("utf-8")


def write_csv_template(path: Path) -> None:
    path.write_bytes(csv_template())


def _header_note(sheet: SheetKind, name: str) -> str:
    column = FORMAT.column(sheet, name)
    parts = [column.description or name.replace("_", " ")]
    if column.required:
        parts.append("Required.")
    elif column.required_for:
        parts.append(f"Required for: {', '.join(column.required_for)}.")
    allowed = FORMAT.allowed_values(sheet).get(name)
    if allowed:
        parts.append(f"Allowed values: {', '.join(allowed)}.")
    return " ".join(parts)


def write_xlsx_template(path: Path | io.BytesIO) -> None:
    """Sheets `items` and `parties` (header, example row, drop-down lists, a note per header), `allowed values`
    and `columns` (what each column holds, required or not, its example)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    lists = wb.create_sheet("allowed values")
    column_of_list: dict[str, str] = {}
    for n, (name, values) in enumerate({**ENUM_COLUMNS, **PARTY_ENUM_COLUMNS}.items(), start=1):
        letter = get_column_letter(n)
        lists.cell(row=1, column=n, value=name).font = Font(bold=True)
        lists.column_dimensions[letter].width = max(14, len(name) + 2)
        for i, value in enumerate(values, start=2):
            lists.cell(row=i, column=n, value=value)
        column_of_list[name] = f"'allowed values'!${letter}$2:${letter}${len(values) + 1}"
    sheets: tuple[tuple[SheetKind, tuple[str, ...], dict[str, list[str]]], ...] = (
        ("items", ITEM_COLUMNS, ENUM_COLUMNS),
        ("parties", PARTY_COLUMNS, PARTY_ENUM_COLUMNS),
    )
    for title, columns, enums in sheets:
        ws = wb.active if title == "items" else wb.create_sheet(title, 1)
        assert ws is not None
        ws.title = title
        ws.append(list(columns))
        ws.append(_example(columns, title))
        ws.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            letter = get_column_letter(i)
            header = ws.cell(row=1, column=i)
            header.font = Font(bold=True)
            header.comment = Comment(_header_note(title, column), "dragonnet", width=320, height=140)
            ws.cell(row=2, column=i).font = Font(italic=True, color="808080")
            ws.column_dimensions[letter].width = max(12, len(column) + 2)
            if column in enums:
                dv = DataValidation(type="list", formula1=f"={column_of_list[column]}", allow_blank=True)
                dv.error = f"use one of: {', '.join(enums[column])}"
                dv.errorTitle = column
                dv.prompt = f"one of: {', '.join(enums[column])}"
                dv.promptTitle = column
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
    about = wb.create_sheet("columns")
    about.append(["sheet", "column", "required", "what it holds", "example"])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for title, columns, _enums in sheets:
        for column in columns:
            c = FORMAT.column(title, column)
            required = "yes" if c.required else (f"for {', '.join(c.required_for)}" if c.required_for else "")
            about.append([title, column, required, _header_note(title, column), c.example])
    for letter, width in zip("ABCDE", (10, 22, 18, 90, 40), strict=True):
        about.column_dimensions[letter].width = width
    wb.save(path)


def xlsx_template() -> bytes:
    buf = io.BytesIO()
    write_xlsx_template(buf)
    return buf.getvalue()


def example_rows(frame: pl.DataFrame, sheet: SheetKind) -> pl.Series:
    """True for the rows of a read sheet (exchange-format column names, text cells) that are the templates'
    unchanged example row: they are skipped, never imported."""
    example = EXAMPLE[sheet]
    if "case_ref" not in frame.columns:
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    same = pl.col("case_ref").str.strip_chars() == example["case_ref"]
    for column in frame.columns:
        if column in example and column != "case_ref":
            cell = pl.col(column).cast(pl.String).str.strip_chars().fill_null("")
            same = same & (cell == example[column])
    return frame.select(same.fill_null(False).alias("example")).to_series()
