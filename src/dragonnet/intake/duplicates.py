"""Counted once: likely duplicate reports of one seizure across agencies, their merge and their dismissal.

Detection is set-wise in DuckDB over an authz-scoped extract (only cases, items, identifiers and parties the
reviewer may see, so a candidate never reveals a record the reviewer could not open). Cases are blocked on
(country, commodity class) with a +-2-day window on the seizure date (a range join, not pairwise Python):

- a block country is the seizure country, or the origin / destination country (a controlled delivery is
  reported by the origin and by the destination country);
- two item rows match when class and substance/taxon are equal and the quantities are within 10% (the
  normalised mass when both have one, else the same unit);
- the pair must come from two different agencies, neither merged, withdrawn nor a draft, and not be dismissed;
- and be linked: the same conveyance reference, a shared normalised identifier (container, phone, e-mail...)
  or a shared party (same name and birth date, or the same id number). `require_link=False` lists the
  unlinked candidates too.

Who: regional analysts (everything they see) and national coordinators (pairs involving a case of their own
country). `merge` keeps both reports: the duplicate gets status `merged` and `merged_into_id`; a
`case_merges` row and the audit entry `case.merge` say who merged, when and why. Every figure counts only
validated cases, so a merged duplicate is never counted again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from dragonnet.domain.vocabulary import CaseStatus, Role
from dragonnet.errors import Conflict, ValidationError
from dragonnet.intake.workflow import IllegalTransition, record_status
from dragonnet.policy.access import (
    Actor,
    Hidden,
    PermissionDenied,
    audit_actor,
    case_visibility,
    get_case,
    visible_identifiers,
    visible_parties,
)
from dragonnet.policy.audit import record
from dragonnet.storage.intake_models import CaseMerge, DuplicateDismissal
from dragonnet.storage.models import Agency, Case, CaseIdentifier, Item, Operation, Party
from dragonnet.storage.scratch import scratch

WINDOW_DAYS = 2
QUANTITY_TOLERANCE = 0.10
MERGEABLE = (CaseStatus.SUBMITTED.value, CaseStatus.VALIDATED.value)


@dataclass(frozen=True)
class CaseBrief:
    id: int
    case_ref: str
    agency: str
    country: str | None
    seizure_date: dt.date
    place_country: str
    place: str | None
    status: str


@dataclass(frozen=True)
class Candidate:
    a: CaseBrief
    b: CaseBrief
    days_apart: int
    matched_items: int
    evidence: list[str] = field(default_factory=list)
    linked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.__dict__,
            "b": self.b.__dict__,
            "days_apart": self.days_apart,
            "matched_items": self.matched_items,
            "evidence": self.evidence,
            "linked": self.linked,
        }


def is_reviewer(actor: Actor) -> bool:
    return actor.has(Role.REGIONAL_ANALYST) or (actor.has(Role.NATIONAL_COORDINATOR) and bool(actor.country))


def require_reviewer(actor: Actor) -> None:
    """The duplicates review exists only for regional analysts and national coordinators (404 otherwise)."""
    if not is_reviewer(actor):
        raise Hidden(actor, "duplicates", "review", "There is nothing at this address.")


def _frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _conveyance_key(text: str | None) -> str | None:
    if not text:
        return None
    return re.sub(r"[^0-9A-Z]", "", text.upper()) or None


def extract(session: Session, actor: Actor, operation: Operation) -> dict[str, pl.DataFrame]:
    """The authz-scoped extract the detector runs on (cases, items, identifiers, parties, dismissals)."""
    scope = (Case.operation_id == operation.id, Case.status.in_(MERGEABLE), case_visibility(actor))
    reporter = aliased(Agency)  # an alias: the policy's own subqueries on Agency must not correlate to it
    case_rows = session.execute(
        select(Case.id, Case.reporting_agency_id, reporter.code, reporter.country, Case.case_ref, Case.seizure_date,
               Case.place_country, Case.place_locode, Case.place_name, Case.origin_country, Case.destination_country,
               Case.conveyance_ref, Case.status)
        .join(reporter, reporter.id == Case.reporting_agency_id)
        .where(*scope)
    ).all()  # fmt: skip
    cases = _frame(
        case_rows,
        {"id": pl.Int64, "agency_id": pl.Int64, "agency": pl.String, "agency_country": pl.String,
         "case_ref": pl.String, "seizure_date": pl.Date, "place_country": pl.String, "place_locode": pl.String,
         "place_name": pl.String, "origin_country": pl.String, "destination_country": pl.String,
         "conveyance_ref": pl.String, "status": pl.String},
    )  # fmt: skip
    cases = cases.with_columns(
        pl.col("conveyance_ref").map_elements(_conveyance_key, return_dtype=pl.String).alias("conveyance_key")
    )
    item_rows = session.execute(
        select(Item.case_id, Item.commodity_class, Item.substance, Item.taxon, Item.quantity, Item.unit, Item.mass_kg)
        .join(Case, Case.id == Item.case_id)
        .where(*scope)
    ).all()
    items = _frame(
        item_rows,
        {"case_id": pl.Int64, "klass": pl.String, "substance": pl.String, "taxon": pl.String, "quantity": pl.Float64,
         "unit": pl.String, "mass_kg": pl.Float64},
    )  # fmt: skip
    ident_q = visible_identifiers(actor).where(Case.operation_id == operation.id, Case.status.in_(MERGEABLE))
    ident_rows = session.execute(
        ident_q.with_only_columns(CaseIdentifier.case_id, CaseIdentifier.kind, CaseIdentifier.normalised)
    ).all()
    identifiers = _frame(ident_rows, {"case_id": pl.Int64, "kind": pl.String, "normalised": pl.String})
    party_rows = session.execute(
        visible_parties(actor)
        .where(Case.operation_id == operation.id, Case.status.in_(MERGEABLE))
        .with_only_columns(Party.case_id, func.lower(Party.name), Party.birth_date, Party.id_number)
    ).all()
    parties = _frame(
        party_rows, {"case_id": pl.Int64, "name": pl.String, "birth_date": pl.Date, "id_number": pl.String}
    ).with_columns(
        pl.when(pl.col("birth_date").is_not_null())
        .then(
            pl.col("name").str.replace_all(r"\s+", " ").str.strip_chars() + "|" + pl.col("birth_date").cast(pl.String)
        )
        .alias("person_key"),
        pl.col("id_number").str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "").alias("id_key"),
    )
    dismissed = _frame(
        session.execute(select(DuplicateDismissal.case_low_id, DuplicateDismissal.case_high_id)).all(),
        {"a_id": pl.Int64, "b_id": pl.Int64},
    )
    return {"cases": cases, "items": items, "identifiers": identifiers, "parties": parties, "dismissed": dismissed}


_SQL = f"""
WITH blocks AS (
    SELECT DISTINCT id, agency_id, seizure_date, country
    FROM (
        SELECT id, agency_id, seizure_date, unnest([place_country, origin_country, destination_country]) AS country
        FROM cases
    ) WHERE country IS NOT NULL
),
item_blocks AS (
    SELECT b.id, b.agency_id, b.seizure_date, b.country, i.klass, coalesce(i.substance, i.taxon, '') AS what,
           i.quantity, i.unit, i.mass_kg
    FROM blocks b JOIN items i ON i.case_id = b.id
),
item_pairs AS (
    SELECT a.id AS a_id, b.id AS b_id, a.klass, a.what, abs(date_diff('day', a.seizure_date, b.seizure_date)) AS days
    FROM item_blocks a JOIN item_blocks b
      ON a.country = b.country AND a.klass = b.klass AND a.what = b.what
     AND b.seizure_date BETWEEN a.seizure_date - INTERVAL {WINDOW_DAYS} DAY
                            AND a.seizure_date + INTERVAL {WINDOW_DAYS} DAY
    WHERE a.id < b.id AND a.agency_id <> b.agency_id
      AND CASE WHEN a.mass_kg IS NOT NULL AND b.mass_kg IS NOT NULL
               THEN abs(a.mass_kg - b.mass_kg) <= {QUANTITY_TOLERANCE} * greatest(a.mass_kg, b.mass_kg)
               ELSE a.unit = b.unit
                    AND abs(a.quantity - b.quantity) <= {QUANTITY_TOLERANCE} * greatest(a.quantity, b.quantity)
          END
),
pairs AS (
    SELECT a_id, b_id, min(days) AS days, count(DISTINCT klass || '|' || what) AS matched_items,
           string_agg(DISTINCT klass || ': ' || CASE WHEN what = '' THEN '(unspecified)' ELSE what END, '; ') AS what
    FROM item_pairs GROUP BY a_id, b_id
),
shared_ids AS (
    SELECT p.a_id, p.b_id, count(DISTINCT x.kind || ':' || x.normalised) AS n,
           string_agg(DISTINCT x.kind, ', ') AS kinds
    FROM pairs p JOIN identifiers x ON x.case_id = p.a_id JOIN identifiers y ON y.case_id = p.b_id
     AND x.kind = y.kind AND x.normalised = y.normalised
    GROUP BY p.a_id, p.b_id
),
shared_parties AS (
    SELECT p.a_id, p.b_id, count(*) AS n
    FROM pairs p JOIN parties x ON x.case_id = p.a_id JOIN parties y ON y.case_id = p.b_id
     AND (x.person_key = y.person_key OR x.id_key = y.id_key)
    GROUP BY p.a_id, p.b_id
)
SELECT p.a_id, p.b_id, p.days, p.matched_items, p.what,
       ca.place_country = cb.place_country AS same_country,
       (ca.place_locode IS NOT NULL AND ca.place_locode = cb.place_locode) AS same_place,
       (ca.conveyance_key IS NOT NULL AND ca.conveyance_key = cb.conveyance_key) AS same_conveyance,
       ca.conveyance_ref AS conveyance,
       coalesce(si.n, 0) AS shared_identifiers, si.kinds AS identifier_kinds,
       coalesce(sp.n, 0) AS shared_parties,
       ca.agency_country AS a_country, cb.agency_country AS b_country
