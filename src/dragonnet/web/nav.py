"""The navigation, by role: a link appears only when its page exists and the actor's roles allow it.

Capabilities still being built are declared here with `available=False`, so switching one on is a
one-line change and nobody meets a link to a page that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass

from dragonnet.domain.vocabulary import Role
from dragonnet.i18n import N_
from dragonnet.policy.access import REPORTING_ROLES, Actor

MEMBER_ROLES = frozenset({Role.REPORTER, Role.NATIONAL_COORDINATOR, Role.REGIONAL_ANALYST, Role.ADMINISTRATOR})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str  # may contain {op} for the current operation's slug
    roles: frozenset[Role]
    available: bool = True


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("overview", N_("Overview"), "/operations/{op}", EVERYONE),
    NavItem("cases", N_("Cases"), "/operations/{op}/cases", MEMBER_ROLES),
    # Seizures are reported by an agency's reporters and national coordinators (policy.access.may_report).
    NavItem("report", N_("Report a seizure"), "/operations/{op}/report", REPORTING_ROLES),
    NavItem(
        "validate",
        N_("Validate"),
        "/operations/{op}/validate",
        frozenset({Role.NATIONAL_COORDINATOR, Role.REGIONAL_ANALYST}),
    ),
    NavItem(
        "curation",
        N_("Curation"),
        "/operations/{op}/curation",
        frozenset({Role.NATIONAL_COORDINATOR, Role.REGIONAL_ANALYST}),
    ),
    NavItem("networks", N_("Networks"), "/operations/{op}/networks", MEMBER_ROLES),
    NavItem("inbox", N_("Inbox"), "/inbox", MEMBER_ROLES),
    NavItem("alerts", N_("Alerts"), "/alerts", MEMBER_ROLES),
    NavItem("targeting", N_("Targeting"), "/targeting", MEMBER_ROLES),
    NavItem("dashboard", N_("Dashboard"), "/operations/{op}/dashboard", EVERYONE),
    NavItem("reference", N_("Reference data"), "/reference", MEMBER_ROLES),
    NavItem("admin", N_("Administration"), "/admin", frozenset({Role.ADMINISTRATOR, Role.NATIONAL_COORDINATOR})),
)


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str
    href: str
    badge: int | None = None  # e.g. the inbox's unread messages


def navigation(actor: Actor, operation_slug: str | None, badges: dict[str, int] | None = None) -> list[NavLink]:
    """The links `actor` sees, with their badges. Partner observers (no member role) see only what is open to
    everyone: no link to a page where they could not act."""
    links: list[NavLink] = []
    for item in NAV_ITEMS:
        if not item.available or not any(actor.has(r) for r in item.roles):
            continue
        if actor.is_observer_only and item.roles != EVERYONE:
            continue
        if "{op}" in item.path:
            # Without a current operation, "/" leads to the first one.
            href = item.path.format(op=operation_slug) if operation_slug else "/"
        else:
            href = item.path
        links.append(NavLink(item.key, item.label, href, (badges or {}).get(item.key)))
    return links
