"""Who sees which alert and bulletin (TLP 2.0 x agency x role), as WHERE clauses like `policy.access`.

Alerts: the sender agency and the recipient agencies see an alert. RED, AMBER and AMBER+STRICT alerts are
seen by nobody else; GREEN alerts are also seen by every operation member, CLEAR alerts by everyone logged in.
Partner observers (no member role) see CLEAR alerts only.
Bulletins: the sender agency, the named agencies (or, sent to all, every member for GREEN); CLEAR by everyone;
observers CLEAR only. Records an actor may not see answer Hidden (404), never 403.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from dragonnet.domain.vocabulary import Role, SharingLevel
from dragonnet.policy.access import Actor
from dragonnet.storage.messaging_models import Alert, AlertRecipient, Bulletin, BulletinRecipient

MEMBER_ROLES = (Role.REPORTER, Role.NATIONAL_COORDINATOR, Role.REGIONAL_ANALYST)
CLEAR = SharingLevel.CLEAR.value
GREEN = SharingLevel.GREEN.value


def is_member(actor: Actor) -> bool:
    """A member of the operation who may raise, acknowledge and answer (not an observer or admin alone)."""
    return actor.is_authenticated and actor.agency_id is not None and any(actor.has(r) for r in MEMBER_ROLES)


def may_see_turnaround(actor: Actor | None) -> bool:
    """The alert turnaround (agencies' response times): operation members; None is the operator."""
    return actor is None or is_member(actor)


def alert_visibility(actor: Actor) -> ColumnElement[bool]:
    if not actor.is_authenticated or actor.agency_id is None:
        return false()
    if actor.is_observer_only:
        return Alert.sharing_level == CLEAR
    own = Alert.sender_agency_id == actor.agency_id
    rec = aliased(AlertRecipient)  # aliased: callers may join AlertRecipient themselves
    recipient = exists(select(rec.id).where(rec.alert_id == Alert.id, rec.agency_id == actor.agency_id))
    public = Alert.sharing_level.in_([CLEAR, GREEN]) if is_member(actor) else Alert.sharing_level == CLEAR
    return or_(own, recipient, public)


def bulletin_visibility(actor: Actor) -> ColumnElement[bool]:
    if not actor.is_authenticated or actor.agency_id is None:
        return false()
    if actor.is_observer_only:
        return Bulletin.sharing_level == CLEAR
    own = Bulletin.sender_agency_id == actor.agency_id
    rec = aliased(BulletinRecipient)
    named = exists(select(rec.id).where(rec.bulletin_id == Bulletin.id, rec.agency_id == actor.agency_id))
    green_to_all = and_(Bulletin.to_all.is_(True), Bulletin.sharing_level == GREEN) if is_member(actor) else false()
    return or_(own, named, green_to_all, Bulletin.sharing_level == CLEAR)
