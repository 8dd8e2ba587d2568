"""The reference API: checking a list of terms (JSON or an uploaded file), resolving places, taxa and HS codes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web.webtest import csrf_token, logged_in


def _csrf(client: TestClient) -> dict[str, str]:
    """A logged-in browser session posts with its CSRF token (API tokens need none)."""
    return {"X-CSRF-Token": csrf_token(client.get("/reference").text)}


def test_check_a_list_of_places(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    body = {"kind": "place", "terms": [{"text": "Jomo Kenyatta Airport", "country": "KE"},
                                       {"text": "Brussels Airport", "country": "NL"}, {"text": "HAN"}]}  # fmt: skip
    response = app_client.post("/api/v1/reference/check", json=body, headers=_csrf(app_client))
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["counts"] == {"exact": 2, "guess": 0, "unresolved": 1}
    first, second, third = out["results"]
    assert (first["code"], first["status"]) == ("KENBO", "exact")
    assert first["detail"]["latitude"] is not None
    assert second["status"] == "unresolved" and "BE" in second["reason"]
    assert third["detail"]["iata"] == "HAN"


def test_check_an_uploaded_file(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    files = {"file": ("taxa.csv", b"text\nivory\nBirds\nXyzzy beast\n", "text/csv")}
    headers = _csrf(app_client)
    response = app_client.post("/api/v1/reference/check/file", data={"kind": "taxon"}, files=files, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["code"] for r in results] == ["Elephantidae", "Aves", None]
    assert results[2]["detail"]["cites_status"] == "unverified"
    empty = app_client.post("/api/v1/reference/check/file", data={"kind": "taxon"}, headers=headers,
                            files={"file": ("e.csv", b"text\n", "text/csv")})  # fmt: skip
    assert empty.status_code == 422 and "no term" in empty.json()["error"]["message"]
    bad_kind = app_client.post(
        "/api/v1/reference/check", json={"kind": "planets", "terms": [{"text": "x"}]}, headers=headers
    )
    assert bad_kind.status_code == 422


def test_resolve_one_place_taxon_and_code(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    place = app_client.get("/api/v1/reference/places/resolve", params={"q": "Dubai Airport", "country": "UAE"}).json()
    assert place["status"] == "exact" and place["detail"]["locode"] == "AEDXB"
    taxon = app_client.get("/api/v1/reference/taxa/resolve", params={"q": "Chickens"}).json()
    assert taxon["detail"]["cites_status"] == "not CITES-listed"
    hs = app_client.get("/api/v1/reference/goods/resolve", params={"q": "0507.10"}).json()
    assert hs["status"] == "exact" and hs["detail"]["level"] == "subheading"


def test_reference_api_needs_a_login(app_client: TestClient) -> None:
    assert (
        app_client.post("/api/v1/reference/check", json={"kind": "taxon", "terms": [{"text": "x"}]}).status_code == 401
    )
    assert app_client.get("/api/v1/reference/places/resolve", params={"q": "HAN"}).status_code == 401
