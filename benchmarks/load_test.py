"""Load test: dragonnet's case list and case endpoints against a bare FastAPI app, at fixed arrival rates.

    python benchmarks/load_test.py [--cases 1000000] [--start-rate 5] [--refine 3] [--step-seconds 20]
                                   [--workers 2] [--mix-rate R] [--mix-seconds 180] [--mix-only]

1. Builds a fresh PostgreSQL database: the demo operation (agencies, users), then `--cases` extra cases
   with one item each, generated server-side with generate_series (fast, not through the API).
2. Serves dragonnet (`dragonnet.app:create_app`) and the bare baseline (`benchmarks/bare_cases.py`: the
   same SQL written by hand, visibility filter included, no audit) one after the other with the same
   uvicorn settings (`--workers`, loopback, a free port) on the same database.
3. Open loop: for each endpoint (list: `GET /api/v1/cases?limit=50`; open: `GET /api/v1/cases/{id}`) and
   each server, requests arrive at a fixed rate for `--step-seconds` per rate, whatever the answers: the
   rate doubles from `--start-rate` until p99 exceeds 1 s at two rates in a row, then `--refine`
   bisection steps narrow the rate at which it crosses 1 s. Latency is measured from
   each request's scheduled arrival, so a server that falls behind is charged for the queue it builds.
   The tokens of 6 demo users (reporters and coordinators of 4 agencies) take turns.
4. For each: the highest rate tested whose p99 <= 1 s (its throughput) and where p99 crossed 1 s; the
   ratio of dragonnet's throughput at p99 <= 1 s to the bare app's (goal >= 0.5).
5. Mixed load on dragonnet at `--mix-rate` arrivals/s (default: half of dragonnet's list rate at p99 <= 1 s):
   45% list, 25% open, 10% report a case (POST, audited), 20% inbox; report p99 / list p99 (goal <= 2),
   with a 95% bootstrap interval (the reports and lists resampled): for `--mix-seconds` 180 (the default) the
   p99 of ~1,000 reports, where 60 s gave the 4th-slowest of ~330 and ratios of 1.2-2.3x between runs of the
   same code minutes apart; then every write the server acknowledged (201) must be in the database with its
   audit entry in a chain that verifies: lost writes and lost audit entries must be 0. `--mix-only` runs this
   step alone (at `--mix-rate`), to compare the report's tail of two trees at one rate.

Bounded: at most rate x seconds requests per step, `MAX_IN_FLIGHT` at once (more count as errors), 30 s
timeout each. PostgreSQL: $DRAGONNET_BENCH_POSTGRES_URL, else $DRAGONNET_TEST_POSTGRES_URL (a server where
the user may create databases; `scripts/pg-throwaway.sh start` gives one).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from import_vs_copy import server_url
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dragonnet.demo import build_demo
from dragonnet.policy import audit
from dragonnet.policy.access import Actor
from dragonnet.policy.tokens import create_token
from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import AuditEvent, Case, Phase, User

MIX = (("list", 0.45), ("open", 0.25), ("report", 0.10), ("inbox", 0.20))
REPORTERS = ("vn.reporter", "th.reporter", "cn.reporter", "my.reporter", "vn.coordinator", "th.coordinator")
GOAL_P99 = 1.0  # seconds
MAX_RATE = 1000.0  # arrivals per second: the ladder stops doubling here
MAX_IN_FLIGHT = 3000
TIMEOUT = 30.0
BENCH_DIR = Path(__file__).resolve().parent
SERVERS = {"dragonnet": ("dragonnet.app:create_app", None), "bare": ("bare_cases:create_app", str(BENCH_DIR))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_database(server: str, cases: int) -> str:
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    name = f"dragonnet_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(normalise_url(server)).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        build_demo(session, seed=2023)
        session.commit()
    phase_v = None
    with Session(engine) as session:
        phase_v = session.execute(select(Phase).where(Phase.number == 5)).scalar_one()
        op_id = phase_v.operation_id
    # Extra cases, generated in the database: validated, green, spread over phase V and the agencies.
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO cases (operation_id, phase_id, reporting_agency_id, case_ref, status, sharing_level,
                    version, seizure_date, reported_at, place_country, transport_mode, arrests, created_at,
                    updated_at)
                SELECT :op, :phase, a.id, 'LOAD-' || g, 'validated', 'green', 1,
                       DATE '2023-04-15' + (g % 200), now(), a.country, 'sea_container', g % 3, now(), now()
                FROM generate_series(1, :n) AS g
                JOIN (SELECT id, country, row_number() OVER (ORDER BY id) - 1 AS k,
                             count(*) OVER () AS total
                      FROM agencies WHERE country IS NOT NULL) AS a
                  ON a.k = g % a.total
                """
            ),
            {"op": op_id, "phase": phase_v.id, "n": cases},
        )
        conn.execute(
            text(
                """
                INSERT INTO items (case_id, position, commodity_class, substance_text, substance, quantity,
                                   unit, mass_kg)
                SELECT id, 1, 'drug', 'ice', 'methamphetamine', 1 + (id % 50), 'kg', 1 + (id % 50)
                FROM cases WHERE case_ref LIKE 'LOAD-%'
                """
            )
        )
    # VACUUM as well as ANALYZE, before any measurement: 10^6 rows just inserted otherwise wake autovacuum (PG
    # 13+ vacuums after inserts) at a time of its choosing, and a pass over the new tables takes one of the two
    # cores from the servers. `maintenance_since` prints what autovacuum did during the mixed load.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    with Session(engine) as session:
        total = session.execute(select(func.count()).select_from(Case)).scalar_one()
    print(f"database {name}: {total:,} cases, built in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return url


@contextmanager
def bench_database(cases: int, database_url: str | None = None, keep: bool = False) -> Iterator[str]:
    """A database of `cases` generated cases (or the one at `database_url`, built by an earlier run), dropped
    afterwards unless kept: what each in-process benchmark starts from."""
    server = server_url()
    url = database_url or build_database(server, cases)
    try:
        yield url
    finally:
        if keep or database_url:
            print(f"database kept: {url}")
        else:
            drop_database(server, url)


def drop_database(server: str, url: str) -> None:
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def issue_tokens(url: str) -> list[str]:
    engine = make_engine(url)
    tokens: list[str] = []
    with Session(engine) as session:
        for username in REPORTERS:
            user = session.execute(select(User).where(User.username == username)).scalar_one()
            raw, _ = create_token(session, Actor.for_user(user), user, name="load test", scope="write", days=1)
            tokens.append(raw)
        session.commit()
    engine.dispose()
    return tokens


def start_server(server: str, url: str, port: int, workers: int, data_dir: Path) -> subprocess.Popen[bytes]:
    factory, app_dir = SERVERS[server]
    env = {**os.environ, "DRAGONNET_DATABASE_URL": url, "DRAGONNET_DATA_DIR": str(data_dir),
           "DRAGONNET_SECRET_KEY": "load-test-secret"}  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    if app_dir:
        cmd += ["--app-dir", app_dir]
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the {server} server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def payload(rng: random.Random, n: int) -> dict[str, object]:
    return {
        "operation": "mekong-dragon",
        "submit": True,
        "case_ref": f"LT-{uuid.uuid4().hex[:12]}-{n}",
        "seizure_date": f"2023-{rng.randint(5, 10):02d}-{rng.randint(1, 28):02d}",
        "place_locode": "VNHPH",
        "place_country": "VN",
        "transport_mode": "sea_container",
        "concealment": "inside frozen fish cartons",
        "items": [{"commodity_class": "drug", "substance": "ya ba", "quantity": "12000", "unit": "tablets"}],
    }


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in ms (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))] * 1000


