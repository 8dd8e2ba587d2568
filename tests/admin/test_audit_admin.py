"""Audit browsing, export (CSV formula neutralisation), access history, the CLI, and the app's DB role."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from admin.helpers import api, run_sql
from dragonnet.cli.admin import admin_app
from dragonnet.policy import audit
from dragonnet.storage.db import make_engine, normalise_url, session_scope
from security.sessions import open_sessions, use
from security.world import World

EVIL = ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "\tx", "\rx", "plain"]


def _evil_entries(db_url: str) -> None:
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        for value in EVIL:
            audit.record(s, audit.AuditActor(None, value, "=BAD", None), "test.evil", "thing", value, note=value)
    engine.dispose()


def _cells(body: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body)) for cell in row]


def test_export_neutralises_formulas(client: TestClient, world: World, db_url: str) -> None:
    _evil_entries(db_url)
    r = api(client, world, "admin", "GET", "/api/v1/admin/audit/export?action=test.evil")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    cells = _cells(r.text)
    bad = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    print(f"\nS13 (audit export): {len(cells)} cells checked, {len(bad)} unescaped")
    assert bad == [] and '\'=HYPERLINK("http://x")' in cells and "'+1+2" in cells
    assert api(client, world, "th_coord", "GET", "/api/v1/admin/audit/export").status_code == 404


def test_browse_filters_and_pages(client: TestClient, world: World, db_url: str) -> None:
    _evil_entries(db_url)
    r = api(client, world, "admin", "GET", "/api/v1/admin/audit", params={"action": "test.", "per_page": 3})
    body = r.json()
    assert body["total"] == len(EVIL) and body["pages"] == 3 and len(body["events"]) == 3
    r = api(client, world, "admin", "GET", "/api/v1/admin/audit", params={"user": "th_coord", "action": "token.create"})
    assert r.json()["total"] == 1
    r = api(client, world, "admin", "GET", "/api/v1/admin/audit", params={"since": "2099-01-01"})
    assert r.json()["total"] == 0
    login = open_sessions(db_url, ["admin"])["admin"]
    use(client, login)
    page = client.get("/admin/audit?action=test.&page=2")
    assert page.status_code == 200 and "page 1 of 1" in page.text and "<script" not in page.text.split("<main")[1]
    csv_page = client.get("/admin/audit/export.csv?action=test.evil")
    assert csv_page.status_code == 200 and "'@SUM(A1)" in csv_page.text


def test_my_access_history(client: TestClient, world: World, db_url: str) -> None:
    from web.webtest import login

    login(client, "vn_reporter", "Wrong-password-000")
    assert login(client, "vn_reporter").status_code == 303
    page = client.get("/account/history")
    assert page.status_code == 200
    assert "auth.login_failed" in page.text and "auth.login" in page.text and "token.create" in page.text
    assert "th_reporter" not in page.text  # nobody else's entries
    mine = client.get("/api/v1/me/history").json()
    assert {e["action"] for e in mine["events"]} >= {"auth.login", "auth.login_failed"}
    assert 'hx-get="/account/history"' in client.get("/account").text


def test_admin_pages_render_and_check_csrf(client: TestClient, world: World, db_url: str) -> None:
    logins = open_sessions(db_url, ["admin", "th_coord", "th_reporter"])
    use(client, logins["admin"])
    for path in ("/admin", "/admin/users", "/admin/agencies", f"/admin/agencies/{world.agencies['TH-CUS']}",
                 f"/admin/users/{world.users['vn_reporter']}", "/admin/tokens", "/admin/audit", "/account/tokens",
                 "/account/security"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    form = {"username": "page_user", "password": "Page-user-passphrase-1", "roles": ["reporter"],
            "agency_code": "VN-CUS", "display_name": "Page User"}  # fmt: skip
    assert client.post("/admin/users", data=form).status_code == 403  # no CSRF token
    r = client.post("/admin/users", data={**form, "csrf_token": logins["admin"].csrf})
    assert r.status_code == 303
    assert "Page User" in client.get(r.headers["location"]).text
    use(client, logins["th_coord"])
    users_page = client.get("/admin/users")
    assert "vn_reporter" not in users_page.text and "th_reporter" in users_page.text
    assert client.get("/admin/audit").status_code == 404
    use(client, logins["th_reporter"])
    assert client.get("/admin").status_code == 404
    r = client.post("/account/tokens", data={"csrf_token": logins["th_reporter"].csrf, "name": "cli", "scope": "read"})
    assert r.status_code == 200 and 'id="token-value"' in r.text


def test_cli_audit_export_and_tokens(world: World, db_url: str, tmp_path: Path) -> None:
    _evil_entries(db_url)
    runner = CliRunner()
    out = tmp_path / "audit.csv"
    r = runner.invoke(admin_app, ["audit-export", "--out", str(out), "--database-url", db_url])
    assert r.exit_code == 0, r.output
    cells = _cells(out.read_text(encoding="utf-8"))
    assert "'=BAD" in cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    r = runner.invoke(admin_app, ["token-create", "analyst", "--name", "sync", "--scope", "write",
                                  "--database-url", db_url])  # fmt: skip
    assert r.exit_code == 0 and r.stdout.strip().startswith("dn_")
    r = runner.invoke(admin_app, ["token-list", "analyst", "--database-url", db_url])
    assert "sync" in r.stdout and "live" in r.stdout
    r = runner.invoke(admin_app, ["token-revoke", str(world.tokens["analyst"][0]), "--database-url", db_url])
    assert r.exit_code == 0
    r = runner.invoke(admin_app, ["totp-reset", "nobody", "--database-url", db_url])
    assert r.exit_code == 1 and "error: unknown user" in r.stderr
    r = runner.invoke(admin_app, ["audit-export", "--out", str(out), "--since", "yesterday", "--database-url", db_url])
    assert r.exit_code == 1 and r.stderr.startswith("error:")


def test_app_role_cannot_update_or_delete_audit(db_url: str, backend: str) -> None:
    """docs/security.md: a non-superuser role with the documented grants cannot edit the audit log."""
    if backend != "postgresql":
        pytest.skip("roles are a PostgreSQL matter (SQLite relies on its triggers)")
    role = f"dn_app_{uuid.uuid4().hex[:8]}"
    pw = uuid.uuid4().hex
    database = make_url(db_url).database
    sql = Path(__file__).parents[2].joinpath("docs/security.md").read_text().split("```sql")[1].split("```")[0]
    sql = sql.replace("dragonnet_app", role).replace("CHANGE-ME", pw).replace("dragonnet_db", database or "")
    admin = create_engine(normalise_url(db_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    as_app = create_engine(make_url(normalise_url(db_url)).set(username=role, password=pw))
    try:
        with Session(as_app) as s:
            audit.record(s, audit.SYSTEM, "test.append", None, None)  # appends still work
            s.commit()
            with as_app.begin() as conn:  # an entry committed but not chained yet (as after a crash)
                conn.execute(text("INSERT INTO audit_staged (at, action, detail) VALUES (now(), 'test.staged', '{}')"))
            for stmt in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events",
                         "TRUNCATE audit_events", "ALTER TABLE audit_events DISABLE TRIGGER ALL",
                         "SET session_replication_role = replica", "UPDATE audit_staged SET action = 'x'",
                         "DELETE FROM audit_staged", "TRUNCATE audit_staged",
                         "ALTER TABLE audit_staged DISABLE TRIGGER ALL"):  # fmt: skip
                with pytest.raises(DBAPIError, match=r"permission denied|must be owner|append-only"):
                    s.execute(text(stmt))
                s.rollback()
            assert audit.verify(s).ok
            assert audit.append_staged(as_app) == 1  # the appender's own move is allowed
            assert audit.verify(s).ok
    finally:
        as_app.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()
    assert run_sql(db_url, "SELECT count(*) FROM audit_events WHERE action = 'test.append'") == [(1,)]
    assert run_sql(db_url, "SELECT count(*) FROM audit_events WHERE action = 'test.staged'") == [(1,)]
