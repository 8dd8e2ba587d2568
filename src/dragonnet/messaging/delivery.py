"""E-mail delivery through a configurable SMTP server, from an outbox written in the same transaction as
the message it announces (an e-mail is never sent for a change that was rolled back).

Settings (environment): DRAGONNET_SMTP_HOST (unset: no e-mail), DRAGONNET_SMTP_PORT (25),
DRAGONNET_SMTP_FROM (dragonnet@localhost), DRAGONNET_SMTP_STARTTLS (0/1), DRAGONNET_SMTP_USER,
DRAGONNET_SMTP_PASSWORD, DRAGONNET_BASE_URL (prefix of links in e-mails).

E-mails carry the sharing level of their content (subject prefix `[TLP:LEVEL]` and an `X-TLP` header).
RED and AMBER content never travels by e-mail: those e-mails only say that a message is waiting, with a link.
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dragonnet import i18n
from dragonnet.domain.vocabulary import SharingLevel
from dragonnet.storage.messaging_models import EmailOutbox
from dragonnet.storage.models import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
OPEN_LEVELS = frozenset({SharingLevel.GREEN.value, SharingLevel.CLEAR.value})


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    base_url: str = ""
    timeout: float = 10.0


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings from the environment; None when DRAGONNET_SMTP_HOST is not set (e-mail off)."""
    host = os.environ.get("DRAGONNET_SMTP_HOST", "").strip()
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=int(os.environ.get("DRAGONNET_SMTP_PORT", "25")),
        sender=os.environ.get("DRAGONNET_SMTP_FROM", "dragonnet@localhost"),
        starttls=os.environ.get("DRAGONNET_SMTP_STARTTLS", "0") == "1",
        username=os.environ.get("DRAGONNET_SMTP_USER") or None,
        password=os.environ.get("DRAGONNET_SMTP_PASSWORD") or None,
        base_url=os.environ.get("DRAGONNET_BASE_URL", "").rstrip("/"),
    )


def tlp_tag(level: str) -> str:
    return f"TLP:{level.upper()}"


def compose(
    level: str, kind: str, subject: str, link: str, base_url: str, locale: str | None = None
) -> tuple[str, str]:
    """(subject, body) of the e-mail announcing a message, in the recipient's language (`locale`; None:
    English); restricted content stays in dragonnet. The message's own subject is the sender's text, as written."""
    url = f"{base_url}{link}"
    tag = tlp_tag(level)
    with i18n.use_locale(locale or i18n.DEFAULT_LOCALE):
        if level in OPEN_LEVELS:
            where = i18n.gettext("Open it in dragonnet: %(url)s", url=url)
            return f"[{tag}] {subject}", f"{tag}\n\n{subject}\n\n{where}\n"
        what = i18n.translate(kind.replace("_", " "))
        return (
            f"[{tag}] " + i18n.gettext("dragonnet: a new %(kind)s is waiting", kind=what),
            f"{tag}\n\n"
            + i18n.gettext(
                "A new %(kind)s for you is waiting in dragonnet. Its content is %(tag)s and is not sent by e-mail.",
                kind=what,
                tag=tag,
            )
            + "\n\n"
            + i18n.gettext("Log in to read it: %(url)s", url=url)
            + "\n",
        )


def _message(settings: SmtpSettings, row: EmailOutbox) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["X-TLP"] = tlp_tag(row.sharing_level)
    msg.set_content(row.body)
    return msg


def send_pending(session: Session, settings: SmtpSettings, *, limit: int = 200) -> int:
    """Send what the outbox holds (oldest first); returns the number sent. Failures are kept for a retry."""
    rows = list(
        session.execute(
            select(EmailOutbox)
            .where(EmailOutbox.sent_at.is_(None), EmailOutbox.attempts < MAX_ATTEMPTS)
            .order_by(EmailOutbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not rows:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username and settings.password:
                smtp.login(settings.username, settings.password)
            for row in rows:
                row.attempts += 1
                try:
                    smtp.send_message(_message(settings, row))
                except smtplib.SMTPException as exc:
                    row.last_error = str(exc)[:300]
                    continue
                row.sent_at = utcnow()
                row.last_error = None
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP server %s:%s unavailable: %s", settings.host, settings.port, exc)
        for row in rows:
            if row.sent_at is None:
                row.attempts += 1
                row.last_error = f"SMTP unavailable: {exc}"[:300]
    session.flush()
    return sent


def deliver(factory: sessionmaker[Session], settings: SmtpSettings | None = None) -> int:
    """Send pending e-mails in a transaction of their own (for background tasks and the CLI)."""
    settings = settings or smtp_settings()
    if settings is None:
        return 0
    with factory() as session:
        sent = send_pending(session, settings)
        session.commit()
    return sent
