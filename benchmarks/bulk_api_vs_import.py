"""API bulk create of N cases (batches as a client sends them, over HTTP) against the file import of the same cases.

    DRAGONNET_BENCH_POSTGRES_URL=postgresql://USER@HOST:PORT/DB .venv/bin/python benchmarks/bulk_api_vs_import.py \
        [--cases 10000] [--items-per-case 2] [--batch 1000] [--backend postgresql --backend sqlite]

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
shared machine the wall times move with the other jobs' load, the CPU seconds much less.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
def databases(backend: str, tmp: Path) -> Iterator[list[str]]:
    """Two fresh database URLs of the backend (dropped afterwards on PostgreSQL)."""
    if backend == "sqlite":
        yield [f"sqlite:///{tmp / 'file.db'}", f"sqlite:///{tmp / 'api.db'}"]
        return
    with throwaway_databases(server_url(), "dragonnet_bulk", 2) as urls:
        yield urls


def run(backend: str, cases: int, per_case: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        path, warm = tmp / "cases.csv", tmp / "warm.csv"
        generate(path, cases * per_case, per_case)
        warm_sample(path, warm)
        bodies = client_batches(path, batch)
        with databases(backend, tmp) as (file_url, api_url):
            # File import.
            engine = prepare(file_url)
            with Session(engine) as s:
                import_cases(s, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=AuditActor(None, "bench",
                             "VN-CUS"), file_path=warm, dry_run=True)  # fmt: skip
            p0 = postgres_cpu(file_url)  # first: its own connection is not the import's work
            t0, c0 = time.perf_counter(), process_cpu(os.getpid())
            with Session(engine) as s:
                report = import_cases(s, operation_slug="mekong-dragon", agency_code="VN-CUS",
                                      actor=AuditActor(None, "bench", "VN-CUS"), file_path=path,
                                      max_bytes=path.stat().st_size + 1, max_rows=cases * per_case)  # fmt: skip
                s.commit()
            t_file = time.perf_counter() - t0
            cpu_file, pg_file = process_cpu(os.getpid()) - c0, cpu_used(p0, postgres_cpu(file_url))
            engine.dispose()
            assert report.cases_created == cases and report.rows_rejected == 0, report.errors[:3]

            # API bulk create, over HTTP.
            prepare(api_url).dispose()
            token = reporter_token(api_url)
            port = free_port()
            server = start_server("dragonnet", api_url, port, 1, tmp)
            try:
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600, headers=headers) as client:
                    (warm_body,) = client_batches(warm, batch)
                    assert client.post("/api/v1/cases/bulk", content=warm_body).status_code == 200
                    created = 0
                    p0 = postgres_cpu(api_url)
                    t0, c0 = time.perf_counter(), process_cpu(server.pid)
                    for body in bodies:
                        response = client.post("/api/v1/cases/bulk", content=body)
                        assert response.status_code == 200, response.text[:500]
                        created += response.json()["created"]
                    t_api = time.perf_counter() - t0
                    cpu_api, pg_api = process_cpu(server.pid) - c0, cpu_used(p0, postgres_cpu(api_url))
            finally:
                stop_server(server)
            assert created == cases, f"the API created {created} of {cases} cases"
            same = stored(file_url) == stored(api_url)
            print(f"{backend}: {cases:,} cases, {cases * per_case:,} items, {len(bodies)} requests of {batch}")
            print(f"  file import:     {t_file:6.1f} s  ({cases / t_file:,.0f} cases/s)")
            print(f"  API bulk create: {t_api:6.1f} s  ({cases / t_api:,.0f} cases/s)")
            print(f"  ratio API / file: {t_api / t_file:.2f}x   same cases, items and masses stored: {same}")
            print(
                f"  CPU seconds, Python process + PostgreSQL server: file {cpu_file:.2f} + {pg_file:.2f} s, "
                f"API {cpu_api:.2f} + {pg_api:.2f} s, ratio {(cpu_api + pg_api) / (cpu_file + pg_file):.2f}x   "
                f"load average {os.getloadavg()[0]:.1f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--items-per-case", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--backend", action="append", choices=["postgresql", "sqlite"])
    args = parser.parse_args()
    for backend in args.backend or ["postgresql", "sqlite"]:
        run(backend, args.cases, args.items_per_case, args.batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
