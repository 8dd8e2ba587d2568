"""Shared fixtures: a fresh, migrated database per test, on SQLite and (when configured) PostgreSQL.

Every database is a clone of a template built once per worker (tests/dbtemplates.py): a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL.

Tests that take the `db_url` / `engine` / `session` fixtures run once per backend. PostgreSQL runs when
DRAGONNET_TEST_POSTGRES_URL points to a server where the user may create databases (`make test` starts a
throwaway one); in CI it is required, elsewhere those runs are skipped with a reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import cheap_passwords
import route_contexts
from dbtemplates import TEMPLATES, create_postgres_database, drop_postgres_database
from dragonnet.storage.db import make_engine

route_contexts.install()
cheap_passwords.install()

POSTGRES_URL = os.environ.get("DRAGONNET_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    """The run's id for the shared database templates (tests/dbtemplates.py). Under xdist, the controller
    fixes the run's id (its `--testrunuid`) before it starts the workers, which get it as
    PYTEST_XDIST_TESTRUNUID; the controller, or pytest alone, owns the templates and drops them at the end."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        TEMPLATES.run_id, TEMPLATES.owner = workerinput["testrunuid"], False
        return
    if config.pluginmanager.hasplugin("xdist") and config.getoption("testrunuid", None) is None:
        config.option.testrunuid = uuid.uuid4().hex
    TEMPLATES.run_id = config.getoption("testrunuid", None) or TEMPLATES.run_id
    TEMPLATES.owner = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgres)


def pytest_sessionfinish(session: pytest.Session) -> None:
    TEMPLATES.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql" and not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: DRAGONNET_TEST_POSTGRES_URL is not set")
        pytest.skip("DRAGONNET_TEST_POSTGRES_URL not set (make test starts a throwaway PostgreSQL)")
    return name


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database URL with no schema yet (a different database from `db_url`'s)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_postgres_database(f"dragonnet_test_{uuid.uuid4().hex[:12]}")
    yield url
    drop_postgres_database(url)


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> str:
    """The template `db_url` clones: "migrated" (empty), or "seeded" when the test also takes `seeded_db`
    (tests/web/webtest.py), which then finds the operation it would have seeded there already. Directories
    whose fixtures fill the database override this the same way (tests/security/conftest.py)."""
    return "seeded" if "seeded_db" in request.fixturenames else "migrated"


@pytest.fixture
def db_url(backend: str, tmp_path: Path, db_template: str) -> Iterator[str]:
    """A migrated database URL on the parametrised backend: a clone of the worker's `db_template` template
    (empty unless a fixture of the test fills it; files that fixture keeps are copied into tmp_path)."""
    url, _ = TEMPLATES.clone(db_template, backend, tmp_path)
    yield url
    if backend == "postgresql":
        drop_postgres_database(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
