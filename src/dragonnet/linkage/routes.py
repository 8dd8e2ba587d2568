"""Routes and trends: flows origin -> transit -> destination, and what changed between two phases.

Counting rule: validated cases (merged duplicates are not counted again: they have status `merged`), each case
once per route, grouped by phase, commodity class, substance or taxon, and mode, over the viewer's extract.

The counting is SQL: the extract's cases are one Arrow table (as the extract read it, or `case_table`: a
column per field, lists for transits, commodity classes and products) and DuckDB unnests, filters and groups it
(`flows`, `legs`, `trends`); Python only turns the aggregated rows into `Flow` and `Trend` values.

A change between phases is called a trend only when an exact test says it is unlikely to be noise. Given a
route's counts a (phase A) and b (phase B), and all routes' totals N_A and N_B, under "no change in the route's
share" b follows Binomial(a + b, N_B / (N_A + N_B)) (the conditional test for two Poisson counts). The two-sided
exact p-value sums the probabilities of outcomes no likelier than b. Routes with p < alpha grew or shrank;
routes seen in one phase only are "new" or "vanished" (significant or not, as the p-value says); the rest are
"no significant change". The test runs once per route on the aggregated table.
"""

# ruff: noqa: S608  (the SQL below is assembled from code-defined fragments only; values are bound parameters)

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.linkage.extract import CaseInfo, Extract
from dragonnet.storage.scratch import scratch

COUNTED_STATUSES = frozenset({CaseStatus.VALIDATED.value})
DEFAULT_ALPHA = 0.01
UNKNOWN_PLACE = "??"
UNKNOWN_COMMODITY = "?"

_TEXT_LIST = pa.list_(pa.string())
CASE_SCHEMA = pa.schema(
    [
        ("id", pa.int64()), ("phase", pa.int64()), ("status", pa.string()), ("origin", pa.string()),
        ("destination", pa.string()), ("transits", _TEXT_LIST), ("mode", pa.string()),
        ("commodities", _TEXT_LIST), ("products", _TEXT_LIST),
    ]
)  # fmt: skip

# The route of a case in SQL: origin, transits in order, destination, "??" where unknown (as `route_of`).
_ROUTE_SQL = f"list_concat([coalesce(origin, '{UNKNOWN_PLACE}')], transits, [coalesce(destination, '{UNKNOWN_PLACE}')])"


def route_of(case: CaseInfo) -> tuple[str, ...]:
    """("MM", "TH", "AU"): origin, transits in order, destination ("??" where unknown)."""
    return (case.origin or UNKNOWN_PLACE, *case.transits, case.destination or UNKNOWN_PLACE)


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


def case_table(cases: Iterable[CaseInfo]) -> pa.Table:
    """The cases as one Arrow table, a column per field (the input of the SQL below; nothing is counted here)."""
    rows = list(cases)
    return pa.table(
        [
            pa.array([c.id for c in rows], pa.int64()),
            pa.array([c.phase for c in rows], pa.int64()),
            pa.array([c.status for c in rows], pa.string()),
            pa.array([c.origin for c in rows], pa.string()),
            pa.array([c.destination for c in rows], pa.string()),
            pa.array([c.transits for c in rows], _TEXT_LIST),
            pa.array([c.mode for c in rows], pa.string()),
            pa.array([c.commodities for c in rows], _TEXT_LIST),
            pa.array([c.products for c in rows], _TEXT_LIST),
        ],
        schema=CASE_SCHEMA,
    )


def extract_table(ex: Extract) -> pa.Table:
    """The extract's cases as `case_table`: the table it was read as, or (an extract built by hand) its cases."""
    if ex.case_table is not None and ex.case_table.num_rows == len(ex.cases):
        return ex.case_table.select(CASE_SCHEMA.names).cast(CASE_SCHEMA)
    return case_table(ex.cases.values())


def _query(sql: str, params: dict[str, Any], **tables: pa.Table) -> list[tuple[Any, ...]]:
    con = scratch()
    try:
        for name, table in tables.items():
            con.register(name, table)
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def flows(
    ex: Extract,
    *,
    phase: int | None = None,
    commodity: str | None = None,
    product: str | None = None,
    mode: str | None = None,
    statuses: Iterable[str] = COUNTED_STATUSES,
) -> list[Flow]:
    """Cases per (route, phase, commodity class, substance/taxon, mode), largest first.

    A case counts once in each of its (commodity class, product) combinations; a case without items counts
    under commodity "?" and product "", a case without a substance or taxon under product "".
    """
    # Empty filter values mean "no filter", as they always did (`commodity=""` from a form).
    params: dict[str, Any] = {
        "statuses": sorted(set(statuses)), "phase": phase, "commodity": commodity or None,
        "product": product or None, "mode": mode or None,
    }  # fmt: skip
    sql = f"""
        WITH c AS (
            SELECT id, phase, mode, {_ROUTE_SQL} AS route,
                   CASE WHEN len(commodities) = 0 THEN ['{UNKNOWN_COMMODITY}'] ELSE commodities END AS klasses,
                   CASE WHEN len(products) = 0 THEN [''] ELSE products END AS prods
            FROM cases
            WHERE list_contains($statuses, status)
              AND ($phase IS NULL OR phase = $phase)
              AND ($mode IS NULL OR mode = $mode)
        ),
        ck AS (SELECT id, phase, mode, route, unnest(klasses) AS commodity, prods FROM c),
        ckp AS (SELECT id, phase, mode, route, commodity, unnest(prods) AS product FROM ck)
        SELECT route, phase, commodity, product, coalesce(mode, '') AS mode, count(*) AS n
        FROM ckp
        WHERE ($commodity IS NULL OR commodity = $commodity)
          AND ($product IS NULL OR product = $product)
        GROUP BY route, phase, commodity, product, coalesce(mode, '')
        ORDER BY n DESC, phase, route, commodity, product, mode
    """
    rows = _query(sql, params, cases=extract_table(ex))
    return [Flow(tuple(r), int(p), str(k), str(s), str(m), int(n)) for r, p, k, s, m, n in rows]


