"""Helpers and fixtures for testing the app with FastAPI's TestClient, on every backend of `db_url`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from dbtemplates import TEMPLATES
from dragonnet.app import create_app
from dragonnet.config import Settings
from dragonnet.storage.db import make_engine, session_scope
from web.seed import PASSWORD, Seeded, seed

_HIDDEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')


def settings_for(db_url: str, data_dir: Path, *, secure_cookies: bool = False) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=data_dir,
        secret_key="test-secret-key-not-for-production",
        session_hours=8,
        secure_cookies=secure_cookies,
    )


def seed_database(db_url: str) -> Seeded:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return seed(session)
    finally:
        engine.dispose()


TEMPLATES.register("seeded", seed_database)


@pytest.fixture
def seeded_db(db_url: str) -> Seeded:
    """The web operation (tests/web/seed.py) in `db_url`'s database: `db_url` clones it from the seeded template
    when the test takes this fixture directly; seeded here otherwise (asked for by getfixturevalue)."""
    seeded: Seeded | None = TEMPLATES.payload_of(db_url, "seeded")
    return seeded if seeded is not None else seed_database(db_url)


@pytest.fixture
def app_client(db_url: str, seeded_db: Seeded, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(db_url, tmp_path))
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


def csrf_token(html: str) -> str:
    """The first hidden csrf_token value of a page."""
    match = _HIDDEN.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, *, next_path: str = "/") -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200, form.text
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(form.text), "next": next_path},
    )


def set_session_cookie(client: TestClient, value: str) -> None:
    """Replace the browser's session cookie (e.g. with a copy kept from before logout)."""
    client.cookies.delete("dragonnet_session")
    # The domain the cookie jar gives cookies set by "testserver" (a host without a dot).
    client.cookies.set("dragonnet_session", value, domain="testserver.local", path="/")


def logged_in(client: TestClient, username: str) -> TestClient:
    response = login(client, username)
    assert response.status_code == 303, response.text
    assert client.cookies.get("dragonnet_session")
    return client
