"""Languages on the pages: the locale chosen per request (user setting > switcher cookie > Accept-Language >
the operation's default > English), the switcher (login page too, no JavaScript), the account and the
operation settings, and a page really rendered through the catalogue."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.support import Translations
from fastapi.testclient import TestClient
from sqlalchemy import select

from dragonnet import i18n
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import AuditEvent, Operation, User
from web.seed import SLUG
from web.webtest import csrf_token, logged_in


def _lang(html: str) -> str:
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


def _user_language(db_url: str, username: str) -> str | None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return session.scalar(select(User.language).where(User.username == username))
    finally:
        engine.dispose()


def _set_operation_language(db_url: str, language: str | None) -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            session.scalars(select(Operation).where(Operation.slug == SLUG)).one().default_language = language
    finally:
        engine.dispose()


def test_login_page_follows_the_browser_then_the_switcher(app_client: TestClient) -> None:
    page = app_client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert _lang(page.text) == "fr" and page.headers["content-language"] == "fr"
    assert 'id="language-switcher"' in page.text and 'data-language="zh_Hans"' in page.text
    assert _lang(app_client.get("/login", headers={"Accept-Language": "de"}).text) == "en"
    # A visitor not logged in switches: a cookie, no CSRF token needed (it changes only their own pages).
    switched = app_client.post("/language", data={"language": "vi", "next": "/login"})
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    assert _lang(app_client.get("/login", headers={"Accept-Language": "fr"}).text) == "vi"
    back = app_client.post("/language", data={"language": "", "next": "/login"})  # back to the browser's
    assert back.status_code == 303
    app_client.cookies.delete("dragonnet_lang")
    assert _lang(app_client.get("/login", headers={"Accept-Language": "fr"}).text) == "fr"


def test_switcher_refuses_unknown_languages_and_foreign_places(app_client: TestClient) -> None:
    assert app_client.post("/language", data={"language": "klingon", "next": "/login"}).status_code == 422
    elsewhere = app_client.post("/language", data={"language": "fr", "next": "https://evil.example/"})
    assert elsewhere.headers["location"] == "/"


def test_user_setting_wins_and_is_audited(app_client: TestClient, db_url: str) -> None:
    client = logged_in(app_client, "th_reporter")
    overview = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "fr"})
    assert _lang(overview.text) == "fr"
    # Logged in, the switcher needs the session's CSRF token, and saves the user's setting.
    assert client.post("/language", data={"language": "th", "next": "/account"}).status_code == 403
    token = csrf_token(overview.text)
    saved = client.post("/language", data={"language": "th", "next": "/account", "csrf_token": token})
    assert saved.status_code == 303
    assert _user_language(db_url, "th_reporter") == "th"
    client.cookies.delete("dragonnet_lang")  # the setting, not the cookie, decides
    account = client.get("/account", headers={"Accept-Language": "fr"})
    assert _lang(account.text) == "th"
    assert '<option value="th" selected>' in account.text
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "user.language")).all()
    finally:
        engine.dispose()
    assert actions == ["user.language"]
    client.post("/language", data={"language": "", "next": "/account", "csrf_token": token})
    assert _user_language(db_url, "th_reporter") is None


def test_operation_default_when_neither_user_nor_browser_names_one(app_client: TestClient, db_url: str) -> None:
    _set_operation_language(db_url, "km")
    client = logged_in(app_client, "th_reporter")
    assert _lang(client.get(f"/operations/{SLUG}", headers={"Accept-Language": "de"}).text) == "km"
    assert _lang(client.get(f"/operations/{SLUG}", headers={"Accept-Language": "lo"}).text) == "lo"


def test_admin_sets_the_operations_default_language(app_client: TestClient, db_url: str) -> None:
    client = logged_in(app_client, "admin")
    page = client.get(f"/admin/operations/{SLUG}")
    assert page.status_code == 200 and 'id="language-form"' in page.text
    done = client.post(
        f"/admin/operations/{SLUG}/language", data={"language": "vi", "csrf_token": csrf_token(page.text)}
    )
    assert done.status_code == 303
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            assert session.scalar(select(Operation.default_language).where(Operation.slug == SLUG)) == "vi"
    finally:
        engine.dispose()
    bad = client.post(
        f"/admin/operations/{SLUG}/language", data={"language": "xx", "csrf_token": csrf_token(page.text)}
    )
    assert bad.status_code == 422


def test_pages_render_through_the_catalogue(app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a French catalogue (test-only entries), the menu, a template text and a page title are French."""
    french = Translations()
    french._catalog = {"Overview": "Vue d'ensemble", "Log out": "Se déconnecter", "Cases": "Dossiers"}
    monkeypatch.setattr(i18n, "translations", lambda locale: french if locale == "fr" else Translations())
    client = logged_in(app_client, "th_reporter")
    page = client.get(f"/operations/{SLUG}/cases", headers={"Accept-Language": "fr"})
    assert "Vue d'ensemble</a>" in page.text and "Se déconnecter</button>" in page.text
    assert "<title>Dossiers · dragonnet</title>" in page.text
    english = client.get(f"/operations/{SLUG}/cases", headers={"Accept-Language": "en"})
    assert ">Overview</a>" in english.text and "<title>Cases · dragonnet</title>" in english.text


