"""Pages of the cases capability: list, case page, report/edit form, workflow buttons, validation and duplicate
review, spreadsheet import (upload, preview, confirm) and the templates.

Handlers only parse the request, call dragonnet.intake and render; rules live in intake/ and policy/.
Handlers that read a dynamic form are `async def` (to `await request.form()`); everything after the form
is read (database, files, rendering, which may load ORM attributes) runs in the threadpool, never on the
event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from dragonnet.config import Settings
from dragonnet.domain.exchange import FORMAT, LIST_SEPARATOR, SheetKind
from dragonnet.domain.vocabulary import (
    CaseStatus,
    SharingLevel,
)
from dragonnet.errors import Conflict, DragonnetError
from dragonnet.http.deps import AppSettings, Authenticated, CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_, LazyText, gettext, translate
from dragonnet.i18n import lazy_gettext as _l
from dragonnet.intake import duplicates, forms, queries, record, templates, uploads, workflow
from dragonnet.intake.curation import service as curation
from dragonnet.intake.extra import CASE_EXTRA, ITEM_EXTRA, PARTY_EXTRA
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS
from dragonnet.intake.readings import hs_label
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import PermissionDenied, case_visibility_rule, get_case, may_report
from dragonnet.policy.messaging import is_member
from dragonnet.storage.models import Operation
from dragonnet.tabular import ImportRejected
from dragonnet.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

PER_PAGE = 25
# The form's drop-down lists and its fields without a place of their own, from the exchange format.
CHOICES: dict[str, list[str]] = {
    **FORMAT.allowed_values("items"),
    **FORMAT.allowed_values("parties"),
    "status": CaseStatus.values(),
}


@dataclass(frozen=True)
class ExtraField:
    """A format column the form draws generically (one added to the format without a database column)."""

    name: str
    label: str
    options: list[str] | None


def _extra_fields(sheet: SheetKind, names: tuple[str, ...]) -> list[ExtraField]:
    allowed = FORMAT.allowed_values(sheet)
    return [ExtraField(n, n.replace("_", " ").capitalize(), allowed.get(n)) for n in names]


EXTRA_FIELDS = {
    "case": _extra_fields("items", CASE_EXTRA),
    "item": _extra_fields("items", ITEM_EXTRA),
    "party": _extra_fields("parties", PARTY_EXTRA),
}

# The form's labels: one place for the field and for the error that names it ("Seizure date", not
# "seizure_date"; "Item 2: Quantity", not "items[1].quantity").
LABELS: dict[str, str | LazyText] = {
    "case_ref": N_("Your case number"),
    "seizure_date": N_("Seizure date"),
    "sharing_level": N_("Sharing (TLP)"),
    "place_country": N_("Country of seizure"),
    "place_locode": N_("Place (UN/LOCODE)"),
    "place_name": N_("Place name"),
    "place_type": N_("Place type"),
    "direction": N_("Direction"),
    "transport_mode": N_("Transport mode"),
    "conveyance_ref": N_("Conveyance (flight, vessel, container, AWB...)"),
    "detection_method": N_("Detection"),
    "concealment": N_("Concealment"),
    "arrests": N_("Arrests"),
    "origin_country": N_("Origin"),
    "transit_countries": _l("Transit countries, in order (separated by %(separator)s)", separator=LIST_SEPARATOR),
    "destination_country": N_("Destination"),
    "description": N_("Description"),
    "items": N_("Items"),
    "parties": N_("Parties"),
    "reporting_agency": N_("Reporting agency"),
    **{f.name: f.label for f in EXTRA_FIELDS["case"]},
}
ITEM_LABELS: dict[str, str | LazyText] = {
    "commodity_class": N_("Class"),
    "substance": N_("Substance"),
    "taxon": N_("Species / taxon"),
    "specimen_type": N_("Specimen"),
    "quantity": N_('Quantity (or "unknown")'),
    "unit": N_("Unit"),
    "hs_code": N_("HS code"),
    "description": N_("Goods description"),
    **{f.name: f.label for f in EXTRA_FIELDS["item"]},
}
PARTY_LABELS: dict[str, str | LazyText] = {
    "role": N_("Role"),
    "kind": N_("Kind"),
    "name": N_("Name"),
    "nationality": N_("Nationality"),
    "birth_date": N_("Birth date"),
    "id_number": N_("Id number"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "address": N_("Address"),
    **{f.name: f.label for f in EXTRA_FIELDS["party"]},
}
_ROW_FIELD = re.compile(r"^(items|parties)\[(\d+)\]\.(\w+)$")


def field_label(name: str) -> str:
    """The label an error names a field by, as the form shows it (in the page's language: it is called while
    the page is rendered)."""
    row = _ROW_FIELD.match(name)
    if row:
        what, n, field = row.group(1), int(row.group(2)) + 1, row.group(3)
        labels = ITEM_LABELS if what == "items" else PARTY_LABELS
        label = translate(labels.get(field, field.replace("_", " ")))
        if what == "items":
            return gettext("Item %(number)s: %(field)s", number=n, field=label)
        return gettext("Party %(number)s: %(field)s", number=n, field=label)
    return translate(LABELS.get(name, name.replace("_", " ").capitalize()))


SAVED = {  # translated where the case page is rendered
    "draft": N_("saved as a draft: only your agency sees it. Submit it when it is complete."),
    "submitted": N_("saved and submitted: it now goes to validation by your national coordinator."),
    "updated": N_("saved."),
}


def _check_csrf(auth: PageAuth, token: str | None) -> None:
    if not tokens_match(auth.csrf_token, token):
        raise CsrfRejected()


def _form_dict(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- list and case page ---------------------------------------------------------------------------------------


@router.get("/operations/{slug}/cases", response_class=HTMLResponse)
def case_list(
    request: Request, slug: str, db: DbSession, auth: PageAuth, phase: str = "", status: str = "",
    commodity: str = "", country: str = "", q: str = "", page: int = 1, import_id: Annotated[str, Query(
        alias="import")] = "",
) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    batch = record.get_import(db, auth.actor, op, int(import_id)) if import_id.isdigit() else None
    filters = queries.CaseFilters(int(phase) if phase.isdigit() else None, status or None, commodity or None,
                                  country or None, q or None, import_id=batch.id if batch else None)  # fmt: skip
    error = None
    try:
        result = queries.list_page(db, auth.actor, op, filters, page=page, per_page=PER_PAGE)
    except DragonnetError as exc:
        error, result = exc.message, queries.CasePage([], 0)
    params = {k: v for k, v in {"phase": phase, "status": status, "commodity": commodity, "country": country,
                                 "q": q, "import": import_id if batch else ""}.items() if v}  # fmt: skip
    return render(
        request, "case_list.html",
        {"title": N_("Cases"), "op": op, "result": result, "filters": params, "error": error, "choices": CHOICES,
         "page_url": lambda n: f"/operations/{op.slug}/cases?" + urlencode({**params, "page": n}),
         "may_report": may_report(auth.actor), "rule": case_visibility_rule(auth.actor), "batch": batch},
        auth=auth, operation_slug=op.slug, active="cases",
    )  # fmt: skip


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, db: DbSession, auth: PageAuth, saved: str = "") -> Response:
    case = get_case(db, auth.actor, case_id)
    parties = queries.read_parties(db, auth.actor, case, purpose="case page")
    has_route = bool(case.origin_country or case.destination_country or case.transit_countries)
    return render(
        request, "case_page.html",
        {"title": _l("Case %(ref)s", ref=case.case_ref), "case": case, "parties": parties,
         "notes": curation.case_notes(db, case), "corrections": curation.corrections(db, case.id),
         "hs_labels": {i.hs_code: hs_label(i.hs_code) for i in case.items if i.hs_code},
         "actions": workflow.available_actions(db, auth.actor, case), "history": workflow.history(db, case.id),
         "merges": duplicates.merges_of(db, case.id), "extra_fields": EXTRA_FIELDS,
         "can_edit": case.reporting_agency_id == auth.actor.agency_id and case.status != CaseStatus.MERGED.value
         and bool(workflow.is_owner(auth.actor, case)),
         "can_alert": is_member(auth.actor) and has_route, "saved": _l(SAVED[saved]) if saved in SAVED else None},
        auth=auth, operation_slug=case.operation.slug, active="cases",
    )  # fmt: skip


@router.post("/cases/{case_id}/transition")
def case_transition(
    case_id: int, db: DbSession, auth: PageAuth, action: Annotated[str, Form()], csrf_token: Annotated[str, Form()],
    version: Annotated[int | None, Form()] = None, reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    _check_csrf(auth, csrf_token)
    workflow.transition(db, auth.actor, case_id, action, version=version, reason=reason or None)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


# --- report / edit form -------------------------------------------------------------------------------------


def _form_page(
    request: Request, auth: PageAuth, op: Operation, data: forms.CaseInput, *, case_id: int | None = None,
    version: int | None = None, errors: dict[str, forms.FieldError] | None = None, status_code: int = 200,
    case_status: str | None = None,
) -> Response:  # fmt: skip
    items = [*data.items, forms.ItemInput()]
    parties = [*data.parties, forms.PartyInput()]
    return render(
        request, "case_form.html",
        {"title": _l("Edit case %(ref)s", ref=data.case_ref) if case_id else N_("Report a seizure"), "op": op,
         "data": data, "items": items, "parties": parties, "case_id": case_id, "version": version,
         "errors": errors or {}, "choices": CHOICES, "extra_fields": EXTRA_FIELDS, "labels": LABELS,
         "item_labels": ITEM_LABELS, "party_labels": PARTY_LABELS, "field_label": field_label,
         "case_status": case_status,
         "hs_labels": {i.hs_code: hs_label(i.hs_code) for i in items if i.hs_code}},
        auth=auth, operation_slug=op.slug, active="report", status_code=status_code,
    )  # fmt: skip


def _require_reporter(auth: Authenticated, op: Operation) -> None:
    """Observers, analysts and administrators alone do not report seizures: say so instead of a form."""
    if not may_report(auth.actor):
        raise PermissionDenied(
            auth.actor, "operation", op.slug,
            f"{auth.actor.username} ({auth.actor.agency_code}) may not report seizures: cases are reported by the "
            "reporters and national coordinators of the operation's member agencies",
        )  # fmt: skip


@router.get("/operations/{slug}/report", response_class=HTMLResponse)
def report_form(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    _require_reporter(auth, op)
    return _form_page(request, auth, op, forms.CaseInput(sharing_level=SharingLevel.AMBER.value))


@router.post("/operations/{slug}/report", response_class=HTMLResponse)
async def report_submit(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    form = _form_dict(await request.form())
    _check_csrf(auth, form.get("csrf_token"))
    return await run_in_threadpool(_report_submit, request, slug, db, auth, form)


def _report_submit(request: Request, slug: str, db: Session, auth: Authenticated, form: dict[str, str]) -> Response:
    op = get_operation(db, slug, phases=True)
    data = forms.CaseInput.from_form(form)
    try:
        case = forms.create_case(db, auth.actor, op, data, submit=form.get("submit") == "1")
    except forms.CaseInvalid as exc:
        return _form_page(request, auth, op, data, errors=exc.by_field(), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?saved={case.status}", status_code=303)


@router.get("/cases/{case_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, case_id: int, db: DbSession, auth: PageAuth) -> Response:
    case, data = forms.read_for_edit(db, auth.actor, case_id, purpose="edit form")
    return _form_page(request, auth, case.operation, data, case_id=case.id, version=case.version,
                      case_status=case.status)  # fmt: skip


@router.post("/cases/{case_id}/edit", response_class=HTMLResponse)
async def edit_submit(request: Request, case_id: int, db: DbSession, auth: PageAuth) -> Response:
    form = _form_dict(await request.form())
    _check_csrf(auth, form.get("csrf_token"))
    return await run_in_threadpool(_edit_submit, request, case_id, db, auth, form)


def _edit_submit(request: Request, case_id: int, db: Session, auth: Authenticated, form: dict[str, str]) -> Response:
    data = forms.CaseInput.from_form(form)
    version = int(form["version"]) if form.get("version", "").isdigit() else None
    before = get_case(db, auth.actor, case_id).status
    try:
        case = forms.update_case(db, auth.actor, case_id, data, version=version, submit=form.get("submit") == "1")
    except forms.CaseInvalid as exc:
        current = get_case(db, auth.actor, case_id)
        return _form_page(request, auth, current.operation, data, case_id=case_id, version=version,
                          errors=exc.by_field(), status_code=422, case_status=current.status)  # fmt: skip
    except Conflict as exc:
        db.rollback()
        current = get_case(db, auth.actor, case_id)
        return render(
            request, "case_conflict.html",
            {"title": N_("Conflict: the case was changed"), "case": current, "message": exc.message, "data": data,
             "version": version},
            auth=auth, operation_slug=current.operation.slug, active="cases", status_code=409,
        )  # fmt: skip
    return RedirectResponse(f"/cases/{case.id}?saved={_saved(before, case.status)}", status_code=303)


def _saved(before: str, after: str) -> str:
    """Which success message the case page shows after a save."""
    if after == CaseStatus.DRAFT.value:
        return "draft"
    if after == CaseStatus.SUBMITTED.value and before != CaseStatus.SUBMITTED.value:
        return "submitted"  # a draft submitted, or a validated case whose change goes back to validation
    return "updated"


# --- validation and duplicates --------------------------------------------------------------------------------


@router.get("/operations/{slug}/validate", response_class=HTMLResponse)
def validate_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth, all: str = "", bulk: str = ""
) -> Response:
    op = get_operation(db, slug)
    duplicates.require_reviewer(auth.actor)
    pending = queries.list_page(db, auth.actor, op, queries.CaseFilters(status=CaseStatus.SUBMITTED.value),
                                per_page=100)  # fmt: skip
    to_validate = [c for c in pending.cases if workflow.is_validator(db, auth.actor, c)]
    candidates = duplicates.candidates(db, auth.actor, op, require_link=not all)
    return render(
        request, "case_validate.html",
        {"title": N_("Validate"), "op": op, "to_validate": to_validate, "candidates": candidates, "show_all": bool(all),
         "bulk_done": int(bulk) if bulk.isdigit() else (0 if bulk == "none" else None)},
        auth=auth, operation_slug=op.slug, active="validate",
    )  # fmt: skip


@router.post("/operations/{slug}/duplicates/merge")
def merge_pair(
    slug: str, db: DbSession, auth: PageAuth, keep_id: Annotated[int, Form()], duplicate_id: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=2000)], csrf_token: Annotated[str, Form()],
) -> Response:  # fmt: skip
    _check_csrf(auth, csrf_token)
    get_operation(db, slug)
    duplicates.merge(db, auth.actor, keep_id, duplicate_id, reason)
    return RedirectResponse(f"/cases/{keep_id}", status_code=303)


@router.post("/operations/{slug}/duplicates/dismiss")
def dismiss_pair(
    slug: str, db: DbSession, auth: PageAuth, a_id: Annotated[int, Form()], b_id: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()], reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    _check_csrf(auth, csrf_token)
    get_operation(db, slug)
    duplicates.dismiss(db, auth.actor, a_id, b_id, reason or None)
    return RedirectResponse(f"/operations/{slug}/validate", status_code=303)


# --- spreadsheet import -------------------------------------------------------------------------------------


def _template_language(request: Request, auth: PageAuth, slug: str, lang: str | None) -> tuple[str, str]:
    """The template's language (`?lang=`, else the page's) and its file name ("cases-template-vi")."""
    locale = templates.language(lang) if lang else request_locale(request, auth, slug)
    return locale, "cases-template" if locale == "en" else f"cases-template-{locale}"


@router.get("/operations/{slug}/import/template.csv")
def template_csv(
    request: Request, slug: str, db: DbSession, auth: PageAuth, lang: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    get_operation(db, slug)
    locale, stem = _template_language(request, auth, slug, lang)
    return Response(templates.csv_template(locale), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})  # fmt: skip


@router.get("/operations/{slug}/import/template.xlsx")
def template_xlsx(
    request: Request, slug: str, db: DbSession, auth: PageAuth, lang: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    get_operation(db, slug)
    locale, stem = _template_language(request, auth, slug, lang)
    return Response(
        templates.xlsx_template(locale),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
    )


def _upload_page(request: Request, auth: PageAuth, op: Operation, *, error: str | None = None,
                 status_code: int = 200) -> Response:  # fmt: skip
    return render(
        request, "import_upload.html",
        {"title": N_("Import a spreadsheet"), "op": op, "error": error, "max_mb": uploads.MAX_UPLOAD_BYTES // 2**20,
         "allowed": {**templates.ENUM_COLUMNS, **templates.PARTY_ENUM_COLUMNS}, "separator": LIST_SEPARATOR},
        auth=auth, operation_slug=op.slug, active="report", status_code=status_code,
    )  # fmt: skip


@router.get("/operations/{slug}/import", response_class=HTMLResponse)
def import_form(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    _require_reporter(auth, op)
    return _upload_page(request, auth, op)


@router.post("/operations/{slug}/import", response_class=HTMLResponse)
def import_upload(
    request: Request, slug: str, db: DbSession, auth: PageAuth, settings: AppSettings,
    file: Annotated[UploadFile, File()], csrf_token: Annotated[str, Form()],
    day_first: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    _check_csrf(auth, csrf_token)
    op = get_operation(db, slug)
    data = file.file.read(uploads.MAX_UPLOAD_BYTES + 1)
    try:
        upload = uploads.stage(db, auth.actor, op, data, file.filename or "upload", settings.data_dir,
                               day_first=day_first == "1")  # fmt: skip
    except ImportRejected as exc:
        return _upload_page(request, auth, op, error=exc.message, status_code=422)
    return RedirectResponse(f"/operations/{op.slug}/import/{upload.token}", status_code=303)


@router.get("/operations/{slug}/import/{token}", response_class=HTMLResponse)
def import_preview(request: Request, slug: str, token: str, db: DbSession, auth: PageAuth,
                   settings: AppSettings) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    upload, data = uploads.load(db, auth.actor, op, token, settings.data_dir)
    result = uploads.preview(db, auth.actor, op, upload, data)
    return render(
        request, "import_preview.html",
        {"title": N_("Check the import"), "op": op, "p": result, "item_columns": ITEM_COLUMNS,
         "party_columns": PARTY_COLUMNS},
        auth=auth, operation_slug=op.slug, active="report",
    )  # fmt: skip


@router.post("/operations/{slug}/import/{token}/mapping")
async def import_remap(request: Request, slug: str, token: str, db: DbSession, auth: PageAuth,
                       settings: AppSettings) -> Response:  # fmt: skip
    form = _form_dict(await request.form())
    _check_csrf(auth, form.get("csrf_token"))
    return await run_in_threadpool(_import_remap, slug, token, db, auth, settings, form)


def _import_remap(slug: str, token: str, db: Session, auth: Authenticated, settings: Settings,
                  form: dict[str, str]) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    upload, _data = uploads.load(db, auth.actor, op, token, settings.data_dir)
    choices = {form[k]: form.get("column-" + k[len("header-"):], "") or None
               for k in form if k.startswith("header-")}  # fmt: skip
    uploads.remap(db, upload, choices, day_first=form.get("day_first") == "1")
    return RedirectResponse(f"/operations/{op.slug}/import/{upload.token}", status_code=303)


@router.post("/operations/{slug}/import/{token}/confirm", response_class=HTMLResponse)
def import_confirm(
    request: Request, slug: str, token: str, db: DbSession, auth: PageAuth, settings: AppSettings,
    csrf_token: Annotated[str, Form()], all_or_nothing: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    _check_csrf(auth, csrf_token)
    op = get_operation(db, slug)
    upload, data = uploads.load(db, auth.actor, op, token, settings.data_dir)
    report = uploads.confirm(db, auth.actor, op, upload, data, settings.data_dir,
                             all_or_nothing=all_or_nothing == "1")  # fmt: skip
    agency = auth.actor.agency_id
    return render(
        request, "import_done.html",
        {"title": N_("Import done"), "op": op, "report": report, "agency_id": agency},
        auth=auth, operation_slug=op.slug, active="report",
    )  # fmt: skip


@router.get("/operations/{slug}/import/{token}/errors.csv")
def import_errors_csv(slug: str, token: str, db: DbSession, auth: PageAuth, settings: AppSettings) -> Response:
    op = get_operation(db, slug)
    upload, data = uploads.load(db, auth.actor, op, token, settings.data_dir)
    result = uploads.preview(db, auth.actor, op, upload, data)
    errors = result.report.errors if result.report else []
    warnings = result.report.warnings if result.report else []
    return Response(uploads.errors_csv(errors, warnings), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="import-errors.csv"'})  # fmt: skip


__all__ = ["router"]
