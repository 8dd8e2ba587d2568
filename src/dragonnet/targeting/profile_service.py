"""The door of the stored risk profiles: import, review cycle, history, and the effectiveness report.

What the pages, the API and the CLI call; each function takes the actor, checks the policy and writes the
audit entry. Rules:
- A profile is usable by (and visible to) the agencies its sharing level allows (`Profile.usable_by`); for
  anybody else it does not exist (Hidden -> 404).
- Only members of the owning agency who may target (risk analysts, coordinators: not partner observers), or
  a site administrator, import, change or review it. Every change is one entry in the profile's history
  (`targeting_profile_changes`: who, when, what changed, why, the definition after) and one audit entry.
- The effectiveness report counts over the declarations of the actor's own agency's import batches only (the
  declarations it may read), with the inspection results its own officers recorded.

Review cycle: a profile carries a next review date (`review_by`), an expiry (`valid_to`: it stops firing) and
optionally the analyst `responsible`. It is flagged for review when the date has come, when it has expired,
when it has no review date, or when its hit rate over at least `min_inspections` inspections is below the
floor (default: the baseline, i.e. no better than inspecting at random). A review keeps it (with the next
date), retires it (it no longer fires) or reinstates it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, PermissionDenied, audit_actor, may_edit_profile, may_import_profiles
from dragonnet.storage.models import Agency, utcnow
from dragonnet.storage.targeting_models import (
    TargetingBatch,
    TargetingHit,
    TargetingList,
    TargetingProfile,
    TargetingProfileChange,
)
from dragonnet.targeting import effectiveness as eff
from dragonnet.targeting import lanes
from dragonnet.targeting import model as mdl
from dragonnet.targeting.engine import Workspace
from dragonnet.targeting.features import mask_count
from dragonnet.targeting.profiles import LaneConfig, Profile, ProfileSet, parse_profile_mapping, parse_profiles
from dragonnet.targeting.service import flagged_parties, latest_model, load_spec, may_target
from dragonnet.targeting.sql import DUCKDB

ACTIVE, RETIRED = "active", "retired"
DECISIONS = ("keep", "retire", "reinstate")
MAX_NOTE = 2000


# --- access ---------------------------------------------------------------------------------------------------


def _usable(row: TargetingProfile, actor: Actor) -> bool:
    return may_target(actor) and stored_profile(row).usable_by(actor.agency_code)


def stored_profile(row: TargetingProfile) -> Profile:
    return parse_profile_mapping(row.definition, f"stored profile {row.key}")


def visible_profiles(session: Session, actor: Actor, *, include_retired: bool = True) -> list[TargetingProfile]:
    """The stored profiles `actor` may use, by id."""
    if not may_target(actor):
        return []
    query = select(TargetingProfile).order_by(TargetingProfile.key)
    if not include_retired:
        query = query.where(TargetingProfile.status == ACTIVE)
    return [row for row in session.execute(query).scalars() if _usable(row, actor)]


def get_profile(session: Session, actor: Actor, key: str) -> TargetingProfile:
    row = session.execute(select(TargetingProfile).where(TargetingProfile.key == key)).scalar_one_or_none()
    if row is None or not _usable(row, actor):
        raise Hidden(actor, "targeting_profile", key)
    return row


def stored_profile_set(session: Session, agency_code: str | None, lanes_config: LaneConfig | None = None,
                       *, include_retired: bool = False) -> ProfileSet | None:  # fmt: skip
    """The stored profiles an agency may use (active ones unless `include_retired`), or None when none is stored.

    `agency_code` None: every stored profile (the operator's view, e.g. training for the whole store)."""
    query = select(TargetingProfile).order_by(TargetingProfile.key)
    rows = list(session.execute(query).scalars())
    if not rows:
        return None
    chosen = [stored_profile(r) for r in rows if include_retired or r.status == ACTIVE]
    return ProfileSet(tuple(chosen), lanes_config or LaneConfig()).for_agency(agency_code)


def summary(row: TargetingProfile, today: dt.date | None = None) -> dict[str, Any]:
    """A stored profile for lists: its review state and the review flags its dates raise."""
    profile = stored_profile(row)
    review = eff.ReviewState(row.status, row.version)
    flags = eff.review_flags(profile, review, eff.Rate(0, 0), floor=None, min_inspections=1,
                             today=today or dt.datetime.now(dt.UTC).date())  # fmt: skip
    return {
        "id": row.key, "name": row.name, "owner": row.agency.code, "status": row.status, "version": row.version,
        "mandatory": row.mandatory, "review_by": row.review_by.isoformat() if row.review_by else None,
        "expires": row.valid_to.isoformat() if row.valid_to else None, "responsible": row.responsible,
        "sharing": profile.sharing, "weight": profile.weight, "updated_at": row.updated_at.isoformat(),
        "flags": flags,
    }  # fmt: skip


def change_summary(change: TargetingProfileChange) -> dict[str, Any]:
    return {"version": change.version, "at": change.at.isoformat(), "by": change.by_name, "action": change.action,
            "note": change.note, "changes": change.changes, "definition": change.definition}  # fmt: skip


# --- import and review ----------------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def _record_change(
    session: Session, actor: Actor, row: TargetingProfile, action: str, before: dict[str, Any], note: str | None
) -> TargetingProfileChange:
    change = TargetingProfileChange(
        profile_id=row.id, version=row.version, at=utcnow(), by_id=actor.user_id,
        by_name=(actor.username or "system")[:150], action=action, note=note, changes=_diff(before, row.definition),
        definition=row.definition,
    )  # fmt: skip
    session.add(change)
    # The row id, not the profile's id or text: a profile's name and notes can say what intelligence it targets.
    audit.record(session, audit_actor(actor), f"targeting.profile.{action}", "targeting_profile", row.id,
                 version=row.version, changed=sorted(change.changes))  # fmt: skip
    return change


