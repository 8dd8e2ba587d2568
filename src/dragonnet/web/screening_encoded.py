"""The privacy-preserving screening page: upload an encoded list (`dragonnet screen encode`: no names), see the
hits on what you may open. Thin: the work is `dragonnet.linkage.screening.encoded.screen_encoded` (the same door
as the CLI and the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.responses import HTMLResponse

from dragonnet.errors import DragonnetError
from dragonnet.http.deps import AppSettings, CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.linkage.privacy import linkage_secret
from dragonnet.linkage.screening import encoded, exports, service
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD
from dragonnet.operation.service import get_operation
from dragonnet.tabular import MAX_BYTES
from dragonnet.web.screening import FIELD_LABELS
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, auth: PageAuth, op: object, *, status_code: int = 200, **ctx: object) -> Response:
    return render(
        request, "linkage_screening_encoded.html",
        {"title": N_("Screen an encoded list"), "op": op, "labels": FIELD_LABELS, "max_mb": MAX_BYTES // 2**20,
         "error": None, "result": None, "threshold": DEFAULT_THRESHOLD, **ctx},
        auth=auth, operation_slug=getattr(op, "slug", None), active="networks", status_code=status_code,
    )  # fmt: skip


@router.get("/operations/{slug}/screening/encoded", response_class=HTMLResponse)
def encoded_screening_page(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    return _page(request, auth, op, threshold=service.threshold_for(db, op.id))


@router.post("/operations/{slug}/screening/encoded", response_class=HTMLResponse)
def encoded_screening_upload(
    request: Request, slug: str, db: DbSession, auth: PageAuth, settings: AppSettings,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()],
    threshold: Annotated[float, Form(gt=0, lt=1)] = DEFAULT_THRESHOLD,
    output: Annotated[str, Form(pattern="^(page|csv|xlsx|json)$")] = "page",
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    data = file.file.read(MAX_BYTES + 1)
    try:
        result = encoded.screen_encoded(db, auth.actor, operation=op.slug, data=data,
                                        filename=file.filename or "upload", secret=linkage_secret(settings.secret_key),
                                        threshold=threshold)  # fmt: skip
    except DragonnetError as exc:
        if getattr(exc, "denial", None) is not None:
            raise  # refusals answer 403/404 through the application's handler (and are audited)
        return _page(request, auth, op, error=exc.message, threshold=threshold, status_code=422)
    if output != "page":
        return Response(
            encoded.export(result, output), media_type=exports.MEDIA_TYPES[output],
            headers={"Content-Disposition": f'attachment; filename="screening-encoded-{op.slug}.{output}"'},
        )  # fmt: skip
    return _page(request, auth, op, result=result, summary=result.summary(), threshold=threshold,
                 filename=file.filename or "upload")  # fmt: skip
