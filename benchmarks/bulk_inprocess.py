"""The API's bulk create in-process, by stage and by batch size: what a request costs whatever its size, and
what each 1,000 cases add.

    python benchmarks/bulk_inprocess.py [--cases 10000] [--batches 250,1000,2000] [--backend postgresql]

For each batch size, on a fresh database set up as `bulk_api_vs_import.py` sets it up (operation, agency, 20
watchers with 25 watched containers each, a reporter), the same generated cases are sent as the API's route
handles them, without HTTP: the JSON parsed, `bulk_body`, `bulk.create_cases`, `bulk_response`, the commit. One
warm-up request first. Prints, per request, the CPU time of each stage (this process, Polars' threads included:
validation, the write and its watchlist hook, the audit entries, the status rows, the body, the response) and
the Polars queries run; then, per stage, a least-squares line through the batch sizes: its fixed cost per
request and its cost per 1,000 cases. The file import pays the fixed part once per file; the API once per request.
PostgreSQL: $DRAGONNET_BENCH_POSTGRES_URL, else $DRAGONNET_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bulk_api_vs_import import client_batches, databases, reporter_token, warm_sample  # noqa: E402
from import_vs_copy import generate, prepare  # noqa: E402
from report_inprocess import PolarsQueries, Stages  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

# (module, attribute, stage): each wrapped where its caller looks it up.
STAGES = (
    ("dragonnet.intake.bulk", "validate_cases", "validation"),
    ("dragonnet.intake.bulk", "write_cases", "write (cases, items, transits, hook)"),
    ("dragonnet.messaging.watchlists", "check_written_cases", "- watchlist hook"),
    ("dragonnet.intake.bulk", "record_many", "audit entries"),
    ("dragonnet.intake.bulk", "insert_rows", "status rows"),
    ("dragonnet.intake.bulk", "_refs_free", "refs already used"),
    ("dragonnet.api.cases", "bulk_body", "the body (check, batch)"),
    ("dragonnet.api.cases", "bulk_response", "the response"),
)


def instrument() -> Stages:
    import importlib

    stages = Stages()
    for module, attribute, name in STAGES:
        stages.wrap(importlib.import_module(module), attribute, name)
    return stages


def measure(url: str, bodies: list[bytes], warm: bytes, stages: Stages, queries: PolarsQueries) -> dict[str, float]:
    """CPU seconds per request of each stage (and of the whole request), and Polars queries per request."""
    from dragonnet.api import cases as api_cases
    from dragonnet.intake import bulk
    from dragonnet.policy.access import Actor
    from dragonnet.storage.models import Operation, User

    engine = prepare(url)
    reporter_token(url)

    def request(body: bytes) -> None:
        with Session(engine) as s:
            user = s.execute(select(User).where(User.username == "bulk.reporter")).scalar_one()
            slug, batch = api_cases.bulk_body(json.loads(body))
            operation = s.execute(select(Operation).where(Operation.slug == slug)).scalar_one()
            api_cases.bulk_response(bulk.create_cases(s, Actor.for_user(user), operation, batch))
            s.commit()

    request(warm)
    stages.reset()
    queries.count = 0
    start = time.process_time()
    for body in bodies:
        request(body)
    per_request = {name: seconds / len(bodies) for name, seconds in stages.cpu.items()}
    per_request["whole request"] = (time.process_time() - start) / len(bodies)
    per_request["Polars queries"] = queries.count / len(bodies)
    engine.dispose()
    return per_request


def fit(sizes: list[int], values: list[float]) -> tuple[float, float]:
    """Least-squares line through (batch size, value): (value at 0 cases, value per 1,000 cases)."""
    slope, intercept = statistics.linear_regression(sizes, values)
    return intercept, slope * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batches", default="250,1000,2000", help="cases per request, comma-separated")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    sizes = [int(b) for b in args.batches.split(",")]
    stages, queries = instrument(), PolarsQueries()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        path, warm = tmp / "cases.csv", tmp / "warm.csv"
        generate(path, args.cases * 2, 2)
        warm_sample(path, warm)
        for n, size in enumerate(sizes, start=1):
            with databases(args.backend, tmp, n, count=1) as (url,):
                (warm_body,) = client_batches(warm, size)
                results[size] = measure(url, client_batches(path, size), warm_body, stages, queries)
    names = list(results[sizes[0]])
    print(f"{args.backend}: {args.cases:,} cases (2 items each), CPU ms per request (Polars: queries per request)")
    print(f"{'stage':40s}" + "".join(f"{size:>10,}" for size in sizes) + f"{'fixed':>10s}{'per 1,000':>11s}")
    for name in names:
        values = [results[size].get(name, 0.0) for size in sizes]
        scale = 1 if name == "Polars queries" else 1000
        fixed, per_thousand = fit(sizes, values) if len(sizes) > 1 else (float("nan"), float("nan"))
        print(f"{name:40s}" + "".join(f"{v * scale:10.1f}" for v in values)
              + f"{fixed * scale:10.1f}{per_thousand * scale:11.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
