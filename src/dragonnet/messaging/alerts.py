"""Alerts: raised about a shipment, conveyance or person, routed to the agencies of the countries on the
route (those taking part in the operation) and to the regional analysts' office, acknowledged by each
recipient agency and answered with a result. "Seizure made" opens a draft case pre-filled from the alert
and linked to it. Acknowledgements are due within a time set by the urgency (SLA); late ones show as
overdue. Every step is audited and announced in the inbox (and by e-mail when SMTP is configured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dragonnet.domain.exchange import join_list, list_hint
from dragonnet.domain.identifiers import compact_code, looks_like_container
from dragonnet.domain.quantity import MAX_PLAUSIBLE, Quantity, Unit, parse_unit
from dragonnet.domain.vocabulary import (
    AgencyKind,
    CaseStatus,
    CommodityClass,
    IdentifierKind,
    ParticipationRole,
    SharingLevel,
    TransportMode,
)
from dragonnet.errors import Conflict, DragonnetError, ReferenceLookupError, ValidationError
from dragonnet.i18n import N_, with_values
from dragonnet.messaging import inbox, watchlists
from dragonnet.messaging.identifiers import AlertIdentifierKind, normalise_alert_identifier
from dragonnet.operation.service import phase_for_date
from dragonnet.policy import audit
from dragonnet.policy.access import (
    Actor,
    Hidden,
    PermissionDenied,
    audit_actor,
    case_visibility,
    get_case,
    why_case_hidden,
)
from dragonnet.policy.messaging import alert_visibility, is_member
from dragonnet.reference import cites, countries, substances
from dragonnet.storage.messaging_models import Alert, AlertCase, AlertIdentifier, AlertRecipient
from dragonnet.storage.models import (
    Agency,
    Case,
    CaseIdentifier,
    CaseTransit,
    Item,
    Operation,
    Participation,
    User,
    utcnow,
)


class Urgency(StrEnum):
    IMMEDIATE = "immediate"
    PRIORITY = "priority"
    ROUTINE = "routine"


class SubjectKind(StrEnum):
    SHIPMENT = "shipment"
    CONVEYANCE = "conveyance"
    PERSON = "person"


class Result(StrEnum):
    NOT_FOUND = "not_found"
    NOTHING_FOUND = "inspected_nothing_found"
    SEIZURE_MADE = "seizure_made"


RESULT_LABELS = {
    Result.NOT_FOUND: "Not found",
    Result.NOTHING_FOUND: "Inspected, nothing found",
    Result.SEIZURE_MADE: "Seizure made",
}

# Time allowed to acknowledge, by urgency.
ACK_SLA: dict[str, dt.timedelta] = {
    Urgency.IMMEDIATE: dt.timedelta(hours=2),
    Urgency.PRIORITY: dt.timedelta(hours=12),
    Urgency.ROUTINE: dt.timedelta(hours=48),
}

ROUTE_ROLES = (ParticipationRole.MEMBER.value, ParticipationRole.COORDINATOR.value)
MAX_TRANSITS = 10
MAX_IDENTIFIERS = 20
MAX_INDICATORS = 20

# Error messages with values: English for the API and the CLI, translated on pages (dragonnet.i18n.with_values).
NOT_A_PARTICIPANT = with_values(N_("not an agency of this operation: %(codes)s"))
TOO_MANY_TRANSITS = with_values(N_("at most %(max)s transit countries"))
TOO_MANY_INDICATORS = with_values(N_("at most %(max)s indicators of up to 300 characters"))
TOO_MANY_IDENTIFIERS = with_values(N_("at most %(max)s identifiers"))
FUTURE_SEIZURE = with_values(N_("seizure date %(date)s is in the future (today is %(today)s)"))
CASE_EXISTS = with_values(N_("your agency has a case %(ref)s already"))
STAYS_RECIPIENT = with_values(N_("%(agency)s has acknowledged this alert already: it stays a recipient"))


@dataclass(frozen=True)
class AlertInput:
    operation_id: int
    subject_kind: str
    title: str
    origin: str
    destination: str
    transits: Sequence[str] = ()
    expected_arrival: dt.datetime | None = None
    identifiers: Sequence[tuple[str, str]] = ()
    indicators: Sequence[str] = ()
    details: str = ""
    transport_mode: str | None = None
    sharing_level: str = SharingLevel.AMBER.value
    urgency: str = Urgency.PRIORITY.value
    add_agencies: Sequence[str] = ()
    remove_agencies: Sequence[str] = ()


@dataclass(frozen=True)
class ProposedRecipient:
    agency: Agency
    reason: str  # route, regional, added


def country_code(text: str, what: str) -> str:
    if not text or not text.strip():
        raise ValidationError(f"give the {what} country")
    try:
        return countries.resolve(text).alpha2
    except ReferenceLookupError as exc:
        hint = list_hint(text) if what == "transit" else ""
        raise ReferenceLookupError(f"{what} country: {exc.message}{hint}", suggestions=exc.suggestions) from None


def _choice(value: str, allowed: type[StrEnum], what: str) -> str:
    try:
        return allowed(value).value
    except ValueError:
        raise ValidationError(f"unknown {what} {value!r}; use {', '.join(m.value for m in allowed)}") from None


def derive_recipients(
    session: Session, operation_id: int, route: Sequence[str], sender_agency_id: int | None
) -> list[ProposedRecipient]:
    """The agencies of the route's countries taking part in the operation, then the regional office(s)."""
    rows = session.execute(
        select(Agency, Participation.role)
        .join(Participation, Participation.agency_id == Agency.id)
        .where(Participation.operation_id == operation_id, Agency.is_active.is_(True))
        .order_by(Agency.code)
    ).all()
    out: dict[int, ProposedRecipient] = {}
    for country in dict.fromkeys(route):
        for agency, role in rows:
            if agency.country == country and role in ROUTE_ROLES and agency.id != sender_agency_id:
                out.setdefault(agency.id, ProposedRecipient(agency, "route"))
    for agency, role in rows:
        regional = agency.kind == AgencyKind.REGIONAL_OFFICE.value and role != ParticipationRole.OBSERVER.value
        if regional and agency.id != sender_agency_id:
            out.setdefault(agency.id, ProposedRecipient(agency, "regional"))
    return list(out.values())


