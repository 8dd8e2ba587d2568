"""Entity resolution on a real Spark standalone cluster (a master and two workers on loopback), reading its
input and writing its results as Parquet in a shared folder: the same links and entities as DuckDB.

This is the suite's check that resolution on Spark equals DuckDB's (the same population a local-mode copy of it
used, which only differed by its master); a local session (`resolve.local_spark`, what `--backend spark` uses
without a master) runs Splink in tests/linkage/test_screening_matching.py's Spark test."""

from __future__ import annotations

from pathlib import Path

import pytest

from dragonnet.cluster import SparkCluster, read_parquet
from dragonnet.linkage.resolve import resolve
from linkage.test_resolve import small_population
from spark_cluster import standalone_cluster

pytestmark = pytest.mark.slow


def test_a_standalone_cluster_resolves_like_duckdb(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    parties, _truth = small_population(seed=5, people=40)
    duck = resolve(parties, backend="duckdb")
    with standalone_cluster(workers=2) as cluster:
        job = SparkCluster(cluster.master_url, str(tmp_path / "shared"),
                           {"spark.executor.memory": "512m", "spark.cores.max": "2", "spark.driver.host": "127.0.0.1",
                            "spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "4"})  # fmt: skip
        on_cluster = resolve(parties, backend="spark", spark=job)
        executors = cluster.executor_dirs()
        apps = cluster.state().get("completedapps", [])
    assert on_cluster.links == duck.links
    assert on_cluster.cluster_members() == duck.cluster_members()
    # the executors ran on the cluster's two workers, not in this process
    assert {p.parent.parent.name for p in executors} == {"worker-0", "worker-1"}
    assert any(app.get("name") == "dragonnet-linkage" for app in apps)  # type: ignore[union-attr]
    # input and results are Parquet files in the shared folder
    assert on_cluster.output is not None and on_cluster.output.startswith(str(tmp_path / "shared"))
    records = read_parquet(f"{on_cluster.output}/records.parquet")
    pairs = read_parquet(f"{on_cluster.output}/pairs.parquet")
    clusters = read_parquet(f"{on_cluster.output}/clusters.parquet")
    assert records.num_rows == len(parties)
    left, right, probability = (
        pairs.column(c).to_pylist() for c in ("unique_id_l", "unique_id_r", "match_probability")
    )
    above = {(min(a, b), max(a, b)) for a, b, p in zip(left, right, probability, strict=True)
             if p >= on_cluster.threshold}  # fmt: skip
    assert sorted(above) == [(p.left, p.right) for p in on_cluster.pairs]
    assert dict(zip(clusters.column("party_id").to_pylist(), clusters.column("cluster_id").to_pylist(),
                    strict=True)) == duck.clusters  # fmt: skip
