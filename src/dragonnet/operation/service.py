"""Setting up an operation and reading its overview through the access policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from dragonnet.domain.phases import check_periods, phase_of, roman
from dragonnet.domain.vocabulary import AgencyKind, CaseStatus, CommodityClass, ParticipationRole
from dragonnet.errors import NotFound, ReferenceLookupError, ValidationError
from dragonnet.i18n import N_, LazyText, lazy_gettext
from dragonnet.policy import cellkey
from dragonnet.policy.access import Actor, case_visibility
from dragonnet.reference import countries
from dragonnet.storage.models import Agency, Case, ContactPoint, Item, Operation, Participation, Phase


@dataclass(frozen=True)
class PhaseSpec:
    number: int
    start_date: dt.date
    end_date: dt.date
    scope: tuple[str, ...]
    notes: str = ""


def create_operation(
    session: Session, *, slug: str, name: str, description: str, scope: list[str], phases: list[PhaseSpec]
) -> Operation:
    check_periods(phases)
    if session.execute(select(Operation.id).where(Operation.slug == slug)).first():
        raise ValidationError(f"operation {slug!r} exists already")
    op = Operation(slug=slug, name=name, description=description, scope=scope)
    op.phases = [
        Phase(
            number=p.number,
            name=f"Phase {roman(p.number)}",
            start_date=p.start_date,
            end_date=p.end_date,
            scope=list(p.scope),
            notes=p.notes,
        )
        for p in phases
    ]
    session.add(op)
    session.flush()
    return op


def get_operation(session: Session, slug: str, *, phases: bool = False) -> Operation:
    """The operation; with `phases`, its phases read in the same statement (a case's report dates its case by
    them: one round trip less per report)."""
    query = select(Operation).where(Operation.slug == slug)
    if phases:
        query = query.options(joinedload(Operation.phases))
    op = session.execute(query).unique().scalar_one_or_none()
    if op is None:
        raise NotFound(f"unknown operation {slug!r}")
    return op


def add_agency(session: Session, *, code: str, name: str, kind: str, country: str | None) -> Agency:
    if kind not in AgencyKind.values():
        raise ValidationError(f"unknown agency kind {kind!r}; use {', '.join(AgencyKind.values())}")
    alpha2 = countries.resolve(country).alpha2 if country else None
    agency = Agency(code=code, name=name, kind=kind, country=alpha2)
    session.add(agency)
    session.flush()
    return agency


def add_participant(
    session: Session, operation: Operation, agency: Agency, role: str, since_phase: int | None = None
) -> Participation:
    if role not in ParticipationRole.values():
        raise ValidationError(f"unknown participation role {role!r}")
    part = Participation(operation=operation, agency=agency, role=role, since_phase=since_phase)
    session.add(part)
    return part


def add_contact_point(
    session: Session, agency: Agency, *, code: str, name: str, kind: str, locode: str | None
) -> ContactPoint:
    cp = ContactPoint(agency=agency, code=code, name=name, kind=kind, locode=locode)
    session.add(cp)
    return cp


def phase_for_date(operation: Operation, seizure_date: dt.date) -> Phase:
    """The phase a case belongs to, derived from its seizure date (a clear error outside every phase)."""
    return phase_of(seizure_date, operation.phases, operation=f"operation {operation.slug!r}")


@dataclass(frozen=True)
class PhaseCount:
    number: int
    name: str
    start_date: dt.date
    end_date: dt.date
    cases: int
    by_class: dict[str, int]


COUNTED_STATUSES = (CaseStatus.VALIDATED.value,)
# Catalogue msgids (pages translate them); the API and the CLI show them in English.
COUNTING_RULE = N_(
    "validated cases visible to you, merged duplicates counted once, assigned to a phase by seizure date"
)


def overview(session: Session, actor: Actor, operation: Operation) -> list[PhaseCount]:
    """Cases per phase and commodity class, over what `actor` may see, under the overview's counting rule.

    A case counts once under each commodity class it holds items of; `cases` counts it once.
    """
    visible = (
        select(Case.id, Case.phase_id)
        .where(Case.operation_id == operation.id, Case.status.in_(COUNTED_STATUSES), case_visibility(actor))
        .subquery()
    )
    totals: dict[int, int] = dict(
        session.execute(select(visible.c.phase_id, func.count()).group_by(visible.c.phase_id)).all()
    )
    by_class: dict[int, dict[str, int]] = {}
    for phase_id, klass, n in session.execute(
        select(visible.c.phase_id, Item.commodity_class, func.count(func.distinct(Item.case_id)))
        .join(Item, Item.case_id == visible.c.id)
        .group_by(visible.c.phase_id, Item.commodity_class)
    ):
        by_class.setdefault(phase_id, {})[klass] = n
    return [
        PhaseCount(p.number, p.name, p.start_date, p.end_date, totals.get(p.id, 0), by_class.get(p.id, {}))
        for p in operation.phases
    ]


SMALL_CELL = cellkey.SMALL_CELL
TOTALS_RULE_MSGID = N_(
    "validated cases of all member agencies, merged duplicates counted once, by seizure date; "
    "an aggregate statistic: the cases of each phase are exact (the operation's published figures); the figures by "
    "commodity class are perturbed by a few units (the same figure is always the same number) and counts below "
    "%(n)s are shown as '<%(n)s'"
)
TOTALS_RULE = TOTALS_RULE_MSGID % {"n": SMALL_CELL}


def totals_rule_text() -> LazyText:
    """The operation totals' rule, translated where a page shows it."""
    return lazy_gettext(TOTALS_RULE_MSGID, n=SMALL_CELL)


