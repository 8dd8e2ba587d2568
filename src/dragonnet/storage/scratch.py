"""A private DuckDB connection for one short computation (a debrief's figures, a network, a route map, the
duplicate candidates): a cursor on this process's in-memory DuckDB database.

Opening a new in-memory database costs about 17 ms of CPU; a cursor on an open one, a few microseconds. A
page may need several such computations, and the access matrix of the security battery thousands.

What a cursor registers (Arrow tables, frames) and the TEMP tables and views it creates are its own: no other
cursor sees them, and they go when it is closed. Its ordinary tables and its settings (`SET threads ...`) would
be the whole process's, so the computations that use it create TEMP tables only and tune nothing; a job that
tunes DuckDB or lets a library create tables (targeting's workspace, Splink) opens its own database.
"""

from __future__ import annotations

import os
import threading

import duckdb

_lock = threading.Lock()
_database: tuple[int, duckdb.DuckDBPyConnection] | None = None  # (the process that opened it, the database)


def scratch() -> duckdb.DuckDBPyConnection:
    """A new connection of its own to the process's in-memory database; close it when done."""
    global _database
    with _lock:
        # A forked process does not reuse its parent's database: DuckDB's threads did not come with it.
        if _database is None or _database[0] != os.getpid():
            _database = (os.getpid(), duckdb.connect(":memory:"))
        return _database[1].cursor()
