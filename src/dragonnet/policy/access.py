"""The access policy: every query of cases (and what hangs off them) is filtered here.

Rules (TLP 2.0 x role x agency x nominal/non-nominal):
- A case's own agency always sees it (drafts included; drafts are seen by nobody else).
- CLEAR and GREEN cases are seen by every operation member; partner observers see CLEAR only.
- AMBER: the owning agency, agencies it names, the national coordinators of its country, and the
  operation's regional analysts (the regional database is the normal recipient of AMBER reports).
- AMBER+STRICT: the owning agency only. RED: the owning agency and the agencies it names.
- Nominal data (parties, personal identifiers) is seen only by the owning agency and agencies named with
  a nominal share; partner observers never see it, whatever the share says.
Records an actor may not see do not exist for them: callers answer 404, never 403. Every refusal made
here carries an audit note (`denial`): the request's database session records it as `access.denied` after
rolling back the refused request (see dragonnet.http.deps.get_db), so every denial leaves a trace.

Administration (see docs/security.md): `administrator` is the site administrator; a national coordinator
is also the agency administrator of its own agency: it manages that agency's users (reporters and national
coordinators only, never itself, never a site administrator) and contact points.

Parties, personal identifiers and nominal reads: `visible_parties`, `visible_identifiers`, and
`record_nominal_read` which every page or API that shows parties calls. Public aggregates go through
`suppress_cells` (small-cell suppression, SMALL_CELL_THRESHOLD).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from dragonnet.domain.vocabulary import CaseStatus, IdentifierKind, Role, SharingLevel
from dragonnet.errors import DragonnetError, NotFound
from dragonnet.i18n import LazyText, english, lazy_gettext
from dragonnet.policy import audit
from dragonnet.storage.models import Agency, Case, CaseIdentifier, CaseShare, Item, Party, User


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
# Whoever runs a command on the server itself (database access: the site's operator). Audited as "system".
SYSTEM = Actor(None, "system", None, None, None, frozenset({Role.ADMINISTRATOR.value}))


def _named(agency_id: int, *, nominal: bool = False) -> ColumnElement[bool]:
    cond = and_(CaseShare.case_id == Case.id, CaseShare.agency_id == agency_id)
    if nominal:
        cond = and_(cond, CaseShare.nominal.is_(True))
    return exists(select(CaseShare.id).where(cond))


# What the visibility clauses depend on: whether the actor is logged in, its agency and country, observer-only,
# regional analyst, national coordinator. Building a clause costs ~0.5 ms of SQLAlchemy expression work, paid by
# every case query of every request; the clauses are immutable, so they are built once per distinct key.
_VisibilityKey = tuple[bool, int | None, str | None, bool, bool, bool]


def _visibility_key(actor: Actor) -> _VisibilityKey:
    return (actor.is_authenticated, actor.agency_id, actor.country, actor.is_observer_only,
            actor.has(Role.REGIONAL_ANALYST), actor.has(Role.NATIONAL_COORDINATOR))  # fmt: skip


def case_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause true exactly for the cases `actor` may see (non-nominal part)."""
    return _case_visibility(_visibility_key(actor))


def nominal_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause (over Case) true where `actor` may also see the case's nominal data."""
    return _nominal_visibility(_visibility_key(actor))


@lru_cache(maxsize=4096)
def _case_visibility(key: _VisibilityKey) -> ColumnElement[bool]:
    authenticated, agency_id, country, observer_only, analyst, coordinator = key
    if not authenticated or agency_id is None:
        return false()
    own = Case.reporting_agency_id == agency_id
    shared = Case.status != CaseStatus.DRAFT.value
    if observer_only:
        return or_(own, and_(shared, Case.sharing_level == SharingLevel.CLEAR.value))
    level = Case.sharing_level
    visible_to_members = level.in_([SharingLevel.CLEAR.value, SharingLevel.GREEN.value])
    amber_recipients: list[ColumnElement[bool]] = [_named(agency_id)]
    if analyst:
        amber_recipients.append(true())
    if coordinator and country:
        amber_recipients.append(
            exists(select(Agency.id).where(Agency.id == Case.reporting_agency_id, Agency.country == country))
        )
    amber = and_(level == SharingLevel.AMBER.value, or_(*amber_recipients))
    red = and_(level == SharingLevel.RED.value, _named(agency_id))
    return or_(own, and_(shared, or_(visible_to_members, amber, red)))


