"""Spark and single-machine (DuckDB) scoring and training-data preparation agree exactly, hence the same lanes."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from dragonnet.targeting import engine, generator, lanes
from dragonnet.targeting import model as mdl
from dragonnet.targeting.profiles import ProfileSet, builtin_profiles

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (apt-get install openjdk-17-jre-headless)")
    pytest.importorskip("pyspark")
    from dragonnet.targeting.spark_job import spark_session

    session = spark_session("local[1]")
    yield session
    session.stop()


def test_spark_gives_the_same_scores(spark: Any, tmp_path: Path) -> None:
    from dragonnet.targeting.spark_job import SparkWorkspace, training_frame

    hist, new = tmp_path / "hist.parquet", tmp_path / "new.parquet"
    pq.write_table(generator.generate(3000, seed=21, days=120), hist)
    pq.write_table(generator.generate(600, seed=22, days=10, id_prefix="N").drop(["outcome"]), new)
    shipped = builtin_profiles("default")
    # One profile mandatory (always red), so the lanes depend on the mandatory flags as well as the scores.
    profiles = ProfileSet(tuple(dataclasses.replace(p, mandatory=p.id == "horn-and-carving-material")
                                for p in shipped.profiles), shipped.lanes)  # fmt: skip
    results = [("D000000007", 1), ("D000000008", 0)]
    flagged = ["IMP107", "IMP7"]

    with engine.Workspace([hist], results=results, flagged=flagged, threads=1) as ws:
        local_train = ws.frame(profiles, mode="train")
        spec = engine.fit(local_train, ws.extras, profiles, rounds=40, threads=1)  # the model and lane weights
    with engine.Workspace([new], [hist], results=results, flagged=flagged, extras=spec.extras, threads=1) as ws:
        local = ws.score(profiles, spec).to_pandas().sort_values("declaration_id").reset_index(drop=True)

    sws = SparkWorkspace(spark, [hist], results=results, flagged=flagged)
    remote_train = training_frame(sws, profiles).sort_values("declaration_id").reset_index(drop=True)
    sws = SparkWorkspace(spark, [new], [hist], results=results, flagged=flagged, extras=spec.extras)
    remote = sws.score(profiles, spec).toPandas().sort_values("declaration_id").reset_index(drop=True)

    # Training-data preparation: the same rows, the same party-history counts, the same feature matrix.
    local_train = local_train[local_train["label"].notna()].sort_values("declaration_id").reset_index(drop=True)
    assert local_train["declaration_id"].tolist() == remote_train["declaration_id"].tolist()
    assert np.array_equal(mdl.matrix(local_train, spec), mdl.matrix(remote_train, spec), equal_nan=True)
    assert local_train["label"].astype(int).tolist() == remote_train["label"].astype(int).tolist()

    # Scoring: rule scores, fired profiles, model scores, lane scores and mandatory flags are identical.
    assert local["declaration_id"].tolist() == remote["declaration_id"].tolist()
    assert len(local) == 600
    assert (local["rule_score"] > 0).sum() > 20  # the rules do fire on this data
    assert local["mandatory"].sum() > 0
    for col in ("rule_score", "mask_0", "model_p", "score", "mandatory"):
        assert np.array_equal(local[col].to_numpy(), remote[col].to_numpy()), col

    # Hence the same lanes, office by office (lanes.assign on the scores and the mandatory flags).
    for office, idx in local.groupby("office_locode").groups.items():
        here = lanes.assign(local.loc[idx, "score"].to_numpy(), profiles.lanes, local.loc[idx, "mandatory"].to_numpy())
        there_rows = remote[remote["office_locode"] == office]
        there = lanes.assign(there_rows["score"].to_numpy(), profiles.lanes, there_rows["mandatory"].to_numpy())
        assert list(here.lane) == list(there.lane) and list(here.random) == list(there.random), office
        assert set(here.lane[local.loc[idx, "mandatory"].to_numpy()]) <= {lanes.RED}
