"""Routes and trends: flows origin -> transit -> destination, and what changed between two phases.

Counting rule: validated cases (merged duplicates are not counted again: they have status `merged`), each case
once per route, grouped by phase, commodity class, substance or taxon, and mode, over the viewer's extract.

A change between phases is called a trend only when an exact test says it is unlikely to be noise. Given a
route's counts a (phase A) and b (phase B), and all routes' totals N_A and N_B, under "no change in the route's
share" b follows Binomial(a + b, N_B / (N_A + N_B)) (the conditional test for two Poisson counts). The two-sided
exact p-value sums the probabilities of outcomes no likelier than b. Routes with p < alpha grew or shrank;
routes seen in one phase only are "new" or "vanished" (significant or not, as the p-value says); the rest are
"no significant change".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.linkage.extract import CaseInfo, Extract

COUNTED_STATUSES = frozenset({CaseStatus.VALIDATED.value})
DEFAULT_ALPHA = 0.01


def route_of(case: CaseInfo) -> tuple[str, ...]:
    """("MM", "TH", "AU"): origin, transits in order, destination ("??" where unknown)."""
    return (case.origin or "??", *case.transits, case.destination or "??")


def route_label(route: tuple[str, ...]) -> str:
    return " → ".join(route)


@dataclass(frozen=True)
class Flow:
    route: tuple[str, ...]
    phase: int
    commodity: str
    product: str
    mode: str
    cases: int

    @property
    def label(self) -> str:
        return route_label(self.route)


def counted(ex: Extract, *, statuses: Iterable[str] = COUNTED_STATUSES) -> list[CaseInfo]:
    allowed = set(statuses)
    return [c for c in ex.cases.values() if c.status in allowed]


def flows(
    ex: Extract,
    *,
    phase: int | None = None,
    commodity: str | None = None,
    product: str | None = None,
    mode: str | None = None,
    statuses: Iterable[str] = COUNTED_STATUSES,
) -> list[Flow]:
    """Cases per (route, phase, commodity class, substance/taxon, mode), largest first."""
    counts: Counter[tuple[tuple[str, ...], int, str, str, str]] = Counter()
    for c in counted(ex, statuses=statuses):
        if phase is not None and c.phase != phase:
            continue
        for klass in c.commodities or ("?",):
            if commodity and klass != commodity:
                continue
            for prod in c.products or ("",):
                if product and prod != product:
                    continue
                if mode and c.mode != mode:
                    continue
                counts[(route_of(c), c.phase, klass, prod, c.mode or "")] += 1
    rows = [Flow(r, p, k, s, m, n) for (r, p, k, s, m), n in counts.items()]
    rows.sort(key=lambda f: (-f.cases, f.phase, f.route, f.commodity, f.product, f.mode))
    return rows


def legs(rows: Iterable[Flow], *, limit: int = 60) -> list[tuple[str, str, int]]:
    """Country-to-country legs of the flows (origin -> transits -> destination), cases summed per leg."""
    total: Counter[tuple[str, str]] = Counter()
    for f in rows:
        for a, z in zip(f.route, f.route[1:], strict=False):
            if a != z and "??" not in (a, z):
                total[(a, z)] += f.cases
    return [(a, z, n) for (a, z), n in total.most_common(limit)]


# --- the exact test -----------------------------------------------------------------------------------------


def _log_binom_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))  # fmt: skip


def binomial_two_sided(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test p-value (outcomes no likelier than k), as scipy.stats.binomtest."""
    if n == 0:
        return 1.0
    observed = _log_binom_pmf(k, n, p)
    total = 0.0
    for i in range(n + 1):
        lp = _log_binom_pmf(i, n, p)
        if lp <= observed + 1e-7:
            total += math.exp(lp)
    return min(1.0, total)


@dataclass(frozen=True)
class Trend:
    route: tuple[str, ...]
    before: int
    after: int
    expected_after: float  # what phase B would show if the route kept its share
    p_value: float
    change: str  # new | vanished | grew | shrank | no significant change
    significant: bool

    @property
    def label(self) -> str:
        return route_label(self.route)


def trends(
    ex: Extract,
    phase_a: int,
    phase_b: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    key: Callable[[CaseInfo], tuple[str, ...]] = route_of,
    commodity: str | None = None,
    statuses: Iterable[str] = COUNTED_STATUSES,
) -> list[Trend]:
    """Per route: counts in two phases, the exact conditional binomial test and the verdict."""
    a_counts: Counter[tuple[str, ...]] = Counter()
    b_counts: Counter[tuple[str, ...]] = Counter()
    for c in counted(ex, statuses=statuses):
        if commodity and commodity not in c.commodities:
            continue
        if c.phase == phase_a:
            a_counts[key(c)] += 1
        elif c.phase == phase_b:
            b_counts[key(c)] += 1
    total_a, total_b = sum(a_counts.values()), sum(b_counts.values())
    if total_a + total_b == 0:
        return []
    share_b = total_b / (total_a + total_b)
    out: list[Trend] = []
    for route in sorted(set(a_counts) | set(b_counts)):
        a, b = a_counts[route], b_counts[route]
        n = a + b
        p = binomial_two_sided(b, n, share_b)
        significant = p < alpha
        expected = n * share_b
        if a == 0:
            change = "new"
        elif b == 0:
            change = "vanished"
        elif significant:
            change = "grew" if b > expected else "shrank"
        else:
            change = "no significant change"
        out.append(Trend(route, a, b, expected, p, change, significant))
    out.sort(key=lambda t: (t.p_value, -(t.before + t.after), t.route))
    return out