@lru_cache(maxsize=4096)
def _nominal_visibility(key: _VisibilityKey) -> ColumnElement[bool]:
    authenticated, agency_id, _country, observer_only, _analyst, _coordinator = key
    if not authenticated or agency_id is None or observer_only:
        return false()
    return or_(
        Case.reporting_agency_id == agency_id,
        and_(Case.status != CaseStatus.DRAFT.value, _named(agency_id, nominal=True)),
    )


# --- saying why, without revealing what ----------------------------------------------------------------------


def case_visibility_rule(actor: Actor) -> LazyText:
    """The case rule as it applies to `actor`, in one sentence (true of every case, so it reveals none);
    translated where a page shows it, `english()` for other uses."""
    if not actor.is_authenticated or actor.agency_id is None:
        return lazy_gettext("log in to see cases")
    agency: str | LazyText = actor.agency_code or lazy_gettext("your agency")
    if actor.is_observer_only:
        return lazy_gettext(
            "partner observers (%(agency)s) see the cases marked TLP:CLEAR only; other cases are shared with the "
            "operation's member agencies",
            agency=agency,
        )
    amber = lazy_gettext("TLP:AMBER cases shared with %(agency)s", agency=agency)
    if actor.has(Role.REGIONAL_ANALYST):
        amber = lazy_gettext("every submitted TLP:AMBER case (regional analysts)")
    elif actor.has(Role.NATIONAL_COORDINATOR) and actor.country:
        amber = lazy_gettext(
            "TLP:AMBER cases of %(country)s agencies and those shared with %(agency)s",
            country=actor.country,
            agency=agency,
        )
    return lazy_gettext(
        "you see %(agency)s's own cases, the submitted TLP:GREEN and TLP:CLEAR cases of every member, %(amber)s, "
        "and TLP:RED cases that name %(agency)s; drafts stay with their agency, TLP:AMBER+STRICT cases too",
        agency=agency,
        amber=amber,
    )


def why_case_hidden(actor: Actor, case: Case) -> str:
    """Why `actor` may not see a case whose existence they know already (e.g. the case an alert's recipient
    opened): its sharing level and that it is not shared with them; nothing of its content."""
    agency = actor.agency_code or "you"
    owner = case.reporting_agency.code if case.reporting_agency is not None else "its agency"
    level = case.sharing_level
    if case.status == CaseStatus.DRAFT.value:
        return f"a draft of {owner}: only {owner} sees it until it is submitted"
    if actor.is_observer_only and level != SharingLevel.CLEAR.value:
        return f"restricted: TLP:{level.upper()}, not shared with partner observers ({agency})"
    if level == SharingLevel.AMBER_STRICT.value:
        return f"restricted: TLP:AMBER+STRICT, {owner} only"
    return f"restricted: TLP:{level.upper()}, not shared with {agency}"


def hidden_explanation(actor: Actor, object_type: str) -> str:
    """What a 'not found' page adds: the rule that decides what `actor` sees. The same words whether the record
    exists or not, so the page reveals nothing."""
    if object_type == "case":
        return f"Either there is no such case, or it is not shared with you: {english(case_visibility_rule(actor))}."
    if object_type == "alert":
        who = "partner observers see TLP:CLEAR alerts only" if actor.is_observer_only else (
            "an alert is seen by its sender and its recipient agencies, TLP:GREEN alerts by every member and "
            "TLP:CLEAR alerts by everyone logged in")  # fmt: skip
        return f"Either there is no such alert, or it is not shared with you: {who}."
    return ""


REPORTING_ROLES = frozenset({Role.REPORTER, Role.NATIONAL_COORDINATOR})


def may_report(actor: Actor) -> bool:
    """Cases are reported and edited by reporters and national coordinators of an agency (not by analysts,
    observers or administrators alone)."""
    return actor.agency_id is not None and any(actor.has(r) for r in REPORTING_ROLES)


def visible_cases(actor: Actor) -> Select[Case]:
    """The starting point of every case query."""
    return select(Case).where(case_visibility(actor))


