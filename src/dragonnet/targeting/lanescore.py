"""The lane score: the model's probability, raised by the profiles whose worth the outcomes have shown.

    score = sigmoid(logit(model_p) + sum_j w_j * fired_j)

`w_j >= 0` is the log-odds profile j adds to what the model already knows. It is learned from outcomes the
model was not trained on (a later, held-out slice of the training history, `fit`): a logistic regression with
the model's logit as offset, a free intercept (calibration drift, which never changes the ranking) and
nonnegative weights, built by forward selection with Rao's score test: a profile enters only when the held-out
outcomes show, at p < 0.01 (chi-squared >= 6.63, one degree of freedom), that it finds fraud the model misses.
A profile the model already captures, or one that finds nothing, keeps weight 0: it cannot move a declaration,
so a weak rule no longer overrides the model. Where no profile with a weight fires, the score *is* the
model's probability.

A profile is *learned* when it fired on at least MIN_FIRED held-out declarations with an outcome and its
conditions are those it had at training (`Profile.fingerprint`). Otherwise (new, rare, or changed since)
it is *provisional*: it adds its hand-set weight (as log-odds) until the next training judges it, and the
explanations say so. Without a model the score is the rules' hand-set part alone (`model.combine`).
A *mandatory* profile (intelligence-led) sends the declaration to red whatever its score (`lanes.assign`).

Everything here is elementwise over rows (no matrix product across rows), so DuckDB's batches and Spark's
partitions give bit-identical scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dragonnet.targeting.profiles import MASK_BITS, Profile, ProfileSet

MIN_FIRED = 30
CHI2_P01 = 6.635  # chi-squared, 1 degree of freedom, p = 0.01
RIDGE = 0.05  # a weak Gaussian prior on the weights: finite even when a profile separates perfectly
MAX_WEIGHT = 12.0
EPS = 1e-9
LEARNED, PROVISIONAL, NO_MODEL = "learned", "provisional", "hand-set (no model)"


@dataclass(frozen=True)
class LearnedWeight:
    weight: float  # log-odds added when the profile fires (0: no added value over the model)
    fingerprint: str
    fired: int  # held-out declarations with an outcome the profile fired on
    found: int  # of which fraud / seizure
    statistic: float  # the score test's chi-squared when last considered (0 when it entered no step)

    def as_dict(self) -> dict[str, Any]:
        return {"weight": self.weight, "fingerprint": self.fingerprint, "fired": self.fired, "found": self.found,
                "statistic": self.statistic}  # fmt: skip


@dataclass(frozen=True)
class LaneWeights:
    weights: dict[str, LearnedWeight]
    intercept: float = 0.0
    calibration_rows: int = 0
    calibration_period: tuple[str, str] = ("", "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "weights": {k: v.as_dict() for k, v in self.weights.items()}, "intercept": self.intercept,
            "calibration_rows": self.calibration_rows, "calibration_period": list(self.calibration_period),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> LaneWeights:
        if not raw:
            return NOT_LEARNED
        weights = {
            k: LearnedWeight(float(v["weight"]), str(v["fingerprint"]), int(v["fired"]), int(v["found"]),
                             float(v.get("statistic", 0.0)))
            for k, v in raw.get("weights", {}).items()
        }  # fmt: skip
        period = raw.get("calibration_period") or ["", ""]
        return cls(weights, float(raw.get("intercept", 0.0)), int(raw.get("calibration_rows", 0)),
                   (str(period[0]), str(period[1])))  # fmt: skip


NOT_LEARNED = LaneWeights({})


@dataclass(frozen=True)
class WeightUsed:
    """How a profile enters the lane score: its log-odds weight and where the weight comes from."""

    weight: float
    basis: str  # LEARNED, PROVISIONAL or NO_MODEL

    def as_dict(self) -> dict[str, Any]:
        return {"weight": round(self.weight, 4), "basis": self.basis}


def weight_used(profile: Profile, lane: LaneWeights | None) -> WeightUsed:
    if lane is None:
        return WeightUsed(profile.weight, NO_MODEL)
    learned = lane.weights.get(profile.id)
    if learned is not None and learned.fingerprint == profile.fingerprint:
        return WeightUsed(learned.weight, LEARNED)
    return WeightUsed(profile.weight, PROVISIONAL)


def fired_column(masks: list[np.ndarray], i: int) -> np.ndarray:
    """Whether profile i (in the set's order) fired, from the packed masks (`ProfileSet.mask_sql`)."""
    chunk = np.asarray(masks[i // MASK_BITS], dtype=np.int64)
    return ((chunk >> np.int64(i % MASK_BITS)) & np.int64(1)).astype(bool)


def fired_columns(masks: list[np.ndarray], count: int) -> list[np.ndarray]:
    return [fired_column(masks, i) for i in range(count)]


def mandatory_rows(masks: list[np.ndarray], profiles: ProfileSet, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for chunk, bits in zip(masks, profiles.mandatory_bits(), strict=True):
        if bits:
            out |= (np.asarray(chunk, dtype=np.int64) & np.int64(bits)) != 0
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)
    return np.log(q) - np.log1p(-q)


def score(model_p: np.ndarray, masks: list[np.ndarray], profiles: ProfileSet, lane: LaneWeights | None) -> np.ndarray:
    """The lane score of each row (see the module docstring); rows where no weighted profile fires keep p.

    `masks`: the packed fired masks; only the profiles with a weight are unpacked."""
    p = np.asarray(model_p, dtype=np.float64)
    boost = np.zeros(len(p), dtype=np.float64)
    for i, profile in enumerate(profiles.profiles):
        w = weight_used(profile, lane).weight
        if w > 0:
            boost += np.where(fired_column(masks, i), w, 0.0)  # elementwise, in the set's order: same in every batch
    raised = 1.0 / (1.0 + np.exp(-(_logit(p) + boost)))
    return np.where(boost > 0, raised, p)


# --- learning the weights on held-out outcomes ------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _newton(offset: np.ndarray, x: np.ndarray, y: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Penalised logistic regression with offset: theta = (intercept, weights...); the intercept is free."""
    k = x.shape[1]
    theta = np.zeros(k + 1)
    penalty = np.full(k + 1, RIDGE)
    penalty[0] = 0.0
    for _ in range(iterations):
        z = np.column_stack([np.ones(len(y)), x])
        mu = _sigmoid(offset + z @ theta)
        v = mu * (1.0 - mu)
        grad = z.T @ (y - mu) - penalty * theta
        hess = (z * v[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.clip(np.linalg.solve(hess, grad), -5.0, 5.0)  # damped: no overshoot from an extreme offset
        theta = theta + step
        theta[1:] = np.clip(theta[1:], -MAX_WEIGHT, MAX_WEIGHT)
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta


def _design(fired: list[np.ndarray], chosen: list[int], n: int) -> np.ndarray:
    return np.column_stack([fired[i] for i in chosen]).astype(np.float64) if chosen else np.empty((n, 0))


def _score_test(z: np.ndarray, v: np.ndarray, residual: np.ndarray, info_inv: np.ndarray, column: np.ndarray) -> float:
    """Rao's score statistic of adding one 0/1 column (one-sided: 0 where it would lower the odds)."""
    u = float(residual[column].sum())
    if u <= 0:
        return 0.0
    info_cc = float(v[column].sum())
    info_cz = (z[column] * v[column, None]).sum(axis=0)
    efficient = info_cc - float(info_cz @ info_inv @ info_cz)
    return u * u / efficient if efficient > 1e-12 else 0.0


def fit(model_p: np.ndarray, fired: list[np.ndarray], labels: np.ndarray, profiles: ProfileSet,
        period: tuple[str, str] = ("", "")) -> LaneWeights:  # fmt: skip
    """Learn the profiles' weights on held-out rows: `model_p` from a model not trained on them, `labels` 0/1."""
    y = np.asarray(labels, dtype=np.float64)
    offset = _logit(model_p)
    counts = [(int(c.sum()), int(y[c].sum())) for c in fired]
    learnable = [i for i, (n, _) in enumerate(counts) if n >= MIN_FIRED]
    stats = dict.fromkeys(learnable, 0.0)
    chosen: list[int] = []
    dropped: set[int] = set()
    theta = np.zeros(1)
    if learnable and 0 < y.sum() < len(y):
        theta = _newton(offset, np.empty((len(y), 0)), y)
        while True:
            rest = [i for i in learnable if i not in chosen and i not in dropped]
            if not rest:
                break
            x = _design(fired, chosen, len(y))
            z = np.column_stack([np.ones(len(y)), x])
            mu = _sigmoid(offset + z @ theta)
            v = mu * (1.0 - mu)
            info_inv = np.linalg.inv((z * v[:, None]).T @ z + np.diag(np.full(z.shape[1], 1e-9)))
            tests = [_score_test(z, v, y - mu, info_inv, fired[i]) for i in rest]
            for i, t in zip(rest, tests, strict=True):
                stats[i] = t
            best = int(np.argmax(tests))
            if tests[best] < CHI2_P01:
                break
            chosen, theta, gone = _refit_nonnegative(offset, fired, [*chosen, rest[best]], y)
            dropped |= gone
    weights: dict[str, LearnedWeight] = {}
    by_chosen = {i: float(theta[1 + pos]) for pos, i in enumerate(chosen)}
    for i in learnable:
        p = profiles.profiles[i]
        w = max(0.0, by_chosen.get(i, 0.0))
        weights[p.id] = LearnedWeight(round(w, 6), p.fingerprint, counts[i][0], counts[i][1], round(stats[i], 3))
    return LaneWeights(weights, round(float(theta[0]), 6), len(y), period)


def _refit_nonnegative(
    offset: np.ndarray, fired: list[np.ndarray], chosen: list[int], y: np.ndarray
) -> tuple[list[int], np.ndarray, set[int]]:
    """Refit the chosen profiles; a weight pushed below zero (the others explain its finds) leaves for good."""
    chosen, gone = list(chosen), set[int]()
    while True:
        theta = _newton(offset, _design(fired, chosen, len(y)), y)
        if not chosen or theta[1:].min() >= 0:
            return chosen, theta, gone
        gone.add(chosen.pop(int(np.argmin(theta[1:]))))
