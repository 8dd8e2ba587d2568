"""On the demo operation: the planted rings are found as networks, and nobody sees beyond their extract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.conftest import DemoDB
from dragonnet.app import create_app
from dragonnet.config import Settings
from dragonnet.demo import DEMO_PASSWORD, planted_networks
from dragonnet.linkage import extract as linkage_extract
from dragonnet.linkage import routes, service
from dragonnet.linkage.networks import Network
from dragonnet.policy.access import Actor, case_visibility, visible_parties
from dragonnet.storage import arrow
from dragonnet.storage.arrow import arrow_reader
from dragonnet.storage.linkage_models import LinkageRun
from dragonnet.storage.models import Case, User

KEY = b"test-operation-linkage-key-000000"


@pytest.fixture(scope="module")
def linked(demo_db: DemoDB) -> DemoDB:
    """The demo after one resolution run and one encoded matching (once per module and backend)."""
    with Session(demo_db.engine) as session:
        service.run_resolution(session)
        service.run_pprl(session, KEY)
        session.commit()
    return demo_db


def _actor(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Actor.for_user(user)


def _best(nets: list[Network], ids: list[int]) -> Network | None:
    touching = [n for n in nets if any(i in n.cases for i in ids)]
    return max(touching, key=lambda n: sum(i in n.cases for i in ids)) if touching else None


@pytest.mark.parametrize("hub", [False, True], ids=["clear-text", "hub-encoded"])
def test_planted_rings_are_networks_across_countries(linked: DemoDB, hub: bool) -> None:
    with Session(linked.engine) as session:
        ex, nets = service.networks_for(session, None, hub=hub)
    ref = {(c.agency, c.case_ref): c.id for c in ex.cases.values()}
    for ring in planted_networks(2023):
        ids = [ref[k] for k in ring.cases if k in ref]
        net = _best(nets, ids)
        assert net is not None, ring.key
        found = sum(i in net.cases for i in ids)
        assert found >= 0.8 * len(ids), (ring.key, found, len(ids))
        assert len(net.countries) >= 2, ring.key
        assert net.size <= 2 * len(ids), (ring.key, net.size)  # the ring, not a giant component
    assert max(n.size for n in nets) <= 20


def test_run_is_stored(linked: DemoDB) -> None:
    with Session(linked.engine) as session:
        run = session.execute(select(LinkageRun)).scalars().first()
        assert run is not None and run.links > 0 and run.records > 5000


@pytest.mark.parametrize("username", ["rilo.analyst", "vn.reporter", "my.coordinator", "unodc.observer"])
def test_networks_never_reach_beyond_what_the_user_may_see(linked: DemoDB, username: str) -> None:
    with Session(linked.engine) as session:
        actor = _actor(session, username)
        cases = set(session.execute(select(Case.id).where(case_visibility(actor))).scalars())
        parties = {p.id: p.case_id for p in session.execute(visible_parties(actor)).scalars()}
        ex, nets = service.networks_for(session, actor)
    assert set(ex.cases) == cases
    assert set(ex.parties) == set(parties)
    for net in nets:
        assert set(net.cases) <= cases
        for e in net.entities:
            assert set(e.cases) <= cases
            if e.key.startswith("party:"):
                assert int(e.key.split(":")[1]) in parties
            if e.kind == "encoded_match":
                a, b = (int(x) for x in e.key.split(":")[1].split("-"))
                assert a in parties or b in parties  # a notice addressed to the user's agency


def _client(db: DemoDB, tmp_path: Path) -> TestClient:
    url = db.engine.url.render_as_string(hide_password=False)
    return TestClient(create_app(Settings(url, tmp_path, "test-secret-key", 8, False)), follow_redirects=False)


def _login(client: TestClient, username: str) -> str:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"})  # fmt: skip
    assert r.status_code == 303, r.text
    page = client.get("/operations/mekong-dragon/links")
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found
    return found.group(1)


@pytest.fixture
def analyst(linked: DemoDB, tmp_path: Path) -> Iterator[TestClient]:
    with _client(linked, tmp_path) as client:
        _login(client, "rilo.analyst")
        yield client


def test_pages_and_api(analyst: TestClient) -> None:
    page = analyst.get("/operations/mekong-dragon/networks?min_countries=2")
    assert page.status_code == 200 and 'id="networks-table"' in page.text
    graph = analyst.get("/api/v1/operations/mekong-dragon/networks/1/graph")
    assert graph.status_code == 200
    nodes = [e for e in graph.json()["elements"] if e["group"] == "nodes"]
    assert any(n["data"]["type"] == "case" for n in nodes)
    assert analyst.get("/api/v1/operations/mekong-dragon/networks/99999/graph").status_code == 404
    assert analyst.get("/operations/mekong-dragon/networks/1").status_code == 200
    routes = analyst.get("/api/v1/operations/mekong-dragon/routes?phase=5").json()
    assert routes["flows"] and all(t["p_value"] <= 1 for t in routes["changes"])
    page = analyst.get("/operations/mekong-dragon/routes?phase=5")
    assert page.status_code == 200
    # The route map: an SVG image of the legs, described in its alt text.
    assert 'id="route-map" src="data:image/svg+xml;base64,' in page.text and " to " in page.text


def test_decisions_need_both_parties_visible_and_are_kept(linked: DemoDB, tmp_path: Path) -> None:
    with _client(linked, tmp_path) as client:
        csrf = _login(client, "vn.reporter")
        with Session(linked.engine) as session:
            actor = _actor(session, "vn.reporter")
            rows = service.review_links(session, actor)
            other = session.execute(select(User).where(User.username == "th.reporter")).scalar_one()
            foreign = next(iter(service.extract(session, Actor.for_user(other)).parties))
        assert rows, "vn.reporter should have links to review"
        left, right = rows[0].left.id, rows[0].right.id
        r = client.post("/operations/mekong-dragon/links/decide",
                        data={"left": left, "right": right, "decision": "reject", "csrf_token": csrf})  # fmt: skip
        assert r.status_code == 303
        r = client.post("/operations/mekong-dragon/links/decide",
                        data={"left": left, "right": foreign, "decision": "confirm", "csrf_token": csrf})  # fmt: skip
        assert r.status_code == 404
        r = client.post("/operations/mekong-dragon/links/decide",
                        data={"left": left, "right": right, "decision": "reject", "csrf_token": "forged"})  # fmt: skip
        assert r.status_code == 403
    with Session(linked.engine) as session:
        assert service.decisions(session)[(min(left, right), max(left, right))] == "reject"
        ex = service.extract(session, None)
        assert (min(left, right), max(left, right)) not in service.party_links(session, ex)


@pytest.mark.parametrize("username", [None, "vn.reporter", "unodc.observer"])
def test_extract_reads_the_same_through_adbc_and_the_cursor(
    linked: DemoDB, username: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case table read by ADBC (SQLite: in its child process) is the one the driver's cursor reads, and the one
    the cases would give; routes count the same from it."""
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 0)  # the demo is small: read it by the child all the same
    with Session(linked.engine) as session:
        actor = _actor(session, username) if username else None
        with arrow_reader(session) as reader:
            assert reader.path.startswith("ADBC")
        ex = linkage_extract.extract(session, actor)
        monkeypatch.setattr(linkage_extract, "arrow_reader", partial(arrow_reader, adbc=False))
        by_cursor = linkage_extract.extract(session, actor)
    assert ex.case_table is not None and by_cursor.case_table is not None and ex.cases
    assert ex.case_table.equals(by_cursor.case_table) and ex.cases == by_cursor.cases
    assert routes.extract_table(ex).equals(routes.case_table(ex.cases.values()))
    by_hand = linkage_extract.Extract(ex.scope, cases=ex.cases)
    assert routes.flows(ex) == routes.flows(by_hand) and routes.flows(ex, phase=5)