FROM pairs p
JOIN cases ca ON ca.id = p.a_id
JOIN cases cb ON cb.id = p.b_id
LEFT JOIN shared_ids si ON si.a_id = p.a_id AND si.b_id = p.b_id
LEFT JOIN shared_parties sp ON sp.a_id = p.a_id AND sp.b_id = p.b_id
ANTI JOIN dismissed d ON d.a_id = p.a_id AND d.b_id = p.b_id
ORDER BY p.a_id, p.b_id
"""  # noqa: S608 - only module constants are interpolated


def detect(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The candidate pairs of an extract, one row per pair with its evidence columns (DuckDB, set-wise)."""
    con = scratch()
    try:
        for name, frame in frames.items():
            con.register(name, frame.to_arrow())
        result = con.sql(_SQL).to_arrow_table()
        return pl.DataFrame(pl.from_arrow(result))
    finally:
        con.close()


def _brief(row: dict[str, Any]) -> CaseBrief:
    place = row["place_locode"] or row["place_name"]
    return CaseBrief(row["id"], row["case_ref"], row["agency"], row["agency_country"], row["seizure_date"],
                     row["place_country"], place, row["status"])  # fmt: skip


def _evidence(r: dict[str, Any]) -> list[str]:
    out = [f"seizure dates {r['days']} day(s) apart", f"same goods within 10%: {r['what']}"]
    if r["same_place"]:
        out.append("same place (UN/LOCODE)")
    elif r["same_country"]:
        out.append("same country of seizure")
    else:
        out.append("route countries match (origin / destination)")
    if r["same_conveyance"]:
        out.append(f"same conveyance reference ({r['conveyance']})")
    if r["shared_identifiers"]:
        out.append(f"{r['shared_identifiers']} shared identifier(s): {r['identifier_kinds']}")
    if r["shared_parties"]:
        out.append(f"{r['shared_parties']} shared part(y/ies) (same name and birth date, or id number)")
    return out


