"""Case import (full validation + normalisation, into PostgreSQL) against raw PostgreSQL COPY of the same CSV.

    DRAGONNET_BENCH_POSTGRES_URL=postgresql://USER@HOST:PORT/DB .venv/bin/python benchmarks/import_vs_copy.py \
        [--rows 1000000] [--items-per-case 4] [--rounds 5]

Falls back to DRAGONNET_TEST_POSTGRES_URL. Creates a throwaway database next to the one named (the user must
be allowed to create databases), generates a deterministic exchange-format CSV (seeded), then in the same run:
1. `import_cases` (read, header mapping, vectorised normalisation against the reference data, atomic write,
   audit entry) into the migrated schema, committed;
2. `COPY bare FROM STDIN (FORMAT csv, HEADER)` of the same file into a table of text columns (the issue's
   baseline);
3. the schema floor: COPY of the rows the import wrote (cases, items, transits) into a second database with
   the same schema, keys, indexes and triggers - what PostgreSQL itself needs to store them.
Prints the times and the ratios, and drops both databases. With `--rounds N` it does it all N times on fresh
databases and prints the median ratios (the floor alone moves by a third between runs on a shared machine).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dragonnet import hooks
from dragonnet.domain.identifiers import iso6346_check_digit
from dragonnet.intake.headers import ITEM_COLUMNS
from dragonnet.intake.importer import import_cases
from dragonnet.messaging import watchlists
from dragonnet.operation import service
from dragonnet.policy.access import Actor
from dragonnet.policy.audit import AuditActor
from dragonnet.policy.users import create_user
from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.messaging_models import WatchlistHit
from dragonnet.storage.migrate import upgrade

DRUGS = ["methamphetamine", "ICE", "ya ba", "heroin", "ketamine HCl", "cannabis", "cocaine", "MDMA"]
PRECURSORS = ["P2P", "ephedrine", "pseudoephedrine", "safrole", "acetic anhydride"]
TAXA = ["Manis javanica", "pangolin scales", "Elephas maximus", "ivory", "Dalbergia cochinchinensis",
        "Pterocarpus santalinus", "Python bivittatus", "Panthera tigris"]  # fmt: skip
PLACES = [("VNHPH", "VN"), ("VNSGN", "VN"), ("VNHAN", "VN"), ("", "VN"), ("", "Viet Nam"), ("", "Vietnam")]
COUNTRIES = ["LA", "KH", "TH", "CN", "MM", "Laos", "China", "MY"]
MODES = ["sea_container", "air_passenger", "road", "postal", "express_courier", "truck", "container"]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far (Linux /proc); OSError when it cannot be read."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float | None:
    """CPU seconds a PostgreSQL backend process has used (user + system), when the server runs on this machine:
    unlike wall-clock time, it does not grow with the machine's load, so the server's work on the import's COPY
    streams compares with its work on the floor's even while other jobs run. None when it cannot be read."""
    try:
        return process_cpu(pid)
    except OSError:
        return None


def _cpu_text(seconds: float | None) -> str:
    return "n/a (server not local)" if seconds is None else f"{seconds:.1f} s"


def _since(start: float | None, pid: int) -> float | None:
    now = backend_cpu(pid)
    return None if start is None or now is None else now - start


def watched_container(n: int) -> str:
    """The n-th container number on the benchmark's watchlists (even ones appear in the generated file)."""
    owner = f"MSKU{n * 7919 % 10**6:06d}" if n % 2 == 0 else f"TGHU{n:06d}"
    return owner + str(iso6346_check_digit(owner))


