"""Arrow reads: values bound (never written into the SQL), ADBC where a second connection sees what the session
sees (PostgreSQL's driver; SQLite's in a child process, for databases above a size), the driver's cursor (with a
log line) elsewhere, and the extract's types on both paths."""

from __future__ import annotations

import datetime as dt
import logging

import pyarrow as pa
import pytest
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from dragonnet.storage import arrow
from dragonnet.storage.arrow import (
    _POSTGRESQL_NUMBERED,
    SQLITE_MEMORY_REASON,
    SQLITE_SMALL_REASON,
    arrow_reader,
    compile_bound,
    conform,
)
from dragonnet.storage.db import make_engine

HOSTILE = "x'); DROP TABLE things; --"
meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("name", String), Column("kg", Float))
COLUMNS = (("id", pa.int64()), ("name", pa.string()), ("kg", pa.float64()))


def test_values_are_bound_not_written_into_the_sql() -> None:
    stmt = select(things.c.id).where(things.c.name == HOSTILE, things.c.id.in_([3, 4]))
    for dialect, first in ((sqlite.dialect(), "?"), (_POSTGRESQL_NUMBERED, "$1")):
        sql, params = compile_bound(stmt, dialect)
        assert HOSTILE not in sql and "DROP" not in sql and first in sql
        assert params == (HOSTILE, 3, 4)  # the IN list expanded into one parameter per value


def test_conform_types_an_all_null_column_and_renames() -> None:
    raw = pa.table({"a": pa.array([1, 2], pa.int32()), "b": pa.nulls(2), "c": pa.array(["1.5", None])})
    out = conform(raw, COLUMNS)
    assert out.schema == pa.schema(COLUMNS) and out.column("kg").to_pylist() == [1.5, None]
    # SQLite's driver types the columns of an empty result as integers: typed as asked, whatever they are.
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.int64()), "c": pa.array([], pa.int64())})
    assert conform(empty, (("d", pa.date32()), *COLUMNS[1:])).schema == pa.schema((("d", pa.date32()), *COLUMNS[1:]))


@pytest.fixture
def file_engine(engine: Engine, backend: str) -> Engine:
    """The backend's engine with a table of two committed rows (one named by an injection attempt)."""
    meta.create_all(engine)
    with Session(engine) as s:
        s.execute(insert(things), [{"id": 1, "name": "a", "kg": 2.5}, {"id": 2, "name": HOSTILE, "kg": None}])
        s.commit()
    return engine


def _path(engine: Engine) -> str:
    return "ADBC postgresql" if engine.dialect.name == "postgresql" else "ADBC sqlite (child process)"


@pytest.mark.parametrize("small", [False, True])
def test_committed_rows_read_with_bound_values(
    file_engine: Engine, small: bool, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADBC on PostgreSQL, and on SQLite in a child process; a small SQLite file on the application's own
    driver, and a log line says why."""
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 1 << 40 if small else 0)
    sqlite_small = small and file_engine.dialect.name == "sqlite"
    stmt = select(things.c.id, things.c.name, things.c.kg).where(things.c.name == HOSTILE)
    with Session(file_engine) as s, caplog.at_level(logging.INFO, "dragonnet.storage.arrow"):
        with arrow_reader(s) as reader:
            assert reader.path == ("driver cursor" if sqlite_small else _path(file_engine))
            table = reader.fetch(stmt, COLUMNS)
        assert [r.getMessage() for r in caplog.records] == (
            [f"arrow read through the driver's cursor, not ADBC: {SQLITE_SMALL_REASON}"] if sqlite_small else []
        )
        assert table.to_pylist() == [{"id": 2, "name": HOSTILE, "kg": None}]
        assert s.execute(select(func.count()).select_from(things)).scalar() == 2  # nothing was dropped


def test_uncommitted_writes_read_on_the_sessions_cursor(
    file_engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 0)
    with Session(file_engine) as s, caplog.at_level(logging.INFO, "dragonnet.storage.arrow"):
        s.execute(insert(things).values(id=3, name="c", kg=1.0))
        with arrow_reader(s) as reader:
            assert reader.path == "driver cursor"
            assert reader.fetch(select(things.c.id, things.c.name, things.c.kg), COLUMNS).num_rows == 3
        assert "uncommitted writes" in caplog.records[-1].getMessage()
        s.commit()
        with arrow_reader(s) as reader:  # committed: a second connection sees it now
            assert reader.path == _path(file_engine)
            assert reader.fetch(select(things.c.id, things.c.name, things.c.kg), COLUMNS).num_rows == 3


@pytest.mark.parametrize("how", ["insert_rows", "copy_frame"])
def test_rows_written_by_copy_are_uncommitted_writes(file_engine: Engine, how: str) -> None:
    """The bulk writers (COPY through the driver's cursor on PostgreSQL) tell the engine they wrote, as an INSERT
    through SQLAlchemy would: a read in the same transaction stays on the session's connection."""
    import polars as pl

    from dragonnet.storage.bulk import copy_frame, insert_rows

    with Session(file_engine) as s:
        s.execute(select(func.count()).select_from(things))  # a read: the transaction has not written
        connection = s.connection()
        assert arrow._uncommitted_writes(s, connection) is None
        if how == "insert_rows":
            insert_rows(s, things, ("id", "name", "kg"), [(3, "c", 1.0), (4, None, None)])
        elif file_engine.dialect.name == "postgresql":
            copy_frame(s, "things", pl.DataFrame({"id": [3, 4], "name": ["c", None], "kg": [1.0, None]}))
        else:
            pytest.skip("copy_frame is PostgreSQL's path")
        assert arrow._uncommitted_writes(s, connection) == "the session's transaction has uncommitted writes"
        rows = s.execute(select(things.c.id, things.c.name, things.c.kg).order_by(things.c.id)).all()
        assert [tuple(r) for r in rows][2:] == [(3, "c", 1.0), (4, None, None)]


def test_sqlite_dates_read_as_text_become_dates(caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine("sqlite://")
    with Session(engine) as s, caplog.at_level(logging.INFO, "dragonnet.storage.arrow"), arrow_reader(s) as reader:
        assert SQLITE_MEMORY_REASON in caplog.records[-1].getMessage()
        table = reader.fetch(select(func.abs(-3), func.date("2023-02-01")), (("n", pa.int64()), ("d", pa.date32())))
    assert table.to_pylist() == [{"n": 3, "d": dt.date(2023, 2, 1)}]
    engine.dispose()
