"""S15 authentication and sessions (API tokens, TOTP) and S16 logging, over the pages and the API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from admin.helpers import api, audit_count, run_sql
from dragonnet.policy import mfa, users
from dragonnet.policy.users import MAX_FAILED_LOGINS
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import ApiToken, AuditEvent, User, UserTotp
from security.sessions import open_sessions, use
from security.world import World
from web.seed import PASSWORD
from web.webtest import csrf_token, login

NEW_PW = "Brand-new-passphrase-42"


def _enrol(db_url: str, username: str) -> str:
    """Give a user an enabled TOTP factor; returns its secret."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            user = s.execute(select(User).where(User.username == username)).scalar_one()
            secret, _uri = mfa.start_enrolment(s, user)
            mfa.confirm_enrolment(s, user, pyotp.TOTP(secret).now())
            # Free the current step again so the test can log in with the current code.
            s.execute(update(UserTotp).where(UserTotp.user_id == user.id).values(last_step=None))
            return secret
    finally:
        engine.dispose()


def _code_step(client: TestClient, code: str) -> object:
    page = client.get("/login")  # a fresh login form token bound to the same cookie nonce
    assert page.status_code == 200
    return client.post("/login/totp", data={"code": code, "csrf_token": csrf_token(page.text)})


# --- API tokens ---------------------------------------------------------------------------------------------


def test_token_authenticates_api_only_and_is_stored_hashed(client: TestClient, world: World, db_url: str) -> None:
    raw = world.tokens["th_reporter"][1]
    r = api(client, world, "th_reporter", "GET", "/api/v1/me")
    assert r.status_code == 200 and r.json()["username"] == "th_reporter"
    # Pages do not accept bearer tokens.
    assert client.get("/account", headers={"Authorization": f"Bearer {raw}"}).status_code == 303
    stored = run_sql(db_url, "SELECT token_hash, prefix, last_used_at FROM api_tokens WHERE id = :i",
                     i=world.tokens["th_reporter"][0])[0]  # fmt: skip
    assert raw not in stored and stored[0] != raw and raw.startswith(stored[1]) and stored[2] is not None
    # A wrong bearer never falls back to the cookie, and is audited.
    login_ = open_sessions(db_url, ["th_reporter"])["th_reporter"]
    use(client, login_)
    before = audit_count(db_url, "auth.token_failed")
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer dn_forged"}).status_code == 401
    assert audit_count(db_url, "auth.token_failed") == before + 1


def test_read_token_cannot_write(client: TestClient, world: World) -> None:
    r = api(client, world, "th_coord", "POST", "/api/v1/me/tokens", json={"name": "ro", "scope": "read"})
    assert r.status_code == 201
    ro = r.json()["token"]
    assert r.json()["info"]["prefix"] == ro[:10]
    client.cookies.clear()
    h = {"Authorization": f"Bearer {ro}"}
    assert client.get("/api/v1/me", headers=h).status_code == 200
    w = client.post("/api/v1/me/tokens", headers=h, json={"name": "x", "scope": "write"})
    assert w.status_code == 403 and "read" in w.json()["error"]["message"]
    listed = api(client, world, "th_coord", "GET", "/api/v1/me/tokens").json()
    assert all("token" not in t for t in listed)  # shown once: never listed again