def _apply(row: TargetingProfile, profile: Profile) -> None:
    row.definition = profile.to_mapping()
    row.name = profile.name
    row.mandatory = profile.mandatory
    row.review_by = profile.review_by
    row.valid_to = profile.valid_to
    row.responsible = profile.responsible
    row.updated_at = utcnow()


def _owner(session: Session, actor: Actor, profile: Profile) -> Agency:
    agency = session.execute(select(Agency).where(Agency.code == profile.owner)).scalar_one_or_none()
    if agency is None:
        raise ValidationError(f"profile {profile.id}: unknown owner agency {profile.owner!r}")
    if not may_edit_profile(actor, agency.id):
        raise PermissionDenied(actor, "targeting_profile", profile.id,
                               f"profile {profile.id}: only {agency.code} may add or change it")  # fmt: skip
    return agency


def import_profiles(session: Session, actor: Actor, text: str, source: str = "profiles") -> ImportOutcome:
    """Store the profiles of a YAML text: new ones are created, changed ones updated (a new version each),
    identical ones left alone; profiles absent from the text are kept (retire them by review). All or
    nothing: one invalid or refused profile stores none. The text's `lanes:` block is not stored (lane rates
    are options of building the lists)."""
    if not may_import_profiles(actor):
        raise PermissionDenied(actor, "targeting_profile", None, "you may not manage risk profiles")
    parsed = parse_profiles(text, source)
    if not parsed.profiles:
        raise ValidationError(f"{source}: no profile in the file")
    existing = {r.key: r for r in session.execute(select(TargetingProfile)).scalars()}
    outcome = ImportOutcome()
    for profile in parsed.profiles:
        agency = _owner(session, actor, profile)
        row = existing.get(profile.id)
        if row is None:
            row = TargetingProfile(key=profile.id, agency_id=agency.id, status=ACTIVE, version=1, created_at=utcnow())
            _apply(row, profile)
            session.add(row)
            session.flush()
            _record_change(session, actor, row, "created", {}, f"imported from {source}"[:MAX_NOTE])
            outcome.created.append(profile.id)
            continue
        if row.agency_id != agency.id:
            raise PermissionDenied(actor, "targeting_profile", profile.id,
                                   f"profile id {profile.id} is taken by another agency's profile")  # fmt: skip
        if row.definition == profile.to_mapping():
            outcome.unchanged.append(profile.id)
            continue
        before = dict(row.definition)
        _apply(row, profile)
        row.version += 1
        _record_change(session, actor, row, "updated", before, f"imported from {source}"[:MAX_NOTE])
        outcome.updated.append(profile.id)
    session.flush()
    return outcome


