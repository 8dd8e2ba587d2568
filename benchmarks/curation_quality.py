"""The whole intake of a real seizure record set nobody here designed, before and after one round of curation.

    .venv/bin/python benchmarks/curation_quality.py [--data ../shared/data/seizures-routes-airports-2009-2012]
        [--mappings benchmarks/data/routes-airports-curation.csv] [--database-url URL] [--list] [--json]

Unlike `reference_quality.py` (the resolvers alone), this goes through the doors a user goes through:
1. the ROUTES Partnership / C4ADS "In Plane Sight" airport wildlife seizures 2009-2012 (288 rows, cp1252, MIT)
   are written as an exchange-format CSV the way a data officer would fill it from the source: one item row per
   `; `-separated value of `Species` (else the `Database` group: "Ivory", "Rhino Horn"), the airport of
   `Location` with the country of `City, Country`, `Date` as written ("18-Jan-09"), the first origin country, the
   weight in kg, else the number of pieces, else the quantity "unknown" (on the first item; the other items of a
   multi-species seizure are "unknown" too: the source gives one figure for the whole seizure);
2. `import_cases` imports it into a fresh, migrated database (SQLite in a temporary folder unless
   `--database-url`), filling the operation's review queue;
3. the figures are read from the database: rows accepted, items whose taxon is a CITES entry, resolved at all, by a
   guess still open in the queue, or unverified; cases whose place has a code, by an open guess, or kept as written;
4. the national coordinator of the reporting agency imports the mapping file (`curation.service.import_mappings`,
   the same call as `dragonnet curation import`): each mapping is applied to the cases that carry the value;
5. the figures are read again.

The mapping file is one round of curation of this data set's queue: every guess was checked (confirmed, or mapped
to the right entry) and every unresolved value mapped where the source allows it. Cite "ROUTES Partnership /
C4ADS, In Plane Sight (2017)" when showing the data.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.intake.curation import service as curation
from dragonnet.intake.importer import ImportReport, import_cases
from dragonnet.operation import service as ops
from dragonnet.policy.access import Actor
from dragonnet.policy.audit import AuditActor
from dragonnet.policy.users import create_user
from dragonnet.reference import cites, countries
from dragonnet.storage.curation_models import CurationValue
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Case, Item, Operation

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path(os.environ.get("DRAGONNET_SHARED_DATA", "../shared/data")) / "seizures-routes-airports-2009-2012"
DEFAULT_MAPPINGS = HERE / "data" / "routes-airports-curation.csv"
SLUG, AGENCY = "routes-airports", "ROUTES"
HEADER = ["case_ref", "reporting_agency", "seizure_date", "place_name", "place_country", "origin_country",
          "commodity_class", "taxon", "quantity", "unit"]  # fmt: skip
CITES_ENTRY = (cites.LISTED, cites.INCLUDES_LISTED)


def _cell_country(cell: str) -> str:
    """The country of a "City, Country" cell as a data officer would write it: the whole cell if it is a country
    ("Hong Kong, China"), else its last part; an unknown country is passed on as written (the importer says so)."""
    cell = cell.strip()
    if not cell:
        return ""
    whole = countries.try_resolve(cell)
    if whole is not None:
        return whole.alpha2
    last = cell.rsplit(",", 1)[-1].strip()
    found = countries.try_resolve(last)
    return found.alpha2 if found else last


def exchange_csv(folder: Path) -> tuple[bytes, int]:
    """The source rows as an exchange-format CSV (one row per item) and the number of seizures."""
    path = folder / "tot.csv"
    if not path.is_file():
        raise SystemExit(f"error: {path} not found (pass --data)")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    seizures = 0
    with path.open(encoding="cp1252", newline="") as fh:
        for raw in csv.DictReader(fh):
            r = {k.strip(): (v or "").strip() for k, v in raw.items()}
            seizures += 1
            species = [s.strip() for s in r["Species"].split(";") if s.strip()] or [r["Database"]]
            origin = r["Origin"].split(";")[0].strip()
            if r["Weight (kg)"]:
                quantity, unit = r["Weight (kg)"], "kg"
            elif r["Number"]:
                quantity, unit = r["Number"], "pieces"
            else:
                quantity, unit = "unknown", ""
            for n, taxon in enumerate(species):
                q, u = (quantity, unit) if n == 0 else ("unknown", "")
                place_country = _cell_country(r["City, Country"])
                writer.writerow([f"ROUTES-{r['ID']}", AGENCY, r["Date"], r["Location"], place_country,
                                 _cell_country(origin), "wildlife", taxon, q, u])  # fmt: skip
    return out.getvalue().encode("utf-8"), seizures


def prepare(url: str) -> Actor:
    """A migrated database with the operation (one phase over 2009-2012), the reporting agency and its coordinator."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        op = ops.create_operation(
            s, slug=SLUG, name="ROUTES airport seizures", description="", scope=["wildlife"],
            phases=[ops.PhaseSpec(1, dt.date(2009, 1, 1), dt.date(2012, 12, 31), ("wildlife",))],
        )  # fmt: skip
        agency = ops.add_agency(s, code=AGENCY, name="ROUTES Partnership (C4ADS)", kind="other", country=None)
        ops.add_participant(s, op, agency, "member")
        user = create_user(s, username="routes.coordinator", password="bench-Pa55word-long", agency_code=AGENCY,
                           roles=["national_coordinator"], enforce_policy=False)  # fmt: skip
        s.commit()
        return Actor.for_user(user)


