"""Load test (reliability battery, item 4): concurrent users on PostgreSQL with a large case table.

    python benchmarks/load_test.py [--cases 1000000] [--users 200] [--seconds 60] [--workers 2]

1. Builds a fresh PostgreSQL database: the demo operation (agencies, users), then `--cases` extra cases
   with one item each, generated server-side with generate_series (fast, not through the API).
2. Serves dragonnet with uvicorn on 127.0.0.1 (a free port; loopback only).
3. Runs `--users` virtual users for `--seconds` (bounded in time and count), each with an API token of a
   demo user, doing a realistic mix: list cases (45%), open a case (25%), report a case (10%), poll the
   inbox for alerts (20%).
4. Prints throughput, p50/p95/p99 latency per kind and the error rate, then checks that every write the
   server acknowledged (201) is in the database: lost writes must be 0.

PostgreSQL: $DRAGONNET_BENCH_POSTGRES_URL, else $DRAGONNET_TEST_POSTGRES_URL (a server where the user may
create databases; `scripts/pg-throwaway.sh start` gives one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dragonnet.demo import build_demo
from dragonnet.policy.access import Actor
from dragonnet.policy.tokens import create_token
from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Case, Phase, User

MIX = (("list", 0.45), ("open", 0.25), ("report", 0.10), ("inbox", 0.20))
REPORTERS = ("vn.reporter", "th.reporter", "cn.reporter", "my.reporter", "vn.coordinator", "th.coordinator")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_database(server_url: str, cases: int) -> str:
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"dragonnet_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(normalise_url(server_url)).set(database=name).render_as_string(hide_password=False)
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
        conn.execute(text("ANALYZE"))
    with Session(engine) as session:
        total = session.execute(select(func.count()).select_from(Case)).scalar_one()
    print(f"database {name}: {total:,} cases, built in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return url


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


def start_server(url: str, port: int, workers: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DRAGONNET_DATABASE_URL": url, "DRAGONNET_DATA_DIR": str(data_dir),
           "DRAGONNET_SECRET_KEY": "load-test-secret"}  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "dragonnet.app:create_app", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


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


async def virtual_user(
    base: str, token: str, until: float, rng: random.Random, stats: dict[str, list[float]],
    errors: dict[str, int], written: list[str],
) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[int] = []
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        n = 0
        while time.monotonic() < until:
            kind = rng.choices(kinds, weights)[0]
            if kind == "open" and not seen:
                kind = "list"
            n += 1
            started = time.perf_counter()
            r: httpx.Response | None = None
            failure = ""
            try:
                if kind == "list":
                    r = await client.get("/api/v1/cases", params={"operation": "mekong-dragon", "limit": 50})
                    ok = r.status_code == 200
                    if ok:
                        seen = [c["id"] for c in r.json()["items"]][:50] or seen
                elif kind == "open":
                    r = await client.get(f"/api/v1/cases/{rng.choice(seen)}")
                    ok = r.status_code == 200
                elif kind == "report":
                    body = payload(rng, n)
                    r = await client.post("/api/v1/cases", json=body)
                    ok = r.status_code == 201
                    if ok:
                        written.append(str(body["case_ref"]))
                else:
                    r = await client.get("/api/v1/inbox")
                    ok = r.status_code == 200
            except httpx.HTTPError as exc:
                ok = False
                failure = f"{type(exc).__name__}: {exc}"
            stats[kind].append(time.perf_counter() - started)
            if not ok:
                errors[kind] += 1
                if errors[kind] == 1:
                    answer = f"{r.status_code} {r.text[:300]}" if r is not None else f"no answer ({failure})"
                    print(f"first {kind} error: {answer}")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) >= 2 else float("nan")


async def run_load(base: str, tokens: list[str], users: int, seconds: float, seed: int) -> tuple[
    dict[str, list[float]], dict[str, int], list[str]
]:  # fmt: skip
    stats: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    written: list[str] = []
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(virtual_user(base, tokens[i % len(tokens)], until, random.Random(seed + i), stats, errors, written)
          for i in range(users))
    )  # fmt: skip
    return stats, errors, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    server = os.environ.get("DRAGONNET_BENCH_POSTGRES_URL") or os.environ.get("DRAGONNET_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("set DRAGONNET_BENCH_POSTGRES_URL (scripts/pg-throwaway.sh start prints one)")
    url = build_database(server, args.cases)
    tokens = issue_tokens(url)
    port = free_port()
    data_dir = Path(f"/tmp/dragonnet-load-{port}")
    proc = start_server(url, port, args.workers, data_dir)
    try:
        started = time.perf_counter()
        stats, errors, written = asyncio.run(
            run_load(f"http://127.0.0.1:{port}", tokens, args.users, args.seconds, seed=7)
        )
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    total = sum(len(v) for v in stats.values())
    failed = sum(errors.values())
    print(f"\n{args.users} users, {elapsed:.0f} s, {args.cases:,} extra cases, {args.workers} server workers")
    print(f"throughput: {total / elapsed:.1f} requests/s; errors: {failed} of {total} ({failed / max(total, 1):.2%})")
    print(f"{'kind':<8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind, _ in MIX:
        v = stats.get(kind, [])
        print(
            f"{kind:<8} {len(v):>7} {pct(v, 50):>8.0f} {pct(v, 95):>8.0f} {pct(v, 99):>8.0f} {errors.get(kind, 0):>7}"
        )
    engine = make_engine(url)
    with Session(engine) as session:
        found = set(
            session.execute(select(Case.case_ref).where(Case.case_ref.in_(written))).scalars()
        ) if written else set()  # fmt: skip
    lost = len(set(written) - found)
    print(f"acknowledged writes: {len(written)}; found afterwards: {len(found)}; lost: {lost}")
    engine.dispose()
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
    if lost:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
