"""The access-scoped extract every linkage result is computed from.

`extract(session, actor)` reads only what `actor` may see: cases through `case_visibility`, parties and
personal identifiers through the nominal rule (`visible_parties`, `visible_identifiers`), match notices of
the privacy-preserving linkage only where the actor's agency is one of the two sides and both cases are
visible. Clusters and networks are then built from this extract alone, so they cannot reveal a record the
actor could not open.

`actor=None` is the operator's full extract (the CLI on the server, which has the database anyway);
`hub=True` is what the regional hub holds: every non-draft case and non-nominal identifier, no party at all,
and every match the hub computed from encodings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.linkage import normalise
from dragonnet.linkage.resolve import PartyInput
from dragonnet.policy.access import Actor, case_visibility, identifier_is_nominal, nominal_visibility
from dragonnet.storage.linkage_models import PprlMatch
from dragonnet.storage.models import Agency, Case, CaseIdentifier, CaseTransit, Item, Party, Phase

# The reporting agency under its own alias: the policy's clauses correlate on `Agency` themselves.
ReportingAgency = aliased(Agency, name="reporting_agency")

LINK_IDENTIFIER_KINDS = ("container", "vessel", "vehicle", "phone", "email", "passport", "bank_account")


@dataclass(frozen=True)
class CaseInfo:
    id: int
    case_ref: str
    agency: str
    agency_country: str | None
    phase: int
    status: str
    seizure_date: dt.date
    place_country: str
    origin: str | None
    destination: str | None
    transits: tuple[str, ...]
    mode: str | None
    commodities: tuple[str, ...]
    products: tuple[str, ...]  # substances and taxa (normalised names)


@dataclass(frozen=True)
class PartyInfo:
    party: PartyInput
    case_id: int
    role: str


@dataclass(frozen=True)
class IdentifierInfo:
    case_id: int
    kind: str
    key: str  # the linkage key (E.164, ISO 6346 number, upper-case code)
    value: str  # as written
    party_id: int | None


@dataclass(frozen=True)
class MatchInfo:
    party_a: int
    party_b: int
    case_a: int
    case_b: int
    dice: float


@dataclass
class Extract:
    scope: str
    cases: dict[int, CaseInfo] = field(default_factory=dict)
    parties: dict[int, PartyInfo] = field(default_factory=dict)
    identifiers: list[IdentifierInfo] = field(default_factory=list)
    matches: list[MatchInfo] = field(default_factory=list)


def _case_filter(actor: Actor | None, hub: bool) -> ColumnElement[bool]:
    if actor is not None:
        return case_visibility(actor)
    if hub:
        return Case.status != CaseStatus.DRAFT.value
    return true()


def extract(session: Session, actor: Actor | None, *, operation_id: int | None = None, hub: bool = False) -> Extract:
    """What `actor` may see, in bulk (None: the operator's full extract; hub: no nominal data)."""
    scope = actor.agency_code or "?" if actor is not None else ("hub" if hub else "operator")
    out = Extract(scope=str(scope))
    where = [_case_filter(actor, hub)]
    if operation_id is not None:
        where.append(Case.operation_id == operation_id)

    rows = session.execute(
        select(
            Case.id, Case.case_ref, ReportingAgency.code, ReportingAgency.country, Phase.number, Case.status,
            Case.seizure_date, Case.place_country, Case.origin_country, Case.destination_country, Case.transport_mode,
        )
        .join(ReportingAgency, ReportingAgency.id == Case.reporting_agency_id)
        .join(Phase, Phase.id == Case.phase_id)
        .where(*where)
    ).all()  # fmt: skip
    ids = [r[0] for r in rows]
    transits: dict[int, list[str]] = {}
    commodities: dict[int, set[str]] = {}
    products: dict[int, set[str]] = {}
    if ids:
        vis = select(Case.id).where(*where).scalar_subquery()
        for cid, country in session.execute(
            select(CaseTransit.case_id, CaseTransit.country)
            .where(CaseTransit.case_id.in_(vis))
            .order_by(CaseTransit.case_id, CaseTransit.position)
        ):
            transits.setdefault(cid, []).append(country)
        for cid, klass, substance, taxon in session.execute(
            select(Item.case_id, Item.commodity_class, Item.substance, Item.taxon).where(Item.case_id.in_(vis))
        ):
            commodities.setdefault(cid, set()).add(klass)
            if substance or taxon:
                products.setdefault(cid, set()).add(str(substance or taxon))
    for r in rows:
        out.cases[r[0]] = CaseInfo(
            id=r[0], case_ref=r[1], agency=r[2], agency_country=r[3], phase=r[4], status=r[5], seizure_date=r[6],
            place_country=r[7], origin=r[8], destination=r[9], transits=tuple(transits.get(r[0], ())), mode=r[10],
            commodities=tuple(sorted(commodities.get(r[0], ()))), products=tuple(sorted(products.get(r[0], ()))),
        )  # fmt: skip

    nominal_ok: ColumnElement[bool]
    if actor is not None:
        nominal_ok = nominal_visibility(actor)
    else:
        nominal_ok = false() if hub else true()
    if not hub:
        for p, place_country in session.execute(
            select(Party, Case.place_country).join(Case, Case.id == Party.case_id).where(*where, nominal_ok)
        ):
            out.parties[p.id] = PartyInfo(
                PartyInput(p.id, p.kind, p.name, p.nationality, p.birth_date, p.id_number, p.phone, p.email,
                           place_country),
                p.case_id, p.role,
            )  # fmt: skip

    ident_ok = or_(not_(identifier_is_nominal()), nominal_ok)
    for cid, kind, value, normalised, party_id, place_country in session.execute(
        select(
            CaseIdentifier.case_id, CaseIdentifier.kind, CaseIdentifier.value, CaseIdentifier.normalised,
            CaseIdentifier.party_id, Case.place_country,
        )
        .join(Case, Case.id == CaseIdentifier.case_id)
        .where(*where, ident_ok, CaseIdentifier.kind.in_(LINK_IDENTIFIER_KINDS))
    ):  # fmt: skip
        key = normalise.identifier(kind, value, place_country) or normalise.code(normalised)
        if key:
            out.identifiers.append(IdentifierInfo(cid, kind, key, value, party_id))

    if actor is not None or hub:  # the operator links in clear text: encoded matches add nothing
        out.matches = _matches(session, actor, set(out.cases))
    return out


def _matches(session: Session, actor: Actor | None, visible_cases: set[int]) -> list[MatchInfo]:
    """Match notices: all of them for the operator and the hub; for a user, those addressed to its agency."""
    query = select(PprlMatch)
    if actor is not None:
        if actor.agency_id is None:
            return []
        query = query.where(or_(PprlMatch.agency_a_id == actor.agency_id, PprlMatch.agency_b_id == actor.agency_id))
    found = []
    for m in session.execute(query).scalars():
        if m.case_a_id in visible_cases and m.case_b_id in visible_cases:
            found.append(MatchInfo(m.party_a_id, m.party_b_id, m.case_a_id, m.case_b_id, m.dice))
    return found
