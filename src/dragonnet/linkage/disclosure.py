"""Match notices of the privacy-preserving linkage, and the requests that reveal their other side.

The rules are `dragonnet.policy.matches` (two steps, as in the EU Prüm exchanges): a notice tells an agency's
members only "agency X holds a record matching your party P", with the notice's number (the match's id); the
other case is named once its owner agreed to share it. A member asks (`request_disclosure`, with a reason);
the owner's national coordinator or the case's reporter accepts or declines with a reason (`decide_request`);
accepting shares the case with its parties under the normal sharing rules (`policy.sharing.share_case`).
Every step is written to the audit log and announced in both agencies' inboxes (`hooks.announce`, AMBER:
never to partner observers, never by e-mail in clear), and a run of the hub announces its new hits
(`announce_hits`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dragonnet import hooks
from dragonnet.domain.vocabulary import SharingLevel
from dragonnet.errors import ValidationError
from dragonnet.policy import audit, matches, sharing
from dragonnet.policy.access import Actor, Hidden, PermissionDenied, audit_actor
from dragonnet.storage.linkage_models import DisclosureRequest, PprlMatch, ScreeningNotice
from dragonnet.storage.models import Agency, Case, Operation, Party, utcnow

DECISIONS = ("accept", "decline")
REASON_MIN, REASON_MAX = 10, 2000
AUDITED_REASON_MAX = 500
LEVEL = SharingLevel.AMBER.value  # of every notification about a match: members only, no e-mail in clear
HITS_NAMED_MAX = 20  # notice numbers named in one notification of new hits


@dataclass(frozen=True)
class Revealed:
    """The other side of a match, once its owner agreed: its case and the party the hub matched."""

    case_id: int
    case_ref: str
    party_id: int
    party_name: str


@dataclass(frozen=True)
class RequestView:
    id: int
    notice_id: int | None  # None once the hub no longer finds the match (the request lapsed)
    sent: bool  # True: the reader's agency asked; False: the reader's agency is asked
    requester_agency: str
    owner_agency: str
    status: str  # pending, accepted, declined, lapsed
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str
    case_id: int | None  # for a request received: the reader's own case asked for; None for one sent
    screening_notice_id: int | None = None  # a request on a screening's notice (`linkage.screening.notices`)

    @property
    def pending(self) -> bool:
        return self.status == "pending"


class WithRequests:
    """A notice's disclosure requests as its reader sees them (match notices and screening notices alike)."""

    requests: tuple[RequestView, ...]

    @property
    def pending_sent(self) -> RequestView | None:
        return next((r for r in self.requests if r.sent and r.pending), None)

    @property
    def pending_received(self) -> list[RequestView]:
        return [r for r in self.requests if not r.sent and r.pending]


@dataclass(frozen=True)
class MatchNotice(WithRequests):
    """ "Agency X holds a record matching your party P" (hit / no hit); the other case only once revealed."""

    id: int
    operation_slug: str  # of the reader's own case
    party_id: int
    party_name: str
    own_case_id: int
    own_case_ref: str
    other_agency: str
    dice: float
    matched_at: dt.datetime
    requests: tuple[RequestView, ...] = ()
    revealed: Revealed | None = None

    @property
    def may_request(self) -> bool:
        return self.revealed is None and self.pending_sent is None

    @property
    def status(self) -> str:
        """What the reader's agency knows of the other side: revealed, requested, declined or hit."""
        if self.revealed is not None:
            return "revealed"
        sent = [r for r in self.requests if r.sent]
        return sent[0].status if sent and sent[0].status in ("pending", "declined") else "hit"


@dataclass(frozen=True)
class _Side:
    match: PprlMatch
    party_id: int
    case_id: int
    other_agency_id: int
    other_party_id: int
    other_case_id: int


def _side(m: PprlMatch, agency_id: int) -> _Side | None:
    if m.agency_a_id == agency_id:
        return _Side(m, m.party_a_id, m.case_a_id, m.agency_b_id, m.party_b_id, m.case_b_id)
    if m.agency_b_id == agency_id:
        return _Side(m, m.party_b_id, m.case_b_id, m.agency_a_id, m.party_a_id, m.case_a_id)
    return None


def _codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(wanted))).all())


