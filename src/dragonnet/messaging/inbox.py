"""The inbox: notifications to one user or to every member of an agency, read marks, and live events.

A notification carries the sharing level of what it announces. Partner observers only ever receive CLEAR
ones. Live delivery (server-sent events) polls `events_after` with the last id the browser saw, so it works
with several server processes and resumes after a reconnect (`Last-Event-ID`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, false, func, insert, or_, select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import Role, SharingLevel
from dragonnet.messaging import delivery
from dragonnet.policy.access import Actor
from dragonnet.policy.messaging import MEMBER_ROLES
from dragonnet.storage.messaging_models import EmailOutbox, Notification, NotificationRead
from dragonnet.storage.models import User, UserRole

MAX_SUBJECT = 300


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    subject: str
    link: str
    sharing_level: str
    created_at: dt.datetime
    read: bool

    def as_event(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "link": self.link,
            "sharing_level": self.sharing_level,
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


def _recipients_users(session: Session, agency_ids: Iterable[int], level: str) -> list[User]:
    """Active users of these agencies who may receive a message of this level (with an e-mail address)."""
    roles = [r.value for r in MEMBER_ROLES]
    if level == SharingLevel.CLEAR.value:
        roles.append(Role.PARTNER_OBSERVER.value)
    query = select(User).where(
        User.agency_id.in_(list(agency_ids)),
        User.is_active.is_(True),
        User.email.is_not(None),
        exists(select(UserRole.id).where(UserRole.user_id == User.id, UserRole.role.in_(roles))),
    )
    return list(session.execute(query.order_by(User.id)).scalars())


def _queue_email(session: Session, note: Notification, users: Iterable[User]) -> None:
    _queue_emails(session, note.id, note.kind, note.subject, note.link, note.sharing_level, users)


def _queue_emails(
    session: Session, note_id: int, kind: str, subject: str, link: str, level: str, users: Iterable[User]
) -> None:
    settings = delivery.smtp_settings()
    if settings is None:
        return
    for user in users:
        if user.email:
            # In the recipient's language (their setting; English when they chose none).
            mail_subject, body = delivery.compose(level, kind, subject, link, settings.base_url, user.language)
            session.add(
                EmailOutbox(
                    notification_id=note_id,
                    to_address=user.email,
                    subject=mail_subject[:MAX_SUBJECT],
                    body=body,
                    sharing_level=level,
                )
            )


def notify_agencies(
    session: Session,
    agency_ids: Iterable[int],
    *,
    kind: str,
    subject: str,
    link: str,
    level: str,
    object_type: str,
    object_id: int,
) -> list[Notification]:
    """One notification per agency (its members' inboxes) and an e-mail per member with an address."""
    notes = []
    for agency_id in dict.fromkeys(agency_ids):
        note = Notification(
            agency_id=agency_id, user_id=None, kind=kind, subject=subject[:MAX_SUBJECT], link=link,
            sharing_level=level, object_type=object_type, object_id=object_id,
        )  # fmt: skip
        session.add(note)
        session.flush()
        _queue_email(session, note, _recipients_users(session, [agency_id], level))
        notes.append(note)
    return notes


@dataclass(frozen=True)
class UserNotice:
    """A notification to one user, for `notify_users`."""

    user: User
    kind: str
    subject: str
    link: str
    level: str
    object_type: str
    object_id: int


def notify_users(session: Session, notices: Sequence[UserNotice]) -> int:
    """Notify users of records (one notification each, to the user alone): one bulk insert (ids back in
    order), then the e-mails to those active when SMTP is configured."""
    if not notices:
        return 0
    rows = [
        {"agency_id": n.user.agency_id, "user_id": n.user.id, "kind": n.kind, "subject": n.subject[:MAX_SUBJECT],
         "link": n.link, "sharing_level": n.level, "object_type": n.object_type, "object_id": n.object_id}
        for n in notices
    ]  # fmt: skip
    if delivery.smtp_settings() is None:  # no e-mail to queue: the ids are not needed
        session.execute(insert(Notification), rows)
        return len(rows)
    ids = session.execute(insert(Notification).returning(Notification.id, sort_by_parameter_order=True), rows)
    for n, note_id in zip(notices, ids.scalars(), strict=True):
        subject = n.subject[:MAX_SUBJECT]
        _queue_emails(session, note_id, n.kind, subject, n.link, n.level, [n.user] if n.user.is_active else [])
    return len(rows)


def withdraw(session: Session, agency_id: int, object_type: str, object_id: int) -> None:
    """Remove an agency's notifications about a record it may no longer see."""
    session.execute(
        delete(Notification).where(
            Notification.agency_id == agency_id,
            Notification.user_id.is_(None),
            Notification.object_type == object_type,
            Notification.object_id == object_id,
        )
    )


def _mine(actor: Actor) -> ColumnElement[bool]:
    if not actor.is_authenticated or actor.agency_id is None:
        return false()
    to_me = Notification.user_id == actor.user_id
    to_agency = and_(Notification.user_id.is_(None), Notification.agency_id == actor.agency_id)
    cond = or_(to_me, to_agency)
    if actor.is_observer_only:
        cond = and_(cond, Notification.sharing_level == SharingLevel.CLEAR.value)
    return cond


def _is_read(actor: Actor) -> ColumnElement[bool]:
    return exists(
        select(NotificationRead.id).where(
            NotificationRead.notification_id == Notification.id, NotificationRead.user_id == actor.user_id
        )
    )


def _messages(session: Session, actor: Actor, *conds: ColumnElement[bool], limit: int) -> list[Message]:
    query = (
        select(Notification, _is_read(actor).label("read"))
        .where(_mine(actor), *conds)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [
        Message(n.id, n.kind, n.subject, n.link, n.sharing_level, n.created_at, bool(read))
        for n, read in session.execute(query).all()
    ]


def inbox(session: Session, actor: Actor, *, unread_only: bool = False, limit: int = 100) -> list[Message]:
    """The actor's messages, newest first (their own and their agency's)."""
    conds = [~_is_read(actor)] if unread_only else []
    return _messages(session, actor, *conds, limit=min(max(limit, 1), 500))


def unread_count(session: Session, actor: Actor) -> int:
    query = select(func.count(Notification.id)).where(_mine(actor), ~_is_read(actor))
    return int(session.execute(query).scalar_one())


def events_after(session: Session, actor: Actor, last_id: int, *, limit: int = 50) -> list[Message]:
    """Messages newer than `last_id`, oldest first (for server-sent events)."""
    found = _messages(session, actor, Notification.id > last_id, limit=limit)
    return sorted(found, key=lambda m: m.id)


def latest_id(session: Session, actor: Actor) -> int:
    return int(session.execute(select(func.coalesce(func.max(Notification.id), 0)).where(_mine(actor))).scalar_one())


def mark_read(session: Session, actor: Actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's messages read (all of them when `ids` is None); foreign ids are ignored."""
    query = select(Notification.id).where(_mine(actor), ~_is_read(actor))
    if ids is not None:
        wanted = [int(i) for i in ids][:500]
        query = query.where(Notification.id.in_(wanted))
    found = list(session.execute(query).scalars())
    for nid in found:
        session.add(NotificationRead(notification_id=nid, user_id=actor.user_id))
    session.flush()
    return len(found)
