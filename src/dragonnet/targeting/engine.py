"""The single-machine pipeline on DuckDB: history tables, training frame, streaming scoring, evaluation.

`Workspace` opens an in-memory DuckDB over Parquet files: `decl` (the declarations to score or train on)
and `hist` (the history), with outcomes recorded by officers overriding the files' (`results`), and the
parties seen in seizure cases (`flagged`). Scoring streams record batches of one million rows through the
model, so memory stays flat whatever the file size.
"""

# ruff: noqa: S608  (SQL is assembled from validated identifiers and escaped literals, see targeting.sql)

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from dragonnet.targeting import lanescore
from dragonnet.targeting import model as mdl
from dragonnet.targeting.declarations import COLUMNS, EXTRA_PREFIX, LABEL_COLUMNS, parquet_relation
from dragonnet.targeting.features import Extras, history_sql, mask_count, scoring_sql
from dragonnet.targeting.metrics import AtK, as_dict, at_k, random_at_k
from dragonnet.targeting.profiles import ProfileSet
from dragonnet.targeting.sql import DUCKDB

if TYPE_CHECKING:  # pandas takes ~0.4 s to load: imported where used, not by every process that imports this
    import pandas as pd

BATCH_ROWS = 1_000_000
TEXT_TYPES = ("VARCHAR",)


def _decl_view(con: duckdb.DuckDBPyConnection, name: str, relation: str, extras: Extras | None) -> None:
    """`name`: the declarations with every column of the set (missing ones NULL) and the known outcome."""
    have = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    fill = [f"CAST(NULL AS {t}) AS {c}" for c, t in COLUMNS.items() if c not in have and c != "outcome"]
    if extras:
        fill += [f"CAST(NULL AS DOUBLE) AS {c}" for c in extras.numeric if c not in have]
        fill += [f"CAST(NULL AS VARCHAR) AS {c}" for c in extras.text if c not in have]
    if "outcome" in have:
        star, outcome = "d.* EXCLUDE (outcome)", "COALESCE(r.outcome, CAST(d.outcome AS INTEGER))"
    else:
        star, outcome = "d.*", "r.outcome"
    cols = ", ".join([star, *fill, f"{outcome} AS outcome"])
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} FROM {relation} d"
        " LEFT JOIN results r ON r.declaration_id = d.declaration_id"
    )


class Workspace:
    def __init__(
        self,
        decl: list[Path],
        history: list[Path] | None = None,
        *,
        results: Iterable[tuple[str, int]] = (),
        flagged: Iterable[str] = (),
        extras: Extras | None = None,
        threads: int = 2,
    ) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {int(threads)}")
        self.threads = threads
        res = list(results)
        self.con.register(
            "results_in",
            pa.table({"declaration_id": pa.array([r[0] for r in res], pa.string()),
                      "outcome": pa.array([int(r[1]) for r in res], pa.int32())}),
        )  # fmt: skip
        self.con.execute("CREATE TEMP TABLE results AS SELECT declaration_id, max(outcome) AS outcome "
                         "FROM results_in GROUP BY declaration_id")  # fmt: skip
        self.con.register("flagged_in", pa.table({"party": pa.array(sorted(set(flagged)), pa.string())}))
        self.con.execute("CREATE TEMP TABLE flagged_parties AS SELECT DISTINCT party FROM flagged_in")
        self.extras = extras if extras is not None else detect_extras(self.con, parquet_relation(decl))
        _decl_view(self.con, "decl", parquet_relation(decl), self.extras)
        _decl_view(self.con, "hist", parquet_relation(history if history is not None else decl), None)
        for table, query in history_sql(DUCKDB).items():
            self.con.execute(f"CREATE TEMP TABLE {table} AS {query}")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def frame(self, profiles: ProfileSet, *, mode: str = "score", where: str = "") -> pd.DataFrame:
        query = scoring_sql(DUCKDB, profiles, self.extras, mode=mode)
        if where:
            query = f"SELECT * FROM ({query}) q WHERE {where}"
        return self.con.execute(f"{query} ORDER BY declaration_date, declaration_id").fetch_df()

    def frame_for(self, profiles: ProfileSet, ids: list[str]) -> pd.DataFrame:
        self.con.register("wanted_in", pa.table({"id": pa.array(ids, pa.string())}))
        return self.frame(profiles, where="declaration_id IN (SELECT id FROM wanted_in)")

    def score(self, profiles: ProfileSet, spec: mdl.ModelSpec | None, *, batch_rows: int = BATCH_ROWS) -> pa.Table:
        """Every declaration's rule score, fired-profile masks, model probability, lane score and whether a
        mandatory profile fired (streamed in batches of `batch_rows`)."""
        query = scoring_sql(DUCKDB, profiles, spec.extras if spec else self.extras, mode="score")
        reader: pa.RecordBatchReader = self.con.sql(query).to_arrow_reader(batch_rows)
        keep = ["declaration_id", "declaration_date", "office_locode", "label", "rule_score", *mask_columns(profiles)]
        parts: list[pa.Table] = []
        for batch in reader:
            scored = score_batch(batch.to_pandas(), profiles, spec, threads=self.threads)
            table = pa.Table.from_batches([batch]).select(keep)
            for name, values, kind in (("model_p", scored.model_p, pa.float64()), ("score", scored.score, pa.float64()),
                                       ("mandatory", scored.mandatory, pa.bool_())):  # fmt: skip
                table = table.append_column(name, pa.array(values, kind))
            parts.append(table)
        if not parts:
            return pa.table({k: pa.array([], pa.string()) for k in keep})
        return pa.concat_tables(parts)