@dataclass
class Figures:
    rows: int
    rows_accepted: int
    cases: int
    items: dict[str, int]
    places: dict[str, int]
    queue_open: dict[str, int]


def _open_guesses(s: Session, op_id: int, kind: str) -> set[tuple[str, str]]:
    q = select(CurationValue.text, CurationValue.context).where(
        CurationValue.operation_id == op_id, CurationValue.kind == kind, CurationValue.status == "guess",
        CurationValue.state == "open")  # fmt: skip
    return {(t, c) for t, c in s.execute(q)}


def measure(s: Session, report: ImportReport) -> Figures:
    op_id = s.execute(select(Operation.id).where(Operation.slug == SLUG)).scalar_one()
    taxon_guesses = {t for t, _ in _open_guesses(s, op_id, "taxon")}
    place_guesses = _open_guesses(s, op_id, "place")
    items = s.execute(select(Item.taxon_text, Item.taxon, Item.taxon_status).join(Case)
                      .where(Case.operation_id == op_id)).all()  # fmt: skip
    cases = s.execute(select(Case.place_name, Case.place_country, Case.place_locode)
                      .where(Case.operation_id == op_id)).all()  # fmt: skip
    open_values = select(CurationValue.kind, func.count()).where(
        CurationValue.operation_id == op_id, CurationValue.state == "open")  # fmt: skip
    queue = dict(s.execute(open_values.group_by(CurationValue.kind)).all())
    return Figures(
        rows=report.rows_total,
        rows_accepted=report.rows_imported,
        cases=len(cases),
        items={
            "items": len(items),
            "cites_entry": sum(st in CITES_ENTRY for _, _, st in items),
            "cites_entry_by_open_guess": sum(st in CITES_ENTRY and w in taxon_guesses for w, _, st in items),
            "resolved_any": sum(t is not None for _, t, _ in items),
            "not_cites_listed": sum(st == cites.NOT_LISTED for _, _, st in items),
            "unverified": sum(st == cites.UNVERIFIED for _, _, st in items),
        },
        places={
            "cases_with_place": sum(bool(n) for n, _, _ in cases),
            "with_code": sum(bool(n) and bool(c) for n, _, c in cases),
            "with_code_by_open_guess": sum(bool(c) and (n, k) in place_guesses for n, k, c in cases),
            "kept_as_written": sum(bool(n) and not c for n, _, c in cases),
        },
        queue_open={k: int(v) for k, v in queue.items()},
    )