@dataclass(frozen=True)
class PhaseTotal:
    number: int
    cases: int | None  # None: suppressed (a small cell)
    by_class: dict[str, int | None]
    change_pct: float | None  # against the previous phase; None for the first phase or a suppressed cell


def percent_change(previous: int | None, current: int | None) -> float | None:
    """(current - previous) / previous in %, one decimal; None where it is not defined."""
    if previous is None or current is None or previous == 0:
        return None
    return round((current - previous) * 100.0 / previous, 1)


def operation_totals(
    session: Session, operation: Operation, *, at_least: list[PhaseCount] | None = None
) -> list[PhaseTotal]:
    """The operation's headline figures per phase over every agency's validated cases.

    These are aggregates, not records: they reveal no case. A phase's cases are exact (what the operation
    publishes, e.g. "1,715 cases in phase V"); its cases by commodity class are perturbed by the cell-key
    method (`policy.cellkey`, keyed on the cases counted, so the debrief's public summary shows the same
    numbers) and then small-cell suppressed, never above the phase's cases. `at_least`: the viewer's own
    counts (`overview`), which a total is never shown below (a member counts X of at least X).
    """
    counted = (
        select(Case.id, Case.phase_id)
        .where(Case.operation_id == operation.id, Case.status.in_(COUNTED_STATUSES))
        .subquery()
    )
    totals: dict[int, int] = dict(
        session.execute(select(counted.c.phase_id, func.count()).group_by(counted.c.phase_id)).all()
    )
    bits = cellkey.subset_bits_expr(counted.c.id)
    by_class: dict[int, dict[str, list[int]]] = {}  # phase -> class -> [cases, cases in subset 0..7]
    for phase_id, klass, mask, n in session.execute(
        select(counted.c.phase_id, Item.commodity_class, bits, func.count(func.distinct(Item.case_id)))
        .join(Item, Item.case_id == counted.c.id)
        .group_by(counted.c.phase_id, Item.commodity_class, bits)
    ):
        row = by_class.setdefault(phase_id, {}).setdefault(klass, [0] * (cellkey.SUBSETS + 1))
        row[0] += n
        for j in range(cellkey.SUBSETS):
            if int(mask) >> j & 1:
                row[j + 1] += n
    key = cellkey.cell_key(session)
    seen = {pc.number: pc for pc in at_least or []}

    result: list[PhaseTotal] = []
    previous: int | None = None
    for p in operation.phases:
        whole = totals.get(p.id, 0)
        mine = seen.get(p.number)
        classes: dict[str, int | None] = {}
        for klass, v in sorted(by_class.get(p.id, {}).items()):
            perturbed = cellkey.at_most(key.count(cellkey.from_subsets(v[0], v[1:])), whole)
            own = mine.by_class.get(klass, 0) if mine else 0
            classes[klass] = cellkey.shown(max(perturbed or 0, own))
        cases = cellkey.shown(whole)
        result.append(PhaseTotal(p.number, cases, classes, percent_change(previous, cases) if result else None))
        previous = cases
    return result


