"""Helpers for the web and API tests of case intake (over tests/web/seed.py's operation)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from web.seed import SLUG
from web.webtest import logged_in


def csrf_headers(client: TestClient) -> dict[str, str]:
    page = client.get("/account")
    assert page.status_code == 200, page.text
    from web.webtest import csrf_token

    return {"X-CSRF-Token": csrf_token(page.text)}


def api_client(app_client: TestClient, username: str) -> tuple[TestClient, dict[str, str]]:
    """A client of its own (own cookie jar) logged in as `username`, and its CSRF header."""
    client = TestClient(app_client.app, follow_redirects=False, raise_server_exceptions=False)
    logged_in(client, username)
    return client, csrf_headers(client)


def case_body(ref: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "operation": SLUG,
        "case_ref": ref,
        "seizure_date": "2024-06-05",
        "place_country": "Thailand",
        "place_locode": "THBKK",
        "transport_mode": "air passenger",
        "conveyance_ref": "TG 560",
        "origin_country": "LA",
        "transit_countries": ["Viet Nam", "KH"],
        "destination_country": "CN",
        "sharing_level": "green",
        "items": [
            {"commodity_class": "drug", "substance": "ICE", "quantity": "12,5", "unit": "kg"},
            {"commodity_class": "wildlife", "taxon": "pangolin scales", "quantity": 30, "unit": "kg"},
        ],
    }
    body.update(over)
    return body
