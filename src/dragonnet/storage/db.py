"""Engines and sessions for SQLite (embedded default) and PostgreSQL, with errors a user can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dragonnet.errors import ConfigurationError
from dragonnet.storage import sqlite_child
from dragonnet.storage.arrow import sqlite_file, track_writes

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
READ_ONLY_OPTION = "dragonnet_read_only"


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def normalise_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` and use the psycopg 3 driver for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers work during an import; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock at BEGIN so two writers queue (busy_timeout) instead of failing on a lock
    # upgrade; readers (engines from `reader()`) begin DEFERRED so, with WAL, they never wait for a writer.
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN DEFERRED")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _stop_sqlite_children(engine: Engine) -> None:
    path = sqlite_file(engine)
    if path is not None:
        sqlite_child.close(path)


# SQLSTATEs that mean the connection itself is gone, whatever state the driver left it in: class 08
# (connection exception), 57P01 admin shutdown (also "terminating connection due to unexpected postmaster
# exit"), 57P02 crash shutdown, 57P03 cannot connect now (starting up, in recovery).
LOST_CONNECTION_STATES = ("57P01", "57P02", "57P03")
LOST_CONNECTION_TEXT = ("server closed the connection unexpectedly", "the connection is closed",
                        "the connection is lost", "terminating connection")  # fmt: skip


def connection_lost(exc: BaseException | None) -> bool:
    """Is this PostgreSQL driver error the loss of the connection (not a fault of the statement)?"""
    if exc is None or not type(exc).__module__.startswith("psycopg"):
        return False
    state = getattr(exc, "sqlstate", None) or ""
    if state.startswith("08") or state in LOST_CONNECTION_STATES:
        return True
    return any(text in str(exc) for text in LOST_CONNECTION_TEXT)


def _mark_lost_connections(context: Any) -> None:
    """SQLAlchemy's psycopg dialect calls an error a disconnect only when the driver already flags the
    connection closed or broken. A backend's farewell ("terminating connection due to unexpected postmaster
    exit") can be read before that: the error then passes for an ordinary one, the dead connection goes back
    to the pool and so do its siblings, and a request after PostgreSQL's restart gets one of them (a 503 long
    after the outage). Marking it a disconnect makes the pool drop every connection opened before it, makes
    the pre-ping reconnect instead of failing the checkout, and tells the error mapping the connection died."""
    if not context.is_disconnect and connection_lost(context.original_exception):
        context.is_disconnect = True


def make_engine(url: str, *, check: bool = True) -> Engine:
    """Create an engine for `url`; with `check`, connect once so a wrong URL fails here, clearly."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"not a database URL: {redact(url)!r}") from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r} in {redact(url)!r}: "
            "use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).parent
            if not folder.exists():
                folder.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is replaced by explicit BEGIN IMMEDIATE.
        event.listen(engine, "connect", lambda c, r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        # Its Arrow reads' child processes (`storage.sqlite_child`) stop with the engine's connections.
        event.listen(engine, "engine_disposed", _stop_sqlite_children)
    else:
        try:
            # Sized for the web server's worker threads (anyio runs up to 40 sync handlers at once per
            # process): a thread never waits for a connection while the database could serve it.
            engine = create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30, pool_timeout=15)
        except NoSuchModuleError:
            raise ConfigurationError(f"no driver for {redact(url)!r}") from None
        event.listen(engine, "handle_error", _mark_lost_connections)
    track_writes(engine)  # Arrow reads on a second connection only when the session has nothing uncommitted
    if check:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "cannot connect"
            raise ConfigurationError(f"cannot open database {redact(url)}: {reason}") from None
    return engine


@lru_cache(maxsize=8)
def cached_engine(url: str) -> Engine:
    return make_engine(url)


def reader(engine: Engine) -> Engine:
    """The same engine for transactions that only read (on SQLite they do not take the write lock)."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