def test_revoked_and_expired_tokens_die(client: TestClient, world: World, db_url: str) -> None:
    token_id, raw = world.tokens["vn_reporter"]
    assert api(client, world, "vn_reporter", "DELETE", f"/api/v1/me/tokens/{token_id}").status_code == 200
    client.cookies.clear()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    token_id, raw = world.tokens["la_reporter"]
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        s.execute(update(ApiToken).where(ApiToken.id == token_id)
                  .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # fmt: skip
    engine.dispose()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_disabled_user_loses_sessions_and_tokens_within_one_request(
    client: TestClient, world: World, db_url: str
) -> None:
    victim = open_sessions(db_url, ["th_reporter2"])["th_reporter2"]
    use(client, victim)
    assert client.get("/account").status_code == 200
    r = api(client, world, "admin", "POST", f"/api/v1/admin/users/{world.users['th_reporter2']}/disable")
    assert r.status_code == 200
    use(client, victim)
    assert client.get("/account").status_code == 303
    assert api(client, world, "th_reporter2", "GET", "/api/v1/me").status_code == 401
    revoked = run_sql(db_url, "SELECT revoked_at FROM api_tokens WHERE user_id = :u", u=world.users["th_reporter2"])
    assert all(r[0] is not None for r in revoked)
    # Enabling again does not resurrect the old token.
    api(client, world, "admin", "POST", f"/api/v1/admin/users/{world.users['th_reporter2']}/enable")
    assert api(client, world, "th_reporter2", "GET", "/api/v1/me").status_code == 401


def test_other_methods_cannot_log_in_or_pass_the_second_step(client: TestClient) -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        for path in ("/login", "/login/totp"):
            r = client.request(method, path, data={"username": "analyst", "password": PASSWORD, "code": "123456"})
            assert r.status_code == 405, (method, path)
    assert "dragonnet_session" not in client.cookies


# --- TOTP ---------------------------------------------------------------------------------------------------


def test_totp_login_is_a_second_step_and_rotates_the_session(client: TestClient, db_url: str) -> None:
    secret = _enrol(db_url, "analyst")
    r = login(client, "analyst")
    assert r.status_code == 200 and 'action="/login/totp"' in r.text
    assert "dragonnet_session" not in client.cookies  # no session before the code
    assert client.get("/api/v1/me").status_code == 401
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 303, getattr(r, "text", "")
    assert client.get("/api/v1/me").json()["username"] == "analyst"
    actions = [a for (a,) in run_sql(db_url, "SELECT action FROM audit_events ORDER BY seq")]
    assert actions[-2:] == ["auth.password_ok", "auth.login"] or "auth.login" in actions


def test_totp_code_is_single_use(client: TestClient, db_url: str) -> None:
    secret = _enrol(db_url, "admin")
    code = pyotp.TOTP(secret).now()
    login(client, "admin")
    assert _code_step(client, code).status_code == 303  # type: ignore[attr-defined]
    client.cookies.clear()
    login(client, "admin")
    r = _code_step(client, code)  # the same code again (a replay)
    assert r.status_code == 401 and "used already" in r.text  # type: ignore[attr-defined]
    assert "dragonnet_session" not in client.cookies


def test_totp_guessing_counts_toward_lockout(client: TestClient, db_url: str) -> None:
    secret = _enrol(db_url, "analyst")
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500000) % 1000000:06d}"
    for i in range(MAX_FAILED_LOGINS):
        if i == 2:  # a right password in between must not clear the count
            client.cookies.clear()
            assert login(client, "analyst").status_code == 200
        elif i == 0:
            login(client, "analyst")
        r = _code_step(client, wrong)
        assert r.status_code == 401  # type: ignore[attr-defined]
    assert "locked" in r.text  # type: ignore[attr-defined]
    client.cookies.clear()
    r = login(client, "analyst")
    # Even the right password is refused, with the answer of a wrong one (the lock-out is in the audit log).
    assert r.status_code == 401 and "Invalid username or password" in r.text and "locked" not in r.text
    assert audit_count(db_url, "auth.locked") == 1