@dataclass(frozen=True)
class RecipientsPreview:
    """What the alert form shows before sending: who the route reaches, and the operation's other agencies
    that may be added by hand."""

    route: list[str]
    proposed: list[ProposedRecipient]
    others: list[Agency]
    problem: str | None = None  # a country of the route that is not recognised (the preview waits for it)


def preview_recipients(
    session: Session, actor: Actor, operation_id: int, origin: str, transits: Sequence[str], destination: str
) -> RecipientsPreview:
    """The recipients an alert on this route would reach before adjustments, for the form's preview."""
    _require_member(actor, "raise alerts")
    others = _participants(session, operation_id, exclude=actor.agency_id)
    try:
        route = [country_code(origin, "origin"), *(country_code(t, "transit") for t in transits if t.strip()),
                 country_code(destination, "destination")]  # fmt: skip
    except (ValidationError, ReferenceLookupError) as exc:
        return RecipientsPreview([], [], others, exc.message)
    proposed = derive_recipients(session, operation_id, route, actor.agency_id)
    chosen = {p.agency.id for p in proposed}
    return RecipientsPreview(route, proposed, [a for a in others if a.id not in chosen])


def _participants(session: Session, operation_id: int, *, exclude: int | None) -> list[Agency]:
    """The operation's active member and coordinator agencies (those that can act on an alert)."""
    rows = session.execute(
        select(Agency)
        .join(Participation, Participation.agency_id == Agency.id)
        .where(Participation.operation_id == operation_id, Agency.is_active.is_(True),
               Participation.role != ParticipationRole.OBSERVER.value)
        .order_by(Agency.code)
    ).scalars()  # fmt: skip
    return [a for a in rows if a.id != exclude]


def _participants_by_code(session: Session, operation_id: int, codes: Sequence[str]) -> dict[str, Agency]:
    wanted = [c.strip() for c in codes if c.strip()]
    if not wanted:
        return {}
    found = {
        a.code: a
        for a in session.execute(
            select(Agency)
            .join(Participation, Participation.agency_id == Agency.id)
            .where(Participation.operation_id == operation_id, Agency.code.in_(wanted), Agency.is_active.is_(True))
        ).scalars()
    }
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ValidationError(NOT_A_PARTICIPANT % {"codes": ", ".join(unknown)})
    return found


def _require_member(actor: Actor, what: str) -> None:
    if not is_member(actor):
        raise PermissionDenied(
            actor, "alert", None, f"only operation members (officers, coordinators, analysts) may {what}"
        )


