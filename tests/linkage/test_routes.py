from __future__ import annotations

import datetime as dt
import math

import pytest

from dragonnet.linkage.extract import CaseInfo, Extract
from dragonnet.linkage.routes import binomial_two_sided, flows, trends


@pytest.mark.parametrize(
    ("k", "n", "p", "expected"),
    [(0, 7, 0.5, 0.015625), (3, 10, 0.5, 0.34375), (10, 10, 0.5, 0.001953125)],
)
def test_binomial_two_sided_matches_known_values(k: int, n: int, p: float, expected: float) -> None:
    assert math.isclose(binomial_two_sided(k, n, p), expected, rel_tol=1e-3)


def test_binomial_agrees_with_scipy_when_available() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k, n, p in [(4, 30, 0.2), (17, 25, 0.45), (0, 3, 0.9), (50, 80, 0.5)]:
        assert math.isclose(binomial_two_sided(k, n, p), stats.binomtest(k, n, p).pvalue, rel_tol=1e-6)


def _case(i: int, phase: int, origin: str, dest: str, transits: tuple[str, ...] = ()) -> CaseInfo:
    return CaseInfo(i, f"C-{i}", "XX-CUS", "XX", phase, "validated", dt.date(2020, 1, 1), dest, origin, dest,
                    transits, "road", ("drug",), ("heroin",))  # fmt: skip


def _extract(counts: dict[tuple[int, str, str], int]) -> Extract:
    ex = Extract("test")
    i = 0
    for (phase, o, d), n in counts.items():
        for _ in range(n):
            i += 1
            ex.cases[i] = _case(i, phase, o, d)
    return ex


def test_trends_separate_signal_from_noise() -> None:
    ex = _extract({
        (1, "MM", "TH"): 20, (2, "MM", "TH"): 22,  # stable
        (1, "LA", "VN"): 5, (2, "LA", "VN"): 40,  # grew
        (1, "IN", "MY"): 12,  # vanished
        (2, "BR", "HK"): 1,  # new, but one case
        (1, "MM", "LA"): 3, (2, "MM", "LA"): 5,  # noise
    })  # fmt: skip
    got = {t.route: t for t in trends(ex, 1, 2, alpha=0.01)}
    assert got[("LA", "VN")].change == "grew" and got[("LA", "VN")].significant
    assert got[("MM", "TH")].change == "no significant change"
    assert got[("MM", "LA")].change == "no significant change"
    assert got[("IN", "MY")].change == "vanished" and got[("IN", "MY")].significant
    assert got[("BR", "HK")].change == "new" and not got[("BR", "HK")].significant


def test_flows_count_validated_cases_by_route_and_phase() -> None:
    ex = _extract({(1, "MM", "TH"): 3, (2, "MM", "TH"): 2})
    ex.cases[99] = CaseInfo(99, "D", "XX-CUS", "XX", 1, "merged", dt.date(2020, 1, 1), "TH", "MM", "TH", (),
                            "road", ("drug",), ("heroin",))  # fmt: skip
    rows = flows(ex, phase=1)
    assert [(f.label, f.cases) for f in rows] == [("MM → TH", 3)]


def test_legs_sum_cases_per_country_pair_along_each_route() -> None:
    from dragonnet.linkage.routes import legs

    ex = Extract("test")
    ex.cases[1] = _case(1, 1, "NG", "VN", ("MY",))
    ex.cases[2] = _case(2, 1, "NG", "CN", ("MY", "VN"))
    ex.cases[3] = _case(3, 1, "MM", "TH")
    ex.cases[4] = CaseInfo(4, "C-4", "XX-CUS", "XX", 1, "validated", dt.date(2020, 1, 1), "TH", None, "TH", (),
                           "road", ("drug",), ("heroin",))  # fmt: skip
    got = {(a, z): n for a, z, n in legs(flows(ex, phase=1))}
    assert got == {("NG", "MY"): 2, ("MY", "VN"): 2, ("VN", "CN"): 1, ("MM", "TH"): 1}
