"""The learned model: LightGBM on past inspection results, explained with `pred_contrib`.

The feature matrix is computed here, in numpy/pandas, from the raw columns of the scoring query
(`features.scoring_sql`), by the same function on one machine and inside Spark's `mapInPandas`: same
inputs, same arithmetic, same booster, hence the same scores.

Features: log value, log weight, log quantity, log value per kg, value per kg over the HS code's median;
for importer, declarant, exporter and HS6 the number of earlier inspections (log) and a smoothed target
encoding of earlier seizures, (pos + m * prior) / (n + m); HS2, HS4, origin, loading country, mode, office
and currency as categorical features; the data set's x_ extra columns. The risk profiles are not features:
the model is "the model alone", and the lane score (`lanescore`) learns on held-out outcomes what each
profile adds to it. (Versions trained before that used the rule score as a feature; they still load and score.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dragonnet.errors import ValidationError
from dragonnet.targeting.features import CATEGORICAL_RAW, HISTORY_ROLES, Extras
from dragonnet.targeting.lanescore import NOT_LEARNED, LaneWeights

if TYPE_CHECKING:  # pandas and LightGBM take ~0.7 s to load: imported where used, not by every process
    import lightgbm as lgb
    import pandas as pd

SMOOTHING = 20.0
MIN_CATEGORY_COUNT = 5
MAX_CATEGORIES = 500
BASE_NUMERIC = ("log_value", "log_weight", "log_qty", "log_vpk", "vpk_ratio")
LABELS = {
    "log_value": "declared value",
    "log_weight": "gross weight",
    "log_qty": "quantity",
    "log_vpk": "value per kg",
    "vpk_ratio": "value per kg vs HS median",
    "imp_n": "importer's past inspections",
    "imp_te": "importer's past seizure rate",
    "decl_n": "declarant's past inspections",
    "decl_te": "declarant's past seizure rate",
    "exp_n": "exporter's past inspections",
    "exp_te": "exporter's past seizure rate",
    "hs_n": "HS code's past inspections",
    "hs_te": "HS code's past seizure rate",
    "rule_score": "risk profiles' score",
    "c_hs2": "HS chapter",
    "c_hs4": "HS heading",
    "c_origin": "origin",
    "c_loading": "loading country",
    "c_mode": "mode",
    "c_office": "office",
    "c_currency": "currency",
}
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 63,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 4,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


@dataclass
class ModelSpec:
    """Everything needed to score: feature layout, category codes, encoding prior and the booster."""

    numeric: list[str]
    categorical: list[str]
    categories: dict[str, list[str]]
    prior: float
    extras: Extras
    booster_text: str
    rounds: int
    params: dict[str, Any] = field(default_factory=dict)
    lane: LaneWeights = NOT_LEARNED  # the profiles' learned weights (lanescore.fit); none learned: provisional
    _booster: lgb.Booster | None = field(default=None, repr=False, compare=False)

    @property
    def feature_names(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def booster(self) -> lgb.Booster:
        import lightgbm as lgb

        if self._booster is None:
            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    def to_json(self) -> str:
        return json.dumps(
            {"numeric": self.numeric, "categorical": self.categorical, "categories": self.categories,
             "prior": self.prior, "extras": {"numeric": list(self.extras.numeric), "text": list(self.extras.text)},
             "rounds": self.rounds, "params": self.params, "lane": self.lane.as_dict()}
        )  # fmt: skip

    @classmethod
    def from_json(cls, meta: str, booster_text: str) -> ModelSpec:
        raw = json.loads(meta)
        extras = Extras(tuple(raw["extras"]["numeric"]), tuple(raw["extras"]["text"]))
        return cls(raw["numeric"], raw["categorical"], raw["categories"], float(raw["prior"]), extras,
                   booster_text, int(raw["rounds"]), raw.get("params", {}),
                   LaneWeights.from_dict(raw.get("lane")))  # fmt: skip


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    import pandas as pd

    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _log1p(x: np.ndarray) -> np.ndarray:
    out = np.full_like(x, np.nan)
    ok = ~np.isnan(x)
    out[ok] = np.log1p(np.maximum(x[ok], 0.0))
    return out


def numeric_features(frame: pd.DataFrame, prior: float, extras: Extras) -> dict[str, np.ndarray]:
    vpk = _num(frame, "vpk")
    p50 = _num(frame, "hs_p50")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p50 > 0, vpk / p50, np.nan)
    out = {
        "log_value": _log1p(_num(frame, "declared_value")),
        "log_weight": _log1p(_num(frame, "gross_weight_kg")),
        "log_qty": _log1p(_num(frame, "quantity")),
        "log_vpk": _log1p(vpk),
        "vpk_ratio": ratio,
    }
    for role in HISTORY_ROLES:
        n = np.nan_to_num(_num(frame, f"{role}_n"))
        pos = np.nan_to_num(_num(frame, f"{role}_pos"))
        out[f"{role}_n"] = np.log1p(n)
        out[f"{role}_te"] = (pos + SMOOTHING * prior) / (n + SMOOTHING)
    out["rule_score"] = np.nan_to_num(_num(frame, "rule_score"))
    for col in extras.numeric:
        out[col] = _num(frame, col)
    return out


def learn_categories(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    out = {}
    for col in columns:
        counts = frame[col].dropna().astype(str).value_counts()
        kept = counts[counts >= MIN_CATEGORY_COUNT].index[:MAX_CATEGORIES]
        out[col] = sorted(str(v) for v in kept)
    return out


def matrix(frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    """The feature matrix (rows of `frame`, columns `spec.feature_names`), float64, NaN for missing."""
    import pandas as pd

    nums = numeric_features(frame, spec.prior, spec.extras)
    cols = [nums[name] for name in spec.numeric]
    for name in spec.categorical:
        if name not in frame.columns:
            cols.append(np.full(len(frame), np.nan))
            continue
        # A categorical's codes are the category's index (-1 when unseen or missing): one hash pass per
        # column, about twice as fast as mapping through a dict on a million rows.
        codes = pd.Index(spec.categories[name]).get_indexer(frame[name]).astype(np.float64)
        codes[codes < 0] = np.nan
        cols.append(codes)
    if not cols:
        return np.empty((len(frame), 0))
    return np.column_stack(cols).astype(np.float64, copy=False)


def train(
    frame: pd.DataFrame,
    extras: Extras,
    *,
    rounds: int = 300,
    threads: int = 2,
    seed: int = 7,
    params: dict[str, Any] | None = None,
) -> ModelSpec:
    """Train on the labelled rows of `frame` (column `label`: 1 seizure, 0 nothing found)."""
    import lightgbm as lgb

    labelled = frame[frame["label"].notna()]
    if len(labelled) < 50 or labelled["label"].nunique() < 2:
        raise ValidationError(
            f"not enough inspection results to train: {len(labelled)} labelled rows "
            "(need at least 50 with both seizures and nothing found)"
        )
    y = labelled["label"].to_numpy(dtype=np.float64)
    prior = float(y.mean())
    categorical = [*CATEGORICAL_RAW, *extras.text]
    numeric = [*BASE_NUMERIC, *(f"{r}_{k}" for r in HISTORY_ROLES for k in ("n", "te")), *extras.numeric]
    spec = ModelSpec(numeric, categorical, learn_categories(labelled, categorical), prior, extras, "", rounds)
    x = matrix(labelled, spec)
    merged = {**DEFAULT_PARAMS, "num_threads": threads, "seed": seed, **(params or {})}
    cat_index = list(range(len(numeric), len(numeric) + len(categorical)))
    dataset = lgb.Dataset(x, y, feature_name=spec.feature_names, categorical_feature=cat_index, free_raw_data=True)
    booster = lgb.train(merged, dataset, num_boost_round=rounds)
    spec.booster_text = booster.model_to_string()
    spec.params = {k: v for k, v in merged.items() if k != "num_threads"}
    spec._booster = booster
    return spec


def predict(spec: ModelSpec, frame: pd.DataFrame, *, threads: int = 2) -> np.ndarray:
    if len(frame) == 0:
        return np.empty(0)
    return np.asarray(spec.booster.predict(matrix(frame, spec), num_threads=threads), dtype=np.float64)


def combine(model_p: np.ndarray | None, rule_score: np.ndarray) -> np.ndarray:
    """The hand-set combination: noisy-OR of the model's probability and the rules, 1 - (1 - p) * exp(-rule_score).

    Without a model this is the lanes' score (the rules' part alone, 1 - e^-rule_score). With a model the lanes
    use `lanescore.score` instead; this stays as the evaluation's yardstick (what hand-set weights would do).
    """
    rules = np.exp(-np.maximum(rule_score, 0.0))
    if model_p is None:
        return 1.0 - rules
    return 1.0 - (1.0 - model_p) * rules


def explain(spec: ModelSpec, frame: pd.DataFrame, *, top: int = 3) -> list[list[dict[str, Any]]]:
    """Per row: the `top` features by absolute contribution (log-odds) with their values."""
    if len(frame) == 0:
        return []
    x = matrix(frame, spec)
    contrib = np.asarray(spec.booster.predict(x, pred_contrib=True, num_threads=1))
    names = spec.feature_names
    out = []
    for i in range(len(frame)):
        row = contrib[i, :-1]
        order = np.argsort(-np.abs(row), kind="stable")[:top]
        items = []
        for j in order:
            name = names[j]
            if name in spec.categorical:
                raw = frame[name].iloc[i] if name in frame.columns else None
                value: Any = None if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
            else:
                value = None if np.isnan(x[i, j]) else round(float(x[i, j]), 4)
            items.append({"feature": name, "label": LABELS.get(name, name), "value": value,
                          "contribution": round(float(row[j]), 4)})  # fmt: skip
        out.append(items)
    return out
