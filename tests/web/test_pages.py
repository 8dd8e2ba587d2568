"""Pages: security headers everywhere, the overview through the access policy, navigation by role, errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dragonnet.app import create_app, route_table
from dragonnet.errors import ConfigurationError
from dragonnet.http.security import CONTENT_SECURITY_POLICY
from dragonnet.operation.service import COUNTING_RULE
from dragonnet.reference.cites import ATTRIBUTION
from web.seed import EXPECTED_PHASE_COUNTS, OPERATION_NAME, SLUG
from web.webtest import csrf_token, logged_in, settings_for

REQUIRED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
PATH_VALUES = {"slug": SLUG, "path": "css/app.css"}


def _paths(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) for every route of the app, path parameters filled in; static files by a few files."""
    out: list[tuple[str, str]] = []
    for route in route_table(app):
        if route.is_mount:
            out += [("GET", f"{route.path}/css/app.css"), ("GET", f"{route.path}/js/htmx.min.js")]
            out.append(("GET", f"{route.path}/no-such-file.js"))
            continue
        filled = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PATH_VALUES.get(m.group(1), "x"), route.path)
        if route.path.endswith("/resolve"):
            filled += "?q=Vietnam"
        if route.path == "/messages/events":
            filled += "?timeout=0"  # the live stream answers, then ends at once (it would stay open 60 s)
        out += [(method, filled) for method in sorted(route.methods - {"HEAD"})]
    out.append(("GET", "/no-such-page"))
    out.append(("GET", "/api/v1/no-such-endpoint"))
    out.append(("GET", f"/operations/{SLUG}-unknown"))
    out.append(("GET", "/api/v1/reference/countries/resolve?q=Atlantis"))
    return out


def _assert_headers(response_headers: dict[str, str], what: str) -> None:
    for name, value in REQUIRED_HEADERS.items():
        assert response_headers.get(name) == value, f"{what}: {name} is {response_headers.get(name)!r}"


# The headers are the middleware's, whatever the database: one backend (every route, twice over).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_security_headers_on_every_route(app_client: TestClient) -> None:
    app = app_client.app
    assert isinstance(app, FastAPI)
    paths = _paths(app)
    assert len(paths) >= 18
    checked = 0
    for who in ("anonymous", "th_reporter"):
        if who != "anonymous":
            logged_in(app_client, who)
        for method, path in paths:
            if path == "/logout":
                continue  # would end the session; checked below
            response = app_client.request(method, path, data={} if method == "POST" else None)
            _assert_headers(dict(response.headers), f"{who} {method} {path} -> {response.status_code}")
            if not path.startswith("/static/"):
                assert response.headers.get("cache-control") == "no-store", path
            checked += 1
    response = app_client.post("/logout", data={"csrf_token": "wrong"})
    _assert_headers(dict(response.headers), "POST /logout (bad token)")
    response = app_client.post("/logout", data={"csrf_token": csrf_token(app_client.get("/account").text)})
    _assert_headers(dict(response.headers), "POST /logout")
    assert checked >= 24


def test_unhandled_error_is_clean_and_has_headers(app_client: TestClient) -> None:
    app = app_client.app
    assert isinstance(app, FastAPI)

    def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    page = app_client.get("/boom")
    assert page.status_code == 500
    assert "secret internals" not in page.text and "Traceback" not in page.text
    _assert_headers(dict(page.headers), "500 page")
    api = app_client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.json()["error"]["code"] == "server_error"
    assert "secret internals" not in api.text
    _assert_headers(dict(api.headers), "500 api")


def test_an_unreachable_database_answers_503_with_retry_after(app_client: TestClient) -> None:
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError

    app = app_client.app
    assert isinstance(app, FastAPI)
    failures = {
        "refused": OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")),
        "locked": OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")),
        "missing": OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: cases")),
    }

    def failing(exc: Exception) -> Callable[[], None]:
        def fail() -> None:
            raise exc

        return fail

    for name, exc in failures.items():
        app.add_api_route(f"/api/v1/db-{name}", failing(exc))
        app.add_api_route(f"/db-{name}", failing(exc))
    for name in ("refused", "locked"):
        api = app_client.get(f"/api/v1/db-{name}")
        assert (api.status_code, api.headers.get("retry-after")) == (503, "5"), name
        assert api.json()["error"]["code"] == "database_unavailable"
        _assert_headers(dict(api.headers), "503 api")
        page = app_client.get(f"/db-{name}")
        assert page.status_code == 503 and "Try again in a moment" in page.text
    # a broken query is a real fault: a 500, and the internals stay hidden
    api = app_client.get("/api/v1/db-missing")
    assert api.status_code == 500 and "no such table" not in api.text


def test_no_inline_scripts_or_styles(app_client: TestClient) -> None:
    pages = ["/login"]
    logged_in(app_client, "admin")
    pages += [f"/operations/{SLUG}", "/reference", "/account", "/api/docs", "/no-such-page"]
    for path in pages:
        html = app_client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script on {path}: {tag}"
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), f"script body on {path}"
        assert "<style" not in html, f"inline style element on {path}"
        assert not re.search(r"\sstyle=", html), f"style attribute on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"
        assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, path


