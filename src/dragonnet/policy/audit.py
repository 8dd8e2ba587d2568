"""The append-only, hash-chained audit log: recording (with notes kept across a refused request), browsing
and export. The chain itself (staging, batched appends, verify: see its docstring for why batching is as
strong as appending in the request's own transaction) is `storage.audit_chain`; its names are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dragonnet.storage.audit_chain import (
    BATCH,
    GENESIS,
    SYSTEM,
    AuditActor,
    VerifyResult,
    _entry_hash,
    append_staged,
    chain_committed,
    parse_anchor,
    record,
    record_many,
    serialise,
    staged_count,
    verify,
)
from dragonnet.storage.models import AuditEvent, AuditStaged
from dragonnet.tabular import safe_text

__all__ = [
    "BATCH", "GENESIS", "SYSTEM", "AuditActor", "AuditFilter", "AuditNote", "VerifyResult", "_entry_hash",
    "append_staged", "browse", "chain_committed", "clean_text", "export_csv", "parse_anchor", "record",
    "record_many", "record_note", "serialise", "staged_count", "verify",
]  # fmt: skip


@dataclass(frozen=True)
class AuditNote:
    """An entry to record even though the request it belongs to is refused and rolled back."""

    actor: AuditActor
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]


def record_note(session: Session, note: AuditNote) -> AuditStaged:
    return record(session, note.actor, note.action, note.object_type, note.object_id, **note.detail)


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}


def clean_text(value: str, limit: int = 64) -> str:
    """Untrusted text for the log: control characters (newlines, ANSI escapes) written as \\xNN, cut."""
    return value.translate(_CONTROL)[:limit]


# --- browsing and export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None  # exact action, or a prefix ending in "." (e.g. "auth.")
    username: str | None = None
    agency: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    user_id: int | None = None  # "my access history": entries made by this user or about their account

    def query(self) -> Select[AuditEvent]:
        q = select(AuditEvent)
        if self.action:
            if self.action.endswith("."):
                q = q.where(AuditEvent.action.startswith(self.action, autoescape=True))
            else:
                q = q.where(AuditEvent.action == self.action)
        if self.username:
            q = q.where(func.lower(AuditEvent.actor_username) == self.username.lower())
        if self.agency:
            q = q.where(AuditEvent.actor_agency == self.agency)
        if self.since:
            q = q.where(AuditEvent.at >= dt.datetime.combine(self.since, dt.time(), dt.UTC))
        if self.until:
            q = q.where(AuditEvent.at < dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC))
        if self.user_id is not None:
            about_me = (AuditEvent.object_type == "user") & (AuditEvent.object_id == str(self.user_id))
            q = q.where(or_(AuditEvent.actor_user_id == self.user_id, about_me & AuditEvent.action.startswith("auth.")))
        return q


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def browse(session: Session, flt: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of entries matching `flt`, newest first."""
    page = max(1, page)
    per_page = min(max(1, per_page), 500)
    base = flt.query()
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    page = min(page, max(1, -(-total // per_page)))
    rows = session.execute(base.order_by(AuditEvent.seq.desc()).offset((page - 1) * per_page).limit(per_page))
    return AuditPage(list(rows.scalars()), total, page, per_page)


def iter_events(session: Session, flt: AuditFilter) -> Iterator[AuditEvent]:
    """Every matching entry in chain order (streamed)."""
    yield from session.execute(flt.query().order_by(AuditEvent.seq).execution_options(yield_per=1000)).scalars()


EXPORT_COLUMNS = ("seq", "at", "user_id", "user", "agency", "from", "action", "object_type", "object_id",
                  "detail", "hash")  # fmt: skip


def export_row(ev: AuditEvent) -> list[str]:
    values: list[object] = [
        ev.seq, ev.at.astimezone(dt.UTC).isoformat(timespec="seconds"), ev.actor_user_id, ev.actor_username,
        ev.actor_agency, ev.client_address, ev.action, ev.object_type, ev.object_id,
        json.dumps(ev.detail, sort_keys=True, ensure_ascii=False), ev.hash,
    ]  # fmt: skip
    return [safe_text(v) for v in values]


def export_csv(session: Session, flt: AuditFilter, out: TextIO) -> int:
    """Write the matching entries as CSV (formula-neutralised); returns the number of rows."""
    import csv

    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for ev in iter_events(session, flt):
        writer.writerow(export_row(ev))
        n += 1
    return n
