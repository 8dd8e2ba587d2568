"""Build src/dragonnet/reference/data/hs2022.csv.gz: the Harmonized System 2022 nomenclature (chapters, headings,
subheadings with their English descriptions, parents and sections).

Run: .venv/bin/python scripts/build_goods.py [--hs FILE] [--sections FILE]  (offline; defaults read
../shared/data/harmonized-system/, the datasets/harmonized-system files built from UN Comtrade, ODC-PDDL 1.0).
UN Comtrade's statistical rows (TOTAL and chapter 99 "commodities not specified according to kind") are left out:
they are not part of the nomenclature.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "dragonnet" / "reference" / "data" / "hs2022.csv.gz"
SHARED = ROOT.parent / "shared" / "data" / "harmonized-system"
MAGIC = "#dragonnet-hs;format=1;version=HS 2022;source=datasets/harmonized-system (UN Comtrade), ODC-PDDL 1.0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hs", default=str(SHARED / "harmonized-system.csv"))
    parser.add_argument("--sections", default=str(SHARED / "sections.csv"))
    args = parser.parse_args(argv)
    for path in (Path(args.hs), Path(args.sections)):
        if not path.is_file():
            print(f"error: {path} not found", file=sys.stderr)
            return 1
    with open(args.sections, encoding="utf-8-sig", newline="") as fh:
        sections = {r["section"].strip(): r["name"].strip() for r in csv.DictReader(fh)}
    rows: list[dict[str, str]] = []
    problems: list[str] = []
    with open(args.hs, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            code, level = r["hscode"].strip(), r["level"].strip()
            if r["section"].strip() == "TOTAL":
                continue  # UN Comtrade's statistical rows (TOTAL, 99 "not specified"): not HS codes
            if not code.isdigit() or len(code) != int(level):
                problems.append(f"bad code {code!r} at level {level}")
                continue
            parent = r["parent"].strip()
            rows.append(
                {
                    "code": code,
                    "level": level,
                    "parent": "" if parent == "TOTAL" else parent,
                    "section": r["section"].strip(),
                    "description": " ".join(r["description"].split()),
                }
            )
    codes = {r["code"] for r in rows}
    problems += [f"{r['code']}: parent {r['parent']} missing" for r in rows if r["parent"] and r["parent"] not in codes]
    problems += [f"{r['code']}: section {r['section']} unknown" for r in rows if r["section"] not in sections]
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems[:50]), file=sys.stderr)
        return 1
    tmp = OUT.with_suffix(".tmp")
    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as text,
    ):
        text.write(MAGIC + "\n")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["code", "level", "parent", "section", "section_name", "description"])
        for r in rows:
            writer.writerow(
                [r["code"], r["level"], r["parent"], r["section"], sections[r["section"]], r["description"]]
            )
    os.replace(tmp, OUT)
    levels = {lv: sum(1 for r in rows if r["level"] == lv) for lv in ("2", "4", "6")}
    print(
        f"wrote {len(rows)} codes to {OUT} ({OUT.stat().st_size} bytes): {levels['2']} chapters, "
        f"{levels['4']} headings, {levels['6']} subheadings"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
