"""What the pages, the API and the CLI call: import, train, build lists per office, record results.

Access: a targeting list belongs to the agency whose declarations it ranks. Only members of that agency
see it; for everybody else it does not exist (Hidden -> 404, audited). Recording a seizure opens a draft
case of that agency pre-filled from the declaration (the officer completes it at /cases/{id}); the result
also becomes a training label for the next `train` (results override a file's outcome).
"""

# ruff: noqa: S608  (SQL is assembled from validated identifiers and escaped literals, see targeting.sql)

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import CaseStatus, DetectionMethod, SharingLevel, TransportMode
from dragonnet.errors import Conflict, ValidationError
from dragonnet.operation.service import phase_for_date
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor, may_target
from dragonnet.storage.models import Agency, Case, CaseTransit, Item, Operation, Participation, Party, utcnow
from dragonnet.storage.targeting_models import TargetingBatch, TargetingHit, TargetingList, TargetingModelVersion
from dragonnet.targeting import declarations, lanes, lanescore
from dragonnet.targeting import model as mdl
from dragonnet.targeting.engine import Workspace, train_time_ordered
from dragonnet.targeting.profiles import ProfileSet

if TYPE_CHECKING:  # pandas takes ~0.4 s to load: imported where a frame is built, not by every process
    import pandas as pd

RESULTS = ("nothing_found", "seizure")
FACT_COLUMNS = [c for c in declarations.COLUMNS if c != "outcome"]


def store_dir(data_dir: Path) -> Path:
    return data_dir / "targeting" / "declarations"


def _agency(session: Session, code: str | None) -> Agency | None:
    if code is None:
        return None
    agency = session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    if agency is None:
        raise ValidationError(f"unknown agency {code!r}")
    return agency


def import_declarations(
    session: Session, data_dir: Path, path: Path, *, agency_code: str | None = None, source_format: str = "auto"
) -> TargetingBatch:
    agency = _agency(session, agency_code)
    summary = declarations.import_file(path, store_dir(data_dir), source_format)
    batch = TargetingBatch(
        agency_id=agency.id if agency else None, source_name=path.name[:300], source_format=summary.source_format,
        path=str(summary.path), rows=summary.rows, labelled=summary.labelled, first_date=summary.first_date,
        last_date=summary.last_date,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    return batch


def check_hs_codes(batch: TargetingBatch) -> declarations.HsCheck:
    """The batch's declared HS codes that HS 2022 does not know (warned on import; the rows are kept)."""
    return declarations.check_hs_codes(Path(batch.path))


def recorded_results(session: Session) -> list[tuple[str, int]]:
    """Officers' inspection results as training labels (seizure 1, nothing found 0), oldest first."""
    rows = session.execute(
        select(TargetingHit.declaration_id, TargetingHit.result)
        .where(TargetingHit.result.is_not(None))
        .order_by(TargetingHit.result_at)
    ).all()
    return [(str(d), 1 if r == "seizure" else 0) for d, r in rows]


def flagged_parties(session: Session, agency_id: int | None) -> list[str]:
    """Names of parties in the agency's own seizure cases (nominal data never leaves its owner)."""
    if agency_id is None:
        return []
    rows = session.execute(
        select(Party.name).join(Case, Party.case_id == Case.id).where(Case.reporting_agency_id == agency_id)
    ).scalars()
    return sorted({n for n in rows if n})


def _history(data_dir: Path) -> list[Path]:
    files = declarations.store_files(store_dir(data_dir))
    if not files:
        raise ValidationError("no declarations imported yet: run `dragonnet targeting import FILE` first")
    return files


def train(
    session: Session, data_dir: Path, profiles: ProfileSet, *, agency_code: str | None = None, rounds: int = 300,
    threads: int = 2, eval_fraction: float = 0.2,
) -> TargetingModelVersion:  # fmt: skip
    """Train on every stored declaration with a known outcome (files and recorded results), time-ordered."""
    agency = _agency(session, agency_code)
    usable = profiles.for_agency(agency_code)
    files = _history(data_dir)
    flagged = flagged_parties(session, agency.id if agency else None)
    with Workspace(files, results=recorded_results(session), flagged=flagged, threads=threads) as ws:
        spec, evaluation = train_time_ordered(ws, usable, eval_fraction=eval_fraction, rounds=rounds)
    version = TargetingModelVersion(
        agency_id=agency.id if agency else None, train_rows=evaluation.train_rows,
        train_from=dt.date.fromisoformat(evaluation.train_period[0]) if evaluation.train_period[0] else None,
        train_to=dt.date.fromisoformat(evaluation.train_period[1]) if evaluation.train_period[1] else None,
        evaluation=evaluation.as_dict(), spec=spec.to_json(), booster=spec.booster_text,
    )  # fmt: skip
    session.add(version)
    session.flush()
    return version


def latest_model(session: Session, agency_id: int | None = None) -> TargetingModelVersion | None:
    query = select(TargetingModelVersion).order_by(TargetingModelVersion.id.desc()).limit(1)
    if agency_id is not None:
        query = query.where((TargetingModelVersion.agency_id == agency_id) | TargetingModelVersion.agency_id.is_(None))
    return session.execute(query).scalar_one_or_none()


def load_spec(version: TargetingModelVersion | None) -> mdl.ModelSpec | None:
    return mdl.ModelSpec.from_json(version.spec, version.booster) if version else None


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date):  # pandas' Timestamp too (a datetime)
        return value.isoformat()[:10]
    return value


