"""Writing a Polars frame into a table, in the session's transaction: `COPY` on PostgreSQL (the import's write
path: one stream, no Python object per row), batched `executemany` on SQLite."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

COPY_SLICE = 200_000  # rows rendered to CSV at a time
INSERT_CHUNK = 5_000  # rows per executemany batch


def copy_frame(session: Session, table: str, frame: pl.DataFrame) -> None:
    """PostgreSQL: load a frame with COPY (CSV). An unquoted empty field is NULL; text cells are always quoted,
    so an empty string stays an empty string."""
    if frame.height == 0:
        return
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, frame.height, COPY_SLICE):
            part = frame.slice(start, COPY_SLICE)
            copy.write(part.write_csv(include_header=False, quote_style="non_numeric", null_value="",
                                      datetime_format="%Y-%m-%dT%H:%M:%S%.f%z"))  # fmt: skip


def insert_frame(session: Session, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of `frame` (columns named as the table's): COPY on PostgreSQL, else executemany."""
    if frame.height == 0:
        return
    if session.get_bind().dialect.name == "postgresql":
        copy_frame(session, table.name, frame)
        return
    for start in range(0, frame.height, INSERT_CHUNK):
        session.execute(insert(table), frame.slice(start, INSERT_CHUNK).to_dicts())