def candidates(session: Session, actor: Actor, operation: Operation, *, require_link: bool = True) -> list[Candidate]:
    """Likely duplicates the actor may review, strongest first (see the module's rules)."""
    require_reviewer(actor)
    frames = extract(session, actor, operation)
    found = detect(frames)
    if not actor.has(Role.REGIONAL_ANALYST):
        found = found.filter((pl.col("a_country") == actor.country) | (pl.col("b_country") == actor.country))
    briefs = {r["id"]: _brief(r) for r in frames["cases"].iter_rows(named=True)}
    out: list[Candidate] = []
    for r in found.iter_rows(named=True):
        linked = bool(r["same_conveyance"] or r["shared_identifiers"] or r["shared_parties"])
        if require_link and not linked:
            continue
        out.append(Candidate(briefs[r["a_id"]], briefs[r["b_id"]], int(r["days"]), int(r["matched_items"]),
                             _evidence(r), linked))  # fmt: skip
    out.sort(key=lambda c: (not c.linked, -len(c.evidence), c.days_apart, c.a.id, c.b.id))
    return out


def _pair_for_review(session: Session, actor: Actor, first_id: int, second_id: int) -> tuple[Case, Case]:
    require_reviewer(actor)
    if first_id == second_id:
        raise ValidationError("a case cannot be a duplicate of itself")
    first, second = get_case(session, actor, first_id), get_case(session, actor, second_id)
    if first.operation_id != second.operation_id:
        raise ValidationError("the two cases belong to different operations")
    if not actor.has(Role.REGIONAL_ANALYST):
        countries = set(
            session.execute(
                select(Agency.country).where(Agency.id.in_([first.reporting_agency_id, second.reporting_agency_id]))
            ).scalars()
        )
        if actor.country not in countries:
            raise PermissionDenied(actor, "case", second_id, "national coordinators review pairs of their own country")
    return first, second


