"""Users: creation, password resets, and authentication with throttling, lock-out and the second factor.

Login is one or two steps: `authenticate` checks the password; if the user has a TOTP second factor it
answers `needs_totp` and `complete_totp_login` finishes the login. Wrong codes count as failed logins, and a
right password alone does not clear the failure count of a user with a second factor (so alternating
password and code guesses gains nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import Role
from dragonnet.errors import Conflict, NotFound, ValidationError
from dragonnet.i18n import LOCALES, N_, normalise, with_values
from dragonnet.policy import audit
from dragonnet.policy.passwords import DUMMY_HASH, check_policy, hash_password, needs_rehash, verify_password
from dragonnet.storage.models import Agency, User, UserRole, WebSession, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)


# Error messages with values: English for the API and the CLI, translated on pages (dragonnet.i18n.with_values).
UNKNOWN_ROLES = with_values(N_("unknown role(s) %(roles)s; use %(values)s"))
NO_ROLE = with_values(N_("no role given; use %(values)s"))
INVALID_USERNAME = with_values(N_("invalid username %(username)s: use letters, digits, '.', '-' and '_'"))
UNKNOWN_AGENCY = with_values(N_("unknown agency %(code)s"))
USER_EXISTS = with_values(N_("user %(username)s exists already"))


def _roles_error(unknown: list[str]) -> str:
    values = ", ".join(Role.values())
    return UNKNOWN_ROLES % {"roles": ", ".join(unknown), "values": values} if unknown else NO_ROLE % {"values": values}


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    agency_code: str,
    roles: list[str],
    display_name: str | None = None,
    email: str | None = None,
    contact_point_id: int | None = None,
    by: audit.AuditActor = audit.SYSTEM,
    enforce_policy: bool = True,
) -> User:
    username = username.strip()
    if not username or len(username) > 64 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise ValidationError(INVALID_USERNAME % {"username": repr(username)})
    agency = session.execute(select(Agency).where(Agency.code == agency_code)).scalar_one_or_none()
    if agency is None:
        raise NotFound(UNKNOWN_AGENCY % {"code": repr(agency_code)})
    unknown = [r for r in roles if r not in Role.values()]
    if unknown or not roles:
        raise ValidationError(_roles_error(unknown))
    if session.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise Conflict(USER_EXISTS % {"username": repr(username)})
    if enforce_policy:
        check_policy(password, username=username)
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        agency=agency,
        contact_point_id=contact_point_id,
        password_hash=hash_password(password),
        roles=[UserRole(role=r) for r in dict.fromkeys(roles)],
    )
    session.add(user)
    session.flush()
    audit.record(session, by, "user.create", "user", user.id, username=username, agency=agency_code, roles=roles)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(func.lower(User.username) == username.lower())).scalar_one_or_none()
    if user is None:
        raise NotFound(f"unknown user {username!r}")
    return user


def reset_password(session: Session, username: str, password: str, by: audit.AuditActor = audit.SYSTEM) -> User:
    user = get_user(session, username)
    check_policy(password, username=user.username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    # A new password ends every session, half-done login and API token opened with the old one: resetting a
    # compromised account must also cut off a token the intruder made. The second factor stays: a reset
    # never bypasses it.
    revoked = end_all_access(session, user.id)
    audit.record(session, by, "user.password_reset", "user", user.id, username=user.username, tokens_revoked=revoked)
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str | None = None  # None on success; "invalid", "locked", "disabled" otherwise
    needs_totp: bool = False  # the password was right; the second factor is still owed


def authenticate(session: Session, username: str, password: str, client_address: str | None = None) -> LoginResult:
    """Check a password; count failures, lock the account after too many, audit every attempt."""
    now = utcnow()
    user = session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()
    where = audit.AuditActor(None, audit.clean_text(username.strip()), None, client_address)
    if user is None:
        verify_password(DUMMY_HASH, password)
        audit.record(session, where, "auth.login_failed", "user", None, reason="unknown user")
        return LoginResult(None, "invalid")
    actor = audit.AuditActor(user.id, user.username, user.agency.code, client_address)
    # A disabled or locked account is refused after the same password check as any other attempt, so the
    # answer's timing does not tell which user names exist or are locked (the pages answer the same text).
    password_ok = verify_password(user.password_hash, password)
    if not user.is_active:
        audit.record(session, actor, "auth.login_failed", "user", user.id, reason="disabled")
        return LoginResult(None, "disabled")
    if user.locked_until is not None and user.locked_until > now:
        audit.record(session, actor, "auth.login_failed", "user", user.id, reason="locked")
        return LoginResult(None, "locked")
    if not password_ok:
        user.failed_logins += 1
        reason = "bad password"
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            reason = "bad password; account locked"
            audit.record(session, actor, "auth.locked", "user", user.id, failures=user.failed_logins)
        audit.record(session, actor, "auth.login_failed", "user", user.id, reason=reason)
        return LoginResult(None, "locked" if user.locked_until and user.locked_until > now else "invalid")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    from dragonnet.policy.mfa import totp_enabled

    if totp_enabled(session, user.id):
        audit.record(session, actor, "auth.password_ok", "user", user.id, second_factor="totp")
        return LoginResult(user, needs_totp=True)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, actor, "auth.login", "user", user.id)
    return LoginResult(user)


def complete_totp_login(session: Session, user: User, code: str, client_address: str | None = None) -> LoginResult:
    """The second step: a code for a user whose password was just accepted. Failures count toward lock-out."""
    from dragonnet.policy.mfa import check_code

    now = utcnow()
    actor = audit.AuditActor(user.id, user.username, user.agency.code, client_address)
    if not user.is_active:
        audit.record(session, actor, "auth.login_failed", "user", user.id, reason="disabled", step="totp")
        return LoginResult(None, "disabled")
    if user.locked_until is not None and user.locked_until > now:
        audit.record(session, actor, "auth.login_failed", "user", user.id, reason="locked", step="totp")
        return LoginResult(None, "locked")
    if not check_code(session, user, code, now):
        user.failed_logins += 1
        reason = "bad or reused code"
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            reason += "; account locked"
            audit.record(session, actor, "auth.locked", "user", user.id, failures=user.failed_logins)
        audit.record(session, actor, "auth.login_failed", "user", user.id, reason=reason, step="totp")
        return LoginResult(None, "locked" if user.locked_until and user.locked_until > now else "invalid")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, actor, "auth.login", "user", user.id, second_factor="totp")
    return LoginResult(user)


def end_all_access(session: Session, user_id: int) -> int:
    """Close every session, pending login and API token of a user; the number of tokens revoked."""
    from dragonnet.policy.mfa import close_challenges
    from dragonnet.policy.tokens import revoke_all

    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    close_challenges(session, user_id)
    return revoke_all(session, user_id)


def set_active(session: Session, user: User, active: bool, by: audit.AuditActor = audit.SYSTEM) -> User:
    """Disable (every session and token dies at once) or enable a user."""
    user.is_active = active
    if not active:
        end_all_access(session, user.id)
    else:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(session, by, "user.enable" if active else "user.disable", "user", user.id, username=user.username)
    return user


def set_language(session: Session, user: User, language: str | None, by: audit.AuditActor = audit.SYSTEM) -> User:
    """The language the user reads the pages in (None or "": the browser's choice)."""
    wanted = normalise(language) if language else None
    if language and wanted is None:
        raise ValidationError(f"unknown language {language!r}: use one of {', '.join(LOCALES)}")
    if user.language != wanted:
        before = user.language
        user.language = wanted
        audit.record(session, by, "user.language", "user", user.id, before=before, after=wanted)
    return user


def set_roles(session: Session, user: User, roles: list[str], by: audit.AuditActor = audit.SYSTEM) -> User:
    unknown = [r for r in roles if r not in Role.values()]
    if unknown or not roles:
        raise ValidationError(_roles_error(unknown))
    before = sorted(user.role_names)
    wanted = list(dict.fromkeys(roles))
    user.roles = [r for r in user.roles if r.role in wanted]
    have = user.role_names
    user.roles.extend(UserRole(role=r) for r in wanted if r not in have)
    session.flush()
    # Fewer or other roles: sessions opened with the old ones end (tokens follow the user's roles live).
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(session, by, "user.roles", "user", user.id, username=user.username, before=before, after=wanted)
    return user


def session_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, hours: int, client_address: str | None = None) -> tuple[str, WebSession]:
    """A fresh random session token (returned once; only its hash is stored) and a CSRF token."""
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=session_token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + dt.timedelta(hours=hours),
        client_address=client_address,
    )
    session.add(web_session)
    session.flush()
    return token, web_session


def resolve_session(session: Session, token: str) -> tuple[User, WebSession] | None:
    web_session = session.execute(
        select(WebSession).where(WebSession.token_hash == session_token_hash(token))
    ).scalar_one_or_none()
    if web_session is None or web_session.expires_at <= utcnow():
        return None
    user = session.get(User, web_session.user_id)
    if user is None or not user.is_active:
        return None
    return user, web_session


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == session_token_hash(token)))
