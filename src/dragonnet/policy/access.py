"""The access policy: every query of cases (and what hangs off them) is filtered here.

Rules (TLP 2.0 x role x agency x nominal/non-nominal):
- A case's own agency always sees it (drafts included; drafts are seen by nobody else).
- CLEAR and GREEN cases are seen by every operation member; partner observers see CLEAR only.
- AMBER: the owning agency, agencies it names, the national coordinators of its country, and the
  operation's regional analysts (the regional database is the normal recipient of AMBER reports).
- AMBER+STRICT: the owning agency only. RED: the owning agency and the agencies it names.
- Nominal data (parties, personal identifiers) is seen only by the owning agency and agencies named with
  a nominal share; partner observers never see it, whatever the share says.
Records an actor may not see do not exist for them: callers answer 404, never 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from dragonnet.domain.vocabulary import CaseStatus, Role, SharingLevel
from dragonnet.storage.models import Agency, Case, CaseShare, User


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user with an agency and roles (or an anonymous visitor)."""

    user_id: int | None
    username: str | None
    agency_id: int | None
    agency_code: str | None
    country: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    client_address: str | None = None

    @classmethod
    def for_user(cls, user: User, client_address: str | None = None) -> Actor:
        return cls(
            user_id=user.id,
            username=user.username,
            agency_id=user.agency_id,
            agency_code=user.agency.code,
            country=user.agency.country,
            roles=frozenset(user.role_names),
            client_address=client_address,
        )

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def has(self, role: Role) -> bool:
        return role.value in self.roles

    @property
    def is_observer_only(self) -> bool:
        """Partner observers with no member role see only what is shared with partners."""
        member_roles = {Role.REPORTER, Role.NATIONAL_COORDINATOR, Role.REGIONAL_ANALYST}
        return self.has(Role.PARTNER_OBSERVER) and not any(self.has(r) for r in member_roles)


ANONYMOUS = Actor(None, None, None, None, None)


def _named(actor: Actor, *, nominal: bool = False) -> ColumnElement[bool]:
    cond = and_(CaseShare.case_id == Case.id, CaseShare.agency_id == actor.agency_id)
    if nominal:
        cond = and_(cond, CaseShare.nominal.is_(True))
    return exists(select(CaseShare.id).where(cond))


def case_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause true exactly for the cases `actor` may see (non-nominal part)."""
    if not actor.is_authenticated or actor.agency_id is None:
        return false()
    own = Case.reporting_agency_id == actor.agency_id
    shared = Case.status != CaseStatus.DRAFT.value
    if actor.is_observer_only:
        return or_(own, and_(shared, Case.sharing_level == SharingLevel.CLEAR.value))
    level = Case.sharing_level
    visible_to_members = level.in_([SharingLevel.CLEAR.value, SharingLevel.GREEN.value])
    amber_recipients: list[ColumnElement[bool]] = [_named(actor)]
    if actor.has(Role.REGIONAL_ANALYST):
        amber_recipients.append(true())
    if actor.has(Role.NATIONAL_COORDINATOR) and actor.country:
        amber_recipients.append(
            exists(select(Agency.id).where(Agency.id == Case.reporting_agency_id, Agency.country == actor.country))
        )
    amber = and_(level == SharingLevel.AMBER.value, or_(*amber_recipients))
    red = and_(level == SharingLevel.RED.value, _named(actor))
    return or_(own, and_(shared, or_(visible_to_members, amber, red)))


def nominal_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause (over Case) true where `actor` may also see the case's nominal data."""
    if not actor.is_authenticated or actor.agency_id is None or actor.is_observer_only:
        return false()
    return or_(
        Case.reporting_agency_id == actor.agency_id,
        and_(Case.status != CaseStatus.DRAFT.value, _named(actor, nominal=True)),
    )


def visible_cases(actor: Actor) -> Select[Case]:
    """The starting point of every case query."""
    return select(Case).where(case_visibility(actor))


def can_administer(actor: Actor) -> bool:
    return actor.has(Role.ADMINISTRATOR)
