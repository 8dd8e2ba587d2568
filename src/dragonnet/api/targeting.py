"""`/api/v1` routes of the targeting capability: the caller's agency's lists, one list, recording a result;
the stored risk profiles (import, review, history) and their effectiveness report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED, ErrorOut
from dragonnet.http.deps import ApiActor, DbSession
from dragonnet.storage.targeting_models import TargetingHit, TargetingList
from dragonnet.targeting import profile_service, service

router = APIRouter(prefix=PREFIX)
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "not the owning agency's, or not a targeting member"}
}


class ListSummaryOut(BaseModel):
    id: int
    office_locode: str
    created_at: dt.datetime
    declarations: int
    red: int
    yellow: int
    model_version_id: int | None

    @classmethod
    def build(cls, tl: TargetingList) -> ListSummaryOut:
        return cls(id=tl.id, office_locode=tl.office_locode, created_at=tl.created_at, declarations=tl.declarations,
                   red=tl.red, yellow=tl.yellow, model_version_id=tl.model_version_id)  # fmt: skip


class HitOut(BaseModel):
    id: int
    rank: int
    lane: str
    random: bool
    score: float
    rule_score: float
    model_score: float | None
    declaration_id: str
    declaration_date: dt.date
    facts: dict[str, Any]
    rules: list[dict[str, Any]]
    contributions: list[dict[str, Any]]
    result: str | None
    case_id: int | None
    case_url: str | None
    mandatory: bool = Field(description="A mandatory (intelligence-led) profile fired: red whatever the score.")

    @classmethod
    def build(cls, h: TargetingHit) -> HitOut:
        return cls(
            mandatory=any(r.get("mandatory") for r in h.rules),
            id=h.id, rank=h.rank, lane=h.lane, random=h.random, score=h.score, rule_score=h.rule_score,
            model_score=h.model_score, declaration_id=h.declaration_id, declaration_date=h.declaration_date,
            facts=h.facts, rules=h.rules, contributions=h.contributions, result=h.result, case_id=h.case_id,
            case_url=f"/cases/{h.case_id}" if h.case_id else None,
        )  # fmt: skip


class ListOut(ListSummaryOut):
    hits: list[HitOut]


class ResultIn(BaseModel):
    result: Literal["nothing_found", "seizure"]
    note: str | None = Field(default=None, max_length=2000)


@router.get("/targeting/lists", response_model=list[ListSummaryOut], responses=UNAUTHENTICATED, tags=["targeting"])
def lists(db: DbSession, actor: ApiActor) -> list[ListSummaryOut]:
    """The targeting lists of the caller's agency's offices, newest first."""
    return [ListSummaryOut.build(tl) for tl in service.visible_lists(db, actor)]


@router.get(
    "/targeting/lists/{list_id}", response_model=ListOut, responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=["targeting"],
)  # fmt: skip
def one_list(list_id: int, db: DbSession, actor: ApiActor) -> ListOut:
    """A list, ranked, each declaration with the rules that fired and the model's top contributions."""
    tl = service.get_list(db, actor, list_id)
    return ListOut(**ListSummaryOut.build(tl).model_dump(), hits=[HitOut.build(h) for h in tl.hits])


@router.post(
    "/targeting/hits/{hit_id}/result", response_model=HitOut, responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=["targeting"],
)  # fmt: skip
def record_result(hit_id: int, body: ResultIn, db: DbSession, actor: ApiActor) -> HitOut:
    """Record the inspection result; a seizure opens a draft case pre-filled from the declaration."""
    return HitOut.build(service.record_result(db, actor, hit_id, body.result, body.note))


# --- stored risk profiles ----------------------------------------------------------------------------------------


class ProfileOut(BaseModel):
    id: str
    name: str
    owner: str
    status: str
    version: int
    mandatory: bool
    review_by: dt.date | None
    expires: dt.date | None
    responsible: str | None
    sharing: str
    weight: float
    updated_at: dt.datetime
    flags: list[str] = Field(description="Why the review cycle flags it by its dates (the report adds the hit rate).")


class ChangeOut(BaseModel):
    version: int
    at: dt.datetime
    by: str
    action: str
    note: str | None
    changes: dict[str, list[Any]]
    definition: dict[str, Any]


class ProfileDetailOut(ProfileOut):
    definition: dict[str, Any]
    history: list[ChangeOut]


class ProfilesIn(BaseModel):
    yaml: str = Field(max_length=500_000, description="Profiles in the YAML format (targeting/profiles.py).")
    source: str = Field(default="api", max_length=200)


