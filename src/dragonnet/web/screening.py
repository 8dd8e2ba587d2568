"""The screening page: upload a list (manifest, consignees, register), see the hits and every row not screened,
or download the hits. Thin: the work is `dragonnet.linkage.screening.service.screen` (the same door as the CLI
and the API)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet.errors import DragonnetError, ValidationError
from dragonnet.http.deps import AppSettings, CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.i18n import lazy_gettext as _l
from dragonnet.linkage import service as linkage
from dragonnet.linkage.screening import exports, service
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD
from dragonnet.operation.service import get_operation
from dragonnet.tabular import MAX_BYTES
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {
    "name": "name", "birth_date": "date of birth", "id_number": "document", "phone": "phone", "email": "e-mail",
    "nationality": "nationality", "address": "address", "postcode": "postcode",
}  # fmt: skip


def _page(request: Request, auth: PageAuth, op: object, *, status_code: int = 200, **ctx: object) -> Response:
    return render(
        request, "linkage_screening.html",
        {"title": N_("Screen a list"), "op": op, "default_threshold": DEFAULT_THRESHOLD, "labels": FIELD_LABELS,
         "max_mb": MAX_BYTES // 2**20, "error": None, "result": None, **ctx},
        auth=auth, operation_slug=getattr(op, "slug", None), active="networks", status_code=status_code,
    )  # fmt: skip


@router.get("/operations/{slug}/screening", response_class=HTMLResponse)
def screening_page(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    return _page(request, auth, op, kind="persons", threshold=service.threshold_for(db, op.id))


@router.post("/operations/{slug}/screening", response_class=HTMLResponse)
def screening_upload(
    request: Request, slug: str, db: DbSession, auth: PageAuth, settings: AppSettings,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()],
    kind: Annotated[str, Form(max_length=16)] = "persons",
    threshold: Annotated[float, Form(gt=0, lt=1)] = DEFAULT_THRESHOLD,
    output: Annotated[str, Form(pattern="^(page|csv|xlsx|json)$")] = "page",
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    data = file.file.read(MAX_BYTES + 1)
    try:
        result = service.screen(db, auth.actor, operation=op.slug, data=data, filename=file.filename or "upload",
                                kind=kind, threshold=threshold, data_dir=settings.data_dir)  # fmt: skip
    except DragonnetError as exc:
        if getattr(exc, "denial", None) is not None:
            raise  # refusals answer 403/404 through the application's handler (and are audited)
        return _page(request, auth, op, error=exc.message, kind=kind, threshold=threshold, status_code=422)
    if output != "page":
        return Response(
            service.export(result, output), media_type=exports.MEDIA_TYPES[output],
            headers={"Content-Disposition": f'attachment; filename="screening-{op.slug}.{output}"'},
        )  # fmt: skip
    return _page(request, auth, op, result=result, summary=result.summary(), kind=kind, threshold=threshold,
                 filename=file.filename or "upload")  # fmt: skip


@router.get("/operations/{slug}/screening/notices/{screening_notice_id}", response_class=HTMLResponse)
def notice_page(
    request: Request, slug: str, screening_notice_id: int, db: DbSession, auth: PageAuth,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    notice = linkage.read_screening_notice(db, auth.actor, screening_notice_id, purpose="screening notice")
    return render(
        request, "linkage_screening_notice.html",
        {"title": _l("Screening notice %(id)s", id=notice.id), "op": op, "n": notice, "error": error,
         "reason_min": linkage.REASON_MIN, "reason_max": linkage.REASON_MAX},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.post("/operations/{slug}/screening/notices/{screening_notice_id}/request")
def notice_request(
    slug: str, screening_notice_id: int, db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    page = f"/operations/{op.slug}/screening/notices/{screening_notice_id}"
    try:
        linkage.request_screening_disclosure(db, auth.actor, screening_notice_id, reason)
    except ValidationError as exc:
        db.rollback()
        return RedirectResponse(f"{page}?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(page, status_code=303)
