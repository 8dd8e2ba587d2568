"""`GET /api/v1/cases` reads its page with Core selects and encodes it once (`queries.list_cursor`, no ORM object
per case or item): its answers must be byte for byte those of the ORM path it replaced (`case_query`'s objects,
`summary` per case, a `CaseListOut` serialised as FastAPI serialises it), for every reader, filter and page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.api.cases import CaseListOut, summary
from dragonnet.intake import queries
from dragonnet.policy.access import Actor
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import Case, Operation, User
from intake.webcases import api_client, case_body
from web.seed import SLUG, USERS, Seeded

_LIST_OUT = TypeAdapter(CaseListOut)

# (phase, status, commodity, country, q), as the route passes them to `CaseFilters`
FILTERS: list[dict[str, Any]] = [
    {},
    {"phase": 1},
    {"phase": 2, "commodity": "drug"},
    {"phase": 3},  # no such phase: nothing
    {"status": "draft"},
    {"commodity": "timber"},
    {"country": "Thailand"},
    {"country": "VN", "status": "validated"},
    {"q": "list-"},
    {"q": "ice"},  # an item's substance
    {"q": "100%_\\"},  # LIKE's own characters are taken literally
]


def _orm_answer(db_url: str, username: str, params: dict[str, Any], cursor: str | None, limit: int) -> bytes:
    """The page as the ORM path answered it."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            user = session.execute(select(User).where(User.username == username)).scalar_one()
            operation = session.execute(select(Operation).where(Operation.slug == SLUG)).scalar_one()
            filters = queries.CaseFilters(params.get("phase"), params.get("status"), params.get("commodity"),
                                          params.get("country"), params.get("q"))  # fmt: skip
            query = queries.case_query(Actor.for_user(user), operation, filters)
            if cursor:
                query = query.where(Case.id < queries.decode_cursor(cursor))
            cases = list(session.execute(query.order_by(Case.id.desc()).limit(limit + 1)).scalars())
            more = len(cases) > limit
            cases = cases[:limit]
            next_cursor = queries.encode_cursor(cases[-1].id) if more and cases else None
            page = CaseListOut(items=[summary(c) for c in cases], next_cursor=next_cursor)
            return _LIST_OUT.dump_json(_LIST_OUT.validate_python(page))
    finally:
        engine.dispose()


def test_list_answers_byte_for_byte_as_the_orm_path(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    th, headers = api_client(app_client, "th_reporter")
    made = [
        case_body("TH-LIST-1", sharing_level="amber"),
        case_body("TH-LIST-2", seizure_date="2024-03-10", items=[
            {"commodity_class": "wildlife", "taxon": "pangolin scales", "quantity": 3, "unit": "kg"},
            {"commodity_class": "wildlife", "taxon": "Manis javanica", "quantity": 2, "unit": "kg"},
            {"commodity_class": "drug", "substance": "heroin", "quantity": 1, "unit": "kg"},
        ]),
        case_body("TH-LIST-3", place_country="VN", place_locode="VNSGN", description="100%_\\ pure"),
    ]  # fmt: skip
    for n, body in enumerate(made):
        created = th.post("/api/v1/cases", json={**body, "submit": n != 1}, headers=headers)
        assert created.status_code == 201, created.text
    readers = {"th_reporter": th} | {name: api_client(app_client, name)[0] for name in USERS if name != "th_reporter"}
    pages = 0
    for username, client in readers.items():
        for params in FILTERS:
            for limit in (2, 50):
                cursor = None
                while True:
                    sent = {"operation": SLUG, "limit": limit, **params} | ({"cursor": cursor} if cursor else {})
                    answer = client.get("/api/v1/cases", params=sent)
                    assert answer.status_code == 200, (username, sent, answer.text)
                    assert answer.headers["content-type"] == "application/json"
                    assert answer.content == _orm_answer(db_url, username, params, cursor, limit), (username, sent)
                    pages += 1
                    cursor = answer.json()["next_cursor"]
                    if cursor is None:
                        break
    assert pages > 2 * len(readers) * len(FILTERS)  # some filters took several pages of two


def test_list_filters_keep_what_they_say(app_client: TestClient, seeded_db: Seeded) -> None:
    """Each filter checked against the whole unfiltered list (the ORM comparison above cannot see a filter that
    both paths share): a phase filter keeps exactly the cases of that phase, a commodity filter those with it."""
    th, _ = api_client(app_client, "th_reporter")
    everything = th.get("/api/v1/cases", params={"operation": SLUG, "limit": 200}).json()["items"]
    assert {c["phase"] for c in everything} == {1, 2}
    for phase in (1, 2):
        kept = th.get("/api/v1/cases", params={"operation": SLUG, "limit": 200, "phase": phase}).json()["items"]
        assert kept == [c for c in everything if c["phase"] == phase] and kept
    assert th.get("/api/v1/cases", params={"operation": SLUG, "phase": 3}).json() == {"items": [], "next_cursor": None}
    drugs = th.get("/api/v1/cases", params={"operation": SLUG, "limit": 200, "commodity": "drug"}).json()["items"]
    assert drugs == [c for c in everything if "drug" in c["commodity_classes"]] and drugs
    assert all(c["commodity_classes"] == sorted(set(c["commodity_classes"])) for c in everything)
