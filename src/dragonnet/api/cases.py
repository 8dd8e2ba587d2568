"""`/api/v1` routes of the cases capability: CRUD, cursor-paginated list, bulk create, workflow, duplicates,
field lookups. Validation and normalisation are the spreadsheet import's (dragonnet.intake.forms)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dragonnet.api.schemas import ErrorOut
from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.errors import NotFound
from dragonnet.http.deps import ApiActor, ApiAuth, DbSession
from dragonnet.intake import duplicates, forms, lookups, queries, workflow
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import get_case
from dragonnet.storage.models import Case, Party

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["cases"]

INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "the case breaks the exchange format's rules (`fields` says where)"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the case changed since the version you edited; nothing was saved"}
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(_In):
    commodity_class: str = Field(description="drug, precursor, wildlife, timber, other (or a synonym)")
    substance: str | None = Field(None, max_length=200, description="as written, e.g. 'ICE', 'ya ba'; drugs/precursors")
    taxon: str | None = Field(None, max_length=200, description="as written, e.g. 'pangolin scales'; wildlife/timber")
    specimen_type: str | None = None
    quantity: float | str = Field(description="a positive number (a decimal comma is accepted in text)")
    unit: str = Field(description="kg, g, t, pieces, tablets, l, ml, m3")
    description: str | None = Field(None, max_length=2000, description="goods description as declared")


class PartyIn(_In):
    role: str | None = Field(None, description="courier, consignor, consignee, owner, organiser, driver, other")
    kind: str | None = Field(None, description="person or company")
    name: str = Field(max_length=300)
    nationality: str | None = None
    birth_date: str | None = Field(None, description="YYYY-MM-DD")
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class CaseFields(_In):
    case_ref: str = Field(max_length=64, description="your agency's case number; unique per agency")
    seizure_date: str = Field(description="YYYY-MM-DD; decides the phase")
    place_locode: str | None = None
    place_name: str | None = None
    place_country: str = Field(description="ISO alpha-2/alpha-3 or a country name")
    place_type: str | None = None
    direction: str | None = None
    transport_mode: str | None = None
    conveyance_ref: str | None = None
    detection_method: str | None = None
    concealment: str | None = None
    origin_country: str | None = None
    transit_countries: list[str] | str | None = Field(None, description="in order (a list, or text separated by ;)")
    destination_country: str | None = None
    arrests: int | str | None = None
    sharing_level: str | None = Field(None, description="red, amber+strict, amber (default), green, clear")
    description: str | None = Field(None, max_length=2000)
    items: list[ItemIn] = Field(min_length=1, max_length=forms.MAX_ITEMS)
    parties: list[PartyIn] = Field(default_factory=list, max_length=forms.MAX_PARTIES)

    def to_input(self) -> forms.CaseInput:
        return forms.CaseInput.from_mapping(self.model_dump(exclude={"operation", "submit", "version"}))


class CaseCreate(CaseFields):
    operation: str = Field(description="the operation's slug")
    submit: bool = Field(False, description="submit at once (otherwise the case is saved as a draft)")


class CaseUpdate(CaseFields):
    version: int | None = Field(None, description="the version you edited (or send If-Match)")
    submit: bool = False


class BulkCase(CaseFields):
    submit: bool = False


class BulkIn(_In):
    operation: str
    cases: list[BulkCase] = Field(min_length=1, max_length=500)


class ItemOut(BaseModel):
    position: int
    commodity_class: str
    substance_text: str | None
    substance: str | None = Field(description="canonical name")
    substance_control: str | None = Field(description="UN convention schedule / table")
    taxon_text: str | None
    taxon: str | None = Field(description="accepted CITES name")
    cites_appendix: str | None
    specimen_type: str | None
    quantity: float
    unit: str
    quantity_text: str | None
    mass_kg: float | None
    goods_description: str | None


class PartyOut(BaseModel):
    role: str
    kind: str
    name: str
    nationality: str | None
    birth_date: dt.date | None
    id_number: str | None
    phone: str | None
    email: str | None
    address: str | None


class CaseSummaryOut(BaseModel):
    id: int
    case_ref: str
    reporting_agency: str
    phase: int
    status: str
    version: int
    sharing_level: str
    seizure_date: dt.date
    place_country: str
    place_locode: str | None
    commodity_classes: list[str]


class CaseOut(CaseSummaryOut):
    operation: str
    place_name: str | None
    place_type: str | None
    direction: str | None
    transport_mode: str | None
    conveyance_ref: str | None
    detection_method: str | None
    concealment: str | None
    origin_country: str | None
    transit_countries: list[str]
    destination_country: str | None
    arrests: int
    description: str | None
    merged_into_id: int | None
    submitted_at: dt.datetime | None
    validated_at: dt.datetime | None
    updated_at: dt.datetime
    items: list[ItemOut]
    parties: list[PartyOut] | None = Field(description="null when you may not see nominal data")


class CaseListOut(BaseModel):
    items: list[CaseSummaryOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class FieldErrorOut(BaseModel):
    field: str
    value: str | None
    reason: str
    suggestion: str | None


class BulkResult(BaseModel):
    index: int
    ok: bool
    id: int | None = None
    case_ref: str | None = None
    status: int = Field(description="the HTTP status this case alone would have had")
    message: str | None = None
    fields: list[FieldErrorOut] = Field(default_factory=list)


class BulkOut(BaseModel):
    created: int
    rejected: int
    results: list[BulkResult]


class TransitionIn(_In):
    action: Literal["submit", "validate", "return", "withdraw"]
    version: int | None = None
    reason: str | None = Field(None, max_length=2000)


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str | None
    agency: str | None
    at: dt.datetime
    reason: str | None


class CaseBriefOut(BaseModel):
    id: int
    case_ref: str
    agency: str
    country: str | None
    seizure_date: dt.date
    place_country: str
    place: str | None
    status: str


class CandidateOut(BaseModel):
    a: CaseBriefOut
    b: CaseBriefOut
    days_apart: int
    matched_items: int
    linked: bool
    evidence: list[str]


class MergeIn(_In):
    keep_id: int
    duplicate_id: int
    reason: str = Field(min_length=1, max_length=2000)


class DismissIn(_In):
    case_ids: tuple[int, int]
    reason: str | None = Field(None, max_length=2000)


class SuggestionOut(BaseModel):
    value: str
    label: str


# --- builders -----------------------------------------------------------------------------------------------


def summary(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut(
        id=case.id, case_ref=case.case_ref, reporting_agency=case.reporting_agency.code, phase=case.phase.number,
        status=case.status, version=case.version, sharing_level=case.sharing_level, seizure_date=case.seizure_date,
        place_country=case.place_country, place_locode=case.place_locode,
        commodity_classes=sorted({i.commodity_class for i in case.items}),
    )  # fmt: skip


def case_out(case: Case, parties: list[Party] | None) -> CaseOut:
    base = summary(case).model_dump()
    return CaseOut(
        **base, operation=case.operation.slug, place_name=case.place_name, place_type=case.place_type,
        direction=case.direction, transport_mode=case.transport_mode, conveyance_ref=case.conveyance_ref,
        detection_method=case.detection_method, concealment=case.concealment, origin_country=case.origin_country,
        transit_countries=case.transit_countries, destination_country=case.destination_country, arrests=case.arrests,
        description=case.description, merged_into_id=case.merged_into_id, submitted_at=case.submitted_at,
        validated_at=case.validated_at, updated_at=case.updated_at,
        items=[ItemOut.model_validate(i, from_attributes=True) for i in case.items],
        parties=None if parties is None else [PartyOut.model_validate(p, from_attributes=True) for p in parties],
    )  # fmt: skip


def invalid_response(exc: forms.CaseInvalid) -> JSONResponse:
    body = {
        "error": {"code": "invalid", "message": exc.message, "suggestions": [],
                  "fields": [e.to_dict() for e in exc.errors]},
    }  # fmt: skip
    return JSONResponse(body, status_code=422)


def _etag(case: Case) -> dict[str, str]:
    return {"ETag": f'"{case.version}"'}


def if_match_version(if_match: str | None) -> int | None:
    if not if_match:
        return None
    m = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', if_match)
    if m is None:
        from dragonnet.errors import ValidationError

        raise ValidationError('If-Match must be the case\'s ETag, e.g. "3"')
    return int(m.group(1))


# --- routes -------------------------------------------------------------------------------------------------


@router.get("/cases", response_model=CaseListOut, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def list_cases(
    db: DbSession,
    actor: ApiActor,
    operation: Annotated[str, Query(description="the operation's slug")],
    phase: Annotated[int | None, Query(ge=1, le=99)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    commodity: Annotated[str | None, Query(max_length=16)] = None,
    country: Annotated[str | None, Query(max_length=100, description="seizure country: code or name")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in refs, places, goods, conveyance")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = queries.DEFAULT_LIMIT,
) -> CaseListOut:
    """Cases you may see, newest first, with filters; follow `next_cursor` for the next page."""
    op = get_operation(db, operation)
    filters = queries.CaseFilters(phase, status, commodity, country, q)
    page = queries.list_cursor(db, actor, op, filters, cursor=cursor, limit=limit)
    return CaseListOut(items=[summary(c) for c in page.cases], next_cursor=page.next_cursor)


@router.post(
    "/cases", status_code=201, response_model=CaseOut, responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID},
    tags=TAGS,
)  # fmt: skip
def create_case(body: CaseCreate, db: DbSession, auth: ApiAuth, response: Response) -> Any:
    """Create a case of your agency (a draft unless `submit`). Same validation as the spreadsheet import."""
    op = get_operation(db, body.operation)
    try:
        case = forms.create_case(db, auth.actor, op, body.to_input(), submit=body.submit)
    except forms.CaseInvalid as exc:
        return invalid_response(exc)
    response.headers.update(_etag(case))
    return case_out(case, queries.read_parties(db, auth.actor, case, purpose="api.create"))


@router.post("/cases/bulk", response_model=BulkOut, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def bulk_create(body: BulkIn, db: DbSession, auth: ApiAuth) -> BulkOut:
    """Create many cases; each case is atomic on its own: the valid ones land, the others say why."""
    from dragonnet.errors import DragonnetError

    op = get_operation(db, body.operation)
    results: list[BulkResult] = []
    for n, item in enumerate(body.cases):
        try:
            case = forms.create_case(db, auth.actor, op, item.to_input(), submit=item.submit)
        except forms.CaseInvalid as exc:
            fields = [FieldErrorOut(**e.to_dict()) for e in exc.errors]
            results.append(BulkResult(index=n, ok=False, case_ref=item.case_ref, status=422, message=exc.message,
                                      fields=fields))  # fmt: skip
            continue
        except DragonnetError as exc:
            status = 404 if isinstance(exc, NotFound) else 403 if exc.__class__.__name__ == "PermissionDenied" else 422
            results.append(BulkResult(index=n, ok=False, case_ref=item.case_ref, status=status, message=exc.message))
            continue
        results.append(BulkResult(index=n, ok=True, id=case.id, case_ref=case.case_ref, status=201))
    created = sum(r.ok for r in results)
    return BulkOut(created=created, rejected=len(results) - created, results=results)


@router.get("/cases/{case_id}", response_model=CaseOut, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def read_case(case_id: int, db: DbSession, actor: ApiActor, response: Response) -> CaseOut:
    """One case; parties only where you may see nominal data (each such read is audited). ETag = version."""
    case = get_case(db, actor, case_id)
    response.headers.update(_etag(case))
    return case_out(case, queries.read_parties(db, actor, case, purpose="api"))


@router.put(
    "/cases/{case_id}", response_model=CaseOut,
    responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID, **CONFLICT}, tags=TAGS,
)  # fmt: skip
def update_case(
    case_id: int,
    body: CaseUpdate,
    db: DbSession,
    auth: ApiAuth,
    response: Response,
    if_match: Annotated[str | None, Header(description='the ETag you read, e.g. "3"')] = None,
) -> Any:
    """Replace the case's content. Give the version you edited (If-Match or `version`): stale -> 409."""
    version = if_match_version(if_match)
    version = version if version is not None else body.version
    try:
        case = forms.update_case(db, auth.actor, case_id, body.to_input(), version=version, submit=body.submit)
    except forms.CaseInvalid as exc:
        return invalid_response(exc)
    response.headers.update(_etag(case))
    return case_out(case, queries.read_parties(db, auth.actor, case, purpose="api.update"))


