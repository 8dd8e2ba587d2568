"""The pages of the shell: home, operation overview, reference data, my account."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet import reference
from dragonnet.http.deps import DbSession, PageAuth
from dragonnet.i18n import N_
from dragonnet.operation import service
from dragonnet.operation.service import list_operations
from dragonnet.policy.access import case_visibility_rule
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


def _first_operation_slug(db: DbSession, auth: PageAuth) -> str | None:
    ops = list_operations(db, auth.actor)
    return ops[0].slug if ops else None


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DbSession, auth: PageAuth) -> Response:
    slug = _first_operation_slug(db, auth)
    if slug is None:
        return render(request, "no_operation.html", {"title": N_("No operation yet")}, auth=auth, active="overview")
    return RedirectResponse(f"/operations/{slug}", status_code=303)


@router.get("/operations/{slug}", response_class=HTMLResponse)
def operation_overview(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = service.get_operation(db, slug)
    view = service.operation_figures(db, auth.actor, op)
    return render(
        request,
        "overview.html",
        {
            "title": op.name,
            "op": view,
            "view_rule": case_visibility_rule(auth.actor),
            "totals_rule": service.totals_rule_text(),
        },
        auth=auth,
        operation_slug=op.slug,
        active="overview",
    )


@router.get("/reference", response_class=HTMLResponse)
def reference_data(request: Request, db: DbSession, auth: PageAuth) -> Response:
    datasets = reference.datasets()
    return render(
        request,
        "reference.html",
        {"title": N_("Reference data"), "datasets": datasets},
        auth=auth,
        operation_slug=_first_operation_slug(db, auth),
        active="reference",
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, db: DbSession, auth: PageAuth) -> Response:
    return render(
        request,
        "account.html",
        {"title": N_("My account"), "me": auth.user},
        auth=auth,
        operation_slug=_first_operation_slug(db, auth),
        active="account",
    )
