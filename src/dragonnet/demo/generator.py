"""Write the demo operation "Mekong Dragon" into an empty, migrated database (one transaction; caller commits)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dragonnet import hooks
from dragonnet.demo import showcase
from dragonnet.demo.catalogue import (
    AGENCIES,
    OPERATION_DESCRIPTION,
    OPERATION_NAME,
    OPERATION_SLUG,
    PHASES,
    USERS,
    current_phase,
)
from dragonnet.demo.plan import CaseRow, Plan, PlantedNetwork, make_current_plan, make_plan
from dragonnet.domain.phases import roman
from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.errors import ValidationError
from dragonnet.operation import manage
from dragonnet.operation.service import phase_for_date
from dragonnet.policy import admin, audit
from dragonnet.policy.access import SYSTEM
from dragonnet.policy.passwords import check_policy, hash_password
from dragonnet.progress import Progress, no_progress
from dragonnet.storage.models import (
    Agency,
    Case,
    CaseIdentifier,
    CaseShare,
    CaseTransit,
    Item,
    Operation,
    Party,
    Phase,
    User,
    UserRole,
)

# Every demo account has this password (printed by the CLI; never use the demo data in production).
DEMO_PASSWORD = "mekong-dragon-demo-2023"  # noqa: S105 - published demo password, by design

# A fixed creation time so that two builds with the same seed give identical rows.
DEMO_ACCOUNTS_CREATED = dt.datetime(2023, 4, 10, 0, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    operation: str
    phases: int
    agencies: int
    contact_points: int
    users: int
    cases: int
    cases_by_phase: dict[str, dict[str, int]]  # phase ("I".."V") -> status -> cases
    items: int
    parties: int
    identifiers: int
    planted_networks: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary for the CLI."""
        out = [
            f"Demo operation {self.operation!r} (seed {self.seed}): {self.phases} phases, {self.agencies} agencies, "
            f"{self.contact_points} contact points, {self.users} users",
            f"{self.cases} cases, {self.items} items, {self.parties} parties, {self.identifiers} identifiers, "
            f"{self.planted_networks} planted networks",
        ]
        for phase, by_status in self.cases_by_phase.items():
            detail = ", ".join(f"{s} {n}" for s, n in by_status.items())
            out.append(f"  phase {phase}: {detail}")
        out.extend(self.notes)
        return out


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, agency code) of every demo account; all use DEMO_PASSWORD."""
    return [(u.username, ", ".join(u.roles), u.agency) for u in USERS]


def planted_networks(seed: int = 2023) -> list[PlantedNetwork]:
    """Ground truth of the planted networks for `seed` (computed, never stored in the database)."""
    return list(make_plan(seed).networks)


def _ensure_empty(session: Session) -> None:
    for model in (Agency, User, Case):
        if session.execute(select(func.count()).select_from(model)).scalar_one():
            raise ValidationError(
                f"the demo needs an empty database, but table {model.__tablename__!r} has rows already"
            )


def build_demo(
    session: Session,
    *,
    seed: int = 2023,
    today: dt.date | None = None,
    data_dir: Path | None = None,
    progress: Progress = no_progress,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo operation "Mekong Dragon" (the caller commits).

    Phases I-V and their cases are deterministic: the same seed gives the same rows (ids included, on a fresh
    database). Phase VI is the current one: its dates and its cases so far follow `today` (default: the build
    day), deterministic for a seed and a day. The capabilities then add their part (`hooks.demo_built`): the
    alerts of the current phase always; with `data_dir`, the analyses too (declarations, profiles, a trained
    model and today's targeting lists; an entity-resolution run), which take most of the build's time.
    """
    _ensure_empty(session)
    now = dt.datetime.now(dt.UTC) if today is None else dt.datetime.combine(today, dt.time(18), dt.UTC)
    today = today or now.date()
    progress(0, None, "planning the cases")
    plan = make_plan(seed)
    current = make_current_plan(seed, today, now, key_offset=len(plan.cases))
    phases = (*PHASES, current_phase(today))

    # The operation, its phases, agencies, contact points and participants go through the same services as a
    # real operation's set-up (as the console's operator): same rules, same audit entries.
    op = manage.create_operation(
        session,
        SYSTEM,
        slug=OPERATION_SLUG,
        name=OPERATION_NAME,
        description=OPERATION_DESCRIPTION,
        scope=["drug", "precursor", "wildlife", "timber"],
    )
    for p in phases:
        phase, _ = manage.set_phase(session, SYSTEM, OPERATION_SLUG, name=f"Phase {roman(p.number)}", start=p.start,
                                    end=p.end, number=p.number, notes=p.notes)  # fmt: skip
        phase.scope = list(p.scope)
    session.flush()
    session.refresh(op, ["phases"])

    agency_ids: dict[str, int] = {}
    cp_ids: dict[tuple[str, str], int] = {}
    for a in AGENCIES:
        agency = admin.create_agency(session, SYSTEM, code=a.code, name=a.name, kind=a.kind, country=a.country)
        manage.join(session, SYSTEM, OPERATION_SLUG, a.code, a.role, since_phase=a.since)
        agency_ids[a.code] = agency.id
        for cp in a.cps:
            created = admin.create_contact_point(session, SYSTEM, agency.id, code=cp.code, name=cp.name, kind=cp.kind,
                                                 locode=cp.locode)  # fmt: skip
            cp_ids[(a.code, cp.code)] = created.id

    user_ids = _users(session, agency_ids, cp_ids)
    progress(0, None, "writing the cases")
    counts = _write_cases(session, op, [plan, current], agency_ids, cp_ids, user_ids)

    by_phase: dict[str, dict[str, int]] = {}
    for p in phases:
        by_status = {s.value: 0 for s in CaseStatus}
        for c in (*plan.cases, *current.cases):
            if c.phase == p.number:
                by_status[c.status] += 1
        by_phase[roman(p.number)] = by_status
    cases = len(plan.cases) + len(current.cases)
    audit.record(
        session, audit.SYSTEM, "demo.build", "operation", op.id,
        seed=seed, cases=cases, items=counts["items"], parties=counts["parties"], users=len(user_ids),
    )  # fmt: skip
    session.flush()
    notes = hooks.demo_built(session, _showcase(op, seed, today, now, data_dir, list(plan.networks), progress))
    # The capabilities may add cases (an alert answered with a seizure opens a draft): count what is stored.
    for number, status, n in session.execute(
        select(Phase.number, Case.status, func.count()).join(Phase, Case.phase_id == Phase.id)
        .where(Case.operation_id == op.id).group_by(Phase.number, Case.status)
    ).all():  # fmt: skip
        by_phase[roman(number)][status] = n
    cases = sum(sum(s.values()) for s in by_phase.values())
    items = session.execute(select(func.count()).select_from(Item)).scalar_one()
    parties = session.execute(select(func.count()).select_from(Party)).scalar_one()
    return DemoSummary(
        seed=seed, operation=OPERATION_SLUG, phases=len(phases), agencies=len(agency_ids),
        contact_points=len(cp_ids), users=len(user_ids), cases=cases, cases_by_phase=by_phase,
        items=items, parties=parties, identifiers=counts["identifiers"],
        planted_networks=len(plan.networks),
        notes=[*notes, f"All demo accounts use the password {DEMO_PASSWORD!r}."],
    )  # fmt: skip


