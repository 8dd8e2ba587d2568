"""A small operation for the messaging tests: the web seed (TH, VN, UNODC) plus Malaysia, Nigeria (not
taking part) and the regional intelligence office, with contact-point officers who have e-mail addresses.

| agency | country | part in the operation | users |
|--------|---------|-----------------------|-------|
| VN-CUS | VN      | member                | vn_reporter (sender of the scenario's alert) |
| MY-CUS | MY      | member                | my_cp (Port Klang contact point), my_coord |
| NG-CUS | NG      | none                  | ng_officer |
| RILO   | -       | coordinator (regional office) | rilo_analyst |
| TH-CUS | TH      | member, off the route | th_reporter |
| UNODC  | -       | observer              | observer (partner observer) |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dbtemplates import TEMPLATES
from dragonnet.app import create_app
from dragonnet.operation.service import add_agency, add_contact_point, add_participant, get_operation
from dragonnet.policy.passwords import hash_password
from dragonnet.policy.users import create_user
from dragonnet.storage.db import make_engine, session_scope
from web.seed import PASSWORD, SLUG, Seeded, seed
from web.webtest import logged_in, settings_for

EXTRA_USERS: dict[str, tuple[str, list[str], str | None]] = {
    "my_cp": ("MY-CUS", ["reporter"], "my.cp@customs.example"),
    "my_coord": ("MY-CUS", ["national_coordinator"], None),
    "ng_officer": ("NG-CUS", ["reporter"], "ng@customs.example"),
    "rilo_analyst": ("RILO", ["regional_analyst"], "analyst@rilo.example"),
}


def seed_messaging(session: Session) -> Seeded:
    seeded = seed(session)
    op = get_operation(session, SLUG)
    my = add_agency(session, code="MY-CUS", name="Royal Malaysian Customs", kind="customs", country="MY")
    ng = add_agency(session, code="NG-CUS", name="Nigeria Customs Service", kind="customs", country="NG")
    rilo = add_agency(session, code="RILO", name="RILO Asia/Pacific", kind="regional_office", country=None)
    add_participant(session, op, my, "member")
    add_participant(session, op, rilo, "coordinator")
    cp = add_contact_point(session, my, code="PKG", name="Port Klang", kind="seaport", locode="MYPKG")
    session.flush()
    known = hash_password(PASSWORD)
    with mock.patch("dragonnet.policy.users.hash_password", lambda pw: known):
        for username, (agency, roles, email) in EXTRA_USERS.items():
            create_user(
                session,
                username=username,
                password=PASSWORD,
                agency_code=agency,
                roles=roles,
                email=email,
                contact_point_id=cp.id if username == "my_cp" else None,
            )
    seeded.agencies.update({"MY-CUS": my.id, "NG-CUS": ng.id, "RILO": rilo.id})
    return seeded


@dataclass
class World:
    url: str
    seeded: Seeded
    app: FastAPI
    data_dir: Path

    def session(self) -> Session:
        engine = make_engine(self.url)
        return Session(engine, expire_on_commit=False)


def _seed_messaging_database(db_url: str) -> Seeded:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        seeded = seed_messaging(session)
    engine.dispose()
    return seeded


# Seeded once per worker and backend, cloned for every test (tests/dbtemplates.py).
TEMPLATES.register("messaging", _seed_messaging_database)


@pytest.fixture
def db_template(db_template: str, request: pytest.FixtureRequest) -> str:
    return "messaging" if "world" in request.fixturenames else db_template


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    cloned: Seeded | None = TEMPLATES.payload_of(db_url, "messaging")
    seeded = cloned if cloned is not None else _seed_messaging_database(db_url)
    data_dir = tmp_path / "data"
    app = create_app(settings_for(db_url, data_dir))
    yield World(db_url, seeded, app, data_dir)
    app.state.engine.dispose()


@pytest.fixture
def login_as(world: World) -> Iterator[Callable[[str], TestClient]]:
    """A fresh logged-in client (its own cookie jar) per call."""
    made: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(world.app, follow_redirects=False, raise_server_exceptions=False)
        made.append(client)
        return logged_in(client, username)

    yield make
    for c in made:
        c.close()


def api_headers(client: TestClient) -> dict[str, str]:
    """The CSRF header cookie-authenticated API writes need (read from a page's logout form)."""
    from web.webtest import csrf_token

    return {"X-CSRF-Token": csrf_token(client.get("/inbox").text)}


SCENARIO_ALERT = {
    "operation": SLUG,
    "subject_kind": "shipment",
    "title": "Container of pangolin scales declared as frozen fish",
    "origin": "NG",
    "transits": ["Malaysia"],
    "destination": "VN",
    "expected_arrival": "2024-06-14T08:00:00+00:00",
    "transport_mode": "sea_container",
    "identifiers": [
        {"kind": "container", "value": "MSCU 123456-6"},
        {"kind": "bill_of_lading", "value": "MEDUNG123456"},
        {"kind": "vessel", "value": "IMO 9074729"},
    ],
    "indicators": ["first shipment of a new consignee", "declared weight 20% below the container's"],
    "sharing_level": "amber",
    "urgency": "immediate",
}
