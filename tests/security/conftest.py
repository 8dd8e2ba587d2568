"""Fixtures of the security battery: the canary world behind a TestClient, per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dragonnet.app import create_app
from dragonnet.storage.db import make_engine, session_scope
from security.world import World, build_world
from web.webtest import settings_for


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return build_world(session, tmp_path)
    finally:
        engine.dispose()


@pytest.fixture
def client(db_url: str, world: World, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(db_url, tmp_path))
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
        yield c
