"""Login, lock-out, session rotation, CSRF and logout of the pages (S15)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dragonnet.policy.users import MAX_FAILED_LOGINS
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import AuditEvent, User, WebSession
from web.seed import PASSWORD
from web.webtest import csrf_token, logged_in, login, set_session_cookie

INVALID = "Invalid username or password."


def _audit_actions(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())
    finally:
        engine.dispose()


def _session_count(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            return len(s.execute(select(WebSession.id)).all())
    finally:
        engine.dispose()


def test_login_form_sets_csrf_cookie(app_client: TestClient) -> None:
    response = app_client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    cookie = response.headers["set-cookie"]
    assert "dragonnet_login_csrf=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_login_success_sets_session_cookie(app_client: TestClient, db_url: str) -> None:
    response = login(app_client, "th_reporter")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("dragonnet_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # the test settings have secure_cookies off
    home = app_client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/operations/test-dragon"
    page = app_client.get("/operations/test-dragon")
    assert page.status_code == 200
    assert "Th Reporter" in page.text
    assert "auth.login" in _audit_actions(db_url)


def test_secure_cookie_when_configured(db_url: str, seeded_db: object, tmp_path: object) -> None:
    from pathlib import Path

    from dragonnet.app import create_app
    from web.webtest import settings_for

    assert isinstance(tmp_path, Path)
    app = create_app(settings_for(db_url, tmp_path, secure_cookies=True))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = login(client, "th_reporter")
        assert response.status_code == 303
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("dragonnet_session="))
        assert "Secure" in cookie


def test_login_redirects_to_next_but_never_off_site(app_client: TestClient) -> None:
    response = login(app_client, "th_reporter", next_path="/reference")
    assert response.headers["location"] == "/reference"
    app_client.cookies.clear()
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = login(app_client, "th_reporter", next_path=evil)
        assert response.headers["location"] == "/", evil
        app_client.cookies.clear()


def test_wrong_password_shows_generic_error(app_client: TestClient, db_url: str) -> None:
    response = login(app_client, "th_reporter", "Wrong-password-123")
    assert response.status_code == 401
    assert INVALID in response.text
    assert "dragonnet_session" not in app_client.cookies
    unknown = login(app_client, "nobody_here", "Wrong-password-123")
    assert unknown.status_code == 401
    assert INVALID in unknown.text  # no user enumeration: same message
    assert _audit_actions(db_url).count("auth.login_failed") == 2


def test_lockout_after_repeated_failures(app_client: TestClient, db_url: str) -> None:
    for attempt in range(MAX_FAILED_LOGINS - 1):
        response = login(app_client, "locky", f"Wrong-password-{attempt:03d}")
        assert INVALID in response.text
    response = login(app_client, "locky", "Wrong-password-last")
    assert INVALID in response.text and "locked" not in response.text
    # Even the right password is refused while locked, with the answer of a wrong password: the page must
    # not tell an outsider that the name exists (the lock-out is in the audit log).
    response = login(app_client, "locky")
    assert response.status_code == 401
    assert INVALID in response.text and "locked" not in response.text
    assert "dragonnet_session" not in app_client.cookies
    assert "auth.locked" in _audit_actions(db_url)


def test_login_without_csrf_token_is_rejected(app_client: TestClient) -> None:
    app_client.get("/login")
    response = app_client.post("/login", data={"username": "th_reporter", "password": "x" * 20})
    assert response.status_code == 403
    assert "expired" in response.text
    wrong = app_client.post("/login", data={"username": "th_reporter", "password": "x", "csrf_token": "forged"})
    assert wrong.status_code == 403


def test_login_csrf_token_is_bound_to_the_cookie(app_client: TestClient) -> None:
    token = csrf_token(app_client.get("/login").text)
    app_client.cookies.clear()  # an attacker's page has the token but not the victim's cookie
    response = app_client.post("/login", data={"username": "th_reporter", "password": "x", "csrf_token": token})
    assert response.status_code == 403


def test_session_id_rotates_at_each_login(app_client: TestClient, db_url: str) -> None:
    logged_in(app_client, "th_reporter")
    first = app_client.cookies.get("dragonnet_session")
    assert first
    assert app_client.get("/login").status_code == 303  # already logged in: no form
    # Log in again from the same browser (the form fetched anonymously, the old cookie sent with the POST).
    app_client.cookies.delete("dragonnet_session")
    form_html = app_client.get("/login").text
    set_session_cookie(app_client, first)
    response = app_client.post(
        "/login", data={"username": "th_reporter", "password": PASSWORD, "csrf_token": csrf_token(form_html)}
    )
    assert response.status_code == 303
    second = app_client.cookies.get("dragonnet_session")
    assert second and second != first
    assert _session_count(db_url) == 1  # the old session was closed, not left beside the new one
    set_session_cookie(app_client, first)
    assert app_client.get("/account").status_code == 303  # the old id is dead


def test_logout_without_csrf_is_rejected(app_client: TestClient) -> None:
    logged_in(app_client, "th_reporter")
    response = app_client.post("/logout")
    assert response.status_code == 403
    assert "expired" in response.text
    response = app_client.post("/logout", data={"csrf_token": "not-the-token"})
    assert response.status_code == 403
    assert app_client.get("/account").status_code == 200  # still logged in


def test_logout_invalidates_the_cookie(app_client: TestClient, db_url: str) -> None:
    logged_in(app_client, "th_reporter")
    cookie = app_client.cookies.get("dragonnet_session")
    page = app_client.get("/account")
    response = app_client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "auth.logout" in _audit_actions(db_url)
    # A copy of the old cookie is worth nothing now.
    set_session_cookie(app_client, cookie or "")
    again = app_client.get("/account")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")
    assert app_client.get("/api/v1/me").status_code == 401
    assert _session_count(db_url) == 0


def test_anonymous_pages_redirect_to_login(app_client: TestClient) -> None:
    for path in ("/", "/operations/test-dragon", "/reference", "/account", "/operations/nope"):
        response = app_client.get(path)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert location.startswith("/login"), path
    assert app_client.get("/reference").headers["location"] == "/login?next=/reference"


def test_forged_session_cookie_is_anonymous(app_client: TestClient) -> None:
    set_session_cookie(app_client, "forged-token-value")
    assert app_client.get("/account").status_code == 303
    assert app_client.get("/api/v1/me").status_code == 401


def test_other_methods_cannot_log_in(app_client: TestClient) -> None:
    """The MISP PUT bypass: only POST /login checks passwords, and it always counts failures."""
    form = app_client.get("/login")
    data = {"username": "th_reporter", "password": PASSWORD, "csrf_token": csrf_token(form.text)}
    for method in ("PUT", "PATCH", "DELETE"):
        response = app_client.request(method, "/login", data=data)
        assert response.status_code == 405, method
    assert "dragonnet_session" not in app_client.cookies


def test_disabled_user_loses_sessions_at_once(app_client: TestClient, db_url: str) -> None:
    logged_in(app_client, "th_reporter")
    assert app_client.get("/api/v1/me").status_code == 200
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        s.execute(update(User).where(User.username == "th_reporter").values(is_active=False))
    engine.dispose()
    assert app_client.get("/api/v1/me").status_code == 401
    assert app_client.get("/account").status_code == 303
    assert INVALID in login(app_client, "th_reporter").text
