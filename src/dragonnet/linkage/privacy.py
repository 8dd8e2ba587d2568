"""The privacy-preserving run: each agency encodes its own parties, the hub matches encodings only, and each
agency learns "agency Y holds a record matching your party X" (a match notice: `disclosure`), nothing more
until Y agrees to share it."""

from __future__ import annotations

import hashlib
import hmac
import os

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage import disclosure, pprl
from dragonnet.linkage.resolve import PartyInput
from dragonnet.policy import audit
from dragonnet.storage.linkage_models import DisclosureRequest, PprlMatch
from dragonnet.storage.models import Agency, Case, Party, utcnow

AUDITED_NOTICES_MAX = 500  # new notice numbers listed in the run's audit entry


def demo_secret(site_secret: str) -> bytes:
    """A linkage key derived from the site secret: for a single-instance demo only (see docs)."""
    return hmac.new(site_secret.encode("utf-8"), b"dragonnet-pprl-demo", hashlib.sha256).digest()


def linkage_secret(site_secret: str) -> bytes:
    """The operation's shared linkage key at this instance: $DRAGONNET_LINKAGE_KEY (hex), else (a single-instance
    demo) the key derived from the site secret."""
    configured = os.environ.get("DRAGONNET_LINKAGE_KEY")
    if configured:
        try:
            return bytes.fromhex(configured)
        except ValueError:
            raise ValidationError("DRAGONNET_LINKAGE_KEY must be hexadecimal") from None
    return demo_secret(site_secret)


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
        PartyInput(p.id, p.kind, p.name, p.nationality, p.birth_date, p.id_number, p.phone, p.email, country, p.address)
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
    keyed blocking keys); `threshold` is the hub model's match probability. A pair found again keeps its row
    (its notice number and requests); a new pair is a new notice, announced to both agencies (hit / no hit:
    `disclosure.announce_hits`); a pair no longer found is dropped, and a request still pending on it lapses.
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
    kept = {(m.party_a_id, m.party_b_id): m for m in session.execute(select(PprlMatch)).scalars()}
    now = utcnow()
    new_rows, seen = [], set()
    for m in found:
        a, b = sorted((int(m.a.ref), int(m.b.ref)))
        seen.add((a, b))
        if (a, b) in kept:
            kept[(a, b)].dice = m.dice
            continue
        new_rows.append(PprlMatch(party_a_id=a, party_b_id=b, case_a_id=where[a][0], case_b_id=where[b][0],
                                  agency_a_id=where[a][1], agency_b_id=where[b][1], dice=m.dice,
                                  matched_at=now))  # fmt: skip
    gone = [row.id for pair, row in kept.items() if pair not in seen]
    lapsed = 0
    if gone:
        lapsing = session.execute(
            update(DisclosureRequest).where(DisclosureRequest.match_id.in_(gone), DisclosureRequest.status == "pending")
            .values(status="lapsed")
        )  # fmt: skip
        lapsed = int(getattr(lapsing, "rowcount", 0) or 0)
        session.execute(update(DisclosureRequest).where(DisclosureRequest.match_id.in_(gone)).values(match_id=None))
        session.execute(delete(PprlMatch).where(PprlMatch.id.in_(gone)))
    session.add_all(new_rows)
    session.flush()
    new_ids = [row.id for row in new_rows]
    notified = disclosure.announce_hits(session, new_ids)
    audit.record(session, actor, "linkage.pprl", "linkage", None, encodings=len(encodings), matches=len(seen),
                 threshold=threshold, new_notices=new_ids[:AUDITED_NOTICES_MAX], new=len(new_ids), dropped=len(gone),
                 lapsed_requests=lapsed, notifications=notified)  # fmt: skip
    return len(seen)
