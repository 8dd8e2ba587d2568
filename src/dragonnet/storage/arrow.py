"""Arrow-native reads: a SQLAlchemy select run by an ADBC driver straight into an Arrow table.

The select (with the policy's WHERE clause in it) stays the one source of the query: it is compiled for the
dialect with its values as bound parameters (`$1..$n` for PostgreSQL, `?` for SQLite; never interpolated into
the text) and run through the Apache Arrow project's libpq-based ADBC driver (`adbc-driver-postgresql`, which
reads with COPY in binary), which builds the columns in C: no Python object per row. The connection comes
from the engine's own URL (no second configuration).

On SQLite the statement goes to ADBC's SQLite driver in a child process (`storage.sqlite_child`: its driver
bundles a second SQLite library, unsafe in the application's process), which answers with Arrow tables.

The ADBC connection is a second connection, so it cannot see what the session has written and not committed.
In that case, for an engine that does not record its writes (one not made by `storage.db.make_engine`), for
an in-memory SQLite database and for a small SQLite file (`SQLITE_CHILD_MIN_BYTES`: the child's start
would cost more than it saves), the same compiled statement runs on the session's own driver cursor and the
rows become Arrow columns (`to_arrow`); a log line says which path ran and why.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from dragonnet.storage import sqlite_child

log = logging.getLogger(__name__)

Columns = Sequence[tuple[str, pa.DataType]]
WROTE_KEY = "dragonnet_wrote"  # Connection.info: this transaction has sent a statement that may write
_READ_ONLY_STATEMENTS = ("SELECT", "PRAGMA", "SHOW", "BEGIN", "SET", "SAVEPOINT", "RELEASE", "EXPLAIN")
# ADBC's PostgreSQL driver takes numbered parameters; SQLAlchemy renders them with this paramstyle.
_POSTGRESQL_NUMBERED = PGDialect_psycopg(paramstyle="numeric_dollar")
_BINDABLE = (int, float, str, bool, dt.date, dt.datetime)
# Below this size (the file and its WAL) a SQLite read stays on the application's sqlite3 cursor unless a child
# is already running: starting one (0.25-0.9 s measured) costs more than it saves on fewer rows. The measured
# crossover of a first read is 30-65 MB (docs/benchmarks.md, "Arrow-native extracts"); once running, the child
# is faster at every size measured.
SQLITE_CHILD_MIN_BYTES = 48 * 1024 * 1024
SQLITE_MEMORY_REASON = "an in-memory (or URI-named) SQLite database is not opened by another process"
SQLITE_SMALL_REASON = "a small SQLite database (no reader process started for it)"


# --- knowing whether a transaction has written ----------------------------------------------------------------


def _note_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.lstrip()[:9].upper().startswith(_READ_ONLY_STATEMENTS):
        conn.info[WROTE_KEY] = True


def _transaction_ended(conn: Connection) -> None:
    conn.info.pop(WROTE_KEY, None)


def track_writes(engine: Engine) -> None:
    """Record on each connection whether its open transaction may have written (see `_uncommitted_writes`)."""
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _transaction_ended)
    event.listen(engine, "rollback", _transaction_ended)


def _uncommitted_writes(session: Session, connection: Connection) -> str | None:
    """Why a second connection would not see what this session sees (None: it would)."""
    if session.new or session.dirty or session.deleted:
        return "the session has unflushed changes"
    # An engine with options (`storage.db.reader`) runs its parent engine's listeners: look them up there.
    engine = getattr(connection.engine, "_proxied", connection.engine)
    if not event.contains(engine, "before_cursor_execute", _note_write):
        return "the engine does not record its writes"
    if connection.info.get(WROTE_KEY):
        return "the session's transaction has uncommitted writes"
    return None


# --- compiling the select with bound parameters ------------------------------------------------------------


def compile_bound(stmt: Executable, dialect: Dialect) -> tuple[str, tuple[Any, ...]]:
    """The statement's SQL for `dialect` (positional paramstyle) and its parameter values, in order.

    IN lists are expanded into one parameter per value (`render_postcompile`); values stay parameters."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})  # type: ignore[attr-defined]
    if not compiled.positional:
        raise ValueError(f"dialect {dialect.name} compiles named parameters; a positional one is needed")
    params = compiled.construct_params()
    values = tuple(params[name] for name in compiled.positiontup or ())
    for value in values:
        if value is not None and not isinstance(value, _BINDABLE):
            raise TypeError(f"cannot bind a {type(value).__name__} parameter for an Arrow read")
    return str(compiled), values


# --- the two paths ----------------------------------------------------------------------------------------


def to_arrow(rows: Sequence[Sequence[Any]], columns: Columns) -> pa.Table:
    """Rows (tuples) to an Arrow table with the given schema, column by column."""
    data = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pa.table({name: _array(col, kind) for (name, kind), col in zip(columns, data, strict=True)})


