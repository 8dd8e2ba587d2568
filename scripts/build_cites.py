"""Compact the Species+ "Index of CITES Species" export into src/dragonnet/reference/data/cites-taxa.csv.gz.

Run: .venv/bin/python scripts/build_cites.py [path/to/index-of-cites-species-YYYY-MM-DD.csv(.gz)] [--version V]

Keeps, per taxon record: id, name, rank, hierarchy (kingdom..genus), author, current listing, a short
annotation (dropped when longer than 200 characters, keeping its # symbol), CitesAccepted, en/es/fr common
names; then one row per synonym parsed from SynonymsWithAuthors (name, accepted name). Distribution columns are
left out. The curated file data/cites-common-names-regional.csv is checked: every target must exist.

Attribution (required wherever the data is shown or shipped):
UNEP (2017). The Species+ Website. Nairobi, Kenya. Compiled by UNEP-WCMC, Cambridge, UK.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dragonnet.reference import cites  # noqa: E402

DEFAULT_SOURCE = Path("/work/shared/data/cites/index-of-cites-species-2017-04-21.csv.gz")
OUT = ROOT / "src" / "dragonnet" / "reference" / "data" / "cites-taxa.csv.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--version", help='e.g. "Species+ 2017-04-21" (default: from the date in the file name)')
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    m = re.search(r"(\d{4}-\d{2}-\d{2})", args.source.name)
    version = args.version or (f"Species+ {m.group(1)}" if m else "Species+")
    t0 = time.perf_counter()
    rows, stated = cites.read_rows(args.source)
    if stated:
        print("the source is already compacted; rewriting it", file=sys.stderr)
    taxa = sum(1 for r in rows if r["status"] == "A")
    synonyms = len(rows) - taxa
    n = cites.write_compact(rows, args.out, version=version, source=args.source.name)
    print(f"wrote {n} rows ({taxa} taxa + {synonyms} synonyms) to {args.out}")
    print(f"  {args.out.stat().st_size} bytes, version {version!r}, {time.perf_counter() - t0:.1f} s")
    # Check the curated names against the new file.
    # Targets may be records, or classes/orders/families/genera above them; rows with a rank name taxa CITES does
    # not list (data/taxon-vocabulary.csv) and need not be in the file.
    names = {r["name"] for r in rows}
    ranks = ("kingdom", "class", "order", "family", "genus")
    names |= {r[c] for r in rows if r["status"] == "A" for c in ranks if r[c]}
    missing = sorted({t for c in cites.curated_rows() if not c.rank for t in c.taxon.split("|") if t not in names})
    if missing:
        print("curated targets not in the file: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
