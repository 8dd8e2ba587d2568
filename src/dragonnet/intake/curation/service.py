"""The curation loop's one door: the review queue, mapping a written value once, removing a mapping, and the
mapping file (export, import). Web page, API and CLI parse, call this and render.

Who (policy.access): a national coordinator reviews the values its own agency wrote and maps them for its agency;
a regional analyst reviews every agency's values and maps for one agency or for the whole operation. Everyone
else gets 404 (the queue does not exist for them).

A mapping is applied at once:
- to the existing cases of its scope that carry the value and that the actor may see (a taxon, substance or HS
  code of their items; a place name with its country): each changed value is written to the case's history
  (`case_corrections`), the case's version moves on (an open edit form becomes stale), and one `curation.map`
  audit entry names the mapping and the cases. Countries are never stored as written (a country that does not
  resolve rejects the row), so a country mapping applies to later imports only. A place the officer coded with
  a UN/LOCODE is never overridden by a mapping of its free-text name;
- to every later import and save (`store.load_mappings`: the agency's mappings, then the operation's, before the
  reference data);
- to the review queue: the entries it covers are closed (state mapped or not_listed).

Removing a mapping reopens the entries it closed the next time the value is read; the cases keep their values
(their history says where they came from).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from dragonnet.errors import DragonnetError, ValidationError
from dragonnet.intake.curation import files
from dragonnet.intake.curation.store import MAPPED, NOT_LISTED, OPEN, TEXT_MAX
from dragonnet.intake.readings import (
    KINDS,
    NO_MAPPINGS,
    Mapped,
    ValueMappings,
    read_hs_code,
    read_place,
    read_substance,
    read_taxon,
    value_key,
)
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import (
    Actor,
    Hidden,
    PermissionDenied,
    audit_actor,
    case_visibility,
    may_map_for,
    may_review_values,
    reviewed_agency,
)
from dragonnet.policy.audit import record
from dragonnet.reference import cites, countries, goods, places, substances
from dragonnet.storage.curation_models import CurationMapping, CurationValue
from dragonnet.storage.intake_models import CaseCorrection
from dragonnet.storage.models import Agency, Case, Item, Operation, Participation
from dragonnet.tabular import RowError

STATES = (OPEN, MAPPED, NOT_LISTED)
MAX_LISTED = 1000
KIND_LABELS = {"taxon": "taxon", "place": "place", "substance": "substance", "country": "country",
               "hs_code": "HS code"}  # fmt: skip
_WILDLIFE = ("wildlife", "timber")


# --- what the doors show -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    id: int
    kind: str
    text: str
    context: str
    agency: str
    status: str  # guess | unresolved
    read_as: str | None
    reason: str | None
    occurrences: int
    state: str  # open | mapped | not_listed
    mapping_id: int | None
    first_seen: dt.datetime
    last_seen: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class MappingEntry:
    id: int
    kind: str
    text: str
    context: str
    agency: str  # "" for the whole operation
    target: str | None
    target_label: str | None
    not_listed: bool
    note: str | None
    created_by: str | None
    updated_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in self.__dict__.items()}

    def file_row(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "country": self.context, "target": self.target or "",
                "not_listed": self.not_listed, "agency": self.agency, "note": self.note or ""}  # fmt: skip


@dataclass(frozen=True)
class Applied:
    """A mapping made (or changed) and what it changed at once."""

    mapping: MappingEntry
    created: bool
    cases: int  # cases whose values changed (visible to the actor, in the mapping's scope)
    items: int  # item values changed (taxon, substance, HS code), or cases (a place)
    values_closed: int  # review-queue entries it closed


@dataclass
class FileImport:
    rows: int
    applied: list[Applied] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- access --------------------------------------------------------------------------------------------------------


def _operation(session: Session, actor: Actor, slug: str) -> Operation:
    """The operation, if `actor` reviews its values: a coordinator or analyst of an agency taking part in it."""
    operation = get_operation(session, slug)
    if not may_review_values(actor):
        raise Hidden(actor, "curation", slug, "There is nothing at this address.")
    taking_part = session.execute(
        select(Participation.id).where(
            Participation.operation_id == operation.id, Participation.agency_id == actor.agency_id
        )
    ).first()
    if taking_part is None:
        raise Hidden(actor, "curation", slug, "There is nothing at this address.")
    return operation


def _agency_id(session: Session, operation: Operation, code: str) -> int:
    agency = session.execute(
        select(Agency.id)
        .join(Participation, Participation.agency_id == Agency.id)
        .where(func.upper(Agency.code) == code.strip().upper(), Participation.operation_id == operation.id)
    ).scalar_one_or_none()
    if agency is None:
        raise ValidationError(f"agency {code!r} does not take part in operation {operation.slug!r}")
    return int(agency)


def may_curate(actor: Actor) -> bool:
    """Whether the curation page belongs in `actor`'s menu (the page itself checks the operation too)."""
    return may_review_values(actor)