@dataclass(frozen=True)
class Ranked:
    """A scored file: one row per declaration with lane, rules fired and (for red/yellow) explanations."""

    frame: pd.DataFrame
    explanations: dict[str, list[dict[str, Any]]]
    profiles: ProfileSet
    lane: lanescore.LaneWeights | None  # the model's learned profile weights (None: no model, rules alone)


def rank(ws: Workspace, profiles: ProfileSet, spec: mdl.ModelSpec | None, *, explain_lanes: bool = True) -> Ranked:
    """Score everything in the workspace, assign lanes per office, explain the red and yellow ones."""
    table = ws.score(profiles, spec)
    frame = table.to_pandas().sort_values("declaration_id", kind="stable").reset_index(drop=True)
    frame["lane"] = lanes.GREEN
    frame["random"] = False
    for _office, idx in frame.groupby("office_locode", sort=True).groups.items():
        picked = lanes.assign(frame.loc[idx, "score"].to_numpy(), profiles.lanes,
                              frame.loc[idx, "mandatory"].to_numpy(dtype=bool))  # fmt: skip
        frame.loc[idx, "lane"] = picked.lane
        frame.loc[idx, "random"] = picked.random
    masks = [c for c in frame.columns if c.startswith("mask_")]
    frame["rules"] = [
        [p.id for p in profiles.fired([int(m) for m in row])] for row in frame[masks].itertuples(index=False)
    ] if masks else [[] for _ in range(len(frame))]  # fmt: skip
    explanations: dict[str, list[dict[str, Any]]] = {}
    selected = frame.loc[frame["lane"] != lanes.GREEN, "declaration_id"].astype(str).tolist()
    if spec is not None and explain_lanes and selected:
        feats = ws.frame_for(profiles, selected)
        for did, items in zip(feats["declaration_id"].astype(str), mdl.explain(spec, feats), strict=True):
            explanations[did] = items
    return Ranked(frame, explanations, profiles, spec.lane if spec else None)


def rule_entries(ranked: Ranked, fired: list[str]) -> list[dict[str, Any]]:
    """The profiles that fired on a declaration, each with the weight it entered the lane score with and why."""
    by_id = {p.id: p for p in ranked.profiles.profiles}
    out = []
    for pid in fired:
        profile = by_id[pid]
        used = lanescore.weight_used(profile, ranked.lane)
        out.append({"id": pid, "name": profile.name, "weight": round(used.weight, 4), "basis": used.basis,
                    "mandatory": profile.mandatory})  # fmt: skip
    return out


