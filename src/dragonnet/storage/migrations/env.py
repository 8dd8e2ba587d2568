"""Alembic environment: runs on the connection dragonnet hands it (see dragonnet.storage.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from dragonnet.storage.db import normalise_url
from dragonnet.storage.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = normalise_url(config.get_main_option("sqlalchemy.url") or "")
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
