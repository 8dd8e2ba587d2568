"""The differencing attack on published statistics, generalised to interval reasoning.

An observer asks for the public debrief of a phase under every filter combination it may send (commodity
class x reporting country) and writes every count down as a variable: the cases of (phase, class, country,
dimension, value), where the dimension is none, the country of seizure or the mode of transport. The same
set of cases reached two ways is one variable (the headline filtered by country = that country's row).
Known structure gives equations: a total is the sum of its rows (by country, by country of seizure, by mode)
and, when every case holds one commodity class (checked on the data), of its classes. Each published count
gives an interval: exact figures a point, "<5" the range 1..4; under the cell-key method the attacker knows
the published bound of the noise (`bound`) and that 0 stays 0 and a non-zero count never shows 0.

`Attack.solve` narrows every interval through the equations until nothing changes (the classic
interval-propagation attack: the subtraction "59 - 57 - 0 - 0 = 2" is one step of it). A suppressed cell is
recovered when its interval is a single value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dragonnet.reporting.figures import Debrief

Var = tuple[Any, ...]  # (phase, commodity or None, country or None, dimension or None, value or None)
INFINITY = 10**9
DIMENSIONS = {"by_seizure_country": "place", "by_transport_mode": "mode"}


@dataclass
class Attack:
    bound: int  # the noise the attacker allows for (0: exact figures with plain suppression)
    small: int = 5
    intervals: dict[Var, tuple[int, int]] = field(default_factory=dict)
    suppressed: set[Var] = field(default_factory=set)
    exact: set[Var] = field(default_factory=set)
    equations: list[tuple[Var, tuple[Var, ...]]] = field(default_factory=list)
    values: dict[Var, int] = field(default_factory=dict)  # the numbers read (suppressed cells excluded)
    queries: set[tuple[int, str | None, str | None]] = field(default_factory=set)  # (phase, class, country)

    def observe(self, var: Var, shown: int | None, *, exact: bool = False) -> None:
        """One published count: a number, or None for "<5"."""
        if shown is None:
            lo, hi = 1, self.small - 1 + self.bound
            self.suppressed.add(var)
        elif shown == 0:
            lo, hi = 0, 0
        elif exact or self.bound == 0:
            lo, hi = shown, shown
            self.exact.add(var)
        else:
            lo, hi = max(1, shown - self.bound), shown + self.bound
        if shown is not None:
            self.values[var] = shown
        old = self.intervals.get(var, (0, INFINITY))
        self.intervals[var] = (max(lo, old[0]), min(hi, old[1]))

    def read(self, debrief: Debrief, commodity: str | None, country: str | None) -> None:
        """Every case count of one public debrief, as variables of the attack."""
        cur = debrief.phase.number
        prev = debrief.previous_phase.number if debrief.previous_phase else None
        whole = commodity is None and country is None  # whole phases are published exactly
        self.observe((cur, commodity, country, None, None), debrief.headline.cases, exact=whole)
        if prev is not None:
            self.observe((prev, commodity, country, None, None), debrief.headline.previous_cases, exact=whole)
        for b in debrief.breakdowns:
            for row in b.as_dicts():
                for var, value in self._cells(b.key, row, cur, prev, commodity, country):
                    self.observe(var, value, exact=whole and var[1:] == (None, None, None, None))
        self.queries.update((phase, commodity, country) for phase in (cur, prev) if phase is not None)

    def _cells(
        self, key: str, row: dict[str, Any], cur: int, prev: int | None, commodity: str | None, country: str | None
    ) -> Iterable[tuple[Var, int | None]]:
        phases = [(cur, "cases"), *([(prev, "previous_cases")] if prev is not None else [])]
        if key == "by_phase":
            yield (row["phase"], commodity, country, None, None), row["cases"]
        elif key == "by_country":
            for phase, column in phases:
                yield (phase, commodity, row["key"], None, None), row[column]
        elif key == "by_commodity_class":
            for phase, column in phases:
                yield (phase, row["commodity_class"], country, None, None), row[column]
        elif key in DIMENSIONS:
            for phase, column in phases:
                yield (phase, commodity, country, DIMENSIONS[key], row["key"]), row[column]

    def _absent_rows_are_zero(self) -> None:
        """A row missing from a breakdown the attacker asked for is a count of 0."""
        seen = set(self.intervals)
        values = {dim: {v[4] for v in seen if v[3] == dim} for dim in DIMENSIONS.values()}
        countries = {v[2] for v in seen if v[2] is not None}
        for phase, k, c in self.queries:
            for dim, found in values.items():
                for value in found:
                    if (phase, k, c, dim, value) not in seen:
                        self.observe((phase, k, c, dim, value), 0)
            if c is None:
                for country in countries:
                    if (phase, k, country, None, None) not in seen:
                        self.observe((phase, k, country, None, None), 0)

    def add_structure(self, commodities: Iterable[str], countries: Iterable[str], single_class: bool) -> None:
        """The equations the attacker knows hold, over the variables it has seen; `countries`: every reporting
        country (the rows of the unfiltered debrief by country)."""
        countries = list(countries)
        self._absent_rows_are_zero()
        seen = set(self.intervals)
        phases = {v[0] for v in seen}
        classes: list[str | None] = [None, *commodities]
        places: list[str | None] = [None, *countries]
        for phase in phases:
            for k in classes:
                for c in places:
                    total = (phase, k, c, None, None)
                    if total not in seen:
                        continue
                    for dim in DIMENSIONS.values():
                        parts = tuple(v for v in seen if v[:3] == (phase, k, c) and v[3] == dim)
                        if parts:
                            self.equations.append((total, parts))
            for k in classes:
                for dim_value in {(v[3], v[4]) for v in seen if v[0] == phase and v[1] == k}:
                    total = (phase, k, None, *dim_value)
                    parts = tuple(v for v in seen if v[0] == phase and v[1] == k and v[2] is not None
                                  and (v[3], v[4]) == dim_value)  # fmt: skip
                    # Only where every reporting country's part was read (a scan bounded to some countries
                    # does not know the rest).
                    if total in seen and parts and {v[2] for v in parts} >= set(countries):
                        self.equations.append((total, parts))
            if single_class:
                for c in places:
                    for dim_value in {(v[3], v[4]) for v in seen if v[0] == phase and v[2] == c}:
                        total = (phase, None, c, *dim_value)
                        parts = tuple(v for v in seen if v[0] == phase and v[2] == c and v[1] is not None
                                      and (v[3], v[4]) == dim_value)  # fmt: skip
                        if total in seen and parts:
                            self.equations.append((total, parts))

    def solve(self, rounds: int = 50) -> dict[Var, tuple[int, int]]:
        """Narrow every interval through the equations (total = sum of parts) until nothing changes."""
        iv = dict(self.intervals)
        for _ in range(rounds):
            changed = False
            for total, parts in self.equations:
                lo_sum = sum(iv[p][0] for p in parts)
                hi_sum = sum(min(iv[p][1], INFINITY) for p in parts)
                t_lo, t_hi = iv[total]
                new_total = (max(t_lo, lo_sum), min(t_hi, hi_sum))
                if new_total != iv[total]:
                    iv[total], changed = new_total, True
                t_lo, t_hi = iv[total]
                for p in parts:
                    others_lo = lo_sum - iv[p][0]
                    others_hi = hi_sum - min(iv[p][1], INFINITY)
                    new = (max(iv[p][0], t_lo - others_hi), min(iv[p][1], t_hi - others_lo))
                    if new != iv[p]:
                        iv[p], changed = new, True
            if not changed:
                break
        return iv

    def recovered(self) -> dict[Var, int]:
        """The suppressed cells pinned to one value."""
        iv = self.solve()
        return {v: iv[v][0] for v in self.suppressed if iv[v][0] == iv[v][1]}


def naive_differences(attack: Attack) -> dict[Var, int]:
    """The subtraction of the issue's probe: a suppressed cell = its total minus its other parts as read, from
    the first equation where it is the only suppressed part (no interval reasoning, no check)."""
    out: dict[Var, int] = {}
    for total, parts in attack.equations:
        hidden = [p for p in parts if p in attack.suppressed]
        if len(hidden) != 1 or hidden[0] in out or total not in attack.values:
            continue
        others = [attack.values.get(p) for p in parts if p != hidden[0]]
        if any(o is None for o in others):
            continue
        out[hidden[0]] = attack.values[total] - sum(o or 0 for o in others)
    return out


def plain_suppression(debrief: Debrief, small: int = 5) -> Debrief:
    """The self-test's target: the same public figures, exact, with only the small-cell rule (1..small-1 shown
    as "<5"), as the public summary was before the cell-key method."""
    from dataclasses import replace

    def hide(v: Any) -> Any:
        return None if isinstance(v, int) and 0 < v < small else v

    breakdowns = tuple(
        replace(
            b,
            rows=tuple(
                tuple(hide(v) if c.kind == "count" else v for c, v in zip(b.columns, row, strict=True))
                for row in b.rows
            ),
        )
        for b in debrief.breakdowns
        if b.public
    )
    h = debrief.headline
    headline = replace(h, cases=hide(h.cases), previous_cases=hide(h.previous_cases))
    return replace(debrief, headline=headline, breakdowns=breakdowns, suppressed=True, small_cell=small)
