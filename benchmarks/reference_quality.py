"""How well the reference data reads a real seizure record set nobody here designed.

    .venv/bin/python benchmarks/reference_quality.py [--data ../shared/data/seizures-routes-airports-2009-2012]
        [--list unresolved|guesses|all] [--json]

Data: the ROUTES Partnership / C4ADS "In Plane Sight" airport wildlife seizures 2009-2012 (288 rows, MIT licence,
cp1252; see the folder's README). Read the way an importer would map them:
- taxon: each `; `-separated value of `Species`; where `Species` is empty, the commodity group in `Database`
  ("Ivory", "Rhino Horn", "Birds"...), which is what the source knows of the goods;
- place: `Location ` (an airport as the press wrote it) with the country of `City, Country` as context (the whole
  cell is tried as a country first: "Hong Kong, China" is HK).

It prints, over rows and over distinct values: the share of taxa resolved to a CITES entry (any rank: a listed
taxon, or a class/order/family/genus with listed members), the share resolved at all (including taxa CITES does
not list), the share of places resolved to a code, and every guess. Each figure counts guesses separately. Cite
"ROUTES Partnership / C4ADS, In Plane Sight (2017)" when showing the data.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dragonnet.reference import cites, countries, places

DEFAULT_DATA = Path(os.environ.get("DRAGONNET_SHARED_DATA", "../shared/data")) / "seizures-routes-airports-2009-2012"


@dataclass(frozen=True)
class Row:
    id: str
    taxa: tuple[str, ...]
    place: str
    country_cell: str


def read_rows(folder: Path) -> list[Row]:
    path = folder / "tot.csv"
    if not path.is_file():
        raise SystemExit(f"error: {path} not found (pass --data)")
    with path.open(encoding="cp1252", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = []
        for r in reader:
            r = {k.strip(): (v or "").strip() for k, v in r.items()}
            species = [s.strip() for s in r["Species"].split(";") if s.strip()]
            taxa = tuple(species) if species else ((r["Database"],) if r["Database"] else ())
            rows.append(Row(r["ID"], taxa, r["Location"], r["City, Country"]))
    return rows


@cache
def country_of(cell: str) -> str | None:
    """The country of a "City, Country" cell: the whole cell first ("Hong Kong, China"), then its last part."""
    if not cell:
        return None
    whole = countries.try_resolve(cell)
    if whole is not None:
        return whole.alpha2
    last = cell.rsplit(",", 1)[-1].strip()
    c = countries.try_resolve(last)
    return c.alpha2 if c else last  # an unknown country is passed on as written: the resolver says so


def share(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "0/0"


def measure(rows: list[Row]) -> dict[str, Any]:
    t0 = time.perf_counter()
    taxon_values = [t for r in rows for t in r.taxa]
    taxon_res = dict(
        zip(dict.fromkeys(taxon_values), cites.lookup_many(list(dict.fromkeys(taxon_values))), strict=True)
    )
    place_rows = [r for r in rows if r.place]
    pairs = list(dict.fromkeys((r.place, country_of(r.country_cell)) for r in place_rows))
    place_res = dict(zip(pairs, places.lookup_many([p for p, _ in pairs], [c for _, c in pairs]), strict=True))
    elapsed = time.perf_counter() - t0

    def taxon_counts(values: list[str]) -> dict[str, int]:
        res = [taxon_res[v] for v in values]
        return {
            "values": len(values),
            "cites_entry": sum(r.cites_status in (cites.LISTED, cites.INCLUDES_LISTED) for r in res),
            "cites_entry_guessed": sum(
                r.cites_status in (cites.LISTED, cites.INCLUDES_LISTED) and r.status == cites.GUESS for r in res
            ),
            "resolved_any": sum(r.resolved for r in res),
            "not_listed": sum(r.cites_status == cites.NOT_LISTED for r in res),
            "unverified": sum(r.cites_status == cites.UNVERIFIED for r in res),
        }

    def place_counts(keys: list[tuple[str, str | None]]) -> dict[str, int]:
        res = [place_res[k] for k in keys]
        return {
            "values": len(keys),
            "resolved_to_code": sum(r.place is not None and bool(r.place.code) for r in res),
            "guessed": sum(r.status == places.GUESS for r in res),
            "with_coordinates": sum(r.place is not None and r.place.latitude is not None for r in res),
            "unresolved": sum(r.place is None for r in res),
        }

    place_keys = [(r.place, country_of(r.country_cell)) for r in place_rows]
    rows_taxa_ok = sum(
        bool(r.taxa) and all(taxon_res[t].cites_status in (cites.LISTED, cites.INCLUDES_LISTED) for t in r.taxa)
        for r in rows
    )
    return {
        "rows": len(rows),
        "rows_with_taxon": sum(bool(r.taxa) for r in rows),
        "rows_all_taxa_cites_entry": rows_taxa_ok,
        "rows_with_place": len(place_rows),
        "taxa": taxon_counts(taxon_values),
        "taxa_distinct": taxon_counts(list(taxon_res)),
        "places": place_counts(place_keys),
        "places_distinct": place_counts(pairs),
        "seconds": round(elapsed, 3),
        "guesses": {
            "taxa": sorted(
                {
                    (v, r.taxon.name if r.taxon else "", r.reason or "")
                    for v, r in taxon_res.items()
                    if r.status == cites.GUESS
                }
            ),
            "places": sorted(
                {
                    (f"{p} [{c}]", str(r.place), r.reason or "")
                    for (p, c), r in place_res.items()
                    if r.status == places.GUESS
                }
            ),
        },
        "unresolved": {
            "taxa": sorted({(v, r.reason or "") for v, r in taxon_res.items() if not r.resolved}),
            "places": sorted({(f"{p} [{c}]", r.reason or "") for (p, c), r in place_res.items() if r.place is None}),
        },
        "not_cites_listed": sorted(
            {
                (v, r.taxon.name)
                for v, r in taxon_res.items()
                if r.taxon is not None and r.cites_status == cites.NOT_LISTED
            }
        ),
        "reference": {"cites": cites.version(), "places": places.version()},
    }


def report(m: dict[str, Any], show: str) -> None:
    t, td, p, pd = m["taxa"], m["taxa_distinct"], m["places"], m["places_distinct"]
    print(f"ROUTES/C4ADS airport wildlife seizures 2009-2012: {m['rows']} rows ({m['seconds']} s to resolve)")
    print(f"reference: {m['reference']['cites']}; {m['reference']['places']}")
    print()
    print("taxa (each value of Species, else the Database group):")
    print(
        f"  resolved to a CITES entry (any rank):  {share(t['cites_entry'], t['values'])} of values, "
        f"{share(td['cites_entry'], td['values'])} of distinct values; of these by a guess: "
        f"{t['cites_entry_guessed']} values ({td['cites_entry_guessed']} distinct)"
    )
    print(
        f"  resolved at all (incl. not CITES-listed): {share(t['resolved_any'], t['values'])} of values; "
        f"not CITES-listed {t['not_listed']}, unverified {t['unverified']}"
    )
    print(f"  rows whose every taxon is a CITES entry: {share(m['rows_all_taxa_cites_entry'], m['rows_with_taxon'])}")
    print("places (Location, country of 'City, Country' as context):")
    print(
        f"  resolved to a code: {share(p['resolved_to_code'], p['values'])} of rows with a place, "
        f"{share(pd['resolved_to_code'], pd['values'])} of distinct; by a guess: {p['guessed']} rows "
        f"({pd['guessed']} distinct); with coordinates: {share(p['with_coordinates'], p['values'])}"
    )
    if show in ("guesses", "all"):
        print("\nguesses (taxa):")
        for v, name, why in m["guesses"]["taxa"]:
            print(f"  {v!r} -> {name}: {why}")
        print("guesses (places):")
        for v, name, why in m["guesses"]["places"]:
            print(f"  {v} -> {name}: {why}")
    if show in ("unresolved", "all"):
        print("\nunresolved (taxa, kept as written with the status 'unverified'):")
        for v, why in m["unresolved"]["taxa"]:
            print(f"  {v!r}: {why}")
        print("unresolved (places, kept as written with a warning):")
        for v, why in m["unresolved"]["places"]:
            print(f"  {v}: {why}")
    if show == "all":
        print("\nnot CITES-listed (accepted as wildlife with that status):")
        for v, name in m["not_cites_listed"]:
            print(f"  {v!r} -> {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--list", choices=("none", "guesses", "unresolved", "all"), default="all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    cites.version()
    places.lookup("Hanoi")  # load both datasets before timing the resolution itself
    load = time.perf_counter() - t0
    m = measure(read_rows(args.data))
    m["load_seconds"] = round(load, 2)
    if args.json:
        print(json.dumps(m, indent=2, ensure_ascii=False))
    else:
        report(m, args.list)
        print(f"\n(loading the reference data took {load:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
