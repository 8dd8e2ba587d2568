"""Databases built once per test process and cloned for every test that needs one.

Migrating an empty database (every Alembic revision) takes about half a second, seeding the web operation
about as long again and building the demo many seconds; the suite needs thousands of such databases. Each
kind is built once per pytest process (per xdist worker) into a template and each test gets its own clone:
on SQLite a copy of the template file, on PostgreSQL `CREATE DATABASE ... TEMPLATE`. A clone is the same
database the test would have built itself (same rows, same ids, same sequences), only made faster, and no
test ever shares a database with another.

    url, payload = TEMPLATES.clone("seeded", backend, folder)   # payload: what the builder returned

Builders are registered by kind (`register`); they receive the template's URL (and, for kinds that keep
files beside the database, its data folder, copied into the clone's folder), must dispose of every engine
they open (PostgreSQL refuses to copy a database that has a session on it) and return a value that is
handed out (deep-copied) with every clone. Which kind `db_url` clones is the `db_template` fixture's
answer (tests/conftest.py), which a directory's conftest extends for the fixtures that fill its databases.
"""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from dragonnet.storage.db import make_engine, normalise_url
from dragonnet.storage.migrate import upgrade

POSTGRES_URL = os.environ.get("DRAGONNET_TEST_POSTGRES_URL")

Builder = Callable[..., Any]  # (url) -> payload, or (url, data_dir) -> payload for kinds with files


def postgres_admin_engine() -> Engine:
    assert POSTGRES_URL
    return create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def postgres_url(database: str) -> str:
    assert POSTGRES_URL
    return make_url(normalise_url(POSTGRES_URL)).set(database=database).render_as_string(hide_password=False)


def create_postgres_database(name: str, template: str | None = None) -> str:
    """CREATE DATABASE `name` (as a copy of `template` when given); returns its URL."""
    admin = postgres_admin_engine()
    with admin.connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    admin.dispose()
    return postgres_url(name)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = postgres_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


@dataclass
class _Built:
    where: str  # the template's file (SQLite) or database name (PostgreSQL)
    payload: Any
    data_dir: Path | None  # the files the builder wrote beside the database, if it keeps any


@dataclass
class DatabaseTemplates:
    builders: dict[str, tuple[str | None, Builder, bool]] = field(default_factory=dict)
    built: dict[tuple[str, str], _Built] = field(default_factory=dict)
    cloned: dict[str, str] = field(default_factory=dict)  # URL -> the kind it is a clone of
    folder: Path | None = None

    def register(self, kind: str, build: Builder, *, base: str | None = "migrated", files: bool = False) -> None:
        """`build` fills a copy of the `base` template (None: an empty database) and returns the payload; with
        `files`, it is also given a data folder, whose contents every clone gets in its own folder."""
        self.builders[kind] = (base, build, files)

    def clone(self, kind: str, backend: str, folder: Path, filename: str = "dragonnet.db") -> tuple[str, Any]:
        """A new database of `kind` (SQLite: `folder/filename`), and the builder's payload for it."""
        built = self._template(kind, backend)
        if built.data_dir is not None:
            shutil.copytree(built.data_dir, folder, dirs_exist_ok=True)
        if backend == "sqlite":
            target = folder / filename
            shutil.copyfile(built.where, target)
            url = f"sqlite:///{target}"
        else:
            url = create_postgres_database(f"dragonnet_test_{uuid.uuid4().hex[:12]}", template=built.where)
        self.cloned[url] = kind
        return url, copy.deepcopy(built.payload)

    def payload_of(self, url: str, kind: str) -> Any | None:
        """The builder's payload if `url` was cloned from the `kind` template (None otherwise)."""
        if self.cloned.get(url) != kind:
            return None
        return copy.deepcopy(self.built[(kind, "sqlite" if url.startswith("sqlite") else "postgresql")].payload)

    def _template(self, kind: str, backend: str) -> _Built:
        key = (kind, backend)
        if key not in self.built:
            self.built[key] = self._build(kind, backend)
        return self.built[key]

    def _build(self, kind: str, backend: str) -> _Built:
        base, build, files = self.builders[kind]
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix=f"dragonnet-templates-{worker}-"))
        data_dir = None
        if files:
            data_dir = self.folder / f"{kind}-{backend}-files"
            data_dir.mkdir()
        if backend == "sqlite":
            if base is None:
                url = f"sqlite:///{self.folder / kind}.db"
            else:
                url, _ = self.clone(base, backend, self.folder, f"{kind}.db")
                del self.cloned[url]
            payload = build(url, data_dir) if files else build(url)
            path = self.folder / f"{kind}.db"
            # Fold the write-ahead log into the file, so that copying the file copies everything.
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            return _Built(str(path), payload, data_dir)
        # One set of templates per process: workers (and concurrent pytest runs) must not drop each other's.
        name = f"dragonnet_template_{kind}_{worker}_{os.getpid()}"
        drop_postgres_database(postgres_url(name))
        if base is None:
            url = create_postgres_database(name)
        else:
            url = create_postgres_database(name, template=self._template(base, backend).where)
        payload = build(url, data_dir) if files else build(url)
        return _Built(name, payload, data_dir)

    def drop_all(self) -> None:
        """Remove the templates (end of the session)."""
        for (_kind, backend), built in self.built.items():
            if backend == "postgresql":
                drop_postgres_database(postgres_url(built.where))
        self.built.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


TEMPLATES = DatabaseTemplates()
TEMPLATES.register("migrated", migrate, base=None)