def share(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "0/0"


def print_figures(title: str, f: Figures) -> None:
    i, p = f.items, f.places
    print(f"{title}:")
    print(f"  rows accepted:                       {share(f.rows_accepted, f.rows)} ({f.cases} cases)")
    print(f"  items whose taxon is a CITES entry:  {share(i['cites_entry'], i['items'])} "
          f"(of these by a guess still open: {i['cites_entry_by_open_guess']})")  # fmt: skip
    print(f"  items whose taxon resolved at all:   {share(i['resolved_any'], i['items'])} "
          f"(not CITES-listed {i['not_cites_listed']}, unverified {i['unverified']})")  # fmt: skip
    print(f"  cases whose place has a code:        {share(p['with_code'], p['cases_with_place'])} "
          f"(of these by a guess still open: {p['with_code_by_open_guess']}; kept as written: "
          f"{p['kept_as_written']})")  # fmt: skip
    print(f"  review queue, open values:           {f.queue_open or 'none'}")


def _import(s: Session, data: bytes) -> tuple[ImportReport, float]:
    t0 = time.perf_counter()
    report = import_cases(s, operation_slug=SLUG, agency_code=AGENCY, data=data, filename="routes-airports.csv",
                          actor=AuditActor(None, "benchmark", AGENCY), today=dt.date(2013, 1, 1))  # fmt: skip
    s.commit()
    return report, time.perf_counter() - t0


def run(folder: Path, mappings: Path, url: str, show: bool) -> dict[str, Any]:
    actor = prepare(url)
    data, seizures = exchange_csv(folder)
    with Session(make_engine(url)) as s:
        report, import_seconds = _import(s, data)
        before = measure(s, report)
        queue = curation.review_queue(s, actor, SLUG, state="open") if show else []
        t0 = time.perf_counter()
        result = curation.import_mappings(s, actor, SLUG, data=mappings.read_bytes(), filename=mappings.name)
        if not result.ok:
            for e in result.errors:
                print(f"error: {mappings.name} row {e.row}: {e.reason}", file=sys.stderr)
            raise SystemExit(1)
        s.commit()
        curate_seconds = time.perf_counter() - t0
        curated = measure(s, report)
        # The same file uploaded again (the rows it rejected fixed by the mappings: "ROC" is now a country).
        again, reimport_seconds = _import(s, data)
        reimported = measure(s, again)
        left = curation.review_queue(s, actor, SLUG, state="open")
    return {
        "seizures": seizures,
        "import_seconds": round(import_seconds, 2),
        "rejected": [(e.row, e.column, e.value, e.reason) for e in report.errors],
        "warnings": report.warnings_total,
        "values_to_review": report.values_to_review,
        "mappings": len(result.applied),
        "cases_changed": sum(a.cases for a in result.applied),
        "curate_seconds": round(curate_seconds, 2),
        "reimport_seconds": round(reimport_seconds, 2),
        "reimport_rejected": [(e.row, e.column, e.value, e.reason) for e in again.errors],
        "reimport_warnings": again.warnings_total,
        "before": before.__dict__,
        "after": curated.__dict__,
        "reimported": reimported.__dict__,
        "queue_before": [e.to_dict() for e in queue],
        "left_open": [e.to_dict() for e in left],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--mappings", type=Path, default=DEFAULT_MAPPINGS)
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite in a temp folder)")
    parser.add_argument("--list", action="store_true", help="print the review queue before curation")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.mappings.is_file():
        raise SystemExit(f"error: {args.mappings} not found")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'curation.db'}"
        out = run(args.data, args.mappings, url, args.list)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"ROUTES/C4ADS airport wildlife seizures 2009-2012: {out['seizures']} seizures, imported in "
          f"{out['import_seconds']} s; {out['warnings']} warning(s), "
          f"{out['values_to_review']} value(s) queued")  # fmt: skip
    for row, column, value, reason in out["rejected"]:
        print(f"  rejected: row {row}, {column}: {value!r} {reason}")
    if args.list:
        print("\nreview queue before curation:")
        for e in out["queue_before"]:
            print(f"  {e['kind']:8} {e['status']:10} {e['text']!r} [{e['context']}] x{e['occurrences']} -> "
                  f"{e['read_as'] or ''} ({e['reason'] or ''})")  # fmt: skip
    print()
    print_figures("before curation", Figures(**out["before"]))
    print(f"\none round of curation: {out['mappings']} mapping(s) from {args.mappings.name}, "
          f"{out['cases_changed']} case(s) changed, {out['curate_seconds']} s")  # fmt: skip
    print_figures("after curation", Figures(**out["after"]))
    print(f"\nthe same file imported again ({out['reimport_seconds']} s; {out['reimport_warnings']} warning(s)):")
    for row, column, value, reason in out["reimport_rejected"]:
        print(f"  rejected: row {row}, {column}: {value!r} {reason}")
    print_figures("after the second import", Figures(**out["reimported"]))
    for e in out["left_open"]:
        print(f"  still open: {e['kind']} {e['text']!r} [{e['context']}] ({e['status']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