def _request_view(r: DisclosureRequest, agency_id: int, codes: dict[int, str]) -> RequestView:
    sent = r.requester_agency_id == agency_id
    return RequestView(
        r.id, r.match_id, sent, codes.get(r.requester_agency_id, "?"), codes.get(r.owner_agency_id, "?"), r.status,
        r.reason, r.requested_at, r.decided_at, r.decision_reason, None if sent else r.owner_case_id,
        r.screening_notice_id,
    )  # fmt: skip


def _notices(session: Session, actor: Actor, sides: Sequence[_Side]) -> list[MatchNotice]:
    """The notices of `sides` (the reader's side of each match), with their requests and what is revealed."""
    if not sides:
        return []
    assert actor.agency_id is not None
    case_ids = {s.case_id for s in sides} | {s.other_case_id for s in sides}
    cases = {cid: (ref, slug) for cid, ref, slug in session.execute(
        select(Case.id, Case.case_ref, Operation.slug).join(Operation, Operation.id == Case.operation_id)
        .where(Case.id.in_(case_ids))
    )}  # fmt: skip
    shown_cases = matches.revealed_cases(session, actor, {s.other_case_id for s in sides})
    party_ids = {s.party_id for s in sides} | {s.other_party_id for s in sides if s.other_case_id in shown_cases}
    names = dict(session.execute(select(Party.id, Party.name).where(Party.id.in_(party_ids))).all())
    by_match: dict[int, list[DisclosureRequest]] = {}
    for r in session.execute(
        select(DisclosureRequest)
        .where(DisclosureRequest.match_id.in_([s.match.id for s in sides]),
               or_(DisclosureRequest.requester_agency_id == actor.agency_id,
                   DisclosureRequest.owner_agency_id == actor.agency_id))
        .order_by(DisclosureRequest.id.desc())
    ).scalars():  # fmt: skip
        assert r.match_id is not None
        by_match.setdefault(r.match_id, []).append(r)
    codes = _codes(session, {s.other_agency_id for s in sides} | {actor.agency_id})
    out = []
    for s in sides:
        own_ref, slug = cases[s.case_id]
        shown = None
        if s.other_case_id in shown_cases:
            shown = Revealed(s.other_case_id, cases[s.other_case_id][0], s.other_party_id,
                             names.get(s.other_party_id, "?"))  # fmt: skip
        views = tuple(_request_view(r, actor.agency_id, codes) for r in by_match.get(s.match.id, []))
        out.append(MatchNotice(s.match.id, slug, s.party_id, names.get(s.party_id, "?"), s.case_id, own_ref,
                               codes.get(s.other_agency_id, "?"), s.match.dice, s.match.matched_at, views,
                               shown))  # fmt: skip
    out.sort(key=lambda n: (-n.dice, n.own_case_ref, n.id))
    return out


def match_notices(session: Session, actor: Actor) -> list[MatchNotice]:
    """The notices of `actor`'s agency (none for partner observers and users without an agency)."""
    if not matches.may_receive_notices(actor):
        return []
    assert actor.agency_id is not None
    found = session.execute(
        select(PprlMatch).where(or_(PprlMatch.agency_a_id == actor.agency_id, PprlMatch.agency_b_id == actor.agency_id))
    ).scalars()
    sides = [side for m in found if (side := _side(m, actor.agency_id)) is not None]
    return _notices(session, actor, sides)


def _own_side(session: Session, actor: Actor, notice_id: int) -> _Side:
    m = session.get(PprlMatch, notice_id) if matches.may_receive_notices(actor) else None
    side = _side(m, actor.agency_id) if m is not None and actor.agency_id is not None else None
    if side is None:
        raise Hidden(actor, "match_notice", notice_id)
    return side


def match_notice(session: Session, actor: Actor, notice_id: int) -> MatchNotice:
    """One notice of `actor`'s agency; Hidden (404) otherwise, whether it exists or not."""
    return _notices(session, actor, [_own_side(session, actor, notice_id)])[0]


def _reason(text: str, what: str) -> str:
    text = (text or "").strip()
    if len(text) < REASON_MIN:
        raise ValidationError(f"give {what} (at least {REASON_MIN} characters)")
    if len(text) > REASON_MAX:
        raise ValidationError(f"{what} is too long (at most {REASON_MAX} characters)")
    return text


