"""`/api/v1` routes of the linkage capability: networks, their graphs, routes and trends, decisions, notices,
declarations linked to cases."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED, ErrorOut
from dragonnet.http.deps import ApiActor, DbSession
from dragonnet.http.params import KindFilter, OfficeFilter
from dragonnet.linkage import routes, service
from dragonnet.linkage.networks import graph_elements, summary_rows
from dragonnet.operation.service import get_operation

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["linkage"]
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "your agency asked (the other decides), or you may not share this case"}
}


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
    read = service.read_networks(db, actor, operation_id=op.id, min_countries=min_countries, purpose="networks")
    return summary_rows(read.networks)


@router.get("/operations/{slug}/networks/{number}/graph", responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)
def network_graph(slug: str, number: int, db: DbSession, actor: ApiActor) -> dict[str, Any]:
    """One network as Cytoscape.js elements (case nodes link to `/cases/{id}`)."""
    op = get_operation(db, slug)
    ex, network = service.read_network(db, actor, operation_id=op.id, number=number, purpose="network graph")
    return {"network": number, "elements": graph_elements(ex, network)}


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


class RequestOut(BaseModel):
    id: int
    notice: int | None = Field(description="the match notice; null once the hub no longer finds the match")
    sent: bool = Field(description="true: your agency asked; false: your agency is asked")
    requester_agency: str
    owner_agency: str
    status: str = Field(description="pending, accepted, declined or lapsed")
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str
    case_id: int | None = Field(description="for a request to your agency: your case it asks for")
    screening_notice: int | None = Field(None, description="the screening notice, for a request on a screening's hit")

    @classmethod
    def of(cls, r: service.RequestView) -> RequestOut:
        return cls(id=r.id, notice=r.notice_id, sent=r.sent, requester_agency=r.requester_agency,
                   owner_agency=r.owner_agency, status=r.status, reason=r.reason, requested_at=r.requested_at,
                   decided_at=r.decided_at, decision_reason=r.decision_reason, case_id=r.case_id,
                   screening_notice=r.screening_notice_id)  # fmt: skip


class RevealedOut(BaseModel):
    case_id: int
    case_ref: str
    party_id: int
    party_name: str


class NoticeOut(BaseModel):
    id: int = Field(description="the notice's number (the same for both agencies of the match)")
    party_id: int = Field(description="your party the hub matched")
    party_name: str
    case_id: int
    case_ref: str
    other_agency: str = Field(description="the agency holding a matching record")
    dice: float
    matched_at: dt.datetime
    status: str = Field(description="hit, pending (you asked), declined or revealed")
    revealed: RevealedOut | None = Field(description="their case and party, once they shared it with your agency")
    requests: list[RequestOut]

    @classmethod
    def of(cls, n: service.MatchNotice) -> NoticeOut:
        shown = n.revealed
        return cls(id=n.id, party_id=n.party_id, party_name=n.party_name, case_id=n.own_case_id,
                   case_ref=n.own_case_ref, other_agency=n.other_agency, dice=round(n.dice, 3),
                   matched_at=n.matched_at, status=n.status,
                   revealed=RevealedOut(case_id=shown.case_id, case_ref=shown.case_ref, party_id=shown.party_id,
                                        party_name=shown.party_name) if shown else None,
                   requests=[RequestOut.of(r) for r in n.requests])  # fmt: skip


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=service.REASON_MIN,
        max_length=service.REASON_MAX,
        description="why your agency needs the record (sent to its owner, kept in the audit log)",
    )


class DecisionOnRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(pattern="^(accept|decline)$")
    reason: str = Field(default="", max_length=service.REASON_MAX, description="required to decline")


@router.get("/linkage/notices", response_model=list[NoticeOut], responses=UNAUTHENTICATED, tags=TAGS)
def notices(db: DbSession, actor: ApiActor) -> list[NoticeOut]:
    """Match notices of your agency (hit / no hit): "agency X holds a record matching your party P". The other
    case is named only once its owner shared it with your agency (`revealed`)."""
    return [NoticeOut.of(n) for n in service.read_notices(db, actor, purpose="match notices")]


@router.get("/linkage/notices/{notice_id}", response_model=NoticeOut, responses={**UNAUTHENTICATED, **NOT_FOUND},
            tags=TAGS)  # fmt: skip
def notice(notice_id: int, db: DbSession, actor: ApiActor) -> NoticeOut:
    """One match notice of your agency, with the requests about it."""
    return NoticeOut.of(service.read_notice(db, actor, notice_id, purpose="match notice"))


@router.post("/linkage/notices/{notice_id}/requests", response_model=RequestOut, status_code=201,
             responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=TAGS)  # fmt: skip
def request_disclosure(notice_id: int, body: RequestIn, db: DbSession, actor: ApiActor) -> RequestOut:
    """Ask the other agency of a notice to share its matching record (its owner accepts or declines)."""
    return RequestOut.of(service.request_disclosure(db, actor, notice_id, body.reason))


@router.post("/linkage/requests/{request_id}/decision", response_model=RequestOut,
             responses={**UNAUTHENTICATED, **NOT_FOUND, **FORBIDDEN}, tags=TAGS)  # fmt: skip
def decide_request(request_id: int, body: DecisionOnRequestIn, db: DbSession, actor: ApiActor) -> RequestOut:
    """Accept (your case is shared with the asking agency, with its parties) or decline (with a reason) a request
    made to your agency; your national coordinator or the case's reporter decides."""
    return RequestOut.of(service.decide_request(db, actor, request_id, body.decision, body.reason))


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
    found, _shown = service.read_declaration_links(
        db, actor, operation_id=op.id, kind=kind or None, office=office or None, purpose="declaration links"
    )
    return DeclarationLinksOut(
        operation=op.slug, may_read=found.may_read, declarations=found.declarations, cases=found.cases,
        total=found.total, links=[DeclarationLinkOut.model_validate(r.as_dict()) for r in found.rows],
    )  # fmt: skip


