"""Bulletins: modus-operandi and trend notes to all members or to chosen agencies, with attachments.

Sent to all members, a bulletin must be GREEN or CLEAR (CLEAR also reaches partner observers); RED and
AMBER bulletins go to named agencies only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import ParticipationRole, SharingLevel
from dragonnet.errors import ValidationError
from dragonnet.i18n import N_, with_values
from dragonnet.messaging import inbox
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, PermissionDenied, audit_actor
from dragonnet.policy.messaging import bulletin_visibility, is_member
from dragonnet.storage.messaging_models import Bulletin, BulletinRecipient
from dragonnet.storage.models import Agency, Operation, Participation

OPEN_LEVELS = (SharingLevel.GREEN.value, SharingLevel.CLEAR.value)
# Error messages with values: English for the API and the CLI, translated on pages (dragonnet.i18n.with_values).
UNKNOWN_LEVEL = with_values(N_("unknown sharing level %(level)s; use %(values)s"))
NOT_A_PARTICIPANT = with_values(N_("not an agency of this operation: %(codes)s"))


def publish(
    session: Session,
    actor: Actor,
    *,
    operation_id: int,
    title: str,
    body: str,
    sharing_level: str,
    to_all: bool,
    agencies: Sequence[str] = (),
) -> Bulletin:
    if not is_member(actor):
        raise PermissionDenied(actor, "bulletin", None, "only operation members may publish bulletins")
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise ValidationError("unknown operation")
    title = title.strip()
    if not title or len(title) > 200:
        raise ValidationError("give a title of 1 to 200 characters")
    if not body.strip() or len(body) > 50_000:
        raise ValidationError("give a text of 1 to 50,000 characters")
    if sharing_level not in SharingLevel.values():
        levels = ", ".join(SharingLevel.values())
        raise ValidationError(UNKNOWN_LEVEL % {"level": repr(sharing_level), "values": levels})
    if to_all and sharing_level not in OPEN_LEVELS:
        raise ValidationError("a bulletin to all members must be GREEN or CLEAR; name the agencies for RED or AMBER")
    participants = session.execute(
        select(Agency, Participation.role)
        .join(Participation, Participation.agency_id == Agency.id)
        .where(Participation.operation_id == operation.id, Agency.is_active.is_(True))
    ).all()
    by_code = {a.code: a for a, _ in participants}
    if to_all:
        observers_too = sharing_level == SharingLevel.CLEAR.value
        targets = [a for a, role in participants if observers_too or role != ParticipationRole.OBSERVER.value]
    else:
        wanted = list(dict.fromkeys(c.strip() for c in agencies if c.strip()))
        unknown = [c for c in wanted if c not in by_code]
        if unknown:
            raise ValidationError(NOT_A_PARTICIPANT % {"codes": ", ".join(unknown)})
        if not wanted:
            raise ValidationError("choose the agencies, or send to all members")
        targets = [by_code[c] for c in wanted]
    targets = [a for a in targets if a.id != actor.agency_id]
    assert actor.agency_id is not None
    bulletin = Bulletin(
        operation_id=operation.id, sender_agency_id=actor.agency_id, created_by_id=actor.user_id, title=title,
        body=body.strip(), sharing_level=sharing_level, to_all=to_all,
        recipients=[] if to_all else [BulletinRecipient(agency_id=a.id) for a in targets],
    )  # fmt: skip
    session.add(bulletin)
    session.flush()
    audit.record(session, audit_actor(actor), "bulletin.publish", "bulletin", bulletin.id, sharing_level=sharing_level,
                 to_all=to_all, agencies=sorted(a.code for a in targets))  # fmt: skip
    inbox.notify_agencies(
        session, [a.id for a in targets], kind="bulletin", subject=f"Bulletin: {title}",
        link=f"/bulletins/{bulletin.id}", level=sharing_level, object_type="bulletin", object_id=bulletin.id,
    )  # fmt: skip
    return bulletin


def get_bulletin(session: Session, actor: Actor, bulletin_id: int) -> Bulletin:
    found = session.execute(
        select(Bulletin).where(Bulletin.id == bulletin_id, bulletin_visibility(actor))
    ).scalar_one_or_none()
    if found is None:
        raise Hidden(actor, "bulletin", bulletin_id)
    return found


def list_bulletins(session: Session, actor: Actor, *, limit: int = 200) -> list[Bulletin]:
    query = select(Bulletin).where(bulletin_visibility(actor)).order_by(Bulletin.id.desc()).limit(limit)
    return list(session.execute(query).scalars())