def can_administer(actor: Actor) -> bool:
    return actor.has(Role.ADMINISTRATOR)


# --- refusals -----------------------------------------------------------------------------------------------


def may_target(actor: Actor) -> bool:
    """Risk targeting (declarations, lists, hits): a user of an agency who is not a partner observer alone.

    They read their own agency's declaration batches and targeting lists only.
    """
    return actor.is_authenticated and actor.agency_id is not None and not actor.is_observer_only


def may_screen(actor: Actor) -> bool:
    """Screening a list (manifest, consignees, register) against the operation: a member of an agency who may
    see nominal data somewhere (not a partner observer alone). What the list is matched against is still only
    what the member may see: the parties of cases under `nominal_visibility`, declarations under `may_target`,
    the member's own watchlist."""
    return actor.is_authenticated and actor.agency_id is not None and not actor.is_observer_only


CALIBRATING_ROLES = frozenset({Role.REGIONAL_ANALYST, Role.NATIONAL_COORDINATOR, Role.ADMINISTRATOR})


def may_calibrate(actor: Actor) -> bool:
    """Seeing an operation's precision/recall curve of the match threshold: regional analysts, national
    coordinators and administrators. The curve counts only the decisions on pairs of parties the viewer may see."""
    return actor.is_authenticated and any(actor.has(r) for r in CALIBRATING_ROLES)


def may_adopt_threshold(actor: Actor) -> bool:
    """Adopting an operation's match threshold (every member's screenings and the operation's resolution runs use
    it): the same roles. A reader adopts only from the decisions they may see, and nominal data stays with the
    agencies that own it, so it is usually a national coordinator, whose agency's analysts decided the links,
    or a regional analyst with shared cases; each adoption is stored and audited with its author."""
    return may_calibrate(actor)


def may_edit_profile(actor: Actor, owner_agency_id: int) -> bool:
    """A stored risk profile is reviewed and changed by its owning agency's targeting members, or a site
    administrator."""
    if actor.has(Role.ADMINISTRATOR):
        return True
    return may_target(actor) and actor.agency_id == owner_agency_id


def may_import_profiles(actor: Actor) -> bool:
    """Risk profiles are imported by targeting members (for their agency) or a site administrator."""
    return may_target(actor) or actor.has(Role.ADMINISTRATOR)


def may_review_values(actor: Actor) -> bool:
    """The curation loop (values read by a guess or not at all, mapped to reference entries): national
    coordinators (their own agency's values) and regional analysts (every agency's)."""
    if not actor.is_authenticated or actor.agency_id is None:
        return False
    return actor.has(Role.REGIONAL_ANALYST) or actor.has(Role.NATIONAL_COORDINATOR)


def reviewed_agency(actor: Actor) -> int | None:
    """Whose values `actor` reviews: None for every agency of the operation (a regional analyst), else the id of
    the actor's own agency (a national coordinator). Callers check may_review_values first."""
    return None if actor.has(Role.REGIONAL_ANALYST) else actor.agency_id


def may_map_for(actor: Actor, agency_id: int | None) -> bool:
    """May `actor` map a value for `agency_id` (None: for the whole operation)? A regional analyst maps for any
    agency or the whole operation; a national coordinator for its own agency only."""
    if not may_review_values(actor):
        return False
    if actor.has(Role.REGIONAL_ANALYST):
        return True
    return agency_id is not None and agency_id == actor.agency_id


def audit_actor(actor: Actor) -> audit.AuditActor:
    return audit.AuditActor(actor.user_id, actor.username, actor.agency_code, actor.client_address)


class Hidden(NotFound):
    """404: the record does not exist for this actor (absent or invisible: both answer the same). `explanation`
    is the rule that decides what the actor sees (the same for a missing and a hidden record)."""

    def __init__(self, actor: Actor, object_type: str, object_id: object, message: str | None = None) -> None:
        super().__init__(message or f"no {object_type.replace('_', ' ')} {object_id}")
        self.explanation = hidden_explanation(actor, object_type)
        self.denial = audit.AuditNote(
            audit_actor(actor), "access.denied", object_type, str(object_id), {"reason": "not visible", "status": 404}
        )


