"""Notifications other capabilities ask for through `hooks.announce` (linkage: the steps of a match notice).

Delivered like every notification (`inbox.notify_agencies`): to the members' inboxes of each agency, an
e-mail per member with an address; the sharing level decides who may read it (partner observers CLEAR only)
and whether its text may leave by e-mail (AMBER and RED: a notice with a link instead).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dragonnet.hooks import Announcement, hookimpl
from dragonnet.messaging import inbox


@hookimpl
def announce(session: Session, announcement: Announcement) -> int:
    notes = inbox.notify_agencies(
        session, announcement.agency_ids, kind=announcement.kind, subject=announcement.subject,
        link=announcement.link, level=announcement.level, object_type=announcement.object_type,
        object_id=announcement.object_id,
    )  # fmt: skip
    return len(notes)
