"""The optional TOTP second factor (RFC 6238, 30 s steps, 6 digits) and the login's second step.

- Enrolment: a new secret is shown once (as the otpauth:// URI and base32 text); it is enabled only when
  the user confirms it with a valid code.
- Codes are single-use: the time-step of the last accepted code is remembered and no code of that step
  or an earlier one is accepted again.
- Wrong codes count as failed logins (users.MAX_FAILED_LOGINS locks the account), so the six digits
  cannot be guessed faster than a password.
- A password reset does not touch the second factor; only an administrator's `reset_totp` removes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.policy import audit
from dragonnet.policy.access import MFA_ROLES, Actor, audit_actor
from dragonnet.storage.models import LoginChallenge, User, UserTotp, utcnow

ISSUER = "dragonnet"
VALID_WINDOW = 1  # accept the previous and the next step too (clock drift)
CHALLENGE_TTL = dt.timedelta(minutes=5)
MAX_CHALLENGE_ATTEMPTS = 5


def may_enrol(user: User) -> bool:
    return any(r.value in user.role_names for r in MFA_ROLES)


def totp_of(session: Session, user_id: int) -> UserTotp | None:
    return session.get(UserTotp, user_id)


def totp_enabled(session: Session, user_id: int) -> bool:
    row = totp_of(session, user_id)
    return row is not None and row.enabled


def start_enrolment(session: Session, user: User) -> tuple[str, str]:
    """A new (not yet enabled) secret for `user`: returns (secret, otpauth URI), to show once."""
    if not may_enrol(user):
        raise ValidationError("a second factor is offered to analysts, coordinators and administrators")
    if totp_enabled(session, user.id):
        raise ValidationError("a second factor is already set up; an administrator can reset it")
    secret = pyotp.random_base32()
    row = totp_of(session, user.id)
    if row is None:
        session.add(UserTotp(user_id=user.id, secret=secret, enabled=False))
    else:
        row.secret, row.enabled, row.last_step = secret, False, None
    session.flush()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not (code.isascii() and code.isdigit()):  # "١٢٣٤٥٦" is digits too
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def check_code(session: Session, user: User, code: str, now: dt.datetime | None = None) -> bool:
    """True once per valid code: the code's time-step must be later than the last accepted one."""
    row = totp_of(session, user.id)
    if row is None:
        return False
    step = _matching_step(row.secret, code, now or utcnow())
    if step is None or (row.last_step is not None and step <= row.last_step):
        return False
    row.last_step = step
    return True


def confirm_enrolment(session: Session, user: User, code: str) -> None:
    row = totp_of(session, user.id)
    if row is None or row.enabled:
        raise ValidationError("start setting up the second factor first")
    if not check_code(session, user, code):
        raise ValidationError("that code is not right: check the clock of your device and try the next one")
    row.enabled = True
    row.confirmed_at = utcnow()
    who = audit.AuditActor(user.id, user.username, user.agency.code)
    audit.record(session, who, "auth.totp_enabled", "user", user.id)


def reset_totp(session: Session, actor: Actor, user: User) -> None:
    """Remove a user's second factor (administrators; the caller checks `actor` may act on `user`)."""
    session.execute(delete(UserTotp).where(UserTotp.user_id == user.id))
    audit.record(session, audit_actor(actor), "user.totp_reset", "user", user.id, username=user.username)


# --- the login's second step --------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_challenge(session: Session, user: User, next_path: str) -> str:
    """After a right password: a random challenge (kept by the browser in a cookie) waiting for the code."""
    session.execute(delete(LoginChallenge).where(LoginChallenge.user_id == user.id))
    token = secrets.token_urlsafe(32)
    session.add(LoginChallenge(token_hash=_hash(token), user_id=user.id, expires_at=utcnow() + CHALLENGE_TTL,
                               attempts=0, next_path=next_path[:500]))  # fmt: skip
    session.flush()
    return token


def find_challenge(session: Session, token: str) -> LoginChallenge | None:
    row = session.execute(select(LoginChallenge).where(LoginChallenge.token_hash == _hash(token))).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow() or row.attempts >= MAX_CHALLENGE_ATTEMPTS:
        return None
    return row


def close_challenges(session: Session, user_id: int) -> None:
    session.execute(delete(LoginChallenge).where(LoginChallenge.user_id == user_id))
