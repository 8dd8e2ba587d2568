"""SQLite read into Arrow by ADBC's SQLite driver, in a child process that holds the only copy of its library.

ADBC's SQLite driver bundles its own SQLite library. Two SQLite libraries in one process break SQLite's POSIX
locks (closing a file in one drops the other's locks on it: SQLite's "How To Corrupt An SQLite Database File",
2.2.2), so the application's process never loads it. A child process that loads only that copy is an ordinary
second process to SQLite, which is what its file locking is made for. The parent sends the compiled SQL with its
bound values; the child opens the database read-only (`mode=ro`: it can never write), runs the statements in one
read transaction (one snapshot for the extract's tables) and answers with Arrow tables, whose buffers cross the
pipe as they are (no Python object per row); requests are JSON.

The child is a fresh interpreter started by `subprocess` (`python -m dragonnet.storage.sqlite_child`), which
speaks Arrow IPC streams on its stdout. Not fork: a forked child would inherit the parent's open SQLite
connections and file descriptors (SQLite: do not carry a connection across fork(); a descriptor the child
closes drops the parent's locks, as above) and a copy of a threaded web server's state. Not multiprocessing's
"spawn" either: it imports the parent's main module again in the child (an unguarded script runs twice; the
CLI would import the whole application) and pickles every answer. A child's start costs about half a second, so
they are long-lived: up to `WORKERS` per database file, reused by every read, stopped when an engine on that
file is disposed and at interpreter exit; a child whose parent is gone sees its stdin close and exits.
Small databases are read on the parent's sqlite3 cursor without starting one (`storage.arrow`).
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import signal
import struct
import subprocess  # nosec B404
import sys
import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import IO, Any
from urllib.parse import quote

import pyarrow as pa

from dragonnet.errors import StorageUnavailable

# Two per database: reads of one database may overlap (web requests, 2 cores here); each child reads one at a time.
WORKERS = 2
BUSY_TIMEOUT_MS = 30_000  # as the application's own connections (`storage.db`)
_LENGTH = struct.Struct("!Q")

Statement = tuple[str, tuple[Any, ...]]  # SQL with `?` and its values (sent as JSON: numbers, text, null)


class SqliteReaderDied(StorageUnavailable):
    """The child process reading SQLite ended before it answered (killed, out of memory)."""


# --- the parent's side ---------------------------------------------------------------------------------------


class _Child:
    """One child process and its pipes; used by one thread at a time."""

    def __init__(self) -> None:
        # A fixed argument list: the parent's own interpreter running this module, no shell.
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, path: str, statements: list[Statement]) -> list[pa.Table]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            _send(stdin, (path, statements))
            status, payload = _receive(stdout)
            if status == "error":
                raise RuntimeError(payload)
            return [pa.ipc.open_stream(stdout).read_all() for _ in range(payload)]
        except (OSError, EOFError, pa.ArrowInvalid) as exc:
            self.stop(kill=True)
            raise SqliteReaderDied(
                f"the process reading the SQLite database ended before it answered (exit code "
                f"{self.process.returncode}); nothing was read, try again"
            ) from exc

    def stop(self, *, kill: bool = False) -> None:
        """End the child: at the end of its input, or at once (`kill`: its pipes hold half an answer)."""
        if kill:
            self.process.kill()
        if self.process.stdin is not None and not self.process.stdin.closed:
            with suppress(OSError):
                self.process.stdin.close()  # the child exits at the end of its input
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class _Pool:
    """Up to `WORKERS` children for one database file, each lent to one read at a time."""

    def __init__(self) -> None:
        self.idle: list[_Child] = []
        self.count = 0
        self.closed = False
        self.available = threading.Condition()

    def read(self, path: str, statements: list[Statement]) -> list[pa.Table]:
        child = self._borrow()
        healthy = False
        try:
            tables = child.read(path, statements)
            healthy = True
            return tables
        except RuntimeError:  # the statement failed; the child is fine
            healthy = True
            raise
        finally:
            self._give_back(child, healthy)

    def _borrow(self) -> _Child:
        with self.available:
            while not self.idle and self.count >= WORKERS:
                self.available.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            return _Child()
        except BaseException:
            with self.available:
                self.count -= 1
                self.available.notify()
            raise

    def _give_back(self, child: _Child, healthy: bool) -> None:
        with self.available:
            if healthy and not self.closed:
                self.idle.append(child)
                child = None  # type: ignore[assignment]
            else:
                self.count -= 1
            self.available.notify()
        if child is not None:
            child.stop(kill=not healthy)

    def close(self) -> None:
        with self.available:
            self.closed = True
            stopping, self.idle = self.idle, []
            self.count -= len(stopping)
        for child in stopping:
            child.stop()


_lock = threading.Lock()
_pools: dict[str, _Pool] = {}


def running(path: str) -> bool:
    """Has a child been started for this database file (so a read costs no start)?"""
    with _lock:
        return path in _pools


def read(path: str, statements: Sequence[Statement]) -> list[pa.Table]:
    """The statements' results as Arrow tables, read in one snapshot by a child process on the file `path`."""
    with _lock:
        pool = _pools.get(path)
        if pool is None:
            pool = _pools[path] = _Pool()
    job = [(sql, tuple(_bindable(v) for v in params)) for sql, params in statements]
    return pool.read(path, job)


