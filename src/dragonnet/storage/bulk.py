"""Writing a Polars frame into a table, in the session's transaction: `COPY` on PostgreSQL (the import's write
path: one stream, no Python object per row), batched `executemany` on SQLite."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

COPY_SLICE = 200_000  # rows rendered at a time
INSERT_CHUNK = 5_000  # rows per executemany batch
# COPY's text format: these characters of a text cell are written escaped (the backslash first); nothing is quoted.
_TEXT_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NEEDS_ESCAPE = r"[\\\t\n\r]"


def _escaped(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its text cells escaped for COPY's text format, in the columns that hold such a character
    (a clean file: none, so one pass finds that out and nothing is rewritten)."""
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    flagged = frame.select(pl.col(c).str.contains(_NEEDS_ESCAPE).any() for c in text).row(0)
    rewritten = []
    for column, needs in zip(text, flagged, strict=True):
        if needs:
            cell = pl.col(column)
            for char, escape in _TEXT_ESCAPES:
                cell = cell.str.replace_all(char, escape, literal=True)
            rewritten.append(cell)
    return frame.with_columns(rewritten) if rewritten else frame


def copy_frame(session: Session, table: str, frame: pl.DataFrame) -> None:
    """PostgreSQL: load a frame with COPY in the text format (tab-separated, `\\N` for NULL, special characters
    escaped, so an empty string stays an empty string). Text rather than CSV: PostgreSQL parses it with ~10%
    less CPU (the cases and items of a 10^6-row import: docs/benchmarks.md, "Case intake")."""
    if frame.height == 0:
        return
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    frame = _escaped(frame)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, frame.height, COPY_SLICE):
            part = frame.slice(start, COPY_SLICE)
            copy.write(part.write_csv(include_header=False, separator="\t", quote_style="never", null_value="\\N",
                                      datetime_format="%Y-%m-%dT%H:%M:%S%.f%z"))  # fmt: skip


def query_frame(session: Session, query: str, schema: dict[str, Any]) -> pl.DataFrame:
    """PostgreSQL: the rows of `query` (SQL text, no parameters) read with `COPY (...) TO STDOUT` as one CSV buffer
    into a frame of `schema`: no Python object per row (250,000 new case ids at 10^6 rows)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    buf = bytearray()
    with raw.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            buf += block
    if not buf:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(bytes(buf), has_header=False, new_columns=list(schema), schema=schema)


def insert_frame(session: Session, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of `frame` (columns named as the table's): COPY on PostgreSQL, else executemany."""
    if frame.height == 0:
        return
    if session.get_bind().dialect.name == "postgresql":
        copy_frame(session, table.name, frame)
        return
    for start in range(0, frame.height, INSERT_CHUNK):
        session.execute(insert(table), frame.slice(start, INSERT_CHUNK).to_dicts())