# --- the queue -----------------------------------------------------------------------------------------------------


def _queue_query(actor: Actor, operation: Operation) -> Select[CurationValue, str]:
    q = (
        select(CurationValue, Agency.code)
        .join(Agency, Agency.id == CurationValue.agency_id)
        .where(CurationValue.operation_id == operation.id)
    )
    own = reviewed_agency(actor)
    return q if own is None else q.where(CurationValue.agency_id == own)


def review_queue(
    session: Session, actor: Actor, slug: str, *, kind: str | None = None, state: str | None = OPEN,
    agency: str | None = None, limit: int = MAX_LISTED,
) -> list[QueueEntry]:  # fmt: skip
    """The values to review (most written first): the actor's own agency's (a coordinator) or every agency's."""
    operation = _operation(session, actor, slug)
    q = _queue_query(actor, operation)
    if kind:
        if kind not in KINDS:
            raise ValidationError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        q = q.where(CurationValue.kind == kind)
    if state:
        if state not in STATES:
            raise ValidationError(f"unknown state {state!r}; use one of {', '.join(STATES)}")
        q = q.where(CurationValue.state == state)
    if agency:
        q = q.where(func.upper(Agency.code) == agency.strip().upper())
    q = q.order_by(CurationValue.occurrences.desc(), CurationValue.kind, CurationValue.key).limit(max(1, limit))
    return [_entry(v, code) for v, code in session.execute(q)]


def queue_counts(session: Session, actor: Actor, slug: str) -> dict[str, int]:
    """Open values per kind (the page's tabs)."""
    operation = _operation(session, actor, slug)
    q = _queue_query(actor, operation).where(CurationValue.state == OPEN).subquery()
    rows = session.execute(select(q.c.kind, func.count()).group_by(q.c.kind))
    return {str(k): int(n) for k, n in rows}


def _entry(v: CurationValue, agency: str) -> QueueEntry:
    return QueueEntry(v.id, v.kind, v.text, v.context, agency, v.status, v.read_as, v.reason, v.occurrences,
                      v.state, v.mapping_id, v.first_seen, v.last_seen)  # fmt: skip


# --- mappings ------------------------------------------------------------------------------------------------------


def _mapping_entry(m: CurationMapping) -> MappingEntry:
    return MappingEntry(m.id, m.kind, m.text, m.context, m.scope, m.target, target_label(m.kind, m.target),
                        m.not_listed, m.note, m.created_by_username, m.updated_at)  # fmt: skip


def _visible_mappings(actor: Actor, operation: Operation) -> Select[CurationMapping]:
    q = select(CurationMapping).where(CurationMapping.operation_id == operation.id)
    own = reviewed_agency(actor)
    if own is not None:  # a coordinator: the operation's mappings and its agency's
        q = q.where((CurationMapping.agency_id.is_(None)) | (CurationMapping.agency_id == own))
    return q


