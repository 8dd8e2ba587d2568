"""A demo database built once per test module and backend (building takes seconds, not milliseconds)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dragonnet.demo import DemoSummary, build_demo
from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade

POSTGRES_URL = os.environ.get("DRAGONNET_TEST_POSTGRES_URL")


@dataclass(frozen=True)
class DemoDB:
    backend: str
    engine: Engine
    summary: DemoSummary


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Module-scoped twin of the root `backend` fixture (same name, so the root conftest marks postgres runs)."""
    name: str = request.param
    if name == "postgresql" and not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: DRAGONNET_TEST_POSTGRES_URL is not set")
        pytest.skip("DRAGONNET_TEST_POSTGRES_URL not set (make test starts a throwaway PostgreSQL)")
    return name


def new_database(backend: str, folder: Path) -> str:
    """A fresh, migrated database URL on `backend`."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'demo.db'}"
    else:
        assert POSTGRES_URL
        name = f"dragonnet_demo_{uuid.uuid4().hex[:12]}"
        admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    if not url.startswith("postgresql") or not POSTGRES_URL:
        return
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def demo_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDB]:
    url = new_database(backend, tmp_path_factory.mktemp("demo"))
    engine = make_engine(url)
    with Session(engine) as session:
        summary = build_demo(session, seed=2023)
        session.commit()
    yield DemoDB(backend, engine, summary)
    engine.dispose()
    drop_database(url)


@pytest.fixture
def demo(demo_db: DemoDB) -> Iterator[Session]:
    """A read-only session on the module's demo database."""
    with Session(demo_db.engine) as session:
        yield session
        session.rollback()
