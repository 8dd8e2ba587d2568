"""`/api/v1` routes of the linkage capability: networks, their graphs, routes and trends, decisions, notices,
declarations linked to cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.http.deps import ApiActor, DbSession
from dragonnet.linkage import routes, service
from dragonnet.linkage.networks import graph_elements, summary_rows
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import Hidden
from dragonnet.web.linkage import KindFilter, OfficeFilter, record_declaration_read, record_entity_read

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["linkage"]


class DecisionIn(BaseModel):
    left: int = Field(description="a party id")
    right: int = Field(description="another party id")
    decision: str = Field(pattern="^(confirm|reject)$")
    note: str = Field(default="", max_length=2000)


class DecisionOut(BaseModel):
    left: int
    right: int
    decision: str


class EvidenceOut(BaseModel):
    kind: str = Field(description="party, container, phone or company_name (a lead, weaker than a resolved party)")
    label: str
    entity: str = Field(description='"party:<id>", "company:<name key>", "container:<number>" or "phone:<E.164>"')
    lead: bool = Field(description="a company-name lead, not a resolved entity")
    case_values: list[str] = Field(description="as written on the case (party names, identifiers)")
    declaration_values: list[str] = Field(description="as written on the declaration")
    probability: float | None = Field(
        default=None, description="for a party the latest resolution run's model matched: its match probability"
    )


class DeclarationLinkOut(BaseModel):
    case_id: int
    case_ref: str
    case_agency: str
    seizure_date: str
    declaration: str = Field(description="<batch id>/<declaration id>: unique across import batches")
    declaration_id: str
    batch_id: int
    declaration_agency: str | None = Field(description="the agency that imported the declaration")
    office: str = Field(description="the customs office (UN/LOCODE) where the declaration was lodged")
    date: str = Field(description="the date the declaration was lodged")
    mode: str | None
    hs_codes: list[str] = Field(description="HS codes of the declared items")
    lead_only: bool = Field(description="the only evidence is a company-name lead")
    evidence: list[EvidenceOut]
    targeting_list_id: int | None = Field(description="your agency's latest targeting list holding the declaration")
    targeting_hit_id: int | None


class DeclarationLinksOut(BaseModel):
    operation: str
    may_read: bool = Field(description="false: you read no declarations (not a member who may target)")
    declarations: int = Field(description="declarations of your agency read, lodged during the operation's phases")
    cases: int = Field(description="cases of the operation you may see")
    total: int = Field(description="linked case-declaration pairs before the filters")
    links: list[DeclarationLinkOut]


@router.get("/operations/{slug}/networks", responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def networks(
    slug: str, db: DbSession, actor: ApiActor, min_countries: Annotated[int, Query(ge=1, le=30)] = 1
) -> list[dict[str, Any]]:
    """Networks of cases linked by shared entities, computed over what the caller may see."""
    op = get_operation(db, slug)
    _ex, nets = service.networks_for(db, actor, operation_id=op.id)
    shown = [n for n in nets if len(n.countries) >= min_countries]
    record_entity_read(db, actor, shown, "networks api")
    return summary_rows(shown)


@router.get("/operations/{slug}/networks/{number}/graph", responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def network_graph(slug: str, number: int, db: DbSession, actor: ApiActor) -> dict[str, Any]:
    """One network as Cytoscape.js elements (case nodes link to `/cases/{id}`)."""
    op = get_operation(db, slug)
    ex, nets = service.networks_for(db, actor, operation_id=op.id)
    if not 1 <= number <= len(nets):
        raise Hidden(actor, "network", number)
    record_entity_read(db, actor, [nets[number - 1]], "network graph api")
    return {"network": number, "elements": graph_elements(ex, nets[number - 1])}


@router.get("/operations/{slug}/routes", responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def route_flows(
    slug: str, db: DbSession, actor: ApiActor, phase: Annotated[int, Query(ge=1, le=50)],
    compare: Annotated[int | None, Query(ge=1, le=50)] = None,
    commodity: Annotated[str | None, Query(max_length=16)] = None,
    alpha: Annotated[float, Query(gt=0, lt=1)] = routes.DEFAULT_ALPHA,
) -> dict[str, Any]:  # fmt: skip
    """Flows of a phase (validated cases) and route changes against another phase (exact binomial test)."""
    op = get_operation(db, slug)
    ex = service.extract(db, actor, operation_id=op.id)
    other = compare if compare is not None else phase - 1
    return {
        "phase": phase, "compared_with": other, "alpha": alpha,
        "flows": [{"route": list(f.route), "phase": f.phase, "commodity": f.commodity, "product": f.product,
                   "mode": f.mode, "cases": f.cases} for f in routes.flows(ex, phase=phase, commodity=commodity)],
        "changes": [{"route": list(t.route), "before": t.before, "after": t.after, "expected_after": t.expected_after,
                     "p_value": t.p_value, "change": t.change, "significant": t.significant}
                    for t in routes.trends(ex, other, phase, alpha=alpha, commodity=commodity)],
    }  # fmt: skip


@router.get("/linkage/notices", responses=UNAUTHENTICATED, tags=TAGS)
def notices(db: DbSession, actor: ApiActor) -> list[dict[str, Any]]:
    """'Your party X likely matches a party of agency Y in case Z': the hub's encoded matches for your agency."""
    return [
        {"party_id": n.party_id, "case_ref": n.own_case_ref, "other_agency": n.other_agency,
         "other_case_ref": n.other_case_ref, "dice": round(n.dice, 3)}
        for n in service.match_notices(db, actor)
    ]  # fmt: skip


@router.post("/linkage/decisions", response_model=DecisionOut, responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def post_decision(body: DecisionIn, db: DbSession, actor: ApiActor) -> DecisionOut:
    """Confirm or reject a link between two parties you may see; the next run respects it."""
    row = service.decide(db, actor, body.left, body.right, body.decision, body.note)
    return DecisionOut(left=row.party_low_id, right=row.party_high_id, decision=row.decision)


@router.get(
    "/linkage/declaration-links", response_model=DeclarationLinksOut, responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=TAGS,
)  # fmt: skip
def declaration_links(
    db: DbSession, actor: ApiActor, operation: Annotated[str, Query(description="the operation's slug")],
    kind: KindFilter = "", office: OfficeFilter = "",
) -> DeclarationLinksOut:  # fmt: skip
    """Cases you may see and declarations your agency imported (if you may target) that share a party, a container
    or a phone, or a company name (a lead); strong evidence first. `kind` and `office` filter the links."""
    op = get_operation(db, operation)
    found = service.declaration_links_for(db, actor, operation_id=op.id, kind=kind or None, office=office or None)
    record_declaration_read(db, actor, found.rows, "declaration links api")
    return DeclarationLinksOut(
        operation=op.slug, may_read=found.may_read, declarations=found.declarations, cases=found.cases,
        total=found.total, links=[DeclarationLinkOut.model_validate(r.as_dict()) for r in found.rows],
    )  # fmt: skip
