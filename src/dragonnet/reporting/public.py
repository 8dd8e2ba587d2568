"""The public summary: aggregates over the whole operation, small cells suppressed (TLP:CLEAR-eligible).

Only the breakdowns marked `public` (phases, countries, commodity classes, modes of transport) are kept;
counts from 1 to SMALL_CELL - 1 become None (shown as "<5"), and every figure derived from a suppressed
count (a change, a percentage, a quantity) is suppressed with it, so that no case can be singled out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dragonnet.operation.service import SMALL_CELL
from dragonnet.reporting.figures import Breakdown, Debrief, Headline


def shown(n: int | None) -> int | None:
    """A count as published: None (suppressed) for 1..SMALL_CELL-1."""
    if n is None or n == 0 or n >= SMALL_CELL:
        return n
    return None


def suppress_breakdown(b: Breakdown) -> Breakdown:
    counts = [i for i, c in enumerate(b.columns) if c.kind == "count"]
    keys = [c.key for c in b.columns]
    rows: list[tuple[Any, ...]] = []
    for row in b.rows:
        new = list(row)
        for i in counts:
            new[i] = shown(row[i])
        for i, col in enumerate(b.columns):
            if col.depends and any(row[keys.index(d)] != new[keys.index(d)] for d in col.depends):
                new[i] = None
        rows.append(tuple(new))
    return replace(b, rows=tuple(rows))


def public_summary(debrief: Debrief) -> Debrief:
    h = debrief.headline
    cases, previous = shown(h.cases), shown(h.previous_cases)
    derived_ok = cases == h.cases and previous == h.previous_cases
    headline = Headline(
        cases=cases,
        previous_cases=previous,
        change_abs=h.change_abs if derived_ok else None,
        change_pct=h.change_pct if derived_ok else None,
        seizures=shown(h.seizures),
        arrests=shown(h.arrests),
        countries=h.countries,
        agencies=h.agencies,
    )
    kept = tuple(suppress_breakdown(b) for b in debrief.breakdowns if b.public)
    return replace(
        debrief,
        headline=headline,
        breakdowns=kept,
        suppressed=True,
        small_cell=SMALL_CELL,
        notes=(
            *debrief.notes,
            f"Public summary: aggregates of the whole operation; counts below {SMALL_CELL} are shown as "
            f"'<{SMALL_CELL}' and figures derived from them are withheld.",
        ),
    )
