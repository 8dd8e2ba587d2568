"""The linkage capability's entry points over the database: runs, decisions, encoded matching, networks, routes,
and the links between cases and shipment declarations.

Web, API and CLI call these and nothing deeper. Every read for a user starts from `extract(session, actor)`.
"""

# ruff: noqa: S608  (the declarations' SQL is assembled from code-defined column names; values are bound)

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage import normalise, pprl
from dragonnet.linkage.extract import (
    DeclarationLink,
    DeclarationPartyInfo,
    Extract,
    IdentifierInfo,
    declaration_links,
    extract,
    linkage_parties,
    visible_batches,
)
from dragonnet.linkage.networks import Network, build_networks
from dragonnet.linkage.resolve import DEFAULT_THRESHOLD, Backend, ScoredPair, connected_components, resolve
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor
from dragonnet.storage.linkage_models import (
    DeclarationMatch,
    LinkageRun,
    LinkDecision,
    PartyCluster,
    PprlMatch,
    ProposedLink,
)
from dragonnet.storage.models import Agency, Case, Party, utcnow
from dragonnet.storage.targeting_models import TargetingHit, TargetingList

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
    """Resolve every party of the database (the operator's run) and store links and clusters.

    The declarations' importers, exporters and consignees the operator reads (every batch; lodged during the
    operation's phases when `operation_id` is given) are resolved in the same Splink job. Links and clusters
    hold case parties only, as before (clusters are the components of the case-to-case links: a declared party
    never joins two case parties); each case party the model links at the threshold to a declared party gets one
    `DeclarationMatch` per declaration of that party. Analysts' decisions are between case parties: they apply
    to the case links as before and cannot name a declared party.
    """
    if not 0.0 < threshold < 1.0:
        raise ValidationError(f"threshold must be between 0 and 1, not {threshold}")
    ex = extract(session, None, operation_id=operation_id, declarations=True)
    started = utcnow()
    result = resolve(
        linkage_parties(ex), backend=backend, threshold=threshold, decisions=decisions(session), spark=spark,
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


# --- cases and shipment declarations ------------------------------------------------------------------------
#
# A user reads the declarations of their own agency's batches when they may target (targeting's rule, applied by
# `extract(..., declarations=True)`), lodged during the operation's phases, against the cases they may see and
# only those cases' parties and identifiers the nominal rule lets them see; the operator (actor None) reads all.
# Parties link through the latest run's clusters (recomputed over the visible case parties, decisions applied),
# through the latest run's matches between a case party and a declared party (`DeclarationMatch`: the operator's
# run resolves the declarations' parties with the cases'; shown as resolved by the model, with the probability)
# and through a registration or trader code a case party and a declared party share. Splink is not run per
# request: declarations imported after the latest run link through codes, containers and phones only.

EVIDENCE_KINDS = ("party", "container", "phone", "company_name")
EVIDENCE_LABELS = {
    "party": "Same party", "container": "Same container", "phone": "Same phone",
    "company_name": "Same company name (lead)",
}  # fmt: skip
LEAD_KINDS = frozenset({"company_name"})  # weaker than a resolved party: for the analyst to check


@dataclass(frozen=True)
class Evidence:
    """One thing a case and a declaration share, with how each side writes it."""

    kind: str  # party | container | phone | company_name
    entity: str  # "party:<lowest party id of the cluster>", "company:<name key>", "container:<no>", "phone:<E.164>"
    case_values: tuple[str, ...]
    declaration_values: tuple[str, ...]
    probability: float | None = None  # a party the latest run's model linked to the declared one: its best score

    @property
    def label(self) -> str:
        if self.kind == "party" and self.probability is not None:
            return f"Same party (resolved by the model, match probability {self.probability:.3f})"
        return EVIDENCE_LABELS.get(self.kind, self.kind)

    @property
    def is_lead(self) -> bool:
        return self.kind in LEAD_KINDS

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "entity": self.entity, "lead": self.is_lead,
                "case_values": list(self.case_values), "declaration_values": list(self.declaration_values),
                "probability": self.probability}  # fmt: skip


