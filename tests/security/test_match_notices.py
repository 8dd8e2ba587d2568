"""Two-step matching (policy.matches): a hit names only the other agency; the other case is revealed only when its
owner accepts a request; every step is audited and in both agencies' inboxes. Through the service, the API, the
pages and the CLI, on both backends (the canary world of the access matrix: security.world._add_matches)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.cli.linkage import linkage_app
from dragonnet.errors import ValidationError
from dragonnet.linkage import service
from dragonnet.policy.access import Hidden, PermissionDenied
from dragonnet.storage.db import make_engine
from dragonnet.storage.linkage_models import DisclosureRequest, PprlMatch
from dragonnet.storage.messaging_models import Notification
from dragonnet.storage.models import AuditEvent, Case, CaseShare, Party
from security.sessions import open_sessions, use
from security.world import CaseFact, MatchFact, World, actor_of


@pytest.fixture
def db(db_url: str, world: World) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _match(world: World, requester: str, owner: str, *levels: str) -> tuple[MatchFact, CaseFact, CaseFact]:
    """A match between `requester` and `owner` where the owner's case has one of `levels` (in this order of
    preference), no shares, and no request yet."""
    asked = {r.notice for r in world.requests}
    for level in levels:
        for m in world.matches:
            a, b = world.cases[m.a], world.cases[m.b]
            own, other = (a, b) if a.owner == requester else (b, a)
            if {a.owner, b.owner} == {requester, owner} and other.level == level and not other.shares \
                    and m.id not in asked:  # fmt: skip
                return m, own, other
    raise AssertionError(f"no match {requester} -> {owner} at {levels} in the world")


def _audit(db: Session, action: str) -> list[AuditEvent]:
    db.commit()  # entries are staged in the transaction and chained by its commit
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).scalars())


def _inbox(db: Session, agency_id: int, kind: str) -> list[str]:
    query = select(Notification.subject).where(Notification.agency_id == agency_id, Notification.kind == kind)
    return list(db.execute(query).scalars())


def test_a_hit_names_the_agency_only_and_acceptance_reveals(db: Session, world: World) -> None:
    m, own, other = _match(world, "TH-CUS", "VN-CUS", "green")
    th = actor_of(db, "th_reporter")
    notice = service.read_notice(db, th, m.id, purpose="test")
    assert (notice.other_agency, notice.revealed, notice.status) == ("VN-CUS", None, "hit")
    assert notice.own_case_id == own.id and own.nm in notice.party_name
    # The reader sees the GREEN case itself, but the notice does not say it is the match.
    assert other.id not in {n.revealed.case_id for n in service.read_notices(db, th, purpose="t") if n.revealed}
    ex, _nets = service.networks_for(db, th)
    assert all({x.case_a, x.case_b} != {own.id, other.id} for x in ex.matches)

    made = service.request_disclosure(db, th, m.id, "the same courier crossed at Lao Bao last month")
    assert made.status == "pending" and made.sent and made.owner_agency == "VN-CUS"
    with pytest.raises(ValidationError, match="asked already"):
        service.request_disclosure(db, th, m.id, "asking twice is refused")
    assert any(f"request {made.id}" in s for s in _inbox(db, world.agencies["VN-CUS"], "disclosure_request"))
    assert any(f"request {made.id}" in s for s in _inbox(db, world.agencies["TH-CUS"], "disclosure_request"))
    assert _audit(db, "linkage.disclosure_request")[-1].detail["request"] == made.id

    with pytest.raises(PermissionDenied):
        service.decide_request(db, actor_of(db, "th_coord"), made.id, "accept")  # the asking side
    with pytest.raises(Hidden):
        service.decide_request(db, actor_of(db, "la_coord"), made.id, "accept")  # a third agency
    with pytest.raises(PermissionDenied):
        service.decide_request(db, actor_of(db, "locky"), made.id, "accept")  # a VN reporter who did not report it
    done = service.decide_request(db, actor_of(db, "vn_coord"), made.id, "accept")
    assert done.status == "accepted"
    th_id = world.agencies["TH-CUS"]
    share = db.execute(
        select(CaseShare).where(CaseShare.case_id == other.id, CaseShare.agency_id == th_id)
    ).scalar_one()
    assert share.nominal
    assert _audit(db, "case.share")[-1].object_id == str(other.id)
    assert _audit(db, "linkage.disclosure_accept")[-1].object_id == str(made.id)
    assert any("accepted" in s for s in _inbox(db, world.agencies["TH-CUS"], "disclosure_decision"))
    assert any("accepted" in s for s in _inbox(db, world.agencies["VN-CUS"], "disclosure_decision"))

    notice = service.read_notice(db, th, m.id, purpose="test")
    assert (
        notice.revealed is not None and notice.revealed.case_id == other.id and other.nm in notice.revealed.party_name
    )
    assert notice.status == "revealed"
    ex, _nets = service.networks_for(db, th)
    assert any({x.case_a, x.case_b} == {own.id, other.id} for x in ex.matches)  # the match now links the cases
    with pytest.raises(ValidationError, match="already"):
        service.request_disclosure(db, th, m.id, "nothing left to ask for")
    with pytest.raises(ValidationError, match="accepted already"):
        service.decide_request(db, actor_of(db, "vn_coord"), made.id, "decline", "too late to change my mind")


def test_decline_needs_a_reason_and_strict_cases_cannot_be_shared(db: Session, world: World) -> None:
    m, _own, _other = _match(world, "VN-CUS", "TH-CUS", "red", "amber", "green", "clear")
    made = service.request_disclosure(db, actor_of(db, "vn_reporter"), m.id, "a ring seen in both our ports")
    th_coord = actor_of(db, "th_coord")
    with pytest.raises(ValidationError, match="reason"):
        service.decide_request(db, th_coord, made.id, "decline", "")
    with pytest.raises(ValidationError, match="accept or decline"):
        service.decide_request(db, th_coord, made.id, "maybe")
    done = service.decide_request(db, th_coord, made.id, "decline", "an investigation is running: not yet")
    assert done.status == "declined" and done.decision_reason.startswith("an investigation")
    notice = service.read_notice(db, actor_of(db, "vn_reporter"), m.id, purpose="test")
    assert notice.revealed is None and notice.status == "declined" and notice.may_request
    assert any("declined" in s for s in _inbox(db, world.agencies["VN-CUS"], "disclosure_decision"))
    assert _audit(db, "linkage.disclosure_decline")

    strict, _own, other = _match(world, "VN-CUS", "LA-CUS", "amber+strict")
    made = service.request_disclosure(db, actor_of(db, "vn_reporter"), strict.id, "the same passport number")
    with pytest.raises(ValidationError, match="AMBER\\+STRICT"):
        service.decide_request(db, actor_of(db, "la_coord"), made.id, "accept")
    assert db.execute(select(CaseShare).where(CaseShare.case_id == other.id)).first() is None


def test_notices_go_to_members_only(db: Session, world: World) -> None:
    for who in ("observer", "analyst"):
        assert service.read_notices(db, actor_of(db, who), purpose="t") == []
    with pytest.raises(Hidden):
        service.read_notice(db, actor_of(db, "observer"), world.matches[0].id, purpose="t")
    foreign = next(m for m in world.matches if world.notice_sides("th_reporter", m) is None)
    with pytest.raises(Hidden):
        service.request_disclosure(db, actor_of(db, "th_reporter"), foreign.id, "not my agency's notice at all")


def test_rerun_keeps_notice_numbers_announces_hits_and_lapses_requests(db: Session, world: World) -> None:
    """The hub's run: the same person reported by TH and VN is one notice, numbered once; a pair no longer found
    is dropped and its pending request lapses."""
    key = b"test-operation-linkage-key-000000"
    th_case = next(c for c in world.cases if c.owner == "TH-CUS" and c.status == "validated")
    vn_case = next(c for c in world.cases if c.owner == "VN-CUS" and c.status == "validated")
    for case in (th_case, vn_case):
        db.add(Party(case_id=case.id, role="courier", kind="person", name="NGUYEN Van Thang", nationality="VN",
                     birth_date=dt.date(1980, 1, 2), id_number="B1234567", phone="+84912345678"))  # fmt: skip
    db.flush()
    pending = (
        db.execute(
            select(DisclosureRequest).where(
                DisclosureRequest.status == "pending", DisclosureRequest.match_id.is_not(None)
            )
        )
        .scalars()
        .all()
    )  # the requests on match notices (those on screening notices do not depend on the hub)
    assert pending
    service.run_pprl(db, key)
    found = db.execute(select(PprlMatch)).scalars().all()
    assert len(found) == 1 and {found[0].case_a_id, found[0].case_b_id} == {th_case.id, vn_case.id}
    number = found[0].id
    assert all(r.status == "lapsed" and r.match_id is None for r in pending)  # the world's made-up matches are gone
    hits = _inbox(db, world.agencies["TH-CUS"], "match_notice")
    assert any(f"notices {number}" in s for s in hits) and _inbox(db, world.agencies["VN-CUS"], "match_notice")
    assert not any("NGUYEN" in s or f"R{vn_case.nn}" in s for s in hits)
    run = _audit(db, "linkage.pprl")[-1].detail
    assert run["new"] == 1 and run["new_notices"] == [number] and run["lapsed_requests"] == len(pending)
    service.run_pprl(db, key)
    assert [m.id for m in db.execute(select(PprlMatch)).scalars()] == [number]
    assert _audit(db, "linkage.pprl")[-1].detail["new"] == 0


def _csrf(client: TestClient, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', client.get(url).text)
    assert found
    return found.group(1)


def test_pages_and_api(client: TestClient, world: World, db_url: str) -> None:
    logins = open_sessions(db_url, ["th_reporter", "vn_coord", "la_reporter"])
    m, _own, other = _match(world, "TH-CUS", "VN-CUS", "amber", "clear", "red")
    page = f"/operations/{world.slug}/notices/{m.id}"
    use(client, logins["th_reporter"])
    listing = client.get(f"/operations/{world.slug}/links")
    assert listing.status_code == 200 and f'data-notice="{m.id}"' in listing.text
    assert f"R{other.nn}" not in client.get(page).text
    token = _csrf(client, page)
    short = client.post(f"{page}/request", data={"csrf_token": token, "reason": "why"})
    assert short.status_code == 303 and "error=" in short.headers["location"]
    assert "at least" in client.get(short.headers["location"]).text
    sent = client.post(f"{page}/request", data={"csrf_token": token, "reason": "same phone in both seizures"})
    assert sent.status_code == 303
    assert client.post(f"{page}/request", data={"csrf_token": "forged", "reason": "x" * 20}).status_code == 403
    api = client.get(f"/api/v1/linkage/notices/{m.id}").json()
    assert api["status"] == "pending" and api["revealed"] is None and api["requests"][0]["sent"]
    request_id = api["requests"][0]["id"]

    use(client, logins["la_reporter"])  # a third agency: nothing there, the same as nothing at all
    assert client.get(page).status_code == 404
    assert client.get(f"/api/v1/linkage/notices/{m.id}").status_code == 404
    headers = {"X-CSRF-Token": logins["la_reporter"].csrf}
    third = client.post(f"/api/v1/linkage/requests/{request_id}/decision", json={"decision": "accept"}, headers=headers)
    missing = client.post("/api/v1/linkage/requests/987654/decision", json={"decision": "accept"}, headers=headers)
    assert third.status_code == missing.status_code == 404

    use(client, logins["vn_coord"])
    answer = client.get(page)
    assert answer.status_code == 200 and "same phone in both seizures" in answer.text
    assert f'id="decide-form-{request_id}"' in answer.text
    decided = client.post(f"/operations/{world.slug}/requests/{request_id}/decide",
                          data={"csrf_token": _csrf(client, page), "decision": "accept", "notice": m.id})  # fmt: skip
    assert decided.status_code == 303 and decided.headers["location"].endswith(f"/notices/{m.id}")

    use(client, logins["th_reporter"])
    revealed = client.get(f"/api/v1/linkage/notices/{m.id}").json()
    assert revealed["status"] == "revealed" and revealed["revealed"]["case_id"] == other.id
    assert f"R{other.nn}" in client.get(page).text
    assert client.get(f"/cases/{other.id}").status_code == 200
    headers = {"X-CSRF-Token": logins["th_reporter"].csrf}
    own_side = client.post(f"/api/v1/linkage/requests/{request_id}/decision", json={"decision": "decline",
                                                                                    "reason": "x" * 20},
                           headers=headers)  # fmt: skip
    assert own_side.status_code == 403  # the asking agency knows the request, and may not decide it


def test_cli(world: World, db_url: str) -> None:
    run = CliRunner()
    m, _own, other = _match(world, "LA-CUS", "TH-CUS", "green", "clear", "red")
    listed = run.invoke(linkage_app, ["notices", "--as", "la_reporter", "--json", "--database-url", db_url])
    assert listed.exit_code == 0, listed.output
    mine = next(n for n in json.loads(listed.output) if n["id"] == m.id)
    assert mine["other_agency"] == "TH-CUS" and mine["revealed"] is None and f"R{other.nn}" not in listed.output
    asked = run.invoke(linkage_app, ["request", str(m.id), "--as", "la_reporter", "--reason", "seen at Vientiane port",
                                     "--json", "--database-url", db_url])  # fmt: skip
    assert asked.exit_code == 0, asked.output
    request_id = json.loads(asked.output)["id"]
    bad = run.invoke(linkage_app, ["decide", str(request_id), "decline", "--as", "th_coord", "--database-url", db_url])
    assert bad.exit_code == 1 and bad.output.startswith("error: give the reason")
    refused = run.invoke(linkage_app, ["decide", str(request_id), "accept", "--as", "la_coord", "--database-url",
                                       db_url])  # fmt: skip
    assert refused.exit_code == 1 and "only the agency asked" in refused.output
    ok = run.invoke(linkage_app, ["decide", str(request_id), "accept", "--as", "th_coord", "--database-url", db_url])
    assert ok.exit_code == 0 and "accepted" in ok.output
    text = run.invoke(linkage_app, ["notices", "--as", "la_reporter", "--database-url", db_url])
    assert f"notice {m.id}: TH-CUS holds a record matching" in text.output and f"R{other.nn}" in text.output
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert s.execute(select(Case.id).where(Case.id == other.id)).scalar_one() == other.id
        assert s.execute(select(CaseShare).where(CaseShare.case_id == other.id)).scalar_one().nominal
    engine.dispose()