def raise_alert(session: Session, actor: Actor, data: AlertInput) -> Alert:
    """Create an alert and deliver it to its recipients (derived from the route, then adjusted)."""
    _require_member(actor, "raise alerts")
    assert actor.agency_id is not None
    operation = session.get(Operation, data.operation_id)
    if operation is None:
        raise ValidationError("unknown operation")
    title = data.title.strip()
    if not title or len(title) > 200:
        raise ValidationError("give a title of 1 to 200 characters")
    if len(data.details) > 20_000:
        raise ValidationError("details: at most 20,000 characters")
    origin = country_code(data.origin, "origin")
    destination = country_code(data.destination, "destination")
    transits = [country_code(t, "transit") for t in data.transits if t.strip()]
    if len(transits) > MAX_TRANSITS:
        raise ValidationError(TOO_MANY_TRANSITS % {"max": MAX_TRANSITS})
    indicators = [i.strip() for i in data.indicators if i.strip()]
    if len(indicators) > MAX_INDICATORS or any(len(i) > 300 for i in indicators):
        raise ValidationError(TOO_MANY_INDICATORS % {"max": MAX_INDICATORS})
    if len(data.identifiers) > MAX_IDENTIFIERS:
        raise ValidationError(TOO_MANY_IDENTIFIERS % {"max": MAX_IDENTIFIERS})
    identifiers = [
        AlertIdentifier(kind=kind, value=value.strip(), normalised=normalise_alert_identifier(kind, value))
        for kind, value in data.identifiers
    ]
    level = _choice(data.sharing_level, SharingLevel, "sharing level")
    urgency = _choice(data.urgency, Urgency, "urgency")
    kind = _choice(data.subject_kind, SubjectKind, "subject")
    mode = _choice(data.transport_mode, TransportMode, "transport mode") if data.transport_mode else None
    if data.expected_arrival is not None and data.expected_arrival.tzinfo is None:
        raise ValidationError("expected arrival: give a time zone")

    alert = Alert(
        operation_id=operation.id, sender_agency_id=actor.agency_id, created_by_id=actor.user_id, subject_kind=kind,
        title=title, details=data.details.strip(), indicators=indicators, transport_mode=mode, origin_country=origin,
        transit_countries=transits, destination_country=destination, expected_arrival=data.expected_arrival,
        sharing_level=level, urgency=urgency, identifiers=identifiers,
    )  # fmt: skip
    proposed = {p.agency.code: p for p in derive_recipients(session, operation.id, alert.route, actor.agency_id)}
    for code, agency in _participants_by_code(session, operation.id, data.add_agencies).items():
        if agency.id != actor.agency_id:
            proposed.setdefault(code, ProposedRecipient(agency, "added"))
    for code in data.remove_agencies:
        proposed.pop(code.strip(), None)
    if not proposed:
        raise ValidationError("this alert would reach nobody: no agency of the operation on its route; add one")
    now = utcnow()
    alert.recipients = [AlertRecipient(agency_id=p.agency.id, reason=p.reason, added_at=now) for p in proposed.values()]
    session.add(alert)
    session.flush()
    audit.record(
        session, audit_actor(actor), "alert.raise", "alert", alert.id, operation=operation.slug, sharing_level=level,
        urgency=urgency, route=alert.route, recipients=sorted(proposed),
        identifiers=[f"{i.kind}:{i.normalised}" for i in identifiers],
    )  # fmt: skip
    _announce_alert(session, alert, [p.agency.id for p in proposed.values()])
    return alert


def _announce_alert(session: Session, alert: Alert, agency_ids: Sequence[int]) -> None:
    inbox.notify_agencies(
        session, agency_ids, kind="alert", subject=f"Alert #{alert.id} [{alert.urgency.upper()}]: {alert.title}",
        link=f"/alerts/{alert.id}", level=alert.sharing_level, object_type="alert", object_id=alert.id,
    )  # fmt: skip


def visible_alerts(actor: Actor) -> Select[Alert]:
    return select(Alert).where(alert_visibility(actor))


def get_alert(session: Session, actor: Actor, alert_id: int) -> Alert:
    """The alert if `actor` may see it; otherwise Hidden (404), whether it exists or not."""
    alert = session.execute(visible_alerts(actor).where(Alert.id == alert_id)).scalar_one_or_none()
    if alert is None:
        raise Hidden(actor, "alert", alert_id)
    return alert