@dataclass(frozen=True)
class CaseDeclarationLink:
    """A case and a declaration that share at least one entity, with the evidence."""

    case_id: int
    case_ref: str
    case_agency: str
    seizure_date: dt.date
    declaration: str  # "<batch id>/<declaration id>": unique across batches
    declaration_id: str
    batch_id: int
    declaration_agency: str | None
    office: str
    date: dt.date
    mode: str | None
    hs_codes: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    targeting_list_id: int | None = None  # the viewer's latest targeting list holding the declaration
    targeting_hit_id: int | None = None
    case_parties: tuple[int, ...] = ()  # the case's parties named in the evidence (for the audit)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.kind for e in self.evidence))

    @property
    def lead_only(self) -> bool:
        return all(e.is_lead for e in self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id, "case_ref": self.case_ref, "case_agency": self.case_agency,
            "seizure_date": self.seizure_date.isoformat(), "declaration": self.declaration,
            "declaration_id": self.declaration_id, "batch_id": self.batch_id,
            "declaration_agency": self.declaration_agency, "office": self.office, "date": self.date.isoformat(),
            "mode": self.mode, "hs_codes": list(self.hs_codes), "lead_only": self.lead_only,
            "evidence": [e.as_dict() for e in self.evidence],
            "targeting_list_id": self.targeting_list_id, "targeting_hit_id": self.targeting_hit_id,
        }  # fmt: skip


@dataclass(frozen=True)
class DeclarationLinks:
    rows: list[CaseDeclarationLink]  # after the filters
    total: int  # linked (case, declaration) pairs before the filters
    declarations: int  # declarations read (the viewer's agency's, lodged during the operation)
    cases: int  # cases the viewer may see in the operation
    may_read: bool  # False: the viewer reads no declaration at all (not a member who may target)
    offices: tuple[str, ...]  # offices of every linked declaration (for a filter)


def declaration_code_links(ex: Extract) -> list[tuple[int, int]]:
    """Case and declaration parties of one kind that carry the same registration, licence or trader code."""
    by_code: dict[tuple[str, str], list[int]] = {}
    for pid, info in ex.parties.items():
        code = normalise.code(info.party.id_number)
        if code:
            by_code.setdefault((info.party.kind, code), []).append(pid)
    out: set[tuple[int, int]] = set()
    for pid, dinfo in ex.declaration_parties.items():
        code = normalise.code(dinfo.party.id_number)
        for other in by_code.get((dinfo.party.kind, code), []) if code else []:
            out.add((min(pid, other), max(pid, other)))
    return sorted(out)


def declaration_model_links(session: Session, ex: Extract) -> dict[tuple[int, int], float]:
    """(case party, declared party) of the extract -> probability: the latest run's `DeclarationMatch`es whose
    case party and declaration are both in the extract (the viewer may see the party and read the batch)."""
    run = latest_run(session)
    if run is None or not ex.parties or not ex.declaration_parties:
        return {}
    by_record: dict[tuple[str, str], list[int]] = {}
    for pid, dinfo in ex.declaration_parties.items():
        key = declaration_record_key(dinfo)
        for dkey in dinfo.declarations:
            by_record.setdefault((dkey, key), []).append(pid)
    batches = sorted({d.batch_id for d in ex.declarations.values()})
    out: dict[tuple[int, int], float] = {}
    for party_id, batch_id, declaration_id, key, probability in session.execute(
        select(DeclarationMatch.party_id, DeclarationMatch.batch_id, DeclarationMatch.declaration_id,
               DeclarationMatch.record_key, DeclarationMatch.match_probability)
        .where(DeclarationMatch.run_id == run.id, DeclarationMatch.batch_id.in_(batches),
               DeclarationMatch.match_probability >= run.threshold)
    ):  # fmt: skip
        if party_id not in ex.parties:
            continue
        for declared in by_record.get((f"{batch_id}/{declaration_id}", key), ()):
            out[(party_id, declared)] = max(probability, out.get((party_id, declared), 0.0))
    return out


