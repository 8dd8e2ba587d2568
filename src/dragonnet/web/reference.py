"""The reference page's list check: upload a file of terms, see per term what it resolved to. Thin: the work is
dragonnet.reference.check's (the same door as the CLI and the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.responses import HTMLResponse

from dragonnet import reference
from dragonnet.errors import DragonnetError, ValidationError
from dragonnet.http.deps import CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.operation.service import list_operations
from dragonnet.reference.check import MAX_BYTES, check_file
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


@router.post("/reference/check", response_class=HTMLResponse)
def check_upload(
    request: Request,
    db: DbSession,
    auth: PageAuth,
    kind: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()],
) -> Response:
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    data = file.file.read(MAX_BYTES + 1)
    report, error = None, None
    try:
        if len(data) > MAX_BYTES:
            raise ValidationError(f"file too large (at most {MAX_BYTES // 2**20} MB)")
        report = check_file(kind, data)
    except DragonnetError as exc:
        error = exc.message
    ops = list_operations(db, auth.actor)
    return render(
        request,
        "reference.html",
        {
            "title": N_("Reference data"),
            "datasets": reference.datasets(),
            "kind": kind,
            "report": report,
            "check_error": error,
            "filename": file.filename or "upload",
        },
        auth=auth,
        operation_slug=ops[0].slug if ops else None,
        active="reference",
        status_code=422 if error else 200,
    )
