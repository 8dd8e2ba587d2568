"""The curation page of an operation: the values read by a guess or not at all, mapping each once to a reference
entry (or confirming "not listed"), the mappings in force, and the mapping file (export, import). Thin: the work
and the access rules are dragonnet.intake.curation.service's (the same door as the API and the CLI)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet.errors import DragonnetError
from dragonnet.http.deps import CsrfRejected, DbSession, PageAuth
from dragonnet.http.responses import csv_download
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.intake.curation import files, service
from dragonnet.intake.curation.store import OPEN
from dragonnet.intake.readings import KINDS
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import Hidden, PermissionDenied, reviewed_agency
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)

# The suggestion list (intake.lookups) of each kind's target field.
LOOKUP = {"taxon": "species", "place": "places", "substance": "substances", "country": "countries", "hs_code": "goods"}


def _page(slug: str, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/operations/{quote(slug)}/curation" + (f"?{query}" if query else "")


def _check(auth: PageAuth, token: str) -> None:
    if not tokens_match(auth.csrf_token, token):
        raise CsrfRejected()


@router.get("/operations/{slug}/curation", response_class=HTMLResponse)
def curation_page(
    request: Request,
    slug: str,
    db: DbSession,
    auth: PageAuth,
    kind: Annotated[str, Query(max_length=16)] = "",
    state: Annotated[str, Query(max_length=16)] = OPEN,
    agency: Annotated[str, Query(max_length=32)] = "",
    error: Annotated[str | None, Query(max_length=500)] = None,
    notice: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    return _render(request, db, auth, slug, kind=kind, state=state, agency=agency, error=error, notice=notice)


def _render(
    request: Request, db: DbSession, auth: PageAuth, slug: str, *, kind: str = "", state: str = OPEN,
    agency: str = "", error: str | None = None, notice: str | None = None,
    imported: service.FileImport | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    counts = service.queue_counts(db, auth.actor, slug)  # 404 (audited) for whoever does not review values
    op = get_operation(db, slug)
    try:
        queue = service.review_queue(db, auth.actor, slug, kind=kind or None, state=state or None,
                                     agency=agency or None)  # fmt: skip
    except DragonnetError as exc:
        queue, error = [], exc.message
    ctx = {
        "title": N_("Curation"), "op": op, "queue": queue, "counts": counts, "kinds": KINDS, "lookup": LOOKUP,
        "mappings": service.mappings(db, auth.actor, slug), "filters": {"kind": kind, "state": state,
                                                                         "agency": agency},
        "error": error, "notice": notice, "imported": imported, "formats": files.FORMATS,
        "whole_operation": reviewed_agency(auth.actor) is None, "labels": service.KIND_LABELS,
    }  # fmt: skip
    return render(request, "curation.html", ctx, auth=auth, operation_slug=op.slug, active="curation",
                  status_code=status_code)  # fmt: skip


@router.post("/operations/{slug}/curation/map")
def map_value(
    slug: str,
    db: DbSession,
    auth: PageAuth,
    value_id: Annotated[int, Form()],
    target: Annotated[str, Form(max_length=200)] = "",
    decision: Annotated[str, Form(max_length=16)] = "map",
    scope: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    _check(auth, csrf_token)
    back_to = back if back.startswith(f"/operations/{slug}/curation") else _page(slug)
    joiner = "&" if "?" in back_to else "?"
    try:
        applied = service.map_value(db, auth.actor, slug, value_id=value_id, target=target or None,
                                    not_listed=decision == "not_listed", note=note or None,
                                    for_its_agency=scope == "agency")  # fmt: skip
    except (Hidden, PermissionDenied):
        raise
    except DragonnetError as exc:
        db.rollback()
        return RedirectResponse(f"{back_to}{joiner}error={quote(exc.message)}", status_code=303)
    m = applied.mapping
    done = (f"{m.text!r} mapped to {'not listed' if m.not_listed else m.target_label}: {applied.cases} case(s) "
            f"changed, {applied.values_closed} value(s) closed")  # fmt: skip
    return RedirectResponse(f"{back_to}{joiner}notice={quote(done)}", status_code=303)


@router.post("/operations/{slug}/curation/mappings/{mapping_id}/remove")
def remove_mapping(
    slug: str, mapping_id: int, db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    _check(auth, csrf_token)
    entry = service.remove_mapping(db, auth.actor, slug, mapping_id)
    done = f"mapping of {entry.text!r} removed: later imports read it from the reference data again"
    return RedirectResponse(_page(slug, notice=done) + "#mappings", status_code=303)


@router.get("/operations/{slug}/curation/export")
def export(slug: str, db: DbSession, auth: PageAuth, format: Annotated[str, Query(max_length=8)] = "csv") -> Response:
    text = service.export_mappings(db, auth.actor, slug, format)
    if format == "yaml":
        return Response(text, media_type="application/yaml; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{slug}-mappings.yaml"'})  # fmt: skip
    return csv_download(text, f"{slug}-mappings.csv")


@router.post("/operations/{slug}/curation/import", response_class=HTMLResponse)
def import_file(
    request: Request,
    slug: str,
    db: DbSession,
    auth: PageAuth,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    _check(auth, csrf_token)
    data = file.file.read(files.MAX_BYTES + 1)
    try:
        result = service.import_mappings(db, auth.actor, slug, data=data, filename=file.filename or "mappings.csv")
    except (Hidden, PermissionDenied):
        raise
    except DragonnetError as exc:
        db.rollback()
        return _render(request, db, auth, slug, error=exc.message, status_code=422)
    if not result.ok:
        db.rollback()
        return _render(request, db, auth, slug, imported=result, status_code=422,
                       error=f"nothing imported: {len(result.errors)} row(s) to fix")  # fmt: skip
    changed = sum(a.cases for a in result.applied)
    done = f"{len(result.applied)} mapping(s) imported and applied: {changed} case change(s)"
    return RedirectResponse(_page(slug, notice=done) + "#mappings", status_code=303)
