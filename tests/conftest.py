"""Shared fixtures: a fresh, migrated database per test, on SQLite and (when configured) PostgreSQL.

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
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade

POSTGRES_URL = os.environ.get("DRAGONNET_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgres)


_template_ready = False


def _postgres_admin_engine() -> Engine:
    assert POSTGRES_URL
    return create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _new_postgres_database() -> str:
    """A fresh database cloned from a migrated template (migrating once per run keeps tests fast)."""
    global _template_ready
    assert POSTGRES_URL
    admin = _postgres_admin_engine()
    # One template per xdist worker: workers must not drop each other's template.
    template = f"dragonnet_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with admin.connect() as conn:
        if not _template_ready:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
            conn.execute(text(f'CREATE DATABASE "{template}"'))
            url = make_url(normalise_url(POSTGRES_URL)).set(database=template)
            engine = make_engine(url.render_as_string(hide_password=False))
            upgrade(engine)
            engine.dispose()
            _template_ready = True
        name = f"dragonnet_test_{uuid.uuid4().hex[:12]}"
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = _postgres_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
    assert POSTGRES_URL
    admin = _postgres_admin_engine()
    name = f"dragonnet_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
    yield url
    _drop_postgres_database(url)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL on the parametrised backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'dragonnet.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    url = _new_postgres_database()
    yield url
    _drop_postgres_database(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
