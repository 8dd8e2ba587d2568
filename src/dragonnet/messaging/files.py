"""Attachments on alerts and bulletins, through the access policy of the message they belong to."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from sqlalchemy.orm import Session

from dragonnet.messaging import alerts, attachments, bulletins
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, PermissionDenied, audit_actor
from dragonnet.policy.messaging import is_member
from dragonnet.storage.messaging_models import Attachment


def attach_to_alert(
    session: Session, actor: Actor, data_dir: Path, alert_id: int, stream: BinaryIO, filename: str | None
) -> Attachment:
    """The sender agency and the recipient agencies may attach files (e.g. photos of a seizure)."""
    alert = alerts.get_alert(session, actor, alert_id)
    involved = {alert.sender_agency_id, *(r.agency_id for r in alert.recipients)}
    if actor.agency_id not in involved or not is_member(actor):
        raise PermissionDenied(actor, "alert", alert_id, "only the sender and recipient agencies may attach files")
    assert actor.agency_id is not None
    att = attachments.add(session, data_dir, stream, filename, agency_id=actor.agency_id, user_id=actor.user_id,
                          alert_id=alert.id)  # fmt: skip
    audit.record(session, audit_actor(actor), "attachment.add", "alert", alert.id, attachment_id=att.id,
                 sha256=att.sha256, size=att.size, media_type=att.media_type)  # fmt: skip
    return att


def attach_to_bulletin(
    session: Session, actor: Actor, data_dir: Path, bulletin_id: int, stream: BinaryIO, filename: str | None
) -> Attachment:
    bulletin = bulletins.get_bulletin(session, actor, bulletin_id)
    if bulletin.sender_agency_id != actor.agency_id or not is_member(actor):
        raise PermissionDenied(actor, "bulletin", bulletin_id, "only the sender agency may attach files")
    assert actor.agency_id is not None
    att = attachments.add(session, data_dir, stream, filename, agency_id=actor.agency_id, user_id=actor.user_id,
                          bulletin_id=bulletin.id)  # fmt: skip
    audit.record(session, audit_actor(actor), "attachment.add", "bulletin", bulletin.id, attachment_id=att.id,
                 sha256=att.sha256, size=att.size, media_type=att.media_type)  # fmt: skip
    return att


def get_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """The attachment if `actor` may see the message it belongs to; Hidden (404) otherwise."""
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise Hidden(actor, "attachment", attachment_id)
    try:
        if att.alert_id is not None:
            alerts.get_alert(session, actor, att.alert_id)
        elif att.bulletin_id is not None:
            bulletins.get_bulletin(session, actor, att.bulletin_id)
        else:
            raise Hidden(actor, "attachment", attachment_id)
    except Hidden:
        raise Hidden(actor, "attachment", attachment_id) from None
    return att


def download(session: Session, actor: Actor, data_dir: Path, attachment_id: int) -> tuple[Attachment, Path]:
    att = get_attachment(session, actor, attachment_id)
    path = attachments.open_blob(data_dir, att)
    audit.record(session, audit_actor(actor), "attachment.download", "attachment", att.id, sha256=att.sha256)
    return att, path


def list_for(session: Session, *, alert_id: int | None = None, bulletin_id: int | None = None) -> list[Attachment]:
    """Attachments of a message the caller has already fetched through the policy."""
    from sqlalchemy import select

    query = select(Attachment).order_by(Attachment.id)
    query = (
        query.where(Attachment.alert_id == alert_id)
        if alert_id is not None
        else query.where(Attachment.bulletin_id == bulletin_id)
    )
    return list(session.execute(query).scalars())


def content_disposition(filename: str) -> str:
    """`attachment` always (never inline), with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def response_media_type(att: Attachment) -> str:
    return "text/plain; charset=utf-8" if att.media_type == "text/plain" else att.media_type
