"""The debrief's figures: data classes shared by the breakdowns, the public summary and the renderers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from dragonnet.i18n import LazyText, english
from dragonnet.reporting.rules import describe_rule

# Column kinds: "text" (a label), "subject" (a substance or taxon: its name in the reader's language where the
# reference has one, the reference name beside), "country" (alpha-2), "count" (a number of cases/items: suppressible),
# "change" (a difference between two counts), "pct" (a percentage change), "amount" (a quantity sum).
COUNT_KINDS = frozenset({"count"})


class UnresolvedName(str):
    """A substance or taxon the reference did not resolve, kept as written. As a string it is the English
    label "(unresolved) <text>" (JSON, CSV, the API); pages and reports make the label in their language from
    `written` (reporting.render.cell_text)."""

    written: str

    def __new__(cls, written: str) -> UnresolvedName:
        name = super().__new__(cls, f"(unresolved) {written}")
        name.written = written
        return name


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    # For "change"/"pct"/"amount": the count columns it is derived from (suppressed with them). A change or
    # percentage of two columns is first - second; of one column, this row's value against the previous row's.
    depends: tuple[str, ...] = ()
    # For a count that is a part of a headline figure ("cases", "previous_cases", "seizures", "arrests"): a
    # perturbed part is never shown above its whole (reporting.public).
    part_of: str | None = None


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str | LazyText = ""  # how this table counts, beyond the counting rule (e.g. "a case counts under each class")
    public: bool = False  # part of the public summary

    def column(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)

    def values(self, key: str) -> list[Any]:
        i = self.column(key)
        return [row[i] for row in self.rows]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip((c.key for c in self.columns), row, strict=True)) for row in self.rows]

    def lookup(self, key_column: str, key: Any, value_column: str) -> Any:
        k, v = self.column(key_column), self.column(value_column)
        for row in self.rows:
            if row[k] == key:
                return row[v]
        return None


@dataclass(frozen=True)
class PhaseInfo:
    number: int
    name: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class Headline:
    cases: int | None
    previous_cases: int | None
    change_abs: int | None
    change_pct: float | None
    seizures: int | None  # seized items (one case can hold several)
    arrests: int | None
    countries: int | None  # reporting countries with at least one counted case
    agencies: int | None


@dataclass(frozen=True)
class Debrief:
    operation_slug: str
    operation_name: str
    phase: PhaseInfo
    previous_phase: PhaseInfo | None
    rule: dict[str, Any]  # CountingRule.as_dict()
    scope_kind: str
    scope_label: str | LazyText  # translated where it is rendered; English in JSON
    generated_by: str | None
    generated_at: dt.datetime
    filters: dict[str, str | None]
    headline: Headline
    breakdowns: tuple[Breakdown, ...]
    suppressed: bool = False
    small_cell: int | None = None
    perturbed: bool = False  # counts carry the cell-key noise (the public summary, reporting.public)
    notes: tuple[str | LazyText, ...] = field(default_factory=tuple)  # translated where rendered

    def breakdown(self, key: str) -> Breakdown:
        for b in self.breakdowns:
            if b.key == key:
                return b
        raise KeyError(key)

    def with_breakdowns(self, breakdowns: tuple[Breakdown, ...], **changes: Any) -> Debrief:
        return replace(self, breakdowns=breakdowns, **changes)

    @property
    def rule_text(self) -> str:
        return str(self.rule["text"])

    @property
    def rule_text_translated(self) -> str:
        """The rule's sentence in the locale the debrief is rendered in (English outside one)."""
        return describe_rule(self.rule)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every breakdown with its rows as objects and the counting rule it was counted under."""

        def phase(p: PhaseInfo | None) -> dict[str, Any] | None:
            if p is None:
                return None
            return {"number": p.number, "name": p.name, "start_date": p.start_date.isoformat(),
                    "end_date": p.end_date.isoformat()}  # fmt: skip

        h = self.headline
        return {
            "operation": {"slug": self.operation_slug, "name": self.operation_name},
            "phase": phase(self.phase),
            "previous_phase": phase(self.previous_phase),
            "rule": self.rule,
            "scope": {"kind": self.scope_kind, "label": english(self.scope_label), "user": self.generated_by},
            "filters": self.filters,
            "generated_at": self.generated_at.isoformat(),
            "suppressed": self.suppressed,
            "small_cell": self.small_cell,
            "perturbed": self.perturbed,
            "notes": [english(n) for n in self.notes],
            "headline": {
                "cases": h.cases,
                "previous_cases": h.previous_cases,
                "change_abs": h.change_abs,
                "change_pct": h.change_pct,
                "seizures": h.seizures,
                "arrests": h.arrests,
                "reporting_countries": h.countries,
                "reporting_agencies": h.agencies,
                "rule": self.rule_text,
            },
            "breakdowns": {
                b.key: {
                    "title": b.title,
                    "rule": self.rule_text,
                    "note": english(b.note),
                    "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in b.columns],
                    "rows": b.as_dicts(),
                }
                for b in self.breakdowns
            },
        }
