"""The authz-scoped extract every figure is computed from.

One SQLAlchemy query per table (cases, items, transits), filtered by the operation, the counting rule's
statuses, `policy.access.case_visibility(actor)` and the role scope; read straight into Arrow tables by the
ADBC drivers with the values bound (`storage.arrow`), no Python object per row.
Without an actor the extract is the whole operation: only for aggregate figures (the operation's own debrief
run by an operator, or the public summary, which is then suppressed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyarrow as pa
from sqlalchemy import ColumnElement, String, and_, cast, func, select, true
from sqlalchemy.orm import Session, aliased

from dragonnet.domain.vocabulary import Role
from dragonnet.errors import ValidationError
from dragonnet.i18n import LazyText, country_name, lazy_gettext
from dragonnet.policy.access import Actor, case_visibility
from dragonnet.reference import countries
from dragonnet.reporting.rules import CountingRule
from dragonnet.storage.arrow import arrow_reader, to_arrow
from dragonnet.storage.models import Agency, Case, CaseTransit, Item, Operation

# The reporting agency under its own alias: the policy's clauses correlate on `Agency` themselves.
ReportingAgency = aliased(Agency, name="reporting_agency")


PUBLIC_LABEL = lazy_gettext("public summary (aggregates, small cells suppressed)")


class ScopeKind(StrEnum):
    AGENCY = "agency"  # cases reported by the actor's agency
    COUNTRY = "country"  # cases reported by agencies of the actor's country
    OPERATION = "operation"  # every case of the operation the actor may see
    PUBLIC = "public"  # aggregates over the whole operation, small cells suppressed (partner observers)
    AGGREGATE = "aggregate"  # the whole operation, no actor (operators: CLI default)


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    actor: Actor | None  # whose visibility filters the extract; None: the whole operation (aggregates only)
    label: str | LazyText  # translated where it is shown; `english(label)` for JSON

    @property
    def public(self) -> bool:
        return self.kind is ScopeKind.PUBLIC


def allowed_scopes(actor: Actor) -> list[ScopeKind]:
    """The scopes an actor may choose, narrowest first; the last is the default (its role's scope)."""
    if actor.is_observer_only or not actor.is_authenticated:
        return [ScopeKind.PUBLIC]
    kinds = [ScopeKind.AGENCY]
    if actor.country and (
        actor.has(Role.NATIONAL_COORDINATOR) or actor.has(Role.REGIONAL_ANALYST) or actor.has(Role.ADMINISTRATOR)
    ):
        kinds.append(ScopeKind.COUNTRY)
    if actor.has(Role.REGIONAL_ANALYST) or actor.has(Role.ADMINISTRATOR):
        kinds.append(ScopeKind.OPERATION)
    kinds.append(ScopeKind.PUBLIC)
    return kinds


def default_scope(actor: Actor) -> ScopeKind:
    kinds = [k for k in allowed_scopes(actor) if k is not ScopeKind.PUBLIC]
    return kinds[-1] if kinds else ScopeKind.PUBLIC


def scope_for(actor: Actor | None, requested: str | None = None) -> Scope:
    """The scope an actor computes figures in (its role's by default); an unknown or wider request is refused."""
    if actor is None:
        if requested in (None, "", ScopeKind.AGGREGATE.value):
            return Scope(ScopeKind.AGGREGATE, None, lazy_gettext("the whole operation (aggregate)"))
        if requested == ScopeKind.PUBLIC.value:
            return Scope(ScopeKind.PUBLIC, None, PUBLIC_LABEL)
        raise ValidationError(f"scope {requested!r} needs a user (--as USER)")
    allowed = allowed_scopes(actor)
    kind = default_scope(actor) if not requested else _scope_kind(requested)
    if kind not in allowed:
        raise ValidationError(f"scope {kind.value!r} is not open to you; use {', '.join(k.value for k in allowed)}")
    if kind is ScopeKind.PUBLIC:
        return Scope(kind, None, PUBLIC_LABEL)
    label: LazyText
    if kind is ScopeKind.AGENCY:
        label = lazy_gettext("cases of %(agency)s you may see", agency=actor.agency_code)
    elif kind is ScopeKind.COUNTRY:
        label = lazy_gettext("cases of %(country)s agencies you may see", country=_CountryName(actor.country))
    else:
        label = lazy_gettext("cases of the operation you may see")
    return Scope(kind, actor, label)


class _CountryName:
    """A country's name in the locale current when the scope's label is shown (CLDR; ISO's name in English)."""

    def __init__(self, alpha2: str | None) -> None:
        self.alpha2 = alpha2

    def __str__(self) -> str:
        if not self.alpha2:
            return "?"
        return country_name(self.alpha2, fallback=countries.get(self.alpha2).name)


def _scope_kind(text: str) -> ScopeKind:
    try:
        return ScopeKind(text)
    except ValueError:
        raise ValidationError(f"unknown scope {text!r}; use {', '.join(k.value for k in ScopeKind)}") from None


def case_filter(operation: Operation, rule: CountingRule, scope: Scope) -> ColumnElement[bool]:
    """The WHERE clause of the extract (over Case joined to its reporting Agency)."""
    cond: ColumnElement[bool] = and_(
        Case.operation_id == operation.id,
        Case.status.in_(rule.counted_statuses),
        ReportingAgency.id == Case.reporting_agency_id,
    )
    actor = scope.actor
    if actor is not None:
        cond = and_(cond, case_visibility(actor))
        if scope.kind is ScopeKind.AGENCY:
            cond = and_(cond, Case.reporting_agency_id == actor.agency_id)
        elif scope.kind is ScopeKind.COUNTRY:
            cond = and_(cond, ReportingAgency.country == actor.country)
    return cond if cond is not None else true()


@dataclass(frozen=True)
class Extract:
    cases: pa.Table
    items: pa.Table
    transits: pa.Table
    phases: pa.Table


CASE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("id", pa.int64()),
    ("phase_id", pa.int64()),
    ("seizure_date", pa.string()),
    ("reported_date", pa.string()),
    ("status", pa.string()),
    ("agency_id", pa.int64()),
    ("agency_code", pa.string()),
    ("agency_country", pa.string()),
    ("place_country", pa.string()),
    ("place_type", pa.string()),
    ("transport_mode", pa.string()),
    ("detection_method", pa.string()),
    ("concealment", pa.string()),
    ("origin_country", pa.string()),
    ("destination_country", pa.string()),
    ("arrests", pa.int64()),
)
ITEM_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("case_id", pa.int64()),
    ("commodity_class", pa.string()),
    ("substance", pa.string()),
    ("substance_text", pa.string()),
    ("taxon", pa.string()),
    ("taxon_text", pa.string()),
    ("cites_appendix", pa.string()),
    ("unit", pa.string()),
    ("quantity", pa.float64()),
    ("mass_kg", pa.float64()),
)
TRANSIT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("case_id", pa.int64()),
    ("position", pa.int64()),
    ("country", pa.string()),
)
PHASE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("id", pa.int64()),
    ("number", pa.int64()),
    ("name", pa.string()),
    ("start_date", pa.date32()),
    ("end_date", pa.date32()),
)


