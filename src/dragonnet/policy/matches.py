"""Who learns what from a match of the privacy-preserving linkage: two steps, as in the EU Prüm exchanges.

1. Hit / no hit. When the hub finds that a party of agency A and a party of agency B likely are one, each
   agency's members (not partner observers) get a notice naming only their own party and case, the other
   agency, and the notice's number: "agency B holds a record matching your party P". Nothing about the other
   case: not its reference, sharing level, date or content. An agency with no hit learns nothing.
2. Disclosure with the owner's consent. A member asks the other agency (a reason is required); the owner's
   national coordinator, or the reporter who created the case (those who may share it: `policy.sharing`),
   accepts or declines with a reason. Accepting shares the case with the asking agency with its parties,
   through the normal sharing rules (`sharing.share_case`, audited `case.share`). An AMBER+STRICT case is
   shared with nobody: it must first be given another level, or the request declined.

The one rule every page, API route and CLI command applies to a match (notices, networks, link review): the
other side's case is named, and the match counted as a link, only where the reader may see that case with
its parties (`revealed_cases`): its owner named the reader's agency with a nominal share, by accepting a request or
earlier. Everything else about the match stays on its owner's side.

Screening a list follows the same two steps (`screening_hidden_parties`): the list is matched against the parties
the screener may not see too, the hub's eligibility (every submitted case of the operation, of another agency),
so that a screening's answer and its time do not depend on what is hidden; a hit on such a party tells the
screener's agency only "agency X holds a record matching row N of your list", with a notice number.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, false, not_, select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import CaseStatus, SharingLevel
from dragonnet.policy.access import Actor, case_visibility, nominal_visibility
from dragonnet.storage.models import Case

DECIDABLE_LEVELS = frozenset(lvl.value for lvl in SharingLevel) - {SharingLevel.AMBER_STRICT.value}


def may_receive_notices(actor: Actor) -> bool:
    """Match notices (step 1) and disclosure requests go to members of an agency, never to partner observers."""
    return actor.is_authenticated and actor.agency_id is not None and not actor.is_observer_only


def revealed_cases(session: Session, actor: Actor, case_ids: Iterable[int]) -> set[int]:
    """Of the other sides' cases `case_ids`, those that may be named to `actor` with their matched party: only
    where the owner agreed, i.e. `actor` may see the case with its parties (a nominal share to its agency)."""
    wanted = sorted(set(case_ids))
    if not wanted or not may_receive_notices(actor):
        return set()
    query = select(Case.id).where(Case.id.in_(wanted), case_visibility(actor), nominal_visibility(actor))
    return set(session.execute(query).scalars())


def may_be_shared(level: str) -> bool:
    """Can accepting a request share a case of this level? AMBER+STRICT is its owner's alone."""
    return level in DECIDABLE_LEVELS


def screening_hidden_parties(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause over Party joined to Case: the parties a screening by `actor` is matched against without
    showing them (a hit gives a screening notice, hit / no hit). The hub's eligibility: submitted cases (no
    drafts) of other agencies, whatever their level, that `actor` may not see with their parties. None for
    partner observers or users without an agency (they do not screen, and receive no notice)."""
    if not may_receive_notices(actor):
        return false()
    return and_(
        Case.status != CaseStatus.DRAFT.value,
        Case.reporting_agency_id != actor.agency_id,
        not_(and_(case_visibility(actor), nominal_visibility(actor))),
    )
