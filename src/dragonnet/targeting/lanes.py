"""Selectivity: red / yellow / green lanes with a target inspection rate and a minimum random share.

Of N declarations, round(red_rate * N) (at least 1) go to the red lane (physical inspection). A share
`random_share` of those places (rounded up) is drawn uniformly at random from everything the risk ranking did
not pick, so inspections keep giving unbiased results to learn from; the rest are the highest scores.
The next round(yellow_rate * N) highest remaining scores go to yellow (documentary check); all others green.
Ties are broken by the input order; the draw is reproducible from `seed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dragonnet.targeting.profiles import LaneConfig

RED, YELLOW, GREEN = "red", "yellow", "green"


@dataclass(frozen=True)
class Lanes:
    lane: np.ndarray  # object array of "red" / "yellow" / "green"
    random: np.ndarray  # bool: selected by the random draw

    def count(self, lane: str) -> int:
        return int((self.lane == lane).sum())


def assign(scores: np.ndarray, config: LaneConfig) -> Lanes:
    n = len(scores)
    lane = np.full(n, GREEN, dtype=object)
    random = np.zeros(n, dtype=bool)
    if n == 0:
        return Lanes(lane, random)
    n_red = min(n, max(1, round(config.red_rate * n)))
    n_random = min(n_red, math.ceil(config.random_share * n_red)) if config.random_share > 0 else 0
    order = np.argsort(-scores, kind="stable")
    risk = order[: n_red - n_random]
    lane[risk] = RED
    rest = order[n_red - n_random :]
    if n_random:
        rng = np.random.default_rng(config.seed)
        drawn = rng.choice(rest, size=n_random, replace=False)
        lane[drawn] = RED
        random[drawn] = True
    n_yellow = min(round(config.yellow_rate * n), n - n_red)
    if n_yellow > 0:
        remaining = order[lane[order] == GREEN]
        lane[remaining[:n_yellow]] = YELLOW
    return Lanes(lane, random)
