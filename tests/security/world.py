"""A world for the security tests: the web seed plus a fourth agency, more users, and canary cases.

Every case of every agency x sharing level x status carries canary strings in every text field: the
non-nominal canary `NNC<n>Z` (case, items, containers/vessels) and the nominal canary `NMC<n>Z` (parties,
phones, e-mails, passports). A response shown to an actor must never contain the canary of a record the
oracle below says the actor may not see.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from unittest import mock

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.intake import uploads
from dragonnet.intake.headers import ITEM_COLUMNS
from dragonnet.messaging import alerts, bulletins, files, watchlists
from dragonnet.operation.service import add_agency, add_participant, phase_for_date
from dragonnet.policy import tokens
from dragonnet.policy.access import Actor
from dragonnet.policy.passwords import hash_password
from dragonnet.policy.users import create_user
from dragonnet.storage.curation_models import CurationMapping, CurationValue
from dragonnet.storage.models import Agency, ApiToken, Case, CaseIdentifier, CaseShare, Item, Operation, Party, User
from dragonnet.storage.targeting_models import TargetingHit, TargetingList
from dragonnet.targeting import profile_service
from web.seed import PASSWORD, seed

EXTRA_USERS: dict[str, tuple[str, list[str]]] = {
    "vn_coord": ("VN-CUS", ["national_coordinator"]),
    "la_reporter": ("LA-CUS", ["reporter"]),
    "la_coord": ("LA-CUS", ["national_coordinator"]),
    "th_reporter2": ("TH-CUS", ["reporter"]),
}
LEVELS = ("red", "amber+strict", "amber", "green", "clear")
STATUSES = ("draft", "validated")
OWNERS = ("TH-CUS", "VN-CUS", "LA-CUS")
MEMBER_ROLES = frozenset({"reporter", "national_coordinator", "regional_analyst"})
# One container on every case: every viewer's visible cases form network 1 of the linkage pages.
SHARED_CONTAINER = "CSQU3054383"


@dataclass(frozen=True)
class CaseFact:
    id: int
    owner: str
    owner_country: str
    level: str
    status: str
    shares: dict[str, bool]  # agency code -> nominal
    nn: str  # non-nominal canary
    nm: str  # nominal canary
    created_by: str


@dataclass(frozen=True)
class MessageFact:
    """An alert or a bulletin (canary in title, details/body and its attachment's name and bytes)."""

    kind: str  # "alert" or "bulletin"
    id: int
    sender: str  # agency code
    recipients: frozenset[str]  # agency codes (alert recipients, bulletin named agencies)
    level: str
    to_all: bool
    canary: str
    attachment_id: int | None


@dataclass(frozen=True)
class OwnedFact:
    """A record of one agency (targeting list and hit) or of one user (watchlist entry, staged import)."""

    key: str  # list id, entry id or upload token
    owner: str  # agency code (targeting) or username (watchlist, upload)
    canary: str
    hit_id: int | None = None


@dataclass(frozen=True)
class MatchFact:
    """A match of the privacy-preserving linkage between the parties of two cases of different agencies."""

    id: int  # the notice's number
    a: int  # index in World.cases
    b: int


@dataclass(frozen=True)
class RequestFact:
    id: int
    notice: int
    requester: str  # agency code
    owner: str
    status: str


@dataclass(frozen=True)
class ScreeningNoticeFact:
    """A screening's hit on a case the screening agency may not see (linkage.screening.notices)."""

    id: int
    requester: str  # agency code: its members read the notice
    owner: str  # agency code: its members read the notice once asked
    case: int  # index in World.cases
    asked: bool


@dataclass
class World:
    slug: str
    agencies: dict[str, int] = field(default_factory=dict)
    countries: dict[str, str | None] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    user_agency: dict[str, str] = field(default_factory=dict)
    user_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    cases: list[CaseFact] = field(default_factory=list)
    tokens: dict[str, tuple[int, str]] = field(default_factory=dict)  # username -> (token id, raw write token)
    messages: list[MessageFact] = field(default_factory=list)
    targeting: list[OwnedFact] = field(default_factory=list)  # owner: agency code
    profiles: list[OwnedFact] = field(default_factory=list)  # stored risk profiles (amber+strict), owner: agency
    watch: list[OwnedFact] = field(default_factory=list)  # owner: username
    staged: list[OwnedFact] = field(default_factory=list)  # owner: username (empty without a data dir)
    matches: list[MatchFact] = field(default_factory=list)
    requests: list[RequestFact] = field(default_factory=list)
    screening_notices: list[ScreeningNoticeFact] = field(default_factory=list)

    def receives_notices(self, username: str) -> bool:
        return not self.observer_only(username)

    def notice_sides(self, username: str, m: MatchFact) -> tuple[CaseFact, CaseFact] | None:
        """(own case, other case) of a match for `username`'s agency, or None if its agency is on neither side."""
        agency = self.user_agency[username]
        a, b = self.cases[m.a], self.cases[m.b]
        if not self.receives_notices(username) or agency not in (a.owner, b.owner):
            return None
        return (a, b) if a.owner == agency else (b, a)

    def may_name(self, username: str, case: CaseFact) -> bool:
        """The matching rule (policy.matches), written out: another agency's case is named in a match only where
        its owner agreed, i.e. the reader may see it with its parties."""
        return case.owner == self.user_agency[username] or self.sees(username, case) == (True, True)

    def sees_screening_notice(self, username: str, n: ScreeningNoticeFact) -> bool:
        agency = self.user_agency[username]
        return self.receives_notices(username) and (agency == n.requester or (agency == n.owner and n.asked))

    def sees_request(self, username: str, r: RequestFact) -> bool:
        return self.receives_notices(username) and self.user_agency[username] in (r.requester, r.owner)

    # The curation loop: per agency, one mapping made for it and one value in its review queue (owner: agency).
    mappings: list[OwnedFact] = field(default_factory=list)
    queued: list[OwnedFact] = field(default_factory=list)

    def observer_only(self, username: str) -> bool:
        roles = self.user_roles[username]
        return "partner_observer" in roles and not roles & MEMBER_ROLES

    def sees_message(self, username: str, m: MessageFact) -> bool:
        """The messaging oracle (see dragonnet.policy.messaging), written out independently."""
        agency = self.user_agency[username]
        if self.observer_only(username):
            return m.level == "clear"
        if agency == m.sender or agency in m.recipients or m.level == "clear":
            return True
        member = bool(self.user_roles[username] & MEMBER_ROLES)
        return m.level == "green" and member and (m.kind == "alert" or m.to_all)

    def sees_list(self, username: str, t: OwnedFact) -> bool:
        return t.owner == self.user_agency[username] and not self.observer_only(username)

    def sees_curation(self, username: str, r: OwnedFact) -> bool:
        """The curation oracle (see dragonnet.policy.access.may_review_values): a regional analyst reviews every
        agency's values and mappings, a national coordinator its own agency's, nobody else any."""
        roles = self.user_roles[username]
        if "regional_analyst" in roles:
            return True
        return "national_coordinator" in roles and r.owner == self.user_agency[username]

    def hidden_extra(self, username: str | None) -> list[str]:
        """Canaries of the messaging, targeting, watchlist, import and curation records hidden from `username`."""
        if username is None:
            owned = (*self.targeting, *self.profiles, *self.watch, *self.staged, *self.mappings, *self.queued)
            return [m.canary for m in self.messages] + [r.canary for r in owned]
        out = [m.canary for m in self.messages if not self.sees_message(username, m)]
        out += [t.canary for t in (*self.targeting, *self.profiles) if not self.sees_list(username, t)]
        out += [r.canary for r in (*self.watch, *self.staged) if r.owner != username]
        out += [r.canary for r in (*self.mappings, *self.queued) if not self.sees_curation(username, r)]
        return out

    def sees(self, username: str, case: CaseFact) -> tuple[bool, bool]:
        """The oracle: (non-nominal visible, nominal visible), written out independently of the policy."""
        agency = self.user_agency[username]
        roles = self.user_roles[username]
        observer_only = roles == {"partner_observer"}
        if case.owner == agency:
            return True, not observer_only
        if case.status == "draft":
            return False, False
        if observer_only:
            return case.level == "clear", False
        named = agency in case.shares
        sees = (
            case.level in ("clear", "green")
            or (case.level == "amber" and (named or "regional_analyst" in roles
                                           or ("national_coordinator" in roles
                                               and case.owner_country == self.countries[agency])))
            or (case.level == "red" and named)
        )  # fmt: skip
        return sees, sees and case.shares.get(agency, False)

    def own_case(self, username: str) -> CaseFact | None:
        agency = self.user_agency[username]
        return next((c for c in self.cases if c.owner == agency), None)

    def foreign_case(self, username: str) -> CaseFact:
        return next(c for c in self.cases if not self.sees(username, c)[0])

    def visible_case(self, username: str) -> CaseFact | None:
        return next((c for c in self.cases if self.sees(username, c)[0]), None)


def actor_of(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Actor.for_user(user)


def build_world(session: Session, data_dir: Path | None = None) -> World:
    base = seed(session)
    op = session.get(Operation, base.operation_id)
    assert op is not None
    la = add_agency(session, code="LA-CUS", name="Lao Customs", kind="customs", country="LA")
    add_participant(session, op, la, "member")
    session.flush()
    known_hash = hash_password(PASSWORD) if not hasattr(build_world, "_hash") else build_world._hash  # type: ignore[attr-defined]
    build_world._hash = known_hash  # type: ignore[attr-defined]
    with mock.patch("dragonnet.policy.users.hash_password", lambda pw: known_hash):
        for username, (agency, roles) in EXTRA_USERS.items():
            create_user(session, username=username, password=PASSWORD, agency_code=agency, roles=roles,
                        display_name=username.replace("_", " ").title())  # fmt: skip
    world = World(slug=base.slug)
    for a in session.execute(select(Agency)).scalars():
        world.agencies[a.code] = a.id
        world.countries[a.code] = a.country
    for u in session.execute(select(User)).scalars():
        world.users[u.username] = u.id
        world.user_agency[u.username] = u.agency.code
        world.user_roles[u.username] = frozenset(u.role_names)
    creators = {"TH-CUS": "th_reporter", "VN-CUS": "vn_reporter", "LA-CUS": "la_reporter"}
    share_plans: list[dict[str, bool]] = [{}, {"VN-CUS": False}, {"LA-CUS": True}, {"TH-CUS": True, "UNODC": True}]
    plans = itertools.product(OWNERS, LEVELS, STATUSES, share_plans)
    for n, (owner, level, status, plan) in enumerate(plans, start=1):
        shares = {k: v for k, v in plan.items() if k != owner}
        nn, nm = f"NNC{n}Z", f"NMC{n}Z"
        agency_id = world.agencies[owner]
        day = dt.date(2024, 6, 5)
        case = Case(
            operation_id=op.id, phase_id=phase_for_date(op, day).id, reporting_agency_id=agency_id,
            case_ref=f"R{nn}", status=status, sharing_level=level, seizure_date=day,
            place_country=world.countries[owner] or "TH", place_name=f"port {nn}", conveyance_ref=f"flight {nn}",
            concealment=f"hidden {nn}", description=f"case {nn}", created_by_id=world.users[creators[owner]],
            items=[Item(position=1, commodity_class="drug", quantity=2.0, unit="kg", substance_text=f"subst {nn}",
                        taxon_text=f"taxon {nn}", quantity_text=f"2 kg {nn}", goods_description=f"goods {nn}")],
            shares=[CaseShare(agency_id=world.agencies[code], nominal=nom) for code, nom in shares.items()],
        )  # fmt: skip
        session.add(case)
        session.flush()
        party = Party(case_id=case.id, role="courier", kind="person", name=f"Person {nm}", id_number=f"P{nm}",
                      phone=f"+66{nm}", email=f"{nm}@example.org", address=f"street {nm}")  # fmt: skip
        session.add(party)
        session.flush()
        session.add_all([
            CaseIdentifier(case_id=case.id, kind="container", value=f"MSCU{nn}", normalised=f"MSCU{nn}"),
            CaseIdentifier(case_id=case.id, kind="container", value=SHARED_CONTAINER, normalised=SHARED_CONTAINER),
            CaseIdentifier(case_id=case.id, kind="phone", value=f"+84{nm}", normalised=f"84{nm}"),
            CaseIdentifier(case_id=case.id, party_id=party.id, kind="passport", value=f"PP{nm}", normalised=f"PP{nm}"),
        ])  # fmt: skip
        world.cases.append(CaseFact(case.id, owner, world.countries[owner] or "", level, status, shares, nn, nm,
                                    creators[owner]))  # fmt: skip
    session.flush()
    # One write token per user (for the API with tokens, and to have token ids to guess).
    for username in world.users:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        raw, token = tokens.create_token(session, Actor.for_user(user), user, name=f"t-{username}", scope="write")
        world.tokens[username] = (token.id, raw)
    session.flush()
    assert session.execute(select(ApiToken)).first() is not None
    _add_messages(session, world, op, data_dir)
    _add_targeting(session, world, op)
    _add_watchlists(session, world)
    _add_matches(session, world)
    _add_screening_notices(session, world, op)
    _add_curation(session, world, op)
    if data_dir is not None:
        _add_uploads(session, world, op, data_dir)
    session.flush()
    return world


# Alerts (sender, route, level) and bulletins (sender, named agencies or to all, level): every actor has one of
# each it may see and one it may not.
ALERTS = [("TH-CUS", ("TH", "VN"), "amber"), ("VN-CUS", ("VN", "LA"), "red"), ("LA-CUS", ("LA", "TH"), "amber+strict"),
          ("TH-CUS", ("TH", "LA"), "green"), ("VN-CUS", ("VN", "TH"), "clear")]  # fmt: skip
BULLETINS = [("TH-CUS", ("VN-CUS",), "red"), ("VN-CUS", ("LA-CUS",), "amber"), ("LA-CUS", ("TH-CUS",), "amber"),
             ("LA-CUS", (), "clear")]  # fmt: skip
CREATORS = {"TH-CUS": "th_reporter", "VN-CUS": "vn_reporter", "LA-CUS": "la_reporter"}


def _attach(kind: str, session: Session, actor: Actor, data_dir: Path | None, msg_id: int, canary: str) -> int | None:
    if data_dir is None:
        return None
    attach = files.attach_to_alert if kind == "alert" else files.attach_to_bulletin
    stream = io.BytesIO(f"seizure notes {canary}\n".encode())
    return attach(session, actor, data_dir, msg_id, stream, f"notes-{canary}.txt").id


def _add_messages(session: Session, world: World, op: Operation, data_dir: Path | None) -> None:
    for n, (sender, route, level) in enumerate(ALERTS, start=1):
        actor = actor_of(session, CREATORS[sender])
        canary = f"ALC{n}Z"
        alert = alerts.raise_alert(session, actor, alerts.AlertInput(
            operation_id=op.id, subject_kind="shipment", title=f"alert {canary}", origin=route[0],
            destination=route[-1], details=f"details {canary}", indicators=[f"indicator {canary}"],
            identifiers=[("flight", f"TG{n}{n}{n}")], sharing_level=level,
        ))  # fmt: skip
        att = _attach("alert", session, actor, data_dir, alert.id, canary)
        recipients = frozenset(r.agency.code for r in alert.recipients)
        world.messages.append(MessageFact("alert", alert.id, sender, recipients, level, False, canary, att))
    for n, (sender, named, level) in enumerate(BULLETINS, start=1):
        actor = actor_of(session, CREATORS[sender])
        canary = f"BLC{n}Z"
        b = bulletins.publish(session, actor, operation_id=op.id, title=f"bulletin {canary}", body=f"body {canary}",
                              sharing_level=level, to_all=not named, agencies=named)  # fmt: skip
        att = _attach("bulletin", session, actor, data_dir, b.id, canary)
        world.messages.append(MessageFact("bulletin", b.id, sender, frozenset(named), level, not named, canary, att))


def _add_targeting(session: Session, world: World, op: Operation) -> None:
    for n, (code, office) in enumerate((("TH-CUS", "THBKK"), ("VN-CUS", "VNSGN"), ("LA-CUS", "LAVTE")), start=1):
        canary = f"TGC{n}Z"
        facts = {"declaration_id": f"D-{canary}", "office_locode": office, "goods_description": f"goods {canary}",
                 "importer": f"importer {canary}", "exporter": f"exporter {canary}", "hs_code": "030289",
                 "origin_country": "NG", "gross_weight_kg": 12.5}  # fmt: skip
        hit = TargetingHit(rank=1, lane="red", random=False, score=0.9, rule_score=0.9, model_score=None,
                           declaration_id=f"D-{canary}", declaration_date=dt.date(2024, 6, 5), facts=facts,
                           rules=[{"id": f"R-{canary}", "name": f"rule {canary}", "weight": 1.0}],
                           contributions=[{"label": f"feature {canary}", "value": canary,
                                           "contribution": 0.5}])  # fmt: skip
        tl = TargetingList(agency_id=world.agencies[code], operation_id=op.id, office_locode=office, declarations=1,
                           red=1, yellow=0, profiles=[f"R-{canary}"], hits=[hit])  # fmt: skip
        session.add(tl)
        session.flush()
        world.targeting.append(OwnedFact(str(tl.id), code, canary, hit.id))
        # A stored risk profile of the agency, amber+strict: like the lists, its agency's alone.
        key = f"pf-{canary.lower()}"
        text = (f"profiles:\n  - {{id: {key}, name: profile {canary}, owner: {code}, sharing: amber+strict, "
                f"responsible: {CREATORS[code]}, conditions: [{{text: {{any: ['{canary}']}}}}]}}\n")  # fmt: skip
        profile_service.import_profiles(session, actor_of(session, CREATORS[code]), text, f"{canary}.yaml")
        world.profiles.append(OwnedFact(key, code, canary))


def _add_curation(session: Session, world: World, op: Operation) -> None:
    """Per agency: a mapping made for it alone (a national coordinator's) and a value left in its queue."""
    for n, code in enumerate(OWNERS, start=1):
        canary, queued = f"CMC{n}Z", f"CQC{n}Z"
        mapping = CurationMapping(operation_id=op.id, agency_id=world.agencies[code], scope=code, kind="taxon",
                                  text=f"bird {canary}", key=f"bird {canary.lower()}", context="", target="Aves",
                                  not_listed=False, note=f"note {canary}")  # fmt: skip
        value = CurationValue(operation_id=op.id, agency_id=world.agencies[code], kind="taxon", text=f"fish {queued}",
                              key=f"fish {queued.lower()}", context="", status="unresolved", read_as=None,
                              reason=f"unknown taxon {queued}", occurrences=1, state="open")  # fmt: skip
        session.add_all([mapping, value])
        session.flush()
        world.mappings.append(OwnedFact(str(mapping.id), code, canary))
        world.queued.append(OwnedFact(str(value.id), code, queued))


def _add_watchlists(session: Session, world: World) -> None:
    for n, username in enumerate(sorted(world.users), start=1):
        if world.observer_only(username):
            continue  # partner observers keep no watchlist
        canary = f"WLC{n}Z"
        entry = watchlists.add_entry(session, actor_of(session, username), "person", f"Watcher {canary}",
                                     f"note {canary}")  # fmt: skip
        world.watch.append(OwnedFact(str(entry.id), username, canary))


def _add_uploads(session: Session, world: World, op: Operation, data_dir: Path) -> None:
    for n, username in enumerate(sorted(world.users), start=1):
        canary = f"UPC{n}Z"
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(ITEM_COLUMNS)
        row = {"case_ref": f"R-{canary}", "reporting_agency": world.user_agency[username], "seizure_date": "2024-06-05",
               "place_name": f"port {canary}", "place_country": "TH", "commodity_class": "drug", "quantity": "2",
               "unit": "kg", "substance": f"subst {canary}", "description": f"upload {canary}"}  # fmt: skip
        writer.writerow([row.get(c, "") for c in ITEM_COLUMNS])
        bad = {
            **row,
            "case_ref": f"R2-{canary}",
            "seizure_date": "31/31/2024",
            "commodity_class": "nonsense",
            "quantity": "many",
        }  # a row with errors: the error report quotes its values
        writer.writerow([bad.get(c, "") for c in ITEM_COLUMNS])
        upload = uploads.stage(session, actor_of(session, username), op, buf.getvalue().encode(),
                               f"cases-{canary}.csv", data_dir)  # fmt: skip
        world.staged.append(OwnedFact(upload.token, username, canary))


# Matches of the privacy-preserving linkage between validated cases of two agencies, pairing their cases in
# order (every level and share plan meets every other), and requests in every state: TH asks VN for a RED case
# (VN's coordinator accepts: the case is shared with TH, with its parties), VN asks LA (declined), LA asks TH
# (pending), TH asks VN for an AMBER+STRICT case (pending: it cannot be shared).
PAIRS = (("TH-CUS", "VN-CUS", 0), ("VN-CUS", "LA-CUS", 3), ("LA-CUS", "TH-CUS", 7))


def _add_matches(session: Session, world: World) -> None:
    from dragonnet.linkage import disclosure
    from dragonnet.storage.linkage_models import PprlMatch

    parties = {p.case_id: p.id for p in session.execute(select(Party)).scalars()}
    validated = {o: [i for i, c in enumerate(world.cases) if c.owner == o and c.status == "validated"] for o in OWNERS}
    for first, second, shift in PAIRS:
        left, right = validated[first], validated[second]
        for n, i in enumerate(left):
            j = right[(n + shift) % len(right)]
            a, b = world.cases[i], world.cases[j]
            m = PprlMatch(party_a_id=parties[a.id], party_b_id=parties[b.id], case_a_id=a.id, case_b_id=b.id,
                          agency_a_id=world.agencies[a.owner], agency_b_id=world.agencies[b.owner],
                          dice=0.9)  # fmt: skip
            session.add(m)
            session.flush()
            world.matches.append(MatchFact(m.id, i, j))

    def find(requester: str, owner: str, level: str, plan: dict[str, bool]) -> MatchFact:
        for m in world.matches:
            sides = {world.cases[m.a].owner: world.cases[m.a], world.cases[m.b].owner: world.cases[m.b]}
            theirs = sides.get(owner)
            if requester in sides and theirs is not None and theirs.level == level and theirs.shares == plan:
                return m
        raise AssertionError(f"no match {requester} -> {owner} {level} {plan}")

    plan = [("TH-CUS", "VN-CUS", "red", {}, "th_reporter", "accept", "vn_coord"),
            ("VN-CUS", "LA-CUS", "green", {}, "vn_reporter", "decline", "la_coord"),
            ("LA-CUS", "TH-CUS", "amber", {}, "la_reporter", None, None),
            ("TH-CUS", "VN-CUS", "amber+strict", {}, "th_reporter", None, None)]  # fmt: skip
    for requester, owner, level, shares, asker, decision, decider in plan:
        m = find(requester, owner, level, shares)
        r = disclosure.request_disclosure(session, actor_of(session, asker), m.id, f"needed for the case of {asker}")
        status = "pending"
        if decision is not None and decider is not None:
            status = disclosure.decide_request(session, actor_of(session, decider), r.id, decision,
                                               f"decided by {decider} for the test").status  # fmt: skip
        if status == "accepted":
            index = m.a if world.cases[m.a].owner == owner else m.b
            fact = world.cases[index]
            world.cases[index] = replace(fact, shares={**fact.shares, requester: True})
        world.requests.append(RequestFact(r.id, m.id, requester, owner, status))


def _add_screening_notices(session: Session, world: World, op: Operation) -> None:
    """Per pair of agencies, a screening notice on a validated RED case the screening agency may not see (made as
    a screening makes it, without running one), with a row written by the screener (no canary: its own input);
    the first one of each pair is asked for (pending), so its owner reads it too. Every other pair's notices come
    from an encoded list (no clear value: the row's number, kind and digests), so the owner's pages of both kinds
    are in the matrix."""
    from dragonnet.linkage.screening import notices
    from dragonnet.storage.linkage_models import ScreeningNotice

    parties = {p.case_id: p.id for p in session.execute(select(Party)).scalars()}
    for k, (requester, owner, _shift) in enumerate(PAIRS):
        hidden = [i for i, c in enumerate(world.cases) if c.owner == owner and c.status == "validated"
                  and c.level == "red" and requester not in c.shares]  # fmt: skip
        for n, index in enumerate(hidden[:2]):
            case = world.cases[index]
            data = {"name": f"Listed Person {k}{n}", "kind": "person", "nationality": "TH"}
            key = notices.row_key(data)
            if k % 2:
                key = notices.encoded_row_key("person", bytes([k, n]) * 92, [f"name:{k:032x}"])
                data = notices.encoded_row_data(2 + n, "person", f"{k:064x}", key)
            row = ScreeningNotice(
                operation_id=op.id, requester_agency_id=world.agencies[requester],
                owner_agency_id=world.agencies[owner], owner_party_id=parties[case.id], owner_case_id=case.id,
                row_key=key, row_number=2 + n, row_data=data, list_name=f"list {k}.csv",
            )  # fmt: skip
            session.add(row)
            session.flush()
            if n == 0:
                notices.request_disclosure(session, actor_of(session, CREATORS[requester]), row.id,
                                           f"screening hit of {requester} to check")  # fmt: skip
            world.screening_notices.append(ScreeningNoticeFact(row.id, requester, owner, index, n == 0))
