"""Screening notices: a screening's hit on a record the screener may not see follows the hit / no-hit rule.

The list is matched against the parties the screener may not see as well (`policy.matches.screening_hidden_parties`:
submitted cases of other agencies in the operation), in the same run, so that the answer's shape and time do not
depend on what is hidden. A hit on such a party tells the screener's agency only "agency X holds a record matching
row N of your list", with a notice number: no reference, case, level, date, probability or agreeing field. The
row's data as the screener submitted it (its own input) is kept with the notice so that the owner can judge a
request. The same row matched to the same record by a later screening keeps its notice (and its requests).

The second step is the match notices' (`linkage.disclosure`): a member of the screener's agency asks with a reason
(`request_disclosure`, a `DisclosureRequest` with `screening_notice_id`); the owner's national coordinator or the
case's reporter accepts (the case is shared with its parties through `policy.sharing`) or declines with a reason
(`disclosure.decide_request`). Every step is audited and announced in both agencies' inboxes. The owner learns of a
screening notice only through a request: an unasked hit stays with the screener's agency.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from dragonnet import hooks
from dragonnet.errors import ValidationError
from dragonnet.linkage.disclosure import (
    AUDITED_REASON_MAX,
    LEVEL,
    RequestView,
    Revealed,
    WithRequests,
    _codes,
    _reason,
    _request_view,
)
from dragonnet.linkage.resolve import PartyInput
from dragonnet.linkage.screening.matching import PairMatch
from dragonnet.linkage.screening.reader import ListRow
from dragonnet.policy import audit, matches
from dragonnet.policy.access import Actor, Hidden, audit_actor
from dragonnet.storage.linkage_models import DisclosureRequest, ScreeningNotice
from dragonnet.storage.models import Case, Operation, Party, utcnow

ROW_FIELDS = ("name", "kind", "birth_date", "nationality", "id_number", "phone", "email", "address", "postcode")


@dataclass(frozen=True)
class HiddenReference:
    """The parties of the operation a screening matches without showing them, by party id."""

    parties: dict[int, PartyInput]
    owners: dict[int, tuple[int, int]]  # party id -> (its case id, the case's agency id)


@dataclass(frozen=True)
class NoticeHit:
    """A list row that matches a record the screener may not see: the owning agency and the notice's number."""

    row: int
    listed_name: str
    notice_id: int
    owner_agency: str
    link: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "listed_name": self.listed_name, "notice": self.notice_id,
                "owner_agency": self.owner_agency, "link": self.link}  # fmt: skip


@dataclass(frozen=True)
class ScreeningNoticeView(WithRequests):
    """One screening notice as a member of either side reads it.

    The screener's side (`asker`): its row, the owning agency, the requests, the record once revealed. The owner's
    side (only once asked): the submitted row's data, its own matched party and case, the requests to decide."""

    id: int
    operation_slug: str
    asker: bool
    row: int
    listed_name: str
    row_data: dict[str, Any]
    list_name: str
    requester_agency: str
    owner_agency: str
    requests: tuple[RequestView, ...] = ()
    revealed: Revealed | None = None  # the screener's side, once the owner shared the case
    own_case_id: int | None = None  # the owner's side: its case and party
    own_case_ref: str | None = None
    own_party_name: str | None = None

    @property
    def may_request(self) -> bool:
        return self.asker and self.revealed is None and self.pending_sent is None

    @property
    def encoded(self) -> bool:
        """The row came from an encoded list: no clear value was sent, only encodings (row number and kind)."""
        return self.row_data.get("encoded") is True

    @property
    def status(self) -> str:
        """What the screener's agency knows: revealed, pending (requested), declined or hit."""
        if self.revealed is not None:
            return "revealed"
        sent = [r for r in self.requests if r.sent]
        return sent[0].status if sent and sent[0].status in ("pending", "declined") else "hit"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "operation": self.operation_slug, "side": "asker" if self.asker else "owner",
            "encoded": self.encoded, "row": self.row, "listed_name": self.listed_name, "row_data": self.row_data,
            "list_name": self.list_name,
            "requester_agency": self.requester_agency, "owner_agency": self.owner_agency, "status": self.status,
            "revealed": None if self.revealed is None else dataclasses.asdict(self.revealed),
            "own_case_id": self.own_case_id, "own_case_ref": self.own_case_ref, "own_party_name": self.own_party_name,
            "requests": [_request_dict(r) for r in self.requests],
        }  # fmt: skip


