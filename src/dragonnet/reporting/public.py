"""The public summary: aggregates over the whole operation that cannot be differenced (TLP:CLEAR-eligible).

Only the breakdowns marked `public` (phases, countries, commodity classes, modes of transport) are kept. Every
count is perturbed by the cell-key method (`dragonnet.policy.cellkey`): the same cell gets the same noise in
every table, filter and format, so subtracting two answers gives noise, not a hidden value; then counts from
1 to SMALL_CELL - 1 are shown as "<5". How the figures stay consistent with each other:

* a cell's key comes from its records (the sketches computed by `breakdowns.compute_in_subsets`), so the
  same figure reached two ways (the headline filtered by country, or that country's row) is the same number;
* the case count of a whole phase (no filter) is exact: the operation's published figure;
* a part (a row of cases, previous cases, seized items or arrests) is never shown above the headline figure
  it belongs to (`Column.part_of`);
* changes and percentages are computed from the figures shown, and withheld with them; amounts (kg) get a
  relative noise of 5-10% keyed on the cases they sum, and are withheld where those cases are "<5".
Rows are perturbed one by one, so they need not add up to the total shown (the page says so).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dragonnet.i18n import lazy_gettext
from dragonnet.operation.service import SMALL_CELL, percent_change
from dragonnet.policy import cellkey
from dragonnet.reporting.breakdowns import Computed
from dragonnet.reporting.figures import Breakdown, Column, Debrief, Headline

VALUE_KINDS = frozenset({"count", "amount", "change", "pct"})
HEADLINE_COUNTS = ("cases", "previous_cases", "seizures", "arrests")

NOTE = lazy_gettext(
    "Public summary: aggregates of the whole operation. Every count is perturbed by a few units (the cell-key "
    "method: the same figure is always the same number, so subtracting two figures does not reveal a hidden "
    "one); counts below %(n)s are shown as '<%(n)s' and figures derived from them are withheld; "
    "amounts carry a 5-10%% perturbation. The cases of a whole phase are exact. Rows are perturbed one by one "
    "and need not add up to the total.",
    n=SMALL_CELL,
)


def _row_id(b: Breakdown, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """What identifies a row: its label columns (everything that is not a figure)."""
    return tuple(v for c, v in zip(b.columns, row, strict=True) if c.kind not in VALUE_KINDS)


class Protector:
    """Perturbs one debrief's figures from its full figures and their values within each record subset."""

    def __init__(self, key: cellkey.CellKey, runs: Sequence[Computed], exact: frozenset[cellkey.Sketch]) -> None:
        self.key, self.runs, self.exact = key, runs, exact
        self.whole: dict[str, int | None] = {}  # headline figures, perturbed (before the small-cell rule)

    def _count(self, value: int | None, by_subset: Sequence[Any]) -> int | None:
        if value is None:
            return None
        return self.key.count(cellkey.from_subsets(value, [v or 0 for v in by_subset]), self.exact)

    def headline(self, h: Headline) -> Headline:
        for name in HEADLINE_COUNTS:
            self.whole[name] = self._count(getattr(h, name), [getattr(r.headline, name) for r in self.runs])
        cases, previous = cellkey.shown(self.whole["cases"]), cellkey.shown(self.whole["previous_cases"])
        return Headline(
            cases=cases,
            previous_cases=previous,
            change_abs=cases - previous if cases is not None and previous is not None else None,
            change_pct=percent_change(previous, cases),
            seizures=cellkey.shown(self.whole["seizures"]),
            arrests=cellkey.shown(self.whole["arrests"]),
            countries=h.countries,
            agencies=h.agencies,
        )

    def breakdown(self, b: Breakdown, position: int) -> Breakdown:
        """`b` perturbed; `position`: its place among the breakdowns computed in every subset run."""
        in_runs = [{_row_id(b, r): r for r in run.breakdowns[position].rows} for run in self.runs]
        keys = [c.key for c in b.columns]
        rows: list[tuple[Any, ...]] = []
        previous_shown: dict[str, int | None] = {}
        for row in b.rows:
            rid = _row_id(b, row)
            subset_rows = [found.get(rid) for found in in_runs]
            sketches: dict[str, cellkey.Sketch] = {}
            out = list(row)
            for i, col in enumerate(b.columns):
                if col.kind != "count" or row[i] is None:
                    continue
                values = [r[i] if r is not None else 0 for r in subset_rows]
                sketches[col.key] = cellkey.from_subsets(row[i], [v or 0 for v in values])
                perturbed: int | None = self.key.count(sketches[col.key], self.exact)
                if col.part_of:
                    perturbed = cellkey.at_most(perturbed, self.whole.get(col.part_of))
                out[i] = cellkey.shown(perturbed)
            for i, col in enumerate(b.columns):
                if col.kind in ("change", "pct"):
                    out[i] = _derived(col, [out[keys.index(d)] for d in col.depends], previous_shown)
                elif col.kind == "amount":
                    out[i] = self._amount(col, row[i], out, keys, sketches)
            for d in {d for c in b.columns if len(c.depends) == 1 for d in c.depends}:
                previous_shown[d] = out[keys.index(d)]
            rows.append(tuple(out))
        return replace(b, rows=_in_shown_order(b, rows))

    def _amount(
        self, col: Column, value: Any, out: list[Any], keys: list[str], sketches: dict[str, cellkey.Sketch]
    ) -> float | None:
        if value is None or any(out[keys.index(d)] is None for d in col.depends):
            return None
        base = next((sketches[d] for d in col.depends if d in sketches), None)
        if base is None:
            return None  # an amount not tied to a count cannot be keyed: withheld
        return round(self.key.amount(float(value), base, col.key), 3)


