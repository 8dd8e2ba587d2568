"""Administration as domain services: agencies, contact points, users, each checked against the actor.

Site administrators (`administrator`) act on everything. A national coordinator is the agency
administrator of its own agency: it sees and manages that agency's users whose roles are all in
access.AGENCY_GRANTABLE (reporter, national coordinator), grants only those roles, manages its agency's
contact points, and never acts on itself through these services (no self-escalation, no self-lock-out).
Users, agencies and contact points outside the actor's scope answer 404 (Hidden); visible ones it may
not change answer 403 (PermissionDenied). Everything is audited.
"""

from __future__ import annotations

import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import AgencyKind, ContactPointKind
from dragonnet.errors import Conflict, ValidationError
from dragonnet.policy import audit, mfa, users
from dragonnet.policy.access import (
    Actor,
    Hidden,
    audit_actor,
    check_agency_scope,
    check_grant,
    check_user_change,
    get_administrable_user,
    is_site_admin,
    require_admin_area,
    require_site_admin,
)
from dragonnet.reference import countries
from dragonnet.storage.models import Agency, ContactPoint, User

CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _code(value: str, what: str) -> str:
    code = value.strip().upper()
    if not code or len(code) > 32 or not set(code) <= CODE_CHARS:
        raise ValidationError(f"invalid {what} code {value!r}: use 1-32 letters, digits, '-' and '_'")
    return code


# --- agencies -----------------------------------------------------------------------------------------------


def list_agencies(session: Session, actor: Actor) -> list[Agency]:
    require_admin_area(actor, "agencies")
    query = select(Agency).order_by(Agency.code)
    if not is_site_admin(actor):
        query = query.where(Agency.id == actor.agency_id)
    return list(session.execute(query).scalars())


def get_agency(session: Session, actor: Actor, agency_id: int) -> Agency:
    require_admin_area(actor, "agencies")
    check_agency_scope(actor, agency_id)
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise Hidden(actor, "agency", agency_id)
    return agency


def create_agency(session: Session, actor: Actor, *, code: str, name: str, kind: str, country: str | None) -> Agency:
    require_site_admin(actor, "agencies.create")
    code = _code(code, "agency")
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an agency needs a name of 1 to 200 characters")
    if kind not in AgencyKind.values():
        raise ValidationError(f"unknown agency kind {kind!r}; use {', '.join(AgencyKind.values())}")
    if session.execute(select(Agency.id).where(Agency.code == code)).first():
        raise Conflict(f"agency {code} exists already")
    alpha2 = countries.resolve(country).alpha2 if country else None
    agency = Agency(code=code, name=name, kind=kind, country=alpha2, is_active=True)
    session.add(agency)
    session.flush()
    audit.record(session, audit_actor(actor), "agency.create", "agency", agency.id, code=code, kind=kind,
                 country=alpha2)  # fmt: skip
    return agency


def deactivate_agency(session: Session, actor: Actor, agency_id: int) -> Agency:
    """An agency leaves: it can no longer be named in shares, and its users are disabled (access ends)."""
    require_site_admin(actor, "agencies.deactivate")
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise Hidden(actor, "agency", agency_id)
    if agency.id == actor.agency_id:
        raise ValidationError("you cannot deactivate your own agency")
    agency.is_active = False
    by = audit_actor(actor)
    for user in session.execute(select(User).where(User.agency_id == agency.id, User.is_active)).scalars():
        users.set_active(session, user, False, by)
    audit.record(session, by, "agency.deactivate", "agency", agency.id, code=agency.code)
    return agency


# --- contact points -----------------------------------------------------------------------------------------


def list_contact_points(session: Session, actor: Actor, agency_id: int) -> list[ContactPoint]:
    agency = get_agency(session, actor, agency_id)
    query = select(ContactPoint).where(ContactPoint.agency_id == agency.id).order_by(ContactPoint.code)
    return list(session.execute(query).scalars())


