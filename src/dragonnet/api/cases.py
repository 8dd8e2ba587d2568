"""`/api/v1` routes of the cases capability: CRUD, cursor-paginated list, bulk create, workflow, duplicates,
field lookups. Validation and normalisation are the spreadsheet import's (dragonnet.intake.forms)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import to_json

from dragonnet.api import case_json
from dragonnet.api.schemas import ErrorOut
from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.domain.exchange import FORMAT, Column
from dragonnet.errors import NotFound
from dragonnet.http.deps import ApiActor, ApiAuth, DbSession
from dragonnet.intake import bulk, duplicates, forms, lookups, queries, workflow
from dragonnet.intake.readings import hs_label
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import PermissionDenied, get_case
from dragonnet.storage.models import Case, Item, Party

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["cases"]

INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "the case breaks the exchange format's rules (`fields` says where)"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the case changed since the version you edited; nothing was saved"}
}


JSON_TYPES: dict[case_json.Kind, Any] = {"text": str, "number": float | str, "integer": int | str,
                                         "countries": list[str] | str}  # fmt: skip


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _declare(namespace: dict[str, Any], columns: tuple[Column, ...]) -> None:
    """Declare the exchange format's `columns` as fields of the model whose class body `namespace` is: the
    API's input schema is the format's (names, required, limits, descriptions), so a new column is a new field."""
    annotations = namespace.setdefault("__annotations__", {})
    for c in columns:
        rule, limit = case_json.column_rule(c)
        kind: Any = JSON_TYPES[rule]
        description = c.description
        if c.vocabulary is not None:
            values = ", ".join(v for v, _label in FORMAT.vocabularies[c.vocabulary].values)
            description = f"{values} (or a synonym)"
        elif c.type == "unit":
            description = ", ".join(FORMAT.allowed_values(c.sheet)[c.name])
        annotations[c.name] = kind if c.required else kind | None
        namespace[c.name] = Field(... if c.required else None, max_length=limit, description=description or None)


class ItemIn(_In):
    _declare(vars(), FORMAT.at_level("items", "item"))


class PartyIn(_In):
    _declare(vars(), FORMAT.at_level("parties", "party"))


class CaseFields(_In):
    _declare(vars(), (FORMAT.column("items", "case_ref"), *FORMAT.at_level("items", "case")))
    if TYPE_CHECKING:  # declared above from the format; named here for the type checker
        case_ref: str
    description: str | None = Field(None, max_length=FORMAT.text_max, description="about the case, free text")
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
    cases: list[BulkCase] = Field(min_length=1, max_length=bulk.MAX_CASES)


# The bulk body's fast check (case_json.plain_bulk): the same rules as the models above, from the same columns.
_ITEM_SHAPE = case_json.Shape.of(FORMAT.at_level("items", "item"))
_PARTY_SHAPE = case_json.Shape.of(FORMAT.at_level("parties", "party"))
_BULK_CASE_SHAPE = case_json.Shape.of(
    (FORMAT.column("items", "case_ref"), *FORMAT.at_level("items", "case")),
    extra={"description": ("text", FORMAT.text_max)},
    lists={"items": (_ITEM_SHAPE, 1, forms.MAX_ITEMS), "parties": (_PARTY_SHAPE, 0, forms.MAX_PARTIES)},
    flags=("submit",),
    required=("items",),
)


def _inline_refs(schema: Any, definitions: dict[str, Any]) -> Any:
    """A JSON schema with its `#/$defs/...` references replaced by the definitions (none is recursive)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {k: _inline_refs(v, definitions) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline_refs(v, definitions) for v in schema]
    return schema


def _documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting `model` as the JSON request body of a route that parses its body itself."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": _inline_refs(schema, schema.get("$defs", {}))}}}}  # fmt: skip


def bulk_body(body: Any) -> tuple[str, bulk.TypedBatch]:
    """The bulk body's cases, column by column. The fast check takes a body that fits the schema exactly
    straight into the batch; any other body is validated by the models (BulkIn), whose errors are the answer
    (422, the same paths and messages as ever) and whose values are taken if they convert it."""
    cases = case_json.plain_bulk(body, _BULK_CASE_SHAPE, bulk.MAX_CASES)
    if cases is not None:
        return body["operation"], forms.TypedBatch.from_mappings(cases, [c.get("submit") is True for c in cases])
    try:
        model = BulkIn.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)],
                                     body=body) from None  # fmt: skip
    return model.operation, forms.TypedBatch.from_mappings([c.model_dump(exclude={"submit"}) for c in model.cases],
                                          [c.submit for c in model.cases])  # fmt: skip


class ItemOut(BaseModel):
    position: int
    commodity_class: str
    substance_text: str | None
    substance: str | None = Field(description="canonical name")
    substance_control: str | None = Field(description="UN convention schedule / table")
    taxon_text: str | None
    taxon: str | None = Field(description="the taxon read, at its rank (a species, a genus, a family...)")
    taxon_rank: str | None = Field(None, description="SPECIES, GENUS, FAMILY, ORDER, CLASS...")
    taxon_status: str | None = Field(
        None, description="listed, includes listed taxa, not CITES-listed, or unverified (kept as written)"
    )
    cites_appendix: str | None
    specimen_type: str | None
    quantity: float | None = Field(description="null when the quantity was reported as unknown")
    unit: str | None
    quantity_text: str | None
    mass_kg: float | None
    hs_code: str | None = Field(None, description="HS code (digits) as checked against HS 2022")
    hs_description: str | None = Field(None, description="the HS 2022 description of the code (its subheading)")
    goods_description: str | None
    extra: dict[str, Any] | None = Field(
        default=None, description="exchange-format columns without a field of their own, by column name"
    )


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
    extra: dict[str, Any] | None = Field(
        default=None, description="exchange-format columns without a field of their own, by column name"
    )


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
    extra: dict[str, Any] | None = Field(
        default=None, description="exchange-format columns without a field of their own, by column name"
    )


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


