"""Benchmark: the debrief of an operation with 1,000,000 cases against a hand-written DuckDB query.

    .venv/bin/python benchmarks/debrief_1m.py [--cases 1000000] [--repeat 3] [--keep DIR]

1. Builds a migrated SQLite database with one operation (5 phases, 20 agencies) and N cases (about 1.2 items
   and 0.5 transit countries per case), generated in DuckDB and written with executemany (no ORM).
2. Times `reporting.service.compute_debrief` for phase V over the whole operation: the SQLAlchemy extract
   into Arrow, then the DuckDB breakdowns.
3. In the same run, times hand-written DuckDB SQL computing the same breakdowns over the same rows already
   in DuckDB (no extract, no policy), checks that the headline figures agree, and prints the ratios.
4. `--repeat N` warm pairs: the debrief again on one engine whose reader is already open (SQLite: its reader
   child running, as in a server), each followed at once by the hand-written query, so both terms of each
   ratio ran under the same load on a shared machine; prints each pair's ratio and their median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy.orm import Session

from dragonnet.operation.service import PhaseSpec, add_agency, add_participant, create_operation, get_operation
from dragonnet.reporting import breakdowns, concealment, rules
from dragonnet.reporting.breakdowns import Computed
from dragonnet.reporting.extract import Extract, extract, scope_for
from dragonnet.reporting.service import find_phase
from dragonnet.storage.arrow import arrow_reader
from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade

COUNTRIES = ["VN", "CN", "TH", "LA", "KH", "MY", "SG", "ID", "AU", "NZ", "KR", "IN", "BD", "LK", "NP", "MN", "HK",
             "PH", "MM", "NG"]  # fmt: skip
PHASES = [
    PhaseSpec(1, dt.date(2019, 1, 1), dt.date(2019, 6, 30), ("drug",)),
    PhaseSpec(2, dt.date(2020, 1, 1), dt.date(2020, 6, 30), ("drug", "wildlife")),
    PhaseSpec(3, dt.date(2021, 1, 1), dt.date(2021, 6, 30), ("drug", "wildlife")),
    PhaseSpec(4, dt.date(2022, 1, 1), dt.date(2022, 6, 30), ("drug", "wildlife", "timber")),
    PhaseSpec(5, dt.date(2023, 1, 1), dt.date(2023, 6, 30), ("drug", "precursor", "wildlife", "timber")),
]
TEXTS = ["in a false floor of the container", "inside shoe soles", "in a hidden compartment of a truck",
         "body-packed (swallowed pellets)", "in parcels declared as clothing", "in the hold of a fishing boat",
         "in cartons of dried fruit", "logs declared as wood chips", "wrapped in foil"]  # fmt: skip


def build(url: str, folder: Path, n: int) -> duckdb.DuckDBPyConnection:
    """A migrated database at `url` with the operation, its agencies and `n` generated cases."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        op = create_operation(s, slug="bench", name="Benchmark", description="", scope=["drug"], phases=PHASES)
        for c in COUNTRIES:
            add_participant(s, op, add_agency(s, code=f"{c}-CUS", name=f"{c} customs", kind="customs", country=c),
                            "member")  # fmt: skip
        s.commit()
        phase_ids = [p.id for p in sorted(op.phases, key=lambda p: p.number)]
    engine.dispose()
    duck = duckdb.connect(":memory:")
    countries = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    texts = "[" + ", ".join(f"'{t}'" for t in TEXTS) + "]"
    starts = "[" + ", ".join(f"DATE '{p.start_date}'" for p in PHASES) + "]"
    duck.execute(f"""
        CREATE TABLE cases AS
        WITH g AS (SELECT i, hash(i) AS h, 1 + (hash(i * 7) % 100 >= 10)::INT + (hash(i * 7) % 100 >= 25)::INT
                          + (hash(i * 7) % 100 >= 45)::INT + (hash(i * 7) % 100 >= 70)::INT AS ph
                   FROM range(1, {n} + 1) t(i))
        SELECT i AS id, 1 AS operation_id, {phase_ids}[ph] AS phase_id, 1 + (h % 20)::INT AS reporting_agency_id,
               'C-' || i AS case_ref,
               ['validated', 'validated', 'validated', 'submitted', 'merged', 'draft'][1 + (h // 7 % 6)::INT] AS status,
               ['green', 'amber', 'clear', 'red'][1 + (h // 11 % 4)::INT] AS sharing_level,
               {starts}[ph] + (h // 13 % 180)::INT AS seizure_date,
               {countries}[1 + (h % 20)::INT] AS place_country,
               ['seaport', 'airport', 'land_border', 'mail_centre'][1 + (h // 17 % 4)::INT] AS place_type,
               ['sea_container', 'air_passenger', 'road', 'postal', 'air_cargo'][1 + (h // 19 % 5)::INT]
                   AS transport_mode,
               ['intelligence', 'risk_profiling', 'scanner', 'routine_control'][1 + (h // 23 % 4)::INT]
                   AS detection_method,
               {texts}[1 + (h // 29 % 9)::INT] AS concealment,
               {countries}[1 + (h // 31 % 20)::INT] AS origin_country,
               {countries}[1 + (h // 37 % 20)::INT] AS destination_country,
               (h // 41 % 3)::INT AS arrests
        FROM g
    """)
    duck.execute("""
        CREATE TABLE items AS
        SELECT row_number() OVER () AS id, id AS case_id, k AS position,
               ['drug', 'drug', 'drug', 'wildlife', 'timber', 'precursor'][1 + (hash(id * 3 + k) % 6)::INT]
                   AS commodity_class,
               ['methamphetamine', 'heroin', 'cannabis', NULL][1 + (hash(id + k) % 4)::INT] AS substance,
               ['Manis javanica', 'Loxodonta africana', NULL][1 + (hash(id * 5 + k) % 3)::INT] AS taxon,
               ['II', 'I', NULL][1 + (hash(id * 5 + k) % 3)::INT] AS cites_appendix,
               ['kg', 'g', 'pieces', 'tablets'][1 + (hash(id * 9 + k) % 4)::INT] AS unit,
               1 + (hash(id * 11 + k) % 1000)::DOUBLE AS quantity
        FROM cases, range(1, 1 + 1 + (hash(id * 13) % 5 = 0)::INT) t(k)
    """)
    duck.execute("""
        ALTER TABLE items ADD COLUMN mass_kg DOUBLE;
        UPDATE items SET mass_kg = CASE unit WHEN 'kg' THEN quantity WHEN 'g' THEN quantity / 1000 END;
        CREATE TABLE transits AS
        SELECT id AS case_id, 1 AS position, place_country AS country FROM cases WHERE hash(id * 17) % 2 = 0;
    """)
    duck.execute(
        "CREATE TABLE agencies AS SELECT unnest(range(1, 21)) AS id, unnest($c::VARCHAR[]) || '-CUS' AS code,"
        " unnest($c::VARCHAR[]) AS country",
        {"c": COUNTRIES},
    )
    duck.execute(
        "CREATE TABLE phases AS SELECT unnest(range(1, 6)) AS number, unnest($p::INT[]) AS id", {"p": phase_ids}
    )
    if url.startswith("sqlite"):
        load_sqlite(folder / "bench.db", duck)
    else:
        load_postgresql(url, folder, duck)
    return duck


