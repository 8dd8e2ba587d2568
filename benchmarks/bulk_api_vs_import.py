"""API bulk create of N cases (batches as a client sends them, over HTTP) against the file import of the same cases.

    DRAGONNET_BENCH_POSTGRES_URL=postgresql://USER@HOST:PORT/DB .venv/bin/python benchmarks/bulk_api_vs_import.py \
        [--cases 10000] [--items-per-case 2] [--batch 1000] [--backend postgresql --backend sqlite] [--rounds 5]

Falls back to DRAGONNET_TEST_POSTGRES_URL for PostgreSQL (throwaway databases are created next to the one named
and dropped); SQLite databases live in a temporary folder. For each backend, in the same run:
1. the deterministic exchange-format CSV of `import_vs_copy.generate` (N cases, seeded), and the same cases as the
   JSON bodies an API client sends (case fields and items, `--batch` cases per request, encoded beforehand);
2. **file import**: `import_cases` on the CSV into a migrated database (operation, agency, 20 watchers with 25
   watched containers each), committed;
3. **API bulk create**: a dragonnet server (uvicorn, one worker) on a second database set up the same way; the
   batches POSTed one after the other to /api/v1/cases/bulk with a reporter's API token, each committed.
Both sides are warmed first with the same sample (the file's first 50 cases under other refs: a dry-run import, one
request), so that each loads the reference indexes its cases need (once per process) before it is timed.
Prints both times, the ratio API / file, and checks that both databases hold the same cases and items. Beside the
wall times it prints the CPU seconds each side used (its Python process: this one for the file, the server for the
API; plus the PostgreSQL server's processes when it runs on this machine and its data directory is readable): on a
shared machine the wall times move with the other jobs' load, the CPU seconds much less. With `--rounds N` it
repeats the comparison N times on fresh databases, the file first in odd rounds and the API first in even ones, and
prints the median ratios: one round's ratio moves with the machine's speed between its two halves.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_vs_copy import generate, prepare, process_cpu, server_url, throwaway_databases
from load_test import free_port, start_server, stop_server

from dragonnet.intake.forms import CASE_FIELDS, ITEM_FIELDS
from dragonnet.intake.importer import import_cases
from dragonnet.policy.access import Actor
from dragonnet.policy.audit import AuditActor
from dragonnet.policy.tokens import create_token
from dragonnet.policy.users import create_user
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import Case, Item


def client_batches(path: Path, batch: int) -> list[bytes]:
    """The CSV's cases as an API client sends them: JSON bodies of `batch` cases each (empty cells left out)."""
    cases: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            case = cases.get(row["case_ref"])
            if case is None:
                case = cases[row["case_ref"]] = {c: row[c] for c in CASE_FIELDS if row.get(c)}
                case["items"] = []
            case["items"].append({c: row[c] for c in ITEM_FIELDS if row.get(c)})
    listed = list(cases.values())
    return [
        json.dumps({"operation": "mekong-dragon", "cases": listed[i : i + batch]}).encode()
        for i in range(0, len(listed), batch)
    ]


