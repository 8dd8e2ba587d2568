"""`/api/v1/operations/{slug}/curation/...`: the review queue of an operation, mapping a written value once,
removing a mapping, and the mapping file. Thin: the work and the access rules are
dragonnet.intake.curation.service's (the door of the web page and the CLI too)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from dragonnet.api.schemas import ErrorOut
from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.errors import ValidationError
from dragonnet.http.deps import ApiActor, DbSession
from dragonnet.intake.curation import files, service

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["curation"]
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "a national coordinator maps values for its own agency only"}
}
INVALID: dict[int | str, dict[str, Any]] = {422: {"model": ErrorOut, "description": "not a reference entry"}}
Kind = Literal["taxon", "place", "substance", "country", "hs_code"]
State = Literal["open", "mapped", "not_listed", "all"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueOut(BaseModel):
    id: int
    kind: str
    text: str = Field(description="the value as written")
    context: str = Field(description="the country of a place (alpha-2), else empty")
    agency: str = Field(description="the agency that wrote it")
    status: str = Field(description="guess or unresolved: how the reference data read it")
    read_as: str | None
    reason: str | None
    occurrences: int = Field(description="rows that wrote it, over every import and save")
    state: str = Field(description="open, mapped or not_listed")
    mapping_id: int | None
    first_seen: dt.datetime
    last_seen: dt.datetime


class MappingOut(BaseModel):
    id: int
    kind: str
    text: str
    context: str
    agency: str = Field(description="the agency it is for; empty for the whole operation")
    target: str | None = Field(description="the reference entry; null when not listed")
    target_label: str | None
    not_listed: bool
    note: str | None
    created_by: str | None
    updated_at: dt.datetime


class MapIn(_In):
    value_id: int | None = Field(None, description="a queue entry; or name the value by kind and text")
    kind: Kind | None = None
    text: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=100, description="a place's country (empty: any)")
    agency: str | None = Field(None, max_length=32, description="for one agency (a coordinator: always its own)")
    for_its_agency: bool = Field(False, description="with value_id: for the agency that wrote the value")
    target: str | None = Field(None, max_length=200, description="LOCODE/IATA/ICAO, taxon, substance, country, HS")
    not_listed: bool = Field(False, description="confirm the value has no reference entry")
    note: str | None = Field(None, max_length=2000)


class AppliedOut(BaseModel):
    mapping: MappingOut
    created: bool
    cases: int = Field(description="cases whose values changed")
    items: int = Field(description="values changed (items, or cases for a place)")
    values_closed: int = Field(description="review-queue entries it closed")


class RowErrorOut(BaseModel):
    row: int
    value: str | None
    reason: str


class FileImportOut(BaseModel):
    ok: bool
    rows: int
    applied: list[AppliedOut]
    errors: list[RowErrorOut] = Field(description="every bad row; nothing is imported while there is one")


def _applied(a: service.Applied) -> AppliedOut:
    return AppliedOut(mapping=MappingOut(**a.mapping.to_dict()), created=a.created, cases=a.cases, items=a.items,
                      values_closed=a.values_closed)  # fmt: skip


@router.get(
    "/operations/{slug}/curation/values", response_model=list[ValueOut], responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=TAGS,
)  # fmt: skip
def values(
    slug: str,
    db: DbSession,
    actor: ApiActor,
    kind: Kind | None = None,
    state: State = "open",
    agency: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LISTED)] = 200,
) -> list[ValueOut]:
    """The values to review (most written first): your agency's (a national coordinator) or every agency's (a
    regional analyst). 404 for everyone else."""
    found = service.review_queue(db, actor, slug, kind=kind, state=None if state == "all" else state, agency=agency,
                                 limit=limit)  # fmt: skip
    return [ValueOut(**e.to_dict()) for e in found]


@router.get(
    "/operations/{slug}/curation/mappings", response_model=list[MappingOut],
    responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS,
)  # fmt: skip
def mappings(slug: str, db: DbSession, actor: ApiActor, kind: Kind | None = None) -> list[MappingOut]:
    """The mappings in force: the operation's and your agency's (an analyst: every agency's)."""
    return [MappingOut(**m.to_dict()) for m in service.mappings(db, actor, slug, kind=kind)]


@router.post(
    "/operations/{slug}/curation/mappings", response_model=AppliedOut,
    responses={**UNAUTHENTICATED, **NOT_FOUND, **FORBIDDEN, **INVALID}, tags=TAGS,
)  # fmt: skip
def map_value(slug: str, body: MapIn, db: DbSession, actor: ApiActor) -> AppliedOut:
    """Map a written value once to a reference entry (or confirm it is not listed): applied at once to the cases
    you may see that carry it (in their history, audited), to the queue, and to every later import."""
    applied = service.map_value(
        db, actor, slug, value_id=body.value_id, kind=body.kind, text=body.text, context=body.country,
        agency=body.agency, target=body.target, not_listed=body.not_listed, note=body.note,
        for_its_agency=body.for_its_agency,
    )  # fmt: skip
    return _applied(applied)


@router.delete(
    "/operations/{slug}/curation/mappings/{mapping_id}", status_code=204,
    responses={**UNAUTHENTICATED, **NOT_FOUND, **FORBIDDEN}, tags=TAGS,
)  # fmt: skip
def remove_mapping(slug: str, mapping_id: int, db: DbSession, actor: ApiActor) -> Response:
    """Remove a mapping: later imports read the value from the reference data again; cases keep their values."""
    service.remove_mapping(db, actor, slug, mapping_id)
    return Response(status_code=204)


@router.get(
    "/operations/{slug}/curation/mappings/file", responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS,
    response_class=Response,
)  # fmt: skip
def export(slug: str, db: DbSession, actor: ApiActor, format: Literal["csv", "yaml"] = "csv") -> Response:
    """The mappings you see as a file (CSV or YAML) another operation can import."""
    text = service.export_mappings(db, actor, slug, format)
    media = "text/csv" if format == "csv" else "application/yaml"
    return Response(text, media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{slug}-mappings.{format}"'})  # fmt: skip


@router.post(
    "/operations/{slug}/curation/mappings/file", response_model=FileImportOut,
    responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID}, tags=TAGS,
)  # fmt: skip
def import_file(slug: str, file: Annotated[UploadFile, File()], db: DbSession, actor: ApiActor) -> FileImportOut:
    """Import a mapping file (CSV or YAML): all rows checked first; one bad row and nothing is imported (ok false,
    every bad row listed); otherwise every mapping is made and applied."""
    data = file.file.read(files.MAX_BYTES + 1)
    if len(data) > files.MAX_BYTES:
        raise ValidationError(f"file too large (at most {files.MAX_BYTES:,} bytes)")
    result = service.import_mappings(db, actor, slug, data=data, filename=file.filename or "mappings.csv")
    if not result.ok:
        db.rollback()
    return FileImportOut(
        ok=result.ok, rows=result.rows, applied=[_applied(a) for a in result.applied],
        errors=[RowErrorOut(row=e.row, value=e.value, reason=e.reason) for e in result.errors],
    )  # fmt: skip
