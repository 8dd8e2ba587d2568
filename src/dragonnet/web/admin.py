"""Pages of administration (/admin...) and of the user's own security settings (/account/...).

Thin: every rule is in dragonnet.policy (admin, tokens, mfa, audit, access). Forms are pydantic models
that forbid unknown fields (a form carrying `agency_id`, `role`, `is_admin` or `version` answers 422) and
carry the session's CSRF token. Pages the actor may not use answer 404 (audited by the policy).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import HTMLResponse

from dragonnet.domain.vocabulary import AgencyKind, ContactPointKind, Role
from dragonnet.http.deps import Authenticated, CsrfRejected, DbSession, PageAuth
from dragonnet.http.responses import AUDIT_CSV, csv_download
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.policy import admin, mfa, tokens
from dragonnet.policy import audit as audit_log
from dragonnet.policy.access import is_site_admin, may_enter_admin, require_admin_area, require_site_admin
from dragonnet.storage.models import User
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)

DONE = {
    "agency": N_("Agency created."),
    "deactivated": N_("Agency deactivated; its users are disabled."),
    "contact_point": N_("Contact point created."),
    "user": N_("User created."),
    "disabled": N_("User disabled: their sessions and API tokens no longer work."),
    "enabled": N_("User enabled."),
    "password": N_("Password set; the user's sessions and API tokens are closed."),
    "totp_reset": N_("Second factor removed."),
    "roles": N_("Roles changed."),
    "revoked": N_("Token revoked."),
    "totp": N_("Second factor enabled: you will be asked for a code at each login."),
}


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=1000)
    csrf_token: str = ""


class AgencyForm(FormIn):
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    kind: str
    country: str = ""


class ContactPointForm(FormIn):
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    kind: str
    locode: str = ""


class UserForm(FormIn):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    roles: list[str] = Field(default_factory=list, max_length=5)
    agency_code: str = ""
    display_name: str = ""
    email: str = ""


class RolesForm(FormIn):
    roles: list[str] = Field(default_factory=list, max_length=5)


class PasswordForm(FormIn):
    password: str = Field(max_length=256)


class TokenForm(FormIn):
    name: str = Field(max_length=100)
    scope: str = "read"
    days: int = Field(default=tokens.DEFAULT_DAYS, ge=1, le=tokens.MAX_DAYS)


class CodeForm(FormIn):
    code: str = Field(max_length=16)


def _check(auth: Authenticated, form: FormIn) -> None:
    if not tokens_match(auth.csrf_token, form.csrf_token):
        raise CsrfRejected()


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _page(request: Request, auth: Authenticated, name: str, title: str, ctx: dict[str, Any], *,
          active: str = "admin", status_code: int = 200) -> HTMLResponse:  # fmt: skip
    done = request.query_params.get("done", "")
    base = {"title": title, "done": DONE.get(done), "site_admin": is_site_admin(auth.actor)}
    return render(request, name, {**base, **ctx}, auth=auth, active=active, status_code=status_code)


# --- /admin ---------------------------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, auth: PageAuth) -> Response:
    require_admin_area(auth.actor)
    return _page(request, auth, "admin_index.html", N_("Administration"), {})


@router.get("/admin/agencies", response_class=HTMLResponse)
def agencies(request: Request, db: DbSession, auth: PageAuth) -> Response:
    rows = admin.list_agencies(db, auth.actor)
    return _page(request, auth, "admin_agencies.html", N_("Agencies"), {"agencies": rows, "kinds": AgencyKind.values()})


@router.post("/admin/agencies")
def create_agency(db: DbSession, auth: PageAuth, form: Annotated[AgencyForm, Form()]) -> Response:
    _check(auth, form)
    admin.create_agency(db, auth.actor, code=form.code, name=form.name, kind=form.kind, country=form.country or None)
    return _back("/admin/agencies", "agency")


@router.post("/admin/agencies/{agency_id}/deactivate")
def deactivate_agency(agency_id: int, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    _check(auth, form)
    admin.deactivate_agency(db, auth.actor, agency_id)
    return _back("/admin/agencies", "deactivated")


@router.get("/admin/agencies/{agency_id}", response_class=HTMLResponse)
def agency(request: Request, agency_id: int, db: DbSession, auth: PageAuth) -> Response:
    found = admin.get_agency(db, auth.actor, agency_id)
    cps = admin.list_contact_points(db, auth.actor, agency_id)
    ctx = {"agency": found, "contact_points": cps, "kinds": ContactPointKind.values()}
    return _page(request, auth, "admin_agency.html", found.name, ctx)


@router.post("/admin/agencies/{agency_id}/contact-points")
def create_contact_point(
    agency_id: int, db: DbSession, auth: PageAuth, form: Annotated[ContactPointForm, Form()]
) -> Response:
    _check(auth, form)
    admin.create_contact_point(db, auth.actor, agency_id, code=form.code, name=form.name, kind=form.kind,
                               locode=form.locode or None)  # fmt: skip
    return _back(f"/admin/agencies/{agency_id}", "contact_point")


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, db: DbSession, auth: PageAuth) -> Response:
    rows = admin.list_users(db, auth.actor)
    agencies = admin.list_agencies(db, auth.actor)
    grantable = Role.values() if is_site_admin(auth.actor) else ["reporter", "national_coordinator"]
    ctx = {"users": rows, "agencies": agencies, "grantable": grantable}
    return _page(request, auth, "admin_users.html", N_("Users"), ctx)


@router.post("/admin/users")
def create_user(db: DbSession, auth: PageAuth, form: Annotated[UserForm, Form()]) -> Response:
    _check(auth, form)
    user = admin.create_user(
        db, auth.actor, username=form.username, password=form.password, roles=form.roles,
        agency_code=form.agency_code or None, display_name=form.display_name or None, email=form.email or None,
    )  # fmt: skip
    return _back(f"/admin/users/{user.id}", "user")


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user(request: Request, user_id: int, db: DbSession, auth: PageAuth) -> Response:
    found = admin.get_user(db, auth.actor, user_id)
    grantable = Role.values() if is_site_admin(auth.actor) else ["reporter", "national_coordinator"]
    now = dt.datetime.now(dt.UTC)
    ctx = {
        "user": found,
        "roles": sorted(found.role_names),
        "grantable": grantable,
        "locked": found.locked_until is not None and found.locked_until > now,
        "totp": mfa.totp_enabled(db, found.id),
        "is_me": found.id == auth.user.id,
    }
    return _page(request, auth, "admin_user.html", found.username, ctx)


def _user_action(user_id: int, db: DbSession, auth: PageAuth, form: FormIn, action: str) -> Response:
    _check(auth, form)
    if action == "disable":
        admin.set_user_active(db, auth.actor, user_id, False)
        done = "disabled"
    elif action == "enable":
        admin.set_user_active(db, auth.actor, user_id, True)
        done = "enabled"
    else:
        admin.reset_user_totp(db, auth.actor, user_id)
        done = "totp_reset"
    return _back(f"/admin/users/{user_id}", done)


@router.post("/admin/users/{user_id}/disable")
def disable_user(user_id: int, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    return _user_action(user_id, db, auth, form, "disable")


@router.post("/admin/users/{user_id}/enable")
def enable_user(user_id: int, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    return _user_action(user_id, db, auth, form, "enable")


@router.post("/admin/users/{user_id}/totp-reset")
def reset_totp(user_id: int, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    return _user_action(user_id, db, auth, form, "totp_reset")


@router.post("/admin/users/{user_id}/password")
def reset_password(user_id: int, db: DbSession, auth: PageAuth, form: Annotated[PasswordForm, Form()]) -> Response:
    _check(auth, form)
    admin.reset_user_password(db, auth.actor, user_id, form.password)
    return _back(f"/admin/users/{user_id}", "password")


@router.post("/admin/users/{user_id}/roles")
def set_roles(user_id: int, db: DbSession, auth: PageAuth, form: Annotated[RolesForm, Form()]) -> Response:
    _check(auth, form)
    admin.set_user_roles(db, auth.actor, user_id, form.roles)
    return _back(f"/admin/users/{user_id}", "roles")


@router.get("/admin/tokens", response_class=HTMLResponse)
def all_tokens(request: Request, db: DbSession, auth: PageAuth) -> Response:
    require_site_admin(auth.actor, "tokens")
    rows = tokens.all_tokens(db, auth.actor)
    return _page(request, auth, "admin_tokens.html", N_("API tokens"), {"tokens": rows, "now": dt.datetime.now(dt.UTC)})


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_any_token(token_id: int, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    _check(auth, form)
    tokens.revoke_token(db, auth.actor, token_id)
    return _back("/admin/tokens", "revoked")


AuditQuery = Annotated[str, Query(max_length=64)]


def _audit_filter(action: str, user: str, agency: str, since: str, until: str) -> audit_log.AuditFilter:
    def day(value: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            return None

    return audit_log.AuditFilter(action=action or None, username=user or None, agency=agency or None,
                                 since=day(since), until=day(until))  # fmt: skip


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    db: DbSession,
    auth: PageAuth,
    action: AuditQuery = "",
    user: AuditQuery = "",
    agency: AuditQuery = "",
    since: AuditQuery = "",
    until: AuditQuery = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    require_site_admin(auth.actor, "audit")
    flt = _audit_filter(action, user, agency, since, until)
    result = audit_log.browse(db, flt, page=page, per_page=50)
    query = {"action": action, "user": user, "agency": agency, "since": since, "until": until}
    ctx = {"result": result, "q": query}
    return _page(request, auth, "admin_audit.html", N_("Audit log"), ctx)


@router.get("/admin/audit/export.csv")
def audit_csv(
    db: DbSession,
    auth: PageAuth,
    action: AuditQuery = "",
    user: AuditQuery = "",
    agency: AuditQuery = "",
    since: AuditQuery = "",
    until: AuditQuery = "",
) -> Response:
    return csv_download(
        admin.export_audit_csv(db, auth.actor, _audit_filter(action, user, agency, since, until)), AUDIT_CSV
    )


# --- /account: my tokens, my second factor, my access history ---------------------------------------------


def _my_tokens_page(request: Request, db: DbSession, auth: PageAuth, new_token: str | None = None) -> HTMLResponse:
    rows = tokens.tokens_of(db, auth.user.id)
    ctx = {"tokens": rows, "new_token": new_token, "now": dt.datetime.now(dt.UTC), "max_days": tokens.MAX_DAYS}
    return _page(request, auth, "admin_my_tokens.html", N_("My API tokens"), ctx, active="account")


@router.get("/account/tokens", response_class=HTMLResponse)
def my_tokens(request: Request, db: DbSession, auth: PageAuth) -> Response:
    return _my_tokens_page(request, db, auth)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_my_token(request: Request, db: DbSession, auth: PageAuth, form: Annotated[TokenForm, Form()]) -> Response:
    _check(auth, form)
    raw, _ = tokens.create_token(db, auth.actor, auth.user, name=form.name, scope=form.scope, days=form.days)
    return _my_tokens_page(request, db, auth, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_my_token(token_id: int, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    _check(auth, form)
    tokens.revoke_token(db, auth.actor, token_id)
    return _back("/account/tokens", "revoked")


def _security_page(
    request: Request, db: DbSession, auth: PageAuth, enrol: tuple[str, str] | None = None
) -> HTMLResponse:
    ctx = {
        "totp": mfa.totp_enabled(db, auth.user.id),
        "may_enrol": mfa.may_enrol(auth.user),
        "enrol": enrol,
    }
    return _page(request, auth, "admin_my_security.html", N_("Second factor"), ctx, active="account")


@router.get("/account/security", response_class=HTMLResponse)
def my_security(request: Request, db: DbSession, auth: PageAuth) -> Response:
    return _security_page(request, db, auth)


@router.post("/account/totp/start", response_class=HTMLResponse)
def start_totp(request: Request, db: DbSession, auth: PageAuth, form: Annotated[FormIn, Form()]) -> Response:
    _check(auth, form)
    user = db.get(User, auth.user.id)
    assert user is not None
    return _security_page(request, db, auth, enrol=mfa.start_enrolment(db, user))


@router.post("/account/totp/confirm")
def confirm_totp(db: DbSession, auth: PageAuth, form: Annotated[CodeForm, Form()]) -> Response:
    _check(auth, form)
    mfa.confirm_enrolment(db, auth.user, form.code)
    return _back("/account/security", "totp")


@router.get("/account/history", response_class=HTMLResponse)
def my_history(
    request: Request, db: DbSession, auth: PageAuth, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    result = audit_log.browse(db, audit_log.AuditFilter(user_id=auth.user.id), page=page, per_page=50)
    ctx = {"result": result, "may_admin": may_enter_admin(auth.actor)}
    return _page(request, auth, "admin_my_history.html", N_("My access history"), ctx, active="account")
