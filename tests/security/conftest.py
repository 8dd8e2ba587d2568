"""Fixtures of the security battery: the canary world behind a TestClient, per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dbtemplates import TEMPLATES
from dragonnet.app import create_app
from dragonnet.storage.db import make_engine, session_scope
from security.world import World, build_world
from web.webtest import settings_for


def _build_world(db_url: str, data_dir: Path) -> World:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return build_world(session, data_dir)
    finally:
        engine.dispose()


# Built once per worker and backend (attachments and staged uploads included), cloned for every test.
TEMPLATES.register("security_world", _build_world, files=True)


@pytest.fixture
def db_template(db_template: str, request: pytest.FixtureRequest) -> str:
    return "security_world" if "world" in request.fixturenames else db_template


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    """The canary world in `db_url`'s database and tmp_path (a clone of the worker's; built here when the
    test asked for it by getfixturevalue)."""
    cloned: World | None = TEMPLATES.payload_of(db_url, "security_world")
    return cloned if cloned is not None else _build_world(db_url, tmp_path)


@pytest.fixture
def client(db_url: str, world: World, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(db_url, tmp_path))
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
        yield c