# --- calibrated thresholds -------------------------------------------------------------------------------------

DENIED_CALIBRATION: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "your role may not see (analysts, coordinators, admins) or adopt it"},
    422: {"model": ErrorOut, "description": "too few decisions, no target reached, or a threshold out of range"},
}


class CurvePointOut(BaseModel):
    threshold: float = Field(description="pairs scored at or above it are predicted matches")
    true_positives: int = Field(description="confirmed pairs at or above the threshold")
    false_positives: int = Field(description="rejected pairs at or above the threshold")
    precision: float
    recall: float = Field(description="share of every confirmed pair (scored or not) at or above the threshold")
    f1: float


class AdoptionOut(BaseModel):
    id: int
    threshold: float
    rule: str = Field(description="best_f1, precision_target or chosen")
    precision_target: float | None
    decisions: int = Field(description="decisions the curve was computed on")
    precision: float | None = Field(description="on those decisions, at the adopted threshold")
    recall: float | None
    run: int | None = Field(description="the resolution run whose probabilities were used")
    user_id: int | None
    adopted_at: str


class SuggestedOut(BaseModel):
    best_f1: CurvePointOut | None
    precision_target: float | None
    for_precision_target: CurvePointOut | None


class ThresholdOut(BaseModel):
    operation: str
    run: int | None = Field(description="the latest resolution run (its probabilities)")
    decisions: int = Field(description="confirm/reject decisions on pairs of the operation's parties you may see")
    confirmed: int
    rejected: int
    unscored: int = Field(description="decided pairs the run did not store (scored below `floor`, or not compared)")
    floor: float = Field(description="the curve's lowest threshold: the run stored no pair below it")
    min_decisions: int
    problem: str | None = Field(description="why no threshold is suggested (too few decisions...); null: one is")
    curve: list[CurvePointOut] = Field(description="one point per distinct probability, highest first")
    suggested: SuggestedOut
    adopted: AdoptionOut | None
    screening_threshold: float = Field(description="what a screening of the operation uses without a threshold")
    resolution_threshold: float = Field(description="what a resolution run of the operation uses without one")
    history: list[AdoptionOut]


class AdoptIn(BaseModel):
    rule: str = Field(default="best_f1", pattern="^(best_f1|precision_target|chosen)$")
    precision_target: float | None = Field(default=None, gt=0, le=1)
    threshold: float | None = Field(default=None, gt=0, lt=1, description="for rule `chosen`")


@router.get("/operations/{slug}/linkage/threshold", response_model=ThresholdOut,
            responses={**UNAUTHENTICATED, **NOT_FOUND, **DENIED_CALIBRATION}, tags=TAGS)  # fmt: skip
def get_threshold(
    slug: str, db: DbSession, actor: ApiActor,
    precision_target: Annotated[float | None, Query(gt=0, le=1, description="also suggest for this precision")] = None,
) -> ThresholdOut:  # fmt: skip
    """The precision/recall curve of the operation's match threshold from the analysts' decisions you may see,
    the suggested thresholds and the adopted one (counts only)."""
    view = service.read_threshold(db, actor, operation=slug, precision_target=precision_target)
    return ThresholdOut.model_validate(view.to_json())


@router.post("/operations/{slug}/linkage/threshold", response_model=AdoptionOut, status_code=201,
             responses={**UNAUTHENTICATED, **NOT_FOUND, **DENIED_CALIBRATION}, tags=TAGS)  # fmt: skip
def adopt_threshold(slug: str, body: AdoptIn, db: DbSession, actor: ApiActor) -> AdoptionOut:
    """Adopt the operation's threshold (best F1, the lowest reaching a precision target, or a chosen one); its
    screenings and resolution runs use it by default. Audited (`linkage.threshold_adopted`)."""
    row = service.adopt_threshold(db, actor, operation=slug, rule=body.rule, precision_target=body.precision_target,
                                  threshold=body.threshold)  # fmt: skip
    return AdoptionOut.model_validate(service.adoption_json(row))