def _request_dict(r: RequestView) -> dict[str, Any]:
    return {
        "id": r.id, "sent": r.sent, "requester_agency": r.requester_agency, "owner_agency": r.owner_agency,
        "status": r.status, "reason": r.reason, "requested_at": r.requested_at.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None, "decision_reason": r.decision_reason,
        "case_id": r.case_id,
    }  # fmt: skip


def notice_link(slug: str, notice_id: int) -> str:
    return f"/operations/{slug}/screening/notices/{notice_id}"


# --- step 1: the hidden reference and the hits on it ---------------------------------------------------------


def hidden_reference(session: Session, actor: Actor, operation_id: int, kind: str) -> HiddenReference:
    """The parties of `kind` of the operation that `actor` may not see but a screening is matched against."""
    rows = session.execute(
        select(Party.id, Party.kind, Party.name, Party.nationality, Party.birth_date, Party.id_number, Party.phone,
               Party.email, Case.place_country, Party.address, Party.case_id, Case.reporting_agency_id)
        .join(Case, Case.id == Party.case_id)
        .where(Case.operation_id == operation_id, Party.kind == kind, matches.screening_hidden_parties(actor))
    ).all()  # fmt: skip
    return HiddenReference({r[0]: PartyInput(*r[:10]) for r in rows}, {r[0]: (r[10], r[11]) for r in rows})


def row_data(row: ListRow) -> dict[str, Any]:
    """The row as the screener submitted it (read by the list reader), in JSON types."""
    p = row.party
    values = {"name": row.name, "kind": p.kind, "birth_date": p.birth_date.isoformat() if p.birth_date else None,
              "nationality": p.nationality, "id_number": p.id_number, "phone": p.phone, "email": p.email,
              "address": p.address, "postcode": p.postcode}  # fmt: skip
    return {k: v for k, v in values.items() if v not in (None, "")}