def list_alerts(session: Session, actor: Actor, *, limit: int = 200) -> list[Alert]:
    return list(session.execute(visible_alerts(actor).order_by(Alert.id.desc()).limit(limit)).scalars())


def _own_recipient(session: Session, actor: Actor, alert_id: int, what: str) -> tuple[Alert, AlertRecipient]:
    alert = get_alert(session, actor, alert_id)
    rec = next((r for r in alert.recipients if r.agency_id == actor.agency_id), None)
    if rec is None:
        raise PermissionDenied(actor, "alert", alert_id, f"only a recipient agency may {what} this alert")
    _require_member(actor, what)
    return alert, rec


def acknowledge(session: Session, actor: Actor, alert_id: int) -> AlertRecipient:
    alert, rec = _own_recipient(session, actor, alert_id, "acknowledge")
    if rec.acknowledged_at is not None:
        return rec
    rec.acknowledged_at = utcnow()
    rec.acknowledged_by_id = actor.user_id
    session.flush()
    audit.record(session, audit_actor(actor), "alert.acknowledge", "alert", alert.id, agency=actor.agency_code,
                 overdue=is_overdue(alert, rec, rec.acknowledged_at))  # fmt: skip
    inbox.notify_agencies(
        session, [alert.sender_agency_id], kind="alert_ack",
        subject=f"Alert #{alert.id} acknowledged by {actor.agency_code}", link=f"/alerts/{alert.id}",
        level=alert.sharing_level, object_type="alert", object_id=alert.id,
    )  # fmt: skip
    return rec


@dataclass(frozen=True)
class Answer:
    recipient: AlertRecipient
    case_id: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Found:
    """What a recipient seized, as it reports it with its result (part of the alert, seen by the sender and
    the recipients under the alert's sharing level; the case it opens keeps its own)."""

    commodity_class: str | None = None
    goods: str | None = None  # as the officer writes it: "pangolin scales", "ma túy đá"
    quantity: float | None = None
    unit: str | None = None

    def checked(self) -> Found:
        klass = _choice(self.commodity_class, CommodityClass, "class of goods") if self.commodity_class else None
        goods = (self.goods or "").strip() or None
        if goods is not None and len(goods) > 200:
            raise ValidationError("what was seized: at most 200 characters")
        if self.quantity is not None and not (0 < self.quantity < 1e12):
            raise ValidationError("quantity: give a positive number")
        unit = parse_unit(self.unit) if self.unit else None
        if (self.quantity is None) != (unit is None):
            raise ValidationError("give the quantity with its unit (e.g. 12.5 kg), or neither")
        if unit is not None and self.quantity is not None and self.quantity > MAX_PLAUSIBLE[unit]:
            raise ValidationError(f"quantity {self.quantity:g} {unit.value} is implausibly large; check the unit")
        return Found(klass, goods, self.quantity, unit.value if unit else None)

    def describe(self) -> str:
        """ "12.5 kg of pangolin scales (wildlife)"."""
        amount = f"{self.quantity:,g} {self.unit}" if self.quantity is not None and self.unit else ""
        what = self.goods or (self.commodity_class or "")
        text = " of ".join(p for p in (amount, what) if p)
        if self.commodity_class and self.goods:
            text += f" ({self.commodity_class})"
        return text


