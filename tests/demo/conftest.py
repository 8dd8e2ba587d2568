"""A demo database per test module and backend: a clone of the demo built once per worker and backend (building
takes many seconds, cloning milliseconds)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dbtemplates import TEMPLATES, drop_postgres_database
from dragonnet.demo import DemoSummary, build_demo
from dragonnet.storage.db import make_engine

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


def _build_demo(url: str) -> DemoSummary:
    engine = make_engine(url)
    with Session(engine) as session:
        summary = build_demo(session, seed=2023)
        session.commit()
    engine.dispose()
    return summary


# Built once per worker and backend, cloned for every module (a module may change its copy).
TEMPLATES.register("demo", _build_demo)


@pytest.fixture(scope="module")
def demo_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDB]:
    url, summary = TEMPLATES.clone("demo", backend, tmp_path_factory.mktemp("demo"), "demo.db")
    engine = make_engine(url)
    yield DemoDB(backend, engine, summary)
    engine.dispose()
    if backend == "postgresql":
        drop_postgres_database(url)


@pytest.fixture
def demo(demo_db: DemoDB) -> Iterator[Session]:
    """A read-only session on the module's demo database."""
    with Session(demo_db.engine) as session:
        yield session
        session.rollback()
