"""Writing a Polars frame, or rows already built in Python, into a table in the session's transaction: `COPY` on
PostgreSQL (the import's write path: one stream, no statement per row), batched `executemany` on SQLite; and the
ids of rows about to be written, taken before they are (`take_ids`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Table, insert, text
from sqlalchemy.orm import Session

from dragonnet.storage.db import READ_ONLY_OPTION

if TYPE_CHECKING:  # the audit log stages its entries here: importing it must not load Polars
    import polars as pl

COPY_SLICE = 50_000  # rows rendered at a time: small enough that rendering the next overlaps writing this one
INSERT_CHUNK = 5_000  # rows per executemany batch
# COPY's text format: these characters of a text cell are written escaped (the backslash first); nothing is quoted.
_TEXT_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NEEDS_ESCAPE = r"[\\\t\n\r]"


def _escaped(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its text cells escaped for COPY's text format, in the columns that hold such a character
    (a clean file: none, so one pass finds that out and nothing is rewritten)."""
    import polars as pl

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
    frame = _escaped(frame)
    starts = range(0, frame.height, COPY_SLICE)
    with _copy_in(session.connection(), table, frame.columns) as copy:
        if len(starts) == 1:
            copy.write(_rendered(frame))
            return
        # Pipelined: a worker renders slice k+1 (Polars releases the GIL) while slice k goes to the server and
        # PostgreSQL parses it; the bytes sent, and their order, are those of the serial loop.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-render") as pool:
            pending = pool.submit(_rendered, frame.slice(0, COPY_SLICE))
            for start in starts[1:]:
                ready = pending.result()
                pending = pool.submit(_rendered, frame.slice(start, COPY_SLICE))
                copy.write(ready)
            copy.write(pending.result())


def _rendered(part: pl.DataFrame) -> str:
    """One slice of an escaped frame in COPY's text format."""
    return part.write_csv(include_header=False, separator="\t", quote_style="never", null_value="\\N",
                          datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")  # fmt: skip


def take_ids(session: Session, table: str, count: int) -> pl.Series:
    """The ids of the next `count` rows of `table` (its integer `id` column), ascending, as an Int64 series, taken
    before the rows are written so that every row's id is known first (the rows then go out with their ids, with
    no statement per row to read them back).

    PostgreSQL: taken from the column's sequence in one statement: one row of text back (the ids joined by commas)
    and split by Polars, so no protocol message and no Python object per id (250,000 new case ids at 10^6 rows; a
    `COPY ... TO STDOUT` of them was one message per id). The sequence's name is looked up once, by a scalar
    subquery: `nextval(pg_get_serial_sequence(...))` looked it up again for every id, which took 3/4 of the
    statement's time (0.74 s of 250,000 ids, 0.23 s now).

    SQLite: the ids SQLite would give them itself (`_next_sqlite_id`)."""
    import polars as pl

    if count <= 0:
        return pl.Series("id", [], dtype=pl.Int64)
    if session.get_bind().dialect.name == "sqlite":
        start = _next_sqlite_id(session.connection(), table)
        return pl.int_range(start, start + count, dtype=pl.Int64, eager=True).alias("id")
    # Only an int and the table's name (the caller's constant) are interpolated.
    query = text(
        f"SELECT string_agg(id::text, ',' ORDER BY id) FROM "  # noqa: S608  # nosec B608
        f"(SELECT nextval((SELECT pg_get_serial_sequence('{table}', 'id'))) AS id "
        f"FROM generate_series(1, {int(count)})) taken"
    )
    joined = session.execute(query).scalar_one()
    return pl.Series("id", [joined], dtype=pl.String).str.split(",").explode().cast(pl.Int64)


def _next_sqlite_id(conn: Connection, table: str) -> int:
    """SQLite: the id SQLite would give the next row of `table`: one more than the highest id in it (and than the
    highest it ever gave, for an AUTOINCREMENT table). Only a writer may ask: every writing transaction holds the
    database's write lock from its BEGIN IMMEDIATE to its end (`storage.db`), so no other connection can write a
    row between this read and the caller's inserts. A read-only connection (BEGIN DEFERRED) is refused: there,
    another writer could take the same ids first (its insert would then fail on the primary key)."""
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        raise RuntimeError(f"ids of {table} asked on a read-only connection")
    # Only the table's name (the caller's constant) is interpolated.
    top = int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one())  # noqa: S608  # nosec B608
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
        given = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).scalar()
        top = max(top, int(given or 0))
    return top + 1