def _showcase(op: Operation, seed: int, today: dt.date, now: dt.datetime, data_dir: Path | None,
              networks: list[PlantedNetwork], progress: Progress) -> hooks.DemoBuilt:  # fmt: skip
    """What the capabilities add to the demo: the alerts always; with a data directory, the analyses."""
    declarations: tuple[hooks.DemoDeclarations, ...] = ()
    if data_dir is not None:
        progress(0, None, "writing the declarations")
        declarations = showcase.write_declarations(Path(data_dir) / "demo", seed, today, networks)
    return hooks.DemoBuilt(
        operation_id=op.id, operation_slug=op.slug, seed=seed, today=today, now=now,
        alerts=showcase.alerts(networks), data_dir=Path(data_dir) if data_dir is not None else None,
        declarations=declarations, profiles=showcase.profiles(today) if data_dir is not None else (),
        progress=progress,
    )  # fmt: skip


def _write_cases(
    session: Session, op: Operation, plans: list[Plan], agency_ids: dict[str, int], cp_ids: dict[tuple[str, str], int],
    user_ids: dict[str, int],
) -> dict[str, int]:  # fmt: skip
    """Insert the plans' cases (each plan's cases before its merged duplicates, the plans in order) with their
    transits, items, shares, parties and identifiers; returns the counts."""
    phase_ids: dict[int, int] = {}
    case_ids: dict[int, int] = {}
    case_rows = [c for plan in plans for c in plan.cases]
    for c in case_rows:
        phase_ids[c.key] = phase_for_date(op, c.seizure_date).id  # derived from the seizure date, never by hand

    def case_values(c: CaseRow) -> dict[str, object]:
        updated = c.validated_at or c.submitted_at or c.reported_at
        return {
            "operation_id": op.id, "phase_id": phase_ids[c.key], "reporting_agency_id": agency_ids[c.agency],
            "contact_point_id": cp_ids.get((c.agency, c.cp)) if c.cp else None, "case_ref": c.case_ref,
            "status": c.status, "sharing_level": c.sharing_level, "version": 1, "seizure_date": c.seizure_date,
            "reported_at": c.reported_at, "place_locode": c.place_locode, "place_name": c.place_name,
            "place_country": c.place_country, "place_type": c.place_type, "latitude": c.latitude,
            "longitude": c.longitude, "direction": c.direction, "transport_mode": c.transport_mode,
            "conveyance_ref": c.conveyance_ref, "detection_method": c.detection_method,
            "concealment": c.concealment, "origin_country": c.origin, "destination_country": c.destination,
            "arrests": c.arrests, "estimated_value_usd": c.estimated_value_usd, "description": c.description,
            "merged_into_id": case_ids[c.merged_into] if c.merged_into is not None else None,
            "created_by_id": user_ids.get(c.created_by) if c.created_by else None,
            "created_at": c.reported_at, "updated_at": updated, "submitted_at": c.submitted_at,
            "validated_at": c.validated_at,
            "validated_by_id": user_ids.get(c.validated_by) if c.validated_by else None,
        }  # fmt: skip

    # Per plan: cases first (RETURNING their ids in order), their merged duplicates after them.
    for plan in plans:
        for merged in (False, True):
            batch = [c for c in plan.cases if (c.merged_into is not None) is merged]
            if not batch:
                continue
            ids = session.scalars(
                insert(Case).returning(Case.id, sort_by_parameter_order=True), [case_values(c) for c in batch]
            ).all()
            case_ids.update({c.key: cid for c, cid in zip(batch, ids, strict=True)})

    transits = [
        {"case_id": case_ids[c.key], "position": i, "country": t}
        for c in case_rows
        for i, t in enumerate(c.transits, start=1)
    ]
    items = [
        {
            "case_id": case_ids[c.key],
            "position": i,
            "commodity_class": it.commodity_class,
            "substance_text": it.substance_text,
            "substance": it.substance,
            "substance_control": it.substance_control,
            "taxon_text": it.taxon_text,
            "taxon": it.taxon,
            "cites_appendix": it.cites_appendix,
            "specimen_type": it.specimen_type,
            "quantity": it.quantity,
            "unit": it.unit,
            "quantity_text": it.quantity_text,
            "mass_kg": it.mass_kg,
            "hs_code": it.hs_code,
            "goods_description": it.goods_description,
        }
        for c in case_rows
        for i, it in enumerate(c.items, start=1)
    ]
    party_list = [(c, p) for c in case_rows for p in c.parties]
    parties = [
        {
            "case_id": case_ids[c.key],
            "role": p.role,
            "kind": p.kind,
            "name": p.name,
            "nationality": p.nationality,
            "birth_date": p.birth_date,
            "id_number": p.id_number,
            "phone": p.phone,
            "email": p.email,
            "address": p.address,
        }
        for c, p in party_list
    ]
    shares = [
        {"case_id": case_ids[c.key], "agency_id": agency_ids[code], "nominal": nominal}
        for c in case_rows
        for code, nominal in c.shares
    ]
    if transits:
        session.execute(insert(CaseTransit), transits)
    if items:
        session.execute(insert(Item), items)
    if shares:
        session.execute(insert(CaseShare), shares)
    party_ids = (
        session.scalars(insert(Party).returning(Party.id, sort_by_parameter_order=True), parties).all()
        if parties
        else []
    )
    identifiers = [
        {"case_id": case_ids[c.key], "party_id": None, "kind": i.kind, "value": i.value, "normalised": i.normalised}
        for c in case_rows
        for i in c.identifiers
    ]
    identifiers += [
        {"case_id": case_ids[c.key], "party_id": pid, "kind": i.kind, "value": i.value, "normalised": i.normalised}
        for (c, p), pid in zip(party_list, party_ids, strict=True)
        for i in p.identifiers
    ]
    if identifiers:
        session.execute(insert(CaseIdentifier), identifiers)

    return {"items": len(items), "parties": len(parties), "identifiers": len(identifiers)}