def _announce(session: Session, agency_id: int, case_id: int, *, kind: str, subject: str, notice: int,
              object_type: str, object_id: int, link: str | None = None) -> None:  # fmt: skip
    if link is None:
        slug = session.execute(
            select(Operation.slug).join(Case, Case.operation_id == Operation.id).where(Case.id == case_id)
        ).scalar_one()
        link = f"/operations/{slug}/notices/{notice}"
    hooks.announce(session, hooks.Announcement((agency_id,), kind, subject, link, LEVEL, object_type,
                                               object_id))  # fmt: skip


def request_disclosure(session: Session, actor: Actor, notice_id: int, reason: str) -> RequestView:
    """Ask the other agency of notice `notice_id` to share its matching case (step 2); audited, announced."""
    side = _own_side(session, actor, notice_id)
    reason = _reason(reason, "the reason you ask for the record")
    if matches.revealed_cases(session, actor, {side.other_case_id}):
        raise ValidationError(f"match notice {notice_id}: you may already open the matching case")
    assert actor.agency_id is not None
    pending = session.execute(
        select(DisclosureRequest.id).where(
            DisclosureRequest.match_id == notice_id, DisclosureRequest.requester_agency_id == actor.agency_id,
            DisclosureRequest.status == "pending",
        )
    ).first()  # fmt: skip
    if pending is not None:
        raise ValidationError(f"match notice {notice_id}: your agency asked already (request {pending[0]}); "
                              "wait for the answer")  # fmt: skip
    req = DisclosureRequest(
        match_id=notice_id, requester_agency_id=actor.agency_id, owner_agency_id=side.other_agency_id,
        requester_party_id=side.party_id, owner_party_id=side.other_party_id, owner_case_id=side.other_case_id,
        requested_by_id=actor.user_id, requested_at=utcnow(), reason=reason, status="pending", decision_reason="",
    )  # fmt: skip
    session.add(req)
    session.flush()
    codes = _codes(session, [actor.agency_id, side.other_agency_id])
    mine, theirs = codes[actor.agency_id], codes[side.other_agency_id]
    audit.record(session, audit_actor(actor), "linkage.disclosure_request", "match_notice", notice_id,
                 request=req.id, requester=mine, owner=theirs, reason=reason[:AUDITED_REASON_MAX])  # fmt: skip
    _announce(session, side.other_agency_id, side.other_case_id, kind="disclosure_request", notice=notice_id,
              subject=f"Match notice {notice_id}: {mine} asks your agency to share the record matching one of its "
                      f"parties (request {req.id})", object_type="match_request", object_id=req.id)  # fmt: skip
    _announce(session, actor.agency_id, side.case_id, kind="disclosure_request", notice=notice_id,
              subject=f"Match notice {notice_id}: your agency asked {theirs} to share its matching record "
                      f"(request {req.id})", object_type="match_request", object_id=req.id)  # fmt: skip
    return _request_view(req, actor.agency_id, codes)


