"""Entity resolution over the database: the operator's Splink run (links, clusters, matches to declared
parties), analysts' decisions as they apply to links, and the networks a viewer's links form."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage.extract import (
    DeclarationPartyInfo,
    Extract,
    extract,
    linkage_parties,
)
from dragonnet.linkage.networks import Network, build_networks
from dragonnet.linkage.record_cache import cached_records_table
from dragonnet.linkage.resolve import DEFAULT_THRESHOLD, Backend, ScoredPair, connected_components, resolve
from dragonnet.linkage.thresholds import operation_threshold
from dragonnet.policy import audit
from dragonnet.policy.access import Actor
from dragonnet.storage.linkage_models import (
    DeclarationMatch,
    LinkageRun,
    LinkDecision,
    PartyCluster,
    ProposedLink,
)
from dragonnet.storage.models import utcnow


def decisions(session: Session) -> dict[tuple[int, int], str]:
    rows = session.execute(select(LinkDecision.party_low_id, LinkDecision.party_high_id, LinkDecision.decision))
    return {(a, b): d for a, b, d in rows}


# --- entity resolution runs ---------------------------------------------------------------------------------


def run_resolution(
    session: Session,
    *,
    backend: Backend = "duckdb",
    threshold: float | None = None,
    operation_id: int | None = None,
    spark: Any = None,
    actor: audit.AuditActor = audit.SYSTEM,
    record_cache: Path | None = None,
) -> LinkageRun:
    """Resolve every party of the database (the operator's run) and store links and clusters.

    The declarations' importers, exporters and consignees the operator reads (every batch; lodged during the
    operation's phases when `operation_id` is given) are resolved in the same Splink job. Links and clusters
    hold case parties only, as before (clusters are the components of the case-to-case links: a declared party
    never joins two case parties); each case party the model links at the threshold to a declared party gets one
    `DeclarationMatch` per declaration of that party. Analysts' decisions are between case parties: they apply
    to the case links as before and cannot name a declared party.

    `threshold` None: the operation's adopted threshold (`linkage.calibration`) when `operation_id` is given and
    one was adopted, else DEFAULT_THRESHOLD.

    `record_cache`: the folder of normalised records kept between runs (`record_cache.cache_dir`): the parties
    normalised by an earlier run are read back, the others normalised, and the files rewritten with every party
    of this run, for the next run and the screenings.
    """
    if threshold is None:
        threshold = (
            operation_threshold(session, operation_id) if operation_id is not None else None
        ) or DEFAULT_THRESHOLD
    if not 0.0 < threshold < 1.0:
        raise ValidationError(f"threshold must be between 0 and 1, not {threshold}")
    ex = extract(session, None, operation_id=operation_id, declarations=True)
    started = utcnow()
    parties = linkage_parties(ex)
    records = None if record_cache is None else cached_records_table(parties, record_cache, write="replace").table
    result = resolve(
        parties, backend=backend, threshold=threshold, decisions=decisions(session), spark=spark, records=records,
    )  # fmt: skip
    case_ids = set(ex.parties)
    case_pairs = [p for p in result.pairs if p.left in case_ids and p.right in case_ids]
    case_links = [(a, b) for a, b in result.links if a in case_ids and b in case_ids]
    clusters = connected_components(sorted(case_ids), case_links)
    run = LinkageRun(
        scope_agency_id=None, backend=backend, threshold=threshold, started_at=started, finished_at=utcnow(),
        records=len(case_ids), links=len(case_links), clusters=len(set(clusters.values())), model=result.model,
    )  # fmt: skip
    session.add(run)
    session.flush()
    if case_pairs:
        session.execute(
            insert(ProposedLink),
            [{"run_id": run.id, "party_low_id": p.left, "party_high_id": p.right,
              "match_probability": p.match_probability, "match_weight": p.match_weight} for p in case_pairs],
        )  # fmt: skip
    rows = [{"run_id": run.id, "party_id": pid, "cluster_key": cid} for pid, cid in clusters.items()]
    if rows:
        session.execute(insert(PartyCluster), rows)
    matches = _declaration_matches(ex, result.pairs, threshold)
    if matches:
        session.execute(
            insert(DeclarationMatch),
            [{"run_id": run.id, "party_id": pid, "batch_id": batch_id, "declaration_id": did, "role": role,
              "record_key": key, "match_probability": prob}
             for (pid, batch_id, did), (prob, role, key) in sorted(matches.items())],
        )  # fmt: skip
    audit.record(session, actor, "linkage.run", "linkage_run", run.id, backend=backend, threshold=threshold,
                 records=run.records, links=run.links, clusters=run.clusters,
                 pairs_compared=result.compared_pairs, pairs_above_threshold=result.pairs_above_threshold,
                 declaration_parties=len(ex.declaration_parties), declaration_matches=len(matches))  # fmt: skip
    return run


DECLARATION_ID_MAX = 200  # DeclarationMatch.declaration_id's length; longer ids are not stored


def declaration_record_key(info: DeclarationPartyInfo) -> str:
    """A declared party as the extract groups it (role, kind, name, phone), hashed: what a stored match names."""
    p = info.party
    text = "\x1f".join((info.role, p.kind, p.name, p.phone or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _declaration_matches(
    ex: Extract, pairs: Iterable[ScoredPair], threshold: float
) -> dict[tuple[int, int, str], tuple[float, str, str]]:
    """(case party, batch, declaration id) -> (probability, role, record key) of the best-scoring declared party
    of that declaration the model linked to the case party at `threshold`."""
    out: dict[tuple[int, int, str], tuple[float, str, str]] = {}
    for pair in pairs:
        if pair.match_probability < threshold:
            continue
        ends = {pair.left, pair.right}
        case = next((i for i in ends if i in ex.parties), None)
        declared = next((i for i in ends if i in ex.declaration_parties), None)
        if case is None or declared is None:
            continue
        info = ex.declaration_parties[declared]
        key = declaration_record_key(info)
        for dkey in info.declarations:
            decl = ex.declarations[dkey]
            if len(decl.declaration_id) > DECLARATION_ID_MAX:
                continue
            at = (case, decl.batch_id, decl.declaration_id)
            if at not in out or pair.match_probability > out[at][0]:
                out[at] = (pair.match_probability, info.role, key)
    return out


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
