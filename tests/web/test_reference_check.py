"""The reference page's list check: upload, results per term, CSRF, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web.webtest import csrf_token, logged_in


def test_upload_a_list_of_places_shows_each_result(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    page = app_client.get("/reference")
    assert 'id="check-form"' in page.text
    files = {
        "file": ("ports.csv", b"text,country\nPort of Haiphong,VN\nShahjalal Airport,BD\nAtlantis,VN\n", "text/csv")
    }
    response = app_client.post("/reference/check", data={"kind": "place", "csrf_token": csrf_token(page.text)},
                               files=files)  # fmt: skip
    assert response.status_code == 200, response.text
    html = response.text
    assert html.count('data-status="exact"') == 1 and html.count('data-status="guess"') == 1
    assert html.count('data-status="unresolved"') == 1
    assert "Hai Phong (VNHPH)" in html and "by the words written" in html
    assert '<option value="place" selected>' in html


def test_upload_errors_and_csrf(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    token = csrf_token(app_client.get("/reference").text)
    empty = app_client.post("/reference/check", data={"kind": "taxon", "csrf_token": token},
                            files={"file": ("e.txt", b"\n", "text/plain")})  # fmt: skip
    assert empty.status_code == 422 and 'id="check-error"' in empty.text and "no term" in empty.text
    forged = app_client.post("/reference/check", data={"kind": "taxon", "csrf_token": "forged"},
                             files={"file": ("t.txt", b"ivory\n", "text/plain")})  # fmt: skip
    assert forged.status_code in (400, 403)
    assert "Elephantidae" not in forged.text