@pytest.mark.parametrize("username", sorted(EXPECTED_PHASE_COUNTS))
def test_overview_counts_follow_the_access_policy(app_client: TestClient, username: str) -> None:
    logged_in(app_client, username)
    response = app_client.get(f"/operations/{SLUG}")
    assert response.status_code == 200
    html = response.text
    rows = dict(re.findall(r'<tr data-phase="(\d)">.*?<td class="num cases">(\d+)</td>', html, re.S))
    expected = EXPECTED_PHASE_COUNTS[username]
    assert (int(rows["1"]), int(rows["2"])) == expected
    assert f'id="total-cases">{sum(expected)}<' in html
    assert COUNTING_RULE in html


def test_strict_case_not_counted_for_another_agency(app_client: TestClient) -> None:
    """TH-1 is amber+strict: Thai customs counts it, Viet Nam customs does not (phase I: 2 vs 1)."""
    logged_in(app_client, "th_reporter")
    th = app_client.get(f"/operations/{SLUG}").text
    app_client.cookies.clear()
    logged_in(app_client, "vn_reporter")
    vn = app_client.get(f"/operations/{SLUG}").text
    th_row = re.search(r'<tr data-phase="1">.*?</tr>', th, re.S)
    vn_row = re.search(r'<tr data-phase="1">.*?</tr>', vn, re.S)
    assert th_row and vn_row
    # columns: cases, drug, precursor, wildlife, timber
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', th_row.group(0)) == ["2", "1", "0", "1", "0"]
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', vn_row.group(0)) == ["1", "0", "0", "1", "0"]


def test_overview_shows_phases_classes_and_participants(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    html = app_client.get(f"/operations/{SLUG}").text
    assert OPERATION_NAME in html
    assert "Phase I" in html and "Phase II" in html
    period = r'"2024-03-01">Mar 1, 2024</time></span> – <span[^>]*><time datetime="2024-03-31">Mar 31, 2024<'
    assert re.search(period, html)
    table = html[html.index('id="participants-table"') :]
    for text in ("Thai Customs Department", "TH-CUS", "Thailand", "Viet Nam Customs", "UNODC", "Observer"):
        assert text in table, text
    assert "Phase II" in table  # VN customs joined in phase II
    # User-provided text is escaped, never interpreted.
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html


def test_unknown_operation_is_404_page(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    response = app_client.get("/operations/no-such-operation")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "unknown operation" in response.text
    assert "Traceback" not in response.text
    page = app_client.get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


NAV = re.compile(r'data-nav="([a-z]+)"')
MEMBER_NAV = ["overview", "cases", "report", "networks", "inbox", "alerts", "targeting", "dashboard", "reference"]
NOT_REPORTING = [k for k in MEMBER_NAV if k != "report"]  # analysts and administrators do not report seizures


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("th_reporter", MEMBER_NAV),
        ("th_coord", [*MEMBER_NAV[:3], "validate", "curation", *MEMBER_NAV[3:], "admin"]),
        ("analyst", [*NOT_REPORTING[:2], "validate", "curation", *NOT_REPORTING[2:]]),
        ("admin", [*NOT_REPORTING, "admin"]),
        ("observer", ["overview", "dashboard"]),
    ],
)
def test_navigation_by_role(app_client: TestClient, username: str, expected: list[str]) -> None:
    logged_in(app_client, username)
    html = app_client.get(f"/operations/{SLUG}").text
    assert NAV.findall(html) == expected
    # Every link shown leads to a page that exists.
    for href in re.findall(r'<a href="(/[^"]*)" data-nav=', html):
        assert app_client.get(href).status_code in (200, 303), href


def test_reference_page_lists_datasets_with_attribution(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    html = app_client.get("/reference").text
    for name in ("countries", "places", "cites"):
        assert f'data-dataset="{name}"' in html
    assert ATTRIBUTION in html
    assert "licence" in html.lower()


def test_account_page(app_client: TestClient) -> None:
    logged_in(app_client, "th_coord")
    html = app_client.get("/account").text
    assert "th_coord" in html and "Thai Customs Department" in html and "National coordinator" in html


def test_home_without_operation(db_url: str, tmp_path: Path) -> None:
    from dragonnet.storage.db import make_engine, session_scope
    from web.seed import PASSWORD
    from web.webtest import login

    engine = make_engine(db_url)
    with session_scope(engine) as s:
        from dragonnet.operation.service import add_agency
        from dragonnet.policy.users import create_user

        add_agency(s, code="KH-CUS", name="Cambodia Customs", kind="customs", country="KH")
        create_user(s, username="kh_user", password=PASSWORD, agency_code="KH-CUS", roles=["reporter"])
    engine.dispose()
    with TestClient(create_app(settings_for(db_url, tmp_path)), follow_redirects=False) as client:
        assert login(client, "kh_user").status_code == 303
        response = client.get("/")
        assert response.status_code == 200 and "No operation yet" in response.text


def test_static_assets_are_served_from_the_package(app_client: TestClient) -> None:
    js = app_client.get("/static/js/htmx.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    css = app_client.get("/static/css/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert app_client.get("/static/../app.py").status_code == 404


def test_refuses_to_start_without_schema(empty_db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no dragonnet schema"):
        create_app(settings_for(empty_db_url, tmp_path))
