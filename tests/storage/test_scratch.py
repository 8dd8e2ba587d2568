"""The shared in-memory DuckDB database: each computation's cursor keeps what it registers and creates TEMP to
itself, in threads too, and a forked process opens its own database."""

from __future__ import annotations

import os
import threading

import duckdb
import pyarrow as pa
import pytest

from dragonnet.storage import scratch as scratch_module
from dragonnet.storage.scratch import scratch


def test_cursors_do_not_see_each_others_tables() -> None:
    one, two = scratch(), scratch()
    try:
        one.register("cases", pa.table({"id": [1, 2, 3]}))
        one.execute("CREATE TEMP TABLE c AS SELECT id FROM cases WHERE id > 1")
        two.register("cases", pa.table({"id": [7]}))
        two.execute("CREATE TEMP TABLE c AS SELECT id FROM cases")
        assert one.execute("SELECT list(id ORDER BY id) FROM c").fetchone() == ([2, 3],)
        assert two.execute("SELECT list(id ORDER BY id) FROM c").fetchone() == ([7],)
    finally:
        one.close()
    # what the closed cursor made is gone; the other's is still there
    three = scratch()
    try:
        with pytest.raises(duckdb.CatalogException):
            three.execute("SELECT * FROM c")
        assert two.execute("SELECT count(*) FROM c").fetchone() == (1,)
    finally:
        three.close()
        two.close()


def test_threads_compute_side_by_side() -> None:
    answers: dict[int, int] = {}

    def work(n: int) -> None:
        con = scratch()
        try:
            con.register("t", pa.table({"v": list(range(n))}))
            con.execute("CREATE TEMP TABLE s AS SELECT sum(v) AS total FROM t")
            row = con.execute("SELECT total FROM s").fetchone()
            assert row is not None
            answers[n] = int(row[0])
        finally:
            con.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(10, 30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {n: n * (n - 1) // 2 for n in range(10, 30)}


def test_a_forked_process_opens_its_own_database() -> None:
    scratch().close()
    assert scratch_module._database is not None
    parent = scratch_module._database[1]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new database, and it works
        try:
            con = scratch()
            ok = con.execute("SELECT 41 + 1").fetchone() == (42,)
            mine = scratch_module._database is not None and scratch_module._database[1] is not parent
            os.write(write, b"1" if ok and mine else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