_UNSET: Any = object()


def review_profile(
    session: Session,
    actor: Actor,
    key: str,
    *,
    decision: str,
    next_review: dt.date | None,
    note: str,
    mandatory: bool | None = None,
    expires: dt.date | None = _UNSET,
    responsible: str | None = _UNSET,
    today: dt.date | None = None,
) -> TargetingProfile:
    """Record a review: keep (with the next review date), retire (it stops firing) or reinstate it; optionally
    change whether it is mandatory, its expiry and the analyst responsible. Always a new version."""
    row = get_profile(session, actor, key)
    if not may_edit_profile(actor, row.agency_id):
        raise PermissionDenied(actor, "targeting_profile", key, f"only {row.agency.code} may review profile {key}")
    day = today or dt.datetime.now(dt.UTC).date()
    note = (note or "").strip()
    if decision not in DECISIONS:
        raise ValidationError(f"decision is one of {', '.join(DECISIONS)}")
    if not note:
        raise ValidationError("a review needs a note (what was looked at, why this decision)")
    if decision in ("keep", "reinstate") and (next_review is None or next_review <= day):
        raise ValidationError("keeping a profile needs the next review date, after today")
    if decision == "retire" and row.status == RETIRED:
        raise ValidationError(f"profile {key} is retired already")
    if decision == "reinstate" and row.status != RETIRED:
        raise ValidationError(f"profile {key} is not retired")
    if decision == "keep" and row.status == RETIRED:
        raise ValidationError(f"profile {key} is retired: reinstate it to keep it")
    mapping = dict(row.definition)
    if next_review is not None:
        mapping["review_by"] = next_review.isoformat()
    if mandatory is not None:
        mapping.pop("mandatory", None)
        if mandatory:
            mapping["mandatory"] = True
    if expires is not _UNSET:
        mapping.pop("valid_to", None)
        if expires is not None:
            mapping["valid_to"] = expires.isoformat()
    if responsible is not _UNSET:
        mapping.pop("responsible", None)
        if responsible and responsible.strip():
            mapping["responsible"] = responsible.strip()
    profile = parse_profile_mapping(mapping, f"profile {key}")  # the same validation as an import
    before = dict(row.definition)
    _apply(row, profile)
    action = {"keep": "reviewed", "retire": "retired", "reinstate": "reinstated"}[decision]
    if decision == "retire":
        row.status = RETIRED
    elif decision == "reinstate":
        row.status = ACTIVE
    row.version += 1
    row.reviewed_at = utcnow()
    row.reviewed_by_id = actor.user_id
    _record_change(session, actor, row, action, before, note[:MAX_NOTE])
    session.flush()
    return row


def history(session: Session, actor: Actor, key: str) -> list[TargetingProfileChange]:
    return list(get_profile(session, actor, key).changes)


# --- the effectiveness report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQuery:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    office: str | None = None
    floor: float | None = None
    min_inspections: int = eff.DEFAULT_MIN_INSPECTIONS
    include_retired: bool = False

    def check(self) -> None:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValidationError("the period ends before it starts")
        if self.floor is not None and not 0 <= self.floor <= 1:
            raise ValidationError("the hit-rate floor is a share between 0 and 1")
        if self.min_inspections < 1:
            raise ValidationError("min_inspections is at least 1")
        if self.office is not None and not (0 < len(self.office) <= 16 and self.office.isalnum()):
            raise ValidationError(f"not an office code: {self.office!r}")


def _where(query: ReportQuery) -> str:
    parts = []
    if query.date_from:
        parts.append(f"declaration_date >= {DUCKDB.date(query.date_from.isoformat())}")
    if query.date_to:
        parts.append(f"declaration_date <= {DUCKDB.date(query.date_to.isoformat())}")
    if query.office:
        parts.append(f"office_locode = {DUCKDB.string(query.office)}")
    return " AND ".join(parts)


def _own_results(session: Session, agency_id: int) -> list[tuple[str, int]]:
    rows = session.execute(
        select(TargetingHit.declaration_id, TargetingHit.result)
        .join(TargetingList, TargetingHit.list_id == TargetingList.id)
        .where(TargetingList.agency_id == agency_id, TargetingHit.result.is_not(None))
    ).all()
    return [(str(d), 1 if r == "seizure" else 0) for d, r in rows]