def test_debrief_in_the_language_asked_for(app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """?lang= on the report routes: HTML and XLSX in French (titles, labels, dates), JSON stays English data."""
    import io

    from openpyxl import load_workbook

    french = Translations()
    french._catalog = {"Cases by phase": "Dossiers par phase", "counting rule": "règle de comptage"}
    monkeypatch.setattr(i18n, "translations", lambda locale: french if locale == "fr" else Translations())
    client = logged_in(app_client, "analyst")
    html = client.get(f"/operations/{SLUG}/reports/debrief.html?phase=2&lang=fr")
    assert html.status_code == 200, html.text
    assert '<html lang="fr">' in html.text and "<h3>Dossiers par phase</h3>" in html.text
    english = client.get(f"/operations/{SLUG}/reports/debrief.html?phase=2", headers={"Accept-Language": "en"})
    assert "<h3>Cases by phase</h3>" in english.text
    # Without ?lang= the reader's page language decides.
    assert (
        "<h3>Dossiers par phase</h3>"
        in client.get(f"/operations/{SLUG}/reports/debrief.html?phase=2", headers={"Accept-Language": "fr"}).text
    )
    xlsx = client.get(f"/operations/{SLUG}/reports/debrief.xlsx?phase=2&lang=fr")
    rule_sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True)["rule"]
    assert "règle de comptage" in [row[0] for row in rule_sheet.iter_rows(values_only=True)]
    data = client.get(f"/operations/{SLUG}/reports/debrief.json?phase=2&lang=fr").json()
    assert data["breakdowns"]["by_phase"]["title"] == "Cases by phase"
    assert client.get(f"/operations/{SLUG}/reports/debrief.html?phase=2&lang=xx").status_code == 422
    page = client.get(f"/operations/{SLUG}/dashboard?phase=2&lang=fr")
    assert '<html lang="fr">' in page.text and "lang=fr" in page.text  # the download links carry it
    assert '<option value="fr" lang="fr" selected>' in page.text


def test_cli_debrief_in_a_language(seeded_db: object, db_url: str, tmp_path: Path) -> None:
    """`dragonnet report debrief --lang vi`: the file in Vietnamese; the command's own messages stay English."""
    from typer.testing import CliRunner

    from dragonnet.cli.report import report_app

    out = tmp_path / "debrief.html"
    args = ["debrief", "--operation", SLUG, "--phase", "2", "--format", "html", "--out", str(out)]
    done = CliRunner().invoke(report_app, [*args, "--lang", "vi", "--database-url", db_url])
    assert done.exit_code == 0, done.output
    assert '<html lang="vi">' in out.read_text(encoding="utf-8")
    assert "cases" in done.output  # English
    bad = CliRunner().invoke(report_app, [*args, "--lang", "xx", "--database-url", db_url])
    assert bad.exit_code == 1 and "unknown language 'xx'" in bad.output