def legs(rows: Iterable[Flow], *, limit: int = 60) -> list[tuple[str, str, int]]:
    """Country-to-country legs of the flows (origin -> transits -> destination), cases summed per leg.

    Largest first; legs with equal sums in the order they first appear along the flows.
    """
    flows_in = list(rows)
    if not flows_in:
        return []
    table = pa.table(
        [
            pa.array(range(len(flows_in)), pa.int64()),
            pa.array([f.route for f in flows_in], _TEXT_LIST),
            pa.array([f.cases for f in flows_in], pa.int64()),
        ],
        names=["ord", "route", "cases"],
    )
    sql = """
        WITH l AS (
            SELECT ord, i, route[i] AS a, route[i + 1] AS z, cases
            FROM (SELECT ord, route, cases, unnest(range(1, len(route))) AS i FROM flows_in)
        )
        SELECT a, z, sum(cases) AS n FROM l
        WHERE a <> z AND a <> $unknown AND z <> $unknown
        GROUP BY a, z
        ORDER BY n DESC, min(ord * 1000000 + i)
        LIMIT $limit
    """
    found = _query(sql, {"unknown": UNKNOWN_PLACE, "limit": limit}, flows_in=table)
    return [(str(a), str(z), int(n)) for a, z, n in found]


# --- the exact test -----------------------------------------------------------------------------------------


def _log_binom_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))  # fmt: skip


def _log_binom_pmf_all(n: int, p: float) -> np.ndarray:
    """log P(X = i) for i = 0..n, X ~ Binomial(n, p), 0 < p < 1 (log C(n, i) as a running sum)."""
    i = np.arange(1, n + 1, dtype=np.float64)
    log_choose = np.concatenate(([0.0], np.cumsum(np.log((n - i + 1) / i))))
    k = np.arange(n + 1, dtype=np.float64)
    out: np.ndarray = log_choose + k * math.log(p) + (n - k) * math.log1p(-p)
    return out


def binomial_two_sided(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test p-value (outcomes no likelier than k), as scipy.stats.binomtest."""
    if n == 0:
        return 1.0
    if p <= 0.0 or p >= 1.0:
        observed = _log_binom_pmf(k, n, p)
        return 1.0 if observed == 0.0 else 0.0
    observed = _log_binom_pmf(k, n, p)
    logs = _log_binom_pmf_all(n, p)
    return min(1.0, float(np.exp(logs[logs <= observed + 1e-7]).sum()))


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


def _phase_counts(
    cases: Sequence[CaseInfo],
    phase_a: int,
    phase_b: int,
    key: Callable[[CaseInfo], tuple[str, ...]],
    commodity: str | None,
    statuses: Iterable[str],
) -> list[tuple[tuple[str, ...], int, int]]:
    """(key, cases in phase A, cases in phase B) per key, by DuckDB over the case table."""
    table = case_table(cases)
    if key is route_of:
        key_sql = _ROUTE_SQL
    else:  # a caller's own key: evaluated per case beside the table, grouped in SQL like the route
        table = table.append_column("custom_key", pa.array([key(c) for c in cases], _TEXT_LIST))
        key_sql = "custom_key"
    sql = f"""
        SELECT {key_sql} AS k,
               count(*) FILTER (WHERE phase = $a) AS n_a,
               count(*) FILTER (WHERE phase = $b AND phase <> $a) AS n_b
        FROM cases
        WHERE list_contains($statuses, status)
          AND phase IN ($a, $b)
          AND ($commodity IS NULL OR list_contains(commodities, $commodity))
        GROUP BY k
        ORDER BY k
    """
    params = {"a": phase_a, "b": phase_b, "statuses": sorted(set(statuses)), "commodity": commodity or None}
    return [(tuple(k), int(a), int(b)) for k, a, b in _query(sql, params, cases=table)]


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
    """Per route: counts in two phases (SQL), the exact conditional binomial test and the verdict."""
    rows = _phase_counts(list(ex.cases.values()), phase_a, phase_b, key, commodity, statuses)
    total_a, total_b = sum(a for _k, a, _b in rows), sum(b for _k, _a, b in rows)
    if total_a + total_b == 0:
        return []
    share_b = total_b / (total_a + total_b)
    out: list[Trend] = []
    for route, a, b in rows:
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
    # p-values equal to 12 decimals are ties (summation order moves the last digits): more cases first, then route.
    out.sort(key=lambda t: (round(t.p_value, 12), -(t.before + t.after), t.route))
    return out
