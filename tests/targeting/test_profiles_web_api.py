"""Risk profiles in the pages and the API: the report, import, review, history; who may see and change what."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from targeting.helpers import ProfileWorld, build_profile_world
from web.seed import Seeded
from web.webtest import csrf_token, logged_in

SECRET = """
profiles:
  - {id: th-secret, owner: TH-CUS, sharing: amber+strict, weight: 1.0, conditions: [{field: hs_code, eq: '1'}]}
"""


@pytest.fixture
def world(db_url: str, seeded_db: Seeded, tmp_path: Path) -> ProfileWorld:
    return build_profile_world(db_url, tmp_path)


def test_page_and_api_agree_and_lists_name_mandatory_profiles(app_client: TestClient, world: ProfileWorld) -> None:
    logged_in(app_client, "th_reporter")
    params = {"from": "2024-06-01", "to": "2024-06-30", "office": "THBKK"}
    api = app_client.get("/api/v1/targeting/profiles/report", params=params)
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["office"] == "THBKK" and body["baseline"]["inspected"] == len(world.recorded)
    assert body["lanes"]["random"]["inspected"] >= 1
    assert {p["id"] for p in body["profiles"]} == {"t-words", "t-origin", "t-value", "t-repeat", "t-horn"}
    page = app_client.get("/targeting/profiles", params=params)
    assert page.status_code == 200
    for p in body["profiles"]:
        row = page.text.split(f'data-profile="{p["id"]}"', 1)[1].split("</tr>", 1)[0]
        assert f'tg-selected">{p["selected"]}<' in row and f'tg-inspected">{p["inspected"]}<' in row
        assert f'tg-found">{p["found"]}<' in row
    horn = next(p for p in body["profiles"] if p["id"] == "t-horn")
    assert horn["mandatory"] and horn["weight"]["basis"] in ("learned", "provisional")
    assert "Random draws: the green lane" in page.text
    # A wrong filter is one clear message, not an error page.
    bad = app_client.get("/targeting/profiles", params={"from": "2024-13-01"})
    assert bad.status_code == 200 and "from: not a date" in bad.text
    assert app_client.get("/api/v1/targeting/profiles/report", params={"floor": 2}).status_code == 422
    # The list says when a mandatory profile sent a declaration to red.
    hits = app_client.get(f"/api/v1/targeting/lists/{world.list_ids['THBKK']}").json()["hits"]
    forced = [h for h in hits if h["mandatory"]]
    assert forced and all(h["lane"] == "red" for h in forced)
    listed = app_client.get(f"/targeting/lists/{world.list_ids['THBKK']}").text
    assert "mandatory profile (intelligence-led): always red" in listed


def test_review_in_the_page_and_the_api_keeps_the_history(app_client: TestClient, world: ProfileWorld) -> None:
    logged_in(app_client, "th_reporter")
    page = app_client.get("/targeting/profiles/t-origin")
    assert (
        page.status_code == 200 and 'id="review-form"' in page.text and "review due since Feb 1, 2024" in page.text
    )  # the reader's date form (English)
    form = {"csrf_token": csrf_token(page.text), "decision": "keep", "next_review": "2099-01-01", "expires": "",
            "responsible": "th_coord", "mandatory": "on", "note": "route confirmed by the RILO"}  # fmt: skip
    answer = app_client.post("/targeting/profiles/t-origin/review", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/targeting/profiles/t-origin"
    shown = app_client.get("/targeting/profiles/t-origin").text
    assert 'data-version="2"' in shown and "route confirmed by the RILO" in shown and 'id="profile-mandatory"' in shown
    refused = app_client.post("/targeting/profiles/t-origin/review", data={**form, "note": ""})
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    assert "needs a note" in app_client.get(refused.headers["location"]).text
    token = csrf_token(shown)
    retired = app_client.post("/api/v1/targeting/profiles/t-value/review", headers={"X-CSRF-Token": token},
                              json={"decision": "retire", "note": "expired, nothing found"})  # fmt: skip
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    detail = app_client.get("/api/v1/targeting/profiles/t-origin").json()
    assert [(c["version"], c["action"]) for c in detail["history"]] == [(1, "created"), (2, "reviewed")]
    assert detail["history"][1]["changes"]["mandatory"] == [None, True] and detail["mandatory"] is True
    listed = {p["id"]: p["status"] for p in app_client.get("/api/v1/targeting/profiles").json()}
    assert listed["t-value"] == "retired" and listed["t-origin"] == "active"
    report = app_client.get("/api/v1/targeting/profiles/report").json()
    assert "t-value" not in {p["id"] for p in report["profiles"]}  # retired: not reported unless asked
    with_retired = app_client.get("/api/v1/targeting/profiles/report", params={"include_retired": "true"}).json()
    assert "t-value" in {p["id"] for p in with_retired["profiles"]}


def test_import_in_the_page_and_the_api(app_client: TestClient, world: ProfileWorld) -> None:
    logged_in(app_client, "th_reporter")
    token = csrf_token(app_client.get("/targeting/profiles").text)
    made = app_client.post("/api/v1/targeting/profiles", headers={"X-CSRF-Token": token},
                           json={"yaml": SECRET, "source": "secret.yaml"})  # fmt: skip
    assert made.status_code == 200 and made.json()["created"] == ["th-secret"]
    bad = app_client.post("/targeting/profiles/import", data={"csrf_token": token, "text": "profiles: ["})
    assert bad.status_code == 303 and "not%20YAML" in bad.headers["location"]
    again = app_client.post("/targeting/profiles/import", data={"csrf_token": token, "text": SECRET})
    assert "notice=" in again.headers["location"] and "1 unchanged" in app_client.get(again.headers["location"]).text
    assert app_client.post("/targeting/profiles/import", data={"csrf_token": "x", "text": SECRET}).status_code == 403


def test_other_agencies_and_observers(app_client: TestClient, world: ProfileWorld) -> None:
    logged_in(app_client, "th_reporter")
    token = csrf_token(app_client.get("/targeting/profiles").text)
    app_client.post("/api/v1/targeting/profiles", headers={"X-CSRF-Token": token}, json={"yaml": SECRET})
    app_client.post("/logout", data={"csrf_token": token})
    logged_in(app_client, "vn_reporter")
    token = csrf_token(app_client.get("/account").text)
    ids = {p["id"] for p in app_client.get("/api/v1/targeting/profiles").json()}
    assert "t-origin" in ids and "th-secret" not in ids  # amber+strict: TH-CUS only
    assert app_client.get("/api/v1/targeting/profiles/th-secret").status_code == 404
    assert app_client.get("/targeting/profiles/th-secret").status_code == 404
    review = {"decision": "retire", "note": "not ours"}
    assert app_client.post("/api/v1/targeting/profiles/th-secret/review", json=review,
                           headers={"X-CSRF-Token": token}).status_code == 404  # fmt: skip
    assert app_client.post("/api/v1/targeting/profiles/t-origin/review", json=review,
                           headers={"X-CSRF-Token": token}).status_code == 403  # fmt: skip
    assert 'id="review-form"' not in app_client.get("/targeting/profiles/t-origin").text
    # VN-CUS imported no declarations: its report counts nothing of TH-CUS's.
    report = app_client.get("/api/v1/targeting/profiles/report").json()
    assert report["declarations"] == 0 and all(p["selected"] == 0 for p in report["profiles"])
    assert report["lanes"]["red"]["inspected"] == 0
    app_client.post("/logout", data={"csrf_token": token})
    logged_in(app_client, "observer")
    assert app_client.get("/api/v1/targeting/profiles").json() == []
    assert app_client.get("/api/v1/targeting/profiles/report").status_code == 403
    assert app_client.get("/api/v1/targeting/profiles/t-origin").status_code == 404