def participants(session: Session, operation: Operation) -> list[tuple[Participation, Agency]]:
    return list(
        session.execute(
            select(Participation, Agency)
            .join(Agency, Agency.id == Participation.agency_id)
            .where(Participation.operation_id == operation.id)
            .order_by(Agency.country.is_(None), Agency.country, Agency.code)
        )
    )


def list_operations(session: Session, actor: Actor) -> list[Operation]:
    """The operations `actor` may open, oldest first.

    Every logged-in user of the platform may open every operation's overview (its figures are filtered
    by the access policy).
    """
    if not actor.is_authenticated:
        return []
    return list(session.execute(select(Operation).order_by(Operation.id)).scalars())


@dataclass(frozen=True)
class ParticipantFigure:
    agency_code: str
    agency_name: str
    country: str | None
    country_name: str | None
    kind: str
    role: str
    since_phase: int | None


@dataclass(frozen=True)
class OperationFigures:
    """The operation overview as one value: what `actor` may count per phase, the operation-wide totals
    (aggregates, small cells suppressed) and the participants. Web pages and the API render it as is."""

    slug: str
    name: str
    description: str
    scope: list[str]
    counting_rule: str
    phases: list[PhaseCount]
    total_cases: int
    by_class: dict[str, int]
    participants: list[ParticipantFigure]
    totals_rule: str
    totals: list[PhaseTotal]

    def classes(self) -> list[str]:
        """The commodity-class columns to show: the operation's scope, then any other class with cases."""
        seen = list(dict.fromkeys([*self.scope, *self.by_class]))
        return sorted(seen, key=class_order)


def class_order(klass: str) -> tuple[int, str]:
    order = CommodityClass.values()
    return (order.index(klass) if klass in order else len(order), klass)


def country_name(alpha2: str | None) -> str | None:
    if not alpha2:
        return None
    try:
        return str(countries.get(alpha2))
    except ReferenceLookupError:
        return alpha2


def operation_figures(session: Session, actor: Actor, operation: Operation) -> OperationFigures:
    """The overview's figures: per phase over what `actor` may see, totals over all, and participants."""
    counts = overview(session, actor, operation)
    by_class: dict[str, int] = {}
    for pc in counts:
        for klass, n in pc.by_class.items():
            by_class[klass] = by_class.get(klass, 0) + n
    return OperationFigures(
        slug=operation.slug,
        name=operation.name,
        description=operation.description,
        scope=list(operation.scope),
        counting_rule=COUNTING_RULE,
        phases=counts,
        total_cases=sum(pc.cases for pc in counts),
        by_class=dict(sorted(by_class.items(), key=lambda kv: class_order(kv[0]))),
        participants=[
            ParticipantFigure(
                agency_code=agency.code,
                agency_name=agency.name,
                country=agency.country,
                country_name=country_name(agency.country),
                kind=agency.kind,
                role=part.role,
                since_phase=part.since_phase,
            )
            for part, agency in participants(session, operation)
        ],
        totals_rule=TOTALS_RULE,
        totals=operation_totals(session, operation, at_least=counts),
    )