def _users(session: Session, agency_ids: dict[str, int], cp_ids: dict[tuple[str, str], int]) -> dict[str, int]:
    """The demo accounts. They share one password, so it is hashed once (Argon2id, ~50 ms) for all of them."""
    password_hash = hash_password(DEMO_PASSWORD)
    rows = []
    for u in USERS:
        check_policy(DEMO_PASSWORD, username=u.username)
        rows.append(
            {
                "username": u.username,
                "display_name": u.display_name,
                "email": f"{u.username}@demo.dragonnet.invalid",
                "agency_id": agency_ids[u.agency],
                "contact_point_id": cp_ids.get((u.agency, u.cp)) if u.cp else None,
                "password_hash": password_hash,
                "is_active": True,
                "failed_logins": 0,
                "created_at": DEMO_ACCOUNTS_CREATED,
            }
        )
    ids = session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows).all()
    user_ids = {u.username: uid for u, uid in zip(USERS, ids, strict=True)}
    session.execute(insert(UserRole), [{"user_id": user_ids[u.username], "role": r} for u in USERS for r in u.roles])
    for u in USERS:
        audit.record(
            session, audit.SYSTEM, "user.create", "user", user_ids[u.username],
            username=u.username, agency=u.agency, roles=list(u.roles), demo=True,
        )  # fmt: skip
    return user_ids
