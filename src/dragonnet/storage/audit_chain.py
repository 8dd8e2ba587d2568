"""The audit log's hash chain: appending an entry and recomputing the chain.

Each entry's hash covers its content and the previous entry's hash, so changing, deleting or reordering
any entry breaks every hash after it; `verify` recomputes the chain. Appends lock the single head row
(SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers), so concurrent writers never fork it.

The chain is storage's integrity mechanism (a restored backup is verified with it); `policy.audit` is the
audit log as the rest of the code uses it (it re-exports these names).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dragonnet.storage.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditActor:
    user_id: int | None
    username: str | None
    agency: str | None
    client_address: str | None = None


SYSTEM = AuditActor(None, "system", None)


def _entry_hash(prev_hash: str, seq: int, at: dt.datetime, actor: AuditActor, action: str,
                object_type: str | None, object_id: str | None, detail: dict[str, Any]) -> str:  # fmt: skip
    payload = json.dumps(
        {
            "prev": prev_hash,
            "seq": seq,
            "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "user_id": actor.user_id,
            "user": actor.username,
            "agency": actor.agency,
            "from": actor.client_address,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: AuditActor,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one entry in the caller's transaction: it lands if and only if the audited change lands."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    # Round-trip through JSON so the hash is over exactly what the database will store.
    clean_detail = json.loads(json.dumps(detail, default=str))
    at = utcnow()
    seq = head.seq + 1
    oid = None if object_id is None else str(object_id)
    digest = _entry_hash(head.hash, seq, at, actor, action, object_type, oid, clean_detail)
    event = AuditEvent(
        seq=seq, at=at, actor_user_id=actor.user_id, actor_username=actor.username, actor_agency=actor.agency,
        client_address=actor.client_address, action=action, object_type=object_type, object_id=oid,
        detail=clean_detail, prev_hash=head.hash, hash=digest,
    )  # fmt: skip
    session.add(event)
    head.seq, head.hash = seq, digest
    session.flush()
    return event


def serialise(session: Session) -> None:
    """Take the head's lock now: a writer that checks before it writes (no administrator yet? then create
    one) runs alone until its transaction ends (PostgreSQL: row lock; SQLite: writers are serialised)."""
    session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())


def record_many(
    session: Session,
    actor: AuditActor,
    entries: list[tuple[str, str | None, object | None, dict[str, Any]]],
) -> int:
    """Append many entries (action, object_type, object_id, detail) by one actor, chained in order, with one
    lock of the head and one bulk insert: what a bulk step (validating 10,000 cases) writes per record."""
    if not entries:
        return 0
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    seq, prev = head.seq, head.hash
    rows: list[dict[str, Any]] = []
    for action, object_type, object_id, detail in entries:
        clean_detail = json.loads(json.dumps(detail, default=str))
        at = utcnow()
        seq += 1
        oid = None if object_id is None else str(object_id)
        digest = _entry_hash(prev, seq, at, actor, action, object_type, oid, clean_detail)
        rows.append({
            "seq": seq, "at": at, "actor_user_id": actor.user_id, "actor_username": actor.username,
            "actor_agency": actor.agency, "client_address": actor.client_address, "action": action,
            "object_type": object_type, "object_id": oid, "detail": clean_detail, "prev_hash": prev, "hash": digest,
        })  # fmt: skip
        prev = digest
    for start in range(0, len(rows), 5_000):
        session.execute(insert(AuditEvent), rows[start : start + 5_000])
    head.seq, head.hash = seq, prev
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    ok: bool
    problem: str | None = None
    first_bad_seq: int | None = None
    head_seq: int = 0  # the last entry verified, and its hash: an anchor to keep outside the database
    head_hash: str = GENESIS


def parse_anchor(text: str) -> tuple[int, str]:
    """'SEQ:HASH' as printed by `dragonnet audit verify`; ValueError when it is not one."""
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"an anchor is SEQ:HASH (the entry number and its 64 hex digit hash), not {text!r}")
    return int(seq), digest


def verify(session: Session, anchors: dict[int, str] | None = None) -> VerifyResult:
    """Recompute the chain from the first entry; report the first break (changed, deleted or reordered).

    The chain alone cannot tell a consistent rewrite: someone with the database's superuser rights who
    recomputes every hash after a change (and the head) leaves a chain that verifies. `anchors` - entry
    numbers and hashes recorded earlier outside the database (the head printed by each verify) - close that
    gap: an anchored entry whose hash differs, or that is gone, is reported."""
    anchors = anchors or {}
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    for ev in rows:
        count += 1
        actor = AuditActor(ev.actor_user_id, ev.actor_username, ev.actor_agency, ev.client_address)
        if ev.seq != expected_seq:
            return VerifyResult(count, False, f"entry {ev.seq} found where {expected_seq} was expected", ev.seq)
        if ev.prev_hash != prev:
            return VerifyResult(count, False, f"entry {ev.seq} does not follow the entry before it", ev.seq)
        digest = _entry_hash(prev, ev.seq, ev.at, actor, ev.action, ev.object_type, ev.object_id, ev.detail)
        if digest != ev.hash:
            return VerifyResult(count, False, f"entry {ev.seq} was changed after it was written", ev.seq)
        if ev.seq in anchors and anchors[ev.seq] != ev.hash:
            return VerifyResult(count, False, f"entry {ev.seq} differs from its anchor: the chain was rewritten",
                                ev.seq)  # fmt: skip
        prev = ev.hash
        expected_seq += 1
    last = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(count, False, "the chain's head record is missing")
    if head.seq != last or head.hash != prev:
        return VerifyResult(count, False, f"the chain ends at entry {last} but the head says {head.seq}")
    missing = [seq for seq in anchors if seq > last]
    if missing:
        return VerifyResult(count, False, f"anchored entry {min(missing)} is gone: the chain ends at entry {last}",
                            min(missing))  # fmt: skip
    return VerifyResult(count, True, head_seq=last, head_hash=prev)
