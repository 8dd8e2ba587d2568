"""Helpers of the administration and security tests: API calls with a user's token, table snapshots."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import AuditEvent, Base
from security.world import World

# Tables whose rows change on their own (logins, the log itself): not part of "what a write changed".
VOLATILE = {"audit_events", "audit_head", "web_sessions", "login_challenges", "alembic_version"}


def api(client: TestClient, world: World, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {world.tokens[who][1]}"}
    return client.request(method, path, headers=headers, **kw)


def snapshot(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the volatile ones), sorted: compare before and after a write."""
    engine = make_engine(db_url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with session_scope(engine) as s:
            for table in Base.metadata.sorted_tables:
                if table.name in VOLATILE:
                    continue
                cols = [c for c in table.columns if c.name != "last_used_at"]
                rows = s.execute(select(*cols)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    finally:
        engine.dispose()
    return out


def changed_tables(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


def audit_count(db_url: str, action: str) -> int:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            return len(s.execute(select(AuditEvent.id).where(AuditEvent.action == action)).all())
    finally:
        engine.dispose()


def run_sql(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            rows = [tuple(r) for r in s.execute(text(sql), params).all()]
            s.commit()
            return rows
    finally:
        engine.dispose()
