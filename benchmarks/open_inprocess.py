"""The case read endpoints in-process: dragonnet's open (`GET /api/v1/cases/{id}`) or list (`GET
/api/v1/cases?limit=50`, as the load test sends it) against the bare app's, per request.

    python benchmarks/open_inprocess.py [--endpoint open|list] [--cases 5000] [--requests 1000] [--profile FILE]

Builds a PostgreSQL database as the load test does (`load_test.build_database`: the demo operation plus
`--cases` generated cases), then opens cases through Starlette's TestClient (no network, no uvicorn, one
thread: the fixed cost per open without the server's queueing) on dragonnet (`dragonnet.app:create_app`) and on
the bare app (`benchmarks/bare_cases.py`, the same SQL by hand), alternating A and B in rounds so that the
machine's load falls on both alike. Prints per request: mean and p50 in ms, statements sent to the database, and
dragonnet's time / the bare app's. `--profile FILE` writes a cProfile of dragonnet's requests instead.
PostgreSQL: $DRAGONNET_BENCH_POSTGRES_URL, else $DRAGONNET_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, event, select, text
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_cases
from load_test import bench_database, issue_tokens

from dragonnet.app import create_app
from dragonnet.storage.db import make_engine


class ThreadProfiles:
    """cProfile in every thread started after `install`: the app runs in TestClient's portal thread and its sync
    handlers in anyio's worker threads, which cProfile in the main thread does not see."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def install(self) -> None:
        threading.setprofile(self._start)

    def _start(self, *_args: object) -> None:
        profile = cProfile.Profile()
        self.profiles.append(profile)
        profile.enable()  # replaces this hook in the thread

    def dump(self, path: Path) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = None
        for profile in self.profiles:
            profile.create_stats()
            if profile.stats:  # type: ignore[attr-defined]
                stats = pstats.Stats(profile) if stats is None else stats.add(profile)
        if stats is not None:
            stats.dump_stats(str(path))


class StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def case_ids(url: str, n: int, rng: random.Random) -> list[int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        # the generated cases (validated, green: every member sees them), as the load test's opens
        ids = list(conn.execute(select(text("id")).select_from(text("cases"))
                                .where(text("case_ref LIKE 'LOAD-%'"))).scalars())  # fmt: skip
    engine.dispose()
    return [rng.choice(ids) for _ in range(n)]


# The load test's list request: the newest 50 cases the reader may see.
LIST_PARAMS = {"operation": "mekong-dragon", "limit": 50}


def timed(client: TestClient, token: str, ids: list[int], endpoint: str = "open") -> tuple[list[float], int, float]:
    """Each request's wall time (an open per id, or as many lists), how many answered 200, and the CPU time of
    this process (every thread: client, app and driver; not the database server's) over all of them."""
    times: list[float] = []
    statuses = 0
    headers = {"Authorization": f"Bearer {token}"}
    cpu = time.process_time()
    for case_id in ids:
        started = time.perf_counter()
        if endpoint == "list":
            response = client.get("/api/v1/cases", params=LIST_PARAMS, headers=headers)
        else:
            response = client.get(f"/api/v1/cases/{case_id}", headers=headers)
        times.append(time.perf_counter() - started)
        statuses += response.status_code == 200
    return times, statuses, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=["open", "list"], default="open")
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--database-url", default=None, help="a database built by an earlier run (--keep)")
    parser.add_argument("--keep", action="store_true", help="keep the database built (its URL is printed)")
    args = parser.parse_args()
    with bench_database(args.cases, args.database_url, args.keep) as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    token = issue_tokens(url)[0]
    rng = random.Random(20)
    ids = case_ids(url, args.requests, rng)
    os.environ.update({"DRAGONNET_DATABASE_URL": url, "DRAGONNET_SECRET_KEY": "open-bench-secret",
                       "DRAGONNET_DATA_DIR": tempfile.mkdtemp(prefix="open-bench-")})  # fmt: skip
    apps: dict[str, Callable[[], object]] = {"dragonnet": create_app, "bare": bare_cases.create_app}
    results: dict[str, list[float]] = {name: [] for name in apps}
    statements: dict[str, float] = {}
    oks: dict[str, int] = dict.fromkeys(apps, 0)
    cpus: dict[str, float] = dict.fromkeys(apps, 0.0)
    if args.profile:
        profiles = ThreadProfiles()
        profiles.install()
        with TestClient(create_app()) as ours:
            timed(ours, token, ids, args.endpoint)
        profiles.dump(args.profile)
        print(f"profile of {len(ids)} dragonnet requests ({args.endpoint}, every thread) in {args.profile}")
        return
    per_round = max(1, len(ids) // args.rounds)
    with TestClient(create_app()) as ours, TestClient(bare_cases.create_app()) as bare:
        clients = {"dragonnet": ours, "bare": bare}
        counter = StatementCounter(ours.app.state.engine)  # type: ignore[attr-defined]
        for client in clients.values():  # warm-up: caches, connections
            timed(client, token, ids[:50], args.endpoint)
        counter.count = 0
        for r in range(0, len(ids), per_round):
            for name, client in clients.items():
                times, ok, cpu = timed(client, token, ids[r : r + per_round], args.endpoint)
                results[name] += times
                oks[name] += ok
                cpus[name] += cpu
        statements["dragonnet"] = counter.count / len(ids)
    what = args.endpoint
    answered = f"{oks['dragonnet']} / {oks['bare']} answered 200"
    print(f"{len(ids)} {what}s each ({answered}), {args.rounds} alternating rounds")
    for name, times in results.items():
        extra = f", {statements[name]:.2f} statements per {what}" if name in statements else ""
        print(f"{name:>9}: mean {statistics.fmean(times) * 1000:.2f} ms, p50 {statistics.median(times) * 1000:.2f} ms, "
              f"CPU {cpus[name] / len(times) * 1000:.2f} ms per {what}{extra}")  # fmt: skip
    ratio = statistics.fmean(results["dragonnet"]) / statistics.fmean(results["bare"])
    print(
        f"dragonnet / bare: {ratio:.2f}x the time per {what}, {cpus['dragonnet'] / cpus['bare']:.2f}x the CPU per "
        f"{what} (what bounds the throughput of a saturated server)"
    )


if __name__ == "__main__":
    main()