def item_out(item: Item) -> ItemOut:
    """An item, its HS code with the HS 2022 description."""
    out = ItemOut.model_validate(item, from_attributes=True)
    return out.model_copy(update={"hs_description": hs_label(item.hs_code)})


def case_out(case: Case, parties: list[Party] | None) -> CaseOut:
    base = summary(case).model_dump()
    return CaseOut(
        **base, operation=case.operation.slug, place_name=case.place_name, place_type=case.place_type,
        direction=case.direction, transport_mode=case.transport_mode, conveyance_ref=case.conveyance_ref,
        detection_method=case.detection_method, concealment=case.concealment, origin_country=case.origin_country,
        transit_countries=case.transit_countries, destination_country=case.destination_country, arrests=case.arrests,
        description=case.description, extra=case.extra, merged_into_id=case.merged_into_id,
        submitted_at=case.submitted_at, validated_at=case.validated_at, updated_at=case.updated_at,
        items=[item_out(i) for i in case.items],
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
) -> Response:
    """Cases you may see, newest first, with filters; follow `next_cursor` for the next page."""
    op = get_operation(db, operation)
    filters = queries.CaseFilters(phase, status, commodity, country, q)
    page = queries.list_cursor(db, actor, op, filters, cursor=cursor, limit=limit)
    # `CaseListOut` encoded once from the page's plain values (its fields in order), as `bulk_response` does.
    content = {"items": page.cases, "next_cursor": page.next_cursor}
    return Response(content=to_json(content), media_type="application/json")


@router.post(
    "/cases", status_code=201, response_model=CaseOut, responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID},
    tags=TAGS,
)  # fmt: skip
def create_case(body: CaseCreate, db: DbSession, auth: ApiAuth, response: Response) -> Any:
    """Create a case of your agency (a draft unless `submit`). Same validation as the spreadsheet import."""
    op = get_operation(db, body.operation, phases=True)
    try:
        case = forms.create_case(db, auth.actor, op, body.to_input(), submit=body.submit)
    except forms.CaseInvalid as exc:
        return invalid_response(exc)
    response.headers.update(_etag(case))
    return case_out(case, queries.read_parties(db, auth.actor, case, purpose="api.create"))


@router.post(
    "/cases/bulk", response_model=BulkOut, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS,
    openapi_extra=_documented_body(BulkIn),
)  # fmt: skip
def bulk_create(body: Annotated[Any, Body()], db: DbSession, auth: ApiAuth) -> Response:
    """Create many cases (up to 2,000 per request), validated together in one pass with the import's rules;
    each case is atomic on its own: the valid ones land, the others say why."""
    slug, batch = bulk_body(body)  # the body BulkIn documents, parsed here (see case_json)
    op = get_operation(db, slug, phases=True)
    outcomes = bulk.create_cases(db, auth.actor, op, batch)
    return bulk_response(outcomes)


def bulk_response(outcomes: list[bulk.Outcome]) -> Response:
    """`BulkOut` as JSON, encoded once from plain values by pydantic's serialiser (the one FastAPI's response
    model uses: the same bytes) instead of a model per case validated again as the response."""
    results = [_bulk_result(o) for o in outcomes]
    created = sum(r["ok"] for r in results)
    content = {"created": created, "rejected": len(results) - created, "results": results}
    return Response(content=to_json(content), media_type="application/json")


def _bulk_result(outcome: bulk.Outcome) -> dict[str, Any]:
    """One case's result (`BulkResult`'s fields, in order): 201 with its id, or the status this case alone would
    have had and why."""
    exc = outcome.error
    result: dict[str, Any] = {"index": outcome.index, "ok": exc is None, "id": outcome.case_id if exc is None else None,
                              "case_ref": outcome.case_ref, "status": 201, "message": None, "fields": []}  # fmt: skip
    if exc is None:
        return result
    result["message"] = exc.message
    if isinstance(exc, forms.CaseInvalid):
        result["status"] = 422
        result["fields"] = [e.to_dict() for e in exc.errors]
    else:
        result["status"] = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 422
    return result


_CASE_OUT = TypeAdapter(CaseOut)


def case_out_json(record: queries.CaseRecord) -> bytes:
    """`case_out`'s JSON from a case read as plain values (`queries.open_case`): the same model validates and
    serialises it, as FastAPI does with a route's CaseOut, without ORM objects or a model built per field."""
    items = [{**i, "hs_description": hs_label(i["hs_code"])} for i in record.items]
    body = {**record.case, "commodity_classes": sorted({i["commodity_class"] for i in items}),
            "transit_countries": record.transits, "items": items, "parties": record.parties}  # fmt: skip
    return _CASE_OUT.dump_json(_CASE_OUT.validate_python(body))


@router.get("/cases/{case_id}", response_model=CaseOut, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def read_case(case_id: int, db: DbSession, actor: ApiActor) -> Response:
    """One case; parties only where you may see nominal data (each such read is audited). ETag = version."""
    record = queries.open_case(db, actor, case_id, purpose="api")
    # Answered as bytes: FastAPI would validate a returned CaseOut again (on a worker thread) before serialising.
    return Response(case_out_json(record), media_type="application/json",
                    headers={"ETag": f'"{record.case["version"]}"'})  # fmt: skip


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
