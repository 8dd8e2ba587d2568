"""`/api/v1` routes of the targeting capability: the caller's agency's lists, one list, recording a result."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.http.deps import ApiActor, DbSession
from dragonnet.storage.targeting_models import TargetingHit, TargetingList
from dragonnet.targeting import service

router = APIRouter(prefix=PREFIX)


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

    @classmethod
    def build(cls, h: TargetingHit) -> HitOut:
        return cls(
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
