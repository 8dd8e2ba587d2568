"""Targeting on a real Spark standalone cluster (a master and two workers on loopback): the declarations and
history go to a shared folder as Parquet, the executors score them and write the scores there; the scores
are DuckDB's, and so are the lanes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from dragonnet.cluster import SparkCluster, read_parquet
from dragonnet.targeting import engine, generator, lanes
from dragonnet.targeting.profiles import builtin_profiles
from spark_cluster import standalone_cluster

pytestmark = pytest.mark.slow


def test_a_standalone_cluster_scores_like_duckdb(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from dragonnet.targeting.spark_job import SCORE_COLUMNS, score_on_cluster

    hist, new = tmp_path / "hist.parquet", tmp_path / "new.parquet"
    pq.write_table(generator.generate(2000, seed=31, days=90), hist)
    pq.write_table(generator.generate(400, seed=32, days=7, id_prefix="N").drop(["outcome"]), new)
    profiles = builtin_profiles("default")
    results = [("D000000011", 1)]
    with engine.Workspace([hist], results=results, threads=1) as ws:
        spec = engine.fit(ws.frame(profiles, mode="train"), ws.extras, profiles, rounds=30, threads=1)
    with engine.Workspace([new], [hist], results=results, extras=spec.extras, threads=1) as ws:
        local = ws.score(profiles, spec).to_pandas().sort_values("declaration_id").reset_index(drop=True)

    with standalone_cluster(workers=2) as cluster:
        job = SparkCluster(cluster.master_url, str(tmp_path / "shared"),
                           {"spark.executor.memory": "512m", "spark.cores.max": "2", "spark.driver.host": "127.0.0.1",
                            "spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "4"})  # fmt: skip
        scored = score_on_cluster(job, new, [hist], profiles, spec, results=results)
        executors = cluster.executor_dirs()
        apps = cluster.state().get("completedapps", [])
    assert {p.parent.parent.name for p in executors} == {"worker-0", "worker-1"}  # not in this process
    assert any(app.get("name") == "dragonnet-targeting" for app in apps)  # type: ignore[union-attr]

    # the run's input and the scores the executors wrote are Parquet in the shared folder
    assert scored.output.startswith(str(tmp_path / "shared"))
    assert read_parquet(f"{scored.output}/decl.parquet").num_rows == 400
    on_disk = read_parquet(f"{scored.output}/scores.parquet").to_pandas()
    assert list(on_disk.columns) == SCORE_COLUMNS and len(on_disk) == 400

    remote = scored.frame.sort_values("declaration_id").reset_index(drop=True)
    assert local["declaration_id"].tolist() == remote["declaration_id"].tolist()
    assert (local["rule_score"] > 0).sum() > 10  # the rules fire on this data
    for col in ("rule_score", "model_p", "score", "mandatory"):
        assert np.array_equal(local[col].to_numpy(), remote[col].to_numpy()), col
    here = lanes.assign(local["score"].to_numpy(), profiles.lanes, local["mandatory"].to_numpy())
    there = lanes.assign(remote["score"].to_numpy(), profiles.lanes, remote["mandatory"].to_numpy())
    assert list(here.lane) == list(there.lane)