def declaration_links_for(
    session: Session, actor: Actor | None, *, operation_id: int, kind: str | None = None,
    office: str | None = None, company_names: bool = True,
) -> DeclarationLinks:  # fmt: skip
    """Cases of the operation `actor` may see x declarations `actor` may read that share an entity (a resolved
    party, a container, a phone; with `company_names`, company-name leads), one row per case and declaration,
    strong evidence first. `kind` keeps rows with that kind of evidence, `office` those lodged at that office."""
    if kind is not None and kind not in EVIDENCE_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(EVIDENCE_KINDS)}, not {kind!r}")
    from dragonnet.targeting.service import may_target

    ex = extract(session, actor, operation_id=operation_id, declarations=True)
    model = declaration_model_links(session, ex)
    links = sorted({*party_links(session, ex), *declaration_code_links(ex), *((d, c) for c, d in model)})
    grouped: dict[tuple[int, str], list[DeclarationLink]] = {}
    for link in declaration_links(ex, links, company_names=company_names):
        grouped.setdefault((link.case_id, link.declaration), []).append(link)
    offices = tuple(sorted({ex.declarations[d].office for _c, d in grouped}))
    total = len(grouped)
    if kind is not None:
        grouped = {k: v for k, v in grouped.items() if any(lk.kind == kind for lk in v)}
    if office:
        wanted = office.strip().upper()
        grouped = {k: v for k, v in grouped.items() if ex.declarations[k[1]].office.upper() == wanted}
    keys = {d for _c, d in grouped}
    hs = _hs_codes(session, actor, ex, keys)
    hits = _targeting_hits(session, actor, ex, keys)
    evidence = _EvidenceReader(ex, links, model)
    rows = []
    for (case_id, key), found in grouped.items():
        case, decl = ex.cases[case_id], ex.declarations[key]
        items = [evidence.read(lk) for lk in found]
        items.sort(key=lambda e: (e[0].is_lead, EVIDENCE_KINDS.index(e[0].kind), e[0].entity))
        hit = hits.get(key)
        rows.append(CaseDeclarationLink(
            case_id=case_id, case_ref=case.case_ref, case_agency=case.agency, seizure_date=case.seizure_date,
            declaration=key, declaration_id=decl.declaration_id, batch_id=decl.batch_id,
            declaration_agency=decl.agency, office=decl.office, date=decl.date, mode=decl.mode,
            hs_codes=hs.get(key, ()), evidence=tuple(e for e, _p in items),
            targeting_list_id=hit[0] if hit else None, targeting_hit_id=hit[1] if hit else None,
            case_parties=tuple(sorted({p for _e, ps in items for p in ps})),
        ))  # fmt: skip
    rows.sort(key=lambda r: (r.lead_only, r.case_ref, r.date, r.declaration))
    return DeclarationLinks(rows, total, len(ex.declarations), len(ex.cases),
                            actor is None or may_target(actor), offices)  # fmt: skip


class _EvidenceReader:
    """How each side writes what a `DeclarationLink` says they share (names, numbers as written)."""

    def __init__(
        self, ex: Extract, links: Iterable[tuple[int, int]], model: dict[tuple[int, int], float] | None = None
    ) -> None:
        self.ex = ex
        self.model: dict[int, float] = {}  # declared party -> its best model score against a visible case party
        for (_case, declared), probability in (model or {}).items():
            self.model[declared] = max(probability, self.model.get(declared, 0.0))
        ids = sorted([*ex.parties, *ex.declaration_parties])
        known = set(ids)
        # The same clusters as `declaration_links` computes.
        self.clusters = connected_components(ids, [(a, b) for a, b in links if a in known and b in known])
        self.case_parties: dict[int, list[int]] = {}
        for pid, info in ex.parties.items():
            self.case_parties.setdefault(info.case_id, []).append(pid)
        self.declaration_parties: dict[str, list[int]] = {}
        for pid, dinfo in ex.declaration_parties.items():
            for key in dinfo.declarations:
                self.declaration_parties.setdefault(key, []).append(pid)
        self.case_identifiers: dict[tuple[int, str, str], list[IdentifierInfo]] = {}
        for ident in ex.identifiers:
            self.case_identifiers.setdefault((ident.case_id, ident.kind, ident.key), []).append(ident)
        self.declaration_identifiers: dict[tuple[str, str, str], list[str]] = {}
        for dident in ex.declaration_identifiers:
            self.declaration_identifiers.setdefault((dident.declaration, dident.kind, dident.key), []).append(
                dident.value
            )
        self._company: dict[int, str | None] = {}

    def _company_key(self, pid: int) -> str | None:
        if pid not in self._company:
            info = self.ex.parties[pid].party if pid > 0 else self.ex.declaration_parties[pid].party
            self._company[pid] = normalise.name_key(info.name, kind="company") if info.kind == "company" else None
        return self._company[pid]

    def read(self, link: DeclarationLink) -> tuple[Evidence, tuple[int, ...]]:
        """The evidence of one link and the case parties it names."""
        _prefix, _sep, value = link.entity.partition(":")
        case_side = self.case_parties.get(link.case_id, [])
        declaration_side = self.declaration_parties.get(link.declaration, [])
        if link.kind in ("party", "company_name"):
            if link.kind == "party":
                root = int(value)
                mine = [p for p in case_side if self.clusters.get(p) == root]
                theirs = [p for p in declaration_side if self.clusters.get(p) == root]
            else:
                mine = [p for p in case_side if self._company_key(p) == value]
                theirs = [p for p in declaration_side if self._company_key(p) == value]
            case_values = tuple(sorted({self.ex.parties[p].party.name for p in mine}))
            declaration_values = tuple(sorted({self.ex.declaration_parties[p].party.name for p in theirs}))
            scores = [self.model[p] for p in theirs if p in self.model] if link.kind == "party" else []
            probability = max(scores) if scores else None
            return Evidence(link.kind, link.entity, case_values, declaration_values, probability), tuple(mine)
        idents = self.case_identifiers.get((link.case_id, link.kind, value), [])
        written = self.declaration_identifiers.get((link.declaration, link.kind, value), [])
        evidence = Evidence(
            link.kind, link.entity, tuple(sorted({i.value for i in idents})), tuple(sorted(set(written)))
        )
        return evidence, tuple(sorted({i.party_id for i in idents if i.party_id is not None}))


