"""The case workflow: draft -> submitted -> validated -> merged / withdrawn, with who and when.

- submit (draft -> submitted): the reporting agency's reporters and national coordinators.
- validate (submitted -> validated): a national coordinator of the reporting agency's country, or a
  regional analyst.
- return (submitted -> draft): the same validators, with a reason (sent back to the reporter).
- withdraw (draft, submitted, validated -> withdrawn): the reporting agency's officers, or the national
  coordinator of its country.
- merge (submitted, validated -> merged): see dragonnet.intake.duplicates.merge.
- bulk validation (`validate_cases`): the same validators, over the submitted cases of one agency in one
  operation (all of them, or a list of case refs), as one step that lands whole or not at all.

Every step writes a `case_status_changes` row and an audit entry (`case.submit`, `case.validate`, ...), and
bumps the case's version (optimistic locking: a step made from a stale page is refused with Conflict).
A case the actor may not see answers 404; an illegal step answers 422 (`IllegalTransition`); a step the
actor may not take on a case it sees answers 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dragonnet.domain.vocabulary import CaseStatus, Role
from dragonnet.errors import Conflict, NotFound, ValidationError
from dragonnet.i18n import N_
from dragonnet.policy.access import Actor, PermissionDenied, audit_actor, get_case, visible_cases
from dragonnet.policy.audit import record, record_many
from dragonnet.progress import Progress, no_progress
from dragonnet.storage.intake_models import CaseStatusChange
from dragonnet.storage.models import Agency, Case, Operation

D, S, V, M, W = (CaseStatus.DRAFT.value, CaseStatus.SUBMITTED.value, CaseStatus.VALIDATED.value,
                 CaseStatus.MERGED.value, CaseStatus.WITHDRAWN.value)  # fmt: skip


class IllegalTransition(ValidationError):
    """The step is not allowed from the case's current status (422)."""


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition("submit", N_("Submit"), (D,), S),
    "validate": Transition("validate", N_("Validate"), (S,), V),
    "return": Transition("return", N_("Return to reporter"), (S,), D),
    "withdraw": Transition("withdraw", N_("Withdraw"), (D, S, V), W),
}


def _agency_country(session: Session, case: Case) -> str | None:
    return session.execute(select(Agency.country).where(Agency.id == case.reporting_agency_id)).scalar_one_or_none()


def is_owner(actor: Actor, case: Case) -> bool:
    return case.reporting_agency_id == actor.agency_id and (
        actor.has(Role.REPORTER) or actor.has(Role.NATIONAL_COORDINATOR)
    )


def validates_for(actor: Actor, agency_country: str | None) -> bool:
    """May `actor` validate the cases of an agency of `agency_country`? A regional analyst (the regional
    office) may for every agency; a national coordinator for the agencies of its own country."""
    if actor.has(Role.REGIONAL_ANALYST):
        return True
    return bool(actor.has(Role.NATIONAL_COORDINATOR) and actor.country and agency_country == actor.country)


def is_validator(session: Session, actor: Actor, case: Case) -> bool:
    """A regional analyst, or a national coordinator of the reporting agency's country."""
    if actor.has(Role.REGIONAL_ANALYST):
        return True
    return validates_for(actor, _agency_country(session, case))


def may(session: Session, actor: Actor, case: Case, action: str) -> bool:
    """May `actor` take `action` on the (visible) case, whatever its status?"""
    if action == "submit":
        return is_owner(actor, case)
    if action in ("validate", "return"):
        return is_validator(session, actor, case)
    if action == "withdraw":
        return is_owner(actor, case) or (actor.has(Role.NATIONAL_COORDINATOR) and is_validator(session, actor, case))
    return False


def available_actions(session: Session, actor: Actor, case: Case) -> list[Transition]:
    """The steps the actor may take on the case now (the buttons of the case page)."""
    return [t for t in TRANSITIONS.values() if case.status in t.sources and may(session, actor, case, t.action)]