def explanation_text(ranked: Ranked, row_rules: list[str], declaration_id: str) -> str:
    """One line for CSV exports: mandatory profiles first, then the weighted profiles, then the model."""
    parts = []
    for entry in rule_entries(ranked, row_rules):
        if entry["mandatory"]:
            parts.append(f"mandatory profile {entry['id']} (intelligence-led): always red")
        elif entry["weight"] > 0:
            parts.append(f"profile {entry['id']} {entry['weight']:+.2f} log-odds ({entry['basis']})")
    parts += [f"{c['label']} {c['contribution']:+.2f}" for c in ranked.explanations.get(declaration_id, [])]
    return "; ".join(parts)


def _facts(ws: Workspace, ids: list[str]) -> dict[str, dict[str, Any]]:
    import pandas as pd

    ws.con.register("facts_in", pd.DataFrame({"id": ids}))
    cols = ", ".join(FACT_COLUMNS)
    rows = ws.con.execute(f"SELECT {cols} FROM decl WHERE declaration_id IN (SELECT id FROM facts_in)").fetch_df()
    return {str(r["declaration_id"]): {c: _clean(r[c]) for c in FACT_COLUMNS} for _, r in rows.iterrows()}


def build_lists(
    session: Session, data_dir: Path, batch: TargetingBatch, profiles: ProfileSet, *, agency_code: str,
    operation_slug: str | None = None, threads: int = 2,
) -> list[TargetingList]:  # fmt: skip
    """Score a batch for an agency and store one list per office with its red and yellow declarations."""
    import pandas as pd

    agency = _agency(session, agency_code)
    assert agency is not None
    operation = _operation_for(session, agency, operation_slug)
    usable = profiles.for_agency(agency_code)
    version = latest_model(session, agency.id)
    spec = load_spec(version)
    with Workspace([Path(batch.path)], _history(data_dir), results=recorded_results(session),
                   flagged=flagged_parties(session, agency.id), extras=spec.extras if spec else None,
                   threads=threads) as ws:  # fmt: skip
        ranked = rank(ws, usable, spec)
        frame = ranked.frame
        chosen = frame[frame["lane"] != lanes.GREEN]
        facts = _facts(ws, chosen["declaration_id"].astype(str).tolist())
    out = []
    for office, rows in frame.groupby("office_locode", sort=True):
        chosen = rows[rows["lane"] != lanes.GREEN]
        picked = chosen.sort_values(["lane", "mandatory", "score"], ascending=[True, False, False], kind="stable")
        tl = TargetingList(
            agency_id=agency.id, operation_id=operation.id if operation else None, office_locode=str(office)[:16],
            batch_id=batch.id, model_version_id=version.id if version else None, declarations=len(rows),
            red=int((rows["lane"] == lanes.RED).sum()), yellow=int((rows["lane"] == lanes.YELLOW).sum()),
            profiles=[p.id for p in usable.profiles],
        )  # fmt: skip
        for rank_no, row in enumerate(picked.itertuples(index=False), start=1):
            did = str(row.declaration_id)
            tl.hits.append(TargetingHit(
                rank=rank_no, lane=str(row.lane), random=bool(row.random), score=float(row.score),
                rule_score=float(row.rule_score), model_score=_clean(row.model_p), declaration_id=did[:64],
                declaration_date=pd.Timestamp(row.declaration_date).date(), facts=facts.get(did, {}),
                rules=rule_entries(ranked, list(row.rules)),
                contributions=ranked.explanations.get(did, []),
            ))  # fmt: skip
        session.add(tl)
        out.append(tl)
    session.flush()
    return out


def _operation_for(session: Session, agency: Agency, slug: str | None) -> Operation | None:
    query = select(Operation).join(Participation, Participation.operation_id == Operation.id)
    query = query.where(Participation.agency_id == agency.id).order_by(Operation.id)
    if slug:
        op = session.execute(query.where(Operation.slug == slug)).scalar_one_or_none()
        if op is None:
            raise ValidationError(f"agency {agency.code} takes no part in operation {slug!r}")
        return op
    return session.execute(query.limit(1)).scalar_one_or_none()


# --- access ---------------------------------------------------------------------------------------------------


def visible_lists(session: Session, actor: Actor) -> list[TargetingList]:
    if not may_target(actor):
        return []
    query = select(TargetingList).where(TargetingList.agency_id == actor.agency_id)
    return list(session.execute(query.order_by(TargetingList.id.desc())).scalars())


