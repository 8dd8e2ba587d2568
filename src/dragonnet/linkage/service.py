"""The linkage capability's entry points over the database: runs, decisions, encoded matching, networks, routes.

Web, API and CLI call these and nothing deeper. Every read for a user starts from `extract(session, actor)`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage import pprl
from dragonnet.linkage.extract import Extract, extract
from dragonnet.linkage.networks import Network, build_networks
from dragonnet.linkage.resolve import DEFAULT_THRESHOLD, Backend, resolve
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor
from dragonnet.storage.linkage_models import LinkageRun, LinkDecision, PartyCluster, PprlMatch, ProposedLink
from dragonnet.storage.models import Agency, Case, Party, utcnow

DECISIONS = ("confirm", "reject")


def _pair(a: int, b: int) -> tuple[int, int]:
    if a == b:
        raise ValidationError("a link needs two different parties")
    return (a, b) if a < b else (b, a)


def decisions(session: Session) -> dict[tuple[int, int], str]:
    rows = session.execute(select(LinkDecision.party_low_id, LinkDecision.party_high_id, LinkDecision.decision))
    return {(a, b): d for a, b, d in rows}


# --- entity resolution runs ---------------------------------------------------------------------------------


def run_resolution(
    session: Session,
    *,
    backend: Backend = "duckdb",
    threshold: float = DEFAULT_THRESHOLD,
    operation_id: int | None = None,
    spark: Any = None,
    actor: audit.AuditActor = audit.SYSTEM,
) -> LinkageRun:
    """Resolve every party of the database (the operator's run) and store links and clusters."""
    if not 0.0 < threshold < 1.0:
        raise ValidationError(f"threshold must be between 0 and 1, not {threshold}")
    ex = extract(session, None, operation_id=operation_id)
    started = utcnow()
    result = resolve(
        [p.party for p in ex.parties.values()], backend=backend, threshold=threshold,
        decisions=decisions(session), spark=spark,
    )  # fmt: skip
    run = LinkageRun(
        scope_agency_id=None, backend=backend, threshold=threshold, started_at=started, finished_at=utcnow(),
        records=result.records, links=len(result.links), clusters=len(set(result.clusters.values())),
        model=result.model,
    )  # fmt: skip
    session.add(run)
    session.flush()
    if result.pairs:
        session.execute(
            insert(ProposedLink),
            [{"run_id": run.id, "party_low_id": p.left, "party_high_id": p.right,
              "match_probability": p.match_probability, "match_weight": p.match_weight} for p in result.pairs],
        )  # fmt: skip
    rows = [{"run_id": run.id, "party_id": pid, "cluster_key": cid} for pid, cid in result.clusters.items()]
    if rows:
        session.execute(insert(PartyCluster), rows)
    audit.record(session, actor, "linkage.run", "linkage_run", run.id, backend=backend, threshold=threshold,
                 records=run.records, links=run.links, clusters=run.clusters)  # fmt: skip
    return run


def latest_run(session: Session) -> LinkageRun | None:
    return session.execute(
        select(LinkageRun).where(LinkageRun.scope_agency_id.is_(None)).order_by(LinkageRun.id.desc()).limit(1)
    ).scalar_one_or_none()


def party_links(session: Session, ex: Extract) -> list[tuple[int, int]]:
    """Links between parties of the extract: the latest run's proposals at its threshold, then the decisions.

    Only pairs with both parties in the extract count, and clusters are recomputed from them: two visible
    parties are never joined through a party the viewer cannot see.
    """
    visible = set(ex.parties)
    links: set[tuple[int, int]] = set()
    run = latest_run(session)
    if run is not None and visible:
        for a, b in session.execute(
            select(ProposedLink.party_low_id, ProposedLink.party_high_id).where(
                ProposedLink.run_id == run.id, ProposedLink.match_probability >= run.threshold
            )
        ):
            if a in visible and b in visible:
                links.add((a, b))
    for (a, b), d in decisions(session).items():
        if a in visible and b in visible:
            if d == "reject":
                links.discard((a, b))
            else:
                links.add((a, b))
    return sorted(links)


def networks_for(session: Session, actor: Actor | None, *, operation_id: int | None = None,
                 hub: bool = False) -> tuple[Extract, list[Network]]:  # fmt: skip
    ex = extract(session, actor, operation_id=operation_id, hub=hub)
    return ex, build_networks(ex, party_links(session, ex))


# --- analysts' decisions ------------------------------------------------------------------------------------


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


# --- privacy-preserving linkage -----------------------------------------------------------------------------


def demo_secret(site_secret: str) -> bytes:
    """A linkage key derived from the site secret: for a single-instance demo only (see docs)."""
    return hmac.new(site_secret.encode("utf-8"), b"dragonnet-pprl-demo", hashlib.sha256).digest()


def encode_agency(session: Session, agency_id: int, secret: bytes) -> list[pprl.Encoding]:
    """What one agency's instance sends to the hub: encodings of its own parties (drafts excepted)."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise ValidationError(f"no agency {agency_id}")
    from dragonnet.linkage.resolve import PartyInput

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
