"""The watchlist hook's cost for one API batch with no watched value (the common request), in-process.

    DRAGONNET_BENCH_POSTGRES_URL=postgresql://USER@HOST:PORT/DB .venv/bin/python benchmarks/watchlist_hook.py \
        [--cases 1000] [--calls 30]

Creates a throwaway database next to the one named (set up as `import_vs_copy.prepare`: 20 watchers with 25
watched containers each), then times `watchlists.check_written_cases` on a batch's frames (`--cases` cases with
a container and a person each, none watched) `--calls` times and prints the median and the minimum. For an A/B
against another checkout, run it with `PYTHONPATH=<other>/src`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_vs_copy import prepare, server_url, throwaway_databases

from dragonnet.domain.identifiers import iso6346_check_digit
from dragonnet.messaging import watchlists


def batch(cases: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = random.Random(3)
    owners = [f"MSKU{rng.randrange(10**6):06d}" for _ in range(cases)]
    ids = list(range(10**7, 10**7 + cases))
    frame = pl.DataFrame({"case_id": ids, "conveyance_ref": [o + str(iso6346_check_digit(o)) for o in owners]})
    parties = pl.DataFrame(
        {"case_id": ids, "kind": ["person"] * cases, "name": [f"Nguyen Van {i}" for i in range(cases)],
         "phone": [None] * cases, "email": [None] * cases, "id_number": [None] * cases},
        schema={"case_id": pl.Int64, "kind": pl.String, "name": pl.String, "phone": pl.String, "email": pl.String,
                "id_number": pl.String},
    )  # fmt: skip
    return frame, parties


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with throwaway_databases(server_url(), "dragonnet_hook") as (url,):
        engine = prepare(url)
        cases, parties = batch(args.cases)
        times = []
        for _ in range(args.calls):
            with Session(engine) as s:
                t0 = time.perf_counter()
                notified = watchlists.check_written_cases(s, cases, parties)
                times.append(time.perf_counter() - t0)
                assert notified == 0
        print(f"{watchlists.__file__}: {args.cases:,} cases, median {statistics.median(times) * 1000:.1f} ms, "
              f"min {min(times) * 1000:.1f} ms over {args.calls} calls")  # fmt: skip
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