class PermissionDenied(DragonnetError):
    """403: the actor knows the record (it is theirs to see) but may not do this to it."""

    def __init__(self, actor: Actor, object_type: str, object_id: object, message: str) -> None:
        super().__init__(message)
        self.denial = audit.AuditNote(
            audit_actor(actor), "access.denied", object_type, None if object_id is None else str(object_id),
            {"reason": message, "status": 403},
        )  # fmt: skip


# --- items, parties, identifiers ----------------------------------------------------------------------------

NOMINAL_IDENTIFIER_KINDS = frozenset(
    {IdentifierKind.PHONE.value, IdentifierKind.EMAIL.value, IdentifierKind.BANK_ACCOUNT.value,
     IdentifierKind.PASSPORT.value}
)  # fmt: skip


def get_case(session: Session, actor: Actor, case_id: int, *, load: Sequence[ORMOption] = ()) -> Case:
    """The case if `actor` may see it; otherwise Hidden (404), whether it exists or not. `load`: loader options
    for the relations the caller reads (loaded with the case instead of one lazy query each)."""
    case = session.execute(visible_cases(actor).where(Case.id == case_id).options(*load)).scalar_one_or_none()
    if case is None:
        raise Hidden(actor, "case", case_id)
    return case


def visible_case_row(actor: Actor, case_id: int, *columns: Any) -> Select[Any]:
    """`columns` of case `case_id` if `actor` may see it (no row otherwise: the same for a missing and a hidden
    case), then one more column, `may_see_nominal`: whether `actor` may also see the case's nominal data
    (the nominal rule folded into the same query)."""
    nominal = nominal_visibility(actor).label("may_see_nominal")
    return select(*columns, nominal).select_from(Case).where(Case.id == case_id, case_visibility(actor))


def visible_items(actor: Actor) -> Select[Item]:
    """Items of the cases `actor` may see (items are non-nominal: they follow their case)."""
    return select(Item).join(Case, Item.case_id == Case.id).where(case_visibility(actor))


def visible_parties(actor: Actor) -> Select[Party]:
    """Parties (nominal): the owning agency and agencies named with a nominal share; observers never."""
    return select(Party).join(Case, Party.case_id == Case.id).where(case_visibility(actor), nominal_visibility(actor))


def identifier_is_nominal() -> ColumnElement[bool]:
    return or_(CaseIdentifier.kind.in_(sorted(NOMINAL_IDENTIFIER_KINDS)), CaseIdentifier.party_id.is_not(None))


def visible_identifiers(actor: Actor) -> Select[CaseIdentifier]:
    """Containers, vessels and vehicles follow their case; phones, e-mails, accounts, passports and any
    identifier tied to a party follow the nominal rule."""
    return (
        select(CaseIdentifier)
        .join(Case, CaseIdentifier.case_id == Case.id)
        .where(case_visibility(actor), or_(not_(identifier_is_nominal()), nominal_visibility(actor)))
    )


def nominal_parties(session: Session, actor: Actor, case_id: int) -> list[Party] | None:
    """The case's parties (by id) if `actor` may see its nominal data, else None: one statement, the case
    outer-joined to its parties under both rules (no row: not allowed; one row without a party: none)."""
    query = (
        select(Case.id, Party)
        .outerjoin(Party, Party.case_id == Case.id)
        .where(Case.id == case_id, case_visibility(actor), nominal_visibility(actor))
        .order_by(Party.id)
    )
    rows = session.execute(query).all()
    if not rows:
        return None
    return [party for _, party in rows if party is not None]


def record_nominal_read(
    session: Session, actor: Actor, case_id: int, *, party_ids: Iterable[int] = (), purpose: str = "view"
) -> None:
    """Audit that `actor` was shown nominal data of a case (call it wherever parties are shown)."""
    audit.record(session, audit_actor(actor), "nominal.read", "case", case_id,
                 parties=sorted(set(party_ids)), purpose=purpose)  # fmt: skip


# --- aggregates ---------------------------------------------------------------------------------------------

SMALL_CELL_THRESHOLD = 5
K = TypeVar("K")


def suppress_small(n: int) -> int | None:
    """A count safe to publish: 0 or at least SMALL_CELL_THRESHOLD; None (shown '<5') otherwise."""
    return n if n == 0 or n >= SMALL_CELL_THRESHOLD else None


