"""Selectivity: red / yellow / green lanes with a target inspection rate and a minimum random share.

Of N declarations, round(red_rate * N) (at least 1) go to the red lane (physical inspection):
- first every declaration a *mandatory* profile fired on (an intelligence-led target: red whatever its score,
  even beyond the red rate);
- then the highest scores, up to the red rate less the random share;
- a share `random_share` of the red places (rounded up) is drawn uniformly at random from the green lane,
  i.e. from what neither the ranking nor the yellow lane took. Those inspections are an unbiased sample of the
  green lane: their outcomes estimate the fraud rate among the declarations released without control.
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


def assign(scores: np.ndarray, config: LaneConfig, mandatory: np.ndarray | None = None) -> Lanes:
    n = len(scores)
    lane = np.full(n, GREEN, dtype=object)
    random = np.zeros(n, dtype=bool)
    if n == 0:
        return Lanes(lane, random)
    forced = np.zeros(n, dtype=bool) if mandatory is None else np.asarray(mandatory, dtype=bool)
    n_red = min(n, max(1, round(config.red_rate * n)))
    n_random = min(n_red, math.ceil(config.random_share * n_red)) if config.random_share > 0 else 0
    lane[forced] = RED
    order = np.argsort(-scores, kind="stable")
    ranked = order[~forced[order]]
    n_risk = max(0, n_red - n_random - int(forced.sum()))
    lane[ranked[:n_risk]] = RED
    n_random = min(n_random, len(ranked) - n_risk)
    n_yellow = max(0, min(round(config.yellow_rate * n), len(ranked) - n_risk - n_random))  # green keeps the draw
    if n_yellow > 0:
        lane[ranked[n_risk : n_risk + n_yellow]] = YELLOW
    green = ranked[n_risk + n_yellow :]
    if n_random:
        rng = np.random.default_rng(config.seed)
        drawn = rng.choice(green, size=n_random, replace=False)
        lane[drawn] = RED
        random[drawn] = True
    return Lanes(lane, random)