def mappings(session: Session, actor: Actor, slug: str, *, kind: str | None = None) -> list[MappingEntry]:
    """The mappings the actor's imports use or that it manages: the operation's and (a coordinator) its agency's,
    or (an analyst) every agency's."""
    operation = _operation(session, actor, slug)
    q = _visible_mappings(actor, operation)
    if kind:
        q = q.where(CurationMapping.kind == kind)
    rows = session.execute(q.order_by(CurationMapping.kind, CurationMapping.key, CurationMapping.scope)).scalars()
    return [_mapping_entry(m) for m in rows]


def target_label(kind: str, target: str | None) -> str | None:
    """What a mapping's target is, for people: "Aves (class, includes listed taxa)", "Kotoka Intl (GHACC)"."""
    if not target:
        return None
    try:
        return resolve_target(kind, target, None)[1]
    except DragonnetError:
        return f"{target} (no longer in the reference data)"


def resolve_target(kind: str, target: str, context: str | None) -> tuple[str, str]:
    """(the canonical reference entry, its label) of a mapping's target; ValidationError when it is none."""
    text = (target or "").strip()
    if not text:
        raise ValidationError("name the reference entry (or confirm the value as not listed)")
    if kind == "place":
        res = places.lookup(text, None)
        if res.place is None or res.matched_by not in ("locode", "iata", "icao"):
            raise ValidationError(f"{text!r} is not a UN/LOCODE, IATA or ICAO code of the reference data")
        if context and res.place.country != context:
            raise ValidationError(f"{res.place} is in {res.place.country}, not in {context}")
        return res.place.code, str(res.place)
    if kind == "taxon":
        taxon = cites.get(text)
        if taxon is None:
            found = cites.lookup(text)
            if found.taxon is None or found.status != cites.EXACT:
                hint = f" (did you mean: {', '.join(found.suggestions[:3])}?)" if found.suggestions else ""
                raise ValidationError(f"{text!r} is not a taxon of the reference data{hint}")
            taxon = found.taxon
        return taxon.name, f"{taxon.name} ({taxon.rank.lower()}, {taxon.cites_status})"
    if kind == "substance":
        sub = substances.get(text)
        if sub is None:
            raise ValidationError(f"{text!r} is not a substance of the INCB lists")
        return sub.name, f"{sub.name} ({sub.control})"
    if kind == "country":
        try:
            country = countries.resolve(text)
        except DragonnetError as exc:
            raise ValidationError(exc.message) from None
        return country.alpha2, f"{country.common_name or country.name} ({country.alpha2})"
    if kind == "hs_code":
        hs = goods.get(text)
        if hs is None:
            raise ValidationError(f"{text!r} is not an HS 2022 chapter, heading or subheading")
        return hs.code, str(hs)
    raise ValidationError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")


def _context(kind: str, context: str | None) -> str:
    """The context of a mapping: the country of a place (alpha-2), "" for everything else or any country."""
    if kind != "place" or not context or not context.strip():
        return ""
    try:
        return countries.resolve(context).alpha2
    except DragonnetError as exc:
        raise ValidationError(exc.message) from None


