"""The same scoring and training-data preparation as a PySpark job (volumes beyond one machine).

The queries are the ones DuckDB runs (`features.history_sql`, `features.scoring_sql`, the compiled
profiles), in the Spark SQL dialect; the model and the lane score are applied with `mapInPandas` by the same
`engine.score_batch` (same `model.matrix`, the same LightGBM booster shipped as its text dump, the same learned
profile weights). Same data in, same scores out, hence the same lanes (`lanes.assign` on the scores and the
mandatory flags).

    spark = spark_session("local[4]")
    ws = SparkWorkspace(spark, [decl.parquet], [history.parquet])
    scored = ws.score(profiles, spec)     # a Spark DataFrame: ids, rule_score, masks, model_p, score, mandatory

On an existing cluster (`score_on_cluster`, `dragonnet targeting score --backend spark --spark-master URL
--spark-dir DIR`), the declarations and the history are copied to the shared folder as Parquet, the cluster's
executors score them and write `scores.parquet` there, and this process reads it back.
"""

# ruff: noqa: S608  (SQL is assembled from validated identifiers and escaped literals, see targeting.sql)

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dragonnet.cluster import SparkCluster, copy_file, get_or_create, read_parquet
from dragonnet.targeting import model as mdl
from dragonnet.targeting.declarations import COLUMNS, EXTRA_PREFIX, LABEL_COLUMNS
from dragonnet.targeting.engine import mask_columns, score_batch
from dragonnet.targeting.features import Extras, history_sql, scoring_sql
from dragonnet.targeting.profiles import ProfileSet
from dragonnet.targeting.sql import SPARK

SPARK_TYPES = {"VARCHAR": "STRING", "DATE": "DATE", "DOUBLE": "DOUBLE", "INTEGER": "INT"}


def spark_session(master: str = "local[1]", app_name: str = "dragonnet-targeting") -> Any:
    from pyspark.sql import SparkSession

    # Python workers run the same interpreter (they import dragonnet to apply the model).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
    )
    return get_or_create(builder, master)