def record_status(session: Session, actor: Actor, case: Case, old: str | None, new: str, reason: str | None) -> None:
    session.add(CaseStatusChange(case_id=case.id, from_status=old, to_status=new, actor_user_id=actor.user_id,
                                 actor_username=actor.username, actor_agency=actor.agency_code,
                                 at=dt.datetime.now(dt.UTC), reason=reason))  # fmt: skip


def transition(
    session: Session, actor: Actor, case_id: int, action: str, *, version: int | None = None, reason: str | None = None
) -> Case:
    """Take one workflow step; see the module's table."""
    case = get_case(session, actor, case_id)
    step = TRANSITIONS.get(action)
    if step is None:
        raise IllegalTransition(f"unknown action {action!r}; use one of {', '.join(TRANSITIONS)}")
    if not may(session, actor, case, action):
        raise PermissionDenied(actor, "case", case_id, f"you may not {action} this case")
    if case.status not in step.sources:
        allowed = " or ".join(step.sources)
        raise IllegalTransition(
            f"cannot {action} a case that is {case.status}: only a {allowed} case can be {step.target}"
            if action != "return"
            else f"cannot return a case that is {case.status}: only a submitted case can go back to draft"
        )
    if version is not None and version != case.version:
        raise Conflict(f"case {case.case_ref} changed since you opened it (now version {case.version}); reload it")
    if action == "return" and not (reason or "").strip():
        raise ValidationError("say why the case goes back to the reporter (reason)")
    old = case.status
    now = dt.datetime.now(dt.UTC)
    try:
        with session.begin_nested():
            case.status = step.target
            case.updated_at = now
            if step.target == S:
                case.submitted_at = now
            if step.target == V:
                case.validated_at, case.validated_by_id = now, actor.user_id
            elif old == V:
                case.validated_at, case.validated_by_id = None, None
            session.flush()
            record_status(session, actor, case, old, step.target, (reason or "").strip()[:2000] or None)
            record(session, audit_actor(actor), f"case.{action}", "case", case.id, case_ref=case.case_ref,
                   from_status=old, to_status=step.target, version=case.version)  # fmt: skip
    except StaleDataError:
        raise Conflict(f"case {case_id} changed while you acted on it; reload it") from None
    return case


def history(session: Session, case_id: int) -> list[CaseStatusChange]:
    """The status history of a case (call only for a case already checked visible)."""
    return list(
        session.execute(
            select(CaseStatusChange).where(CaseStatusChange.case_id == case_id).order_by(CaseStatusChange.id)
        ).scalars()
    )


def _case_table() -> Table:
    table = Case.__table__
    assert isinstance(table, Table)
    return table


# --- bulk validation ------------------------------------------------------------------------------------------

CHUNK = 1_000
MAX_NAMED = 20  # refs named in one error message


@dataclass
class BulkValidation:
    """What a bulk validation did: the refs validated now, and those that were validated already."""

    operation: str
    agency: str
    validated: list[str] = field(default_factory=list)
    already_validated: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> dict[str, Any]:
        return {"operation": self.operation, "agency": self.agency, "validated": len(self.validated),
                "already_validated": len(self.already_validated), "dry_run": self.dry_run,
                "validated_refs": self.validated, "already_validated_refs": self.already_validated}  # fmt: skip


def _named(refs: Sequence[str]) -> str:
    shown = ", ".join(sorted(refs)[:MAX_NAMED])
    return shown + (f" and {len(refs) - MAX_NAMED} more" if len(refs) > MAX_NAMED else "")


def validator_agency(session: Session, actor: Actor, agency_code: str) -> Agency:
    """The agency whose cases `actor` means to validate; refused (403) unless the actor validates for it."""
    agency = session.execute(
        select(Agency).where(func.upper(Agency.code) == agency_code.strip().upper())
    ).scalar_one_or_none()
    if agency is None:
        raise NotFound(f"unknown agency {agency_code!r}")
    if not validates_for(actor, agency.country):
        raise PermissionDenied(
            actor, "agency", agency.code,
            f"you may not validate the cases of {agency.code}: a national coordinator of its country "
            "or a regional analyst may",
        )  # fmt: skip
    return agency


