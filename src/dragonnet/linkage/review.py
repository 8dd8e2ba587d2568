"""Analysts' review of proposed links: the pairs to look at and the confirm/reject decisions the next run keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage.extract import (
    extract,
)
from dragonnet.linkage.resolution import decisions, latest_run
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor
from dragonnet.storage.linkage_models import (
    LinkDecision,
    ProposedLink,
)
from dragonnet.storage.models import Party, utcnow

DECISIONS = ("confirm", "reject")


def _pair(a: int, b: int) -> tuple[int, int]:
    if a == b:
        raise ValidationError("a link needs two different parties")
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class LinkRow:
    left: Party
    right: Party
    left_case: str
    right_case: str
    probability: float | None
    decision: str | None


def _visible_parties(session: Session, actor: Actor, ids: Sequence[int]) -> dict[int, Party]:
    ex_ids = set(extract(session, actor).parties)
    found = session.execute(select(Party).where(Party.id.in_([i for i in ids if i in ex_ids]))).scalars()
    return {p.id: p for p in found}


def review_links(session: Session, actor: Actor, *, limit: int = 200) -> list[LinkRow]:
    """Proposed links (latest run) and decided pairs between parties `actor` may see, for review."""
    ex = extract(session, actor)
    visible = set(ex.parties)
    run = latest_run(session)
    scored: dict[tuple[int, int], float] = {}
    if run is not None:
        for a, b, p in session.execute(
            select(ProposedLink.party_low_id, ProposedLink.party_high_id, ProposedLink.match_probability).where(
                ProposedLink.run_id == run.id
            )
        ):
            if a in visible and b in visible:
                scored[(a, b)] = p
    decided = {k: v for k, v in decisions(session).items() if k[0] in visible and k[1] in visible}
    keys = sorted(set(scored) | set(decided), key=lambda k: (k in decided, -scored.get(k, 1.0), k))[:limit]
    parties = {
        p.id: p for p in session.execute(select(Party).where(Party.id.in_({i for k in keys for i in k}))).scalars()
    }
    return [
        LinkRow(parties[a], parties[b], ex.cases[ex.parties[a].case_id].case_ref,
                ex.cases[ex.parties[b].case_id].case_ref, scored.get((a, b)), decided.get((a, b)))
        for a, b in keys
    ]  # fmt: skip


def decide(session: Session, actor: Actor, party_a: int, party_b: int, decision: str, note: str = "") -> LinkDecision:
    """Record an analyst's decision on a pair; only a user who may see both parties may decide (else 404)."""
    if decision not in DECISIONS:
        raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    low, high = _pair(party_a, party_b)
    seen = _visible_parties(session, actor, [low, high])
    for pid in (low, high):
        if pid not in seen:
            raise Hidden(actor, "party", pid)
    row = session.execute(
        select(LinkDecision).where(LinkDecision.party_low_id == low, LinkDecision.party_high_id == high)
    ).scalar_one_or_none()
    if row is None:
        row = LinkDecision(party_low_id=low, party_high_id=high)
        session.add(row)
    assert actor.agency_id is not None
    row.decision, row.agency_id, row.user_id, row.note, row.decided_at = (
        decision,
        actor.agency_id,
        actor.user_id,
        note[:2000],
        utcnow(),
    )
    session.flush()
    audit.record(session, audit_actor(actor), "linkage.decision", "party_pair", f"{low}-{high}", decision=decision)
    return row