def merge(session: Session, actor: Actor, keep_id: int, duplicate_id: int, reason: str) -> CaseMerge:
    """Merge `duplicate_id` into `keep_id`: the duplicate is kept, with status merged (counted once)."""
    keep, duplicate = _pair_for_review(session, actor, keep_id, duplicate_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("say why these two reports are the same seizure (reason)")
    for case in (keep, duplicate):
        if case.status not in MERGEABLE:
            raise IllegalTransition(
                f"case {case.case_ref} is {case.status}: only submitted or validated cases can be merged"
            )
    now = dt.datetime.now(dt.UTC)
    old = duplicate.status
    frames = extract(session, actor, keep.operation)
    low, high = sorted((keep.id, duplicate.id))
    found = detect(frames).filter((pl.col("a_id") == low) & (pl.col("b_id") == high))
    evidence = {"evidence": _evidence(found.row(0, named=True)) if found.height else []}
    try:
        with session.begin_nested():
            duplicate.status = CaseStatus.MERGED.value
            duplicate.merged_into_id = keep.id
            duplicate.updated_at = now
            session.flush()
            row = CaseMerge(keep_id=keep.id, duplicate_id=duplicate.id, reason=reason[:2000], evidence=evidence,
                            merged_by_id=actor.user_id, merged_by_username=actor.username, merged_at=now)  # fmt: skip
            session.add(row)
            record_status(session, actor, duplicate, old, CaseStatus.MERGED.value, f"merged into case {keep.id}")
            record(session, audit_actor(actor), "case.merge", "case", duplicate.id, keep_id=keep.id,
                   keep_ref=keep.case_ref, duplicate_ref=duplicate.case_ref, reason=reason[:500])  # fmt: skip
            session.flush()
    except StaleDataError:
        raise Conflict("the case changed while it was being merged; reload and try again") from None
    return row


def dismiss(session: Session, actor: Actor, first_id: int, second_id: int, reason: str | None = None) -> None:
    """Record that the two cases are not the same seizure; the detector skips the pair from then on."""
    first, second = _pair_for_review(session, actor, first_id, second_id)
    low, high = sorted((first.id, second.id))
    exists = session.execute(
        select(DuplicateDismissal.id).where(
            DuplicateDismissal.case_low_id == low, DuplicateDismissal.case_high_id == high
        )
    ).first()
    if exists:
        return
    with session.begin_nested():
        note = (reason or "").strip()[:2000] or None
        row = DuplicateDismissal(case_low_id=low, case_high_id=high, reason=note, dismissed_by_id=actor.user_id,
                                 dismissed_by_username=actor.username)  # fmt: skip
        session.add(row)
        record(session, audit_actor(actor), "case.duplicate_dismiss", "case", low, other=high)
        session.flush()


def merges_of(session: Session, case_id: int) -> list[CaseMerge]:
    """Merges the (already visible) case took part in, as kept case or as duplicate."""
    return list(
        session.execute(
            select(CaseMerge).where(or_(CaseMerge.keep_id == case_id, CaseMerge.duplicate_id == case_id))
        ).scalars()
    )


__all__ = ["Candidate", "CaseBrief", "candidates", "detect", "dismiss", "extract", "merge", "require_reviewer"]