@contextmanager
def _copy_in(bind: Connection, table: str, columns: Sequence[str]) -> Iterator[Any]:
    """PostgreSQL: psycopg's `COPY table (columns) FROM STDIN` on the session's own connection (its transaction),
    the engine's statement listeners told of it."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f"COPY {table} ({quoted}) FROM STDIN"
    raw = bind.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(sql) as copy:
        _tell_listeners(bind, cur, sql)
        yield copy


def _tell_listeners(bind: Connection, cursor: Any, sql: str) -> None:
    """A COPY goes to the driver's cursor directly: tell the engine's statement listeners as SQLAlchemy would tell
    them of an INSERT (`storage.arrow` notes from them that the transaction has written)."""
    if bind._has_events or bind.engine._has_events:
        bind.dispatch.before_cursor_execute(bind, cursor, sql, (), None, False)


def insert_frame(session: Session, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of `frame` (columns named as the table's): COPY on PostgreSQL, else executemany with each
    value converted by its column's type (`insert_rows`). A JSON column may come as JSON text, as COPY takes it:
    elsewhere it is parsed first, so that what is stored is what the column stores for that value."""
    import polars as pl

    if frame.height == 0:
        return
    if session.get_bind().dialect.name == "postgresql":
        copy_frame(session, table.name, frame)
        return
    json_text = [i for i, (c, dtype) in enumerate(frame.schema.items())
                 if dtype == pl.String and isinstance(table.c[c].type, JSON)]  # fmt: skip
    for start in range(0, frame.height, INSERT_CHUNK):  # a slice at a time: never a whole file as Python tuples
        rows = frame.slice(start, INSERT_CHUNK).rows()
        if json_text:
            rows = [_json_parsed(row, json_text) for row in rows]
        insert_rows(session, table, frame.columns, rows)


def _json_parsed(row: tuple[Any, ...], at: Sequence[int]) -> tuple[Any, ...]:
    cells = list(row)
    for i in at:
        if cells[i] is not None:
            cells[i] = json.loads(cells[i])
    return tuple(cells)


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (tuples of Python values in the order of `columns`), in order: COPY on PostgreSQL, the
    driver's `executemany` elsewhere. Each value is converted as the column's own bind converts it (PostgreSQL: a
    JSON value wrapped in psycopg's `Json`, None as JSON null; SQLite: the type's bind processor), so what is
    stored is the same as through an INSERT. Rows keep their order, and so do the ids a sequence gives them."""
    if not rows:
        return
    bind = session.connection()
    if bind.dialect.name == "sqlite":
        _executemany_sqlite(bind, table, columns, rows)
        return
    if bind.dialect.name != "postgresql":
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in chunk])
        return
    from psycopg.types.json import Json  # the driver behind a PostgreSQL URL (loaded with the engine)

    as_json = [isinstance(table.c[c].type, JSON) for c in columns]
    with _copy_in(bind, table.name, columns) as copy:
        if any(as_json):
            for row in rows:
                copy.write_row([Json(v) if j else v for v, j in zip(row, as_json, strict=True)])
        else:
            for row in rows:
                copy.write_row(row)


def _executemany_sqlite(bind: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """SQLite: the driver's `executemany` with each value converted by its column type's bind processor, as
    SQLAlchemy's own executemany converts it, without building a parameter dict per row."""
    processors = [table.c[c].type._cached_bind_processor(bind.dialect) for c in columns]
    convert = [(i, f) for i, f in enumerate(processors) if f is not None]
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 (names)
    raw = bind.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        _tell_listeners(bind, cursor, sql)
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = [list(row) for row in rows[start : start + INSERT_CHUNK]]
            for i, f in convert:  # None too: a JSON column stores it as JSON null, as SQLAlchemy's bind does
                for row in chunk:
                    row[i] = f(row[i])
            cursor.executemany(sql, chunk)
    finally:
        cursor.close()
