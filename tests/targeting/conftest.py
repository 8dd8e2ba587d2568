"""Fixtures for the targeting tests: small generated declarations, the KCS data when present."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dragonnet.targeting import generator

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("DRAGONNET_SHARED_DATA", str(REPO.parent / "shared" / "data")))
KCS_DIR = SHARED / "customs-declarations-kcs"


def kcs_file(split: str) -> Path:
    """A KCS split; the test is skipped when the shared data is absent (a failure in CI)."""
    path = KCS_DIR / f"df_syn_{split}_eng.csv.gz"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared data: {path} is missing")
        pytest.skip(f"{path} not found (set DRAGONNET_SHARED_DATA)")
    return path


@pytest.fixture
def small_parquet(tmp_path: Path) -> Path:
    """20,000 generated declarations of 2024 (generator patterns documented in targeting.generator)."""
    path = tmp_path / "decl.parquet"
    pq.write_table(generator.generate(20_000, seed=5, start=dt.date(2024, 1, 1), days=180), path)
    return path


from web.webtest import app_client, seeded_db  # noqa: E402, F401 - fixtures