def get_list(session: Session, actor: Actor, list_id: int) -> TargetingList:
    tl = session.get(TargetingList, list_id)
    if tl is None or not may_target(actor) or tl.agency_id != actor.agency_id:
        raise Hidden(actor, "targeting_list", list_id)
    return tl


def get_hit(session: Session, actor: Actor, hit_id: int) -> TargetingHit:
    hit = session.get(TargetingHit, hit_id)
    if hit is None or not may_target(actor) or hit.targeting_list.agency_id != actor.agency_id:
        raise Hidden(actor, "targeting_hit", hit_id)
    return hit


# --- inspection results ---------------------------------------------------------------------------------------

_MODES = set(TransportMode.values())


def _draft_case(session: Session, actor: Actor, hit: TargetingHit) -> Case:
    tl = hit.targeting_list
    if tl.operation_id is None:
        raise ValidationError("this list belongs to no operation: a case cannot be opened from it")
    operation = session.get(Operation, tl.operation_id)
    assert operation is not None and actor.agency_id is not None
    f = hit.facts
    day = hit.declaration_date
    office = str(f.get("office_locode") or tl.office_locode)
    agency = session.get(Agency, actor.agency_id)
    country = office[:2].upper() if len(office) == 5 else (agency.country if agency and agency.country else "")
    transits = [p.strip()[:2].upper() for p in str(f.get("transit_places") or "").split(";") if p.strip()]
    origin = f.get("origin_country")
    case = Case(
        operation_id=operation.id, phase_id=phase_for_date(operation, day).id, reporting_agency_id=actor.agency_id,
        case_ref=f"TGT-{tl.id}-{hit.declaration_id}"[:64], status=CaseStatus.DRAFT.value,
        sharing_level=SharingLevel.AMBER.value, seizure_date=day, place_locode=office if len(office) == 5 else None,
        place_country=country or "ZZ", direction="import",
        transport_mode=f.get("mode") if f.get("mode") in _MODES else None,
        conveyance_ref=(str(f["conveyance_ref"])[:100] if f.get("conveyance_ref") else None),
        detection_method=(DetectionMethod.RANDOM if hit.random else DetectionMethod.RISK_PROFILING).value,
        origin_country=str(origin)[:2].upper() if origin else None, destination_country=country or None,
        description=f"Seizure at the inspection of declaration {hit.declaration_id} (targeting list {tl.id}, "
        f"rank {hit.rank}, {hit.lane} lane). Draft pre-filled from the declaration: complete it.",
        created_by_id=actor.user_id,
        items=[Item(
            position=1, commodity_class="other", quantity=float(f.get("gross_weight_kg") or 0.0), unit="kg",
            mass_kg=f.get("gross_weight_kg"), hs_code=(str(f["hs_code"])[:12] if f.get("hs_code") else None),
            goods_description=f.get("goods_description"),
        )],
        transits=[CaseTransit(position=i + 1, country=c) for i, c in enumerate(transits)],
    )  # fmt: skip
    session.add(case)
    session.flush()
    for role, key in (("consignee", "importer"), ("consignor", "exporter")):
        if f.get(key):
            session.add(Party(case_id=case.id, role=role, kind="company", name=str(f[key])[:300]))
    return case


def record_result(session: Session, actor: Actor, hit_id: int, result: str, note: str | None = None) -> TargetingHit:
    """The officer's inspection result; a seizure opens a draft case pre-filled from the declaration."""
    hit = get_hit(session, actor, hit_id)
    if result not in RESULTS:
        raise ValidationError(f"result is one of {', '.join(RESULTS)}")
    if hit.result is not None:
        raise Conflict(f"the result of declaration {hit.declaration_id} was recorded already ({hit.result})")
    hit.result = result
    hit.result_note = (note or "").strip()[:2000] or None
    hit.result_at = utcnow()
    hit.result_by_id = actor.user_id
    if result == "seizure":
        hit.case_id = _draft_case(session, actor, hit).id
    audit.record(session, audit_actor(actor), "targeting.result", "targeting_hit", hit.id,
                 result=result, declaration=hit.declaration_id, case_id=hit.case_id)  # fmt: skip
    session.flush()
    return hit
