"""A served worker prepares itself at start (`app.warm_up`), so that no request pays for it (issue #20)."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dragonnet.app import create_app
from dragonnet.config import load_settings
from dragonnet.reference import countries
from web.webtest import settings_for


def test_a_served_worker_freezes_what_lives_as_long_as_it_before_its_first_request(db_url: str, tmp_path: Path) -> None:
    app = create_app(dataclasses.replace(settings_for(db_url, tmp_path), warm_start=True))
    countries._index.cache_clear()
    frozen = gc.get_freeze_count()
    with TestClient(app) as client:
        # what the start left tracked (the app itself at least) is out of the collector's sight...
        assert gc.get_freeze_count() > frozen
        # ...with the reference tables, loaded before any request needed them
        assert countries._index.cache_info().currsize == 1
        assert client.get("/api/v1/health").status_code == 200


def test_servers_warm_start_unless_told_not_to(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRAGONNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DRAGONNET_SECRET_KEY", "k")
    monkeypatch.delenv("DRAGONNET_WARM_START", raising=False)
    assert load_settings().warm_start
    monkeypatch.setenv("DRAGONNET_WARM_START", "0")
    assert not load_settings().warm_start
