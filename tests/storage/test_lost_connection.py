"""A PostgreSQL error that means the connection died is treated as a disconnect by the engine (so the pool
drops every connection opened before it and the pre-ping reconnects), whatever state psycopg left it in."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest

from dragonnet.storage.db import _mark_lost_connections, connection_lost


def _error(message: str, sqlstate: str | None) -> psycopg.Error:
    """The error psycopg raises for this SQLSTATE (its class carries the state)."""
    return psycopg.errors.lookup(sqlstate)(message) if sqlstate else psycopg.OperationalError(message)


@pytest.mark.parametrize(
    ("message", "sqlstate", "lost"),
    [
        ("terminating connection due to unexpected postmaster exit", "57P01", True),
        ("terminating connection because of crash of another server process", "57P02", True),
        ("the database system is not yet accepting connections", "57P03", True),
        ("could not receive data from server", "08006", True),
        ("consuming input failed: server closed the connection unexpectedly", None, True),
        ('relation "nope" does not exist', "42P01", False),
        ("canceling statement due to statement timeout", "57014", False),
        ("deadlock detected", "40P01", False),
    ],
)
def test_lost_connections_are_disconnects(message: str, sqlstate: str | None, lost: bool) -> None:
    error = _error(message, sqlstate)
    assert error.sqlstate == sqlstate
    assert connection_lost(error) is lost
    context = SimpleNamespace(is_disconnect=False, original_exception=error)
    _mark_lost_connections(context)
    assert context.is_disconnect is lost


def test_sqlite_errors_are_left_alone() -> None:
    import sqlite3

    context = SimpleNamespace(is_disconnect=False, original_exception=sqlite3.OperationalError("database is locked"))
    _mark_lost_connections(context)
    assert context.is_disconnect is False