class ImportOut(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class ReviewIn(BaseModel):
    decision: Literal["keep", "retire", "reinstate"]
    note: str = Field(min_length=1, max_length=2000)
    next_review: dt.date | None = None
    mandatory: bool | None = None
    expires: dt.date | None = Field(default=None, description="New expiry; with clear_expiry, none.")
    clear_expiry: bool = False
    responsible: str | None = Field(default=None, max_length=100)


class RateOut(BaseModel):
    inspected: int
    found: int
    rate: float | None = Field(description="found / inspected")
    ci_low: float | None = Field(description="95 % Wilson score interval")
    ci_high: float | None


class WeightOut(BaseModel):
    weight: float = Field(description="Log-odds the profile adds to the model's probability in the lane score.")
    basis: str = Field(description="learned (on held-out outcomes), provisional (hand-set) or hand-set (no model)")


class ProfileFiguresOut(BaseModel):
    id: str
    name: str
    owner: str
    mandatory: bool
    status: str
    review_by: dt.date | None
    expires: dt.date | None
    responsible: str | None
    version: int | None
    selected: int = Field(description="Declarations of the period and office the profile fired on.")
    selection_rate: float | None
    inspected: int
    found: int
    hit_rate: float | None
    ci_low: float | None
    ci_high: float | None
    lift_random: float | None = Field(description="Hit rate / the baseline rate.")
    model: RateOut | None = Field(description="The model's as many highest-scored declarations.")
    lift_model: float | None = Field(description="Hit rate / the model's at the same number selected.")
    weight: WeightOut
    flags: list[str]


class ModelRefOut(BaseModel):
    version_id: int | None
    trained_to: dt.date | None
    in_sample: bool = Field(description="Trained on outcomes of the period: its figures are optimistic.")


class ReportOut(BaseModel):
    period: dict[str, dt.date | None] = Field(description='{"from": first day, "to": last day} (null: open)')
    office: str | None
    declarations: int
    baseline: RateOut = Field(description="Every inspected declaration of the period and office.")
    baseline_basis: str
    lanes: dict[str, RateOut] = Field(description="red (risk-selected), yellow, random (the green lane's estimate)")
    model: ModelRefOut | None
    floor: float | None
    min_inspections: int
    profiles: list[ProfileFiguresOut]


def _profile_out(row: Any) -> dict[str, Any]:
    return profile_service.summary(row)


@router.get("/targeting/profiles", response_model=list[ProfileOut], responses=UNAUTHENTICATED, tags=["targeting"])
def profiles(db: DbSession, actor: ApiActor) -> list[ProfileOut]:
    """The stored risk profiles the caller's agency may use (retired ones included), with their review state."""
    return [ProfileOut(**_profile_out(r)) for r in profile_service.visible_profiles(db, actor)]


@router.post(
    "/targeting/profiles", response_model=ImportOut, responses={**UNAUTHENTICATED, **FORBIDDEN}, tags=["targeting"]
)
def import_profiles(body: ProfilesIn, db: DbSession, actor: ApiActor) -> ImportOut:
    """Store profiles from YAML: new ones created, changed ones updated (a new version each); all or nothing."""
    return ImportOut(**profile_service.import_profiles(db, actor, body.yaml, body.source).as_dict())


@router.get(
    "/targeting/profiles/report", response_model=ReportOut, responses={**UNAUTHENTICATED, **FORBIDDEN},
    tags=["targeting"],
)  # fmt: skip
def profiles_report(
    db: DbSession,
    actor: ApiActor,
    date_from: Annotated[dt.date | None, Query(alias="from")] = None,
    date_to: Annotated[dt.date | None, Query(alias="to")] = None,
    office: Annotated[str | None, Query(max_length=16)] = None,
    floor: Annotated[float | None, Query(ge=0, le=1)] = None,
    min_inspections: Annotated[int, Query(ge=1)] = profile_service.eff.DEFAULT_MIN_INSPECTIONS,
    include_retired: bool = False,
) -> ReportOut:
    """Per-profile effectiveness over a period and office (the caller's agency's declarations): selected,
    inspected, found, hit rate with its 95 % Wilson interval, lift over random and over the model at the same
    number of inspections, the learned weight, review flags; the lanes' hit rates and the random draws' (the
    unbiased estimate of the green lane's fraud rate)."""
    query = profile_service.ReportQuery(date_from=date_from, date_to=date_to,
                                        office=office.strip().upper() if office else None, floor=floor,
                                        min_inspections=min_inspections, include_retired=include_retired)  # fmt: skip
    return ReportOut(**profile_service.effectiveness_report(db, actor, query).as_dict())


@router.get(
    "/targeting/profiles/{profile_key}", response_model=ProfileDetailOut, responses={**UNAUTHENTICATED, **NOT_FOUND},
    tags=["targeting"],
)  # fmt: skip
def one_profile(profile_key: str, db: DbSession, actor: ApiActor) -> ProfileDetailOut:
    """One stored profile: its definition, review state and the history of its changes (oldest first)."""
    row = profile_service.get_profile(db, actor, profile_key)
    history = [ChangeOut(**profile_service.change_summary(c)) for c in row.changes]
    return ProfileDetailOut(**_profile_out(row), definition=row.definition, history=history)


@router.post(
    "/targeting/profiles/{profile_key}/review", response_model=ProfileOut,
    responses={**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND}, tags=["targeting"],
)  # fmt: skip
def review_profile(profile_key: str, body: ReviewIn, db: DbSession, actor: ApiActor) -> ProfileOut:
    """Record a review: keep (with the next review date), retire or reinstate; optionally mandatory, expiry,
    responsible analyst. A new version in the profile's history, audited."""
    extra: dict[str, Any] = {}
    if body.clear_expiry or body.expires is not None:
        extra["expires"] = None if body.clear_expiry else body.expires
    if body.responsible is not None:
        extra["responsible"] = body.responsible
    row = profile_service.review_profile(db, actor, profile_key, decision=body.decision, next_review=body.next_review,
                                         note=body.note, mandatory=body.mandatory, **extra)  # fmt: skip
    return ProfileOut(**_profile_out(row))
