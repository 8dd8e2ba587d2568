"""The exchange-format templates, read from the format file: a CSV and an XLSX workbook, each with the header
row and an example row (one coherent case, EXAMPLE-0001); the XLSX also has drop-down lists on the columns with
allowed values, a note on every header (what the column holds, whether it is required), a visible sheet of
the allowed values and a sheet describing every column.

In a language (`locale`, one of dragonnet.i18n.LOCALES; English by default): each header is the format file's
synonym in that language that the import maps back to the column (`ExchangeFormat.header`), else the column's own
name (said in its note); notes, sheet names, the columns sheet and the example row's label come from the
catalogues. The values (vocabulary values, codes, the sheet names `items` and `parties`) stay the format's own.

An unchanged example row is never imported (`example_rows`): a template filled in below its example, or
uploaded as downloaded, does not create a case EXAMPLE-0001.
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path
from typing import Any

import polars as pl

from dragonnet import i18n
from dragonnet.domain.exchange import EXAMPLE_LABEL_COLUMN, FORMAT, SheetKind
from dragonnet.errors import ValidationError
from dragonnet.i18n import N_
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS

# Column -> the values its drop-down list offers (vocabulary columns and the unit), from the exchange format.
ENUM_COLUMNS: dict[str, list[str]] = FORMAT.allowed_values("items")
PARTY_ENUM_COLUMNS: dict[str, list[str]] = FORMAT.allowed_values("parties")
EXAMPLE: dict[SheetKind, dict[str, str]] = {sheet: FORMAT.example_row(sheet) for sheet in ("items", "parties")}
EXAMPLE_CASE_REF = EXAMPLE["items"]["case_ref"]
VALIDATED_ROWS = 100_000  # rows of the XLSX sheets that carry the drop-down lists


def language(locale: str | None) -> str:
    """A template's language: a shipped locale ("zh", "zh-CN" -> "zh_Hans"); None -> English. An unknown one is
    refused with the list, never silently English."""
    if not locale:
        return i18n.DEFAULT_LOCALE
    found = i18n.normalise(locale)
    if found is None:
        raise ValidationError(f"unknown language {locale!r}: use one of {', '.join(i18n.LOCALES)}")
    return found


def header(sheet: SheetKind, name: str, locale: str) -> str:
    """A column's header in the template for `locale` (English: the column's own name, the contract)."""
    if locale == i18n.DEFAULT_LOCALE:
        return name
    return FORMAT.header(sheet, name, locale) or name


def headers(sheet: SheetKind, locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
    return [header(sheet, name, locale) for name in (ITEM_COLUMNS if sheet == "items" else PARTY_COLUMNS)]


def _example(columns: tuple[str, ...], sheet: SheetKind) -> list[str]:
    """The example row in the current locale: the label (the description column's example) is translated."""
    return [i18n.gettext(EXAMPLE[sheet][c]) if c == EXAMPLE_LABEL_COLUMN else EXAMPLE[sheet].get(c, "")
            for c in columns]  # fmt: skip


def csv_template(locale: str | None = None) -> bytes:
    """The items sheet as CSV: the header row and the example row (overwrite it, or leave it: it is skipped)."""
    chosen = language(locale)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    with i18n.use_locale(chosen):
        writer.writerow(headers("items", chosen))
        writer.writerow(_example(ITEM_COLUMNS, "items"))
    return buf.getvalue().encode("utf-8")


def write_csv_template(path: Path, locale: str | None = None) -> None:
    path.write_bytes(csv_template(locale))


def _header_note(sheet: SheetKind, name: str, locale: str) -> str:
    """What a header's note says, in the current locale: what the column holds, required or not, the allowed
    values; in another language, the column's exchange-format name (or why its header stayed English)."""
    column = FORMAT.column(sheet, name)
    parts = [i18n.gettext(column.description) if column.description else name.replace("_", " ")]
    if column.required:
        parts.append(i18n.gettext("Required."))
    elif column.required_for:
        parts.append(i18n.gettext("Required for: %(classes)s.", classes=", ".join(column.required_for)))
    allowed = FORMAT.allowed_values(sheet).get(name)
    if allowed:
        parts.append(i18n.gettext("Allowed values: %(values)s.", values=", ".join(allowed)))
    if locale != i18n.DEFAULT_LOCALE:
        if FORMAT.header(sheet, name, locale) is None:
            parts.append(i18n.gettext(
                "This header stays in English (%(column)s): the exchange format has no name for this column in this "
                "language yet.", column=name))  # fmt: skip
        else:
            parts.append(i18n.gettext("Exchange-format column: %(column)s.", column=name))
    return " ".join(parts)


def _sheet_name(text: str) -> str:
    """A translated sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return "".join(" " if ch in "[]:*?/\\" else ch for ch in text)[:31].strip()


def write_xlsx_template(path: Path | io.BytesIO, locale: str | None = None) -> None:
    """Sheets `items` and `parties` (header, example row, drop-down lists, a note per header), `allowed values`
    and `columns` (what each column holds, required or not, its example), in `locale` (English by default)."""
    chosen = language(locale)
    with i18n.use_locale(chosen):
        _write_xlsx(path, chosen)


def _write_xlsx(path: Path | io.BytesIO, locale: str) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    lists_name = _sheet_name(i18n.gettext(N_("allowed values")))
    lists = wb.create_sheet(lists_name)
    column_of_list: dict[str, str] = {}
    enum_lists: list[tuple[SheetKind, str, list[str]]] = [("items", n, v) for n, v in ENUM_COLUMNS.items()]
    enum_lists += [("parties", n, v) for n, v in PARTY_ENUM_COLUMNS.items()]
    for n, (sheet, name, values) in enumerate(enum_lists, start=1):
        letter = get_column_letter(n)
        list_title = header(sheet, name, locale)
        lists.cell(row=1, column=n, value=list_title).font = Font(bold=True)
        lists.column_dimensions[letter].width = max(14, len(list_title) * (2 if _wide(list_title) else 1) + 2)
        for i, value in enumerate(values, start=2):
            lists.cell(row=i, column=n, value=value)
        quoted = lists_name.replace("'", "''")
        column_of_list[name] = f"'{quoted}'!${letter}$2:${letter}${len(values) + 1}"
    sheets: tuple[tuple[SheetKind, tuple[str, ...], dict[str, list[str]]], ...] = (
        ("items", ITEM_COLUMNS, ENUM_COLUMNS),
        ("parties", PARTY_COLUMNS, PARTY_ENUM_COLUMNS),
    )
    for title, columns, enums in sheets:
        ws = wb.active if title == "items" else wb.create_sheet(title, 1)
        assert ws is not None
        ws.title = title
        ws.append(headers(title, locale))
        ws.append(_example(columns, title))
        ws.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            letter = get_column_letter(i)
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            cell.comment = Comment(_header_note(title, column, locale), "dragonnet", width=320, height=160)
            ws.cell(row=2, column=i).font = Font(italic=True, color="808080")
            ws.column_dimensions[letter].width = max(12, len(str(cell.value)) * (2 if _wide(cell.value) else 1) + 2)
            if column in enums:
                choices = ", ".join(enums[column])
                dv = DataValidation(type="list", formula1=f"={column_of_list[column]}", allow_blank=True)
                dv.error = i18n.gettext("use one of: %(values)s", values=choices)
                dv.errorTitle = str(cell.value)[:32]
                dv.prompt = i18n.gettext("one of: %(values)s", values=choices)
                dv.promptTitle = str(cell.value)[:32]
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
    _columns_sheet(wb.create_sheet(_sheet_name(i18n.gettext(N_("columns")))), sheets, locale)
    wb.save(path)


def _columns_sheet(about: Any, sheets: tuple[tuple[SheetKind, tuple[str, ...], Any], ...], locale: str) -> None:
    """The sheet describing every column: its header in this template, its exchange-format name, required or
    not, what it holds, its example."""
    from openpyxl.styles import Font

    about.append([i18n.gettext("sheet"), i18n.gettext("header"), i18n.gettext("exchange-format column"),
                  i18n.gettext("required"), i18n.gettext("what it holds"), i18n.gettext("example")])  # fmt: skip
    for cell in about[1]:
        cell.font = Font(bold=True)
    for title, columns, _enums in sheets:
        example = dict(zip(columns, _example(columns, title), strict=True))
        for column in columns:
            c = FORMAT.column(title, column)
            required = (
                i18n.gettext("yes") if c.required
                else i18n.gettext("for %(classes)s", classes=", ".join(c.required_for)) if c.required_for else ""
            )  # fmt: skip
            about.append([title, header(title, column, locale), column, required,
                          _header_note(title, column, locale), example[column]])  # fmt: skip
    for letter, width in zip("ABCDEF", (10, 22, 22, 18, 90, 40), strict=True):
        about.column_dimensions[letter].width = width


def _wide(text: object) -> bool:
    """True for a header in a script whose characters are about two Latin letters wide (CJK)."""
    return any("\u3000" <= ch <= "\u9fff" for ch in str(text))


def xlsx_template(locale: str | None = None) -> bytes:
    buf = io.BytesIO()
    write_xlsx_template(buf, locale)
    return buf.getvalue()


@functools.cache
def _labels(sheet: SheetKind) -> list[str]:
    """The example row's label as every shipped language's template writes it (recognised as unchanged)."""
    label = EXAMPLE[sheet].get(EXAMPLE_LABEL_COLUMN, "")
    return sorted({i18n.translations(locale).gettext(label) for locale in i18n.LOCALES}) if label else []


def example_rows(frame: pl.DataFrame, sheet: SheetKind) -> pl.Series:
    """True for the rows of a read sheet (exchange-format column names, text cells) that are the templates'
    unchanged example row: they are skipped, never imported."""
    example = EXAMPLE[sheet]
    if "case_ref" not in frame.columns:
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    same = pl.col("case_ref").str.strip_chars() == example["case_ref"]
    # Only the rows with the example's case_ref can be the example: the other cells are compared when there is one
    # (a file of 10^6 rows has none; comparing every column of every row was a few percent of an import).
    if not frame.select(same.any()).item():
        return pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias("example")
    for column in frame.columns:
        if column in example and column != "case_ref":
            cell = pl.col(column).cast(pl.String).str.strip_chars().fill_null("")
            if column == EXAMPLE_LABEL_COLUMN and example[column]:
                same = same & cell.is_in(_labels(sheet))  # the label as written in any language's template
            else:
                same = same & (cell == example[column])
    return frame.select(same.fill_null(False).alias("example")).to_series()
