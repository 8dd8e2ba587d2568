"""Spark and single-machine (DuckDB) scoring and training-data preparation agree exactly."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from dragonnet.targeting import engine, generator
from dragonnet.targeting import model as mdl
from dragonnet.targeting.profiles import builtin_profiles

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
    profiles = builtin_profiles("default")
    results = [("D000000007", 1), ("D000000008", 0)]
    flagged = ["IMP107", "IMP7"]

    with engine.Workspace([hist], results=results, flagged=flagged, threads=1) as ws:
        local_train = ws.frame(profiles, mode="train")
        spec = mdl.train(local_train, ws.extras, rounds=40, threads=1)
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

    # Scoring: rule scores, fired profiles, model scores and final scores are identical.
    assert local["declaration_id"].tolist() == remote["declaration_id"].tolist()
    assert len(local) == 600
    assert (local["rule_score"] > 0).sum() > 20  # the rules do fire on this data
    for col in ("rule_score", "mask_0", "model_p", "score"):
        assert np.array_equal(local[col].to_numpy(), remote[col].to_numpy()), col
