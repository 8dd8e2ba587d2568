"""Reading cases: the filtered list (pages and cursor pagination) and one case with what the reader may see.

Every query starts from `case_visibility`; parties are loaded only where `nominal_visibility` allows, and
each time they are shown the read is audited (`case.read_nominal`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import BindParameter, Select, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from dragonnet.domain.vocabulary import CaseStatus, CommodityClass
from dragonnet.errors import ValidationError
from dragonnet.intake.record import import_case_ids
from dragonnet.policy.access import Actor, Hidden, audit_actor, case_visibility, nominal_parties, visible_case_row
from dragonnet.policy.audit import record
from dragonnet.reference import countries
from dragonnet.storage.models import Agency, Case, CaseTransit, Item, Operation, Party, Phase

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Any select over cases, whatever its columns (`filtered` keeps the caller's).
AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class CaseFilters:
    phase: int | None = None
    status: str | None = None
    commodity: str | None = None
    country: str | None = None
    text: str | None = None
    agency_id: int | None = None
    import_id: int | None = None  # the cases of one recorded import (intake.record)

    def checked(self) -> CaseFilters:
        """The filters with the country resolved (any spelling) and the vocabularies checked (422 otherwise)."""
        if self.status and self.status not in CaseStatus.values():
            raise ValidationError(f"unknown status {self.status!r}; use {', '.join(CaseStatus.values())}")
        if self.commodity and self.commodity not in CommodityClass.values():
            raise ValidationError(
                f"unknown commodity class {self.commodity!r}; use {', '.join(CommodityClass.values())}"
            )
        country = countries.resolve(self.country).alpha2 if self.country else None
        text = (self.text or "").strip()[:200] or None
        return CaseFilters(self.phase, self.status or None, self.commodity or None, country, text, self.agency_id,
                           self.import_id)  # fmt: skip


def case_query(actor: Actor, operation: Operation, filters: CaseFilters) -> Select[Case]:
    """The cases `actor` may see that match `filters`, as ORM objects with their items, agency and phase (the web
    list's)."""
    query = filtered(select(Case), actor, operation, filters)
    # The agency and the phase (one each per case) come in the same query; items in one more.
    return query.options(selectinload(Case.items), joinedload(Case.reporting_agency), joinedload(Case.phase))


def filtered(query: AnySelect, actor: Actor, operation: Operation, filters: CaseFilters) -> AnySelect:
    """`query` (over `cases`) kept to the cases of `operation` that `actor` may see and that match `filters`."""
    f = filters.checked()
    query = query.where(Case.operation_id == operation.id, case_visibility(actor))
    if f.phase is not None:
        # A subquery, not a join: the caller's query may already join the phases (the API's list does).
        number = select(Phase.id).where(Phase.operation_id == operation.id, Phase.number == f.phase)
        query = query.where(Case.phase_id == number.scalar_subquery())
    if f.status:
        query = query.where(Case.status == f.status)
    if f.commodity:
        query = query.where(exists(select(Item.id).where(Item.case_id == Case.id, Item.commodity_class == f.commodity)))
    if f.country:
        query = query.where(Case.place_country == f.country)
    if f.agency_id is not None:
        query = query.where(Case.reporting_agency_id == f.agency_id)
    if f.import_id is not None:
        query = query.where(Case.id.in_(import_case_ids(f.import_id)))
    if f.text:
        pattern = "%" + f.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        fields = (Case.case_ref, Case.place_name, Case.place_locode, Case.conveyance_ref, Case.description,
                  Case.concealment)  # fmt: skip
        in_case = [func.lower(c).like(pattern, escape="\\") for c in fields]
        in_items = exists(
            select(Item.id).where(
                Item.case_id == Case.id,
                or_(*(func.lower(c).like(pattern, escape="\\")
                      for c in (Item.substance, Item.substance_text, Item.taxon, Item.taxon_text))),
            )
        )  # fmt: skip
        query = query.where(or_(*in_case, in_items))
    return query


@dataclass
class CasePage:
    """A numbered page of the web list: its cases, how many match in all, which page of how many."""

    cases: list[Case]
    total: int
    page: int = 1
    pages: int = 1


def list_page(
    session: Session, actor: Actor, operation: Operation, filters: CaseFilters, *, page: int = 1,
    per_page: int = DEFAULT_LIMIT,
) -> CasePage:  # fmt: skip
    """A numbered page (newest first) and the total: for the web list."""
    query = case_query(actor, operation, filters)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    cases = list(
        session.execute(query.order_by(Case.seizure_date.desc(), Case.id.desc()).offset((page - 1) * per_page)
                        .limit(per_page)).scalars()
    )  # fmt: skip
    return CasePage(cases, total, page, pages)


def encode_cursor(case_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{case_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "id" or not value.isdigit():
            raise ValueError(cursor)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("invalid cursor: pass back the next_cursor of the previous page") from None


@dataclass
class CaseView:
    case: Case
    parties: list[Party] | None = None  # None: the reader may not see them
    extra: dict[str, object] = field(default_factory=dict)


def read_parties(session: Session, actor: Actor, case: Case, *, purpose: str = "view") -> list[Party] | None:
    """The case's parties if the reader may see nominal data (audited as `case.read_nominal`), else None."""
    parties = nominal_parties(session, actor, case.id)
    if parties is None:
        return None
    _audit_nominal_read(session, actor, case.id, [p.id for p in parties], purpose)
    return parties


def _audit_nominal_read(session: Session, actor: Actor, case_id: int, party_ids: list[int], purpose: str) -> None:
    """Every read that shows a case's parties leaves one `case.read_nominal` entry (none when it has none)."""
    if party_ids:
        record(session, audit_actor(actor), "case.read_nominal", "case", case_id, parties=party_ids, purpose=purpose)


# The reporting agency joined to the case under an alias: the visibility clause's own subquery over agencies (a
# national coordinator's country rule) must not correlate to it.
_REPORTING = aliased(Agency, name="reporting_agency")
# What one case's read (`open_case`) returns of the case, its items and its parties: the columns of the API's case.
OPEN_CASE_COLUMNS = (
    Case.id, Case.case_ref, _REPORTING.code.label("reporting_agency"), Phase.number.label("phase"), Case.status,
    Case.version, Case.sharing_level, Case.seizure_date, Case.place_country, Case.place_locode,
    Operation.slug.label("operation"), Case.place_name, Case.place_type, Case.direction, Case.transport_mode,
    Case.conveyance_ref, Case.detection_method, Case.concealment, Case.origin_country, Case.destination_country,
    Case.arrests, Case.description, Case.extra, Case.merged_into_id, Case.submitted_at, Case.validated_at,
    Case.updated_at,
)  # fmt: skip
OPEN_ITEM_COLUMNS = (
    Item.position, Item.commodity_class, Item.substance_text, Item.substance, Item.substance_control,
    Item.taxon_text, Item.taxon, Item.taxon_rank, Item.taxon_status, Item.cites_appendix, Item.specimen_type,
    Item.quantity, Item.unit, Item.quantity_text, Item.mass_kg, Item.hs_code, Item.goods_description, Item.extra,
)  # fmt: skip
OPEN_PARTY_COLUMNS = (
    Party.id, Party.role, Party.kind, Party.name, Party.nationality, Party.birth_date, Party.id_number, Party.phone,
    Party.email, Party.address, Party.extra,
)  # fmt: skip


@dataclass(frozen=True)
class CaseRecord:
    """One case as plain values (no ORM objects): the case's columns with its agency's code, phase number and
    operation slug; its items in order; its transit countries in order; its parties, or None where the reader
    may not see nominal data."""

    case: dict[str, Any]
    items: list[dict[str, Any]]
    transits: list[str]
    parties: list[dict[str, Any]] | None


# The statements over one case's rows, built once (the case's id bound at execution).
_CASE_ID: BindParameter[Any] = bindparam("case_id")
_OPEN_ITEMS = select(*OPEN_ITEM_COLUMNS).where(Item.case_id == _CASE_ID).order_by(Item.position, Item.id)
_OPEN_TRANSITS = (
    select(CaseTransit.country).where(CaseTransit.case_id == _CASE_ID).order_by(CaseTransit.position, CaseTransit.id)
)
_OPEN_PARTIES = select(*OPEN_PARTY_COLUMNS).where(Party.case_id == _CASE_ID).order_by(Party.id)


def open_case(session: Session, actor: Actor, case_id: int, *, purpose: str = "view") -> CaseRecord:
    """The case `case_id` as `actor` may see it, read with Core selects (no ORM objects): Hidden (404) where it
    may not see it, as where it does not exist. The nominal check is a column of the case's own query; parties
    shown are audited (`case.read_nominal`) as `read_parties` does. The same values as `get_case` and
    `read_parties` (tests/intake/test_case_open.py compares the API's answers of both)."""
    query = visible_case_row(actor, case_id, *OPEN_CASE_COLUMNS)
    query = query.join(_REPORTING, _REPORTING.id == Case.reporting_agency_id).join(Phase, Phase.id == Case.phase_id)
    # On the session's connection (its transaction), without the ORM's execution: there is no entity to load.
    conn = session.connection()
    row = conn.execute(query.join(Operation, Operation.id == Case.operation_id)).mappings().first()
    if row is None:
        raise Hidden(actor, "case", case_id)
    case = dict(row)
    may_see_nominal = bool(case.pop("may_see_nominal"))
    items = [dict(i) for i in conn.execute(_OPEN_ITEMS, {"case_id": case_id}).mappings()]
    transits = list(conn.execute(_OPEN_TRANSITS, {"case_id": case_id}).scalars())
    parties = None
    if may_see_nominal:
        parties = [dict(p) for p in conn.execute(_OPEN_PARTIES, {"case_id": case_id}).mappings()]
        _audit_nominal_read(session, actor, case_id, [p["id"] for p in parties], purpose)
    return CaseRecord(case, items, transits, parties)


# What the API's list shows of a case (`api.cases.CaseSummaryOut`'s fields in order, but its commodity classes).
SUMMARY_COLUMNS = (
    Case.id, Case.case_ref, _REPORTING.code.label("reporting_agency"), Phase.number.label("phase"), Case.status,
    Case.version, Case.sharing_level, Case.seizure_date, Case.place_country, Case.place_locode,
)  # fmt: skip


@dataclass(frozen=True)
class SummaryPage:
    """A page of the API's list as plain values (no ORM objects): each case's `SUMMARY_COLUMNS` and its sorted
    `commodity_classes`; the cursor of the next page, or None on the last."""

    cases: list[dict[str, Any]]
    next_cursor: str | None


def list_cursor(
    session: Session, actor: Actor, operation: Operation, filters: CaseFilters, *, cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> SummaryPage:  # fmt: skip
    """Keyset pagination by id, newest first: stable under inserts (for the API). Read with Core selects, as
    `open_case`: the same filters and visibility as `case_query`, without an ORM object per case and item."""
    limit = min(max(1, limit), MAX_LIMIT)
    joined = select(*SUMMARY_COLUMNS).join(_REPORTING, _REPORTING.id == Case.reporting_agency_id)
    query = filtered(joined.join(Phase, Phase.id == Case.phase_id), actor, operation, filters)
    if cursor:
        query = query.where(Case.id < decode_cursor(cursor))
    conn = session.connection()
    rows = conn.execute(query.order_by(Case.id.desc()).limit(limit + 1)).mappings().all()
    cases = [dict(row) for row in rows[:limit]]
    classes: dict[int, set[str]] = {case["id"]: set() for case in cases}
    if cases:
        listed = select(Item.case_id, Item.commodity_class).where(Item.case_id.in_(list(classes))).distinct()
        for case_id, commodity_class in conn.execute(listed):
            classes[case_id].add(commodity_class)
    for case in cases:
        case["commodity_classes"] = sorted(classes[case["id"]])
    return SummaryPage(cases, encode_cursor(cases[-1]["id"]) if len(rows) > limit else None)  # limit >= 1


def visible_ids(session: Session, actor: Actor, ids: Sequence[int]) -> set[int]:
    return set(session.execute(select(Case.id).where(Case.id.in_(list(ids)), case_visibility(actor))).scalars())


__all__ = [
    "CaseFilters",
    "CasePage",
    "CaseRecord",
    "CaseView",
    "SummaryPage",
    "case_query",
    "filtered",
    "list_cursor",
    "list_page",
    "open_case",
    "read_parties",
]