@router.post(
    "/cases/{case_id}/transitions", response_model=CaseOut,
    responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID, **CONFLICT}, tags=TAGS,
)  # fmt: skip
def transition(case_id: int, body: TransitionIn, db: DbSession, auth: ApiAuth, response: Response) -> CaseOut:
    """A workflow step: submit, validate, return (to draft, with a reason), withdraw. Illegal steps: 422."""
    case = workflow.transition(db, auth.actor, case_id, body.action, version=body.version, reason=body.reason)
    response.headers.update(_etag(case))
    return case_out(case, None)


@router.get(
    "/cases/{case_id}/history", response_model=list[HistoryOut], responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=TAGS,
)  # fmt: skip
def case_history(case_id: int, db: DbSession, actor: ApiActor) -> list[HistoryOut]:
    """Who moved the case from which status to which, when and why."""
    get_case(db, actor, case_id)
    return [
        HistoryOut(
            from_status=h.from_status,
            to_status=h.to_status,
            actor=h.actor_username,
            agency=h.actor_agency,
            at=h.at,
            reason=h.reason,
        )
        for h in workflow.history(db, case_id)
    ]


@router.get(
    "/operations/{slug}/duplicates", response_model=list[CandidateOut], responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=TAGS,
)  # fmt: skip
def duplicate_candidates(
    slug: str, db: DbSession, actor: ApiActor, all: Annotated[bool, Query(description="also unlinked pairs")] = False
) -> list[CandidateOut]:
    """Likely duplicate reports (regional analysts; national coordinators for their country), with evidence."""
    op = get_operation(db, slug)
    return [
        CandidateOut.model_validate(c.to_dict()) for c in duplicates.candidates(db, actor, op, require_link=not all)
    ]


