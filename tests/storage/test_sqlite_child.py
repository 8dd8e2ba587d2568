"""SQLite read by ADBC's driver in a child process (`storage.sqlite_child`): the application's writers beside it
see no locking error, the child cannot write, a dead child is a clear error and the next read starts a new one,
and no child outlives its engine."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, func, insert, literal, select
from sqlalchemy.orm import Session

from dragonnet.storage import arrow, sqlite_child
from dragonnet.storage.arrow import arrow_reader, sqlite_file
from dragonnet.storage.db import make_engine, reader

meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("name", String), Column("kg", Float))
COUNT = (("n", pa.int64()),)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A SQLite file read by the child whatever its size."""
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 0)
    eng = make_engine(f"sqlite:///{tmp_path / 'child.db'}")
    meta.create_all(eng)
    yield eng
    eng.dispose()


def _count(engine: Engine) -> int:
    with Session(reader(engine)) as s, arrow_reader(s) as r:
        assert r.path == "ADBC sqlite (child process)"
        value: int = r.fetch(select(func.count()).select_from(things), COUNT).column(0)[0].as_py()
        return value


def _children(path: str) -> list[sqlite_child._Child]:
    return list(sqlite_child._pools[path].idle)


def test_a_writer_beside_many_child_reads_sees_no_locking_error(engine: Engine) -> None:
    """The bug that kept ADBC's SQLite driver out of the application's process: its second SQLite library broke
    the locks of the application's own connections ("locking protocol", "disk I/O error"). In a child process,
    the application's writer commits beside the reads, and beside a child that stops and restarts."""
    path = sqlite_file(engine)
    assert path is not None
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(300):
                with Session(engine) as s:
                    s.execute(insert(things).values(id=i, name=str(i), kg=float(i)))
                    s.commit()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    seen = []
    for n in range(60):
        seen.append(_count(engine))
        if n == 20:
            sqlite_child.close(path)  # a child closing its files must not drop the writer's locks
    writer.join()
    assert not errors
    assert seen == sorted(seen)  # every read a snapshot no older than the one before
    assert _count(engine) == 300


def test_the_child_cannot_write_and_keeps_serving(engine: Engine) -> None:
    with Session(engine) as s:
        s.execute(insert(things).values(id=1, name="a", kg=1.0))
        s.commit()
    path = sqlite_file(engine)
    assert path is not None
    with pytest.raises(RuntimeError, match="readonly"):
        sqlite_child.read(path, [("DELETE FROM things", ())])
    assert _count(engine) == 1


def test_dates_bound_as_the_applications_driver_stores_them(engine: Engine) -> None:
    stmt = select(literal(1)).where(func.date("2023-02-01") == dt.date(2023, 2, 1))
    with Session(engine) as s, arrow_reader(s) as r:
        assert r.fetch(stmt, COUNT).num_rows == 1


def test_a_dead_child_is_a_clear_error_and_the_next_read_starts_another(engine: Engine) -> None:
    path = sqlite_file(engine)
    assert path is not None
    assert _count(engine) == 0
    (child,) = _children(path)
    child.process.kill()
    child.process.wait()
    with pytest.raises(sqlite_child.SqliteReaderDied, match="ended before it answered"):
        _count(engine)
    assert _count(engine) == 0
    assert child not in _children(path)


def test_no_child_outlives_its_engine(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    path = sqlite_file(engine)
    assert path is not None
    _count(engine)
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 1 << 40)
    _count(engine)  # a small file, but its child is running: it reads there (`_count` checks the path)
    children = _children(path)
    assert children and all(c.process.poll() is None for c in children)
    engine.dispose()
    assert not sqlite_child.running(path)
    assert all(c.process.poll() is not None for c in children)
