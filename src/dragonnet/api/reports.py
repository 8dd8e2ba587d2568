"""`/api/v1` routes of the reports capability: debrief figures (JSON) and case-list exports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.http.deps import ApiActor, DbSession
from dragonnet.operation import service as operations
from dragonnet.reporting import rules, service
from dragonnet.reporting.exports import content_disposition, export_cases

router = APIRouter(prefix=PREFIX)

Text = Annotated[str | None, Query(max_length=64)]


@router.get(
    "/operations/{slug}/reports/debrief",
    responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=["reports"],
)
def debrief(
    slug: str, db: DbSession, actor: ApiActor,
    phase: Annotated[int | None, Query(ge=0, le=1000)] = None,
    rule: Annotated[str, Query(description="operation or wco-reported")] = rules.DEFAULT.key,
    scope: Annotated[str | None, Query(description="agency, country, operation or public")] = None,
    commodity: Text = None, country: Text = None,
) -> dict[str, Any]:  # fmt: skip
    """The debrief figures of a phase within the caller's scope, each breakdown with its counting rule.

    Partner observers get the public summary (aggregates, small cells suppressed). Audited as report.generate.
    """
    result = service.debrief(
        db, slug, phase, actor=actor, rule=rules.preset(rule), scope=scope,
        filters=service.Filters.parse(commodity, country), fmt="json",
    )  # fmt: skip
    return result.as_dict()


@router.get(
    "/operations/{slug}/reports/cases.{fmt}",
    responses={**UNAUTHENTICATED, **NOT_FOUND},
    response_class=Response,
    tags=["reports"],
)
def cases_export(
    slug: str, fmt: str, db: DbSession, actor: ApiActor, phase: Annotated[int | None, Query(ge=0, le=1000)] = None
) -> Response:
    """The case list the caller may see (non-nominal columns) as CSV or XLSX; audited as cases.export."""
    content, media_type, name = export_cases(db, actor, operations.get_operation(db, slug), fmt, phase)
    return Response(content, media_type=media_type, headers={"Content-Disposition": content_disposition(name)})