@router.post("/cases/merge", response_model=CaseOut, responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID}, tags=TAGS)
def merge_cases(body: MergeIn, db: DbSession, auth: ApiAuth) -> CaseOut:
    """Merge a duplicate into the case kept: the duplicate stays (status merged) and is counted once."""
    duplicates.merge(db, auth.actor, body.keep_id, body.duplicate_id, body.reason)
    return case_out(get_case(db, auth.actor, body.duplicate_id), None)


@router.post(
    "/cases/duplicates/dismiss", status_code=204, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS
)  # fmt: skip
def dismiss_candidate(body: DismissIn, db: DbSession, auth: ApiAuth) -> Response:
    """Mark a candidate pair as two different seizures; it is not proposed again."""
    duplicates.dismiss(db, auth.actor, body.case_ids[0], body.case_ids[1], body.reason)
    return Response(status_code=204)


@router.get(
    "/lookups/{kind}", response_model=list[SuggestionOut], responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS
)  # fmt: skip
def lookup(
    kind: str, actor: ApiActor, q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=lookups.MAX_RESULTS)] = 10,
) -> list[SuggestionOut]:  # fmt: skip
    """Suggestions from the reference data: species, substances, places, countries."""
    if kind not in lookups.KINDS:
        raise NotFound(f"no lookup {kind!r}; use one of {', '.join(lookups.KINDS)}")
    return [SuggestionOut(value=s.value, label=s.label) for s in lookups.suggest(kind, q, limit=limit)]