def map_value(
    session: Session,
    actor: Actor,
    slug: str,
    *,
    value_id: int | None = None,
    kind: str | None = None,
    text: str | None = None,
    context: str | None = None,
    agency: str | None = None,
    target: str | None = None,
    not_listed: bool = False,
    note: str | None = None,
    for_its_agency: bool = False,
) -> Applied:
    """Map a written value once: a queue entry (`value_id`) or a value by `kind` and `text` (`context`: a place's
    country). For `agency` (or, with `for_its_agency`, the agency that wrote the queue entry; a coordinator:
    always its own) or, by a regional analyst naming none, for the whole operation. `target` is the reference
    entry; `not_listed` confirms the value has none. Applied at once to the cases that carry it, to the review
    queue and to later imports; audited."""
    operation = _operation(session, actor, slug)
    if value_id is not None:
        found = session.execute(_queue_query(actor, operation).where(CurationValue.id == value_id)).first()
        if found is None:
            raise Hidden(actor, "curation_value", value_id)
        kind, text, context = found[0].kind, found[0].text, found[0].context
        if for_its_agency and not agency:
            agency = found[1]
    elif not kind or not text or not text.strip():
        raise ValidationError("name the value: its kind and its text (or a queue entry)")
    # For the agency named; else a coordinator's own agency, a regional analyst's whole operation.
    agency_id = _agency_id(session, operation, agency) if agency else reviewed_agency(actor)
    if kind not in KINDS:
        raise ValidationError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not may_map_for(actor, agency_id):
        raise PermissionDenied(actor, "curation", slug, "you map values for your own agency only")
    assert text is not None
    with session.begin_nested():
        mapping, created = _save_mapping(session, actor, operation, kind, text, _context(kind, context), agency_id,
                                         target, not_listed, note)  # fmt: skip
        applied = _apply(session, actor, operation, mapping, created)
    return applied


def _save_mapping(
    session: Session, actor: Actor, operation: Operation, kind: str, text: str, context: str, agency_id: int | None,
    target: str | None, not_listed: bool, note: str | None,
) -> tuple[CurationMapping, bool]:  # fmt: skip
    text = text.strip()[:TEXT_MAX]
    if not_listed:
        if kind == "country":
            raise ValidationError("a country is always one of ISO 3166: map it to its code")
        canonical: str | None = None
    else:
        canonical = resolve_target(kind, target or "", context or None)[0]
    scope = ""
    if agency_id is not None:
        scope = session.execute(select(Agency.code).where(Agency.id == agency_id)).scalar_one().upper()
    key = value_key(kind, text)[:TEXT_MAX]
    if not key:
        raise ValidationError("the value is empty once case, accents and punctuation are folded")
    now = dt.datetime.now(dt.UTC)
    mapping = session.execute(
        select(CurationMapping).where(
            CurationMapping.operation_id == operation.id, CurationMapping.scope == scope,
            CurationMapping.kind == kind, CurationMapping.key == key, CurationMapping.context == context,
        )
    ).scalar_one_or_none()  # fmt: skip
    created = mapping is None
    if mapping is None:
        mapping = CurationMapping(operation_id=operation.id, agency_id=agency_id, scope=scope, kind=kind, text=text,
                                  key=key, context=context, created_at=now)  # fmt: skip
        session.add(mapping)
    mapping.target, mapping.not_listed = canonical, not_listed
    mapping.note = (note or "").strip()[:2000] or None
    mapping.created_by_id, mapping.created_by_username = actor.user_id, actor.username
    mapping.updated_at = now
    session.flush()
    return mapping, created


def remove_mapping(session: Session, actor: Actor, slug: str, mapping_id: int) -> MappingEntry:
    """Remove a mapping: later imports read the value from the reference data again (and queue it again); the
    cases keep their values. Audited."""
    operation = _operation(session, actor, slug)
    mapping = session.execute(
        _visible_mappings(actor, operation).where(CurationMapping.id == mapping_id)
    ).scalar_one_or_none()
    if mapping is None:
        raise Hidden(actor, "curation_mapping", mapping_id)
    if not may_map_for(actor, mapping.agency_id):
        raise PermissionDenied(actor, "curation_mapping", mapping_id, "only a regional analyst removes this mapping")
    entry = _mapping_entry(mapping)
    with session.begin_nested():
        session.execute(
            update(CurationValue).where(CurationValue.mapping_id == mapping.id).values(state=OPEN, mapping_id=None)
        )
        session.delete(mapping)
        # The written value is case content (seen by whoever reviews the agency's values): the audit log, read by
        # site administrators, names the mapping, not the value.
        record(session, audit_actor(actor), "curation.unmap", "operation", operation.slug, mapping=entry.id,
               kind=entry.kind, scope=entry.agency or "operation", target=entry.target,
               not_listed=entry.not_listed)  # fmt: skip
    return entry


