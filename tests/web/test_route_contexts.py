"""The suite's memo of FastAPI's built routes (tests/route_contexts.py) shares only what is the same for every app:
apps share a route's built handling, and an app with dependency overrides builds its own."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException
from fastapi.testclient import TestClient

import route_contexts
from dragonnet.app import create_app
from dragonnet.http.deps import api_actor
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from web.webtest import settings_for


def _refuse() -> None:
    raise HTTPException(status_code=418, detail="overridden")


def test_apps_share_built_routes_but_not_their_overrides(tmp_path: Path) -> None:
    from fastapi.routing import _IncludedRouter

    assert getattr(_IncludedRouter._build_effective_context, "shared_between_apps", False)  # installed
    url = f"sqlite:///{tmp_path / 'routes.db'}"
    upgrade(make_engine(url))

    def status(overridden: bool) -> int:
        app = create_app(settings_for(url, tmp_path))
        if overridden:
            app.dependency_overrides[api_actor] = _refuse
        with TestClient(app) as client:
            return client.get("/api/v1/cases/1").status_code

    assert status(False) == 401
    before = dict(route_contexts.SHARED)
    assert status(False) == 401  # the second app reuses what the first built
    assert route_contexts.SHARED["reused"] > before["reused"]
    assert route_contexts.SHARED["built"] == before["built"]
    assert status(True) == 418  # overrides: built for that app, and they apply
    assert status(False) == 401  # and they stay that app's