def mask_columns(profiles: ProfileSet) -> list[str]:
    return [f"mask_{i}" for i in range(mask_count(profiles))]


@dataclass(frozen=True)
class ScoredBatch:
    model_p: np.ndarray  # NaN without a model
    score: np.ndarray  # the lane score (rules alone without a model)
    mandatory: np.ndarray  # a mandatory profile fired: red whatever the score


def score_batch(frame: pd.DataFrame, profiles: ProfileSet, spec: mdl.ModelSpec | None, *, threads: int) -> ScoredBatch:
    """The scores of one batch of the scoring query's rows (the same function on DuckDB and in Spark)."""
    masks = [frame[c].to_numpy(dtype=np.int64) for c in mask_columns(profiles)]
    mandatory = lanescore.mandatory_rows(masks, profiles, len(frame))
    if spec is None:
        rule = frame["rule_score"].to_numpy(dtype=np.float64)
        return ScoredBatch(np.full(len(frame), np.nan), mdl.combine(None, rule), mandatory)
    model_p = mdl.predict(spec, frame, threads=threads)
    return ScoredBatch(model_p, lanescore.score(model_p, masks, profiles, spec.lane), mandatory)


def detect_extras(con: duckdb.DuckDBPyConnection, relation: str) -> Extras:
    numeric: list[str] = []
    text: list[str] = []
    for name, sql_type, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall():
        col = str(name)
        if not col.startswith(EXTRA_PREFIX) or col in LABEL_COLUMNS:
            continue
        (text if str(sql_type) in TEXT_TYPES else numeric).append(col)
    return Extras(tuple(sorted(numeric)), tuple(sorted(text)))


# --- training and evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """precision@k and recall@k of each ranking on the evaluation rows.

    `model`: the model alone; `lane`: the lane score (model + learned profile weights, mandatory first);
    `handset`: the model and the hand-set weights by noisy-OR (the former lane score, for comparison);
    `rules`: the hand-set rule score alone; `random`: random selection (expectation).
    """

    train_rows: int
    eval_rows: int
    train_period: tuple[str, str]
    eval_period: tuple[str, str]
    base_rate: float
    model: list[AtK]
    lane: list[AtK]
    handset: list[AtK]
    rules: list[AtK]
    random: list[AtK]
    auc: float | None
    weights: dict[str, float | None]  # learned log-odds per profile (None: provisional)

    def as_dict(self) -> dict[str, object]:
        return {
            "train_rows": self.train_rows, "eval_rows": self.eval_rows,
            "train_period": list(self.train_period), "eval_period": list(self.eval_period),
            "base_rate": round(self.base_rate, 4), "auc": None if self.auc is None else round(self.auc, 4),
            "model": as_dict(self.model), "lane": as_dict(self.lane), "handset": as_dict(self.handset),
            "rules": as_dict(self.rules), "random": as_dict(self.random), "weights": self.weights,
        }  # fmt: skip

    def rankings(self) -> list[tuple[str, list[AtK]]]:
        return [("model alone", self.model), ("lane score", self.lane), ("hand-set noisy-OR", self.handset),
                ("profiles alone", self.rules), ("random", self.random)]  # fmt: skip


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    import pandas as pd

    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        return None
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    n_pos = y.sum()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(y) - n_pos)))


def _period(frame: pd.DataFrame) -> tuple[str, str]:
    import pandas as pd

    dates = pd.to_datetime(frame["declaration_date"])
    return (str(dates.min().date()), str(dates.max().date())) if len(frame) else ("", "")


def evaluate_scores(
    train_frame: pd.DataFrame, test: pd.DataFrame, spec: mdl.ModelSpec, profiles: ProfileSet, threads: int
) -> Evaluation:
    y = test["label"].to_numpy(dtype=np.float64)
    scored = score_batch(test, profiles, spec, threads=threads)
    rule = test["rule_score"].to_numpy(dtype=np.float64)
    lane = np.where(scored.mandatory, 1.0 + scored.score, scored.score)  # mandatory rows go first, as in the lanes
    weights = {p.id: lanescore.weight_used(p, spec.lane) for p in profiles.profiles}
    return Evaluation(
        train_rows=len(train_frame), eval_rows=len(test), train_period=_period(train_frame),
        eval_period=_period(test), base_rate=float(y.mean()) if len(y) else 0.0,
        model=at_k(y, scored.model_p), lane=at_k(y, lane), handset=at_k(y, mdl.combine(scored.model_p, rule)),
        rules=at_k(y, rule), random=random_at_k(y), auc=auc(y, scored.model_p),
        weights={k: round(w.weight, 4) if w.basis == lanescore.LEARNED else None for k, w in weights.items()},
    )  # fmt: skip


def time_split(frame: pd.DataFrame, eval_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier days train, the last `eval_fraction` of labelled rows (whole days) evaluate: never the future."""
    import pandas as pd

    labelled = frame[frame["label"].notna()].sort_values(["declaration_date", "declaration_id"], kind="stable")
    if len(labelled) == 0:
        return labelled, labelled
    dates = pd.to_datetime(labelled["declaration_date"]).to_numpy()
    cut = dates[min(len(dates) - 1, int(len(dates) * (1 - eval_fraction)))]
    return labelled[dates < cut], labelled[dates >= cut]


