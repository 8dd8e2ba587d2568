"""Pages that set up a real operation: the first administrator (/setup), operations with their phases,
participants and scope (/admin/operations), the roster upload (/admin/roster), and the bulk validation form.

Thin: every rule is in the services (policy.admin, operation.manage, operation.roster, intake.workflow);
forms forbid unknown fields and carry the session's CSRF token (the setup form carries the setup token).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import HTMLResponse

from dragonnet.domain.vocabulary import AgencyKind, CommodityClass
from dragonnet.errors import DragonnetError, NotFound
from dragonnet.http.deps import AppSettings, Authenticated, CsrfRejected, DbSession, PageAuth, client_address
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.intake import workflow
from dragonnet.operation import manage, roster
from dragonnet.operation.service import get_operation
from dragonnet.policy import admin
from dragonnet.policy.access import is_site_admin, require_site_admin
from dragonnet.tabular import MAX_BYTES
from dragonnet.web.templating import language_choices, render

router = APIRouter(include_in_schema=False)

DONE = {
    "operation": N_("Operation created."),
    "phase_added": N_("Phase added."),
    "phase_moved": N_("Phase moved."),
    "joined": N_("The agency takes part in the operation."),
    "scope": N_("Commodity scope saved."),
    "language": N_("Default language saved."),
}
PARTICIPATION_ROLES = ["lead", "member", "partner", "observer"]


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=5000)
    csrf_token: str = ""


class OperationForm(FormIn):
    slug: str = Field(max_length=64)
    name: str = Field(max_length=200)
    description: str = ""
    scope: list[str] = Field(default_factory=list, max_length=10)


class PhaseForm(FormIn):
    name: str = Field(max_length=100)
    start_date: dt.date
    end_date: dt.date


class JoinForm(FormIn):
    agency: str = Field(max_length=32)
    role: str = "member"


class ScopeForm(FormIn):
    scope: list[str] = Field(default_factory=list, max_length=10)


class LanguageForm(FormIn):
    language: str = Field(default="", max_length=16)


class SetupForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=1000)
    setup_token: str = Field(max_length=64)
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    agency_code: str = Field(max_length=32)
    agency_name: str = Field(max_length=200)
    agency_kind: str = "other"
    agency_country: str = ""


def _check(auth: Authenticated, token: str | None) -> None:
    if not tokens_match(auth.csrf_token, token):
        raise CsrfRejected()


def _page(request: Request, auth: Authenticated, name: str, title: str, ctx: dict[str, Any], *,
          status_code: int = 200) -> HTMLResponse:  # fmt: skip
    done = DONE.get(request.query_params.get("done", ""))
    base = {"title": title, "done": done, "site_admin": is_site_admin(auth.actor)}
    return render(request, name, {**base, **ctx}, auth=auth, active="admin", status_code=status_code)


# --- the first administrator -------------------------------------------------------------------------------------


def _setup_page(request: Request, token: str, error: str | None = None, status_code: int = 200,
                form: SetupForm | None = None) -> HTMLResponse:  # fmt: skip
    ctx = {"title": N_("Set up dragonnet"), "token": token, "error": error, "kinds": AgencyKind.values(), "form": form}
    return render(request, "setup.html", ctx, status_code=status_code)


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, db: DbSession, settings: AppSettings, token: str = "") -> Response:
    if not tokens_match(admin.setup_token(settings.secret_key), token) or admin.administrator_exists(db):
        raise NotFound("There is nothing at this address.")
    return _setup_page(request, token)


@router.post("/setup", response_class=HTMLResponse)
def setup_submit(
    request: Request, db: DbSession, settings: AppSettings, form: Annotated[SetupForm, Form()]
) -> Response:
    spec = admin.FirstAdministrator(
        username=form.username, password=form.password, agency_code=form.agency_code, agency_name=form.agency_name,
        agency_kind=form.agency_kind, agency_country=form.agency_country or None,
    )  # fmt: skip
    try:
        admin.first_administrator(db, spec, console=False, setup_token_given=form.setup_token,
                                  secret_key=settings.secret_key, client_address=client_address(request))  # fmt: skip
    except NotFound:
        raise
    except DragonnetError as exc:
        db.rollback()
        return _setup_page(request, form.setup_token, exc.message, 422, form)
    return RedirectResponse("/login?next=/admin/operations", status_code=303)


# --- operations --------------------------------------------------------------------------------------------------


@router.get("/admin/operations", response_class=HTMLResponse)
def operations_page(request: Request, db: DbSession, auth: PageAuth) -> Response:
    require_site_admin(auth.actor, "operations")
    ctx = {"operations": manage.operations(db, auth.actor), "classes": CommodityClass.values()}
    return _page(request, auth, "admin_operations.html", N_("Operations"), ctx)


@router.post("/admin/operations")
def create_operation(db: DbSession, auth: PageAuth, form: Annotated[OperationForm, Form()]) -> Response:
    _check(auth, form.csrf_token)
    op = manage.create_operation(db, auth.actor, slug=form.slug, name=form.name, description=form.description,
                                 scope=form.scope)  # fmt: skip
    return RedirectResponse(f"/admin/operations/{op.slug}?done=operation", status_code=303)


def _operation_page(request: Request, db: DbSession, auth: Authenticated, slug: str, error: str | None = None,
                    status_code: int = 200) -> HTMLResponse:  # fmt: skip
    require_site_admin(auth.actor, "operations")
    detail = manage.show(db, auth.actor, slug)
    ctx = {
        "d": detail,
        "classes": CommodityClass.values(),
        "roles": PARTICIPATION_ROLES,
        "error": error,
        "agencies": admin.list_agencies(db, auth.actor),
        "totals": {t.number: t.cases for t in detail.totals},
        "languages": language_choices(),
    }
    return _page(request, auth, "admin_operation.html", detail.operation.name, ctx, status_code=status_code)


@router.get("/admin/operations/{slug}", response_class=HTMLResponse)
def operation_page(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    return _operation_page(request, db, auth, slug)


def _refused(request: Request, db: DbSession, auth: Authenticated, slug: str, exc: DragonnetError) -> HTMLResponse:
    """A rule said no (overlap, orphaned cases, unknown agency): the page again, with the error, nothing saved."""
    if isinstance(exc, NotFound):
        raise exc
    db.rollback()
    return _operation_page(request, db, auth, slug, exc.message, 422)


@router.post("/admin/operations/{slug}/phases", response_class=HTMLResponse)
def set_phase(request: Request, slug: str, db: DbSession, auth: PageAuth,
              form: Annotated[PhaseForm, Form()]) -> Response:  # fmt: skip
    _check(auth, form.csrf_token)
    try:
        _phase, created = manage.set_phase(db, auth.actor, slug, name=form.name, start=form.start_date,
                                           end=form.end_date)  # fmt: skip
    except DragonnetError as exc:
        return _refused(request, db, auth, slug, exc)
    return RedirectResponse(f"/admin/operations/{slug}?done={'phase_added' if created else 'phase_moved'}", 303)


@router.post("/admin/operations/{slug}/participants", response_class=HTMLResponse)
def join(request: Request, slug: str, db: DbSession, auth: PageAuth, form: Annotated[JoinForm, Form()]) -> Response:
    _check(auth, form.csrf_token)
    try:
        manage.join(db, auth.actor, slug, form.agency, form.role)
    except DragonnetError as exc:
        return _refused(request, db, auth, slug, exc)
    return RedirectResponse(f"/admin/operations/{slug}?done=joined", status_code=303)


@router.post("/admin/operations/{slug}/scope", response_class=HTMLResponse)
def set_scope(
    request: Request, slug: str, db: DbSession, auth: PageAuth, form: Annotated[ScopeForm, Form()]
) -> Response:
    _check(auth, form.csrf_token)
    try:
        manage.set_scope(db, auth.actor, slug, form.scope)
    except DragonnetError as exc:
        return _refused(request, db, auth, slug, exc)
    return RedirectResponse(f"/admin/operations/{slug}?done=scope", status_code=303)


@router.post("/admin/operations/{slug}/language", response_class=HTMLResponse)
def set_default_language(
    request: Request, slug: str, db: DbSession, auth: PageAuth, form: Annotated[LanguageForm, Form()]
) -> Response:
    _check(auth, form.csrf_token)
    try:
        manage.set_default_language(db, auth.actor, slug, form.language)
    except DragonnetError as exc:
        return _refused(request, db, auth, slug, exc)
    return RedirectResponse(f"/admin/operations/{slug}?done=language", status_code=303)


# --- the roster --------------------------------------------------------------------------------------------------


@router.get("/admin/roster", response_class=HTMLResponse)
def roster_page(request: Request, db: DbSession, auth: PageAuth) -> Response:
    require_site_admin(auth.actor, "roster")
    ctx = {"operations": manage.operations(db, auth.actor), "report": None, "error": None,
           "columns": roster.COLUMNS, "max_mb": MAX_BYTES // 2**20}  # fmt: skip
    return _page(request, auth, "admin_roster.html", N_("Roster"), ctx)


@router.get("/admin/roster/template.{fmt}")
def roster_template(fmt: str, auth: PageAuth) -> Response:
    require_site_admin(auth.actor, "roster")
    if fmt == "csv":
        return Response(roster.csv_template(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="roster-template.csv"'})  # fmt: skip
    if fmt == "xlsx":
        return Response(roster.xlsx_template(),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="roster-template.xlsx"'})  # fmt: skip
    raise NotFound("There is nothing at this address.")


@router.post("/admin/roster", response_class=HTMLResponse)
def roster_upload(
    request: Request, db: DbSession, auth: PageAuth, file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()], operation: Annotated[str, Form(max_length=64)] = "",
    dry_run: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    _check(auth, csrf_token)
    require_site_admin(auth.actor, "roster")
    data = file.file.read(MAX_BYTES + 1)
    error, report = None, None
    try:
        report = roster.import_roster(db, auth.actor, data, file.filename or "roster.csv", operation=operation or None,
                                      dry_run=dry_run == "1")  # fmt: skip
    except DragonnetError as exc:
        error = exc.message
    ctx = {"operations": manage.operations(db, auth.actor), "report": report, "error": error,
           "columns": roster.COLUMNS, "max_mb": MAX_BYTES // 2**20}  # fmt: skip
    failed = error is not None or (report is not None and not report.ok)
    return _page(request, auth, "admin_roster.html", N_("Roster"), ctx, status_code=422 if failed else 200)


# --- bulk validation ---------------------------------------------------------------------------------------------


@router.post("/operations/{slug}/validate/bulk")
async def validate_selected(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    """The validation page's "validate selected": the ticked cases, grouped by reporting agency."""
    form = await request.form()
    _check(auth, str(form.get("csrf_token", "")))
    picked: dict[str, list[str]] = {}
    for value in form.getlist("case"):
        agency, _, ref = str(value).partition("|")
        if agency and ref:
            picked.setdefault(agency, []).append(ref)
    if not picked:
        return RedirectResponse(f"/operations/{slug}/validate?bulk=none", status_code=303)

    def work() -> int:
        op = get_operation(db, slug)
        return sum(len(workflow.validate_cases(db, auth.actor, op, agency, refs=refs,
                                               reason="validated from the validation page").validated)
                   for agency, refs in picked.items())  # fmt: skip

    from starlette.concurrency import run_in_threadpool

    done = await run_in_threadpool(work)
    return RedirectResponse(f"/operations/{slug}/validate?bulk={done}", status_code=303)


__all__ = ["router"]
