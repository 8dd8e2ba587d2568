"""The SQL aggregation of routes.py against an independent count written out case by case in Python."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections import defaultdict

import pytest

from dragonnet.linkage.extract import CaseInfo, Extract
from dragonnet.linkage.routes import flows, legs, route_of, trends

COUNTRIES = ["MM", "TH", "LA", "VN", "CN", "MY", "NG", "AU"]
STATUSES = ["validated", "validated", "validated", "submitted", "merged", "draft"]
MODES = [None, "road", "sea_container", "air_cargo"]
CLASSES = ["drug", "precursor", "wildlife", "timber"]
PRODUCTS = ["heroin", "methamphetamine", "pangolin scales", "ivory", "rosewood"]


def random_extract(seed: int, n: int = 400) -> Extract:
    rng = random.Random(seed)
    ex = Extract("test")
    for i in range(1, n + 1):
        ex.cases[i] = CaseInfo(
            i, f"C-{i}", "XX-CUS", "XX", rng.choice([1, 2, 3]), rng.choice(STATUSES), dt.date(2020, 1, 1),
            rng.choice(COUNTRIES), rng.choice([None, *COUNTRIES[:4]]), rng.choice([None, *COUNTRIES[2:]]),
            tuple(rng.sample(COUNTRIES, rng.choice([0, 0, 1, 2]))), rng.choice(MODES),
            tuple(sorted(rng.sample(CLASSES, rng.choice([0, 1, 1, 2])))),
            tuple(sorted(rng.sample(PRODUCTS, rng.choice([0, 1, 1, 2])))),
        )  # fmt: skip
    return ex


def independent_flows(
    ex: Extract, phase: int | None, commodity: str | None, mode: str | None
) -> dict[tuple[tuple[str, ...], int, str, str, str], int]:
    """Each counted case, each of its (class, product) combinations, once: a set of case ids per key."""
    members: dict[tuple[tuple[str, ...], int, str, str, str], set[int]] = defaultdict(set)
    for c in ex.cases.values():
        if c.status != "validated" or (phase is not None and c.phase != phase) or (mode and c.mode != mode):
            continue
        route = (c.origin or "??", *c.transits, c.destination or "??")
        for klass, prod in itertools.product(c.commodities or ("?",), c.products or ("",)):
            if commodity is None or klass == commodity:
                members[(route, c.phase, klass, prod, c.mode or "")].add(c.id)
    return {k: len(v) for k, v in members.items()}


FILTERS = [(None, None, None), (2, None, None), (1, "drug", None), (3, None, "road"), (None, "timber", "sea_container")]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("phase", "commodity", "mode"), FILTERS)
def test_flows_equal_an_independent_count(
    seed: int, phase: int | None, commodity: str | None, mode: str | None
) -> None:
    ex = random_extract(seed)
    got = flows(ex, phase=phase, commodity=commodity, mode=mode)
    expected = independent_flows(ex, phase, commodity, mode)
    assert {(f.route, f.phase, f.commodity, f.product, f.mode): f.cases for f in got} == expected
    assert len(got) == len(expected)
    keys = [(-f.cases, f.phase, f.route, f.commodity, f.product, f.mode) for f in got]
    assert keys == sorted(keys)  # largest first, then a total order


def test_flows_filter_on_product_and_empty_filters_mean_none() -> None:
    ex = random_extract(4)
    everything = flows(ex)
    assert flows(ex, commodity="", mode="", product="") == everything
    heroin = flows(ex, product="heroin")
    assert heroin == [f for f in everything if f.product == "heroin"]
    assert flows(ex, statuses=["submitted"]) and all(
        sum(f.cases for f in flows(ex, statuses=[s])) > 0 for s in ("submitted", "merged", "draft")
    )


def test_legs_equal_an_independent_sum() -> None:
    ex = random_extract(5, n=1000)
    rows = flows(ex)
    total: dict[tuple[str, str], int] = defaultdict(int)
    first: dict[tuple[str, str], int] = {}
    for pos, f in enumerate(rows):
        for a, z in itertools.pairwise(f.route):
            if a != z and "??" not in (a, z):
                total[(a, z)] += f.cases
                first.setdefault((a, z), pos)
    expected = sorted(total, key=lambda leg: (-total[leg], first[leg]))
    got = legs(rows, limit=1000)
    assert [(a, z) for a, z, _n in got] == expected
    assert all(total[(a, z)] == n for a, z, n in got)
    assert legs(rows, limit=5) == got[:5]
    assert legs([]) == []


@pytest.mark.parametrize(("phase_a", "phase_b", "commodity"), [(1, 2, None), (2, 3, "wildlife"), (3, 1, "drug"),
                                                               (2, 2, None)])  # fmt: skip
def test_trends_count_each_route_as_an_independent_count(phase_a: int, phase_b: int, commodity: str | None) -> None:
    stats = pytest.importorskip("scipy.stats")
    ex = random_extract(6, n=1500)
    before: dict[tuple[str, ...], int] = defaultdict(int)
    after: dict[tuple[str, ...], int] = defaultdict(int)
    for c in ex.cases.values():
        if c.status != "validated" or (commodity and commodity not in c.commodities):
            continue
        if c.phase == phase_a:
            before[route_of(c)] += 1
        elif c.phase == phase_b:
            after[route_of(c)] += 1
    got = trends(ex, phase_a, phase_b, commodity=commodity)
    assert {t.route: (t.before, t.after) for t in got} == {r: (before[r], after[r]) for r in set(before) | set(after)}
    share = sum(after.values()) / (sum(before.values()) + sum(after.values()))
    for t in got:
        reference = stats.binomtest(t.after, t.before + t.after, share).pvalue if 0 < share < 1 else 1.0
        assert math.isclose(t.p_value, reference, rel_tol=1e-6, abs_tol=1e-12), t
    order = [(round(t.p_value, 12), -(t.before + t.after), t.route) for t in got]
    assert order == sorted(order)


def test_trends_with_a_callers_key() -> None:
    ex = random_extract(7, n=800)
    got = trends(ex, 1, 2, key=lambda c: (c.origin or "??",))
    expected: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for c in ex.cases.values():
        if c.status == "validated" and c.phase in (1, 2):
            expected[(c.origin or "??",)][c.phase - 1] += 1
    assert {t.route: [t.before, t.after] for t in got} == dict(expected)


def test_empty_extract() -> None:
    ex = Extract("test")
    assert flows(ex) == [] and trends(ex, 1, 2) == []