class SparkWorkspace:
    """Views `decl`, `hist`, `results`, `flagged_parties` and the history tables in a Spark session."""

    def __init__(
        self,
        spark: Any,
        decl: Sequence[Path | str],
        history: Sequence[Path | str] | None = None,
        *,
        results: Iterable[tuple[str, int]] = (),
        flagged: Iterable[str] = (),
        extras: Extras | None = None,
        prefix: str = "",
    ) -> None:
        self.spark = spark
        res = list(results)
        spark.createDataFrame(
            pd.DataFrame({"declaration_id": pd.Series([r[0] for r in res], dtype=object),
                          "outcome": pd.Series([int(r[1]) for r in res], dtype="int32")}),
            "declaration_id STRING, outcome INT",
        ).createOrReplaceTempView("results_in")  # fmt: skip
        spark.sql(
            "SELECT declaration_id, max(outcome) AS outcome FROM results_in GROUP BY declaration_id"
        ).createOrReplaceTempView("results")
        spark.createDataFrame(
            pd.DataFrame({"party": pd.Series(sorted(set(flagged)), dtype=object)}), "party STRING"
        ).createOrReplaceTempView("flagged_parties")
        decl_df = spark.read.option("mergeSchema", "true").parquet(*[str(p) for p in decl])
        self.extras = extras if extras is not None else _extras(decl_df)
        self._view("decl", decl_df, self.extras)
        hist_df = spark.read.option("mergeSchema", "true").parquet(*[str(p) for p in (history or decl)])
        self._view("hist", hist_df, None)
        for table, query in history_sql(SPARK).items():
            spark.sql(query).cache().createOrReplaceTempView(table)

    def _view(self, name: str, df: Any, extras: Extras | None) -> None:
        df.createOrReplaceTempView(f"{name}_raw")
        have = set(df.columns)
        cols = [f"d.{c}" for c in df.columns if c != "outcome"]
        cols += [
            f"CAST(NULL AS {SPARK_TYPES[t]}) AS {c}" for c, t in COLUMNS.items() if c not in have and c != "outcome"
        ]
        if extras:
            cols += [f"CAST(NULL AS DOUBLE) AS {c}" for c in extras.numeric if c not in have]
            cols += [f"CAST(NULL AS STRING) AS {c}" for c in extras.text if c not in have]
        outcome = "COALESCE(r.outcome, CAST(d.outcome AS INT))" if "outcome" in have else "r.outcome"
        self.spark.sql(
            f"SELECT {', '.join(cols)}, {outcome} AS outcome FROM {name}_raw d"
            " LEFT JOIN results r ON r.declaration_id = d.declaration_id"
        ).createOrReplaceTempView(name)

    def frame(self, profiles: ProfileSet, *, mode: str = "score") -> Any:
        """The feature/scoring query as a Spark DataFrame (training-data preparation with mode="train")."""
        return self.spark.sql(scoring_sql(SPARK, profiles, self.extras, mode=mode))

    def score(self, profiles: ProfileSet, spec: mdl.ModelSpec | None) -> Any:
        """Rule score, masks, model probability, lane score and mandatory flag per declaration (mapInPandas
        with `engine.score_batch`, the function the single-machine pipeline applies)."""
        frame = self.frame(profiles)
        masks = mask_columns(profiles)
        schema = ", ".join(
            ["declaration_id STRING", "declaration_date DATE", "office_locode STRING", "label INT",
             "rule_score DOUBLE", *(f"{m} BIGINT" for m in masks), "model_p DOUBLE", "score DOUBLE",
             "mandatory BOOLEAN"]
        )  # fmt: skip
        meta = spec.to_json() if spec else None
        booster = spec.booster_text if spec else None
        keep = ["declaration_id", "declaration_date", "office_locode", "label", "rule_score", *masks]

        def apply(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            local = mdl.ModelSpec.from_json(meta, booster) if meta and booster else None
            for pdf in batches:
                scored = score_batch(pdf, profiles, local, threads=1)
                out = pdf[keep].copy()
                out["model_p"] = scored.model_p
                out["score"] = scored.score
                out["mandatory"] = scored.mandatory
                yield out

        return frame.mapInPandas(apply, schema)


def _extras(df: Any) -> Extras:
    numeric: list[str] = []
    text: list[str] = []
    for name, dtype in df.dtypes:
        if not name.startswith(EXTRA_PREFIX) or name in LABEL_COLUMNS:
            continue
        (text if dtype == "string" else numeric).append(name)
    return Extras(tuple(sorted(numeric)), tuple(sorted(text)))


def training_frame(ws: SparkWorkspace, profiles: ProfileSet) -> pd.DataFrame:
    """Training-data preparation on Spark, collected (for a model trained on one machine)."""
    return ws.frame(profiles, mode="train").where("label IS NOT NULL").toPandas()


SCORE_COLUMNS = ["declaration_id", "declaration_date", "office_locode", "mandatory", "score", "rule_score", "model_p"]


@dataclass(frozen=True)
class ClusterScores:
    frame: pd.DataFrame  # SCORE_COLUMNS, one row per declaration
    output: str  # the run's folder in the shared location: decl.parquet, history/, scores.parquet


def score_on_cluster(
    cluster: SparkCluster,
    decl: Path,
    history: Sequence[Path],
    profiles: ProfileSet,
    spec: mdl.ModelSpec | None,
    *,
    results: Iterable[tuple[str, int]] = (),
    flagged: Iterable[str] = (),
) -> ClusterScores:
    """Score `decl` on an existing Spark cluster through its shared folder (see the module docstring)."""
    run_dir = cluster.run_dir("targeting")
    copy_file(str(decl), f"{run_dir}/decl.parquet")
    hist = [f"{run_dir}/history/part-{i:04d}.parquet" for i in range(len(history))]
    for source, target in zip(history, hist, strict=True):
        copy_file(str(source), target)
    # The executors apply the model in Python: by default the interpreter of this process (the same path on
    # every node, with dragonnet installed); another one with --spark-conf spark.pyspark.python=PATH.
    python = cluster.conf.get("spark.pyspark.python", sys.executable)
    cluster = dataclasses.replace(cluster, conf={**cluster.conf, "spark.pyspark.python": python})
    os.environ["PYSPARK_PYTHON"] = python  # what PySpark sends to the executors as their interpreter
    spark = cluster.session("dragonnet-targeting")
    try:
        ws = SparkWorkspace(spark, [f"{run_dir}/decl.parquet"], hist or [f"{run_dir}/decl.parquet"],
                            results=results, flagged=flagged, extras=spec.extras if spec else None)  # fmt: skip
        ws.score(profiles, spec).select(*SCORE_COLUMNS).write.mode("overwrite").parquet(f"{run_dir}/scores.parquet")
    finally:
        spark.stop()
    frame = read_parquet(f"{run_dir}/scores.parquet").to_pandas()
    frame = frame.sort_values(["score", "declaration_id"], ascending=[False, True], kind="stable")
    return ClusterScores(frame.reset_index(drop=True), run_dir)
