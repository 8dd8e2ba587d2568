"""Arrow-native reads: a SQLAlchemy select run by an ADBC driver straight into an Arrow table.

The select (with the policy's WHERE clause in it) stays the one source of the query: it is compiled for the
dialect with its values as bound parameters (`$1..$n` for PostgreSQL, `?` for SQLite; never interpolated into
the text) and run through the Apache Arrow project's libpq-based ADBC driver (`adbc-driver-postgresql`, which
reads with COPY in binary), which builds the columns in C: no Python object per row. The connection comes
from the engine's own URL (no second configuration).

The ADBC connection is a second connection, so it cannot see what the session has written and not committed.
In that case, for an engine that does not record its writes (one not made by `storage.db.make_engine`), and
on SQLite (see `SQLITE_REASON`), the same compiled statement runs on the session's own driver cursor and the
rows become Arrow columns (`to_arrow`); a log line says which path ran and why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

log = logging.getLogger(__name__)

Columns = Sequence[tuple[str, pa.DataType]]
WROTE_KEY = "dragonnet_wrote"  # Connection.info: this transaction has sent a statement that may write
_READ_ONLY_STATEMENTS = ("SELECT", "PRAGMA", "SHOW", "BEGIN", "SET", "SAVEPOINT", "RELEASE", "EXPLAIN")
# ADBC's PostgreSQL driver takes numbered parameters; SQLAlchemy renders them with this paramstyle.
_POSTGRESQL_NUMBERED = PGDialect_psycopg(paramstyle="numeric_dollar")
_BINDABLE = (int, float, str, bool, dt.date, dt.datetime)
# ADBC's SQLite driver carries its own copy of the SQLite library. Two copies in one process break SQLite's
# POSIX locks (closing a file in one copy drops the other's locks on it: SQLite's "How To Corrupt An SQLite
# Database File", 2.2.2); measured here as "locking protocol" and "disk I/O error" from the application's
# writers beside it. So SQLite is read on the application's own driver (sqlite3), rows to Arrow.
SQLITE_REASON = "ADBC's SQLite driver would be a second SQLite library in this process (unsafe locking)"


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
    if not event.contains(connection.engine, "before_cursor_execute", _note_write):
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
    """Runs selects into Arrow tables, through ADBC where it can (one connection for all of them)."""

    def __init__(self, session: Session, *, adbc: bool = True) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.adbc: Any = None
        self.path = "driver cursor"
        reason = self._why_not_adbc() if adbc else "the caller asked for the driver's cursor"
        if reason is None:
            self.adbc = self._connect()
            self.path = f"ADBC {self.dialect.name}"
        else:
            log.info("arrow read through the driver's cursor, not ADBC: %s", reason)

    def _why_not_adbc(self) -> str | None:
        if self.dialect.name == "sqlite":
            return SQLITE_REASON
        if self.dialect.name != "postgresql":
            return f"no ADBC driver for {self.dialect.name}"
        return _uncommitted_writes(self.session, self.connection)

    def _connect(self) -> Any:
        import adbc_driver_postgresql.dbapi

        # libpq takes the same URL without SQLAlchemy's "+psycopg" driver name.
        uri = self.connection.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return adbc_driver_postgresql.dbapi.connect(uri)

    def fetch(self, stmt: Executable, columns: Columns) -> pa.Table:
        if self.adbc is None:
            return self._fetch_cursor(stmt, columns)
        dialect = _POSTGRESQL_NUMBERED if self.dialect.name == "postgresql" else self.dialect
        sql, params = compile_bound(stmt, dialect)
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


@contextmanager
def arrow_reader(session: Session, *, adbc: bool = True) -> Iterator[ArrowReader]:
    """An `ArrowReader` on the session's database (`adbc=False`: the driver-cursor path), closed at the end."""
    reader = ArrowReader(session, adbc=adbc)
    try:
        yield reader
    finally:
        reader.close()
