"""Targeting lists in the API and the pages: only the owning agency sees them; a seizure opens a draft case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dragonnet.reference import goods
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import Case, Party
from dragonnet.storage.targeting_models import TargetingHit, TargetingList
from dragonnet.targeting import engine, service
from targeting.helpers import build_lists
from web.seed import Seeded
from web.webtest import csrf_token, logged_in


@pytest.fixture
def list_id(db_url: str, seeded_db: Seeded, tmp_path: Path) -> int:
    return build_lists(db_url, tmp_path)


def test_owning_agency_sees_ranked_explained_list(app_client: TestClient, list_id: int) -> None:
    logged_in(app_client, "th_reporter")
    lists = app_client.get("/api/v1/targeting/lists").json()
    assert [tl["id"] for tl in lists] == [list_id]
    assert lists[0]["office_locode"] == "THBKK" and lists[0]["declarations"] == 300
    body = app_client.get(f"/api/v1/targeting/lists/{list_id}").json()
    hits = body["hits"]
    assert len(hits) == body["red"] + body["yellow"] == 9 + 15  # 3% red, 5% yellow of 300
    assert sum(h["random"] for h in hits) == 1  # 10% of the red lane, rounded up
    risk = [h for h in hits if h["lane"] == "red" and not h["random"]]
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert risk == sorted(risk, key=lambda h: -h["score"])
    assert all(len(h["contributions"]) == 3 for h in hits)
    assert any(h["rules"] for h in hits)
    page = app_client.get(f"/targeting/lists/{list_id}")
    assert page.status_code == 200
    assert "Profiles fired" in page.text and hits[0]["declaration_id"] in page.text
    # each declared HS code in HS 2022 is shown with its description (the generator's 8517.12 is HS 2017: none)
    declared = [str(h["facts"].get("hs_code") or "") for h in hits]
    in_hs = [code for code in declared if code and goods.get(code[:6])]
    assert in_hs and page.text.count('class="muted tg-hs"') == len(in_hs)
    assert app_client.get("/targeting").status_code == 200


@pytest.mark.parametrize("username", ["vn_reporter", "observer", "analyst"])
def test_other_agencies_get_404(app_client: TestClient, list_id: int, username: str) -> None:
    logged_in(app_client, username)
    assert app_client.get("/api/v1/targeting/lists").json() == []
    assert app_client.get(f"/api/v1/targeting/lists/{list_id}").status_code == 404
    assert app_client.get(f"/targeting/lists/{list_id}").status_code == 404
    token = csrf_token(app_client.get("/account").text)
    hit_id = 1  # the first entry of the only list
    answer = app_client.post(f"/api/v1/targeting/hits/{hit_id}/result", json={"result": "seizure"},
                             headers={"X-CSRF-Token": token})  # fmt: skip
    assert answer.status_code == 404
    assert app_client.get("/api/v1/targeting/lists/999999").status_code == 404


def test_anonymous_is_refused(app_client: TestClient, list_id: int) -> None:
    assert app_client.get("/api/v1/targeting/lists").status_code == 401
    assert app_client.get(f"/targeting/lists/{list_id}").status_code == 303


def test_recording_a_seizure_opens_a_linked_draft_case(app_client: TestClient, list_id: int, db_url: str) -> None:
    logged_in(app_client, "th_reporter")
    hits = app_client.get(f"/api/v1/targeting/lists/{list_id}").json()["hits"]
    first, second = hits[0], hits[1]
    page = app_client.get(f"/targeting/lists/{list_id}")
    form = {"result": "seizure", "note": "scales in the lining", "csrf_token": csrf_token(page.text)}
    answer = app_client.post(f"/targeting/hits/{first['id']}/result", data=form)
    assert answer.status_code == 303
    shown = app_client.get(f"/targeting/lists/{list_id}").text
    case_link = re.search(r'href="/cases/(\d+)"', shown)
    assert case_link
    token = csrf_token(shown)
    nothing = app_client.post(f"/api/v1/targeting/hits/{second['id']}/result", json={"result": "nothing_found"},
                              headers={"X-CSRF-Token": token})  # fmt: skip
    assert nothing.status_code == 200 and nothing.json()["case_id"] is None
    again = app_client.post(f"/api/v1/targeting/hits/{second['id']}/result", json={"result": "seizure"},
                            headers={"X-CSRF-Token": token})  # fmt: skip
    assert again.status_code == 409
    eng = make_engine(db_url)
    try:
        with session_scope(eng) as session:
            hit = session.get(TargetingHit, first["id"])
            assert hit is not None and hit.result == "seizure" and hit.case_id == int(case_link.group(1))
            case = session.get(Case, hit.case_id)
            assert case is not None
            facts = first["facts"]
            assert case.status == "draft" and case.reporting_agency.code == "TH-CUS"
            assert case.seizure_date.isoformat() == first["declaration_date"]
            assert case.place_locode == "THBKK" and case.place_country == "TH"
            assert case.detection_method == ("random" if first["random"] else "risk_profiling")
            assert case.items[0].hs_code == facts["hs_code"]
            assert case.items[0].goods_description == facts["goods_description"]
            assert case.origin_country == facts["origin_country"]
            roles = {p.role: p.name for p in session.execute(select(Party).where(Party.case_id == case.id)).scalars()}
            assert roles == {"consignee": facts["importer"], "consignor": facts["exporter"]}
            # The results feed the next training run.
            results = dict(service.recorded_results(session))
            assert results == {first["declaration_id"]: 1, second["declaration_id"]: 0}
            tl = session.get(TargetingList, list_id)
            assert tl is not None
    finally:
        eng.dispose()


def test_recorded_results_override_file_outcomes(small_parquet: Path) -> None:
    import pyarrow.parquet as pq_

    first = pq_.read_table(small_parquet).slice(0, 1).to_pylist()[0]
    flipped = 1 - int(first["outcome"])
    with engine.Workspace([small_parquet], results=[(first["declaration_id"], flipped)], threads=1) as ws:
        row = ws.con.execute("SELECT outcome FROM decl WHERE declaration_id = ?", [first["declaration_id"]]).fetchone()
    assert row == (flipped,)
