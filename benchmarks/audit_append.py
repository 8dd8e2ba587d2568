"""Write latency against the number of concurrent writers: batched audit appends vs one append at a time.

    python benchmarks/audit_append.py [--writers 1,4,16,64] [--seconds 10] [--work-ms 5] [--sqlite]

Each writer thread runs transactions back to back for `--seconds`: insert a row, write the audit entry,
do `--work-ms` of further work inside the transaction (what a request does after its audit call: more
statements, validation), commit. Three ways, on the same database, one after the other:

* **bare**: the same transaction without an audit entry (the engine's floor);
* **batched**: `audit.record` as dragonnet does it now (staged in the transaction; the commit returns after
  an append round chained it);
* **one at a time**: the previous design, written out here: lock the chain's head row, append, keep the
  lock until the transaction commits (every writer queues behind the one holding the lock).

Prints p50/p99 latency per transaction, transactions per second and the ratio of each to bare; then
verifies the chain. PostgreSQL from $DRAGONNET_BENCH_POSTGRES_URL or $DRAGONNET_TEST_POSTGRES_URL
(a throwaway database is created and dropped), or a SQLite file with `--sqlite`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dragonnet.policy import audit
from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import AuditEvent, AuditHead, utcnow

ACTOR = audit.AuditActor(1, "bench.writer", "VN-CUS", "127.0.0.1")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))] * 1000


def append_one_at_a_time(session: Session, n: int) -> None:
    """The design before batching: the head row stays locked until this transaction ends."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at, seq, detail = utcnow(), head.seq + 1, {"n": n}
    detail = json.loads(json.dumps(detail))
    digest = audit._entry_hash(head.hash, seq, at, ACTOR, "bench.write", "bench", str(n), detail)
    session.add(AuditEvent(seq=seq, at=at, actor_user_id=ACTOR.user_id, actor_username=ACTOR.username,
                           actor_agency=ACTOR.agency, client_address=ACTOR.client_address, action="bench.write",
                           object_type="bench", object_id=str(n), detail=detail, prev_hash=head.hash,
                           hash=digest))  # fmt: skip
    head.seq, head.hash = seq, digest
    session.flush()


def run(engine: Engine, mode: str, writers: int, seconds: float, work_ms: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    sleep = "SELECT pg_sleep(:s)" if engine.dialect.name == "postgresql" else None
    audit_step: Callable[[Session, int], None] = {
        "bare": lambda s, n: None,
        "batched": lambda s, n: audit.record(s, ACTOR, "bench.write", "bench", n, n=n) and None,
        "one at a time": append_one_at_a_time,
    }[mode]

    def writer(k: int) -> None:
        n = 0
        mine: list[float] = []
        while time.monotonic() < stop_at:
            n += 1
            started = time.perf_counter()
            with Session(engine) as s:
                s.execute(text("INSERT INTO bench_writes (writer, n) VALUES (:k, :n)"), {"k": k, "n": n})
                audit_step(s, k * 1_000_000 + n)
                if work_ms:
                    if sleep:
                        s.execute(text(sleep), {"s": work_ms / 1000})
                    else:
                        time.sleep(work_ms / 1000)
                s.commit()
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,4,16,64")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--work-ms", type=float, default=5)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    server = os.environ.get("DRAGONNET_BENCH_POSTGRES_URL") or os.environ.get("DRAGONNET_TEST_POSTGRES_URL")
    admin = None
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='dragonnet-audit-')}/bench.db"
    elif server:
        admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
        name = f"dragonnet_audit_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(normalise_url(server)).set(database=name).render_as_string(hide_password=False)
    else:
        raise SystemExit("set DRAGONNET_BENCH_POSTGRES_URL, or pass --sqlite")
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_writes (id INTEGER PRIMARY KEY, writer INTEGER, n INTEGER)")
                     if args.sqlite else
                     text("CREATE TABLE bench_writes (id serial PRIMARY KEY, writer integer, n integer)"))  # fmt: skip
    print(f"{engine.dialect.name}; {args.work_ms:g} ms of work in each transaction after its audit entry; "
          f"{args.seconds:g} s per run")  # fmt: skip
    print(f"{'writers':>7} {'mode':<14} {'txn/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99 / bare':>10}")
    try:
        for writers in (int(w) for w in args.writers.split(",")):
            bare_p99 = 0.0
            for mode in ("bare", "batched", "one at a time"):
                latencies, elapsed = run(engine, mode, writers, args.seconds, args.work_ms)
                p99 = pct(latencies, 99)
                bare_p99 = bare_p99 or p99
                print(f"{writers:>7} {mode:<14} {len(latencies) / elapsed:>8.0f} {pct(latencies, 50):>8.1f} "
                      f"{p99:>8.1f} {p99 / bare_p99:>9.2f}x", flush=True)  # fmt: skip
        with Session(engine) as s:
            result = audit.verify(s)
        print(f"audit chain: {result.entries} entries, intact: {result.ok}, staged left: {result.staged}")
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