class ListenerTimer:
    """Times the listeners of `hooks.cases_written` (the watchlist check) inside the import: a pluggy wrapper
    around them, registered for the run, so the hook's share is printed apart from the rest of the import."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @hooks.hookimpl(wrapper=True)
    def cases_written(self, session: Session, written: hooks.CasesWritten) -> Generator[None, int, int]:
        t0 = time.perf_counter()
        try:
            return (yield)
        finally:
            self.seconds += time.perf_counter() - t0


def generate(path: Path, rows: int, per_case: int, seed: int = 2023) -> None:
    """A deterministic CSV of `rows` item rows, `per_case` items per case, all valid (the realistic case)."""
    rng = random.Random(seed)
    start = dt.date(2023, 4, 15)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(ITEM_COLUMNS)
        case = 0
        written = 0
        while written < rows:
            case += 1
            day = (start + dt.timedelta(days=rng.randrange(215))).isoformat()
            locode, country = rng.choice(PLACES)
            mode = rng.choice(MODES)
            origin = rng.choice(COUNTRIES)
            transit = ";".join(rng.sample(COUNTRIES[:5], rng.randrange(3)))
            owner = f"MSKU{rng.randrange(10**6):06d}"  # a valid ISO 6346 number (the import checks its digit)
            watched = watched_container((case // 1000) % 500)
            conveyance = owner + str(iso6346_check_digit(owner)) if case % 1000 else watched
            arrests = str(rng.randrange(3))
            for _ in range(min(per_case, rows - written)):
                klass = rng.choice(["drug", "drug", "precursor", "wildlife", "timber"])
                substance = (
                    rng.choice(DRUGS) if klass == "drug" else rng.choice(PRECURSORS) if klass == "precursor" else ""
                )
                taxon = rng.choice(TAXA) if klass in ("wildlife", "timber") else ""
                unit = rng.choice(["kg", "g", "pieces"]) if klass != "timber" else "m3"
                qty = f"{rng.uniform(0.1, 500):.2f}".replace(".", "," if rng.random() < 0.2 else ".")
                row = {
                    "case_ref": f"B-{case:07d}", "reporting_agency": "VN-CUS", "seizure_date": day,
                    "place_locode": locode, "place_country": country, "transport_mode": mode,
                    "conveyance_ref": conveyance, "commodity_class": klass,
                    "substance": substance, "taxon": taxon, "quantity": qty, "unit": unit, "origin_country": origin,
                    "transit_countries": transit, "destination_country": "VN", "arrests": arrests,
                    "sharing_level": "amber",
                }  # fmt: skip
                w.writerow([row.get(c, "") for c in ITEM_COLUMNS])
                written += 1


def prepare(url: str) -> Engine:
    """The migrated schema with the operation, the agency and 20 watchlist owners (same ids in every database)."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        op = service.create_operation(
            s, slug="mekong-dragon", name="Mekong Dragon", description="", scope=["drug"],
            phases=[service.PhaseSpec(5, dt.date(2023, 4, 15), dt.date(2023, 11, 16),
                                      ("drug", "precursor", "wildlife", "timber"))],
        )  # fmt: skip
        vn = service.add_agency(s, code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN")
        service.add_participant(s, op, vn, "member")
        s.commit()
        # Watchlists as in a running operation: 20 analysts watching 25 containers each (some appear in the
        # file), so the import's watchlist check does real work.
        for n in range(20):
            user = create_user(s, username=f"watcher{n}", password="bench-Pa55word-long", agency_code="VN-CUS",
                               roles=["national_coordinator"], enforce_policy=False)  # fmt: skip
            for k in range(25):
                watchlists.add_entry(s, Actor.for_user(user), "container", watched_container(n * 25 + k))
        s.commit()
    return engine


# Every table the import writes a row per case or item in: the cases, their items and transit countries, and the
# import's list of its cases (what "see the cases of this import" reads; counted since 2026-12-06).
WRITTEN = ("cases", "items", "case_transits", "case_imports", "case_import_cases")


def schema_floor(engine: Engine, floor_url: str) -> tuple[float, float | None]:
    """Seconds to COPY the rows the import wrote (cases, items, transits, ids included) into a second database
    with the same schema, keys, indexes and triggers: what PostgreSQL itself needs to store them; and the CPU
    seconds its backend spent on it (None when the server is not on this machine)."""
    dumps: dict[str, tuple[str, bytes]] = {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table in WRITTEN:
            cur.execute(f"SELECT * FROM {table} LIMIT 0")
            columns = ", ".join(f'"{d[0]}"' for d in cur.description)
            buf = bytearray()
            with cur.copy(f"COPY {table} ({columns}) TO STDOUT") as copy:
                for block in copy:
                    buf += block
            dumps[table] = (columns, bytes(buf))
    finally:
        raw.close()
    floor = prepare(floor_url)
    raw = floor.raw_connection()
    try:
        cur = raw.cursor()
        pid = raw.driver_connection.info.backend_pid  # type: ignore[union-attr]
        cpu0 = backend_cpu(pid)
        t0 = time.perf_counter()
        per_table = []
        for table in WRITTEN:
            columns, data = dumps[table]
            t_table = time.perf_counter()
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for i in range(0, len(data), 1 << 20):
                    copy.write(data[i : i + (1 << 20)])
            per_table.append(f"{table} {time.perf_counter() - t_table:.2f} s")
        raw.commit()
        elapsed = time.perf_counter() - t0
        server = _since(cpu0, pid)
        print(f"  schema floor by table: {', '.join(per_table)}; commit included in the total")
    finally:
        raw.close()
        floor.dispose()
    return elapsed, server


def server_url() -> str:
    """The PostgreSQL server the benchmarks create their throwaway databases on (the user must be allowed to
    create databases); a clear error without one."""
    url = os.environ.get("DRAGONNET_BENCH_POSTGRES_URL") or os.environ.get("DRAGONNET_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("error: set DRAGONNET_BENCH_POSTGRES_URL (or DRAGONNET_TEST_POSTGRES_URL; "
                         "scripts/pg-throwaway.sh start prints one)")  # fmt: skip
    return url


@contextmanager
def throwaway_databases(base: str, prefix: str, count: int = 1) -> Iterator[list[str]]:
    """`count` empty databases on `base`'s server (`PREFIX_<random>`, then `_2`, `_3`...), dropped afterwards
    whatever happens; yields their URLs."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    names = [name] + [f"{name}_{i}" for i in range(2, count + 1)]
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    try:
        for n in names:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{n}"'))
        yield [make_url(normalise_url(base)).set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for n in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--items-per-case", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="rounds on fresh databases; the medians are printed")
    args = parser.parse_args()
    ratios: list[tuple[float, float | None]] = []
    for n in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"--- round {n} of {args.rounds}")
        with throwaway_databases(server_url(), "dragonnet_bench", 2) as (url, floor_url):
            ratios.append(run(url, floor_url, args.rows, args.items_per_case))
    if args.rounds > 1:
        walls = [wall for wall, _ in ratios]
        cpus = [cpu for _, cpu in ratios if cpu is not None]
        print(
            f"median of {args.rounds} rounds: import / schema floor {statistics.median(walls):.2f}x "
            f"({min(walls):.2f}-{max(walls):.2f}x)"
            + (f"; CPU ratio {statistics.median(cpus):.2f}x ({min(cpus):.2f}-{max(cpus):.2f}x)" if cpus else "")
        )
    return 0


def run(url: str, floor_url: str, rows: int, items_per_case: int) -> tuple[float, float | None]:
    """The timed steps: import, bare COPY and schema floor, each printed with the ratios; returns the import's
    ratio to the floor in wall time and in CPU time (None when the server's CPU cannot be read here)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.csv"
        t0 = time.perf_counter()
        generate(path, rows, items_per_case)
        size = path.stat().st_size
        print(f"generated {rows:,} item rows ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
        engine = prepare(url)
        # The reference tables (CITES names, places, UN/LOCODE...) load once per process: a server has them
        # after its first import, a CLI import pays them each time. A dry run of the file's first rows loads
        # exactly what the import reads; it is timed apart and both ratios are printed.
        warm_path = Path(tmp) / "warm.csv"
        with path.open(encoding="utf-8") as src, warm_path.open("w", encoding="utf-8") as dst:
            dst.writelines(line for _, line in zip(range(50), src, strict=False))
        t0 = time.perf_counter()
        with Session(engine) as s:
            import_cases(s, operation_slug="mekong-dragon", agency_code="VN-CUS",
                         actor=AuditActor(None, "bench", "VN-CUS"), file_path=warm_path, dry_run=True,
                         today=dt.date(2024, 1, 1))  # fmt: skip
        t_reference = time.perf_counter() - t0
        print(f"reference tables loaded (once per process, a 49-row dry run): {t_reference:.1f} s")

        timer = ListenerTimer()
        hooks.manager().register(timer, name="bench-timer")
        t0, c0 = time.perf_counter(), time.process_time()
        with Session(engine) as s:
            pid = s.connection().connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
            cpu0 = backend_cpu(pid)
            report = import_cases(s, operation_slug="mekong-dragon", agency_code="VN-CUS",
                                  actor=AuditActor(None, "bench", "VN-CUS"), file_path=path,
                                  max_bytes=size + 1, max_rows=rows,
                                  today=dt.date(2024, 1, 1))  # fmt: skip
            s.commit()
            server_import = _since(cpu0, pid)
        t_import, client_import = time.perf_counter() - t0, time.process_time() - c0
        hooks.manager().unregister(name="bench-timer")
        with Session(engine) as s:
            hits = s.execute(select(func.count()).select_from(WatchlistHit)).scalar_one()
        print(f"import: {t_import:.1f} s  ({report.rows_imported:,} rows, {report.cases_created:,} cases, "
              f"{report.rows_rejected:,} rejected, {hits:,} watchlist hits)")  # fmt: skip
        print(f"  of which the cases_written listeners (the watchlist check): {timer.seconds:.2f} s")
        print(f"  CPU: this process {client_import:.1f} s (Polars' threads included), the PostgreSQL backend "
              f"{_cpu_text(server_import)}")  # fmt: skip
        if report.errors:
            print("  first errors:", [str(e) for e in report.errors[:3]])

        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cols = ", ".join(f'"{c}" text' for c in ITEM_COLUMNS)
            cur.execute(f"CREATE TABLE bare ({cols})")
            raw.commit()
            t0 = time.perf_counter()
            with path.open("rb") as f, cur.copy("COPY bare FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            raw.commit()
            t_copy = time.perf_counter() - t0
            cur.execute("SELECT count(*) FROM bare")
            copied = cur.fetchone()[0]
        finally:
            raw.close()
        print(f"COPY:   {t_copy:.1f} s  ({copied:,} rows)")
        t_floor, server_floor = schema_floor(engine, floor_url)
        print(f"schema floor: {t_floor:.1f} s  (COPY of the rows the import wrote into the same schema; "
              f"PostgreSQL backend CPU {_cpu_text(server_floor)})")  # fmt: skip
        print(f"ratio import / COPY: {t_import / t_copy:.2f}x")
        print(f"ratio import / schema floor: {t_import / t_floor:.2f}x  (floor / COPY: {t_floor / t_copy:.2f}x)")
        print(f"ratio (import + reference load) / schema floor: {(t_import + t_reference) / t_floor:.2f}x  "
              "(a process that imports once)")  # fmt: skip
        if server_import is not None and server_floor:
            print(f"ratio of CPU, (import's process + its backend) / floor's backend: "
                  f"{(client_import + server_import) / server_floor:.2f}x; backends alone: "
                  f"{server_import / server_floor:.2f}x  (CPU time does not grow with the machine's load)")  # fmt: skip
        engine.dispose()
        known = server_import is not None and server_floor
        cpu_ratio = (client_import + server_import) / server_floor if known else None  # type: ignore[operator]
        return t_import / t_floor, cpu_ratio


if __name__ == "__main__":
    raise SystemExit(main())