def close(path: str | None = None) -> None:
    """Stop the children reading `path` (every database: None); the next read starts new ones. A child in the
    middle of a read finishes it and stops when it is given back."""
    with _lock:
        if path is None:
            stopping = list(_pools.values())
            _pools.clear()
        else:
            stopping = [p for p in [_pools.pop(path, None)] if p is not None]
    for pool in stopping:
        pool.close()


atexit.register(close)


def _bindable(value: Any) -> Any:
    # Values as the application's sqlite3 driver stores them (its default adapters): dates as ISO text.
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _send(stream: IO[bytes], message: Any) -> None:
    data = json.dumps(message).encode()
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the pipe closed")
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the pipe closed")
    return json.loads(data)


# --- the child's side (this runs in the child process only) ------------------------------------------------

_connections: dict[str, Any] = {}


def _connection(path: str) -> Any:
    # The driver's own bindings, not its DB-API module, which imports pandas and polars (a second more per start).
    import adbc_driver_manager
    import adbc_driver_sqlite

    conn = _connections.get(path)
    if conn is None:
        # Read-only: the child cannot write, whatever SQL it is sent. Not autocommit: the driver begins a
        # (deferred) transaction, so the statements of one read share a snapshot until the rollback in `_run`.
        database = adbc_driver_sqlite.connect(f"file:{quote(path)}?mode=ro")
        conn = adbc_driver_manager.AdbcConnection(database)
        conn.set_autocommit(False)
        _query(conn, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", ())
        _connections[path] = conn
    return conn


def _query(conn: Any, sql: str, params: tuple[Any, ...]) -> pa.Table:
    import adbc_driver_manager

    statement = adbc_driver_manager.AdbcStatement(conn)
    try:
        statement.set_sql_query(sql)
        statement.prepare()
        if params:  # one row of parameters, one column each, as the DB-API module binds them
            statement.bind(pa.record_batch({str(i): [value] for i, value in enumerate(params)}))
        stream, _ = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()
    finally:
        statement.close()


def _run(path: str, statements: list[Statement]) -> list[pa.Table]:
    conn = _connection(path)
    try:
        return [_query(conn, sql, params) for sql, params in statements]
    finally:
        conn.rollback()  # end the snapshot: a later read sees later commits, and the WAL can be checkpointed


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer reads until the parent closes our stdin: a header, then one Arrow IPC stream per table."""
    while True:
        try:
            path, job = _receive(requests)
            statements = [(sql, tuple(params)) for sql, params in job]
        except EOFError:
            return
        try:
            tables = _run(path, statements)
        except Exception as exc:  # the statement's fault: the parent raises it, the child keeps serving
            _send(answers, ("error", f"SQLite read failed: {type(exc).__name__}: {exc}"))
            continue
        _send(answers, ("ok", len(tables)))
        for table in tables:
            with pa.ipc.new_stream(answers, table.schema) as writer:
                writer.write_table(table)
        answers.flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the parent decides, and the child ends when its stdin closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _serve(sys.stdin.buffer, sys.stdout.buffer)
