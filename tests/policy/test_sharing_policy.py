"""Items, parties, identifiers and sharing through the policy, against the canary world's oracle."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import NotFound, ValidationError
from dragonnet.policy import access, sharing
from dragonnet.policy.access import PermissionDenied, suppress_cells, suppress_small
from dragonnet.storage.models import AuditEvent, Case, Party
from security.world import World, actor_of, build_world

ACTORS = ["th_reporter", "th_coord", "vn_reporter", "vn_coord", "la_reporter", "analyst", "observer", "admin"]


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


def test_items_parties_identifiers_match_the_oracle(session: Session, world: World) -> None:
    checked = 0
    for who in ACTORS:
        actor = actor_of(session, who)
        items = {i.case_id for i in session.execute(access.visible_items(actor)).scalars()}
        parties = {p.case_id for p in session.execute(access.visible_parties(actor)).scalars()}
        idents = session.execute(access.visible_identifiers(actor)).scalars().all()
        for case in world.cases:
            sees, nominal = world.sees(who, case)
            assert (case.id in items) == sees, (who, case)
            assert (case.id in parties) == nominal, (who, case)
            kinds = {i.kind for i in idents if i.case_id == case.id}
            assert kinds == ({"container"} if sees else set()) | ({"phone", "passport"} if nominal else set())
            checked += 1
    assert checked == len(ACTORS) * len(world.cases)
    # Partner observers never see nominal data, even when named with a nominal share (UNODC is).
    observer = actor_of(session, "observer")
    assert session.execute(access.visible_parties(observer)).first() is None


def test_one_cases_parties_in_one_statement_match_the_oracle(session: Session, world: World) -> None:
    """`nominal_parties`: None where the actor may not see the case's nominal data (or the case, or there is no
    such case), else exactly its parties in id order, [] for a case without any."""
    first = session.get(Case, world.cases[0].id)
    assert first is not None
    partyless = Case(operation_id=first.operation_id, phase_id=first.phase_id, status="draft", case_ref="R-NONE",
                     reporting_agency_id=first.reporting_agency_id, sharing_level=first.sharing_level,
                     seizure_date=first.seizure_date, place_country=first.place_country)  # fmt: skip
    session.add_all([partyless, Party(case_id=first.id, role="owner", kind="company", name="Second party")])
    session.flush()
    fact = world.cases[0]
    facts = {c.id: c for c in world.cases} | {partyless.id: replace(fact, id=partyless.id, status="draft", shares={})}
    answers = {"none": 0, "empty": 0, "one": 0, "two": 0}
    for who in ACTORS:
        actor = actor_of(session, who)
        for case_id in [*facts, 10**9]:
            got = access.nominal_parties(session, actor, case_id)
            if case_id not in facts or not world.sees(who, facts[case_id])[1]:
                assert got is None, (who, case_id)
                answers["none"] += 1
                continue
            expected = session.execute(select(Party.id).where(Party.case_id == case_id).order_by(Party.id)).scalars()
            assert got is not None and [p.id for p in got] == list(expected), (who, case_id)
            answers[("empty", "one", "two")[len(got)]] += 1
    assert all(answers.values()), answers  # each kind of answer was met


def test_share_and_unshare(session: Session, world: World) -> None:
    case = next(c for c in world.cases if c.owner == "VN-CUS" and c.level == "red" and c.status == "validated"
                and not c.shares)  # fmt: skip
    la = actor_of(session, "la_reporter")
    assert not world.sees("la_reporter", case)[0]
    with pytest.raises(NotFound):
        access.get_case(session, la, case.id)
    coordinator = actor_of(session, "vn_coord")
    out = sharing.share_case(session, coordinator, case.id, ["LA-CUS"], nominal=True)
    assert [(s.agency_code, s.nominal) for s in out] == [("LA-CUS", True)]
    assert access.get_case(session, la, case.id).id == case.id
    assert access.nominal_parties(session, la, case.id) is not None  # the nominal share: its parties
    sharing.unshare_case(session, coordinator, case.id, ["LA-CUS"])
    with pytest.raises(NotFound):
        access.get_case(session, la, case.id)
    session.commit()  # the entries are staged in the transaction and in the chain once it commits
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(case.id))).scalars().all()
    assert actions == ["case.share", "case.unshare"]


def test_who_may_share(session: Session, world: World) -> None:
    th_case = next(c for c in world.cases if c.owner == "TH-CUS" and c.level == "green" and c.status == "validated")
    with pytest.raises(NotFound):  # visible (green) but not theirs: 404, not 403
        sharing.share_case(session, actor_of(session, "vn_coord"), th_case.id, ["LA-CUS"], nominal=False)
    with pytest.raises(PermissionDenied):  # own agency, but neither coordinator nor the case's reporter
        sharing.share_case(session, actor_of(session, "th_reporter2"), th_case.id, ["LA-CUS"], nominal=False)
    sharing.share_case(session, actor_of(session, "th_reporter"), th_case.id, ["LA-CUS"], nominal=False)
    with pytest.raises(ValidationError):
        sharing.share_case(session, actor_of(session, "th_coord"), th_case.id, ["TH-CUS"], nominal=False)
    with pytest.raises(ValidationError):
        sharing.share_case(session, actor_of(session, "th_coord"), th_case.id, ["XX-NOPE"], nominal=False)


def test_nominal_reads_are_audited(session: Session, world: World) -> None:
    actor = actor_of(session, "th_reporter")
    access.record_nominal_read(session, actor, world.cases[0].id, party_ids=[3, 1, 3])
    session.commit()  # staged in the transaction, chained by its commit
    ev = session.execute(select(AuditEvent).where(AuditEvent.action == "nominal.read")).scalar_one()
    assert ev.detail == {"parties": [1, 3], "purpose": "view"} and ev.actor_username == "th_reporter"


def test_small_cells_are_suppressed() -> None:
    assert [suppress_small(n) for n in (0, 1, 4, 5, 99)] == [0, None, None, 5, 99]
    # One small cell beside a published total: the next smallest is withheld too (no subtraction attack).
    assert suppress_cells({"drug": 40, "wildlife": 2, "timber": 7}) == {"drug": 40, "wildlife": None, "timber": None}
    assert suppress_cells({"drug": 40, "wildlife": 2, "timber": 3}) == {"drug": 40, "wildlife": None, "timber": None}
    assert suppress_cells({"drug": 40, "wildlife": 0}) == {"drug": 40, "wildlife": 0}