def suppress_cells(cells: Mapping[K, int], *, total_published: bool = True) -> dict[K, int | None]:
    """Small-cell suppression for public outputs (what `clear` figures are made of).

    Cells below the threshold are withheld; when a total is published beside them and exactly one cell
    was withheld, the smallest other non-zero cell is withheld too, so the hidden one cannot be recovered
    by subtraction. A red or amber record can therefore never be singled out by an aggregate.
    """
    out: dict[K, int | None] = {k: suppress_small(v) for k, v in cells.items()}
    hidden = [k for k, v in out.items() if v is None]
    if total_published and len(hidden) == 1:
        others = sorted((v, str(k), k) for k, v in cells.items() if out[k] is not None and v > 0)
        if others:
            out[others[0][2]] = None
    return out


# --- administration -----------------------------------------------------------------------------------------

AGENCY_ADMIN_ROLE = Role.NATIONAL_COORDINATOR
# What an agency administrator may grant, and the users it may act on (their roles must all be in here).
AGENCY_GRANTABLE = frozenset({Role.REPORTER.value, Role.NATIONAL_COORDINATOR.value})
MFA_ROLES = frozenset({Role.REGIONAL_ANALYST, Role.ADMINISTRATOR, Role.NATIONAL_COORDINATOR})


def is_site_admin(actor: Actor) -> bool:
    return actor.has(Role.ADMINISTRATOR)


def is_agency_admin(actor: Actor) -> bool:
    return actor.has(AGENCY_ADMIN_ROLE) and actor.agency_id is not None


def may_enter_admin(actor: Actor) -> bool:
    # SYSTEM (the server's console) is a site administrator without a user account.
    return is_site_admin(actor) or (actor.is_authenticated and is_agency_admin(actor))


def require_admin_area(actor: Actor, what: str = "admin") -> None:
    """The administration pages do not exist for other users (404, audited)."""
    if not may_enter_admin(actor):
        raise Hidden(actor, "admin_area", what, "There is nothing at this address.")


def require_site_admin(actor: Actor, what: str = "admin") -> None:
    if not is_site_admin(actor):
        raise Hidden(actor, "admin_area", what, "There is nothing at this address.")


def administrable_users(actor: Actor) -> Select[User]:
    """The users `actor` may see in the administration pages."""
    query = select(User).order_by(User.username)
    if is_site_admin(actor):
        return query
    if is_agency_admin(actor):
        return query.where(User.agency_id == actor.agency_id)
    return query.where(false())


def get_administrable_user(session: Session, actor: Actor, user_id: int) -> User:
    user = session.execute(administrable_users(actor).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        raise Hidden(actor, "user", user_id)
    return user


def check_user_change(actor: Actor, target: User, action: str, *, new_roles: Iterable[str] | None = None) -> None:
    """May `actor` do `action` to `target` (already known to be visible to it)? PermissionDenied if not."""
    self_change = target.id == actor.user_id
    if self_change and action in ("disable", "roles", "totp_reset", "password_reset"):
        raise PermissionDenied(actor, "user", target.id, f"you cannot {action.replace('_', ' ')} your own account here")
    if is_site_admin(actor):
        return
    if not set(target.role_names) <= AGENCY_GRANTABLE:
        raise PermissionDenied(actor, "user", target.id, "only a site administrator may change this user")
    check_grant(actor, new_roles or (), object_id=target.id)


def check_grant(actor: Actor, roles: Iterable[str], *, object_id: object = None) -> None:
    if is_site_admin(actor):
        return
    extra = sorted(set(roles) - AGENCY_GRANTABLE)
    if extra:
        raise PermissionDenied(actor, "user", object_id, f"you may not grant {', '.join(extra)}")


def check_agency_scope(actor: Actor, agency_id: int) -> None:
    """Site admins act on every agency; agency admins on their own; others on none (404)."""
    if is_site_admin(actor) or (is_agency_admin(actor) and actor.agency_id == agency_id):
        return
    raise Hidden(actor, "agency", agency_id)


def denial_detail(exc: BaseException) -> dict[str, Any] | None:
    note = getattr(exc, "denial", None)
    return note.detail if isinstance(note, audit.AuditNote) else None
