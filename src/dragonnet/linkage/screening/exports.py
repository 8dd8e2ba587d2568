"""A screening's download, clear or encoded: one writer for CSV (the hits), XLSX (sheets "hits", "rows" not
screened, "summary") and JSON (everything), every text cell neutralised against formulas (`tabular.neutralise`).

Each screening says what its columns and rows are (`service.export`, `encoded.export`); the notices (hits on
records the screener may not see) follow the hits of their row and name only the agency holding the record.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any, Protocol

from dragonnet.linkage.screening.notices import NoticeHit
from dragonnet.tabular import ImportRejected, RowError, neutralise

EXPORT_FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
PROBLEM_COLUMNS = ("row", "status", "column", "value", "reason")


class Exported(Protocol):
    """What the writer reads of a screening besides its rows."""

    def summary(self) -> dict[str, Any]: ...

    def to_json(self) -> dict[str, Any]: ...


def probability(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def notice_reference(notice: NoticeHit) -> str:
    return f"{notice.owner_agency} holds a record matching this row (screening notice {notice.notice_id})"


def problem_rows(quarantined: Sequence[RowError], notes: Sequence[RowError]) -> list[list[Any]]:
    """The rows not screened (quarantined) and the guesses or values left out (notes), one line per cell."""
    out: list[list[Any]] = []
    for status, errors in (("quarantined", quarantined), ("note", notes)):
        out += [[neutralise(v) for v in (e.row, status, e.column, e.value, e.reason)] for e in errors]
    return out


def write(
    result: Exported, fmt: str, *, columns: Sequence[str], rows: list[list[Any]], problems: list[list[Any]]
) -> bytes:
    """`rows`: the hits and notices, first cell the list row's number (sorted on it here, stably: a row's hits
    stay before its notices). Cells are neutralised here, so callers give plain values."""
    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
    lines = [[neutralise(v) for v in row] for row in sorted(rows, key=lambda r: int(r[0]))]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(lines)
        return out.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheets = (("hits", [list(columns), *lines]), ("rows", [list(PROBLEM_COLUMNS), *problems]),
                  ("summary", [[k, neutralise(v)] for k, v in result.summary().items()]))  # fmt: skip
        for title, content in sheets:
            sheet = book.create_sheet(title)
            for line in content:
                sheet.append(line)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise ImportRejected(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
