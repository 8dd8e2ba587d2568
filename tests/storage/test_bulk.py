"""storage.bulk: a frame written with COPY (PostgreSQL, text format) or executemany (SQLite) reads back as it was,
whatever its text holds; ids taken from a sequence come back in order as one Int64 series."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import Boolean, Column, Date, DateTime, Engine, Float, Integer, MetaData, Table, Text, select
from sqlalchemy.orm import Session

from dragonnet.storage.bulk import insert_frame, take_ids
from dragonnet.storage.db import reader

NASTY = ["plain", "", "back\\slash", "tab\there", "new\nline", "cr\rlf\r\n", "\\N", "\\.", '"quoted", comma',
         "'; DROP TABLE x; --", "=1+1", "ngũ cốc 谷物 ງາ", "trailing\\", "\\t literally", " spaced "]  # fmt: skip


def _probe(engine: Engine) -> Table:
    table = Table(
        "bulk_probe", MetaData(), Column("id", Integer, primary_key=True), Column("txt", Text), Column("d", Date),
        Column("f", Float), Column("at", DateTime(timezone=True)), Column("b", Boolean),
    )  # fmt: skip
    table.create(engine)
    return table


PROBE_SCHEMA = {"id": pl.Int64, "txt": pl.String, "d": pl.Date, "f": pl.Float64, "at": pl.Datetime("us", "UTC"),
                "b": pl.Boolean}  # fmt: skip


def test_a_frame_reads_back_as_written(engine: Engine, session: Session) -> None:
    table = _probe(engine)
    n = len(NASTY)
    at = dt.datetime(2026, 12, 6, 11, 30, 15, 123456, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {"id": range(1, n + 2), "txt": [*NASTY, None], "d": [dt.date(2023, 6, 1)] * n + [None],
         "f": [1.5, 0.1, 1e-7, 123456789.125, *[2.0] * (n - 4), None], "at": [at] * n + [None],
         "b": [True, False] * (n // 2) + [True] * (n % 2) + [None]},
        schema=PROBE_SCHEMA,
    )  # fmt: skip
    insert_frame(session, table, frame)
    session.commit()
    rows = session.execute(select(table).order_by(table.c.id)).all()
    assert [r.txt for r in rows] == [*NASTY, None]  # an empty string stays empty, NULL stays NULL
    assert [r.f for r in rows] == frame.get_column("f").to_list()
    assert [r.d for r in rows] == frame.get_column("d").to_list()
    assert [r.b for r in rows] == frame.get_column("b").to_list()
    stored = [r.at.replace(tzinfo=dt.UTC) if r.at is not None and r.at.tzinfo is None else r.at for r in rows]
    assert stored == [at] * n + [None]


def test_take_ids_reads_ids_in_order(engine: Engine, session: Session) -> None:
    """PostgreSQL: from the sequence; SQLite: the ids it would give itself. Either way the rows written with them
    and a row inserted afterwards without an id do not collide."""
    table = _probe(engine)
    session.execute(table.insert().values(txt="before"))
    ids = take_ids(session, "bulk_probe", 5)
    assert ids.dtype == pl.Int64 and ids.to_list() == sorted(set(ids.to_list())) and ids.len() == 5
    insert_frame(session, table, pl.DataFrame({"id": ids, "txt": ["x"] * 5}))
    after = session.execute(table.insert().values(txt="next").returning(table.c.id)).scalar_one()
    assert after > ids.max()  # taken from the sequence, not beside it
    assert session.execute(select(table.c.id).order_by(table.c.id)).scalars().all() == [1, *ids.to_list(), after]
    empty = take_ids(session, "bulk_probe", 0)
    assert empty.len() == 0 and empty.dtype == pl.Int64


def test_take_ids_on_sqlite_are_those_sqlite_gives(backend: str, engine: Engine, session: Session) -> None:
    """SQLite: the next ids are one more than the highest id, and than the highest an AUTOINCREMENT table ever gave
    (a deleted last row's id is not given again there); a read-only connection may not take ids."""
    if backend != "sqlite":
        pytest.skip("SQLite's rowids")
    metadata = MetaData()
    plain = Table("ids_plain", metadata, Column("id", Integer, primary_key=True), Column("txt", Text))
    counted = Table("ids_counted", metadata, Column("id", Integer, primary_key=True), Column("txt", Text),
                    sqlite_autoincrement=True)  # fmt: skip
    metadata.create_all(engine)
    for table in (plain, counted):
        session.execute(table.insert(), [{"txt": "a"}, {"txt": "b"}, {"txt": "c"}])
        session.execute(table.delete().where(table.c.id == 3))
    assert take_ids(session, "ids_plain", 2).to_list() == [3, 4]  # what SQLite gives: max(id) + 1
    assert take_ids(session, "ids_counted", 2).to_list() == [4, 5]  # never an id it gave before
    for table, expected in ((plain, 3), (counted, 4)):
        given = session.execute(table.insert().values(txt="d").returning(table.c.id)).scalar_one()
        assert given == expected  # the same as SQLite's own choice
    session.commit()
    with Session(reader(engine)) as read_only, pytest.raises(RuntimeError, match="read-only"):
        take_ids(read_only, "ids_plain", 1)


def test_a_frame_of_several_slices_reads_back_in_order(
    engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several slices (PostgreSQL: rendered by a worker while the previous one is written): every row, once, in
    order, the nasty text included; an uneven last slice too."""
    monkeypatch.setattr("dragonnet.storage.bulk.COPY_SLICE", 4)
    table = _probe(engine)
    n = 3 * len(NASTY) + 1
    frame = pl.DataFrame(
        {"id": range(1, n + 1), "txt": [*NASTY * 3, None], "d": [None] * n, "f": [float(i) for i in range(n)],
         "at": [None] * n, "b": [None] * n},
        schema=PROBE_SCHEMA,
    )  # fmt: skip
    insert_frame(session, table, frame)
    session.commit()
    rows = session.execute(select(table).order_by(table.c.id)).all()
    assert [(r.id, r.txt, r.f) for r in rows] == list(frame.select("id", "txt", "f").iter_rows())
