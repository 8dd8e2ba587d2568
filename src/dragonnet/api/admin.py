"""`/api/v1` routes of administration, personal tokens, access history and case sharing.

Thin: every rule is in dragonnet.policy (admin, tokens, sharing, access). Request bodies forbid unknown
fields (a body with `agency_id`, `role`, `is_admin` or `version` where they are not fields answers 422).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.http.deps import ApiActor, ApiAuth, DbSession
from dragonnet.policy import admin, mfa, sharing, tokens
from dragonnet.policy import audit as audit_log
from dragonnet.policy.access import Actor, require_site_admin
from dragonnet.storage.models import Agency, ApiToken, AuditEvent, ContactPoint, User

router = APIRouter(prefix=PREFIX)

DENIED: dict[int | str, dict[str, Any]] = {**UNAUTHENTICATED, **NOT_FOUND}


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=1000)


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- models -------------------------------------------------------------------------------------------------


class AgencyAdminOut(Out):
    id: int
    code: str
    name: str
    kind: str
    country: str | None
    is_active: bool

    @classmethod
    def build(cls, a: Agency) -> AgencyAdminOut:
        return cls(id=a.id, code=a.code, name=a.name, kind=a.kind, country=a.country, is_active=a.is_active)


class AgencyCreate(In):
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    kind: str
    country: str | None = Field(default=None, description="ISO code or name; null for international bodies")


class ContactPointAdminOut(Out):
    id: int
    code: str
    name: str
    kind: str
    locode: str | None

    @classmethod
    def build(cls, cp: ContactPoint) -> ContactPointAdminOut:
        return cls(id=cp.id, code=cp.code, name=cp.name, kind=cp.kind, locode=cp.locode)


class ContactPointCreate(In):
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    kind: str
    locode: str | None = Field(default=None, max_length=5)


class UserAdminOut(Out):
    id: int
    username: str
    display_name: str
    email: str | None
    agency: str
    roles: list[str]
    is_active: bool
    locked: bool
    totp_enabled: bool
    last_login_at: dt.datetime | None

    @classmethod
    def build(cls, session: Session, u: User) -> UserAdminOut:
        now = dt.datetime.now(dt.UTC)
        return cls(
            id=u.id, username=u.username, display_name=u.display_name, email=u.email, agency=u.agency.code,
            roles=sorted(u.role_names), is_active=u.is_active,
            locked=u.locked_until is not None and u.locked_until > now,
            totp_enabled=mfa.totp_enabled(session, u.id), last_login_at=u.last_login_at,
        )  # fmt: skip


class UserCreate(In):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    roles: list[str] = Field(min_length=1, max_length=5)
    agency_code: str | None = Field(default=None, description="site administrators only; default: your agency")
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)


class UserUpdate(In):
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)


class RolesIn(In):
    roles: list[str] = Field(min_length=1, max_length=5)


class PasswordIn(In):
    password: str = Field(max_length=256)


class TokenOut(Out):
    id: int
    name: str
    prefix: str = Field(description="the first characters of the token, to tell tokens apart")
    scope: str
    user: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool

    @classmethod
    def build(cls, t: ApiToken) -> TokenOut:
        return cls(
            id=t.id, name=t.name, prefix=t.prefix, scope=t.scope, user=t.user.username, created_at=t.created_at,
            expires_at=t.expires_at, last_used_at=t.last_used_at, revoked=t.revoked_at is not None,
        )  # fmt: skip


class TokenCreate(In):
    name: str = Field(max_length=100)
    scope: Literal["read", "write"] = "read"
    days: int = Field(default=tokens.DEFAULT_DAYS, ge=1, le=tokens.MAX_DAYS)


class TokenCreated(Out):
    token: str = Field(description="the token itself: shown this once, never again")
    info: TokenOut


class AuditEventOut(Out):
    seq: int
    at: dt.datetime
    user: str | None
    agency: str | None
    client_address: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]

    @classmethod
    def build(cls, e: AuditEvent) -> AuditEventOut:
        return cls(
            seq=e.seq, at=e.at, user=e.actor_username, agency=e.actor_agency, client_address=e.client_address,
            action=e.action, object_type=e.object_type, object_id=e.object_id, detail=e.detail,
        )  # fmt: skip


class AuditPageOut(Out):
    total: int
    page: int
    pages: int
    events: list[AuditEventOut]


class ShareIn(In):
    agencies: list[str] = Field(min_length=1, max_length=sharing.MAX_RECIPIENTS)
    nominal: bool = False


class ShareOut(Out):
    agency_code: str
    agency_name: str
    nominal: bool


# --- agencies and contact points ----------------------------------------------------------------------------


@router.get("/admin/agencies", response_model=list[AgencyAdminOut], responses=DENIED, tags=["admin"])
def agencies(db: DbSession, actor: ApiActor) -> list[AgencyAdminOut]:
    """Agencies (site administrators: all; agency administrators: their own)."""
    return [AgencyAdminOut.build(a) for a in admin.list_agencies(db, actor)]


@router.post("/admin/agencies", response_model=AgencyAdminOut, status_code=201, responses=DENIED, tags=["admin"])
def create_agency(body: AgencyCreate, db: DbSession, actor: ApiActor) -> AgencyAdminOut:
    """Create an agency (site administrators)."""
    agency = admin.create_agency(db, actor, code=body.code, name=body.name, kind=body.kind, country=body.country)
    return AgencyAdminOut.build(agency)


@router.post("/admin/agencies/{agency_id}/deactivate", response_model=AgencyAdminOut, responses=DENIED,
             tags=["admin"])  # fmt: skip
def deactivate_agency(agency_id: int, db: DbSession, actor: ApiActor) -> AgencyAdminOut:
    """Deactivate an agency: its users are disabled and it can no longer be named in shares."""
    return AgencyAdminOut.build(admin.deactivate_agency(db, actor, agency_id))


@router.get("/admin/agencies/{agency_id}/contact-points", response_model=list[ContactPointAdminOut],
            responses=DENIED, tags=["admin"])  # fmt: skip
def contact_points(agency_id: int, db: DbSession, actor: ApiActor) -> list[ContactPointAdminOut]:
    return [ContactPointAdminOut.build(cp) for cp in admin.list_contact_points(db, actor, agency_id)]


@router.post("/admin/agencies/{agency_id}/contact-points", response_model=ContactPointAdminOut, status_code=201,
             responses=DENIED, tags=["admin"])  # fmt: skip
def create_contact_point(
    agency_id: int, body: ContactPointCreate, db: DbSession, actor: ApiActor
) -> ContactPointAdminOut:
    cp = admin.create_contact_point(db, actor, agency_id, code=body.code, name=body.name, kind=body.kind,
                                    locode=body.locode)  # fmt: skip
    return ContactPointAdminOut.build(cp)


# --- users --------------------------------------------------------------------------------------------------


@router.get("/admin/users", response_model=list[UserAdminOut], responses=DENIED, tags=["admin"])
def users(db: DbSession, actor: ApiActor) -> list[UserAdminOut]:
    """Users the caller administers."""
    return [UserAdminOut.build(db, u) for u in admin.list_users(db, actor)]


@router.post("/admin/users", response_model=UserAdminOut, status_code=201, responses=DENIED, tags=["admin"])
def create_user(body: UserCreate, db: DbSession, actor: ApiActor) -> UserAdminOut:
    user = admin.create_user(
        db, actor, username=body.username, password=body.password, roles=body.roles, agency_code=body.agency_code,
        display_name=body.display_name, email=body.email,
    )  # fmt: skip
    return UserAdminOut.build(db, user)


@router.get("/admin/users/{user_id}", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def user(user_id: int, db: DbSession, actor: ApiActor) -> UserAdminOut:
    return UserAdminOut.build(db, admin.get_user(db, actor, user_id))


@router.patch("/admin/users/{user_id}", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def update_user(user_id: int, body: UserUpdate, db: DbSession, actor: ApiActor) -> UserAdminOut:
    u = admin.update_user_profile(db, actor, user_id, display_name=body.display_name, email=body.email)
    return UserAdminOut.build(db, u)


@router.put("/admin/users/{user_id}/roles", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def set_roles(user_id: int, body: RolesIn, db: DbSession, actor: ApiActor) -> UserAdminOut:
    return UserAdminOut.build(db, admin.set_user_roles(db, actor, user_id, body.roles))


@router.post("/admin/users/{user_id}/disable", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def disable_user(user_id: int, db: DbSession, actor: ApiActor) -> UserAdminOut:
    """Disable a user: every session and API token of theirs stops working at once."""
    return UserAdminOut.build(db, admin.set_user_active(db, actor, user_id, False))


@router.post("/admin/users/{user_id}/enable", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def enable_user(user_id: int, db: DbSession, actor: ApiActor) -> UserAdminOut:
    return UserAdminOut.build(db, admin.set_user_active(db, actor, user_id, True))


@router.post("/admin/users/{user_id}/password", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def reset_password(user_id: int, body: PasswordIn, db: DbSession, actor: ApiActor) -> UserAdminOut:
    """Set a new password (ends the user's sessions and revokes their API tokens; the second factor stays)."""
    return UserAdminOut.build(db, admin.reset_user_password(db, actor, user_id, body.password))


@router.post("/admin/users/{user_id}/totp-reset", response_model=UserAdminOut, responses=DENIED, tags=["admin"])
def reset_totp(user_id: int, db: DbSession, actor: ApiActor) -> UserAdminOut:
    return UserAdminOut.build(db, admin.reset_user_totp(db, actor, user_id))


# --- tokens -------------------------------------------------------------------------------------------------


@router.get("/admin/tokens", response_model=list[TokenOut], responses=DENIED, tags=["admin"])
def all_tokens(db: DbSession, actor: ApiActor) -> list[TokenOut]:
    """Every API token (site administrators)."""
    require_site_admin(actor, "tokens")
    return [TokenOut.build(t) for t in tokens.all_tokens(db, actor)]


@router.delete("/admin/tokens/{token_id}", response_model=TokenOut, responses=DENIED, tags=["admin"])
def revoke_any_token(token_id: int, db: DbSession, actor: ApiActor) -> TokenOut:
    return TokenOut.build(tokens.revoke_token(db, actor, token_id))


@router.get("/me/tokens", response_model=list[TokenOut], responses=UNAUTHENTICATED, tags=["account"])
def my_tokens(db: DbSession, auth: ApiAuth) -> list[TokenOut]:
    return [TokenOut.build(t) for t in tokens.tokens_of(db, auth.user.id)]


@router.post("/me/tokens", response_model=TokenCreated, status_code=201, responses=UNAUTHENTICATED,
             tags=["account"])  # fmt: skip
def create_my_token(body: TokenCreate, db: DbSession, auth: ApiAuth) -> TokenCreated:
    """A new API token for yourself; the response holds the token once."""
    raw, token = tokens.create_token(db, auth.actor, auth.user, name=body.name, scope=body.scope, days=body.days)
    return TokenCreated(token=raw, info=TokenOut.build(token))


@router.delete("/me/tokens/{token_id}", response_model=TokenOut, responses=DENIED, tags=["account"])
def revoke_my_token(token_id: int, db: DbSession, actor: ApiActor) -> TokenOut:
    return TokenOut.build(tokens.revoke_token(db, actor, token_id))


# --- audit --------------------------------------------------------------------------------------------------


def _filter(
    action: str | None, user: str | None, agency: str | None, since: dt.date | None, until: dt.date | None
) -> audit_log.AuditFilter:
    return audit_log.AuditFilter(action=action or None, username=user or None, agency=agency or None,
                                 since=since, until=until)  # fmt: skip


@router.get("/me/history", response_model=AuditPageOut, responses=UNAUTHENTICATED, tags=["account"])
def my_history(db: DbSession, actor: ApiActor, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> AuditPageOut:
    """Your own logins, failed attempts on your account and actions, newest first."""
    result = audit_log.browse(db, audit_log.AuditFilter(user_id=actor.user_id), page=page, per_page=50)
    return AuditPageOut(total=result.total, page=result.page, pages=result.pages,
                        events=[AuditEventOut.build(e) for e in result.events])  # fmt: skip


AuditQuery = Annotated[str | None, Query(max_length=64)]


@router.get("/admin/audit", response_model=AuditPageOut, responses=DENIED, tags=["admin"])
def audit_events(
    db: DbSession,
    actor: ApiActor,
    action: AuditQuery = None,
    user: AuditQuery = None,
    agency: AuditQuery = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPageOut:
    """The audit log, newest first (site administrators)."""
    require_site_admin(actor, "audit")
    result = audit_log.browse(db, _filter(action, user, agency, since, until), page=page, per_page=per_page)
    return AuditPageOut(total=result.total, page=result.page, pages=result.pages,
                        events=[AuditEventOut.build(e) for e in result.events])  # fmt: skip


@router.get("/admin/audit/export", responses=DENIED, tags=["admin"], response_class=Response)
def audit_export(
    db: DbSession,
    actor: ApiActor,
    action: AuditQuery = None,
    user: AuditQuery = None,
    agency: AuditQuery = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Response:
    """The matching entries as CSV (cells that would be spreadsheet formulas get a leading ')."""
    return csv_export(db, actor, _filter(action, user, agency, since, until))


def csv_export(db: Session, actor: Actor, flt: audit_log.AuditFilter) -> Response:
    require_site_admin(actor, "audit.export")
    out = io.StringIO()
    rows = audit_log.export_csv(db, flt, out)
    audit_log.record(db, audit_log.AuditActor(actor.user_id, actor.username, actor.agency_code,
                                              actor.client_address), "audit.export", None, None, rows=rows)  # fmt: skip
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="dragonnet-audit.csv"'})  # fmt: skip


# --- sharing ------------------------------------------------------------------------------------------------


def _shares(items: list[sharing.ShareOut]) -> list[ShareOut]:
    return [ShareOut(agency_code=s.agency_code, agency_name=s.agency_name, nominal=s.nominal) for s in items]


@router.get("/cases/{case_id}/shares", response_model=list[ShareOut], responses=DENIED, tags=["sharing"])
def case_shares(case_id: int, db: DbSession, actor: ApiActor) -> list[ShareOut]:
    """The agencies a case of your agency is shared with."""
    return _shares(sharing.list_shares(db, actor, case_id))


@router.post("/cases/{case_id}/shares", response_model=list[ShareOut], responses=DENIED, tags=["sharing"])
def share(case_id: int, body: ShareIn, db: DbSession, actor: ApiActor) -> list[ShareOut]:
    """Name agencies as recipients of a case (national coordinator or the case's reporter)."""
    return _shares(sharing.share_case(db, actor, case_id, body.agencies, body.nominal))


@router.delete("/cases/{case_id}/shares/{agency_code}", response_model=list[ShareOut], responses=DENIED,
               tags=["sharing"])  # fmt: skip
def unshare(case_id: int, agency_code: str, db: DbSession, actor: ApiActor) -> list[ShareOut]:
    return _shares(sharing.unshare_case(db, actor, case_id, [agency_code]))