def answer(
    session: Session, actor: Actor, alert_id: int, result: str, note: str = "", seizure_date: dt.date | None = None,
    found: Found | None = None, *, today: dt.date | None = None,
) -> Answer:  # fmt: skip
    """Record a recipient's result: what it found is part of the alert (its sender and recipients read it);
    "seizure_made" also opens a draft case of the answering agency, linked to the alert and pre-filled."""
    alert, rec = _own_recipient(session, actor, alert_id, "answer")
    outcome = Result(_choice(result, Result, "result"))
    if rec.acknowledged_at is None:
        raise ValidationError(N_("acknowledge the alert before answering it"))
    if rec.result is not None:
        raise Conflict(f"your agency answered this alert already ({RESULT_LABELS[Result(rec.result)].lower()})")
    if len(note) > 5000:
        raise ValidationError("note: at most 5,000 characters")
    found = (found or Found()).checked() if outcome is Result.SEIZURE_MADE else Found()
    today = today or dt.date.today()
    day = (seizure_date or today) if outcome is Result.SEIZURE_MADE else None
    if day is not None and day > today:
        raise ValidationError(FUTURE_SEIZURE % {"date": day.isoformat(), "today": today.isoformat()})
    case_id = None
    if outcome is Result.SEIZURE_MADE:
        assert day is not None
        case_id = _open_case(session, actor, alert, day, note, found)
    rec.result = outcome.value
    rec.result_note = note.strip() or None
    rec.result_commodity, rec.result_goods = found.commodity_class, found.goods
    rec.result_quantity, rec.result_unit, rec.result_seizure_date = found.quantity, found.unit, day
    rec.answered_at = utcnow()
    rec.answered_by_id = actor.user_id
    session.flush()
    audit.record(session, audit_actor(actor), "alert.result", "alert", alert.id, agency=actor.agency_code,
                 result=outcome.value, case_id=case_id)  # fmt: skip
    what = f": {found.describe()}" if found.describe() else ""
    inbox.notify_agencies(
        session, [alert.sender_agency_id], kind="alert_result",
        subject=f"Alert #{alert.id}: {actor.agency_code} reports {RESULT_LABELS[outcome].lower()}{what}",
        link=f"/alerts/{alert.id}", level=alert.sharing_level, object_type="alert", object_id=alert.id,
    )  # fmt: skip
    if case_id is not None:
        watchlists.check_cases(session, [case_id])
    return Answer(rec, case_id)


_CASE_IDENTIFIER_KINDS = {
    AlertIdentifierKind.CONTAINER.value: IdentifierKind.CONTAINER.value,
    AlertIdentifierKind.VESSEL.value: IdentifierKind.VESSEL.value,
    AlertIdentifierKind.PASSPORT.value: IdentifierKind.PASSPORT.value,
}
_CONVEYANCE_ORDER = ("container", "bill_of_lading", "awb", "vessel", "flight")


def _found_item(found: Found) -> Item | None:
    """The draft case's first item from what the answer says was found (when class, quantity and unit are
    given); the officer's words are kept as written, resolved against the reference data where they match."""
    if found.commodity_class is None or found.quantity is None or found.unit is None:
        return None
    mass = Quantity(found.quantity, Unit(found.unit)).mass_kg
    item = Item(position=1, commodity_class=found.commodity_class, quantity=found.quantity, unit=found.unit,
                quantity_text=f"{found.quantity:g}", mass_kg=mass)  # fmt: skip
    if found.goods and found.commodity_class in ("drug", "precursor"):
        item.substance_text = found.goods
        try:
            match = substances.resolve(found.goods)
            item.substance, item.substance_control = match.substance.name, match.substance.control
        except DragonnetError:
            pass  # kept as written: the officer completes the draft on the case form
    elif found.goods and found.commodity_class in ("wildlife", "timber"):
        item.taxon_text = found.goods
        try:
            taxon = cites.resolve(found.goods).taxon
            item.taxon, item.cites_appendix = taxon.name, (taxon.listing or "not listed")[:16]
        except DragonnetError:
            pass
    elif found.goods:
        item.goods_description = found.goods
    return item