def validate_cases(
    session: Session,
    actor: Actor,
    operation: Operation,
    agency_code: str,
    *,
    refs: Sequence[str] | None = None,
    reason: str | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> BulkValidation:
    """Validate the submitted cases of one agency in one operation: every one (`refs` None) or those named.

    Each case gets its status row and its `case.validate` audit entry, as if validated one by one; one
    `cases.validate_bulk` entry sums the step up. Named refs must be cases of the agency in the operation
    that the actor sees and that are submitted (or validated already: skipped, reported); otherwise nothing
    changes and the error names them. A case changed meanwhile fails the whole step (Conflict).
    """
    agency = validator_agency(session, actor, agency_code)
    result = BulkValidation(operation.slug, agency.code, dry_run=dry_run)
    query = visible_cases(actor).where(Case.operation_id == operation.id, Case.reporting_agency_id == agency.id)
    wanted: list[str] | None = None
    if refs is None:
        query = query.where(Case.status == S)
    else:
        wanted = list(dict.fromkeys(r.strip() for r in refs if r.strip()))
        if not wanted:
            raise ValidationError("no case refs given")
    rows = session.execute(
        query.with_only_columns(Case.id, Case.case_ref, Case.status, Case.version).order_by(Case.id)
    ).all()
    if wanted is not None:
        found = {r.case_ref: r for r in rows if r.case_ref in set(wanted)}
        missing = [ref for ref in wanted if ref not in found]
        if missing:
            raise NotFound(f"no case {_named(missing)} of {agency.code} in operation {operation.slug!r}")
        wrong = [f"{ref} ({found[ref].status})" for ref in wanted if found[ref].status not in (S, V)]
        if wrong:
            raise IllegalTransition(f"only submitted cases can be validated; these are not: {_named(wrong)}")
        rows = [found[ref] for ref in wanted]
        result.already_validated = [r.case_ref for r in rows if r.status == V]
        rows = [r for r in rows if r.status == S]
    result.validated = [r.case_ref for r in rows]
    if dry_run or not rows:
        return result
    now = dt.datetime.now(dt.UTC)
    note = (reason or "").strip()[:2000] or None
    table = _case_table()
    # One executemany per chunk; the version in the WHERE clause refuses a case changed since it was read.
    step = (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"), table.c.status == S)
        .values(
            status=V, validated_at=now, validated_by_id=actor.user_id, updated_at=now, version=bindparam("new_version")
        )
    )
    with session.begin_nested():
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            changed = (
                session.connection()
                .execute(step, [{"_id": r.id, "_version": r.version, "new_version": r.version + 1} for r in chunk])
                .rowcount
            )
            if changed != len(chunk):
                raise Conflict("some of these cases changed while they were being validated; run it again")
            session.execute(insert(CaseStatusChange), [
                {"case_id": r.id, "from_status": S, "to_status": V, "actor_user_id": actor.user_id,
                 "actor_username": actor.username, "actor_agency": actor.agency_code, "at": now, "reason": note}
                for r in chunk
            ])  # fmt: skip
            record_many(session, audit_actor(actor), [
                ("case.validate", "case", r.id, {"case_ref": r.case_ref, "from_status": S, "to_status": V,
                                                 "version": r.version + 1, "bulk": True})
                for r in chunk
            ])  # fmt: skip
            progress(start + len(chunk), len(rows), "validating")
        record(session, audit_actor(actor), "cases.validate_bulk", "operation", operation.slug, agency=agency.code,
               validated=len(rows), already_validated=len(result.already_validated),
               selection="refs" if wanted is not None else "all_submitted")  # fmt: skip
    session.expire_all()
    return result


__all__ = [
    "TRANSITIONS",
    "BulkValidation",
    "IllegalTransition",
    "Transition",
    "available_actions",
    "history",
    "transition",
    "validate_cases",
]