def _error_text(html: str) -> str:
    match = re.search(r'<p class="alert alert-error"[^>]*>(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


def test_lockout_answers_exactly_like_a_wrong_password(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S15: a locked account, an unknown name and a wrong password get the same page after the same work."""
    for _ in range(MAX_FAILED_LOGINS):
        login(client, "analyst", "not the password at all")
    assert audit_count(db_url, "auth.locked") == 1
    checks: list[str] = []
    real_verify = users.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        checks.append(password_hash[:9])
        return real_verify(password_hash, password)

    monkeypatch.setattr(users, "verify_password", counting_verify)
    answers = {}
    for case, (name, password) in {
        "locked, right password": ("analyst", PASSWORD),
        "locked, wrong password": ("analyst", "still not the password"),
        "unknown name": ("no.such.user", PASSWORD),
        "wrong password": ("admin", "not the password at all"),
    }.items():
        client.cookies.clear()
        checks.clear()
        r = login(client, name, password)
        # The same status and error text, and exactly one Argon2id verification each (the same time).
        answers[case] = (r.status_code, _error_text(r.text), len(checks), checks[0] if checks else None)
    assert len(set(answers.values())) == 1, answers
    assert answers["unknown name"][:3] == (401, "Invalid username or password.", 1)
    locked_refusals = run_sql(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'auth.login_failed' AND CAST(detail AS TEXT) LIKE '%locked%'",
    )[0][0]
    assert locked_refusals >= 2  # the lock-out still refuses, and says so in the audit log


def test_password_reset_revokes_api_tokens_and_sessions(client: TestClient, world: World, db_url: str) -> None:
    """Resetting a compromised account also cuts off any API token the intruder made."""
    victim = open_sessions(db_url, ["la_reporter"])["la_reporter"]
    assert api(client, world, "la_reporter", "GET", "/api/v1/me").status_code == 200
    r = api(client, world, "admin", "POST", f"/api/v1/admin/users/{world.users['la_reporter']}/password",
            json={"password": NEW_PW})  # fmt: skip
    assert r.status_code == 200
    assert api(client, world, "la_reporter", "GET", "/api/v1/me").status_code == 401
    use(client, victim)
    assert client.get("/account").status_code == 303
    live = run_sql(db_url, "SELECT count(*) FROM api_tokens WHERE user_id = :u AND revoked_at IS NULL",
                   u=world.users["la_reporter"])[0][0]  # fmt: skip
    assert live == 0
    details = run_sql(db_url, "SELECT detail FROM audit_events WHERE action = 'user.password_reset'")
    detail = details[-1][0]
    detail = json.loads(detail) if isinstance(detail, str) else detail  # SQLite gives the JSON text
    assert detail["tokens_revoked"] == 1


def test_password_reset_does_not_bypass_totp(client: TestClient, world: World, db_url: str) -> None:
    _enrol(db_url, "th_coord")
    r = api(client, world, "admin", "POST", f"/api/v1/admin/users/{world.users['th_coord']}/password",
            json={"password": NEW_PW})  # fmt: skip
    assert r.status_code == 200 and r.json()["totp_enabled"] is True
    r = login(client, "th_coord", NEW_PW)
    assert r.status_code == 200 and 'action="/login/totp"' in r.text
    assert "dragonnet_session" not in client.cookies


def test_admin_resets_totp(client: TestClient, world: World, db_url: str) -> None:
    _enrol(db_url, "analyst")
    assert api(client, world, "th_coord", "POST", f"/api/v1/admin/users/{world.users['analyst']}/totp-reset"
               ).status_code == 404  # fmt: skip
    r = api(client, world, "admin", "POST", f"/api/v1/admin/users/{world.users['analyst']}/totp-reset")
    assert r.status_code == 200 and r.json()["totp_enabled"] is False
    assert login(client, "analyst").status_code == 303


def test_enrolment_through_the_pages(client: TestClient, db_url: str) -> None:
    me = open_sessions(db_url, ["vn_coord"])["vn_coord"]
    use(client, me)
    page = client.post("/account/totp/start", data={"csrf_token": me.csrf})
    assert page.status_code == 200 and "otpauth://totp/" in page.text
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    assert client.post("/account/totp/confirm", data={"csrf_token": me.csrf, "code": "000000"}).status_code == 422
    r = client.post("/account/totp/confirm", data={"csrf_token": me.csrf, "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 303
    assert 'id="totp-on"' in client.get("/account/security").text
    assert "totp-secret" not in client.get("/account/security").text  # shown once
    reporter = open_sessions(db_url, ["vn_reporter"])["vn_reporter"]
    use(client, reporter)
    assert client.post("/account/totp/start", data={"csrf_token": reporter.csrf}).status_code == 422


# --- S16 logging --------------------------------------------------------------------------------------------


def test_control_characters_in_a_username_are_encoded(client: TestClient, db_url: str) -> None:
    evil = "root\n2026-01-01 auth.login admin\x1b[31m"
    page = client.get("/login")
    client.post("/login", data={"username": evil, "password": "x" * 12, "csrf_token": csrf_token(page.text)})
    names = [
        n for (n,) in run_sql(db_url, "SELECT actor_username FROM audit_events WHERE action = 'auth.login_failed'")
    ]
    assert names and all("\n" not in n and "\x1b" not in n for n in names)
    assert any("\\x0a" in n and "\\x1b" in n for n in names)


def test_a_password_never_reaches_logs_or_audit(
    client: TestClient, world: World, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "Canary-Pw-9f8e7d6c5b"
    caplog.set_level(logging.DEBUG)
    login(client, "th_reporter", canary)
    login(client, "nobody.here", canary)
    api(client, world, "admin", "POST", "/api/v1/admin/users",
        json={"username": "pw_user", "password": canary + "X", "roles": ["reporter"]})  # fmt: skip
    api(client, world, "admin", "POST", f"/api/v1/admin/users/{world.users['th_reporter2']}/password",
        json={"password": canary + "Y"})  # fmt: skip
    api(client, world, "admin", "POST", "/api/v1/admin/users", json={"username": "short", "password": "Canary",
                                                                      "roles": ["reporter"]})  # fmt: skip
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        rows = s.execute(select(AuditEvent)).scalars().all()
        dump = "\n".join(repr((e.actor_username, e.action, e.object_id, e.detail)) for e in rows)
    engine.dispose()
    assert "Canary" not in dump
    assert "Canary" not in caplog.text
