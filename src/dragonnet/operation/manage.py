"""Setting up an operation through one door: create it, its phases, its participants, its commodity scope.

Every function takes the actor, checks that it is a site administrator (others: 404, audited), applies the
operation's rules and writes the audit entry itself; the CLI, the web admin and the API only parse and call.

Rules:
- An operation's slug is 3-64 lower-case letters, digits and '-'; it never changes.
- A phase is named ("Phase I"); its number (the order of the debrief) comes from a roman or arabic numeral
  in the name, or is the next free one. Phases may not overlap (both ends inclusive).
- A phase holding cases cannot move so as to leave any of them outside every phase: the case's phase comes
  from its seizure date. The error names the cases the actor may see and counts the others.
- Participants: an agency takes part as lead (coordinator), member, partner or observer; joining again
  changes the role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dragonnet.domain.phases import ROMAN, roman
from dragonnet.domain.vocabulary import CommodityClass, ParticipationRole
from dragonnet.errors import Conflict, ValidationError
from dragonnet.i18n import LOCALES, N_, normalise, with_values
from dragonnet.operation.service import (
    PhaseTotal,
    get_operation,
    list_operations,
    operation_totals,
    participants,
)
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, audit_actor, case_visibility, require_site_admin
from dragonnet.storage.models import Agency, Case, Operation, Participation, Phase

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
PHASE_NUMERAL = re.compile(r"^\s*(?:phase\s+)?(?P<n>[ivxlc]+|\d{1,3})\s*$", re.IGNORECASE)
MAX_NAMED_CASES = 10

# Error messages: English for the API and the CLI, translated on the admin pages (dragonnet.i18n.with_values).
INVALID_SLUG = with_values(
    N_("invalid operation slug %(slug)s: 3-64 lower-case letters, digits and '-', e.g. mekong-dragon")
)
OPERATION_NAME = N_("an operation needs a name of 1 to 200 characters")
OPERATION_EXISTS = with_values(N_("operation %(slug)s exists already"))
NO_SCOPE = with_values(N_("name at least one commodity class: %(values)s"))
UNKNOWN_LANGUAGE = with_values(N_("unknown language %(language)s: use one of %(values)s"))
PHASE_NAME = N_("a phase needs a name of 1 to 100 characters")
PHASE_ENDS_BEFORE_START = with_values(N_("%(phase)s ends (%(end)s) before it starts (%(start)s)"))
PHASE_NUMBER_TAKEN = with_values(N_("operation %(slug)s has a phase number %(number)s already: %(other)s"))
PHASE_KEEPS_NUMBER = with_values(N_("%(phase)s is phase number %(number)s; a phase keeps its number"))
PHASE_NUMBER_POSITIVE = N_("a phase number is 1 or more")
PHASE_OVERLAP = with_values(N_("%(phase)s (%(start)s..%(end)s) would overlap %(other)s: phases may not overlap"))
UNKNOWN_AGENCY = with_values(N_("unknown agency %(code)s: add it first (dragonnet agencies add)"))
AGENCY_DEACTIVATED = with_values(N_("agency %(code)s is deactivated"))
NO_SUCH_PHASE = with_values(N_("operation %(slug)s has no phase %(phase)s"))


def _audit(session: Session, actor: Actor, action: str, op: Operation, **detail: object) -> None:
    audit.record(session, audit_actor(actor), action, "operation", op.slug, **detail)


def _scope(classes: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(CommodityClass.parse(c, "commodity class") for c in classes if c.strip()))


# --- operations -----------------------------------------------------------------------------------------------


def create_operation(
    session: Session, actor: Actor, *, slug: str, name: str, description: str = "", scope: Sequence[str] = ()
) -> Operation:
    require_site_admin(actor, "operations.create")
    slug = slug.strip()
    if not SLUG.match(slug):
        raise ValidationError(INVALID_SLUG % {"slug": repr(slug)})
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError(OPERATION_NAME)
    if session.execute(select(Operation.id).where(Operation.slug == slug)).first():
        raise Conflict(OPERATION_EXISTS % {"slug": repr(slug)})
    op = Operation(slug=slug, name=name, description=description.strip(), scope=_scope(scope))
    session.add(op)
    session.flush()
    _audit(session, actor, "operation.create", op, name=name, scope=op.scope)
    return op


def set_scope(session: Session, actor: Actor, slug: str, classes: Sequence[str]) -> Operation:
    """The commodity classes the operation covers (drug, precursor, wildlife, timber, other)."""
    require_site_admin(actor, "operations.scope")
    op = get_operation(session, slug)
    scope = _scope(classes)
    if not scope:
        raise ValidationError(NO_SCOPE % {"values": ", ".join(CommodityClass.values())})
    before = list(op.scope or [])
    op.scope = scope
    _audit(session, actor, "operation.scope", op, before=before, after=scope)
    return op


def set_default_language(session: Session, actor: Actor, slug: str, language: str | None) -> Operation:
    """The language of the operation's pages for a user who chose none and whose browser names no shipped
    one (None or "": English)."""
    require_site_admin(actor, "operations.language")
    op = get_operation(session, slug)
    wanted = normalise(language) if language else None
    if language and wanted is None:
        raise ValidationError(UNKNOWN_LANGUAGE % {"language": repr(language), "values": ", ".join(LOCALES)})
    before = op.default_language
    op.default_language = wanted
    _audit(session, actor, "operation.language", op, before=before, after=wanted)
    return op


@dataclass(frozen=True)
class OperationDetail:
    operation: Operation
    phases: list[Phase]
    participants: list[tuple[Participation, Agency]]
    totals: list[PhaseTotal]  # validated cases per phase (aggregates, small cells suppressed)


def show(session: Session, actor: Actor, slug: str) -> OperationDetail:
    """An operation as its administrators set it up: phases, participants, scope, and its headline counts."""
    if not actor.is_authenticated:
        require_site_admin(actor, "operations.show")
    op = get_operation(session, slug)
    return OperationDetail(op, list(op.phases), participants(session, op), operation_totals(session, op))


def operations(session: Session, actor: Actor) -> list[Operation]:
    """Every operation (the console's operator and site administrators), else those `actor` may open."""
    if not actor.is_authenticated:
        require_site_admin(actor, "operations.list")
        return list(session.execute(select(Operation).order_by(Operation.id)).scalars())
    return list_operations(session, actor)


# --- phases ---------------------------------------------------------------------------------------------------


def phase_number(name: str) -> int | None:
    """The number a phase's name carries: "Phase IV" and "4" are 4; None if it carries none."""
    m = PHASE_NUMERAL.match(name)
    if m is None:
        return None
    text = m["n"].upper()
    if text.isdigit():
        return int(text)
    return ROMAN.index(text) + 1 if text in ROMAN else None


def _period(p: Phase) -> str:
    return f"{p.name} ({p.start_date}..{p.end_date})"


def set_phase(
    session: Session,
    actor: Actor,
    slug: str,
    *,
    name: str,
    start: dt.date,
    end: dt.date,
    number: int | None = None,
    notes: str | None = None,
) -> tuple[Phase, bool]:
    """Add the phase `name`, or move it if the operation has it already; (the phase, created?)."""
    require_site_admin(actor, "operations.phase")
    op = get_operation(session, slug)
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise ValidationError(PHASE_NAME)
    if start > end:
        raise ValidationError(PHASE_ENDS_BEFORE_START % {"phase": name, "end": end, "start": start})
    phase = next((p for p in op.phases if p.name.lower() == name.lower()), None)
    wanted = number if number is not None else phase_number(name)
    if phase is None:
        taken = {p.number for p in op.phases}
        if wanted is None:
            wanted = max(taken, default=0) + 1
        elif wanted in taken:
            other = next(p for p in op.phases if p.number == wanted)
            raise Conflict(PHASE_NUMBER_TAKEN % {"slug": repr(op.slug), "number": wanted, "other": other.name})
    elif wanted is not None and wanted != phase.number:
        raise ValidationError(PHASE_KEEPS_NUMBER % {"phase": phase.name, "number": phase.number})
    if wanted is not None and wanted < 1:
        raise ValidationError(PHASE_NUMBER_POSITIVE)
    for other in op.phases:
        if other is not phase and start <= other.end_date and other.start_date <= end:
            raise ValidationError(PHASE_OVERLAP % {"phase": name, "start": start, "end": end, "other": _period(other)})
    if phase is not None:
        _refuse_orphans(session, actor, op, phase, start, end)
        before = {"start": phase.start_date.isoformat(), "end": phase.end_date.isoformat()}
        phase.start_date, phase.end_date = start, end
        if notes is not None:
            phase.notes = notes
        session.flush()
        _audit(session, actor, "operation.phase_move", op, phase=phase.name, number=phase.number, before=before,
               after={"start": start.isoformat(), "end": end.isoformat()})  # fmt: skip
        return phase, False
    assert wanted is not None
    phase = Phase(operation=op, number=wanted, name=name, start_date=start, end_date=end, scope=list(op.scope or []),
                  notes=notes or "")  # fmt: skip
    session.add(phase)
    session.flush()
    session.expire(op, ["phases"])
    _audit(session, actor, "operation.phase_add", op, phase=name, number=wanted, start=start.isoformat(),
           end=end.isoformat())  # fmt: skip
    return phase, True


def _refuse_orphans(session: Session, actor: Actor, op: Operation, phase: Phase, start: dt.date, end: dt.date) -> None:
    outside = (
        select(Case.id, Case.case_ref, Case.seizure_date, Agency.code)
        .join(Agency, Agency.id == Case.reporting_agency_id)
        .where(Case.phase_id == phase.id, or_(Case.seizure_date < start, Case.seizure_date > end))
    )
    total = session.execute(select(func.count()).select_from(outside.subquery())).scalar_one()
    if not total:
        return
    seen = session.execute(outside.where(case_visibility(actor)).order_by(Case.seizure_date, Case.id)).all()
    named = ", ".join(f"{code}/{ref} ({day})" for _id, ref, day, code in seen[:MAX_NAMED_CASES])
    more = len(seen) - min(len(seen), MAX_NAMED_CASES)
    hidden = total - len(seen)
    parts = [named] if named else []
    if more:
        parts.append(f"{more} more")
    if hidden:
        parts.append(f"{hidden} case(s) of agencies whose cases you may not see")
    raise ValidationError(
        f"{phase.name} holds {total} case(s) dated outside {start}..{end}, which would then belong to no phase: "
        f"{'; '.join(parts)}. Correct their seizure dates (or withdraw them) first, or choose dates that keep them"
    )


# --- participants ---------------------------------------------------------------------------------------------


def join(
    session: Session, actor: Actor, slug: str, agency_code: str, role: str = "member", since_phase: int | None = None
) -> tuple[Participation, str]:
    """The agency takes part in the operation in `role`; ("joined" | "role changed" | "unchanged")."""
    require_site_admin(actor, "operations.join")
    op = get_operation(session, slug)
    agency = session.execute(
        select(Agency).where(func.upper(Agency.code) == agency_code.strip().upper())
    ).scalar_one_or_none()
    if agency is None:
        raise ValidationError(UNKNOWN_AGENCY % {"code": repr(agency_code)})
    if not agency.is_active:
        raise ValidationError(AGENCY_DEACTIVATED % {"code": agency.code})
    role = ParticipationRole.parse(role, "participation role")
    if since_phase is not None and since_phase not in {p.number for p in op.phases}:
        raise ValidationError(NO_SUCH_PHASE % {"slug": repr(op.slug), "phase": roman(since_phase)})
    part = session.execute(
        select(Participation).where(Participation.operation_id == op.id, Participation.agency_id == agency.id)
    ).scalar_one_or_none()
    if part is not None:
        if part.role == role and (since_phase is None or part.since_phase == since_phase):
            return part, "unchanged"
        before = part.role
        part.role = role
        if since_phase is not None:
            part.since_phase = since_phase
        _audit(session, actor, "operation.participant_role", op, agency=agency.code, before=before, after=role)
        return part, "role changed"
    part = Participation(operation_id=op.id, agency_id=agency.id, role=role, since_phase=since_phase)
    session.add(part)
    session.flush()
    _audit(session, actor, "operation.join", op, agency=agency.code, role=role, since_phase=since_phase)
    return part, "joined"


__all__ = ["OperationDetail", "create_operation", "join", "operations", "phase_number", "set_phase", "set_scope",
           "show"]  # fmt: skip
