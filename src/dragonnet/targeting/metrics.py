"""precision@k and recall@k: inspect the top k% of declarations by a score, count what is found.

Ties in a score (rules alone give few distinct values) are broken by a fixed random permutation, so a
coarse ranker is not flattered or penalised by the file's order. Random selection is reported as its
expectation: precision = base rate, recall = k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FRACTIONS = (0.01, 0.02, 0.05, 0.10)


@dataclass(frozen=True)
class AtK:
    fraction: float
    inspected: int
    found: int
    precision: float
    recall: float


def at_k(labels: np.ndarray, scores: np.ndarray, fractions: tuple[float, ...] = FRACTIONS, seed: int = 0) -> list[AtK]:
    y = np.asarray(labels, dtype=np.float64)
    n, positives = len(y), float(y.sum())
    tiebreak = np.random.default_rng(seed).permutation(n)
    order = np.lexsort((tiebreak, -np.asarray(scores, dtype=np.float64)))
    out = []
    for f in fractions:
        k = max(1, math.ceil(f * n))
        found = float(y[order[:k]].sum())
        out.append(AtK(f, k, int(found), found / k, found / positives if positives else 0.0))
    return out


def random_at_k(labels: np.ndarray, fractions: tuple[float, ...] = FRACTIONS) -> list[AtK]:
    y = np.asarray(labels, dtype=np.float64)
    n, base = len(y), float(y.mean()) if len(y) else 0.0
    out = []
    for f in fractions:
        k = max(1, math.ceil(f * n))
        out.append(AtK(f, k, round(base * k), base, k / n if n else 0.0))
    return out


def as_dict(rows: list[AtK]) -> dict[str, dict[str, float]]:
    return {f"{round(r.fraction * 100)}%": {"precision": round(r.precision, 4), "recall": round(r.recall, 4),
                                            "inspected": r.inspected, "found": r.found} for r in rows}  # fmt: skip
