"""The privacy-preserving run: each agency encodes its own parties, the hub matches encodings only, and each
agency learns "your party likely matches a party of agency Y in case Z" (no name of the other side)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage import pprl
from dragonnet.linkage.extract import (
    extract,
)
from dragonnet.linkage.resolve import PartyInput
from dragonnet.policy import audit
from dragonnet.policy.access import Actor
from dragonnet.storage.linkage_models import (
    PprlMatch,
)
from dragonnet.storage.models import Agency, Case, Party, utcnow


def demo_secret(site_secret: str) -> bytes:
    """A linkage key derived from the site secret: for a single-instance demo only (see docs)."""
    return hmac.new(site_secret.encode("utf-8"), b"dragonnet-pprl-demo", hashlib.sha256).digest()


def encode_agency(session: Session, agency_id: int, secret: bytes) -> list[pprl.Encoding]:
    """What one agency's instance sends to the hub: encodings of its own parties (drafts excepted)."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise ValidationError(f"no agency {agency_id}")
    rows = session.execute(
        select(Party, Case.place_country)
        .join(Case, Case.id == Party.case_id)
        .where(Case.reporting_agency_id == agency_id, Case.status != "draft")
    ).all()
    parties = [
        PartyInput(p.id, p.kind, p.name, p.nationality, p.birth_date, p.id_number, p.phone, p.email, country)
        for p, country in rows
    ]
    return pprl.encode_parties(parties, agency.code, secret)


def run_pprl(
    session: Session,
    secret: bytes,
    *,
    threshold: float = pprl.DEFAULT_THRESHOLD,
    actor: audit.AuditActor = audit.SYSTEM,
) -> int:
    """Every agency encodes, the hub matches; the hub's matches replace the previous ones. Returns their number.

    In one database the "instances" are simulated; the hub step sees only `Encoding`s (refs, kinds, bits and
    keyed blocking keys); `threshold` is the hub model's match probability.
    """
    agencies = session.execute(select(Agency.id, Agency.code)).all()
    encodings: list[pprl.Encoding] = []
    for agency_id, _code in agencies:
        encodings += encode_agency(session, agency_id, secret)
    found = pprl.match(encodings, threshold=threshold)
    # Back at the agencies: each side resolves its own ref to its party and case.
    ids = {int(m.a.ref) for m in found} | {int(m.b.ref) for m in found}
    where: dict[int, tuple[int, int]] = {}
    if ids:
        for pid, cid, aid in session.execute(
            select(Party.id, Party.case_id, Case.reporting_agency_id)
            .join(Case, Case.id == Party.case_id)
            .where(Party.id.in_(ids))
        ):
            where[pid] = (cid, aid)
    session.execute(delete(PprlMatch))
    rows = []
    for m in found:
        a, b = sorted((int(m.a.ref), int(m.b.ref)))
        rows.append(
            {
                "party_a_id": a,
                "party_b_id": b,
                "case_a_id": where[a][0],
                "case_b_id": where[b][0],
                "agency_a_id": where[a][1],
                "agency_b_id": where[b][1],
                "dice": m.dice,
                "matched_at": utcnow(),
            }
        )
    if rows:
        session.execute(insert(PprlMatch), rows)
    audit.record(session, actor, "linkage.pprl", "linkage", None, encodings=len(encodings), matches=len(rows),
                 threshold=threshold)  # fmt: skip
    return len(rows)


@dataclass(frozen=True)
class MatchNotice:
    """ "Your party X (case C) likely matches a party of agency Y in case Z" — no name of the other side."""

    party_id: int
    party_name: str
    own_case_id: int
    own_case_ref: str
    other_agency: str
    other_case_ref: str
    dice: float


def match_notices(session: Session, actor: Actor) -> list[MatchNotice]:
    if actor.agency_id is None or actor.is_observer_only:
        return []
    own_ids = set(extract(session, actor).parties)
    out: list[MatchNotice] = []
    rows = session.execute(select(PprlMatch)).scalars()
    for m in rows:
        for mine, my_case, other_agency, other_case in (
            (m.party_a_id, m.case_a_id, m.agency_b_id, m.case_b_id),
            (m.party_b_id, m.case_b_id, m.agency_a_id, m.case_a_id),
        ):
            side_agency = m.agency_a_id if mine == m.party_a_id else m.agency_b_id
            if side_agency != actor.agency_id or mine not in own_ids:
                continue
            party = session.get(Party, mine)
            own = session.get(Case, my_case)
            other = session.get(Case, other_case)
            agency = session.get(Agency, other_agency)
            assert party and own and other and agency
            out.append(MatchNotice(mine, party.name, own.id, own.case_ref, agency.code, other.case_ref, m.dice))
    out.sort(key=lambda n: (-n.dice, n.own_case_ref, n.other_case_ref))
    return out
