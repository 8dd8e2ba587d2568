"""A served worker hands the interpreter between its threads every millisecond (`DRAGONNET_SWITCH_INTERVAL_MS`),
not every 5 ms: a request that waits on the database gives the interpreter up at each statement and waits up to
that long to get it back from a thread that computes, so a report (~20 statements) paid it far more often than a
list (issue #20; docs/benchmarks.md, thirteenth session)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dragonnet.app import create_app
from dragonnet.cli.main import app as cli
from dragonnet.config import InvalidSetting, load_settings
from web.webtest import settings_for


@pytest.fixture
def interpreter_switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DRAGONNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DRAGONNET_SECRET_KEY", "k")
    monkeypatch.delenv("DRAGONNET_SWITCH_INTERVAL_MS", raising=False)
    return monkeypatch


def test_a_served_worker_sets_the_interval_at_start(
    db_url: str, tmp_path: Path, interpreter_switch_interval: None
) -> None:
    sys.setswitchinterval(0.005)
    app = create_app(dataclasses.replace(settings_for(db_url, tmp_path), switch_interval=0.001))
    assert sys.getswitchinterval() == pytest.approx(0.005)  # building the app changes nothing...
    with TestClient(app) as client:
        assert sys.getswitchinterval() == pytest.approx(0.001)  # ...starting it does
        assert client.get("/api/v1/health").status_code == 200


def test_apps_built_without_the_setting_leave_the_interpreter_as_it_is(
    db_url: str, tmp_path: Path, interpreter_switch_interval: None
) -> None:
    sys.setswitchinterval(0.004)
    with TestClient(create_app(settings_for(db_url, tmp_path))):
        assert sys.getswitchinterval() == pytest.approx(0.004)


def test_servers_switch_every_millisecond_unless_told_otherwise(environment: pytest.MonkeyPatch) -> None:
    assert load_settings().switch_interval == pytest.approx(0.001)
    environment.setenv("DRAGONNET_SWITCH_INTERVAL_MS", "5")
    assert load_settings().switch_interval == pytest.approx(0.005)
    environment.setenv("DRAGONNET_SWITCH_INTERVAL_MS", "0.5")
    assert load_settings().switch_interval == pytest.approx(0.0005)


@pytest.mark.parametrize("text", ["", "abc", "0", "0.05", "101", "nan", "inf", "-1"])
def test_an_unreadable_interval_is_refused_with_what_it_takes(environment: pytest.MonkeyPatch, text: str) -> None:
    environment.setenv("DRAGONNET_SWITCH_INTERVAL_MS", text)
    with pytest.raises(InvalidSetting, match=r"DRAGONNET_SWITCH_INTERVAL_MS=.*milliseconds from 0\.1 to 100"):
        load_settings()


@pytest.mark.parametrize("text", ["", "eight", "0", "1000", "-3"])
def test_an_unreadable_session_lifetime_is_refused(environment: pytest.MonkeyPatch, text: str) -> None:
    environment.setenv("DRAGONNET_SESSION_HOURS", text)
    with pytest.raises(InvalidSetting, match=r"DRAGONNET_SESSION_HOURS=.*whole number of hours"):
        load_settings()


def test_serve_refuses_a_wrong_setting_in_one_line(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    environment.setenv("DRAGONNET_SWITCH_INTERVAL_MS", "fast")
    result = runner.invoke(cli, ["serve", "--database-url", url, "--port", "1"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: DRAGONNET_SWITCH_INTERVAL_MS='fast': give a number of milliseconds from 0.1 to 100 (default 1)"
    ]
