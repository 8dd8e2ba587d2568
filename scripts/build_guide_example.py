"""Build docs/examples/routes-2009-2012/: real airport wildlife seizures as the exchange format, per agency.

Source: ../shared/data/seizures-routes-airports-2009-2012/tot.csv (ROUTES Partnership / C4ADS, "In Plane
Sight" (2017), MIT licence, (c) 2017 Patrick Baine). The operator guide's walk-through imports these files
(tests/docs/test_operator_guide.py runs it). Kept: the seizures at the airports of four countries whose
species the shipped reference data resolves today and that give a weight or a count; each country's
seizures become one agency's spreadsheet. Nothing is invented: a value the source does not give stays empty.

    .venv/bin/python scripts/build_guide_example.py [--source DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
from pathlib import Path

from dragonnet.errors import DragonnetError
from dragonnet.intake.headers import ITEM_COLUMNS
from dragonnet.reference import cites, countries

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "data" / "seizures-routes-airports-2009-2012"
OUT = REPO / "docs" / "examples" / "routes-2009-2012"
# seizure country (as the source writes it) -> (agency code, agency name, kind, ISO country)
AGENCIES = {
    "UAE": ("AE-DXBCUS", "Dubai Customs", "customs", "AE"),
    "Kenya": ("KE-KWS", "Kenya Wildlife Service", "police", "KE"),
    "Thailand": ("TH-CUS", "Thai Customs Department", "customs", "TH"),
    "Malawi": ("MW-DNPW", "Malawi Department of National Parks and Wildlife", "police", "MW"),
}
SPECIMEN = {"Ivory": "ivory", "Rhino Horn": "horn"}
FALLBACK_TAXON = {"Ivory": "Loxodonta africana", "Rhino Horn": "Rhinocerotidae"}
DETECTION = {"x-ray": "scanner", "scanner": "scanner", "tip-off": "intelligence", "intelligence": "intelligence",
             "routine search": "routine_control", "sniffer dog": "detector_dog"}  # fmt: skip


def _country(text: str) -> str:
    """The ISO code of "City, Country" or "Country"; empty when the source's text resolves to none."""
    name = text.split(";")[0].split(",")[-1].strip()
    if not name:
        return ""
    try:
        return countries.resolve(name).alpha2
    except DragonnetError:
        return ""


def _taxon(row: dict[str, str]) -> str | None:
    """The species as the source writes it (the first of a list), if the reference data resolves it now."""
    species = row["Species"].split(";")[0].strip()
    for text in (
        (species, FALLBACK_TAXON.get(row["Database"], "")) if species else (FALLBACK_TAXON.get(row["Database"], ""),)
    ):
        if not text:
            continue
        try:
            cites.resolve(text)
        except DragonnetError:
            return None  # the source's own name must resolve: no silent substitution
        return text
    return None


def convert(row: dict[str, str]) -> tuple[str, list[str]] | None:
    seized_in = row["City, Country"].split(",")[-1].strip()
    agency = AGENCIES.get(seized_in)
    taxon = _taxon(row)
    weight, number = row["Weight (kg) "].strip(), row["Number"].strip()
    if agency is None or taxon is None or not (weight or number):
        return None
    quantity, unit = (weight, "kg") if weight else (number, "pieces")
    detection = DETECTION.get(row["Method of Detection"].strip().lower(), "")
    values = {
        "case_ref": f"ROUTES-{int(row['ID']):03d}",
        "reporting_agency": agency[0],
        "seizure_date": dt.datetime.strptime(row["Date "].strip(), "%d-%b-%y").date().isoformat(),
        "place_name": row["Location "].strip(),
        "place_country": agency[3],
        "place_type": "airport",
        "transport_mode": "air_cargo" if row["Mode of Transport"].strip() == "Airfreight" else "air_passenger",
        "conveyance_ref": row["Airline "].strip(),
        "detection_method": detection,
        "concealment": row["Obfuscation Method"].strip(),
        "commodity_class": "wildlife",
        "taxon": taxon,
        "specimen_type": SPECIMEN.get(row["Database"], ""),
        "quantity": quantity,
        "unit": unit,
        "origin_country": _country(row["Origin"]),
        "destination_country": _country(row["Destination"]),
        "sharing_level": "green",
        "description": f"{row['Database']}; source: ROUTES/C4ADS record {row['ID']}",
    }
    return agency[0], [values.get(column, "") for column in ITEM_COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with (args.source / "tot.csv").open(encoding="cp1252", newline="") as fh:
        rows = list(csv.DictReader(fh))
    per_agency: dict[str, list[list[str]]] = {}
    for row in rows:
        converted = convert(row)
        if converted:
            per_agency.setdefault(converted[0], []).append(converted[1])
    args.out.mkdir(parents=True, exist_ok=True)
    for code, lines in sorted(per_agency.items()):
        with (args.out / f"{code}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(ITEM_COLUMNS)
            writer.writerows(lines)
        print(f"{code}: {len(lines)} seizures")
    shutil.copy(args.source / "LICENSE-MIT.txt", args.out / "LICENSE-MIT.txt")


if __name__ == "__main__":
    main()
