"""`/api/v1/reference/...`: resolving places, taxa and HS codes, and checking a list of terms. Thin: the work is
dragonnet.reference's (one door: reference.check for lists)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from dragonnet.api.schemas import ErrorOut
from dragonnet.api.v1 import PREFIX, UNAUTHENTICATED
from dragonnet.errors import ValidationError
from dragonnet.http.deps import ApiActor
from dragonnet.reference import cites, goods, places
from dragonnet.reference.check import MAX_BYTES, MAX_TERMS, Term, check_file, check_terms

router = APIRouter(prefix=PREFIX)

INVALID: dict[int | str, dict[str, Any]] = {422: {"model": ErrorOut, "description": "the input cannot be read"}}
Kind = Literal["taxon", "place", "substance", "country", "hs"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TermIn(_Model):
    text: str = Field(min_length=1, max_length=500)
    country: str | None = Field(default=None, max_length=200, description="context for places (alpha-2 or a name)")


class CheckIn(_Model):
    kind: Kind
    terms: list[TermIn] = Field(min_length=1, max_length=MAX_TERMS)


class TermOut(_Model):
    line: int = Field(description="the term's position (the file's line for uploads)")
    text: str
    country: str | None
    status: str = Field(description="exact, guess or unresolved")
    resolved_to: str | None = Field(description="what the term reads as, in one line")
    code: str | None = Field(description="UN/LOCODE (or IATA/ICAO), alpha-2, taxon name, substance name or HS code")
    reason: str | None = Field(description="why a guess is a guess, or why nothing resolved")
    suggestions: list[str]
    detail: dict[str, Any] = Field(description="the kind's own fields (coordinates, CITES status, control...)")


class CheckOut(_Model):
    kind: str
    terms: int
    counts: dict[str, int] = Field(description="exact / guess / unresolved")
    results: list[TermOut]


class ResolutionOut(_Model):
    status: str = Field(description="exact, guess or unresolved (a taxon that is unresolved is 'unverified')")
    detail: dict[str, Any]


@router.post("/reference/check", response_model=CheckOut, responses={**UNAUTHENTICATED, **INVALID}, tags=["reference"])
def check(body: CheckIn, actor: ApiActor) -> CheckOut:
    """Resolve a list of terms of one kind: per term, what it resolved to, exactly or by a guess, or why not."""
    report = check_terms(body.kind, [Term(i, t.text, t.country) for i, t in enumerate(body.terms, start=1)])
    return CheckOut.model_validate(report.as_dict())


@router.post(
    "/reference/check/file", response_model=CheckOut, responses={**UNAUTHENTICATED, **INVALID}, tags=["reference"]
)
def check_upload(kind: Annotated[Kind, Form()], file: Annotated[UploadFile, File()], actor: ApiActor) -> CheckOut:
    """The same for an uploaded file: a CSV with a `text` column (and `country`), or one term per line."""
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(f"file too large (at most {MAX_BYTES:,} bytes)")
    return CheckOut.model_validate(check_file(kind, data).as_dict())


@router.get("/reference/places/resolve", response_model=ResolutionOut, responses=UNAUTHENTICATED, tags=["reference"])
def resolve_place(
    actor: ApiActor,
    q: Annotated[str, Query(min_length=1, max_length=500, description="a UN/LOCODE, IATA/ICAO code or a name")],
    country: Annotated[str | None, Query(max_length=200, description="the country as context")] = None,
) -> ResolutionOut:
    """Resolve a place: exact, a guess (with what was matched) or unresolved (with why); never matched abroad."""
    res = places.lookup(q, country)
    return ResolutionOut(status=res.status, detail=places.describe(res))


@router.get("/reference/taxa/resolve", response_model=ResolutionOut, responses=UNAUTHENTICATED, tags=["reference"])
def resolve_taxon(
    actor: ApiActor,
    q: Annotated[str, Query(min_length=1, max_length=500, description="any rank; scientific, common or group name")],
) -> ResolutionOut:
    """Resolve a taxon against the CITES data: its CITES status (listed, includes listed taxa, not CITES-listed,
    unverified), exact or guessed."""
    res = cites.lookup(q)
    return ResolutionOut(status=res.status, detail=cites.describe(res))


@router.get("/reference/goods/resolve", response_model=ResolutionOut, responses=UNAUTHENTICATED, tags=["reference"])
def resolve_goods(
    actor: ApiActor,
    q: Annotated[str, Query(min_length=1, max_length=100, description="an HS code: 2, 4 or 6 digits, dots allowed")],
) -> ResolutionOut:
    """Check an HS 2022 code: its description, chapter and heading."""
    res = goods.lookup(q)
    return ResolutionOut(status=res.status, detail=goods.describe(res))