CASE_INSERT_COLUMNS = (
    "id, operation_id, phase_id, reporting_agency_id, case_ref, status, sharing_level, version,"
    " seizure_date, reported_at, place_country, place_type, transport_mode, detection_method,"
    " concealment, origin_country, destination_country, arrests, created_at, updated_at"
)
ITEM_INSERT_COLUMNS = (
    "id, case_id, position, commodity_class, substance, taxon, cites_appendix, unit, quantity, mass_kg"
)
NOW = "2024-01-01 00:00:00.000000"
CASE_ROWS = f"""
    SELECT id, operation_id, phase_id, reporting_agency_id, case_ref, status, sharing_level, 1,
           CAST(seizure_date AS VARCHAR), CAST(seizure_date + 3 AS VARCHAR) || ' 00:00:00.000000', place_country,
           place_type, transport_mode, detection_method, concealment, origin_country, destination_country,
           arrests, '{NOW}', '{NOW}'
    FROM cases ORDER BY id
"""  # fmt: skip
ITEM_ROWS = f"SELECT {ITEM_INSERT_COLUMNS} FROM items"
TRANSIT_ROWS = "SELECT case_id, position, country FROM transits"


def load_sqlite(path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    db = sqlite3.connect(path)
    db.executemany(f"INSERT INTO cases ({CASE_INSERT_COLUMNS}) VALUES ({', '.join(['?'] * 20)})",
                   duck.execute(CASE_ROWS).fetchall())  # fmt: skip
    db.executemany(f"INSERT INTO items ({ITEM_INSERT_COLUMNS}) VALUES ({', '.join(['?'] * 10)})",
                   duck.execute(ITEM_ROWS).fetchall())  # fmt: skip
    db.executemany("INSERT INTO case_transits (case_id, position, country) VALUES (?, ?, ?)",
                   duck.execute(TRANSIT_ROWS).fetchall())  # fmt: skip
    db.commit()
    db.close()


def load_postgresql(url: str, folder: Path, duck: duckdb.DuckDBPyConnection) -> None:
    """COPY the generated rows in as CSV (DuckDB writes the files), then ANALYZE."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as pg:
        loads = (("cases", CASE_INSERT_COLUMNS, CASE_ROWS), ("items", ITEM_INSERT_COLUMNS, ITEM_ROWS),
                 ("case_transits", "case_id, position, country", TRANSIT_ROWS))  # fmt: skip
        for table, columns, query in loads:
            csv = folder / f"{table}.csv"
            duck.execute(f"COPY ({query}) TO '{csv}' (FORMAT csv, HEADER false)")
            with (
                pg.cursor().copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
                csv.open("rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            csv.unlink()
        pg.execute("ANALYZE")


def baseline(duck: duckdb.DuckDBPyConnection, cur: int, prev: int) -> dict[str, list[tuple[object, ...]]]:
    """The same breakdowns, written by hand over the raw tables (validated cases, by seizure date)."""
    duck.execute(f"""
        CREATE OR REPLACE TEMP TABLE bc AS
        SELECT c.*, p.number AS phase, a.code AS agency_code, a.country AS agency_country,
               {concealment.sql_case("c.concealment")} AS cat,
               (SELECT count(*) FROM items i WHERE i.case_id = c.id) AS n_items
        FROM cases c JOIN phases p ON p.id = c.phase_id JOIN agencies a ON a.id = c.reporting_agency_id
        WHERE c.status = 'validated';
        CREATE OR REPLACE TEMP TABLE bi AS SELECT i.*, bc.phase FROM items i JOIN bc ON bc.id = i.case_id;
    """)
    q = {
        "headline": "SELECT count(*) FILTER (WHERE phase = $cur), count(*) FILTER (WHERE phase = $prev),"
                    " sum(n_items) FILTER (WHERE phase = $cur), sum(arrests) FILTER (WHERE phase = $cur) FROM bc",
        "by_phase": "SELECT phase, count(*), sum(n_items), sum(arrests) FROM bc GROUP BY 1 ORDER BY 1",
        "by_agency": "SELECT agency_code, count(*) FILTER (WHERE phase = $cur), count(*) FILTER (WHERE phase = $prev)"
                     " FROM bc GROUP BY 1",
        "by_class": "SELECT commodity_class, count(DISTINCT case_id) FILTER (WHERE phase = $cur),"
                    " count(DISTINCT case_id) FILTER (WHERE phase = $prev), sum(mass_kg) FROM bi GROUP BY 1",
        "by_subject": "SELECT commodity_class, coalesce(substance, taxon), max(cites_appendix),"
                      " count(DISTINCT case_id), count(*), sum(mass_kg), sum(quantity) FILTER (WHERE unit = 'pieces'),"
                      " sum(quantity) FILTER (WHERE unit = 'tablets') FROM bi WHERE phase = $cur GROUP BY 1, 2",
        "quantities": "SELECT commodity_class, CASE WHEN mass_kg IS NOT NULL THEN 'kg' ELSE unit END,"
                      " count(DISTINCT case_id), sum(coalesce(mass_kg, quantity)) FROM bi WHERE phase = $cur"
                      " GROUP BY 1, 2",
        "routes": "SELECT origin_country, t.country, destination_country, count(*) FROM bc LEFT JOIN transits t"
                  " ON t.case_id = bc.id WHERE phase = $cur GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 30",
        "legs": "SELECT a, b, count(DISTINCT id) FROM (SELECT id, origin_country a, coalesce(t.country,"
                " destination_country) b FROM bc LEFT JOIN transits t ON t.case_id = bc.id WHERE phase = $cur"
                " UNION ALL SELECT id, t.country, destination_country FROM bc JOIN transits t ON t.case_id = bc.id"
                " WHERE phase = $cur) WHERE a <> b GROUP BY 1, 2",
        "texts": "SELECT concealment, cat, count(*) FROM bc WHERE phase = $cur GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 15",
    }  # fmt: skip
    for key, expr in (("country", "agency_country"), ("seizure_country", "place_country"), ("mode", "transport_mode"),
                      ("place", "place_type"), ("detection", "detection_method"), ("concealment", "cat")):  # fmt: skip
        q[key] = (
            f"SELECT {expr}, count(*) FILTER (WHERE phase = $cur), count(*) FILTER (WHERE phase = $prev),"
            f" sum(n_items) FILTER (WHERE phase = $cur), sum(arrests) FILTER (WHERE phase = $cur) FROM bc GROUP BY 1"
        )
    out = {}
    for key, sql in q.items():
        params = {k: v for k, v in {"cur": cur, "prev": prev}.items() if f"${k}" in sql}
        out[key] = duck.execute(sql, params).fetchall()
    return out


def fresh_postgresql(url: str, name: str) -> str:
    """A new empty database `name` on the server of `url` (dropped first if it exists); its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(normalise_url(url))
    with psycopg.connect(server.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as admin:  # fmt: skip
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)


def timed_debrief(url: str, *, adbc: bool) -> tuple[float, float, Extract, Computed, str]:
    """(extract seconds, breakdown seconds, the extract, the debrief, the read path) of phase V, over a new
    engine (on SQLite the first read starts the reader child: its start is in the extract's time)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            with arrow_reader(session, adbc=adbc) as reader:
                path = reader.path
            x, b, ext, ours = _debrief(session, adbc=adbc)
    finally:
        engine.dispose()
    return x, b, ext, ours, path


def _debrief(session: Session, *, adbc: bool) -> tuple[float, float, Extract, Computed]:
    rule = rules.OPERATION
    op = get_operation(session, "bench")
    phase, previous = find_phase(op, 5)
    assert previous is not None
    t1 = time.perf_counter()
    ext = extract(session, op, rule, scope_for(None), adbc=adbc)
    t2 = time.perf_counter()
    con = breakdowns.prepare(ext, rule)
    ours = breakdowns.compute(con, phase.number, previous.number)
    t3 = time.perf_counter()
    return t2 - t1, t3 - t2, ext, ours


def interleaved(url: str, duck: duckdb.DuckDBPyConnection, repeat: int) -> list[tuple[float, float, float]]:
    """`repeat` times (extract s, breakdowns s, hand-written s), each debrief followed by the hand-written query,
    so that each ratio's two terms ran under the same load; one engine whose reader (SQLite: child) is warm."""
    engine = make_engine(url)
    runs = []
    try:
        with Session(engine) as session:
            _debrief(session, adbc=True)  # untimed: starts SQLite's reader child
            for _ in range(repeat):
                x, b, _, _ = _debrief(session, adbc=True)
                t = time.perf_counter()
                baseline(duck, 5, 4)
                runs.append((x, b, time.perf_counter() - t))
    finally:
        engine.dispose()
    return runs


def same_rows(a: pa.Table, b: pa.Table) -> bool:
    """The same rows, in any order (sorted on every column: an item's key columns may repeat)."""
    key = [(name, "ascending") for name in a.column_names]
    return a.schema == b.schema and a.sort_by(key).equals(b.sort_by(key))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=None, help="server for --backend postgresql (a database "
                        "dragonnet_debrief_bench is created on it, replacing any of that name)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="warm debriefs, each followed by the hand-written "
                        "query (ratios per pair and their median)")  # fmt: skip
    parser.add_argument("--keep", type=Path, default=None, help="build the database in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dragonnet-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.backend == "sqlite":
        (folder / "bench.db").unlink(missing_ok=True)
        url = f"sqlite:///{folder / 'bench.db'}"
    else:
        if not args.postgres_url:
            parser.error("--backend postgresql needs --postgres-url")
        url = fresh_postgresql(args.postgres_url, "dragonnet_debrief_bench")
    t0 = time.perf_counter()
    duck = build(url, folder, args.cases)
    print(f"generated {args.cases:,} cases into {args.backend} in {time.perf_counter() - t0:.1f} s")
    # Before (the driver's cursor, rows to Arrow) and after (storage.arrow: ADBC straight into Arrow; on SQLite in
    # a child process, whose start the cold run includes), one after the other.
    before_x, before_b, before, _, _ = timed_debrief(url, adbc=False)
    after_x, after_b, ext, ours, path = timed_debrief(url, adbc=True)
    pairs = interleaved(url, duck, args.repeat)
    t4 = time.perf_counter()
    hand = baseline(duck, 5, 4)
    baseline_s = time.perf_counter() - t4
    assert hand["headline"][0][0] == ours.headline.cases, (hand["headline"], ours.headline)
    assert hand["headline"][0][1] == ours.headline.previous_cases
    for table in ("cases", "items", "transits"):
        assert same_rows(getattr(before, table), getattr(ext, table)), f"{table}: the two paths differ"
    print(f"phase V: {ours.headline.cases:,} cases (phase IV {ours.headline.previous_cases:,}), "
          f"extract {ext.cases.num_rows:,} cases / {ext.items.num_rows:,} items / {ext.transits.num_rows:,} transits"
          " (identical on both paths)")  # fmt: skip
    print(f"before: debrief via the driver's cursor: {before_x + before_b:.2f} s "
          f"(extract {before_x:.2f} s, breakdowns {before_b:.2f} s)")  # fmt: skip
    print(f"after:  debrief via {path}: {after_x + after_b:.2f} s "
          f"(extract {after_x:.2f} s, breakdowns {after_b:.2f} s)")  # fmt: skip
    print(f"hand-written DuckDB query over the same rows: {baseline_s:.2f} s")
    print(f"ratio breakdowns / hand-written: {after_b / baseline_s:.2f}x (goal: within 1.5x)")
    print(
        f"ratio whole debrief / hand-written, before: {(before_x + before_b) / baseline_s:.2f}x, "
        f"after (first read, reader start included): {(after_x + after_b) / baseline_s:.2f}x (goal: <= 3x)"
    )
    ratios = []
    for i, (x, b, hand_s) in enumerate(pairs, 1):
        ratios.append((x + b) / hand_s)
        print(
            f"warm pair {i}: debrief {x + b:.2f} s (extract {x:.2f} s, breakdowns {b:.2f} s), hand-written "
            f"{hand_s:.2f} s: {ratios[-1]:.2f}x"
        )
    if ratios:
        print(f"ratio whole debrief / hand-written, warm pairs: median {statistics.median(ratios):.2f}x, "
              f"best {min(ratios):.2f}x, worst {max(ratios):.2f}x (goal: <= 3x)")  # fmt: skip


if __name__ == "__main__":
    main()