def test_country_names_in_the_readers_language_with_the_iso_code(app_client: TestClient) -> None:
    client = logged_in(app_client, "th_reporter")
    french = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "fr"}).text
    assert 'Thaïlande <span class="code">TH</span>' in french
    vietnamese = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "vi"}).text
    assert 'Thái Lan <span class="code">TH</span>' in vietnamese
    english = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "en"}).text
    assert 'Thailand <span class="code">TH</span>' in english


def test_switcher_on_a_page_answering_a_post_returns_to_its_form(app_client: TestClient) -> None:
    form = app_client.get("/login?next=/reference")
    token = csrf_token(form.text)
    wrong = app_client.post(
        "/login",
        data={"username": "th_reporter", "password": "wrong", "csrf_token": token, "next": "/reference"},
        headers={"Referer": "http://testserver/login?next=/reference"},
    )
    assert wrong.status_code == 401
    assert '<input type="hidden" name="next" value="/login?next=/reference">' in wrong.text
    elsewhere = app_client.post(
        "/login",
        data={"username": "th_reporter", "password": "wrong", "csrf_token": token, "next": "/"},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert '<input type="hidden" name="next" value="/">' in elsewhere.text


def test_dates_on_pages_in_the_readers_form_with_the_iso_value_kept(app_client: TestClient) -> None:
    """Phase periods, seizure dates and a case's history times read in the locale's form (CLDR); the
    `<time datetime>` keeps the ISO value for scripts, tests and screen readers."""
    client = logged_in(app_client, "th_reporter")
    french = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "fr"}).text
    assert '<time datetime="2024-03-01">1 mars 2024</time>' in french
    assert '<time datetime="2024-06-30">30 juin 2024</time>' in french
    thai = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "th"}).text
    assert '<time datetime="2024-03-01">1 มี.ค. 2024</time>' in thai
    assert "2024-03-01<" not in thai  # no bare ISO text left
    english = client.get(f"/operations/{SLUG}", headers={"Accept-Language": "en"}).text
    assert '<time datetime="2024-03-01">Mar 1, 2024</time>' in english

    cases = client.get(f"/operations/{SLUG}/cases", headers={"Accept-Language": "fr"}).text
    assert '<time datetime="2024-03-05">5 mars 2024</time>' in cases
    case_id = re.search(r'href="/cases/(\d+)"', cases)
    assert case_id
    case = client.get(f"/cases/{case_id.group(1)}", headers={"Accept-Language": "th"}).text
    assert re.search(r'<time datetime="2024-0\d-\d\d">\d{1,2} [^<]+ 2024</time>', case)
    # A timestamp (the last login): the ISO value with its zone in the attribute, the Thai form (no seconds).
    account = client.get("/account", headers={"Accept-Language": "th"}).text
    stamps = re.findall(r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)">([^<]*)</time>', account)
    assert stamps, "no timestamp on the account page"
    for iso, shown in stamps:
        moment = dt.datetime.fromisoformat(iso)
        assert shown.endswith(f"{moment:%H:%M} น.") and iso[:10] not in shown


def test_texts_made_below_the_web_layer_reach_the_page_translated(app_client: TestClient) -> None:
    """The upload status texts app.js shows (data- attributes), the overview's counting rule and the case
    visibility rule (lazy texts of reporting, operation and policy): in the reader's language, values kept."""
    client = logged_in(app_client, "th_reporter")
    vi = {"Accept-Language": "vi"}
    upload = client.get(f"/operations/{SLUG}/import", headers=vi).text
    assert 'data-uploading="Đang tải lên…"' in upload and 'data-progress="Đang tải lên: {percent}%"' in upload
    overview = client.get(f"/operations/{SLUG}", headers=vi).text
    assert "các vụ việc đã phê duyệt mà bạn được xem" in overview  # the overview's counting rule
    cases = client.get(f"/operations/{SLUG}/cases", headers=vi).text
    assert "bạn thấy các vụ việc của chính TH-CUS" in cases  # the case visibility rule, the agency kept
    assert "you see TH-CUS" not in cases