def _open_case(session: Session, actor: Actor, alert: Alert, seizure_date: dt.date, note: str, found: Found) -> int:
    operation = session.get(Operation, alert.operation_id)
    assert operation is not None and actor.agency_id is not None
    phase = phase_for_date(operation, seizure_date)
    agency = session.get(Agency, actor.agency_id)
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    assert agency is not None
    ref = f"ALERT-{alert.id}"
    if session.execute(select(Case.id).where(Case.reporting_agency_id == agency.id, Case.case_ref == ref)).first():
        raise Conflict(CASE_EXISTS % {"ref": ref})
    conveyance = next((i.value for kind in _CONVEYANCE_ORDER for i in alert.identifiers if i.kind == kind), None)
    country = agency.country or alert.destination_country
    # The officer's post (its UN/LOCODE) as the place, when it lies in the agency's country: the draft to check.
    post = user.contact_point if user is not None else None
    locode = post.locode if post is not None and post.locode and post.locode[:2] == country else None
    lines = [f"Opened from alert #{alert.id}: {alert.title}"]
    if alert.indicators:
        lines.append("Indicators: " + "; ".join(alert.indicators))
    if note.strip():
        lines.append(f"Result note: {note.strip()}")
    case = Case(
        operation_id=operation.id, phase_id=phase.id, reporting_agency_id=agency.id,
        contact_point_id=user.contact_point_id if user else None, case_ref=ref, status=CaseStatus.DRAFT.value,
        sharing_level=alert.sharing_level, seizure_date=seizure_date,
        place_country=country, place_locode=locode, transport_mode=alert.transport_mode,
        conveyance_ref=conveyance, origin_country=alert.origin_country,
        destination_country=alert.destination_country, description="\n".join(lines), created_by_id=actor.user_id,
    )  # fmt: skip
    case.transits = [CaseTransit(position=i + 1, country=c) for i, c in enumerate(alert.transit_countries)]
    item = _found_item(found)
    if item is not None:
        case.items = [item]
    session.add(case)
    session.flush()
    for ident in alert.identifiers:
        kind = _CASE_IDENTIFIER_KINDS.get(ident.kind)
        if kind:
            session.add(CaseIdentifier(case_id=case.id, kind=kind, value=ident.value, normalised=ident.normalised))
    session.add(AlertCase(alert_id=alert.id, case_id=case.id, agency_id=agency.id))
    session.flush()
    audit.record(session, audit_actor(actor), "case.create", "case", case.id, source="alert", alert_id=alert.id,
                 case_ref=ref, phase=phase.number)  # fmt: skip
    return case.id


def addable_recipients(session: Session, actor: Actor, alert: Alert) -> list[Agency]:
    """The operation's agencies the sender may still add to `alert` (none for anyone else)."""
    if alert.sender_agency_id != actor.agency_id:
        return []
    current = {r.agency_id for r in alert.recipients}
    return [a for a in _participants(session, alert.operation_id, exclude=actor.agency_id) if a.id not in current]