def warm_sample(path: Path, warm: Path, cases: int = 50) -> None:
    """The first `cases` cases of the CSV under refs of their own (W-...): the warm-up of both sides."""
    with path.open(encoding="utf-8", newline="") as f, warm.open("w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        refs: set[str] = set()
        for row in reader:
            if row["case_ref"] not in refs and len(refs) == cases:
                break
            refs.add(row["case_ref"])
            writer.writerow({**row, "case_ref": "W" + row["case_ref"][1:]})


def postgres_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each process of the local PostgreSQL server (postmaster and children); empty for SQLite,
    or when the server is not on this machine or its data directory is not readable here (no figure then)."""
    if not url.startswith("postgresql"):
        return {}
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            folder = Path(conn.execute(text("SHOW data_directory")).scalar_one())
        postmaster = int((folder / "postmaster.pid").read_text().split()[0])
    except Exception:  # a remote server, or a data directory this user may not read
        return {}
    finally:
        engine.dispose()
    used = {postmaster: process_cpu(postmaster)}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                used[int(stat.parent.name)] = process_cpu(int(stat.parent.name))
        except (OSError, ValueError):  # a process that ended meanwhile
            continue
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings (a process started in between counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def reporter_token(url: str) -> str:
    engine = make_engine(url)
    with Session(engine) as s:
        user = create_user(s, username="bulk.reporter", password="bench-Pa55word-long", agency_code="VN-CUS",
                           roles=["reporter"], enforce_policy=False)  # fmt: skip
        raw, _ = create_token(s, Actor.for_user(user), user, name="bulk bench", scope="write", days=1)
        s.commit()
    engine.dispose()
    return raw


def stored(url: str) -> tuple[int, int, float]:
    engine = make_engine(url)
    with Session(engine) as s:
        cases = s.execute(select(func.count()).select_from(Case).where(Case.case_ref.like("B-%"))).scalar_one()
        items = s.execute(
            select(func.count(), func.coalesce(func.sum(Item.mass_kg), 0)).join(Case).where(Case.case_ref.like("B-%"))
        ).one()
    engine.dispose()
    return cases, items[0], round(float(items[1]), 3)


@contextmanager
def databases(backend: str, tmp: Path, round_no: int = 1, count: int = 2) -> Iterator[list[str]]:
    """`count` fresh database URLs of the backend (dropped afterwards on PostgreSQL): the file's, then the API's."""
    if backend == "sqlite":
        yield [f"sqlite:///{tmp / f'round{round_no}-{n}.db'}" for n in range(1, count + 1)]
        return
    with throwaway_databases(server_url(), "dragonnet_bulk", count) as urls:
        yield urls


@dataclass(frozen=True)
class Timed:
    """One side's figures: wall seconds, its Python process's CPU seconds, the PostgreSQL server's CPU seconds."""

    wall: float
    cpu: float
    server_cpu: float

    @property
    def all_cpu(self) -> float:
        return self.cpu + self.server_cpu


def time_file(url: str, path: Path, warm: Path, cases: int, rows: int) -> Timed:
    """The file import of `path` into a prepared database, committed (after a dry run of the warm sample)."""
    engine = prepare(url)
    with Session(engine) as s:
        import_cases(s, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=AuditActor(None, "bench",
                     "VN-CUS"), file_path=warm, dry_run=True)  # fmt: skip
    p0 = postgres_cpu(url)  # first: its own connection is not the import's work
    t0, c0 = time.perf_counter(), process_cpu(os.getpid())
    with Session(engine) as s:
        report = import_cases(s, operation_slug="mekong-dragon", agency_code="VN-CUS",
                              actor=AuditActor(None, "bench", "VN-CUS"), file_path=path,
                              max_bytes=path.stat().st_size + 1, max_rows=rows)  # fmt: skip
        s.commit()
    timed = Timed(time.perf_counter() - t0, process_cpu(os.getpid()) - c0, cpu_used(p0, postgres_cpu(url)))
    engine.dispose()
    assert report.cases_created == cases and report.rows_rejected == 0, report.errors[:3]
    return timed


def time_api(url: str, tmp: Path, warm: Path, bodies: list[bytes], batch: int) -> tuple[Timed, int]:
    """The bodies POSTed one after the other to a fresh server (one worker) on a prepared database, after one
    warm-up request; the figures and the number of cases created."""
    prepare(url).dispose()
    token = reporter_token(url)
    port = free_port()
    server = start_server("dragonnet", url, port, 1, tmp)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600, headers=headers) as client:
            (warm_body,) = client_batches(warm, batch)
            assert client.post("/api/v1/cases/bulk", content=warm_body).status_code == 200
            created = 0
            p0 = postgres_cpu(url)
            t0, c0 = time.perf_counter(), process_cpu(server.pid)
            for body in bodies:
                response = client.post("/api/v1/cases/bulk", content=body)
                assert response.status_code == 200, response.text[:500]
                created += response.json()["created"]
            timed = Timed(time.perf_counter() - t0, process_cpu(server.pid) - c0, cpu_used(p0, postgres_cpu(url)))
    finally:
        stop_server(server)
    return timed, created


def run(backend: str, cases: int, per_case: int, batch: int, rounds: int) -> None:
    """`rounds` rounds, each on two fresh databases; the file goes first in odd rounds and the API in even ones,
    so that a change of the machine's speed during a run does not always fall on the same side."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        path, warm = tmp / "cases.csv", tmp / "warm.csv"
        generate(path, cases * per_case, per_case)
        warm_sample(path, warm)
        bodies = client_batches(path, batch)
        print(f"{backend}: {cases:,} cases, {cases * per_case:,} items, {len(bodies)} requests of {batch}")
        ratios: list[float] = []
        cpu_ratios: list[float] = []
        for n in range(1, rounds + 1):
            with databases(backend, tmp, n) as (file_url, api_url):
                if n % 2:
                    file = time_file(file_url, path, warm, cases, cases * per_case)
                    api, created = time_api(api_url, tmp, warm, bodies, batch)
                else:
                    api, created = time_api(api_url, tmp, warm, bodies, batch)
                    file = time_file(file_url, path, warm, cases, cases * per_case)
                assert created == cases, f"the API created {created} of {cases} cases"
                same = stored(file_url) == stored(api_url)
            ratios.append(api.wall / file.wall)
            cpu_ratios.append(api.all_cpu / file.all_cpu)
            first = "file" if n % 2 else "API"
            print(f"  round {n} ({first} first): file {file.wall:.2f} s ({cases / file.wall:,.0f} cases/s), "
                  f"API {api.wall:.2f} s ({cases / api.wall:,.0f} cases/s): ratio API / file {ratios[-1]:.2f}x; "
                  f"same cases, items and masses stored: {same}")  # fmt: skip
            print(f"    CPU seconds, Python process + PostgreSQL server: file {file.cpu:.2f} + "
                  f"{file.server_cpu:.2f} s, API {api.cpu:.2f} + {api.server_cpu:.2f} s, ratio {cpu_ratios[-1]:.2f}x   "
                  f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        if rounds > 1:
            print(f"  median of {rounds} rounds: ratio API / file {statistics.median(ratios):.2f}x "
                  f"({min(ratios):.2f}-{max(ratios):.2f}x), CPU ratio {statistics.median(cpu_ratios):.2f}x "
                  f"({min(cpu_ratios):.2f}-{max(cpu_ratios):.2f}x)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--items-per-case", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--backend", action="append", choices=["postgresql", "sqlite"])
    parser.add_argument("--rounds", type=int, default=1, help="rounds on fresh databases, the order alternated")
    args = parser.parse_args()
    for backend in args.backend or ["postgresql", "sqlite"]:
        run(backend, args.cases, args.items_per_case, args.batch, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
