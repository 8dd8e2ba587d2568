"""Reading a list to screen (CSV or XLSX) into rows, with a per-row report.

The whole file is refused (ImportRejected, one message) when it cannot be read: not CSV or XLSX, too large, a
zip bomb, no header row, no name column. Otherwise every row is accounted for: screened, or quarantined with
the reason (no name, an unreadable date or country, a value too long); nothing is dropped silently. A reading
that is a guess (a date that could be day/month or month/day, a phone number that cannot be read) is said in
the report's notes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from dragonnet.linkage import normalise
from dragonnet.linkage.resolve import PartyInput
from dragonnet.linkage.screening import columns as cols
from dragonnet.reference import countries
from dragonnet.tabular import (
    HEADER_SCAN_ROWS,
    MAX_BYTES,
    XLSX_MAGIC,
    ImportRejected,
    RowError,
    cell_text,
    check_zip,
    first_lines,
)
from dragonnet.tabular import decode as decode_text

MAX_ROWS = 200_000
KINDS = ("person", "company")
MAX_LENGTHS = {"name": 300, "family_name": 200, "given_name": 200, "id_number": 64, "phone": 64, "email": 254,
               "address": 1000, "postcode": 16, "nationality": 64, "birth_date": 32, "kind": 32}  # fmt: skip
SHEET = "list"
_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_YMD = re.compile(r"^(\d{4})[./-](\d{1,2})[./-](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_KIND_WORDS = {"person": "person", "individual": "person", "natural person": "person", "company": "company",
               "business": "company", "firm": "company", "legal person": "company", "organisation": "company",
               "organization": "company", "p": "person", "c": "company"}  # fmt: skip


@dataclass(frozen=True)
class ListRow:
    """One row to screen: its number in the file, the name as written, and what the matcher compares."""

    row: int
    name: str
    party: PartyInput  # party_id: the row number


@dataclass
class ListReport:
    """What became of every row of the file."""

    file_format: str
    encoding: str | None
    rows_read: int = 0
    headers: list[cols.HeaderMatch] = field(default_factory=list)
    rows: list[ListRow] = field(default_factory=list)
    quarantined: list[RowError] = field(default_factory=list)  # one entry per problem; the row is not screened
    notes: list[RowError] = field(default_factory=list)  # guesses and values left out; the row is screened

    @property
    def quarantined_rows(self) -> int:
        return len({e.row for e in self.quarantined})


# --- the file -------------------------------------------------------------------------------------------------


def _csv_rows(data: bytes, name: str) -> tuple[list[list[str | None]], str]:
    text, encoding = decode_text(data, name, score=cols.count_known)
    if "\x00" in text:
        raise ImportRejected(f"{name}: not a text file (it holds NUL bytes)")
    sample = "\n".join(first_lines(text, HEADER_SCAN_ROWS))
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [[cell if cell.strip() else None for cell in r] for r in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise ImportRejected(f"{name}: unreadable CSV ({exc})") from None
    return rows, encoding


def _xlsx_rows(data: bytes, name: str) -> list[list[str | None]]:
    check_zip(data, name)
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = list(workbook.sheet_names)
        if not sheets:
            raise ImportRejected(f"{name}: the workbook has no sheet")
        sheet = workbook.get_sheet_by_name(sheets[0])
        if sheet.total_height > MAX_ROWS + HEADER_SCAN_ROWS:
            raise ImportRejected(f"{name}: {sheet.total_height} rows, over the {MAX_ROWS} limit")
        raw = sheet.to_python(skip_empty_area=False)
    except ImportRejected:
        raise
    except Exception as exc:  # calamine raises its own hierarchy for damaged files: all mean "unreadable"
        raise ImportRejected(f"{name}: unreadable workbook ({type(exc).__name__})") from None
    return [[cell_text(c) for c in r] for r in raw]


def read_table(data: bytes, name: str) -> tuple[str, str | None, list[list[str | None]]]:
    """(format, encoding, rows of cell texts) of a CSV or XLSX file."""
    if not data:
        raise ImportRejected(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise ImportRejected(f"{name}: {len(data) / 1e6:.0f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit")
    if data.startswith(XLSX_MAGIC):
        return "xlsx", None, _xlsx_rows(data, name)
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise ImportRejected(f"{name}: not an XLSX workbook (the content is not a zip file)")
    if name.lower().endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRejected(f"{name}: old Excel (.xls) workbooks are not read; save it as .xlsx or CSV")
    rows, encoding = _csv_rows(data, name)
    return "csv", encoding, rows


# --- the rows -------------------------------------------------------------------------------------------------


def parse_birth_date(text: str) -> tuple[dt.date | None, str | None, bool]:
    """(date, problem, ambiguous): ISO, YYYYMMDD, day/month/year (month/day/year when the day is over 12)."""
    value = text.strip()
    try:
        if m := _YMD.match(value) or _COMPACT.match(value):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None, False
        if m := _DMY.match(value):
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            if a > 12 or b > 12:
                day, month = (a, b) if a > 12 else (b, a)
                return dt.date(year, month, day), None, False
            return dt.date(year, b, a), None, a != b
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T][\d:.]+", value):
            return dt.date.fromisoformat(value[:10]), None, False
    except ValueError:
        return None, f"{value!r} is not a date", False
    if re.fullmatch(r"\d{4}", value):
        return None, "a year alone is not compared (give the full date of birth)", False
    return None, f"{value!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)", False


def _row_values(cells: list[str | None], mapping: dict[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, column in mapping.items():
        value = cells[index] if index < len(cells) else None
        if value is not None and value.strip():
            out[column] = value.strip()
    return out


def _name(values: dict[str, str]) -> str | None:
    if "name" in values:
        return values["name"]
    parts = [values[c] for c in ("family_name", "given_name") if c in values]
    return " ".join(parts) or None


def read_row(row: int, values: dict[str, str], default_kind: str, report: ListReport, today: dt.date) -> None:
    """Check one row; add it to the rows to screen, or its problems to the quarantine."""
    problems: list[RowError] = []
    for column, value in values.items():
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            problems.append(RowError(row, column, value[:50], f"longer than {limit} characters", sheet=SHEET))
    name = _name(values)
    if name is None:
        problems.append(RowError(row, "name", None, "no name: the row cannot be screened", sheet=SHEET))
    kind = default_kind
    if "kind" in values:
        found = _KIND_WORDS.get(normalise.fold(values["kind"]).strip())
        if found is None:
            problems.append(RowError(row, "kind", values["kind"], "not person or company", sheet=SHEET))
        else:
            kind = found
    birth = None
    if "birth_date" in values:
        birth, problem, ambiguous = parse_birth_date(values["birth_date"])
        if problem and problem.startswith("a year alone"):
            report.notes.append(RowError(row, "birth_date", values["birth_date"], problem, sheet=SHEET))
        elif problem:
            problems.append(RowError(row, "birth_date", values["birth_date"], problem, sheet=SHEET))
        elif birth is not None and not dt.date(1900, 1, 1) <= birth <= today:
            problems.append(RowError(row, "birth_date", values["birth_date"], "not a possible date of birth",
                                     sheet=SHEET))  # fmt: skip
        elif ambiguous:
            report.notes.append(RowError(row, "birth_date", values["birth_date"],
                                         f"read day first, as {birth}: day and month could be swapped",
                                         sheet=SHEET))  # fmt: skip
    nationality = None
    if "nationality" in values:
        country = countries.try_resolve(values["nationality"])
        if country is None:
            problems.append(RowError(row, "nationality", values["nationality"], "unknown country", sheet=SHEET))
        else:
            nationality = country.alpha2
    email = values.get("email")
    if email is not None and normalise.email(email) is None:
        problems.append(RowError(row, "email", email, "not an e-mail address", sheet=SHEET))
    phone = values.get("phone")
    if phone is not None and normalise.e164(phone, nationality) is None:
        reason = "not a phone number that can be read (without a country code, the nationality tells the country)"
        report.notes.append(RowError(row, "phone", phone, f"{reason}; not compared", sheet=SHEET))
    if problems:
        report.quarantined.extend(problems)
        return
    assert name is not None
    party = PartyInput(row, kind, name, nationality, birth, values.get("id_number"), phone, email, None,
                       values.get("address"), values.get("postcode"))  # fmt: skip
    report.rows.append(ListRow(row, name, party))


def read_list(data: bytes, name: str, *, kind: str = "person", today: dt.date | None = None) -> ListReport:
    """Read and check a list to screen. Rows are numbered as in the file (the header row is row 1 of a CSV)."""
    if kind not in KINDS:
        raise ImportRejected(f"unknown kind {kind!r}: use persons or companies")
    file_format, encoding, table = read_table(data, name)
    header_at = next((i for i, r in enumerate(table[:HEADER_SCAN_ROWS]) if cols.count_known(r) >= 1), None)
    if header_at is None:
        raise ImportRejected(
            f"{name}: no header row in the first {HEADER_SCAN_ROWS} rows (a row naming at least a name column, "
            "e.g. 'name', 'passenger name', 'surname', 'company name')"
        )
    headers = [h or "" for h in table[header_at]]
    report = ListReport(file_format, encoding, headers=cols.map_headers(headers))
    mapping = {m.index: m.column for m in report.headers if m.column is not None}
    body = table[header_at + 1 :]
    if len(body) > MAX_ROWS:
        raise ImportRejected(f"{name}: {len(body)} rows, over the {MAX_ROWS} limit")
    today = today or dt.date.today()
    for offset, cells in enumerate(body):
        if not any(c is not None and c.strip() for c in cells):
            continue  # a blank line is not a row
        report.rows_read += 1
        read_row(header_at + 2 + offset, _row_values(cells, mapping), kind, report, today)
    if report.rows_read == 0:
        raise ImportRejected(f"{name}: no rows under the header")
    return report
