"""`dragonnet targeting import | train | score | evaluate | lists | profiles` (the Typer app the main CLI mounts)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dragonnet.cli.targeting import targeting_app
from dragonnet.targeting import generator
from targeting.helpers import build_profile_world
from web.seed import Seeded


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


def test_profiles_import_list_review_history_report(
    db_url: str, backend: str, seeded_db: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite":
        pytest.skip("the CLI's database handling is the same on both backends")
    monkeypatch.setenv("DRAGONNET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DRAGONNET_SECRET_KEY", "x" * 32)
    (tmp_path / "data").mkdir()
    world = build_profile_world(db_url, tmp_path / "data")
    runner = CliRunner()
    db = ["--database-url", db_url]
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "profiles:\n  - {id: t-extra, owner: TH-CUS, sharing: green, conditions: [{field: mode, eq: road}]}\n"
    )
    result = runner.invoke(targeting_app, ["profiles", "import", str(extra), "--as", "th_reporter", *db])
    assert result.exit_code == 0, result.output
    assert "extra.yaml: 1 created, 0 updated, 0 unchanged" in result.output
    result = runner.invoke(targeting_app, ["profiles", "list", "--as", "vn_reporter", "--json", *db])
    assert result.exit_code == 0, result.output
    assert {p["id"] for p in json.loads(result.output)} == {"t-words", "t-origin", "t-value", "t-repeat", "t-horn",
                                                             "t-extra"}  # fmt: skip
    review = ["profiles", "review", "t-extra", "--as", "th_reporter", "--decision", "keep"]
    result = runner.invoke(targeting_app, [*review, "--next-review", "2099-01-01", "--mandatory", "--note", "ok", *db])
    assert result.exit_code == 0, result.output
    assert "profile t-extra: version 2, active, review by 2099-01-01" in result.output and "mandatory" in result.output
    refused = runner.invoke(targeting_app, ["profiles", "review", "t-extra", "--as", "vn_reporter", "--decision",
                                            "retire", "--note", "x", *db])  # fmt: skip
    assert refused.exit_code == 1 and refused.output.startswith("error: only TH-CUS may review")
    result = runner.invoke(targeting_app, ["profiles", "history", "t-extra", "--as", "th_reporter", *db])
    assert result.exit_code == 0 and "v2" in result.output and "reviewed" in result.output
    result = runner.invoke(targeting_app, ["profiles", "report", "--as", "th_reporter", "--from", "2024-06-01",
                                           "--office", "thbkk", "--json", *db])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["office"] == "THBKK" and report["baseline"]["inspected"] == len(world.recorded)
    text = runner.invoke(targeting_app, ["profiles", "report", "--as", "th_reporter", "--from", "2024-02-01",
                                         "--to", "2024-04-30", *db])  # fmt: skip
    assert text.exit_code == 0, text.output
    assert "t-origin" in text.output and "review due since 2024-02-01" in text.output and "95% CI" in text.output
    bad = runner.invoke(targeting_app, ["profiles", "report", "--as", "th_reporter", "--from", "June", *db])
    assert bad.exit_code == 1 and bad.output.startswith("error: --from: not a date")
    nobody = runner.invoke(targeting_app, ["profiles", "list", "--as", "nobody", *db])
    assert nobody.exit_code == 1 and nobody.output.startswith("error: unknown or disabled user")


def test_declared_hs_codes_are_checked_against_hs_2022(
    db_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite":
        pytest.skip("the check reads the stored Parquet batch, whatever the database")
    monkeypatch.setenv("DRAGONNET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DRAGONNET_SECRET_KEY", "x" * 32)
    declared = tmp_path / "declared.csv"
    codes = ["050710", "0507.10", "96019000", "99999999", "0599", "", "0599"]
    with declared.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["declaration_id", "declaration_date", "office_locode", "hs_code"])
        w.writerows([f"D{n}", "2024-06-01", "THBKK", code] for n, code in enumerate(codes))
    result = CliRunner().invoke(targeting_app, ["import", str(declared), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "imported 7 declarations" in result.stdout
    # kept as declared, warned with the commonest unknown codes first (an empty cell is no code)
    assert "warning: 3 of 6 declared HS code(s) are not in HS 2022" in result.stderr
    assert "0599 (2), 99999999 (1)" in result.stderr
