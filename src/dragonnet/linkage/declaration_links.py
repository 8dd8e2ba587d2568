"""Cases linked to shipment declarations: which declarations share a party, a container, a phone or a company
name with a case the viewer may see, and the evidence for each link."""

# ruff: noqa: S608  (the declarations' SQL is assembled from code-defined column names; values are bound)

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage import normalise
from dragonnet.linkage.extract import (
    DeclarationLink,
    Extract,
    IdentifierInfo,
    declaration_links,
    extract,
    visible_batches,
)
from dragonnet.linkage.resolution import declaration_record_key, latest_run, party_links
from dragonnet.linkage.resolve import connected_components
from dragonnet.policy.access import Actor, may_target
from dragonnet.storage.linkage_models import DeclarationMatch
from dragonnet.storage.scratch import scratch
from dragonnet.storage.targeting_models import TargetingHit, TargetingList

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
    import pyarrow as pa

    out: dict[str, tuple[str, ...]] = {}
    con = scratch()
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