def decide_request(session: Session, actor: Actor, request_id: int, decision: str, reason: str = "") -> RequestView:
    """The owner accepts (the case is shared with the asking agency, with its parties) or declines (a reason is
    required) a request; audited and announced to both agencies.

    Hidden (404) unless `actor`'s agency is one of the two sides; PermissionDenied (403) for the asking side and
    for members of the owner who may not share the case (only its national coordinator or its reporter)."""
    req = session.get(DisclosureRequest, request_id) if matches.may_receive_notices(actor) else None
    if req is None or actor.agency_id not in (req.requester_agency_id, req.owner_agency_id):
        raise Hidden(actor, "disclosure_request", request_id)
    if actor.agency_id != req.owner_agency_id:
        raise PermissionDenied(actor, "disclosure_request", request_id, "only the agency asked may accept or decline")
    if decision not in DECISIONS:
        raise ValidationError(f"decision must be accept or decline, not {decision!r}")
    if req.status != "pending":
        raise ValidationError(f"request {request_id} is {req.status} already")
    case = sharing.check_may_share(session, actor, req.owner_case_id)
    codes = _codes(session, [req.requester_agency_id, req.owner_agency_id])
    if decision == "accept":
        reason = (reason or "").strip()[:REASON_MAX]
        if not matches.may_be_shared(case.sharing_level):
            raise ValidationError(f"case {case.case_ref} is AMBER+STRICT: it is shared with nobody; change its sharing "
                                  "level first, or decline")  # fmt: skip
        sharing.share_case(session, actor, case.id, [codes[req.requester_agency_id]], nominal=True)
    else:
        reason = _reason(reason, "the reason you decline")
    req.status = "accepted" if decision == "accept" else "declined"
    req.decided_by_id, req.decided_at, req.decision_reason = actor.user_id, utcnow(), reason
    session.flush()
    notice = req.match_id if req.match_id is not None else 0
    audit.record(session, audit_actor(actor), f"linkage.disclosure_{decision}", "disclosure_request", req.id,
                 notice=req.match_id, screening_notice=req.screening_notice_id,
                 requester=codes[req.requester_agency_id], owner=codes[req.owner_agency_id], case=case.id,
                 reason=reason[:AUDITED_REASON_MAX])  # fmt: skip
    done = "accepted" if decision == "accept" else "declined"
    owner, requester = codes[req.owner_agency_id], codes[req.requester_agency_id]
    label, link, requester_case = f"Match notice {notice}", None, req.owner_case_id
    if req.screening_notice_id is not None:
        label, link = _screening_notice_target(session, req.screening_notice_id)
    elif req.requester_party_id is not None:
        requester_case = _requester_case(session, req)
    _announce(session, req.requester_agency_id, requester_case, kind="disclosure_decision", notice=notice,
              subject=f"{label}: {owner} {done} your request {req.id}", object_type="match_request",
              object_id=req.id, link=link)  # fmt: skip
    _announce(session, req.owner_agency_id, req.owner_case_id, kind="disclosure_decision", notice=notice,
              subject=f"{label}: your agency {done} the request {req.id} of {requester}",
              object_type="match_request", object_id=req.id, link=link)  # fmt: skip
    return _request_view(req, actor.agency_id, codes)


def _screening_notice_target(session: Session, notice_id: int) -> tuple[str, str]:
    """The label and page of a screening's notice (`linkage.screening.notices`), for its requests' announcements."""
    slug = session.execute(
        select(Operation.slug).join(ScreeningNotice, ScreeningNotice.operation_id == Operation.id)
        .where(ScreeningNotice.id == notice_id)
    ).scalar_one()  # fmt: skip
    return f"Screening notice {notice_id}", f"/operations/{slug}/screening/notices/{notice_id}"


def _requester_case(session: Session, req: DisclosureRequest) -> int:
    assert req.requester_party_id is not None
    return int(session.execute(select(Party.case_id).where(Party.id == req.requester_party_id)).scalar_one())


def announce_hits(session: Session, new_match_ids: Sequence[int]) -> int:
    """Tell both agencies of each new match that they have a hit (one notification per agency and operation,
    naming the notices' numbers); returns the notifications made."""
    if not new_match_ids:
        return 0
    per: dict[tuple[int, str], list[int]] = {}
    found = session.execute(select(PprlMatch).where(PprlMatch.id.in_(list(new_match_ids)))).scalars()
    rows = list(found)
    slugs = dict(session.execute(
        select(Case.id, Operation.slug).join(Operation, Operation.id == Case.operation_id)
        .where(Case.id.in_({m.case_a_id for m in rows} | {m.case_b_id for m in rows}))
    ).all())  # fmt: skip
    for m in rows:
        per.setdefault((m.agency_a_id, slugs[m.case_a_id]), []).append(m.id)
        per.setdefault((m.agency_b_id, slugs[m.case_b_id]), []).append(m.id)
    made = 0
    for (agency_id, slug), ids in sorted(per.items()):
        ids.sort()
        named = ", ".join(str(i) for i in ids[:HITS_NAMED_MAX]) + (" ..." if len(ids) > HITS_NAMED_MAX else "")
        subject = (f"The privacy-preserving linkage found {len(ids)} new match(es) for parties of your agency "
                   f"(notices {named}): another agency holds a matching record")  # fmt: skip
        made += hooks.announce(session, hooks.Announcement((agency_id,), "match_notice", subject,
                                                           f"/operations/{slug}/links#notices", LEVEL, "match_notice",
                                                           ids[0]))  # fmt: skip
    return made
