"""Lanes: target inspection rate, minimum random share, reproducible draw."""

from __future__ import annotations

import numpy as np

from dragonnet.targeting.lanes import GREEN, RED, YELLOW, assign
from dragonnet.targeting.profiles import LaneConfig


def test_rates_and_random_share() -> None:
    scores = np.linspace(1.0, 0.0, 1000)  # row i has the i-th highest score
    lanes = assign(scores, LaneConfig(red_rate=0.05, yellow_rate=0.1, random_share=0.2, seed=3))
    assert lanes.count(RED) == 50
    assert lanes.count(YELLOW) == 100
    assert lanes.count(GREEN) == 850
    assert lanes.random.sum() == 10  # 20% of the red lane, drawn at random
    assert (lanes.lane[:40] == RED).all()  # the 40 highest scores are taken on risk
    drawn = np.flatnonzero(lanes.random)
    assert (drawn >= 40).all() and (lanes.lane[drawn] == RED).all()
    # Yellow: the highest scores left once red is chosen.
    yellow = np.flatnonzero(lanes.lane == YELLOW)
    remaining = [i for i in range(1000) if lanes.lane[i] != RED]
    assert list(yellow) == remaining[:100]


def test_random_draw_reaches_low_scores_and_is_reproducible() -> None:
    scores = np.linspace(1.0, 0.0, 10_000)
    config = LaneConfig(red_rate=0.1, yellow_rate=0.0, random_share=0.5, seed=11)
    a, b = assign(scores, config), assign(scores, config)
    assert (a.lane == b.lane).all()
    drawn = np.flatnonzero(a.random)
    assert len(drawn) == 500
    assert (drawn > 5000).sum() > 150  # uniform over the rest, not the next best
    other = assign(scores, LaneConfig(red_rate=0.1, yellow_rate=0.0, random_share=0.5, seed=12))
    assert not (other.random == a.random).all()


def test_no_random_share_and_tiny_batches() -> None:
    lanes = assign(np.array([0.2, 0.9, 0.5]), LaneConfig(red_rate=0.01, yellow_rate=0.0, random_share=0.0))
    assert list(lanes.lane) == [GREEN, RED, GREEN]
    assert assign(np.array([]), LaneConfig()).lane.size == 0


def test_mandatory_rows_are_red_whatever_their_score() -> None:
    scores = np.linspace(1.0, 0.0, 1000)
    mandatory = np.zeros(1000, dtype=bool)
    mandatory[[990, 995, 999]] = True  # the lowest scores
    config = LaneConfig(red_rate=0.05, yellow_rate=0.1, random_share=0.2, seed=3)
    lanes = assign(scores, config, mandatory)
    assert (lanes.lane[mandatory] == RED).all() and not lanes.random[mandatory].any()
    assert lanes.count(RED) == 50  # within the red rate: 3 mandatory + 37 on risk + 10 random
    assert (lanes.lane[:37] == RED).all() and lanes.lane[37] != RED
    assert lanes.random.sum() == 10


def test_mandatory_beyond_the_red_rate_still_go_red() -> None:
    scores = np.linspace(1.0, 0.0, 100)
    mandatory = np.zeros(100, dtype=bool)
    mandatory[50:60] = True
    lanes = assign(scores, LaneConfig(red_rate=0.05, yellow_rate=0.0, random_share=0.2, seed=1), mandatory)
    assert (lanes.lane[50:60] == RED).all()
    assert lanes.random.sum() == 1  # the random draw goes on: the green lane's estimate never stops
    assert lanes.count(RED) == 11 and (lanes.lane[:50] == GREEN).sum() >= 49


def test_the_random_draw_samples_the_green_lane_only() -> None:
    scores = np.linspace(1.0, 0.0, 2000)
    lanes = assign(scores, LaneConfig(red_rate=0.05, yellow_rate=0.2, random_share=0.5, seed=5))
    drawn = np.flatnonzero(lanes.random)
    assert len(drawn) == 50
    # Risk red: ranks 0-49; yellow: the next 400 (50-449); the draw comes from what would have been green.
    assert (lanes.lane[50:450] == YELLOW).all()
    assert (drawn >= 450).all()