CALIBRATION_FRACTION = 0.25


def fit(frame: pd.DataFrame, extras: Extras, profiles: ProfileSet, *, rounds: int = 300, threads: int = 2,
        calibration_fraction: float = CALIBRATION_FRACTION) -> mdl.ModelSpec:  # fmt: skip
    """The model on every labelled row of `frame`, and the profiles' lane weights learned on held-out outcomes.

    The weights need outcomes the model did not see: a model trained on the earlier part of `frame` scores its
    last `calibration_fraction` (whole days), and `lanescore.fit` learns there what each profile adds. The model
    kept is then retrained on all rows (the weights measure what a profile adds beyond what the model knows,
    which more training rows do not change in kind). Too little held-out data: no weight is learned (every
    profile provisional, see lanescore)."""
    labelled = frame[frame["label"].notna()]
    earlier, later = time_split(labelled, calibration_fraction)
    lane = lanescore.NOT_LEARNED
    if _trainable(earlier) and _trainable(later):
        inner = mdl.train(earlier, extras, rounds=rounds, threads=threads)
        masks = [later[c].to_numpy(dtype=np.int64) for c in mask_columns(profiles)]
        fired = lanescore.fired_columns(masks, len(profiles.profiles))
        lane = lanescore.fit(mdl.predict(inner, later, threads=threads), fired,
                             later["label"].to_numpy(dtype=np.float64), profiles, _period(later))  # fmt: skip
    spec = mdl.train(labelled, extras, rounds=rounds, threads=threads)
    spec.lane = lane
    return spec


def _trainable(frame: pd.DataFrame) -> bool:
    return len(frame) >= 50 and frame["label"].nunique() == 2


def train_time_ordered(
    ws: Workspace, profiles: ProfileSet, *, eval_fraction: float = 0.2, rounds: int = 300
) -> tuple[mdl.ModelSpec, Evaluation]:
    """Train on the earlier part of the labelled history, evaluate on the later part (features from the
    training-mode query: party history from strictly earlier days only)."""
    frame = ws.frame(profiles, mode="train")
    train_part, eval_part = time_split(frame, eval_fraction)
    spec = fit(train_part, ws.extras, profiles, rounds=rounds, threads=ws.threads)
    return spec, evaluate_scores(train_part, eval_part, spec, profiles, ws.threads)


def evaluate_split(
    train_files: list[Path], test_files: list[Path], profiles: ProfileSet, *, rounds: int = 300, threads: int = 2
) -> tuple[mdl.ModelSpec, Evaluation]:
    """Train on `train_files`, score `test_files` with the history of `train_files` only, report @k."""
    with Workspace(train_files, threads=threads) as ws:
        train_frame = ws.frame(profiles, mode="train")
        train_frame = train_frame[train_frame["label"].notna()]
        spec = fit(train_frame, ws.extras, profiles, rounds=rounds, threads=threads)
        extras = ws.extras
    with Workspace(test_files, train_files, extras=extras, threads=threads) as ws:
        test = ws.frame(profiles, mode="score")
    test = test[test["label"].notna()]
    return spec, evaluate_scores(train_frame, test, spec, profiles, threads)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
