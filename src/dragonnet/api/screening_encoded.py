"""`/api/v1` route of privacy-preserving screening: upload an encoded list (`dragonnet screen encode`), get the hits.
Thin: the work is `dragonnet.linkage.screening.encoded.screen_encoded` (the same door as the page and the CLI)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from dragonnet.api.schemas import ErrorOut
from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.http.deps import ApiActor, AppSettings, DbSession
from dragonnet.linkage.privacy import linkage_secret
from dragonnet.linkage.screening import encoded
from dragonnet.tabular import MAX_BYTES

router = APIRouter(prefix=PREFIX)
TAGS: list[str | Any] = ["linkage"]
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "not a valid encoded list (not JSON, another format or version, a "
                                            "damaged filter), or encoded under another key than the operation's"},
    **UNAUTHENTICATED,
    403: {"model": ErrorOut, "description": "partner observers do not screen lists"},
    **NOT_FOUND,
}  # fmt: skip


class EncodedHitOut(BaseModel):
    row: int = Field(description="the row number in the sender's file (the sender maps it back to its row)")
    source: str = Field(description="case (a case party), declaration (a declared party) or watchlist (yours)")
    matched_name: str = Field(description="the name of the record you may open (the listed name never reaches us)")
    reference: str = Field(description="what the record is, e.g. 'case VN-CUS 2023-0042 (driver)'")
    link: str = Field(description="the page where you open it")
    match_probability: float | None = Field(description="the model's probability; null for a watchlist value")
    similarity: dict[str, float] = Field(description="field -> Dice coefficient of the two encodings' field blocks")
    agreed: dict[str, str] = Field(description="field -> exact, similar or different (from the similarity)")


class EncodedNoticeOut(BaseModel):
    row: int = Field(description="the row number in the sender's file")
    notice: int = Field(description="the screening notice's number (the same for this row's encodings and record "
                                    "next time)")  # fmt: skip
    owner_agency: str = Field(description="the agency holding a record matching the row; nothing more is told")
    link: str = Field(description="the notice's page, where you ask the agency to share its record")


class RowProblemOut(BaseModel):
    row: int
    column: str
    reason: str = Field(description="the sender's reason, values taken out")


class EncodedScreeningOut(BaseModel):
    operation: str
    privacy_preserving: bool
    kind: str = Field(description="person or company")
    threshold: float
    rows_read: int = Field(description="rows the sender read")
    rows_screened: int = Field(description="rows encoded and matched")
    rows_quarantined: int = Field(description="rows the sender could not encode (in `quarantined`)")
    rows_with_hits: int
    hit_count: int
    notice_count: int = Field(description="hits on records you may not see (screening notices)")
    case_parties: int
    declaration_parties: int
    watchlist_entries: int
    pairs_compared: int = Field(description="pairs sharing a keyed blocking key, each compared field by field")
    pairs_scored: int
    pairs_above_threshold: int
    model: str = Field(description="estimated (on the encodings) or default (shipped; too few to estimate)")
    seconds: float
    hits: list[EncodedHitOut]
    notices: list[EncodedNoticeOut] = Field(description="rows matching a record you may not see: the agency only")
    quarantined: list[RowProblemOut]
    notes: list[RowProblemOut]


@router.post("/operations/{slug}/screening/encoded", response_model=EncodedScreeningOut, responses=RESPONSES, tags=TAGS)
def screen_encoded_list(
    slug: str,
    db: DbSession,
    actor: ApiActor,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="the encoded list (JSON) written by `dragonnet screen encode`")],
    threshold: Annotated[
        float | None, Form(gt=0, lt=1, description="match probability of a hit (default: the operation's adopted one)")
    ] = None,
) -> EncodedScreeningOut:
    """Screen an encoded list (no names: Bloom-filter encodings under the operation's linkage key) against the
    case parties you may see, your agency's declarations and your watchlist. A record you may not see gives no
    hit: a row matching one gives a screening notice naming only the agency that holds it (ask it to share through
    the notice; it sees the row's number, not its values, which never reached the hub). Audited (`screening.run`,
    privacy_preserving, counts only)."""
    data = file.file.read(MAX_BYTES + 1)
    result = encoded.screen_encoded(db, actor, operation=slug, data=data, filename=file.filename or "upload",
                                    secret=linkage_secret(settings.secret_key), threshold=threshold)  # fmt: skip
    return EncodedScreeningOut.model_validate(
        {**result.to_json(), "hit_count": len(result.hits), "notice_count": len(result.notices)}
    )
