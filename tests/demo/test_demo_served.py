"""The demo operation as a user meets it: log in and see the published figures on the overview."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from dragonnet.app import create_app
from dragonnet.config import Settings
from dragonnet.demo import DEMO_PASSWORD

from .conftest import DemoDB


def _client(demo_db: DemoDB, tmp_path: Path) -> TestClient:
    url = demo_db.engine.url.render_as_string(hide_password=False)
    settings = Settings(url, tmp_path, "test-secret-key", 8, False)
    return TestClient(create_app(settings), follow_redirects=False)


def _login(client: TestClient, username: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1), "next": "/"}
    )
    assert response.status_code == 303, response.text


def test_every_member_sees_the_published_totals(demo_db: DemoDB, tmp_path: Path) -> None:
    with _client(demo_db, tmp_path) as client:
        _login(client, "vn.reporter")
        overview = client.get("/api/v1/operations/mekong-dragon").json()
        totals = {t["number"]: t for t in overview["totals"]}
        assert totals[5]["cases"] == 1715
        assert totals[4]["cases"] == 813
        assert round(totals[5]["change_pct"]) == 111
        assert "all member agencies" in overview["totals_rule"]
        # What the reporter may see of the case records themselves is less than the aggregate.
        visible = {p["number"]: p["cases"] for p in overview["phases"]}
        assert 0 < visible[5] < 1715
        page = client.get("/operations/mekong-dragon")
        assert page.status_code == 200
        assert "1,715" in page.text and "+111%" in page.text