def create_contact_point(
    session: Session, actor: Actor, agency_id: int, *, code: str, name: str, kind: str, locode: str | None
) -> ContactPoint:
    agency = get_agency(session, actor, agency_id)
    code = _code(code, "contact point")
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("a contact point needs a name of 1 to 200 characters")
    if kind not in ContactPointKind.values():
        raise ValidationError(f"unknown contact point kind {kind!r}; use {', '.join(ContactPointKind.values())}")
    locode = (locode or "").strip().upper() or None
    if locode is not None and (len(locode) != 5 or not locode.isalnum()):
        raise ValidationError(f"invalid UN/LOCODE {locode!r}: five letters or digits, e.g. THBKK")
    if session.execute(select(ContactPoint.id).where(ContactPoint.agency_id == agency.id,
                                                     ContactPoint.code == code)).first():  # fmt: skip
        raise Conflict(f"contact point {code} of {agency.code} exists already")
    cp = ContactPoint(agency_id=agency.id, code=code, name=name, kind=kind, locode=locode)
    session.add(cp)
    session.flush()
    audit.record(session, audit_actor(actor), "contact_point.create", "contact_point", cp.id, agency=agency.code,
                 code=code)  # fmt: skip
    return cp


# --- users --------------------------------------------------------------------------------------------------


def list_users(session: Session, actor: Actor) -> list[User]:
    require_admin_area(actor, "users")
    from dragonnet.policy.access import administrable_users

    return list(session.execute(administrable_users(actor)).scalars())


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    require_admin_area(actor, "users")
    return get_administrable_user(session, actor, user_id)


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    roles: list[str],
    agency_code: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    """Site admins create users of any agency; agency admins of their own (other agencies answer 404)."""
    require_admin_area(actor, "users.create")
    code = agency_code or actor.agency_code or ""
    if not is_site_admin(actor) and code != actor.agency_code:
        raise Hidden(actor, "agency", code)
    check_grant(actor, roles)
    return users.create_user(
        session, username=username, password=password, agency_code=code, roles=roles,
        display_name=display_name, email=email, by=audit_actor(actor),
    )  # fmt: skip


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    user = get_user(session, actor, user_id)
    check_user_change(actor, user, "disable" if not active else "enable")
    return users.set_active(session, user, active, audit_actor(actor))


def reset_user_password(session: Session, actor: Actor, user_id: int, password: str) -> User:
    user = get_user(session, actor, user_id)
    check_user_change(actor, user, "password_reset")
    return users.reset_password(session, user.username, password, by=audit_actor(actor))


def reset_user_totp(session: Session, actor: Actor, user_id: int) -> User:
    user = get_user(session, actor, user_id)
    check_user_change(actor, user, "totp_reset")
    mfa.reset_totp(session, actor, user)
    return user


def set_user_roles(session: Session, actor: Actor, user_id: int, roles: list[str]) -> User:
    user = get_user(session, actor, user_id)
    check_user_change(actor, user, "roles", new_roles=roles)
    return users.set_roles(session, user, roles, audit_actor(actor))


def update_user_profile(
    session: Session, actor: Actor, user_id: int, *, display_name: str | None, email: str | None
) -> User:
    user = get_user(session, actor, user_id)
    check_user_change(actor, user, "profile")
    if display_name is not None:
        if not display_name.strip() or len(display_name) > 200:
            raise ValidationError("a display name has 1 to 200 characters")
        user.display_name = display_name.strip()
    if email is not None:
        if len(email) > 254 or (email and "@" not in email):
            raise ValidationError(f"invalid e-mail address {email!r}")
        user.email = email or None
    fields = [f for f, v in (("display_name", display_name), ("email", email)) if v is not None]
    audit.record(session, audit_actor(actor), "user.update", "user", user.id, username=user.username, fields=fields)
    return user


def export_audit_csv(session: Session, actor: Actor, flt: audit.AuditFilter) -> str:
    """The audit entries matching `flt` as CSV text (site administrators only; the export is itself audited).

    Cells that a spreadsheet would read as formulas get a leading apostrophe (see `audit.export_csv`).
    """
    require_site_admin(actor, "audit.export")
    out = io.StringIO()
    rows = audit.export_csv(session, flt, out)
    audit.record(session, audit_actor(actor), "audit.export", None, None, rows=rows)
    return out.getvalue()
