"""Databases built once per test process and cloned for every test that needs one.

Migrating an empty database (every Alembic revision) takes about half a second, seeding the web operation
about as long again and building the demo many seconds; the suite needs thousands of such databases. Each
kind is built once per test run into a template and each test gets its own clone: on SQLite a copy of the
template file, on PostgreSQL `CREATE DATABASE ... TEMPLATE`. A clone is the same database the test would have
built itself (same rows, same ids, same sequences), only made faster, and no test ever shares a database with
another.

Under xdist the workers share the templates: the first worker to need a kind builds it while holding a file
lock (the others wait for it, then read its payload), so the demo is built once per backend, not once per
worker. The process that started the run (xdist's controller, or pytest alone) drops them at its end.

    url, payload = TEMPLATES.clone("seeded", backend, folder)   # payload: what the builder returned

Builders are registered by kind (`register`); they receive the template's URL (and, for kinds that keep
files beside the database, its data folder, copied into the clone's folder), must dispose of every engine
they open (PostgreSQL refuses to copy a database that has a session on it) and return a value that is
handed out (deep-copied) with every clone. Which kind `db_url` clones is the `db_template` fixture's
answer (tests/conftest.py), which a directory's conftest extends for the fixtures that fill its databases.
"""

from __future__ import annotations

import copy
import fcntl
import os
import pickle
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
    # The test run the templates belong to (xdist's testrunuid, shared by its workers; see tests/conftest.py),
    # and whether this process started the run and so drops them at its end.
    run_id: str = field(default_factory=lambda: os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex)
    owner: bool = True

    @property
    def tag(self) -> str:
        """The run's mark on its templates (folder, PostgreSQL names): short enough for a 63-byte name."""
        return self.run_id[:16]

    @property
    def run_folder(self) -> Path:
        """The run's folder: SQLite templates, the files of kinds that keep some, the build locks and payloads."""
        return Path(tempfile.gettempdir()) / f"dragonnet-templates-{self.tag}"

    @property
    def folder(self) -> Path:
        """`run_folder`, created if need be."""
        self.run_folder.mkdir(exist_ok=True)
        return self.run_folder

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
            self.built[key] = self._shared(kind, backend)
        return self.built[key]

    def _shared(self, kind: str, backend: str) -> _Built:
        """The run's template of `kind`: built here if no worker has built it yet, else the one built."""
        folder = self.folder
        done = folder / f"{kind}-{backend}.built"  # the pickled _Built, written once the template is whole
        with (folder / f"{kind}-{backend}.lock").open("w") as lock:
            # Held while building: another worker asking for the same kind waits here, then reads `done`. A
            # builder that dies releases it with its process, and the next one builds afresh (`_build` drops a
            # half-built PostgreSQL template; SQLite's file is rewritten).
            fcntl.flock(lock, fcntl.LOCK_EX)
            if done.exists():
                built: _Built = pickle.loads(done.read_bytes())  # written by this run's workers
                return built
            built = self._build(kind, backend)
            partial = done.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(built))
            partial.rename(done)
            return built

    def _build(self, kind: str, backend: str) -> _Built:
        base, build, files = self.builders[kind]
        folder = self.folder
        data_dir = None
        if files:
            data_dir = folder / f"{kind}-{backend}-files"
            shutil.rmtree(data_dir, ignore_errors=True)
            data_dir.mkdir()
        if backend == "sqlite":
            path = folder / f"{kind}.db"
            for leftover in (path, path.with_name(f"{kind}.db-wal"), path.with_name(f"{kind}.db-shm")):
                leftover.unlink(missing_ok=True)
            if base is None:
                url = f"sqlite:///{path}"
            else:
                url, _ = self.clone(base, backend, folder, f"{kind}.db")
                del self.cloned[url]
            payload = build(url, data_dir) if files else build(url)
            # Fold the write-ahead log into the file, so that copying the file copies everything.
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            return _Built(str(path), payload, data_dir)
        # One set of templates per test run (its workers share them): concurrent runs do not drop each other's.
        name = f"dragonnet_template_{kind}_{self.tag}"
        drop_postgres_database(postgres_url(name))
        if base is None:
            url = create_postgres_database(name)
        else:
            url = create_postgres_database(name, template=self._template(base, backend).where)
        payload = build(url, data_dir) if files else build(url)
        return _Built(name, payload, data_dir)

    def drop_all(self) -> None:
        """Remove the run's templates (end of the session; only the process that started the run: an xdist
        worker's end is not the run's, another worker may still clone them)."""
        self.built.clear()
        if not self.owner:
            return
        if POSTGRES_URL:
            suffix = f"_{self.tag}"
            admin = postgres_admin_engine()
            with admin.connect() as conn:
                names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                                     {"prefix": "dragonnet_template_"}).scalars().all()  # fmt: skip
            admin.dispose()
            for name in names:
                if name.endswith(suffix):
                    drop_postgres_database(postgres_url(name))
        shutil.rmtree(self.run_folder, ignore_errors=True)


TEMPLATES = DatabaseTemplates()
TEMPLATES.register("migrated", migrate, base=None)