# --- applying a mapping to the cases and the queue -------------------------------------------------------------------


def _scope(actor: Actor, operation: Operation, mapping: CurationMapping) -> list[Any]:
    """The cases a mapping may change: the operation's, of its agency (if any), that the actor may see."""
    where = [Case.operation_id == operation.id, case_visibility(actor)]
    if mapping.agency_id is not None:
        where.append(Case.reporting_agency_id == mapping.agency_id)
    return where


def _matching(texts: Iterable[str | None], kind: str, key: str) -> list[str]:
    return sorted({t for t in texts if t and value_key(kind, t) == key})


_ITEM_TEXT = {"taxon": Item.taxon_text, "substance": Item.substance_text, "hs_code": Item.hs_code}
_ITEM_FIELDS = {
    "taxon": (("taxon", "tx_name"), ("cites_appendix", "tx_listing"), ("taxon_status", "tx_status"),
              ("taxon_rank", "tx_rank")),
    "substance": (("substance", "sub_name"), ("substance_control", "sub_control")),
    "hs_code": (("hs_code", "hs"),),
}  # fmt: skip


def _reading(kind: str, text: str, mappings: ValueMappings) -> dict[str, Any]:
    if kind == "taxon":
        return read_taxon(text, mappings).values
    if kind == "substance":
        return read_substance(text, mappings).values
    return read_hs_code(text, mappings).values


