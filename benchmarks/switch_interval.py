"""A report and a list beside a thread that computes, at several interpreter switch intervals.

    python benchmarks/switch_interval.py [--requests 80] [--rounds 2] [--intervals 5,1] [--database-url URL]

A served worker runs its requests on threads that share one interpreter. A request waiting on the database gives
the interpreter up at every statement and, when its answer is in, waits until the thread holding the
interpreter lets it go: at most the switch interval (`sys.setswitchinterval`; Python's default 5 ms,
dragonnet's servers 1 ms, `DRAGONNET_SWITCH_INTERVAL_MS`). A report sends ~16-20 statements, a list ~4.

In one process, through Starlette's TestClient (no network, no uvicorn), on the load test's database
(`load_test.build_database`, or `--database-url` from an earlier `--keep`): `POST /api/v1/cases` with the load
test's body and `GET /api/v1/cases?limit=50`, each alone and beside a thread that computes in Python 6 ms of
every 12 (a list's CPU, arriving at half of one core), at each interval in turn, in alternating rounds. Prints
the median and p90 wall time per request and interval, and the report / list ratio of the medians beside the
busy thread.
PostgreSQL: $DRAGONNET_BENCH_POSTGRES_URL, else $DRAGONNET_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_test import bench_database, issue_tokens, payload, pct

BUSY_SECONDS = 0.006  # a list's CPU in-process (docs/benchmarks.md, "The list read without ORM objects")


@contextmanager
def busy_thread(on: bool) -> Iterator[None]:
    """A thread holding the interpreter `BUSY_SECONDS` of every `2 * BUSY_SECONDS`, as another request would."""
    stop = threading.Event()

    def compute() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            while time.perf_counter() - started < BUSY_SECONDS:
                sum(range(200))
            time.sleep(BUSY_SECONDS)

    thread = threading.Thread(target=compute, daemon=True)
    if on:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if on:
            thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=7_000)
    parser.add_argument("--requests", type=int, default=80, help="requests per kind, interval and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--intervals", default="5,1", help="switch intervals in milliseconds, comma-separated")
    parser.add_argument("--database-url", default=None, help="a database built by an earlier run (--keep)")
    parser.add_argument("--keep", action="store_true", help="keep the database built (its URL is printed)")
    args = parser.parse_args()
    intervals = [float(ms) / 1000 for ms in args.intervals.split(",")]
    with bench_database(args.cases, args.database_url, args.keep) as url:
        run(url, intervals, args.requests, args.rounds)


def run(url: str, intervals: list[float], requests: int, rounds: int) -> None:
    from starlette.testclient import TestClient

    from dragonnet.app import create_app
    from dragonnet.config import load_settings

    token = issue_tokens(url)[0]
    os.environ.update({"DRAGONNET_DATABASE_URL": url, "DRAGONNET_SECRET_KEY": "switch-bench-secret",
                       "DRAGONNET_DATA_DIR": tempfile.mkdtemp(prefix="switch-")})  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(int(time.time()))
    serial = int(time.time() * 1000) % 10**7 * 10  # case refs not used by an earlier run on a kept database
    walls: dict[tuple[str, bool, float], list[float]] = defaultdict(list)
    settings = load_settings()

    def send(client: TestClient, kind: str, busy: bool) -> None:
        nonlocal serial
        serial += 1
        started = time.perf_counter()
        if kind == "report":
            response: Any = client.post("/api/v1/cases", json=payload(rng, serial), headers=headers)
        else:
            params = {"operation": "mekong-dragon", "limit": 50}
            response = client.get("/api/v1/cases", params=params, headers=headers)
        elapsed = time.perf_counter() - started
        if response.status_code not in (200, 201):
            raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
        walls[kind, busy, sys.getswitchinterval()].append(elapsed)

    with TestClient(create_app(settings)) as client:
        for kind in ("report", "list") * 10:  # warm
            send(client, kind, False)
        walls.clear()
        for r in range(rounds):
            order = intervals if r % 2 == 0 else list(reversed(intervals))
            for interval in order:
                sys.setswitchinterval(interval)
                for busy in (False, True):
                    with busy_thread(busy):
                        for kind in ("report", "list") * requests:
                            send(client, kind, busy)
    print(f"{'request':<8} {'beside':<9} {'interval':>9} {'median ms':>10} {'p90 ms':>8}")
    medians: dict[tuple[str, bool, float], float] = {}
    for (kind, busy, interval), values in sorted(walls.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[0][2])):
        medians[kind, busy, interval] = statistics.median(values) * 1000
        print(f"{kind:<8} {'a thread' if busy else 'nothing':<9} {interval * 1000:>7g} ms "
              f"{medians[kind, busy, interval]:>10.1f} {pct(values, 90):>8.1f}")  # fmt: skip
    for interval in intervals:
        ratio = medians["report", True, interval] / medians["list", True, interval]
        print(f"beside a thread that computes, at {interval * 1000:g} ms: report / list median {ratio:.2f}x")


if __name__ == "__main__":
    main()