def _array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. SQLite's dates, which its driver returns as text
        return pa.array(values).cast(kind)


def conform(table: pa.Table, columns: Columns) -> pa.Table:
    """A driver's table with the extract's names and types (SQLite's dynamic types, PostgreSQL's int4...)."""
    if table.num_columns != len(columns):
        raise ValueError(f"expected {len(columns)} columns, the query returned {table.num_columns}")
    arrays = []
    for (_name, kind), column in zip(columns, table.columns, strict=True):
        if column.type == kind:
            arrays.append(column)
        elif pa.types.is_null(column.type) or len(column) == 0:  # SQLite: no rows, or NULL in every row
            arrays.append(pa.nulls(len(column), kind))
        else:
            arrays.append(column.cast(kind))
    return pa.table(arrays, names=[name for name, _ in columns])


class ArrowReader:
    """Runs selects into Arrow tables, through ADBC where it can (one connection, or one child, for all of them)."""

    def __init__(self, session: Session, *, adbc: bool = True) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.adbc: Any = None
        self.sqlite_path: str | None = None  # read by a child process (`storage.sqlite_child`)
        self.path = "driver cursor"
        reason = self._why_not_adbc() if adbc else "the caller asked for the driver's cursor"
        if reason is not None:
            log.info("arrow read through the driver's cursor, not ADBC: %s", reason)
        elif self.dialect.name == "sqlite":
            self.sqlite_path = sqlite_file(self.connection.engine)
            self.path = "ADBC sqlite (child process)"
        else:
            self.adbc = self._connect()
            self.path = f"ADBC {self.dialect.name}"

    def _why_not_adbc(self) -> str | None:
        if self.dialect.name == "sqlite":
            path = sqlite_file(self.connection.engine)
            if path is None:
                return SQLITE_MEMORY_REASON
            if not sqlite_child.running(path) and _sqlite_bytes(path) < SQLITE_CHILD_MIN_BYTES:
                return SQLITE_SMALL_REASON
        elif self.dialect.name != "postgresql":
            return f"no ADBC driver for {self.dialect.name}"
        return _uncommitted_writes(self.session, self.connection)

    def _connect(self) -> Any:
        import adbc_driver_postgresql.dbapi

        # libpq takes the same URL without SQLAlchemy's "+psycopg" driver name.
        uri = self.connection.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return adbc_driver_postgresql.dbapi.connect(uri)

    def fetch(self, stmt: Executable, columns: Columns) -> pa.Table:
        return self.fetch_many([(stmt, columns)])[0]

    def fetch_many(self, reads: Sequence[tuple[Executable, Columns]]) -> list[pa.Table]:
        """Several selects at once (on SQLite's child: in one snapshot, one round trip)."""
        if self.sqlite_path is not None:
            job = [compile_bound(stmt, self.dialect) for stmt, _ in reads]
            tables = sqlite_child.read(self.sqlite_path, job)
            return [conform(t, columns) for t, (_, columns) in zip(tables, reads, strict=True)]
        if self.adbc is None:
            return [self._fetch_cursor(stmt, columns) for stmt, columns in reads]
        return [self._fetch_adbc(stmt, columns) for stmt, columns in reads]

    def _fetch_adbc(self, stmt: Executable, columns: Columns) -> pa.Table:
        sql, params = compile_bound(stmt, _POSTGRESQL_NUMBERED)
        cursor = self.adbc.cursor()
        try:
            cursor.execute(sql, params or None)
            table = cursor.fetch_arrow_table()
        finally:
            cursor.close()
        return conform(table, columns)

    def _fetch_cursor(self, stmt: Executable, columns: Columns) -> pa.Table:
        compiled = stmt.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})  # type: ignore[attr-defined]
        params = compiled.construct_params()
        bound: Any = tuple(params[n] for n in compiled.positiontup or ()) if compiled.positional else params
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(str(compiled), bound)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return to_arrow(rows, columns)

    def close(self) -> None:
        if self.adbc is not None:
            self.adbc.close()
            self.adbc = None


def sqlite_file(engine: Engine) -> str | None:
    """The absolute path of a SQLite engine's database file (None: in memory, or a URI the child cannot open)."""
    url = engine.url
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:") or url.query.get("uri"):
        return None
    return os.path.abspath(database)


def _sqlite_bytes(path: str) -> int:
    size = 0
    for name in (path, f"{path}-wal"):
        with suppress(OSError):
            size += os.stat(name).st_size
    return size


@contextmanager
def arrow_reader(session: Session, *, adbc: bool = True) -> Iterator[ArrowReader]:
    """An `ArrowReader` on the session's database (`adbc=False`: the driver-cursor path), closed at the end."""
    reader = ArrowReader(session, adbc=adbc)
    try:
        yield reader
    finally:
        reader.close()
