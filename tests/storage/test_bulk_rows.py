"""`storage.bulk.insert_rows` (COPY on PostgreSQL) stores what an INSERT through SQLAlchemy stores: the same values,
JSON written as the same text, rows (and the ids a sequence gives them) in order."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, DateTime, Engine, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.orm import Session

from dragonnet.storage.bulk import insert_rows

meta = MetaData()
rows_by_insert = Table(
    "rows_by_insert", meta, Column("id", Integer, primary_key=True), Column("at", DateTime(timezone=True)),
    Column("name", String(64)), Column("n", Integer), Column("detail", JSON),
)  # fmt: skip
rows_by_copy = Table(
    "rows_by_copy", meta, Column("id", Integer, primary_key=True), Column("at", DateTime(timezone=True)),
    Column("name", String(64)), Column("n", Integer), Column("detail", JSON),
)  # fmt: skip
COLUMNS = ("at", "name", "n", "detail")
AT = dt.datetime(2026, 12, 6, 11, 30, 1, 123456, tzinfo=dt.UTC)
ROWS = [
    (AT, "B-1", 2, {"case_ref": "B-1", "bulk": True, "items": 2, "none": None}),
    (AT, 'a "quoted"\\ name\twith\ttabs\nand lines', None, {"z": [1, 2.5, None], "a": {"é": "中文 \u2028 🐉"}}),
    (AT + dt.timedelta(seconds=1), None, -7, {}),
    (AT, "", 0, {"text": "\\N"}),  # COPY's NULL marker as text stays text
    (None, None, None, None),  # a JSON column's None is JSON null, as SQLAlchemy's bind stores it
]


def test_insert_rows_stores_what_an_insert_stores(engine: Engine) -> None:
    meta.create_all(engine)
    try:
        with Session(engine) as s:
            s.execute(insert(rows_by_insert), [dict(zip(COLUMNS, row, strict=True)) for row in ROWS])
            insert_rows(s, rows_by_copy, COLUMNS, ROWS)
            insert_rows(s, rows_by_copy, COLUMNS, [])  # nothing to write: no statement
            s.commit()
            read = "SELECT id, at, name, n, CAST(detail AS TEXT) FROM {} ORDER BY id"
            by_insert = s.execute(text(read.format("rows_by_insert"))).all()
            by_copy = s.execute(text(read.format("rows_by_copy"))).all()
            assert by_copy == by_insert
            assert [r.id for r in by_copy] == [1, 2, 3, 4, 5]
            assert by_copy[-1][-1] == "null"
            assert [tuple(r) for r in s.execute(select(rows_by_copy.c[COLUMNS]).order_by(rows_by_copy.c.id))] == [
                (at.replace(tzinfo=None) if at and engine.dialect.name == "sqlite" else at, *rest) for at, *rest in ROWS
            ]
    finally:
        meta.drop_all(engine)
