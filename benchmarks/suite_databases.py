"""What a test's database costs: built for the test (as the suite did) against cloned from a template (as it does).

    python benchmarks/suite_databases.py [--repeat 5] [--demo] [--sqlite-only]

For each kind of test database (tests/dbtemplates.py) and backend, `--repeat` times each:

* **build**: what every test (every module, for the demo) used to do: migrate an empty database with Alembic,
  then fill it (the web seed, the security battery's canary world, the demo);
* **clone**: what it does now: copy the worker's template (a file copy on SQLite, CREATE DATABASE ... TEMPLATE
  on PostgreSQL); the template is built once beforehand and not counted.

Prints the median wall time per database and the ratio build/clone. PostgreSQL from
$DRAGONNET_TEST_POSTGRES_URL (databases are created and dropped), skipped when unset. `--demo` adds the demo
operation (many seconds per build).
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from dbtemplates import TEMPLATES, create_postgres_database, drop_postgres_database, migrate  # noqa: E402


def _kinds(with_demo: bool) -> list[str]:
    # Importing the fixtures' modules registers their kinds.
    modules = ["web.webtest", "admin.conftest", "security.conftest"] + (["demo.conftest"] if with_demo else [])
    for module in modules:
        importlib.import_module(module)
    return ["migrated", "seeded", "admin_world", "security_world"] + (["demo"] if with_demo else [])


def _fresh(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'dragonnet.db'}"
    return create_postgres_database(f"dragonnet_bench_{uuid.uuid4().hex[:12]}")


def build_once(kind: str, backend: str, folder: Path) -> str:
    """The database as a test built it before templates: migrate, then the kind's builder."""
    url = _fresh(backend, folder)
    migrate(url)
    if kind != "migrated":
        _base, build, files = TEMPLATES.builders[kind]
        build(url, folder) if files else build(url)
    return url


def clone_once(kind: str, backend: str, folder: Path) -> str:
    url, _ = TEMPLATES.clone(kind, backend, folder)
    return url


def timed(step: Callable[[str, str, Path], str], kind: str, backend: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="dragonnet-suite-db-bench-"))
        started = time.perf_counter()
        url = step(kind, backend, folder)
        times.append(time.perf_counter() - started)
        if backend == "postgresql":
            drop_postgres_database(url)
        shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--demo", action="store_true", help="also the demo operation (slow to build)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite"]
    if os.environ.get("DRAGONNET_TEST_POSTGRES_URL") and not args.sqlite_only:
        backends.append("postgresql")
    print(f"{'kind':16} {'backend':10} {'build s':>9} {'clone s':>9} {'ratio':>7}")
    try:
        for kind in _kinds(args.demo):
            for backend in backends:
                repeat = 1 if kind == "demo" else args.repeat
                timed(clone_once, kind, backend, 1)  # builds the template (not counted)
                build = timed(build_once, kind, backend, repeat)
                clone = timed(clone_once, kind, backend, max(repeat, 3))
                print(f"{kind:16} {backend:10} {build:9.3f} {clone:9.3f} {build / clone:7.1f}", flush=True)
    finally:
        TEMPLATES.drop_all()


if __name__ == "__main__":
    main()