def _apply(session: Session, actor: Actor, operation: Operation, mapping: CurationMapping, created: bool) -> Applied:
    only = ValueMappings(
        {
            (mapping.kind, mapping.key, mapping.context): Mapped(
                mapping.id, mapping.target, mapping.not_listed, mapping.scope
            )
        }
    )
    corrections: list[dict[str, Any]] = []
    if mapping.kind == "place":
        cases, changed = _apply_to_places(session, actor, operation, mapping, only, corrections)
    elif mapping.kind in _ITEM_TEXT:
        cases, changed = _apply_to_items(session, actor, operation, mapping, only, corrections)
    else:  # countries are stored as codes only: the mapping reads later imports
        cases, changed = set(), 0
    now = dt.datetime.now(dt.UTC)
    reason = f"curation: {KIND_LABELS[mapping.kind]} {mapping.text!r} mapped to " + (
        "not listed" if mapping.not_listed else str(mapping.target)
    )
    if corrections:
        who = {"actor_user_id": actor.user_id, "actor_username": actor.username, "actor_agency": actor.agency_code,
               "at": now, "source": "curation", "reason": reason}  # fmt: skip
        session.execute(insert(_table(CaseCorrection)), [{**c, **who} for c in corrections])
        for chunk in _chunks(sorted(cases)):
            session.execute(
                update(Case).where(Case.id.in_(chunk)).values(version=Case.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
    closed = _close_queue(session, operation, mapping)
    entry = _mapping_entry(mapping)
    record(session, audit_actor(actor), "curation.map", "operation", operation.slug, mapping=mapping.id,
           kind=mapping.kind, context=mapping.context or None,
           scope=mapping.scope or "operation", target=mapping.target, not_listed=mapping.not_listed,
           created=created, cases=sorted(cases), values_changed=changed, queue_closed=closed)  # fmt: skip
    session.expire_all()
    return Applied(entry, created, len(cases), changed, closed)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _chunks(values: Sequence[int], size: int = 5000) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _apply_to_items(
    session: Session, actor: Actor, operation: Operation, mapping: CurationMapping, only: ValueMappings,
    corrections: list[dict[str, Any]],
) -> tuple[set[int], int]:  # fmt: skip
    column = _ITEM_TEXT[mapping.kind]
    where = [*_scope(actor, operation, mapping), column.is_not(None)]
    if mapping.kind == "taxon":
        where.append(Item.commodity_class.in_(_WILDLIFE))
    distinct = session.execute(select(column).distinct().join(Case, Case.id == Item.case_id).where(*where)).scalars()
    texts = _matching(distinct, mapping.kind, mapping.key)
    if not texts:
        return set(), 0
    fields = _ITEM_FIELDS[mapping.kind]
    rows = session.execute(
        select(Item.id, Item.case_id, Item.position, column, *(getattr(Item, f) for f, _ in fields))
        .join(Case, Case.id == Item.case_id)
        .where(*where, column.in_(texts))
    ).all()
    new_values = {t: _reading(mapping.kind, t, only) for t in texts}
    updates: list[dict[str, Any]] = []
    cases: set[int] = set()
    for item_id, case_id, position, text, *old in rows:
        new = {f: new_values[text].get(src) for f, src in fields}
        if mapping.kind == "hs_code" and mapping.not_listed:
            new = {"hs_code": text}
        if all(o == new[f] for o, (f, _src) in zip(old, fields, strict=True)):
            continue
        updates.append({"_id": item_id, **{f"v_{f}": v for f, v in new.items()}})
        cases.add(case_id)
        main = fields[0][0]
        shown_new = _shown(new[main], text, not_listed=mapping.not_listed)
        corrections.append({"case_id": case_id, "item_position": position, "field": main,
                            "old_value": _shown(old[0], text), "new_value": shown_new})  # fmt: skip
    if updates:
        table = _table(Item)
        stmt = (
            update(table).where(table.c.id == bindparam("_id")).values({f: bindparam(f"v_{f}") for f, _src in fields})
        )
        session.execute(stmt, updates)
    return cases, len(updates)


def _shown(value: Any, text: str, *, not_listed: bool = False) -> str:
    if value is None:
        return "not listed" if not_listed else f"({text!r} as written)"
    return str(value)[:TEXT_MAX]


def _apply_to_places(
    session: Session, actor: Actor, operation: Operation, mapping: CurationMapping, only: ValueMappings,
    corrections: list[dict[str, Any]],
) -> tuple[set[int], int]:  # fmt: skip
    where = [*_scope(actor, operation, mapping), Case.place_name.is_not(None)]
    if mapping.context:
        where.append(Case.place_country == mapping.context)
    distinct = session.execute(select(Case.place_name).distinct().where(*where)).scalars()
    texts = _matching(distinct, "place", mapping.key)
    if not texts:
        return set(), 0
    rows = session.execute(
        select(Case.id, Case.place_name, Case.place_country, Case.place_locode, Case.place_type, Case.latitude,
               Case.longitude).where(*where, Case.place_name.in_(texts))
    ).all()  # fmt: skip
    updates: list[dict[str, Any]] = []
    cases: set[int] = set()
    readings: dict[tuple[Any, Any], tuple[dict[str, Any], str | None]] = {}
    for case_id, name, country, locode, ptype, lat, lon in rows:
        k = (name, country)
        if k not in readings:
            new = read_place(None, name, country, only).values
            derived = read_place(None, name, country, NO_MAPPINGS).values["p_locode"]  # what the name itself gives
            readings[k] = (new, derived)
        new, derived = readings[k]
        if locode is not None and locode not in (derived, new["p_locode"]):
            continue  # coded by the officer: the code wins over any reading of the free-text name
        target = {"place_locode": new["p_locode"], "latitude": new["p_lat"], "longitude": new["p_lon"],
                  "place_type": ptype if ptype is not None and locode is None else new["p_type"]}  # fmt: skip
        if (locode, lat, lon, ptype) == (target["place_locode"], target["latitude"], target["longitude"],
                                         target["place_type"]):  # fmt: skip
            continue
        updates.append({"_id": case_id, **{f"v_{k2}": v for k2, v in target.items()}})
        cases.add(case_id)
        corrections.append({"case_id": case_id, "item_position": None, "field": "place_locode",
                            "old_value": locode or f"({name!r} as written)",
                            "new_value": target["place_locode"] or ("not listed" if mapping.not_listed
                                                                    else f"({name!r} as written)")})  # fmt: skip
    if updates:
        table = _table(Case)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({f: bindparam(f"v_{f}") for f in ("place_locode", "latitude", "longitude", "place_type")})
        )
        session.execute(stmt, updates)
    return cases, len(updates)


def _close_queue(session: Session, operation: Operation, mapping: CurationMapping) -> int:
    """Close the queue entries the mapping now answers (its agency's, or every agency's)."""
    where = [CurationValue.operation_id == operation.id, CurationValue.kind == mapping.kind,
             CurationValue.key == mapping.key]  # fmt: skip
    if mapping.context:
        where.append(CurationValue.context == mapping.context)
    if mapping.agency_id is not None:
        where.append(CurationValue.agency_id == mapping.agency_id)
    else:  # an operation-wide mapping does not close an entry an agency's own mapping already answers
        own = select(CurationMapping.id).where(
            CurationMapping.operation_id == operation.id, CurationMapping.agency_id == CurationValue.agency_id,
            CurationMapping.kind == mapping.kind, CurationMapping.key == mapping.key,
        )  # fmt: skip
        where.append(~own.exists())
    state = NOT_LISTED if mapping.not_listed else MAPPED
    result = session.execute(
        update(CurationValue).where(*where).values(state=state, mapping_id=mapping.id)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the mapping file ----------------------------------------------------------------------------------------------


def export_mappings(session: Session, actor: Actor, slug: str, fmt: str = "csv", *, kind: str | None = None) -> str:
    """The mappings the actor sees as a file (CSV or YAML) another operation can import. Audited."""
    if fmt not in files.FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; use csv or yaml")
    entries = mappings(session, actor, slug, kind=kind)
    record(session, audit_actor(actor), "curation.export", "operation", slug, format=fmt, mappings=len(entries))
    header = f"dragonnet value mappings of operation {slug}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return files.write((e.file_row() for e in entries), fmt, header=header)


def import_mappings(session: Session, actor: Actor, slug: str, *, data: bytes, filename: str) -> FileImport:
    """Import a mapping file: every row is checked first (kind, value, country, target in the reference data,
    the agency yours to map for); any bad row and nothing is imported (the report lists each one). Otherwise each
    mapping is made and applied as `map_value` does, in one transaction."""
    operation = _operation(session, actor, slug)
    rows = files.read(data, filename)
    result = FileImport(len(rows))
    checked: list[tuple[files.FileRow, str, int | None]] = []
    for row in rows:
        try:
            checked.append(_check_row(session, actor, operation, row))
        except DragonnetError as exc:
            result.errors.append(RowError(row.line, "mapping", row.text[:200] or None, exc.message, None, "mappings"))
    if result.errors or not rows:
        if not rows:
            result.errors.append(RowError(0, "mapping", None, "the file holds no mappings", None, "mappings"))
        return result
    with session.begin_nested():
        for row, context, agency_id in checked:
            mapping, created = _save_mapping(session, actor, operation, row.kind, row.text, context, agency_id,
                                             row.target, row.not_listed, row.note)  # fmt: skip
            result.applied.append(_apply(session, actor, operation, mapping, created))
        record(session, audit_actor(actor), "curation.import", "operation", operation.slug,
               filename=filename[:200], rows=len(rows))  # fmt: skip
    return result


def _check_row(
    session: Session, actor: Actor, operation: Operation, row: files.FileRow
) -> tuple[files.FileRow, str, int | None]:
    if row.kind not in KINDS:
        raise ValidationError(f"unknown kind {row.kind!r}; use one of {', '.join(KINDS)}")
    if not row.text:
        raise ValidationError("the written value (text) is empty")
    if len(row.text) > TEXT_MAX:
        raise ValidationError(f"the written value is longer than {TEXT_MAX} characters")
    context = _context(row.kind, row.country)
    agency_id = _agency_id(session, operation, row.agency) if row.agency else reviewed_agency(actor)
    if not may_map_for(actor, agency_id):
        raise ValidationError(f"you map values for your own agency only, not for {row.agency or 'the operation'}")
    if row.not_listed:
        if row.kind == "country":
            raise ValidationError("a country is always one of ISO 3166: map it to its code")
        if row.target:
            raise ValidationError("a value is either mapped to a target or not listed, not both")
    else:
        resolve_target(row.kind, row.target, context or None)
    return row, context, agency_id


# --- the case page: what was read how ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseNote:
    field: str  # "place", "items[1].taxon"...
    text: str
    note: str


def case_notes(session: Session, case: Case) -> list[CaseNote]:
    """What the case page says about its values: a guess still open in the review queue (read as what, why), a
    place kept as written, a taxon CITES does not list or nobody knows, a quantity unknown. Only the case's own
    values: whoever sees the case sees these."""
    notes: list[CaseNote] = []
    wanted: dict[tuple[str, str, str], str] = {}
    if case.place_name:
        wanted[("place", value_key("place", case.place_name), case.place_country or "")] = "place"
        if case.place_locode is None and case.latitude is None:
            notes.append(CaseNote("place", case.place_name, "kept as written: no code and no coordinates"))
    for item in case.items:
        at = f"items[{item.position}]"
        for kind, text in (("taxon", item.taxon_text), ("substance", item.substance_text), ("hs_code", item.hs_code)):
            if text:
                wanted[(kind, value_key(kind, text), "")] = f"{at}.{kind}"
        if item.taxon_status == cites.UNVERIFIED:
            notes.append(CaseNote(f"{at}.taxon", item.taxon_text or "", "not in the CITES data nor its vocabulary: "
                                  "kept as written (unverified)"))  # fmt: skip
        elif item.taxon_status == cites.NOT_LISTED:
            notes.append(CaseNote(f"{at}.taxon", item.taxon_text or "", "not CITES-listed"))
        if item.quantity is None:
            notes.append(CaseNote(f"{at}.quantity", item.quantity_text or "", "quantity unknown: left out of totals"))
    if wanted:
        queued = session.execute(
            select(CurationValue).where(
                CurationValue.operation_id == case.operation_id,
                CurationValue.agency_id == case.reporting_agency_id,
                CurationValue.state == OPEN, CurationValue.status == "guess",
                CurationValue.key.in_(sorted({k[1] for k in wanted})),
            )
        ).scalars()  # fmt: skip
        for v in queued:
            where = wanted.get((v.kind, v.key, v.context)) or wanted.get((v.kind, v.key, ""))
            if where:
                notes.append(CaseNote(where, v.text, f"read by a guess as {v.read_as}: {v.reason} (to review)"))
    return notes


def corrections(session: Session, case_id: int) -> list[CaseCorrection]:
    """The case's values corrected by the curation loop, oldest first (the caller has checked the case is visible)."""
    return list(
        session.execute(
            select(CaseCorrection)
            .where(CaseCorrection.case_id == case_id)
            .order_by(CaseCorrection.at, CaseCorrection.id)
        ).scalars()
    )


__all__ = [
    "KINDS", "STATES", "Applied", "CaseNote", "FileImport", "MappingEntry", "QueueEntry",
    "case_notes", "corrections", "export_mappings", "import_mappings", "map_value", "mappings", "may_curate",
    "queue_counts", "remove_mapping", "resolve_target", "review_queue", "target_label",
]  # fmt: skip
