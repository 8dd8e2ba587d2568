"""`dragonnet targeting import | train | score | evaluate | lists` (the Typer app the main CLI mounts)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dragonnet.cli.targeting import targeting_app
from dragonnet.targeting import generator


def test_import_train_score_evaluate(
    db_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite":
        pytest.skip("the CLI's database handling is the same on both backends")
    monkeypatch.setenv("DRAGONNET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DRAGONNET_SECRET_KEY", "x" * 32)
    hist, new = tmp_path / "hist.parquet", tmp_path / "new.csv"
    pq.write_table(generator.generate(8000, seed=2, days=200), hist)
    generator.generate(500, seed=3, start=dt.date(2024, 8, 1), days=5, id_prefix="N").drop(
        ["outcome"]
    ).to_pandas().to_csv(new, index=False)
    runner = CliRunner()
    db = ["--database-url", db_url]
    result = runner.invoke(targeting_app, ["import", str(hist), *db])
    assert result.exit_code == 0, result.output
    assert "imported 8000 declarations (8000 with an inspection result" in result.output
    result = runner.invoke(targeting_app, ["train", "--rounds", "30", "--threads", "1", *db])
    assert result.exit_code == 0, result.output
    assert "model version 1" in result.output and "lane" in result.output and "weights learned" in result.output
    out = tmp_path / "ranked.csv"
    result = runner.invoke(targeting_app, ["score", str(new), "--out", str(out), "--threads", "1", *db])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 500
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert {r["lane"] for r in rows} == {"red", "yellow", "green"}
    assert all(r["explanation"] for r in rows if r["lane"] != "green")
    result = runner.invoke(targeting_app, ["evaluate", "--rounds", "30", "--threads", "1", *db])
    assert result.exit_code == 0, result.output
    assert "random" in result.output and "@5%" in result.output
    bad = runner.invoke(targeting_app, ["import", str(tmp_path / "missing.csv"), *db])
    assert bad.exit_code == 1 and bad.output.startswith("error:")
