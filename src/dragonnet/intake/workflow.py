"""The case workflow: draft -> submitted -> validated -> merged / withdrawn, with who and when.

- submit (draft -> submitted): the reporting agency's reporters and national coordinators.
- validate (submitted -> validated): a national coordinator of the reporting agency's country, or a
  regional analyst.
- return (submitted -> draft): the same validators, with a reason (sent back to the reporter).
- withdraw (draft, submitted, validated -> withdrawn): the reporting agency's officers, or the national
  coordinator of its country.
- merge (submitted, validated -> merged): see dragonnet.intake.duplicates.merge.

Every step writes a `case_status_changes` row and an audit entry (`case.submit`, `case.validate`, ...), and
bumps the case's version (optimistic locking: a step made from a stale page is refused with Conflict).
A case the actor may not see answers 404; an illegal step answers 422 (`IllegalTransition`); a step the
actor may not take on a case it sees answers 403.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dragonnet.domain.vocabulary import CaseStatus, Role
from dragonnet.errors import Conflict, ValidationError
from dragonnet.policy.access import Actor, PermissionDenied, audit_actor, get_case
from dragonnet.policy.audit import record
from dragonnet.storage.intake_models import CaseStatusChange
from dragonnet.storage.models import Agency, Case

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
    "submit": Transition("submit", "Submit", (D,), S),
    "validate": Transition("validate", "Validate", (S,), V),
    "return": Transition("return", "Return to reporter", (S,), D),
    "withdraw": Transition("withdraw", "Withdraw", (D, S, V), W),
}


def _agency_country(session: Session, case: Case) -> str | None:
    return session.execute(select(Agency.country).where(Agency.id == case.reporting_agency_id)).scalar_one_or_none()


def is_owner(actor: Actor, case: Case) -> bool:
    return case.reporting_agency_id == actor.agency_id and (
        actor.has(Role.REPORTER) or actor.has(Role.NATIONAL_COORDINATOR)
    )


def is_validator(session: Session, actor: Actor, case: Case) -> bool:
    """A regional analyst, or a national coordinator of the reporting agency's country."""
    if actor.has(Role.REGIONAL_ANALYST):
        return True
    return bool(
        actor.has(Role.NATIONAL_COORDINATOR) and actor.country and _agency_country(session, case) == actor.country
    )


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


__all__ = ["TRANSITIONS", "IllegalTransition", "Transition", "available_actions", "history", "transition"]
