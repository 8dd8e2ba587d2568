"""Sharing a case with named agencies (TLP RED/AMBER recipients, and nominal shares).

Only the owning agency's national coordinator, or the reporter who created the case, may change who a case
is shared with. A case of another agency answers NotFound (404) even when its non-nominal part is visible
(GREEN/CLEAR): it is not the actor's to share. Every change is audited (`case.share`, `case.unshare`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import Role
from dragonnet.errors import ValidationError
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, PermissionDenied, audit_actor, get_case
from dragonnet.storage.models import Agency, Case, CaseShare

MAX_RECIPIENTS = 100


@dataclass(frozen=True)
class ShareOut:
    agency_code: str
    agency_name: str
    nominal: bool


def _owned_case(session: Session, actor: Actor, case_id: int, *, change: bool) -> Case:
    case = get_case(session, actor, case_id)
    if case.reporting_agency_id != actor.agency_id:
        raise Hidden(actor, "case", case_id)
    if change:
        coordinator = actor.has(Role.NATIONAL_COORDINATOR)
        creator = actor.has(Role.REPORTER) and case.created_by_id is not None and case.created_by_id == actor.user_id
        if not (coordinator or creator):
            raise PermissionDenied(
                actor, "case", case_id, "only your national coordinator or the case's reporter may share it"
            )
    return case


def _agencies(session: Session, codes: Iterable[str], own_agency_id: int | None) -> list[Agency]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not wanted:
        raise ValidationError("name at least one agency")
    if len(wanted) > MAX_RECIPIENTS:
        raise ValidationError(f"at most {MAX_RECIPIENTS} agencies at a time")
    found = {a.code: a for a in session.execute(select(Agency).where(Agency.code.in_(wanted))).scalars()}
    unknown = [c for c in wanted if c not in found or not found[c].is_active]
    if unknown:
        raise ValidationError(f"unknown or inactive agency {', '.join(unknown)}")
    agencies = [found[c] for c in wanted]
    if any(a.id == own_agency_id for a in agencies):
        raise ValidationError("a case is always visible to its own agency: name other agencies")
    return agencies


def check_may_share(session: Session, actor: Actor, case_id: int) -> Case:
    """The case if `actor` may change who it is shared with (its agency's national coordinator or its
    reporter); Hidden (404) for another agency's case, PermissionDenied (403) for another member of its own."""
    return _owned_case(session, actor, case_id, change=True)


def list_shares(session: Session, actor: Actor, case_id: int) -> list[ShareOut]:
    """Who a case is shared with: told to the owning agency only."""
    case = _owned_case(session, actor, case_id, change=False)
    rows = session.execute(
        select(CaseShare, Agency).join(Agency, Agency.id == CaseShare.agency_id).where(CaseShare.case_id == case.id)
        .order_by(Agency.code)
    ).all()  # fmt: skip
    return [ShareOut(agency.code, agency.name, share.nominal) for share, agency in rows]


def share_case(
    session: Session, actor: Actor, case_id: int, agency_codes: Iterable[str], nominal: bool
) -> list[ShareOut]:
    """Name agencies as recipients of a case (and, with `nominal`, of its parties). Idempotent."""
    case = _owned_case(session, actor, case_id, change=True)
    agencies = _agencies(session, agency_codes, actor.agency_id)
    existing = {s.agency_id: s for s in case.shares}
    for agency in agencies:
        share = existing.get(agency.id)
        if share is None:
            case.shares.append(CaseShare(agency_id=agency.id, nominal=nominal))
        else:
            share.nominal = nominal
    session.flush()
    audit.record(session, audit_actor(actor), "case.share", "case", case.id,
                 agencies=[a.code for a in agencies], nominal=nominal)  # fmt: skip
    return list_shares(session, actor, case_id)


def unshare_case(session: Session, actor: Actor, case_id: int, agency_codes: Iterable[str]) -> list[ShareOut]:
    """Withdraw a case from named agencies."""
    case = _owned_case(session, actor, case_id, change=True)
    agencies = _agencies(session, agency_codes, actor.agency_id)
    ids = {a.id for a in agencies}
    case.shares = [s for s in case.shares if s.agency_id not in ids]
    session.flush()
    audit.record(session, audit_actor(actor), "case.unshare", "case", case.id, agencies=[a.code for a in agencies])
    return list_shares(session, actor, case_id)
