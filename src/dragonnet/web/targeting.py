"""Pages of the targeting capability: the agency's lists, one ranked and explained list, recording a result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet.http.deps import CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.operation.service import list_operations
from dragonnet.targeting import service
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


def _slug(db: DbSession, auth: PageAuth) -> str | None:
    ops = list_operations(db, auth.actor)
    return ops[0].slug if ops else None


@router.get("/targeting", response_class=HTMLResponse)
def lists(request: Request, db: DbSession, auth: PageAuth) -> Response:
    found = service.visible_lists(db, auth.actor)
    return render(request, "targeting_lists.html", {"title": "Targeting", "lists": found}, auth=auth,
                  operation_slug=_slug(db, auth), active="targeting")  # fmt: skip


@router.get("/targeting/lists/{list_id}", response_class=HTMLResponse)
def one_list(request: Request, list_id: int, db: DbSession, auth: PageAuth) -> Response:
    tl = service.get_list(db, auth.actor, list_id)
    return render(request, "targeting_list.html", {"title": f"Targeting list {tl.office_locode}", "tl": tl},
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
