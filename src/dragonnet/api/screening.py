"""`/api/v1` route of screening: upload a list (multipart), get the hits, the rows not screened and the counters.
Thin: the work is `dragonnet.linkage.screening.service.screen` (the same door as the page and the CLI)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from dragonnet.api.linkage import RequestIn, RequestOut, RevealedOut
from dragonnet.api.schemas import ErrorOut
from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.http.deps import ApiActor, AppSettings, DbSession
from dragonnet.linkage import service as linkage
from dragonnet.linkage.screening import service
from dragonnet.tabular import MAX_BYTES

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["linkage"]
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the file cannot be read (format, encoding, size, no header or name "
                                            "column); bad rows are not an error: they are listed in `quarantined`"},
    **UNAUTHENTICATED,
    403: {"model": ErrorOut, "description": "partner observers do not screen lists"},
    **NOT_FOUND,
}  # fmt: skip


class HeaderOut(BaseModel):
    header: str
    column: str | None = Field(description="the screening column it fills (None: not used)")
    how: str = Field(description="exact, synonym, fuzzy (a guess: a header close to a known one) or unmapped")
    confidence: float


class HitOut(BaseModel):
    row: int = Field(description="the row number in the file (the header is row 1 of a CSV)")
    listed_name: str
    source: str = Field(description="case (a case party), declaration (a declared party) or watchlist (yours)")
    matched_name: str
    reference: str = Field(description="what the record is, e.g. 'case VN-CUS 2023-0042 (driver)'")
    link: str = Field(description="the page where you open it")
    match_probability: float | None = Field(description="the model's probability; null for an exact watchlist value")
    agreed: dict[str, str] = Field(description="field -> exact or similar: the evidence")


class NoticeHitOut(BaseModel):
    row: int = Field(description="the row number in the file")
    listed_name: str
    notice: int = Field(description="the screening notice's number (the same for this row and record next time)")
    owner_agency: str = Field(description="the agency holding a record matching the row; nothing more is told")
    link: str = Field(description="the notice's page, where you ask the agency to share its record")


class RowProblemOut(BaseModel):
    row: int
    column: str
    value: str | None
    reason: str


class ScreeningOut(BaseModel):
    operation: str
    kind: str = Field(description="person or company")
    threshold: float
    file_format: str
    encoding: str | None
    rows_read: int
    rows_screened: int
    rows_quarantined: int = Field(description="rows not screened; each problem is in `quarantined`")
    rows_with_hits: int
    hit_count: int
    notice_count: int = Field(description="hits on records you may not see (screening notices)")
    case_parties: int = Field(description="case parties of this kind you may see in the operation")
    declaration_parties: int = Field(description="parties of your agency's declarations (if you may target)")
    watchlist_entries: int
    pairs_compared: int = Field(description="candidate pairs the blocking produced, each compared field by field")
    pairs_scored: int = Field(description="pairs the model scored (every compared pair)")
    pairs_above_threshold: int
    model: str = Field(
        description="stored (the operator's latest resolution run), estimated (on this list and what "
        "it is matched against) or default (shipped; too few records to estimate)"
    )
    trained_on: str | None = Field(
        default=None,
        description="for an estimated model: between (on the pairs of a list row and a reference record) or "
        "together (on the list and the reference as one set: a short list gives too few pairs between)",
    )
    cached_records: int = Field(
        default=0, description="reference records read from the records kept by the last linkage run, not normalised"
    )
    seconds: float
    headers: list[HeaderOut]
    hits: list[HitOut]
    notices: list[NoticeHitOut] = Field(description="rows matching a record you may not see: the agency only")
    quarantined: list[RowProblemOut]
    notes: list[RowProblemOut] = Field(description="readings to check (a guessed date order, a phone not read)")


@router.post("/operations/{slug}/screening", response_model=ScreeningOut, responses=RESPONSES, tags=TAGS)
def screen_list(
    slug: str,
    db: DbSession,
    actor: ApiActor,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="the list: CSV or XLSX (manifest, consignees, company register)")],
    kind: Annotated[str, Form(pattern="^(persons|companies)$", description="what the rows are")] = "persons",
    threshold: Annotated[
        float | None, Form(gt=0, lt=1, description="match probability of a hit (default: the operation's adopted one)")
    ] = None,
) -> ScreeningOut:
    """Screen a list against the operation's case parties you may see, your agency's declarations and your
    watchlist. A record you may not see gives no hit: a row matching one gives a screening notice naming only the
    agency that holds it (ask it to share through the notice). Audited (`screening.run`, counts only)."""
    data = file.file.read(MAX_BYTES + 1)
    result = service.screen(db, actor, operation=slug, data=data, filename=file.filename or "upload", kind=kind,
                            threshold=threshold, data_dir=settings.data_dir)  # fmt: skip
    return ScreeningOut.model_validate(
        {**result.to_json(), "hit_count": len(result.hits), "notice_count": len(result.notices)}
    )


class ScreeningRequestOut(BaseModel):
    id: int
    sent: bool = Field(description="true: your agency asked; false: your agency is asked")
    requester_agency: str
    owner_agency: str
    status: str = Field(description="pending, accepted or declined")
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str
    case_id: int | None = Field(description="for a request to your agency: your case it asks for")


class ScreeningNoticeOut(BaseModel):
    id: int
    operation: str
    side: str = Field(description="asker (a row of your agency's list) or owner (a request for your record)")
    encoded: bool = Field(description="the row came from an encoded list: no clear value was sent, and `row_data` "
                                      "holds only its number, kind and digests")  # fmt: skip
    row: int = Field(description="the row's number in the latest list that matched")
    listed_name: str = Field(description="the name on the row (empty for an encoded list)")
    row_data: dict[str, Any] = Field(description="the row as the screening agency submitted it")
    list_name: str
    requester_agency: str
    owner_agency: str
    status: str = Field(description="hit, pending (asked), declined or revealed")
    revealed: RevealedOut | None = Field(description="their case and party, once shared with your agency")
    own_case_id: int | None = Field(description="the owner's side: its case the row matched")
    own_case_ref: str | None
    own_party_name: str | None
    requests: list[ScreeningRequestOut]


NOTICE_TAGS: list[str | Any] = ["linkage"]


@router.get("/linkage/screening-notices", response_model=list[ScreeningNoticeOut], responses=UNAUTHENTICATED,
            tags=NOTICE_TAGS)  # fmt: skip
def screening_notices(db: DbSession, actor: ApiActor) -> list[ScreeningNoticeOut]:
    """Screening notices of your agency: rows of its lists matching a record another agency holds and you may not
    see (the agency only), and, once asked, the requests for your agency's records. Decide a request with
    `POST /linkage/requests/{id}/decision`."""
    found = linkage.read_screening_notices(db, actor, purpose="screening notices")
    return [ScreeningNoticeOut.model_validate(n.to_dict()) for n in found]


@router.get("/linkage/screening-notices/{screening_notice_id}", response_model=ScreeningNoticeOut,
            responses={**UNAUTHENTICATED, **NOT_FOUND}, tags=NOTICE_TAGS)  # fmt: skip
def screening_notice(screening_notice_id: int, db: DbSession, actor: ApiActor) -> ScreeningNoticeOut:
    """One screening notice of your agency, with its requests."""
    found = linkage.read_screening_notice(db, actor, screening_notice_id, purpose="screening notice")
    return ScreeningNoticeOut.model_validate(found.to_dict())


@router.post("/linkage/screening-notices/{screening_notice_id}/requests", response_model=RequestOut, status_code=201,
             responses={**UNAUTHENTICATED, **NOT_FOUND,
                        400: {"model": ErrorOut, "description": "no reason, asked already, or shared already"}},
             tags=NOTICE_TAGS)  # fmt: skip
def request_screening_disclosure(
    screening_notice_id: int, body: RequestIn, db: DbSession, actor: ApiActor
) -> RequestOut:
    """Ask the agency holding the record of a screening notice to share its case (a reason is required)."""
    return RequestOut.of(linkage.request_screening_disclosure(db, actor, screening_notice_id, body.reason))
