"""The JSON API under /api/v1: authentication, operations through the access policy, reference data, docs."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dragonnet import __version__
from dragonnet.http.deps import ApiAuth
from dragonnet.operation.service import COUNTING_RULE
from dragonnet.reference.cites import ATTRIBUTION
from dragonnet.storage.migrate import head_revision
from web.seed import EXPECTED_PHASE_COUNTS, SLUG
from web.webtest import logged_in

PROTECTED = [
    "/api/v1/me",
    "/api/v1/operations",
    f"/api/v1/operations/{SLUG}",
    "/api/v1/reference/datasets",
    "/api/v1/reference/countries/resolve?q=VN",
]


def test_health_needs_no_login(app_client: TestClient, backend: str) -> None:
    response = app_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "version": __version__,
        "database": backend,
        "schema_revision": head_revision(),
        "schema_head": head_revision(),
    }


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_gets_401_json(app_client: TestClient, path: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "www-authenticate" in response.headers


def test_bearer_header_alone_is_not_a_login(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/me", headers={"Authorization": "Bearer something"})
    assert response.status_code == 401


def test_me(app_client: TestClient) -> None:
    logged_in(app_client, "th_coord")
    body = app_client.get("/api/v1/me").json()
    assert body["username"] == "th_coord"
    assert body["agency"] == {"code": "TH-CUS", "name": "Thai Customs Department", "kind": "customs", "country": "TH"}
    assert body["roles"] == ["national_coordinator"]
    assert "password_hash" not in str(body)


def test_operations_list(app_client: TestClient) -> None:
    logged_in(app_client, "vn_reporter")
    body = app_client.get("/api/v1/operations").json()
    assert [op["slug"] for op in body] == [SLUG]
    assert [p["number"] for p in body[0]["phases"]] == [1, 2]
    assert body[0]["phases"][0]["start_date"] == "2024-03-01"


@pytest.mark.parametrize("username", sorted(EXPECTED_PHASE_COUNTS))
def test_operation_counts_follow_the_access_policy(app_client: TestClient, username: str) -> None:
    logged_in(app_client, username)
    response = app_client.get(f"/api/v1/operations/{SLUG}")
    assert response.status_code == 200
    body = response.json()
    assert tuple(p["cases"] for p in body["phases"]) == EXPECTED_PHASE_COUNTS[username]
    assert body["total_cases"] == sum(EXPECTED_PHASE_COUNTS[username])
    assert body["counting_rule"] == COUNTING_RULE


def test_strict_case_counted_by_its_agency_only(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    th = app_client.get(f"/api/v1/operations/{SLUG}").json()
    app_client.cookies.clear()
    logged_in(app_client, "vn_reporter")
    vn = app_client.get(f"/api/v1/operations/{SLUG}").json()
    assert th["phases"][0]["by_class"] == {"drug": 1, "wildlife": 1}
    assert vn["phases"][0]["by_class"] == {"wildlife": 1}
    assert th["by_class"] == {"drug": 2, "precursor": 1, "wildlife": 1, "timber": 1}
    assert vn["by_class"] == {"drug": 1, "precursor": 1, "wildlife": 1, "timber": 1}


def test_operation_participants(app_client: TestClient) -> None:
    logged_in(app_client, "observer")
    body = app_client.get(f"/api/v1/operations/{SLUG}").json()
    parts = {p["agency_code"]: p for p in body["participants"]}
    assert set(parts) == {"TH-CUS", "VN-CUS", "UNODC"}
    assert parts["VN-CUS"]["since_phase"] == 2 and parts["VN-CUS"]["country_name"] == "Vietnam"
    assert parts["UNODC"]["country"] is None and parts["UNODC"]["role"] == "observer"


def test_unknown_operation_is_404_json(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    response = app_client.get("/api/v1/operations/no-such-op")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "unknown operation 'no-such-op'",
        "suggestions": [],
    }
    missing = app_client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_reference_datasets(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    body = app_client.get("/api/v1/reference/datasets").json()
    by_name = {d["name"]: d for d in body}
    assert {"countries", "places", "cites"} <= set(by_name)
    assert by_name["countries"]["records"] > 240
    assert by_name["cites"]["attribution"] == ATTRIBUTION
    assert all(d["licence"] and d["source"] and d["version"] for d in body)


@pytest.mark.parametrize(("query", "alpha2"), [("Viet Nam", "VN"), ("lao pdr", "LA"), ("香港", "HK"), ("THA", "TH")])
def test_resolve_country(app_client: TestClient, query: str, alpha2: str) -> None:
    logged_in(app_client, "th_reporter")
    response = app_client.get("/api/v1/reference/countries/resolve", params={"q": query})
    assert response.status_code == 200
    assert response.json()["alpha2"] == alpha2


def test_resolve_unknown_country_is_422_with_suggestions(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    response = app_client.get("/api/v1/reference/countries/resolve", params={"q": "Thailnd"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unresolved"
    assert "Thailnd" in error["message"]
    assert any("TH" in s for s in error["suggestions"])
    empty = app_client.get("/api/v1/reference/countries/resolve", params={"q": ""})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid"


def test_openapi_documents_every_api_route(app_client: TestClient) -> None:
    spec = app_client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/me",
        "/api/v1/operations",
        "/api/v1/operations/{slug}",
        "/api/v1/reference/datasets",
        "/api/v1/reference/countries/resolve",
    ):
        assert path in paths, path
        assert "200" in paths[path]["get"]["responses"]
    assert not any(p.startswith(("/login", "/logout", "/operations", "/account")) for p in paths)
    assert "OperationOverview" in spec["components"]["schemas"]


def test_docs_page_serves_vendored_swagger_without_inline_script(app_client: TestClient) -> None:
    response = app_client.get("/api/docs")
    assert response.status_code == 200
    html = response.text
    assert "cdn" not in html.lower()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert app_client.get(asset).status_code == 200, asset
    assert app_client.get("/docs").status_code == 404
    assert app_client.get("/redoc").status_code == 404


def test_cookie_authenticated_writes_need_the_csrf_header(app_client: TestClient) -> None:
    """No API route writes yet; this checks the rule every future one inherits from `ApiAuth`."""
    app = app_client.app
    assert isinstance(app, FastAPI)

    def touch(auth: ApiAuth) -> dict[str, str]:
        return {"user": auth.user.username}

    app.add_api_route("/api/v1/_touch", touch, methods=["POST"])
    assert app_client.post("/api/v1/_touch").status_code == 401
    logged_in(app_client, "th_reporter")
    rejected = app_client.post("/api/v1/_touch")
    assert rejected.status_code == 403 and rejected.json()["error"]["code"] == "csrf"
    assert app_client.post("/api/v1/_touch", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    page = app_client.get("/account").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    ok = app_client.post("/api/v1/_touch", headers={"X-CSRF-Token": token.group(1)})
    assert ok.status_code == 200 and ok.json() == {"user": "th_reporter"}