def _day(column: Any, dialect: str) -> ColumnElement[str]:
    """A date or UTC timestamp column as 'YYYY-MM-DD' text, computed by the database (no row processors)."""
    if dialect == "postgresql":
        if isinstance(column.type, String):
            return func.substr(column, 1, 10)
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(cast(column, String), 1, 10)


def extract(session: Session, operation: Operation, rule: CountingRule, scope: Scope, *, adbc: bool = True) -> Extract:
    """The cases (with items and transits) counted under `rule` within `scope`, as Arrow tables.

    `adbc=False` reads through the session's driver cursor instead (the path ADBC replaced: kept for the
    in-memory and uncommitted cases `storage.arrow` falls back on, and for comparing the two)."""
    dialect = session.get_bind().dialect.name
    where = case_filter(operation, rule, scope)
    case_stmt = select(
        Case.id,
        Case.phase_id,
        _day(Case.seizure_date, dialect),
        _day(Case.reported_at, dialect),
        Case.status,
        Case.reporting_agency_id,
        ReportingAgency.code,
        ReportingAgency.country,
        Case.place_country,
        Case.place_type,
        Case.transport_mode,
        Case.detection_method,
        Case.concealment,
        Case.origin_country,
        Case.destination_country,
        func.coalesce(Case.arrests, 0),
    ).where(where)
    case_ids = select(Case.id).where(where)
    item_stmt = select(
        Item.case_id,
        Item.commodity_class,
        Item.substance,
        Item.substance_text,
        Item.taxon,
        Item.taxon_text,
        Item.cites_appendix,
        Item.unit,
        Item.quantity,
        Item.mass_kg,
    ).where(Item.case_id.in_(case_ids))
    transit_stmt = select(CaseTransit.case_id, CaseTransit.position, CaseTransit.country).where(
        CaseTransit.case_id.in_(case_ids)
    )
    phases = to_arrow(
        [(p.id, p.number, p.name, p.start_date, p.end_date) for p in operation.phases],
        PHASE_COLUMNS,
    )
    with arrow_reader(session, adbc=adbc) as reader:
        cases, items, transits = reader.fetch_many(
            [(case_stmt, CASE_COLUMNS), (item_stmt, ITEM_COLUMNS), (transit_stmt, TRANSIT_COLUMNS)]
        )
    return Extract(cases=cases, items=items, transits=transits, phases=phases)