def _hs_codes(session: Session, actor: Actor | None, ex: Extract, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The HS codes declared on each of `keys` (a declaration has a row per declared item), from the batches'
    Parquet files `actor` may read."""
    wanted: dict[int, set[str]] = {}
    for key in keys:
        decl = ex.declarations[key]
        wanted.setdefault(decl.batch_id, set()).add(decl.declaration_id)
    paths = {b: p for b, _code, p in visible_batches(session, actor) if b in wanted and Path(p).exists()}
    if not paths:
        return {}
    import duckdb
    import pyarrow as pa

    out: dict[str, tuple[str, ...]] = {}
    con = duckdb.connect(":memory:")
    try:
        for batch_id, path in sorted(paths.items()):
            relation = "read_parquet('" + path.replace("'", "''") + "')"
            columns = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
            if "hs_code" not in columns:
                continue
            con.register("wanted_ids", pa.table({"id": sorted(wanted[batch_id])}))
            for did, codes in con.execute(
                "SELECT CAST(declaration_id AS VARCHAR), list(DISTINCT trim(CAST(hs_code AS VARCHAR)) ORDER BY "
                f"trim(CAST(hs_code AS VARCHAR))) FROM {relation} WHERE CAST(declaration_id AS VARCHAR) IN "
                "(SELECT id FROM wanted_ids) AND hs_code IS NOT NULL AND trim(CAST(hs_code AS VARCHAR)) <> '' "
                "GROUP BY 1"
            ).fetchall():
                out[f"{batch_id}/{did}"] = tuple(str(c) for c in codes)
            con.unregister("wanted_ids")
    finally:
        con.close()
    return out


def _targeting_hits(
    session: Session, actor: Actor | None, ex: Extract, keys: Iterable[str]
) -> dict[str, tuple[int, int]]:
    """(list id, hit id) of the latest targeting list of `actor`'s agency that holds each declaration."""
    pairs = {(ex.declarations[k].batch_id, ex.declarations[k].declaration_id[:64]): k for k in keys}
    if not pairs or (actor is not None and actor.agency_id is None):
        return {}
    query = (
        select(TargetingList.batch_id, TargetingHit.declaration_id, TargetingList.id, TargetingHit.id)
        .join(TargetingList, TargetingList.id == TargetingHit.list_id)
        .where(TargetingList.batch_id.in_(sorted({b for b, _d in pairs})),
               TargetingHit.declaration_id.in_(sorted({d for _b, d in pairs})))
        .order_by(TargetingList.id, TargetingHit.id)
    )  # fmt: skip
    if actor is not None:
        query = query.where(TargetingList.agency_id == actor.agency_id)
    out: dict[str, tuple[int, int]] = {}
    for batch_id, declaration_id, list_id, hit_id in session.execute(query):
        key = pairs.get((batch_id, declaration_id)) if batch_id is not None else None
        if key is not None:
            out[key] = (list_id, hit_id)  # the latest list wins
    return out


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