def row_key(data: dict[str, Any]) -> str:
    """The digest that keeps a notice's number when the same row is screened again (in any list, at any place)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def encoded_row_key(kind: str, bits: bytes, blocks: Sequence[str]) -> str:
    """The digest of an encoded row (its filter and keyed blocking keys): the same row encoded again under the same
    key gives the same encodings, so the notice keeps its number. Never equal to a clear row's `row_key`."""
    text = json.dumps({"encoded": kind, "bits": bits.hex(), "blocks": sorted(blocks)}, sort_keys=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def encoded_row_data(row: int, kind: str, list_sha256: str, key: str) -> dict[str, Any]:
    """What is kept of an encoded row: there are no clear values, only its number, its kind and which list and
    encodings it was (digests). The owner's side of the notice says the asker sent an encoded list."""
    return {"encoded": True, "row": row, "kind": kind, "list_sha256": list_sha256, "encoding_sha256": key}


@dataclass(frozen=True)
class SubmittedRow:
    """A screened row as a notice keeps it: the name shown to the screener ("" for an encoded row), the data kept
    for the owner (`row_data` or `encoded_row_data`) and its digest."""

    name: str
    data: dict[str, Any]
    key: str


def record_hits(
    session: Session, actor: Actor, *, operation: Operation, list_name: str, rows: Sequence[ListRow],
    found: Sequence[PairMatch], hidden: HiddenReference,
) -> list[NoticeHit]:  # fmt: skip
    """The screening notices of a clear list's hits on hidden parties (`record_notices`)."""
    wanted = {m.row for m in found}
    submitted = {}
    for r in rows:
        if r.row in wanted:
            data = row_data(r)
            submitted[r.row] = SubmittedRow(r.name, data, row_key(data))
    return record_notices(session, actor, operation=operation, list_name=list_name, rows=submitted,
                          found=[(m.row, m.reference) for m in found], hidden=hidden)  # fmt: skip


def record_notices(
    session: Session, actor: Actor, *, operation: Operation, list_name: str, rows: Mapping[int, SubmittedRow],
    found: Sequence[tuple[int, int]], hidden: HiddenReference,
) -> list[NoticeHit]:  # fmt: skip
    """The screening notices of `found` ((row number, hidden party id) hits) for `actor`'s agency: kept ones keep
    their number (their row number, list and time are updated), new ones are made. Nothing is announced: the
    owner learns of a notice only through a request."""
    if not found:
        return []
    assert actor.agency_id is not None
    kept = {
        (n.owner_party_id, n.row_key): n
        for n in session.execute(
            select(ScreeningNotice).where(ScreeningNotice.requester_agency_id == actor.agency_id,
                                          ScreeningNotice.owner_party_id.in_({party for _row, party in found}),
                                          ScreeningNotice.row_key.in_({rows[row].key for row, _party in found}))
        ).scalars()
    }  # fmt: skip
    now = utcnow()
    made: list[tuple[int, ScreeningNotice]] = []
    for row, party in found:
        submitted = rows[row]
        notice = kept.get((party, submitted.key))
        case_id, agency_id = hidden.owners[party]
        if notice is None:
            notice = ScreeningNotice(
                operation_id=operation.id, requester_agency_id=actor.agency_id, owner_agency_id=agency_id,
                owner_party_id=party, owner_case_id=case_id, row_key=submitted.key, row_number=row,
                row_data=submitted.data, list_name=list_name[:255], found_by_id=actor.user_id, first_found_at=now,
                last_found_at=now,
            )  # fmt: skip
            session.add(notice)
            kept[(party, submitted.key)] = notice
        else:
            notice.row_number, notice.list_name, notice.last_found_at = row, list_name[:255], now
            if submitted.data.get("encoded") and notice.row_data != submitted.data:
                notice.row_data = dict(submitted.data)  # the same encodings in another list: its latest digest
        made.append((row, notice))
    session.flush()
    codes = _codes(session, {n.owner_agency_id for _row, n in made})
    hits = {(row, n.id): NoticeHit(row, rows[row].name, n.id, codes.get(n.owner_agency_id, "?"),
                                   notice_link(operation.slug, n.id)) for row, n in made}  # fmt: skip
    return sorted(hits.values(), key=lambda h: (h.row, h.notice_id))


# --- reading notices ----------------------------------------------------------------------------------------


def _readable(actor: Actor) -> Any:
    """Notices `actor`'s agency may read: its own screenings' and, once asked, those on its records."""
    asked = exists(select(DisclosureRequest.id).where(DisclosureRequest.screening_notice_id == ScreeningNotice.id))
    return or_(ScreeningNotice.requester_agency_id == actor.agency_id,
               (ScreeningNotice.owner_agency_id == actor.agency_id) & asked)  # fmt: skip


def _views(session: Session, actor: Actor, found: Sequence[ScreeningNotice]) -> list[ScreeningNoticeView]:
    if not found:
        return []
    assert actor.agency_id is not None
    slugs = dict(session.execute(
        select(Operation.id, Operation.slug).where(Operation.id.in_({n.operation_id for n in found}))
    ).all())  # fmt: skip
    codes = _codes(session, {n.owner_agency_id for n in found} | {n.requester_agency_id for n in found})
    asked_of_me = [n for n in found if n.owner_agency_id == actor.agency_id]
    mine = [n for n in found if n.requester_agency_id == actor.agency_id]
    shown_cases = matches.revealed_cases(session, actor, {n.owner_case_id for n in mine})
    case_ids = {n.owner_case_id for n in asked_of_me} | (shown_cases & {n.owner_case_id for n in mine})
    refs = dict(session.execute(select(Case.id, Case.case_ref).where(Case.id.in_(case_ids))).all()) if case_ids else {}
    party_ids = {n.owner_party_id for n in asked_of_me} | {n.owner_party_id for n in mine
                                                           if n.owner_case_id in shown_cases}  # fmt: skip
    names = dict(session.execute(select(Party.id, Party.name).where(Party.id.in_(party_ids))).all()) if party_ids \
        else {}  # fmt: skip
    by_notice: dict[int, list[DisclosureRequest]] = {}
    for r in session.execute(
        select(DisclosureRequest).where(DisclosureRequest.screening_notice_id.in_([n.id for n in found]))
        .order_by(DisclosureRequest.id.desc())
    ).scalars():  # fmt: skip
        assert r.screening_notice_id is not None
        by_notice.setdefault(r.screening_notice_id, []).append(r)
    out = []
    for n in found:
        asker = n.requester_agency_id == actor.agency_id
        revealed = None
        if asker and n.owner_case_id in shown_cases:
            revealed = Revealed(n.owner_case_id, refs[n.owner_case_id], n.owner_party_id,
                                names.get(n.owner_party_id, "?"))  # fmt: skip
        own = not asker
        out.append(ScreeningNoticeView(
            n.id, slugs[n.operation_id], asker, n.row_number, str(n.row_data.get("name", "")), dict(n.row_data),
            n.list_name, codes.get(n.requester_agency_id, "?"), codes.get(n.owner_agency_id, "?"),
            tuple(_request_view(r, actor.agency_id, codes) for r in by_notice.get(n.id, [])), revealed,
            n.owner_case_id if own else None, refs.get(n.owner_case_id) if own else None,
            names.get(n.owner_party_id) if own else None,
        ))  # fmt: skip
    return out


def screening_notices(session: Session, actor: Actor) -> list[ScreeningNoticeView]:
    """The screening notices of `actor`'s agency (none for partner observers), newest first."""
    if not matches.may_receive_notices(actor):
        return []
    found = session.execute(
        select(ScreeningNotice).where(_readable(actor)).order_by(ScreeningNotice.id.desc())
    ).scalars()
    return _views(session, actor, list(found))


def _readable_notice(session: Session, actor: Actor, notice_id: int) -> ScreeningNotice:
    found = None
    if matches.may_receive_notices(actor):
        found = session.execute(
            select(ScreeningNotice).where(ScreeningNotice.id == notice_id, _readable(actor))
        ).scalar_one_or_none()
    if found is None:
        raise Hidden(actor, "screening_notice", notice_id)
    return found


def screening_notice(session: Session, actor: Actor, notice_id: int) -> ScreeningNoticeView:
    """One screening notice `actor`'s agency may read; Hidden (404) otherwise, whether it exists or not."""
    return _views(session, actor, [_readable_notice(session, actor, notice_id)])[0]


# --- step 2: asking the owner --------------------------------------------------------------------------------


def request_disclosure(session: Session, actor: Actor, notice_id: int, reason: str) -> RequestView:
    """Ask the owner of a screening notice's record to share its case; audited, announced to both agencies.
    The owner decides with `disclosure.decide_request`."""
    notice = _readable_notice(session, actor, notice_id)
    if notice.requester_agency_id != actor.agency_id:
        raise Hidden(actor, "screening_notice", notice_id)  # the owner's side has nothing to ask
    reason = _reason(reason, "the reason you ask for the record")
    if matches.revealed_cases(session, actor, {notice.owner_case_id}):
        raise ValidationError(f"screening notice {notice_id}: you may already open the matching case")
    pending = session.execute(
        select(DisclosureRequest.id).where(DisclosureRequest.screening_notice_id == notice_id,
                                           DisclosureRequest.status == "pending")
    ).first()  # fmt: skip
    if pending is not None:
        raise ValidationError(f"screening notice {notice_id}: your agency asked already (request {pending[0]}); "
                              "wait for the answer")  # fmt: skip
    req = DisclosureRequest(
        match_id=None, screening_notice_id=notice_id, requester_agency_id=notice.requester_agency_id,
        owner_agency_id=notice.owner_agency_id, requester_party_id=None, owner_party_id=notice.owner_party_id,
        owner_case_id=notice.owner_case_id, requested_by_id=actor.user_id, requested_at=utcnow(), reason=reason,
        status="pending", decision_reason="",
    )  # fmt: skip
    session.add(req)
    session.flush()
    codes = _codes(session, [notice.requester_agency_id, notice.owner_agency_id])
    mine, theirs = codes[notice.requester_agency_id], codes[notice.owner_agency_id]
    audit.record(session, audit_actor(actor), "screening.disclosure_request", "screening_notice", notice_id,
                 request=req.id, requester=mine, owner=theirs, reason=reason[:AUDITED_REASON_MAX])  # fmt: skip
    slug = session.execute(select(Operation.slug).where(Operation.id == notice.operation_id)).scalar_one()
    link = notice_link(slug, notice_id)
    for agency_id, subject in (
        (notice.owner_agency_id, f"Screening notice {notice_id}: {mine} screened a list with a row matching a record "
                                 f"of your agency and asks you to share it (request {req.id})"),
        (notice.requester_agency_id, f"Screening notice {notice_id}: your agency asked {theirs} to share its matching "
                                     f"record (request {req.id})"),
    ):  # fmt: skip
        hooks.announce(session, hooks.Announcement((agency_id,), "disclosure_request", subject, link, LEVEL,
                                                   "match_request", req.id))  # fmt: skip
    return _request_view(req, actor.agency_id, codes)


__all__ = [
    "HiddenReference", "NoticeHit", "ScreeningNoticeView", "SubmittedRow", "encoded_row_data", "encoded_row_key",
    "hidden_reference", "record_hits", "record_notices", "request_disclosure", "row_data", "row_key",
    "screening_notice", "screening_notices",
]  # fmt: skip
