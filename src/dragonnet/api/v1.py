"""`/api/v1`: health, the caller, operations and reference data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from dragonnet import __version__, reference
from dragonnet.api.schemas import (
    CountryOut,
    DatasetOut,
    ErrorOut,
    HealthOut,
    MeOut,
    OperationOverview,
    OperationSummary,
)
from dragonnet.http.deps import ApiActor, ApiAuth, DbSession
from dragonnet.operation import service
from dragonnet.operation.service import list_operations
from dragonnet.reference import countries
from dragonnet.storage.migrate import current_revision, head_revision

PREFIX = "/api/v1"

UNAUTHENTICATED: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut, "description": "not logged in"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "no such record"}}
BAD_FILE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the file as a whole cannot be read (empty, too large, format, headers)"}
}
UNRESOLVED: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "the value matches nothing; `suggestions` lists near matches"}
}

router = APIRouter(prefix=PREFIX)


@router.get("/health", response_model=HealthOut, tags=["system"])
def health(request: Request) -> HealthOut:
    """Liveness and schema state; needs no login and reveals no configuration."""
    engine = request.app.state.engine
    revision = current_revision(engine)
    head = head_revision()
    return HealthOut(
        status="ok" if revision == head else "schema_outdated",
        version=__version__,
        database=engine.dialect.name,
        schema_revision=revision,
        schema_head=head,
    )


@router.get("/me", response_model=MeOut, responses=UNAUTHENTICATED, tags=["account"])
def me(auth: ApiAuth) -> MeOut:
    """The logged-in user: agency, contact point and roles."""
    return MeOut.build(auth.user)


@router.get("/operations", response_model=list[OperationSummary], responses=UNAUTHENTICATED, tags=["operations"])
def operations(db: DbSession, actor: ApiActor) -> list[OperationSummary]:
    """The operations the caller may open, with their phases."""
    return [OperationSummary.build(op) for op in list_operations(db, actor)]


@router.get(
    "/operations/{slug}",
    response_model=OperationOverview,
    responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=["operations"],
)
def operation(slug: str, db: DbSession, actor: ApiActor) -> OperationOverview:
    """Case counts per phase and commodity class as the caller may see them, the counting rule, participants."""
    return OperationOverview.build(db, actor, service.get_operation(db, slug))


@router.get("/reference/datasets", response_model=list[DatasetOut], responses=UNAUTHENTICATED, tags=["reference"])
def datasets(actor: ApiActor) -> list[DatasetOut]:
    """The reference datasets shipped with this version: source, version, licence, record count, attribution."""
    return [DatasetOut.build(d) for d in reference.datasets()]


@router.get(
    "/reference/countries/resolve",
    response_model=CountryOut,
    responses={**UNAUTHENTICATED, **UNRESOLVED},
    tags=["reference"],
)
def resolve_country(
    actor: ApiActor,
    q: Annotated[str, Query(min_length=1, max_length=200, description="a code or a name in en/zh/vi/fr/es")],
) -> CountryOut:
    """Resolve a country code, name or alias (ISO 3166-1)."""
    return CountryOut.build(countries.resolve(q))
