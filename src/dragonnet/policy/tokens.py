"""Personal API tokens: random, shown once, stored as a sha256, scoped read|write, expiring, revocable.

A token is `dn_` followed by 43 random URL-safe characters; its first TOKEN_PREFIX_LEN characters are kept
in clear so a user can tell their tokens apart. A token dies when it expires, is revoked, or its user is
disabled (checked on every request, and disabling also revokes it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, or_, select, update
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor, is_site_admin
from dragonnet.storage.models import Agency, ApiToken, User, UserRole, utcnow

TOKEN_MARK = "dn_"  # noqa: S105 - a marker, not a secret
TOKEN_PREFIX_LEN = 10
SCOPES = ("read", "write")
DEFAULT_DAYS = 90
MAX_DAYS = 365
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    session: Session, actor: Actor, user: User, *, name: str, scope: str, days: int = DEFAULT_DAYS
) -> tuple[str, ApiToken]:
    """A new token for `user` (the caller checks `actor` may); the raw value is returned once, never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("a token needs a name of 1 to 100 characters")
    if scope not in SCOPES:
        raise ValidationError(f"unknown scope {scope!r}; use read or write")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"a token lives 1 to {MAX_DAYS} days")
    raw = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, prefix=raw[:TOKEN_PREFIX_LEN], token_hash=token_hash(raw), scope=scope,
        expires_at=utcnow() + dt.timedelta(days=days),
    )  # fmt: skip
    session.add(token)
    session.flush()
    audit.record(session, audit_actor(actor), "token.create", "api_token", token.id,
                 user=user.username, prefix=token.prefix, scope=scope, days=days)  # fmt: skip
    return raw, token


@dataclass(frozen=True)
class TokenGrant:
    """A valid token as plain values: its scope and who holds it (what every API request needs to decide)."""

    token_id: int
    scope: str
    user_id: int
    display_name: str
    actor: Actor


# Every API request passes here, so the token, its user, the user's agency and roles are one Core select (a row
# per role) rather than ORM objects. The checks run on every request (nothing is cached: a revoked token, an
# expired one or one whose user was disabled is refused at once).
_GRANT = (
    select(ApiToken.id, ApiToken.scope, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at,
           User.id.label("user_id"), User.username, User.display_name, User.is_active, User.agency_id,
           Agency.code.label("agency_code"), Agency.country, UserRole.role)
    .join(User, User.id == ApiToken.user_id)
    .join(Agency, Agency.id == User.agency_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)  # fmt: skip


def resolve_token_grant(session: Session, raw: str, client_address: str | None = None) -> TokenGrant | None:
    """The token's grant if the token is valid now; None otherwise. Updates `last_used_at` (once a minute)."""
    if not raw.startswith(TOKEN_MARK) or len(raw) > 200:
        return None
    rows = session.connection().execute(_GRANT, {"token_hash": token_hash(raw)}).all()
    now = utcnow()
    if not rows:
        return None
    row = rows[0]
    if row.revoked_at is not None or row.expires_at <= now or not row.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        _touch(session, row.id, now)
    roles = frozenset(r.role for r in rows if r.role is not None)
    actor = Actor(row.user_id, row.username, row.agency_id, row.agency_code, row.country, roles, client_address)
    return TokenGrant(row.id, row.scope, row.user_id, row.display_name, actor)


def _touch(session: Session, token_id: int, now: dt.datetime) -> None:
    """Record the use. On PostgreSQL in its own short transaction: concurrent requests with the same token must
    not queue on the token's row lock for the length of a whole request (seen under load). On SQLite (one writer
    at a time anyway) inside the request's transaction."""
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_GRANULARITY)
    statement = update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now)
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or not isinstance(bind, Engine):
        session.execute(statement, execution_options={"synchronize_session": False})
        return
    with bind.connect() as conn:
        conn.execute(statement)
        conn.commit()


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.execute(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())).scalars()
    )


def all_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """Every token (site administrators only; others get their own)."""
    if not is_site_admin(actor):
        return tokens_of(session, actor.user_id or 0)
    return list(session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars())


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token: one's own, or anyone's for a site administrator. Others' ids answer 404."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not is_site_admin(actor)):
        raise Hidden(actor, "api_token", token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, audit_actor(actor), "token.revoke", "api_token", token.id,
                     user_id=token.user_id, prefix=token.prefix)  # fmt: skip
    return token


def revoke_all(session: Session, user_id: int) -> int:
    """Revoke every live token of a user (when the user is disabled or their password is reset)."""
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
