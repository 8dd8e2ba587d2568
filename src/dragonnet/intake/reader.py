"""Read an exchange-format file (CSV or XLSX) into raw string tables, rejecting what is not safe to open.

Every cell becomes a string (or null); each table keeps the 1-based row number of the source sheet in
`_row`, so errors point at the row the officer sees in the spreadsheet. Nothing here interprets values.

Safety: size limit before anything is parsed; magic bytes must match the extension; XLSX members are
checked for zip bombs (total uncompressed size, compression ratio) before the workbook is opened;
workbooks are read with calamine, which takes cached formula values and never evaluates formulas or
follows external links.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import polars as pl

from dragonnet.intake.headers import SheetKind, count_known
from dragonnet.tabular import (
    HEADER_SCAN_ROWS,
    MAX_BYTES,
    XLSX_MAGIC,
    ImportRejected,
    cell_text,
    check_zip,
    first_lines,
)
from dragonnet.tabular import decode as decode_text

MAX_ROWS = 1_000_000
MIN_KNOWN_HEADERS = 3
ROW = "_row"


@dataclass(frozen=True)
class RawTable:
    """One sheet: `headers` as written (positionally; duplicates allowed here) and `frame` with columns
    c0..cN (strings or null) plus `_row` (1-based source row). Empty rows are already dropped."""

    sheet: SheetKind
    headers: tuple[str, ...]
    frame: pl.DataFrame
    header_row: int


@dataclass(frozen=True)
class ReadResult:
    format: str  # "csv" | "xlsx"
    encoding: str | None  # the CSV's encoding; None for XLSX
    items: RawTable
    parties: RawTable | None


def read_bytes(data: bytes, filename: str, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> ReadResult:
    """Read `data` as the file `filename` (the extension decides CSV or XLSX; the content must agree)."""
    name = PurePath(filename).name or "file"
    if len(data) > max_bytes:
        raise ImportRejected(f"{name}: file is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    if not data:
        raise ImportRejected(f"{name}: the file is empty")
    ext = PurePath(name).suffix.lower()
    if ext == ".xlsx":
        return _read_xlsx(data, name, max_rows)
    if ext in {".csv", ".txt", ".tsv"}:
        if data.startswith(XLSX_MAGIC):
            raise ImportRejected(f"{name}: this is a zip/XLSX file, not a CSV; save it as .xlsx")
        return _read_csv(data, name, max_rows)
    if ext == ".xls":
        raise ImportRejected(f"{name}: the old Excel .xls format is not accepted; save it as .xlsx or CSV")
    raise ImportRejected(f"{name}: unsupported file type {ext or '(no extension)'!r}; use .csv or .xlsx")


# --- CSV ----------------------------------------------------------------------------------------------------


def _find_csv_header(text: str) -> tuple[int, str]:
    """(index of the header record, delimiter): the first record where >= 3 cells name known columns."""
    # Header rows are short: cut long lines so a huge cell further down cannot hide the header.
    head = "\n".join(line[:10_000] for line in first_lines(text, HEADER_SCAN_ROWS * 4))
    best: tuple[int, int, str] | None = None  # (known, -index, delimiter)
    for delimiter in (",", ";", "\t", "|"):
        records: list[list[str]] = []
        reader = csv.reader(io.StringIO(head), delimiter=delimiter)
        try:
            for record in reader:
                records.append(record)
                if len(records) == HEADER_SCAN_ROWS:
                    break
        except csv.Error:
            pass
        for i, record in enumerate(records):
            known = count_known(record)
            if known >= MIN_KNOWN_HEADERS:
                cand = (known, -i, delimiter)
                if best is None or cand > best:
                    best = cand
                break
    if best is None:
        raise ImportRejected(
            f"no header row found in the first {HEADER_SCAN_ROWS} rows (a row naming at least "
            f"{MIN_KNOWN_HEADERS} exchange-format columns, e.g. case_ref, seizure_date, quantity)"
        )
    return -best[1], best[2]


def _read_csv(data: bytes, name: str, max_rows: int) -> ReadResult:
    sample = data[: 1 << 20]
    text, encoding = decode(data, name)
    if "\x00" in text or (b"\x00" in sample and not encoding.startswith("utf-16")):
        raise ImportRejected(f"{name}: the file contains NUL bytes; it is not a text CSV")
    text = text.removeprefix("\ufeff")
    try:
        header_index, delimiter = _find_csv_header(text)
    except ImportRejected as exc:
        raise ImportRejected(f"{name}: {exc.message}") from None
    # Row numbers count physical records; the header's row number accounts for skipped title lines.
    header_rowno = header_index + 1
    try:
        frame = pl.read_csv(
            # A UTF-8 file without a BOM is its own UTF-8 text: read its bytes, no second copy of the file.
            io.BytesIO(data if encoding == "utf-8" else text.encode("utf-8")),
            has_header=False,
            infer_schema=False,
            separator=delimiter,
            skip_rows=header_index,
            truncate_ragged_lines=True,
            n_rows=max_rows + 2,
            quote_char='"',
        )
    except (pl.exceptions.ComputeError, pl.exceptions.PolarsError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise ImportRejected(f"{name}: not a readable CSV ({first[:200]})") from None
    if frame.height == 0:
        raise ImportRejected(f"{name}: no header row")
    headers = tuple("" if v is None else str(v).strip() for v in frame.row(0))
    frame = frame.slice(1)
    frame = frame.rename({old: f"c{i}" for i, old in enumerate(frame.columns)})
    frame = frame.with_row_index(ROW, offset=header_rowno + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    table = _finish(frame, headers, "items", header_rowno, name, max_rows)
    return ReadResult("csv", encoding, table, None)


# --- XLSX ---------------------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, name: str, max_rows: int) -> ReadResult:
    check_zip(data, name)
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as exc:
        raise ImportRejected(f"{name}: unreadable workbook ({str(exc).splitlines()[0][:200]})") from None
    except Exception as exc:  # calamine raises its own hierarchy for damaged XML; all mean "unreadable"
        raise ImportRejected(f"{name}: unreadable workbook ({type(exc).__name__})") from None
    sheet_names = list(workbook.sheet_names)
    lower = {s.strip().lower(): s for s in sheet_names}
    items_name = lower.get("items") or (sheet_names[0] if len(sheet_names) == 1 else None)
    if items_name is None:
        raise ImportRejected(f"{name}: no sheet named 'items' (sheets: {', '.join(sheet_names)})")
    items = _read_sheet(workbook, items_name, "items", name, max_rows)
    if items is None:  # pragma: no cover - only optional sheets answer None
        raise ImportRejected(f"{name}: the items sheet is empty")
    parties = None
    if "parties" in lower:
        parties = _read_sheet(workbook, lower["parties"], "parties", name, max_rows, optional=True)
    return ReadResult("xlsx", None, items, parties)


def _read_sheet(
    workbook: Any, sheet_name: str, kind: SheetKind, name: str, max_rows: int, *, optional: bool = False
) -> RawTable | None:
    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
        if sheet.total_height > max_rows + HEADER_SCAN_ROWS:
            raise ImportRejected(
                f"{name}: sheet {sheet_name!r} has {sheet.total_height} rows, over the {max_rows} limit"
            )
        rows = sheet.to_python(skip_empty_area=False)
    except ImportRejected:
        raise
    except Exception as exc:
        raise ImportRejected(f"{name}: sheet {sheet_name!r} is unreadable ({type(exc).__name__})") from None
    header_index = next(
        (i for i, r in enumerate(rows[:HEADER_SCAN_ROWS]) if count_known(r, kind) >= MIN_KNOWN_HEADERS), None
    )
    if header_index is None:
        if optional and not any(any(cell_text(c) for c in r) for r in rows):
            return None
        raise ImportRejected(
            f"{name}: sheet {sheet_name!r}: no header row found in the first {HEADER_SCAN_ROWS} rows (a row naming "
            f"at least {MIN_KNOWN_HEADERS} exchange-format columns)"
        )
    headers = tuple(cell_text(c) or "" for c in rows[header_index])
    while headers and not headers[-1]:
        headers = headers[:-1]
    width = len(headers)
    body = rows[header_index + 1 :]
    columns: dict[str, list[str | None]] = {f"c{i}": [] for i in range(width)}
    for r in body:
        for i in range(width):
            columns[f"c{i}"].append(cell_text(r[i]) if i < len(r) else None)
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    frame = frame.with_columns(
        pl.int_range(header_index + 2, header_index + 2 + frame.height, dtype=pl.Int64).alias(ROW)
    )
    return _finish(frame, headers, kind, header_index + 1, f"{name} ({sheet_name})", max_rows)


def _finish(
    frame: pl.DataFrame, headers: tuple[str, ...], kind: SheetKind, header_row: int, name: str, max_rows: int
) -> RawTable:
    cells = [c for c in frame.columns if c != ROW]
    frame = frame.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in cells])
    if cells:
        frame = frame.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in cells]))
    if frame.height > max_rows:
        raise ImportRejected(f"{name}: more than {max_rows} data rows")
    return RawTable(kind, headers, frame, header_row)


def decode(data: bytes, name: str = "file") -> tuple[str, str]:
    """(text, encoding) of an exchange-format CSV: the encoding whose header row names more format columns."""
    return decode_text(data, name, count_known)