def lane_outcomes(session: Session, agency_id: int, query: ReportQuery) -> dict[str, eff.Rate]:
    """Hit rates of the agency's lists in the period and office: red (risk), yellow, and the random draws."""
    found = func.sum(case((TargetingHit.result == "seizure", 1), else_=0))
    stmt = (
        select(TargetingHit.lane, TargetingHit.random, func.count(), found)
        .join(TargetingList, TargetingHit.list_id == TargetingList.id)
        .where(TargetingList.agency_id == agency_id, TargetingHit.result.is_not(None))
        .group_by(TargetingHit.lane, TargetingHit.random)
    )
    if query.date_from:
        stmt = stmt.where(TargetingHit.declaration_date >= query.date_from)
    if query.date_to:
        stmt = stmt.where(TargetingHit.declaration_date <= query.date_to)
    if query.office:
        stmt = stmt.where(TargetingList.office_locode == query.office)
    counts = {k: [0, 0] for k in ("red", "yellow", "random")}
    for lane, random, inspected, seized in session.execute(stmt):
        key = "random" if random else ("red" if lane == lanes.RED else "yellow")
        counts[key][0] += int(inspected)
        counts[key][1] += int(seized or 0)
    return {k: eff.Rate(n, hits) for k, (n, hits) in counts.items()}


def effectiveness_report(
    session: Session, actor: Actor, query: ReportQuery, *, profiles: ProfileSet | None = None, threads: int = 2,
    today: dt.date | None = None,
) -> eff.Report:  # fmt: skip
    """Per-profile effectiveness over the actor's agency's declarations (see targeting.effectiveness).

    `profiles`: a profile set to assess instead of the stored ones (e.g. a file before importing it)."""
    if not may_target(actor) or actor.agency_id is None:
        raise PermissionDenied(actor, "targeting_report", None, "the profile report is for members of a customs agency")
    query.check()
    rows = visible_profiles(session, actor, include_retired=query.include_retired)
    reviews = {r.key: eff.ReviewState(r.status, r.version) for r in rows}
    chosen = profiles.for_agency(actor.agency_code) if profiles is not None else ProfileSet(
        tuple(stored_profile(r) for r in rows))  # fmt: skip
    files = [Path(b.path) for b in session.execute(
        select(TargetingBatch).where(TargetingBatch.agency_id == actor.agency_id).order_by(TargetingBatch.id)
    ).scalars()]  # fmt: skip
    version = latest_model(session, actor.agency_id)
    spec = load_spec(version)
    info = None
    if version is not None:
        overlap = version.train_to is not None and (query.date_from is None or version.train_to >= query.date_from)
        info = eff.ModelInfo(version.id, version.train_to, overlap)
    lane_rates = lane_outcomes(session, actor.agency_id, query)
    frame = None
    if files and chosen.profiles:
        with Workspace(files, results=_own_results(session, actor.agency_id),
                       flagged=flagged_parties(session, actor.agency_id),
                       extras=spec.extras if spec else None, threads=threads) as ws:  # fmt: skip
            frame = ws.frame(chosen, mode="train", where=_where(query))
    if frame is None:  # nothing imported yet: every count is zero
        import pandas as pd

        masks = {f"mask_{i}": pd.Series([], dtype="int64") for i in range(mask_count(chosen))}
        frame = pd.DataFrame({"declaration_id": pd.Series([], dtype=object), "label": [], **masks})
    model_p = mdl.predict(spec, frame, threads=threads) if spec is not None and len(frame) else None
    report = eff.build_report(
        frame, chosen, model_p=model_p, lane=spec.lane if spec else None, model=info, lanes=lane_rates,
        reviews=reviews, date_from=query.date_from, date_to=query.date_to, office=query.office, floor=query.floor,
        min_inspections=query.min_inspections, today=today or dt.datetime.now(dt.UTC).date(),
    )  # fmt: skip
    audit.record(session, audit_actor(actor), "targeting.profiles.report", "targeting_report", None,
                 period=[str(query.date_from), str(query.date_to)], office=query.office,
                 profiles=len(chosen.profiles))  # fmt: skip
    return report
