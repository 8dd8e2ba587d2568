"""One case report in-process: `POST /api/v1/cases` with the load test's body, per request, by stage.

    python benchmarks/report_inprocess.py [--reports 200] [--rounds 5] [--against SRC] [--normalise N]
                                          [--profile FILE]

Builds a PostgreSQL database as the load test does (`load_test.build_database`: the demo operation plus
`--cases` generated cases), then reports cases through Starlette's TestClient (no network, no uvicorn, one
thread: the fixed cost of one report without the server's queueing) with the load test's body
(`load_test.payload`: one case, one drug item). Prints per report: wall and CPU time (median and p99), statements
sent to the database, Polars queries (collects of a lazy frame: every eager frame operation is one), and the
wall and CPU time of each stage (membership, mappings, validation with its `normalise_items`, the write, the
status row, the review queue, the audit entry, the watchlist hook, the response's parties, the commit).

`--against SRC` runs the same reports in two warm worker processes, this tree's code and the `src` folder SRC
(e.g. main's, from `git archive`), alternating rounds so that the machine's load falls on both alike.
`--normalise N` then times N calls of `normalise_items` alone on the report's rows in each (alternating too).
`--profile FILE` writes a cProfile of this tree's reports (every thread) instead.
PostgreSQL: $DRAGONNET_BENCH_POSTGRES_URL, else $DRAGONNET_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from load_test import bench_database, issue_tokens, payload, pct  # noqa: E402
from open_inprocess import StatementCounter, ThreadProfiles  # noqa: E402


class Stages:
    """Wall and thread-CPU time of named functions, wrapped where their callers look them up."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        inner: Callable[..., Any] = getattr(owner, attribute)
        wall, cpu = self.wall, self.cpu

        def timed(*args: Any, **kwargs: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()  # the process: Polars' threads count too
            try:
                return inner(*args, **kwargs)
            finally:
                wall[name] += time.perf_counter() - w
                cpu[name] += time.process_time() - c

        setattr(owner, attribute, timed)

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()


class PolarsQueries:
    """Counts the queries Polars runs: every eager DataFrame operation collects a lazy frame (`_collect_eager`),
    and a lazy query is collected by `collect`."""

    def __init__(self) -> None:
        import polars as pl

        self.count = 0
        for attribute in ("collect", "_collect_eager"):
            self._count(pl.LazyFrame, attribute)

    def _count(self, owner: Any, attribute: str) -> None:
        inner = getattr(owner, attribute)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return inner(*args, **kwargs)

        setattr(owner, attribute, counted)


# The functions intake.forms.create_case calls, timed where it looks them up.
STAGES = ("check_member", "load_mappings", "validate_case", "normalise_items", "normalise_parties", "with_phases",
          "_apply", "_write_parties", "record_status", "_queue_values", "record")  # fmt: skip


def instrument() -> Stages:
    """The stages of a report (names as in intake.forms.create_case and the API's create_case)."""
    from sqlalchemy.orm import Session

    from dragonnet.api import cases as api_cases
    from dragonnet.intake import forms

    stages = Stages()
    for attribute in STAGES:
        if hasattr(forms, attribute):
            stages.wrap(forms, attribute, attribute)
    stages.wrap(forms.hooks, "cases_written", "hooks.cases_written")
    stages.wrap(forms.TypedBatch, "item_frame", "TypedBatch.item_frame")
    stages.wrap(forms.TypedBatch, "party_frame", "TypedBatch.party_frame")
    stages.wrap(api_cases, "get_operation", "get_operation")
    stages.wrap(api_cases.forms, "create_case", "forms.create_case")
    stages.wrap(api_cases.queries, "read_parties", "read_parties")
    stages.wrap(api_cases, "case_out", "case_out")
    stages.wrap(Session, "commit", "commit")
    stages.wrap(Session, "flush", "flush")
    return stages


def worker(url: str, token: str, seed: int) -> None:
    """A warm process answering `run N` (N reports) and `normalise N` (N calls of `normalise_items` on the
    report's rows, as the API validates them) lines on stdin with one JSON line of figures each."""
    from starlette.testclient import TestClient

    from dragonnet.app import create_app

    stages = instrument()
    polars = PolarsQueries()
    rng = random.Random(seed)
    n = 0
    with TestClient(create_app()) as client:
        counter = StatementCounter(client.app.state.engine)  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {token}"}
        for line in sys.stdin:
            command, count = line.split()[0], int(line.split()[1])
            if command == "normalise":
                print(json.dumps(normalise_calls(count, polars)), flush=True)
                continue
            stages.reset()
            counter.count = polars.count = 0
            walls: list[float] = []
            cpus: list[float] = []
            created = 0
            for _ in range(count):
                n += 1
                body = payload(rng, n)
                w, c = time.perf_counter(), time.process_time()
                response = client.post("/api/v1/cases", json=body, headers=headers)
                walls.append(time.perf_counter() - w)
                cpus.append(time.process_time() - c)
                created += response.status_code == 201
            figures = {"wall": walls, "cpu": cpus, "created": created, "statements": counter.count,
                       "polars": polars.count, "stage_wall": dict(stages.wall), "stage_cpu": dict(stages.cpu),
                       "source": str(Path(sys.modules["dragonnet"].__file__ or "").parent)}  # fmt: skip
            print(json.dumps(figures), flush=True)


def normalise_calls(count: int, polars: PolarsQueries) -> dict[str, Any]:
    """`normalise_items` on the load test's one-case body as the API builds its rows, `count` times."""
    import datetime as dt

    from dragonnet.intake import forms
    from dragonnet.intake.normalise import normalise_items

    batch = forms.TypedBatch.from_mappings([payload(random.Random(20), 1)], [True])
    rows = batch.item_frame([0], "VN-CUS").drop(forms.CASE, forms.POSITION)
    today = dt.date.today()
    walls: list[float] = []
    cpus: list[float] = []
    polars.count = 0
    for _ in range(count):
        w, c = time.perf_counter(), time.process_time()
        normalise_items(rows, today=today)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {"wall": walls, "cpu": cpus, "polars": polars.count, "source": str(Path(forms.__file__).parent.parent)}


def start_worker(src: str, url: str, token: str, seed: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": src, "DRAGONNET_DATABASE_URL": url, "DRAGONNET_SECRET_KEY": "report-bench",
           "DRAGONNET_DATA_DIR": tempfile.mkdtemp(prefix="report-")}  # fmt: skip
    cmd = [sys.executable, __file__, "--worker", "--database-url", url, "--token", token, "--seed", str(seed)]
    return subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def ask(proc: subprocess.Popen[str], count: int, command: str = "run") -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{command} {count}\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()
    if not answer:
        raise SystemExit("error: a worker stopped (see its error above)")
    return dict(json.loads(answer))


def report(name: str, runs: list[dict[str, Any]]) -> None:
    walls = [w for r in runs for w in r["wall"]]
    cpus = [c for r in runs for c in r["cpu"]]
    n = len(walls)
    created = sum(r["created"] for r in runs)
    print(f"{name} ({runs[0]['source']}): {n} reports, {created} created")
    print(f"  wall median {statistics.median(walls) * 1000:.1f} ms, p99 {pct(walls, 99):.1f} ms; "
          f"CPU median {statistics.median(cpus) * 1000:.1f} ms, p99 {pct(cpus, 99):.1f} ms")  # fmt: skip
    statements = sum(r["statements"] for r in runs) / n
    polars = sum(r["polars"] for r in runs) / n
    print(f"  {statements:.1f} statements and {polars:.1f} Polars queries per report")
    stage_wall: dict[str, float] = defaultdict(float)
    stage_cpu: dict[str, float] = defaultdict(float)
    for r in runs:
        for k, v in r["stage_wall"].items():
            stage_wall[k] += v
        for k, v in r["stage_cpu"].items():
            stage_cpu[k] += v
    for k in sorted(stage_wall, key=lambda k: -stage_wall[k]):
        print(f"  {k:>22}: wall {stage_wall[k] / n * 1000:6.2f} ms, CPU {stage_cpu[k] / n * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warm", type=int, default=30, help="reports sent first, not counted")
    parser.add_argument("--normalise", type=int, default=0, help="also N calls of normalise_items per tree")
    parser.add_argument("--against", default=None, help="another tree's src folder, run in alternating rounds")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--database-url", default=None, help="a database built by an earlier run (--keep)")
    parser.add_argument("--keep", action="store_true", help="keep the database built (its URL is printed)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=22, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.database_url, args.token, args.seed)
        return
    with bench_database(args.cases, args.database_url, args.keep) as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    token = issue_tokens(url)[0]
    if args.profile:
        profile(args, url, token)
        return
    trees = {"this tree": str(BENCH_DIR.parent / "src")}
    if args.against:
        trees["against"] = str(Path(args.against).resolve())
    workers = {name: start_worker(src, url, token, seed) for seed, (name, src) in enumerate(trees.items())}
    try:
        for proc in workers.values():
            ask(proc, args.warm)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in workers}
        per_round = max(1, args.reports // args.rounds)
        for r in range(args.rounds):
            order = list(workers) if r % 2 == 0 else list(reversed(workers))
            for name in order:
                runs[name].append(ask(workers[name], per_round))
        for name, figures in runs.items():
            report(name, figures)
        if args.normalise:
            calls: dict[str, list[dict[str, Any]]] = {name: [] for name in workers}
            for proc in workers.values():
                ask(proc, 20, "normalise")
            for r in range(args.rounds * 2):
                for name in list(workers) if r % 2 == 0 else list(reversed(workers)):
                    calls[name].append(ask(workers[name], args.normalise // (args.rounds * 2), "normalise"))
            for name, figures in calls.items():
                walls = [w for f in figures for w in f["wall"]]
                cpus = [c for f in figures for c in f["cpu"]]
                print(f"normalise_items, {name}: {len(walls)} calls, wall median {statistics.median(walls) * 1000:.2f} "
                      f"ms, p99 {pct(walls, 99):.2f} ms; CPU median {statistics.median(cpus) * 1000:.2f} ms; "
                      f"{sum(f['polars'] for f in figures) / len(walls):.0f} Polars queries per call")  # fmt: skip
    finally:
        for proc in workers.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=60)


def profile(args: argparse.Namespace, url: str, token: str) -> None:
    from starlette.testclient import TestClient

    from dragonnet.app import create_app

    os.environ.update({"DRAGONNET_DATABASE_URL": url, "DRAGONNET_SECRET_KEY": "report-bench-secret",
                       "DRAGONNET_DATA_DIR": tempfile.mkdtemp(prefix="report-")})  # fmt: skip
    rng = random.Random(22)
    headers = {"Authorization": f"Bearer {token}"}
    profiles = ThreadProfiles()
    profiles.install()  # before the client's threads start (the warm-up reports are in the profile too)
    with TestClient(create_app()) as client:
        for n in range(args.warm):
            client.post("/api/v1/cases", json=payload(rng, n), headers=headers)
        for n in range(args.reports):
            client.post("/api/v1/cases", json=payload(rng, 10_000 + n), headers=headers)
        profiles.dump(args.profile)
    print(f"profile of {args.reports} reports (every thread) in {args.profile}")


if __name__ == "__main__":
    main()
