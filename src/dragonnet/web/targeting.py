"""Pages of the targeting capability: the agency's lists, one ranked and explained list, recording a result;
the risk profiles' effectiveness report (the risk-management unit's page), one profile with its review form and
history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet.errors import ValidationError
from dragonnet.http.deps import CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.i18n import lazy_gettext as _l
from dragonnet.operation.service import list_operations
from dragonnet.policy.access import may_edit_profile, may_import_profiles
from dragonnet.targeting import profile_service, service
from dragonnet.targeting.profiles import dump_profile
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


def _slug(db: DbSession, auth: PageAuth) -> str | None:
    ops = list_operations(db, auth.actor)
    return ops[0].slug if ops else None


@router.get("/targeting", response_class=HTMLResponse)
def lists(request: Request, db: DbSession, auth: PageAuth) -> Response:
    found = service.visible_lists(db, auth.actor)
    return render(request, "targeting_lists.html", {"title": N_("Targeting"), "lists": found}, auth=auth,
                  operation_slug=_slug(db, auth), active="targeting")  # fmt: skip


@router.get("/targeting/lists/{list_id}", response_class=HTMLResponse)
def one_list(request: Request, list_id: int, db: DbSession, auth: PageAuth) -> Response:
    tl = service.get_list(db, auth.actor, list_id)
    title = _l("Targeting list %(office)s", office=tl.office_locode)
    return render(request, "targeting_list.html", {"title": title, "tl": tl},
                  auth=auth, operation_slug=_slug(db, auth), active="targeting")  # fmt: skip


@router.post("/targeting/hits/{hit_id}/result")
def record_result(
    hit_id: int,
    db: DbSession,
    auth: PageAuth,
    result: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    hit = service.record_result(db, auth.actor, hit_id, result, note)
    return RedirectResponse(f"/targeting/lists/{hit.list_id}#hit-{hit.id}", status_code=303)


# --- risk profiles: the effectiveness report, import, review cycle, history --------------------------------------


def _date_param(value: str, what: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{what}: not a date (YYYY-MM-DD)") from None


def _float_param(value: str, what: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
    except ValueError:
        raise ValidationError(f"{what}: not a number") from None


def _back_to(path: str, error: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"{path}?error={quote(error)}" if error else path, status_code=303)


@router.get("/targeting/profiles", response_class=HTMLResponse)
def profiles_page(
    request: Request,
    db: DbSession,
    auth: PageAuth,
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    office: Annotated[str, Query(max_length=16)] = "",
    floor: Annotated[str, Query(max_length=10)] = "",
    min_inspections: Annotated[int, Query(ge=1, le=1_000_000)] = profile_service.eff.DEFAULT_MIN_INSPECTIONS,
    include_retired: Annotated[bool, Query()] = False,
    error: Annotated[str | None, Query(max_length=500)] = None,
    notice: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The risk-management unit's page: each profile's effectiveness over a period and office, the lanes' hit
    rates beside the random draws', the review flags; importing profiles."""
    form = {"from": date_from, "to": date_to, "office": office, "floor": floor, "min_inspections": min_inspections,
            "include_retired": include_retired}  # fmt: skip
    report = None
    try:
        query = profile_service.ReportQuery(
            date_from=_date_param(date_from, "from"), date_to=_date_param(date_to, "to"),
            office=office.strip().upper() or None, floor=_float_param(floor, "floor"),
            min_inspections=min_inspections, include_retired=include_retired,
        )  # fmt: skip
        report = profile_service.effectiveness_report(db, auth.actor, query)
    except ValidationError as exc:
        error = str(exc)
    ctx = {"title": N_("Risk profiles"), "report": report, "form": form, "error": error, "notice": notice,
           "may_import": may_import_profiles(auth.actor)}  # fmt: skip
    return render(request, "targeting_profiles.html", ctx, auth=auth, operation_slug=_slug(db, auth),
                  active="targeting")  # fmt: skip


@router.post("/targeting/profiles/import")
def profiles_import(
    db: DbSession,
    auth: PageAuth,
    text: Annotated[str, Form(max_length=500_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    try:
        outcome = profile_service.import_profiles(db, auth.actor, text, "the import form")
    except ValidationError as exc:
        db.rollback()
        return _back_to("/targeting/profiles", str(exc))
    counts = (len(outcome.created), len(outcome.updated), len(outcome.unchanged))
    done = "imported: {} created, {} updated, {} unchanged".format(*counts)
    return RedirectResponse(f"/targeting/profiles?notice={quote(done)}", status_code=303)


@router.get("/targeting/profiles/{profile_key}", response_class=HTMLResponse)
def profile_page(
    request: Request,
    profile_key: str,
    db: DbSession,
    auth: PageAuth,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    row = profile_service.get_profile(db, auth.actor, profile_key)
    ctx = {
        "title": _l("Risk profile %(key)s", key=row.key), "row": row, "summary": profile_service.summary(row),
        "yaml": dump_profile(profile_service.stored_profile(row)),
        "changes": [profile_service.change_summary(c) for c in reversed(row.changes)],
        "may_edit": may_edit_profile(auth.actor, row.agency_id), "error": error,
        "today": dt.datetime.now(dt.UTC).date(),
    }  # fmt: skip
    return render(request, "targeting_profile.html", ctx, auth=auth, operation_slug=_slug(db, auth),
                  active="targeting")  # fmt: skip


@router.post("/targeting/profiles/{profile_key}/review")
def profile_review(
    profile_key: str,
    db: DbSession,
    auth: PageAuth,
    decision: Annotated[str, Form(max_length=16)] = "",
    next_review: Annotated[str, Form(max_length=10)] = "",
    expires: Annotated[str, Form(max_length=10)] = "",
    mandatory: Annotated[str, Form(max_length=5)] = "",
    responsible: Annotated[str, Form(max_length=100)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    path = f"/targeting/profiles/{quote(profile_key, safe='')}"
    try:
        profile_service.review_profile(
            db, auth.actor, profile_key, decision=decision, next_review=_date_param(next_review, "next review"),
            note=note, mandatory=mandatory == "on", expires=_date_param(expires, "expires"),
            responsible=responsible or None,
        )  # fmt: skip
    except ValidationError as exc:
        db.rollback()
        profile_service.get_profile(db, auth.actor, profile_key)  # 404 (audited) if it is not the actor's to see
        return _back_to(path, str(exc))
    return RedirectResponse(path, status_code=303)
