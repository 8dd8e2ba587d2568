"""The access policy against an independent oracle, over every role x agency x sharing level x status."""

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import CaseStatus, Role, SharingLevel
from dragonnet.policy.access import ANONYMOUS, Actor, case_visibility, nominal_visibility
from dragonnet.storage.models import Agency, Case, CaseShare, Operation, Phase

AGENCIES = [("VN-CUS", "VN"), ("VN-POL", "VN"), ("TH-CUS", "TH"), ("RILO-AP", None), ("TRAFFIC", None)]


def _world(session: Session) -> dict[str, Agency]:
    op = Operation(slug="op", name="Op", description="", scope=["drug"])
    op.phases = [Phase(number=1, name="Phase I", start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31))]
    session.add(op)
    agencies = {code: Agency(code=code, name=code, kind="customs", country=c) for code, c in AGENCIES}
    session.add_all(agencies.values())
    session.flush()
    n = 0
    for owner, level, status in itertools.product(("VN-CUS", "TH-CUS"), SharingLevel, CaseStatus):
        for named in (None, "TH-CUS", "VN-POL"):
            if named == owner:
                continue
            n += 1
            case = Case(
                operation=op, phase=op.phases[0], reporting_agency=agencies[owner], case_ref=f"C{n}",
                seizure_date=dt.date(2023, 5, 1), place_country=agencies[owner].country or "VN",
                sharing_level=level.value, status=status.value,
            )  # fmt: skip
            if named:
                case.shares = [CaseShare(agency_id=agencies[named].id, nominal=(level == SharingLevel.RED))]
            session.add(case)
    session.flush()
    return agencies


def _oracle(actor: Actor, case: Case, agencies_by_id: dict[int, Agency]) -> tuple[bool, bool]:
    """The rules of dragonnet.policy.access written out case by case (non-nominal, nominal)."""
    if actor.agency_id is None:
        return False, False
    roles = actor.roles
    observer_only = roles == {"partner_observer"}
    owner = agencies_by_id[case.reporting_agency_id]
    if owner.id == actor.agency_id:
        return True, not observer_only  # partner observers never see nominal data
    if case.status == "draft":
        return False, False
    named = {s.agency_id: s.nominal for s in case.shares}
    is_named = actor.agency_id in named
    level = case.sharing_level
    if observer_only:
        return level == "clear", False
    sees = (
        level in ("clear", "green")
        or (level == "amber" and (is_named or "regional_analyst" in roles
                                  or ("national_coordinator" in roles and owner.country == actor.country)))
        or (level == "red" and is_named)
    )  # fmt: skip
    return sees, sees and named.get(actor.agency_id, False)


ROLE_SETS = [
    {Role.REPORTER.value},
    {Role.NATIONAL_COORDINATOR.value},
    {Role.REGIONAL_ANALYST.value},
    {Role.PARTNER_OBSERVER.value},
    {Role.ADMINISTRATOR.value},
]


def test_visibility_matches_the_oracle(session: Session) -> None:
    agencies = _world(session)
    by_id = {a.id: a for a in agencies.values()}
    cases = list(session.execute(select(Case)).scalars())
    checked = leaks = misses = 0
    for code, roles in itertools.product(agencies, ROLE_SETS):
        a = agencies[code]
        actor = Actor(1, "u", a.id, a.code, a.country, frozenset(roles))
        seen = set(session.execute(select(Case.id).where(case_visibility(actor))).scalars())
        seen_nominal = set(session.execute(select(Case.id).where(nominal_visibility(actor))).scalars())
        for case in cases:
            expect, expect_nominal = _oracle(actor, case, by_id)
            checked += 1
            leaks += (case.id in seen and not expect) + (case.id in seen_nominal and not expect_nominal)
            misses += (expect and case.id not in seen) + (expect_nominal and case.id not in seen_nominal)
    assert checked == len(agencies) * len(ROLE_SETS) * len(cases)
    assert (leaks, misses) == (0, 0)


def test_anonymous_sees_nothing(session: Session) -> None:
    _world(session)
    assert session.execute(select(Case.id).where(case_visibility(ANONYMOUS))).first() is None


@pytest.mark.parametrize("level", ["amber+strict", "red"])
def test_strict_levels_never_reach_regional_analysts(session: Session, level: str) -> None:
    agencies = _world(session)
    rilo = agencies["RILO-AP"]
    analyst = Actor(1, "a", rilo.id, rilo.code, None, frozenset({"regional_analyst", "administrator"}))
    hits = session.execute(select(Case.id).where(case_visibility(analyst), Case.sharing_level == level)).all()
    assert hits == []