def _in_shown_order(b: Breakdown, rows: list[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """A table ranked by its counts (largest first) is ranked again by the figures shown: its true order would
    tell which of two "<5" rows is larger. "<5" ranks between 0 and 5; ties go by the row's labels."""
    counts = [i for i, c in enumerate(b.columns) if c.kind == "count"]
    if not counts or len(rows) < 2:
        return tuple(rows)
    first = [r[counts[0]] for r in b.rows]
    if any(a is None or c is None or a < c for a, c in itertools.pairwise(first)):
        return tuple(rows)  # not ranked by its counts (e.g. phases in order)

    def rank(row: tuple[Any, ...]) -> tuple[Any, ...]:
        figures = tuple(-(0.5 if row[i] is None else row[i]) for i in counts)
        return (*figures, tuple(str(v) for v, c in zip(row, b.columns, strict=True) if c.kind not in VALUE_KINDS))

    return tuple(sorted(rows, key=rank))


def _derived(col: Column, values: list[Any], previous_shown: dict[str, int | None]) -> Any:
    if len(col.depends) == 2:
        current, before = values
    else:
        current, before = values[0], previous_shown.get(col.depends[0])
    if current is None or before is None:
        return None
    return current - before if col.kind == "change" else percent_change(before, current)


def public_keys(breakdowns: Sequence[Breakdown]) -> list[str]:
    """The breakdowns of the public summary, in order."""
    return [b.key for b in breakdowns if b.public]


def public_summary(
    debrief: Debrief, key: cellkey.CellKey, runs: Sequence[Computed], exact: frozenset[cellkey.Sketch]
) -> Debrief:
    """The public figures of `debrief` (its full figures), given their values within each record subset (`runs`:
    the headline and the breakdowns of `public_keys`, in that order) and the sketches published exactly (whole
    phases). A breakdown another capability contributed has no subset runs: it is left out."""
    protector = Protector(key, runs, exact)
    headline = protector.headline(debrief.headline)
    computed = [run_b.key for run_b in runs[0].breakdowns] if runs else []
    kept = tuple(protector.breakdown(b, computed.index(b.key)) for b in debrief.breakdowns
                 if b.public and b.key in computed)  # fmt: skip
    return replace(
        debrief,
        headline=headline,
        breakdowns=kept,
        suppressed=True,
        small_cell=SMALL_CELL,
        perturbed=True,
        notes=(*debrief.notes, NOTE),
    )
