"""The reporting capability's entry points: debriefs (figures of a phase) and audited generation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dragonnet import hooks
from dragonnet.domain.vocabulary import CommodityClass
from dragonnet.errors import ValidationError
from dragonnet.operation.service import get_operation
from dragonnet.policy import audit, cellkey
from dragonnet.policy.access import Actor
from dragonnet.reference import countries
from dragonnet.reporting import breakdowns
from dragonnet.reporting.extract import Extract, Scope, extract, scope_for
from dragonnet.reporting.figures import Breakdown, Column, Debrief, PhaseInfo
from dragonnet.reporting.public import public_keys, public_summary
from dragonnet.reporting.rules import DEFAULT, CountingRule
from dragonnet.storage.models import Operation, Phase, utcnow


@dataclass(frozen=True)
class Filters:
    commodity: str | None = None
    country: str | None = None  # alpha-2 of the reporting agency's country

    @classmethod
    def parse(cls, commodity: str | None, country: str | None) -> Filters:
        commodity = (commodity or "").strip().lower() or None
        if commodity and commodity not in CommodityClass.values():
            raise ValidationError(f"unknown commodity class {commodity!r}; use {', '.join(CommodityClass.values())}")
        alpha2 = countries.resolve(country).alpha2 if country and country.strip() else None
        return cls(commodity, alpha2)

    def as_dict(self) -> dict[str, str | None]:
        return {"commodity": self.commodity, "country": self.country}


def find_phase(operation: Operation, number: int | None) -> tuple[Phase, Phase | None]:
    """The phase numbered `number` (default: the last one) and the phase before it."""
    phases = sorted(operation.phases, key=lambda p: p.number)
    if not phases:
        raise ValidationError(f"operation {operation.slug!r} has no phases")
    if number is None:
        return phases[-1], (phases[-2] if len(phases) > 1 else None)
    for i, p in enumerate(phases):
        if p.number == number:
            return p, (phases[i - 1] if i else None)
    raise ValidationError(
        f"operation {operation.slug!r} has no phase {number}; phases: {', '.join(str(p.number) for p in phases)}"
    )


def _info(p: Phase) -> PhaseInfo:
    return PhaseInfo(p.number, p.name, p.start_date, p.end_date)


@dataclass(frozen=True)
class Figures:
    """A debrief's full figures and, for the public summary, what its perturbation is computed from: the
    headline and the public breakdowns within each record subset, and the sketches published exactly."""

    debrief: Debrief
    runs: tuple[breakdowns.Computed, ...] = ()
    exact: frozenset[cellkey.Sketch] = frozenset()


def compute_figures(
    session: Session,
    operation: Operation,
    phase_number: int | None,
    scope: Scope,
    rule: CountingRule = DEFAULT,
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
    ext: Extract | None = None,
    headline_only: bool = False,
) -> Figures:
    """The full figures of a phase within `scope` (authz-scoped extract -> DuckDB breakdowns), not yet
    protected; `ext`: the extract of this operation, rule and scope if already read (it is read otherwise);
    `headline_only`: the headline without any breakdown (its protected value is the same as with them)."""
    filters = filters or Filters()
    phase, previous = find_phase(operation, phase_number)
    previous_number = previous.number if previous else None
    ext = ext if ext is not None else extract(session, operation, rule, scope)
    con = breakdowns.prepare(ext, rule, commodity=filters.commodity, country=filters.country)
    runs: list[breakdowns.Computed] = []
    exact: frozenset[cellkey.Sketch] = frozenset()
    try:
        computed = breakdowns.compute(con, phase.number, previous_number, headline_only=headline_only)
        if scope.public:
            runs = breakdowns.compute_in_subsets(con, phase.number, previous_number, public_keys(computed.breakdowns))
            exact = frozenset(breakdowns.phase_case_sketches(con, rule).values())
    finally:
        con.close()
    contributed = (
        [] if scope.public or headline_only else contributed_breakdowns(session, operation, phase, scope.actor)
    )
    debrief = Debrief(
        operation_slug=operation.slug,
        operation_name=operation.name,
        phase=_info(phase),
        previous_phase=_info(previous) if previous else None,
        rule=rule.as_dict(),
        scope_kind=scope.kind.value,
        scope_label=scope.label,
        generated_by=scope.actor.username if scope.actor else None,
        generated_at=now or utcnow(),
        filters=filters.as_dict(),
        headline=computed.headline,
        breakdowns=(*computed.breakdowns, *contributed),
    )
    return Figures(debrief, tuple(runs), exact)


def compute_debrief(
    session: Session,
    operation: Operation,
    phase_number: int | None,
    scope: Scope,
    rule: CountingRule = DEFAULT,
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
    headline_only: bool = False,
) -> Debrief:
    """The debrief of a phase within `scope`: the full figures, or for the public scope the public summary,
    whose counts are perturbed by the cell-key method and then small-cell suppressed (reporting.public).
    `headline_only`: no breakdowns (the headline is the same number as with them)."""
    figures = compute_figures(session, operation, phase_number, scope, rule, filters, now=now,
                              headline_only=headline_only)  # fmt: skip
    if scope.public:
        return public_summary(figures.debrief, cellkey.cell_key(session), figures.runs, figures.exact)
    return figures.debrief


def contributed_breakdowns(
    session: Session, operation: Operation, phase: Phase, actor: Actor | None = None
) -> list[Breakdown]:
    """The breakdowns other capabilities add through `hooks.debrief_breakdowns` (messaging: alert turnaround),
    for the phase's period, as `actor` may see them (None: the operator), as breakdowns of this debrief."""
    return [
        Breakdown(
            key=t.key,
            title=t.title,
            columns=tuple(Column(c.key, c.label, c.kind) for c in t.columns),
            rows=t.rows,
            note=t.note,
            public=t.public,
        )
        for t in hooks.debrief_breakdowns(session, operation.id, phase.start_date, phase.end_date, actor)
    ]


def debrief(
    session: Session,
    slug: str,
    phase_number: int | None,
    *,
    actor: Actor | None,
    rule: CountingRule = DEFAULT,
    scope: str | None = None,
    filters: Filters | None = None,
    fmt: str | None = None,
    headline_only: bool = False,
) -> Debrief:
    """Compute a debrief for `actor` (None: the whole operation, for operators) and, with `fmt`, audit it.

    `fmt` names the output being generated ("json", "pdf"...): generation of a report is recorded in the
    audit chain as `report.generate`; computing figures for a dashboard (fmt None) is not. `headline_only`:
    the headline alone, a figure quoted beside another view (the breakdowns are most of the work).
    """
    operation = get_operation(session, slug)
    the_scope = scope_for(actor, scope)
    result = compute_debrief(session, operation, phase_number, the_scope, rule, filters, headline_only=headline_only)
    if fmt is not None:
        who = (
            audit.AuditActor(actor.user_id, actor.username, actor.agency_code, actor.client_address)
            if actor
            else audit.SYSTEM
        )
        audit.record(
            session, who, "report.generate", "operation", operation.slug,
            report="debrief", phase=result.phase.number, rule=rule.key, scope=the_scope.kind.value,
            format=fmt, filters=result.filters,
        )  # fmt: skip
    return result