def adjust_recipients(
    session: Session, actor: Actor, alert_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> Alert:
    """The sender agency adds recipients, or removes those that have not acknowledged yet."""
    alert = get_alert(session, actor, alert_id)
    if alert.sender_agency_id != actor.agency_id:
        raise PermissionDenied(actor, "alert", alert_id, "only the sender agency may change the recipients")
    _require_member(actor, "change recipients")
    current = {r.agency_id: r for r in alert.recipients}
    added = [a for a in _participants_by_code(session, alert.operation_id, add).values()
             if a.id not in current and a.id != actor.agency_id]  # fmt: skip
    removing = _participants_by_code(session, alert.operation_id, remove)
    for agency in removing.values():
        rec = current.get(agency.id)
        if rec is not None and rec.acknowledged_at is not None:
            raise ValidationError(STAYS_RECIPIENT % {"agency": agency.code})
    removed = [a for a in removing.values() if a.id in current]
    alert.recipients = [r for r in alert.recipients if r.agency_id not in {a.id for a in removed}]
    alert.recipients.extend(AlertRecipient(agency_id=a.id, reason="added", added_at=utcnow()) for a in added)
    if not alert.recipients:
        raise ValidationError("an alert needs at least one recipient")
    session.flush()
    for agency in removed:
        inbox.withdraw(session, agency.id, "alert", alert.id)
    audit.record(session, audit_actor(actor), "alert.recipients", "alert", alert.id,
                 added=[a.code for a in added], removed=[a.code for a in removed])  # fmt: skip
    if added:
        _announce_alert(session, alert, [a.id for a in added])
    return alert


# --- deadlines ---------------------------------------------------------------------------------------------


def ack_due(alert: Alert, rec: AlertRecipient) -> dt.datetime:
    return rec.added_at + ACK_SLA[alert.urgency]


def is_overdue(alert: Alert, rec: AlertRecipient, now: dt.datetime | None = None) -> bool:
    """Not acknowledged within the SLA (or acknowledged only after it)."""
    now = now or utcnow()
    when = rec.acknowledged_at or now
    return when > ack_due(alert, rec)


@dataclass(frozen=True)
class Overdue:
    alert_id: int
    title: str
    agency_code: str
    due: dt.datetime
    urgency: str


def overdue_acknowledgements(session: Session, actor: Actor, now: dt.datetime | None = None) -> list[Overdue]:
    """Open acknowledgements past due, over the alerts `actor` may see."""
    now = now or utcnow()
    out = []
    rows = session.execute(
        select(Alert, AlertRecipient)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(alert_visibility(actor), AlertRecipient.acknowledged_at.is_(None))
        .order_by(Alert.id)
    ).all()
    for alert, rec in rows:
        if is_overdue(alert, rec, now):
            out.append(Overdue(alert.id, alert.title, rec.agency.code, ack_due(alert, rec), alert.urgency))
    return out


@dataclass(frozen=True)
class LinkedCase:
    """A case opened from the alert: a link when the reader may see it, else why not (its sharing level and
    that it is not shared with the reader: the case stays with its owner; its result is on the alert)."""

    case_id: int
    agency_code: str
    visible: bool
    case_ref: str | None  # only when visible
    restriction: str | None  # only when not visible


def linked_cases(session: Session, actor: Actor, alert: Alert) -> list[LinkedCase]:
    """The cases opened from the alert (the alert's readers know they exist: its result says a seizure)."""
    rows = session.execute(
        select(AlertCase.case_id, Agency.code)
        .join(Agency, Agency.id == AlertCase.agency_id)
        .where(AlertCase.alert_id == alert.id)
        .order_by(AlertCase.id)
    ).all()
    ids = [r[0] for r in rows]
    visible = set(session.execute(select(Case.id).where(Case.id.in_(ids), case_visibility(actor))).scalars())
    cases = {c.id: c for c in session.execute(select(Case).where(Case.id.in_(ids))).scalars()}
    out = []
    for case_id, code in rows:
        case = cases[case_id]
        seen = case_id in visible
        out.append(LinkedCase(case_id, code, seen, case.case_ref if seen else None,
                              None if seen else why_case_hidden(actor, case)))  # fmt: skip
    return out


# --- an alert drafted from a case ------------------------------------------------------------------------------

_ALERT_LEVELS = {SharingLevel.RED.value: SharingLevel.AMBER.value}  # a RED case names agencies an alert does not


def draft_from_case(session: Session, actor: Actor, case_id: int) -> dict[str, object]:
    """The alert form's values for "alert the countries on this route" from a case the actor may see: route,
    mode, identifiers (container, vessel, flight, air waybill), concealment as an indicator, the case's
    sharing level (RED becomes AMBER: the recipients are the route's agencies, not the case's named ones)."""
    _require_member(actor, "raise alerts")
    case = get_case(session, actor, case_id)
    goods = ", ".join(dict.fromkeys(i.substance or i.taxon or i.commodity_class for i in case.items))
    place = case.place_name or case.place_locode or case.place_country
    day = case.seizure_date.isoformat()
    identifiers: list[tuple[str, str]] = []
    if looks_like_container(case.conveyance_ref):
        identifiers.append((AlertIdentifierKind.CONTAINER.value, case.conveyance_ref or ""))
    elif case.conveyance_ref and case.transport_mode == TransportMode.AIR_PASSENGER.value:
        identifiers.append((AlertIdentifierKind.FLIGHT.value, case.conveyance_ref))
    elif case.conveyance_ref and case.transport_mode == TransportMode.AIR_CARGO.value:
        identifiers.append((AlertIdentifierKind.AWB.value, case.conveyance_ref))
    for ident in session.execute(
        select(CaseIdentifier).where(CaseIdentifier.case_id == case.id, CaseIdentifier.party_id.is_(None))
        .order_by(CaseIdentifier.id)
    ).scalars():  # fmt: skip
        kind = {IdentifierKind.CONTAINER.value: "container", IdentifierKind.VESSEL.value: "vessel"}.get(ident.kind)
        if kind and not any(compact_code(v) == compact_code(ident.value) for _k, v in identifiers):
            identifiers.append((kind, ident.value))
    return {
        "operation": case.operation.slug,
        "subject_kind": SubjectKind.SHIPMENT.value,
        "title": f"Follow-up of case {case.case_ref}: {goods} seized at {place} on {day}"[:200],
        "origin": case.origin_country or "",
        "transits": join_list(case.transit_countries),
        "destination": case.destination_country or "",
        "transport_mode": case.transport_mode or "",
        "identifiers": identifiers[:3],
        "indicators": case.concealment or "",
        "details": f"{case.reporting_agency.code} seized {goods} at {place} on {day} (case {case.case_ref}). "
        "Other shipments on this route may be linked.",
        "sharing_level": _ALERT_LEVELS.get(case.sharing_level, case.sharing_level),
        "from_case": str(case.id),
        "from_case_ref": case.case_ref,
    }