def ratio_interval(upper: list[float], lower: list[float], q: float = 99, rounds: int = 2000) -> tuple[float, float]:
    """A 95% bootstrap interval of pct(upper, q) / pct(lower, q): both samples resampled with replacement
    (seeded), the ratio's 2.5th and 97.5th percentiles. How far one run's ratio may be from the load's own.
    Errors come as infinite latencies: a resample whose two percentiles are both infinite has no ratio, and then
    neither has the interval (nan, nan), rather than an interval over the resamples that happen to have one."""
    if not upper or not lower:
        return float("nan"), float("nan")
    rng = random.Random(5)
    ratios = []
    for _ in range(rounds):
        high, low = pct(rng.choices(upper, k=len(upper)), q), pct(rng.choices(lower, k=len(lower)), q)
        if math.isinf(high) and math.isinf(low):
            return float("nan"), float("nan")
        ratios.append(high / low)
    ratios.sort()
    return ratios[int(0.025 * rounds)], ratios[int(0.975 * rounds) - 1]


@dataclass
class Step:
    """One open-loop run at a fixed arrival rate."""

    rate: float
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_error: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def all(self, kind: str | None = None) -> list[float]:
        if kind is not None:
            return self.latencies.get(kind, [])
        return [v for vs in self.latencies.values() for v in vs]

    def p99(self, kind: str | None = None) -> float:
        """p99 in seconds, errors counted as slower than anything answered."""
        values = self.all(kind)
        failed = sum(self.errors.values()) if kind is None else self.errors.get(kind, 0)
        return pct(values + [math.inf] * failed, 99) / 1000

    @property
    def completed(self) -> int:
        return len(self.all())

    @property
    def throughput(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


class Failed(Exception):
    def __init__(self, kind: str, answer: str) -> None:
        super().__init__(answer)
        self.kind = kind


class Workload:
    """What the clients ask, with the case ids each token may open (taken from its own first page)."""

    def __init__(self, tokens: list[str], ids: dict[str, list[int]], mix: tuple[tuple[str, float], ...]) -> None:
        self.tokens, self.ids = tokens, ids
        self.kinds = [k for k, _ in mix]
        self.weights = [w for _, w in mix]

    async def send(self, client: httpx.AsyncClient, rng: random.Random, n: int, step: Step) -> str:
        """One request; returns its kind, raises Failed on a wrong answer."""
        token = self.tokens[n % len(self.tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        kind = rng.choices(self.kinds, self.weights)[0]
        if kind == "list":
            r = await client.get("/api/v1/cases", params={"operation": "mekong-dragon", "limit": 50}, headers=headers)
            ok = r.status_code == 200
        elif kind == "open":
            r = await client.get(f"/api/v1/cases/{rng.choice(self.ids[token])}", headers=headers)
            ok = r.status_code == 200
        elif kind == "report":
            body = payload(rng, n)
            r = await client.post("/api/v1/cases", json=body, headers=headers)
            ok = r.status_code == 201
            if ok:
                step.written.append(str(body["case_ref"]))
        else:
            r = await client.get("/api/v1/inbox", headers=headers)
            ok = r.status_code == 200
        if not ok:
            raise Failed(kind, f"{r.status_code} {r.text[:200]}")
        return kind


async def open_loop(base: str, workload: Workload, rate: float, seconds: float, seed: int) -> Step:
    """Requests arrive every 1/rate s for `seconds`, whatever the server answers (open loop); each latency
    runs from the request's scheduled arrival."""
    step = Step(rate, seconds)
    in_flight = 0
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, limits=limits) as client:

        async def one(n: int, scheduled: float) -> None:
            nonlocal in_flight
            in_flight += 1
            try:
                kind = await workload.send(client, random.Random(seed * 1_000_003 + n), n, step)
                step.latencies[kind].append(time.perf_counter() - scheduled)
            except Failed as exc:
                step.errors[exc.kind] += 1
                step.first_error.setdefault(exc.kind, str(exc))
            except httpx.HTTPError as exc:
                step.errors["transport"] += 1
                step.first_error.setdefault("transport", f"{type(exc).__name__}: {exc}")
            finally:
                in_flight -= 1

        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        for n in range(int(rate * seconds)):
            scheduled = started + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= MAX_IN_FLIGHT:
                step.errors["overload"] += 1
                continue
            tasks.append(asyncio.create_task(one(n, scheduled)))
        await asyncio.gather(*tasks)
        step.elapsed = time.perf_counter() - started
    return step


def visible_ids(base: str, tokens: list[str]) -> dict[str, list[int]]:
    """Each token's first page of cases: the ids its open requests choose from."""
    ids: dict[str, list[int]] = {}
    with httpx.Client(base_url=base, timeout=TIMEOUT) as client:
        for token in tokens:
            r = client.get("/api/v1/cases", params={"operation": "mekong-dragon", "limit": 200},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            r.raise_for_status()
            ids[token] = [c["id"] for c in r.json()["items"]]
    return ids


def print_step(label: str, step: Step) -> None:
    failed = sum(step.errors.values())
    print(f"{label:<16} {step.rate:>7.1f} {step.throughput:>8.1f} {pct(step.all(), 50):>8.0f} "
          f"{pct(step.all(), 95):>8.0f} {step.p99() * 1000:>9.0f} {failed:>7}", flush=True)  # fmt: skip
    for kind, answer in step.first_error.items():
        print(f"    first {kind} error: {answer}")


@dataclass
class Ladder:
    server: str
    kind: str
    steps: list[Step]

    @property
    def sustained(self) -> Step | None:
        """The highest rate whose p99 stayed within the goal, errors counted."""
        good = [s for s in self.steps if s.p99() <= GOAL_P99]
        return max(good, key=lambda s: s.rate) if good else None

    @property
    def crossing(self) -> str:
        """Between the highest rate within the goal and the next rate tested above it."""
        best = self.sustained
        above = [s.rate for s in self.steps if best is None or s.rate > best.rate]
        if not above:
            return f"above {max(s.rate for s in self.steps):g}/s"
        return f"{best.rate:g}-{min(above):g}/s" if best else f"below {min(above):g}/s"


def ladder(base: str, server: str, kind: str, workload: Workload, start: float, seconds: float,
           refine: int) -> Ladder:  # fmt: skip
    """Double the rate from `start` until p99 exceeds the goal at two rates in a row (one spike of a shared
    machine does not end the ladder), then bisect `refine` times between the highest rate within the goal
    and the next rate tested above it."""
    steps: list[Step] = []

    def run(rate: float) -> Step:
        step = asyncio.run(open_loop(base, workload, rate, seconds, seed=7 + len(steps)))
        print_step(f"{server} {kind}", step)
        steps.append(step)
        return step

    rate, over = start, 0
    while over < 2 and rate <= MAX_RATE:
        over = over + 1 if run(rate).p99() > GOAL_P99 else 0
        rate *= 2
    for _ in range(refine):
        good = max((s.rate for s in steps if s.p99() <= GOAL_P99), default=0.0)
        above = [s.rate for s in steps if s.rate > good]
        if not good or not above:
            break
        run(round((good + min(above)) / 2, 1))
    return Ladder(server, kind, steps)


def maintenance_since(url: str, since: dt.datetime) -> str:
    """The tables PostgreSQL's autovacuum vacuumed or analysed since `since` (seconds after it): a pass over a
    large table takes a core from the servers, and every kind of request waits alike."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT relname, n_live_tup, last_autovacuum, last_autoanalyze FROM pg_stat_user_tables "
                 "WHERE last_autovacuum >= :t OR last_autoanalyze >= :t ORDER BY relname"),
            {"t": since},
        ).all()  # fmt: skip
    engine.dispose()
    parts = []
    for name, live, vacuumed, analysed in rows:
        done = [f"{what} at +{(when - since).total_seconds():.0f} s" for what, when in
                (("vacuum", vacuumed), ("analyze", analysed)) if when is not None and when >= since]  # fmt: skip
        parts.append(f"{name} ({live:,} rows): {', '.join(done)}")
    return "; ".join(parts) or "no autovacuum or autoanalyze"


def check_writes(url: str, written: list[str]) -> tuple[int, int, bool]:
    """Acknowledged writes missing from the database, those missing their `case.create` entry in the chain,
    and whether the chain verifies with nothing left staged."""
    engine = make_engine(url)
    with Session(engine) as session:
        found = dict(session.execute(select(Case.case_ref, Case.id).where(Case.case_ref.in_(written))).all())
        audited = set(session.execute(
            select(AuditEvent.object_id).where(AuditEvent.action == "case.create",
                                               AuditEvent.object_id.in_([str(i) for i in found.values()]))
        ).scalars())  # fmt: skip
        result = audit.verify(session)
    engine.dispose()
    return len(set(written) - found.keys()), len(found) - len(audited), result.ok and result.staged == 0


def ladders_of_both(
    args: argparse.Namespace, url: str, tokens: list[str], port: int, base: str, data_dir: Path
) -> tuple[dict[str, list[int]], Step | None]:
    """Steps 2-4: the ladders of both servers for both endpoints, printed with their ratios; the case ids each
    token may open, and dragonnet's sustained list step."""
    print(f"\n{'server kind':<16} {'rate/s':>7} {'done/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>9} {'errors':>7}")
    ladders: dict[tuple[str, str], Ladder] = {}
    ids: dict[str, list[int]] = {}
    for server in SERVERS:
        proc = start_server(server, url, port, args.workers, data_dir)
        try:
            ids = ids or visible_ids(base, tokens)
            for kind in ("list", "open"):
                workload = Workload(tokens, ids, ((kind, 1.0),))
                ladders[server, kind] = ladder(base, server, kind, workload, args.start_rate, args.step_seconds,
                                               args.refine)  # fmt: skip
        finally:
            stop_server(proc)

    print(f"\n{'endpoint':<8} {'server':<10} {'rate at p99<=1s':>16} {'throughput':>11} {'p99 crosses 1 s at':>19}")
    ratios: dict[str, float] = {}
    for kind in ("list", "open"):
        best = {}
        for server in SERVERS:
            lad = ladders[server, kind]
            s = lad.sustained
            best[server] = s.throughput if s else 0.0
            print(f"{kind:<8} {server:<10} {(f'{s.rate:g}/s' if s else 'none'):>16} {best[server]:>9.1f}/s "
                  f"{lad.crossing:>19}")  # fmt: skip
        ratios[kind] = best["dragonnet"] / best["bare"] if best["bare"] else float("nan")
        print(f"{kind:<8} dragonnet / bare throughput at p99 <= 1 s: {ratios[kind]:.2f}x (goal >= 0.5x)")

    sustained_list = ladders["dragonnet", "list"].sustained
    return ids, sustained_list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--start-rate", type=float, default=5, help="arrivals per second of the first step")
    parser.add_argument("--refine", type=int, default=3, help="bisection steps after the doubling")
    parser.add_argument("--step-seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mix-rate", type=float, default=None)
    parser.add_argument("--mix-seconds", type=float, default=180)
    parser.add_argument("--mix-only", action="store_true", help="only step 5, at --mix-rate (no ladders)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.mix_only and not args.mix_rate:
        parser.error("--mix-only needs --mix-rate")
    pg_server = server_url()
    url = build_database(pg_server, args.cases)
    tokens = issue_tokens(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = Path(f"/tmp/dragonnet-load-{port}")
    ids: dict[str, list[int]] = {}
    if not args.mix_only:
        ids, sustained_list = ladders_of_both(args, url, tokens, port, base, data_dir)
        mix_rate = args.mix_rate or max(1.0, (sustained_list.rate if sustained_list else args.start_rate) / 2)
    else:
        mix_rate = args.mix_rate
    proc = start_server("dragonnet", url, port, args.workers, data_dir)
    try:
        ids = ids or visible_ids(base, tokens)
        mix_started = dt.datetime.now(dt.UTC)
        mixed = asyncio.run(open_loop(base, Workload(tokens, ids, MIX), mix_rate, args.mix_seconds, seed=99))
    finally:
        stop_server(proc)
    print(f"\nmixed load on dragonnet, {mix_rate:g} arrivals/s for {args.mix_seconds:g} s "
          f"({', '.join(f'{k} {w:.0%}' for k, w in MIX)}): {mixed.throughput:.1f} answered/s")  # fmt: skip
    print(f"{'kind':<8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>9} {'errors':>7}")
    for kind, _ in MIX:
        v = mixed.all(kind)
        print(f"{kind:<8} {len(v):>7} {pct(v, 50):>8.0f} {pct(v, 95):>8.0f} {mixed.p99(kind) * 1000:>9.0f} "
              f"{mixed.errors.get(kind, 0):>7}")  # fmt: skip
    for kind, answer in mixed.first_error.items():
        print(f"    first {kind} error: {answer}")
    report_vs_list = mixed.p99("report") / mixed.p99("list")
    reports, lists = (mixed.all(k) + [math.inf] * mixed.errors.get(k, 0) for k in ("report", "list"))
    low, high = ratio_interval(reports, lists)
    print(f"report p99 / list p99 under the same load: {report_vs_list:.2f}x (goal <= 2x); 95% bootstrap "
          f"interval {low:.2f}-{high:.2f}x")  # fmt: skip
    print(f"the database's own work during the mixed load: {maintenance_since(url, mix_started)}")
    lost, unaudited, chain_ok = check_writes(url, mixed.written)
    print(f"acknowledged writes: {len(mixed.written)}; lost: {lost}; without their audit entry: {unaudited}; "
          f"audit chain verifies with nothing staged: {chain_ok}")  # fmt: skip
    if not args.keep:
        drop_database(pg_server, url)
    if lost or unaudited or not chain_ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
