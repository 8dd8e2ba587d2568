"""`GET /api/v1/cases/{id}` reads the case with Core selects and serialises it without ORM objects
(`queries.open_case`, `api.cases.case_out_json`): its answers must be byte for byte those of the ORM path it
replaced (`get_case` + `read_parties` + `case_out`, serialised as FastAPI serialises a CaseOut), and a case the
reader may not see must answer exactly as a case that does not exist."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.api.cases import CaseOut, case_out
from dragonnet.intake.queries import read_parties
from dragonnet.policy.access import Actor, get_case
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import AuditEvent, User
from intake.webcases import api_client, case_body
from web.seed import USERS, Seeded

_CASE_OUT = TypeAdapter(CaseOut)


def _orm_answer(db_url: str, username: str, case_id: int) -> bytes:
    """The answer of the ORM path, computed in a transaction that is rolled back (it audits a nominal read)."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            user = session.execute(select(User).where(User.username == username)).scalar_one()
            actor = Actor.for_user(user)
            case = get_case(session, actor, case_id)
            body = _CASE_OUT.dump_json(_CASE_OUT.validate_python(case_out(case, read_parties(session, actor, case))))
            session.rollback()
            return body
    finally:
        engine.dispose()


def _audit_count(db_url: str, action: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_open_answers_byte_for_byte_as_the_orm_path(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    th, headers = api_client(app_client, "th_reporter")
    parties = [
        {"role": "courier", "kind": "person", "name": "Somchai Tëst 李", "nationality": "Thailand",
         "birth_date": "1990-01-02", "phone": "081 234 5678"},
        {"role": "owner", "kind": "company", "name": "Mekong Trading", "address": "1 Rd\nBangkok"},
    ]  # fmt: skip
    items = [
        {"commodity_class": "drug", "substance": "ICE", "quantity": "12,5", "unit": "kg"},
        {"commodity_class": "wildlife", "taxon": "pangolin scales", "quantity": 30, "unit": "kg",
         "hs_code": "0507.10"},
        {"commodity_class": "drug", "substance": "heroin", "quantity": "unknown", "unit": "kg"},
    ]  # fmt: skip
    made = {
        "with parties": case_body("TH-OPEN-1", parties=parties, items=items, description='ya ba "quoted" ✓'),
        "no transits, no parties": case_body("TH-OPEN-2", transit_countries=[], sharing_level="amber"),
    }
    ids = {}
    for name, body in made.items():
        created = th.post("/api/v1/cases", json={**body, "submit": True}, headers=headers)
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    ids |= {ref: seeded_db.cases[ref] for ref in ("TH-1", "TH-2", "TH-3", "VN-1")}
    # every seeded user: owner, other agencies, observer, coordinators (their country rule is a subquery over
    # agencies), analysts
    readers = {"th_reporter": th} | {name: api_client(app_client, name)[0] for name in USERS if name != "th_reporter"}
    vn = readers["vn_reporter"]
    shown = 0
    for username, client in readers.items():
        for name, case_id in ids.items():
            answer = client.get(f"/api/v1/cases/{case_id}")
            if answer.status_code == 404:
                continue
            assert answer.status_code == 200, (username, name, answer.text)
            assert answer.content == _orm_answer(db_url, username, case_id), (username, name)
            assert answer.headers["etag"] == f'"{answer.json()["version"]}"'
            assert answer.headers["content-type"] == "application/json"
            shown += 1
    assert shown >= 10
    own = th.get(f"/api/v1/cases/{ids['with parties']}").json()
    assert [p["name"] for p in own["parties"]] == ["Somchai Tëst 李", "Mekong Trading"]
    assert own["transit_countries"] == ["VN", "KH"] and own["items"][1]["hs_description"]
    assert vn.get(f"/api/v1/cases/{ids['with parties']}").json()["parties"] is None


def test_open_audits_a_nominal_read_once(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    th, headers = api_client(app_client, "th_reporter")
    body = case_body("TH-OPEN-NOM", parties=[{"name": "Nominal Person", "role": "courier"}])
    case_id = th.post("/api/v1/cases", json=body, headers=headers).json()["id"]
    before = _audit_count(db_url, "case.read_nominal")
    assert th.get(f"/api/v1/cases/{case_id}").status_code == 200
    assert _audit_count(db_url, "case.read_nominal") == before + 1
    vn, _ = api_client(app_client, "vn_reporter")  # the draft does not exist for VN: no nominal read either
    assert vn.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert _audit_count(db_url, "case.read_nominal") == before + 1


def test_a_hidden_case_answers_as_a_missing_one(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    vn, _ = api_client(app_client, "vn_reporter")
    hidden, missing = seeded_db.cases["TH-1"], 999_999  # amber+strict: TH-CUS only
    denials = _audit_count(db_url, "access.denied")
    answers = [vn.get(f"/api/v1/cases/{case_id}") for case_id in (hidden, missing)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].text.replace(str(hidden), "N") == answers[1].text.replace(str(missing), "N")
    assert sorted(answers[0].headers) == sorted(answers[1].headers) and "etag" not in answers[0].headers
    assert _audit_count(db_url, "access.denied") == denials + 2  # both refusals are in the audit log
