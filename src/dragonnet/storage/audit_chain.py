"""The audit log's hash chain, appended in batches (group commit): staging an entry, chaining it, verifying.

Each entry's hash covers its content and the previous entry's hash, so changing, deleting or reordering
any entry breaks every hash after it; `verify` recomputes the chain.

How an entry gets into the chain, and why that is as strong as appending in the request's own transaction:

1. `record` *stages* the entry: one INSERT into `audit_staged` in the caller's transaction, with no lock
   shared with other writers. The entry lands if and only if the audited change lands (commit or rollback
   together), and it is durable as soon as that transaction commits. Denial notes (`record_note`) are the
   one deliberate exception: written in a fresh transaction after the refused request's rollback.
2. When a transaction that staged entries commits (PostgreSQL), the committing thread waits for an *append round*
   (`chain_committed`) before it returns: one thread per process and database leads a round, taking the
   head row's lock (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite) and chaining every
   staged entry in staging order, in one transaction per batch of up to `BATCH` entries, which copies them
   into `audit_events` with their sequence number and hashes, deletes them from `audit_staged` and moves
   the head. The other committers wait for a round that started after their commit, so one round (one
   lock, one commit) serves all of them: write latency grows with the batch, not with the queue of writers
   behind the head row as when each request held that lock until it committed. Appenders of several
   processes exclude each other by the head row's lock, so the chain never forks. On SQLite, which admits
   one writer at a time for a whole transaction, the committing transaction chains its own entries just
   before it commits, under the lock it holds anyway: there is no queue of writers to batch, and a round of
   its own would be a second write transaction waiting for the same lock.
3. The web and API answer a request only after its commit returned, so an acknowledged write's entry is
   already in the chain. A crash between commit and chaining loses nothing: the entry stays staged and the
   next round chains it (any later write, the server's start, `dragonnet audit verify`). If the round
   fails (the database went away just after the commit), `commit()` raises the round's error: the request
   is answered as a failure (its outcome unknown to the client, as when a connection breaks during a
   commit), never as a success whose entry is not in the chain.
4. A staged entry is guarded by the database like a chained one: UPDATE is refused, and DELETE is refused
   unless an entry with exactly the same content carrying its staged id is already in the chain (the
   appender's own move). The application's database role therefore cannot drop or alter an entry between
   commit and chaining any more than after it (docs/security.md). `verify` counts entries still staged.
5. One exception: a bulk step that commits right after (the API's bulk create, 1,000 `case.create` entries per
   request) writes its entries straight into the chain in its own transaction, after the entries staged before
   it (`record_many(chain_now=True)`, see `_chain_in_transaction`): the head's lock (on SQLite, the database's
   write lock the transaction holds anyway) is held from then until its commit, and nothing is staged, read
   back, copied and unstaged again.

Entries are chained in staging order, so a request's entries keep their order; entries of concurrent
requests are ordered by their commits, as the row lock ordered them before. `at` is when the entry was
staged (the time of the audited action), so it may run a few milliseconds out of order with `seq`.

The chain is storage's integrity mechanism (a restored backup is verified with it); `policy.audit` is the
audit log as the rest of the code uses it (notes kept across a refused request, browsing, export) and
re-exports these names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, SessionTransaction

from dragonnet.storage.bulk import insert_rows
from dragonnet.storage.db import READ_ONLY_OPTION
from dragonnet.storage.models import AuditEvent, AuditHead, AuditStaged, utcnow

GENESIS = "0" * 64
BATCH = 1000  # staged entries chained per transaction of an append round
log = logging.getLogger(__name__)


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


# --- staging (in the caller's transaction) ------------------------------------------------------------------

_STAGED = "dragonnet.audit.staged"  # session.info: the engine of a transaction that staged entries
_DUE = "dragonnet.audit.due"  # ... of one that committed them: chain before commit() returns


def record(
    session: Session,
    actor: AuditActor,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    **detail: Any,
) -> AuditStaged:
    """Stage one entry in the caller's transaction: it lands if and only if the audited change lands, and
    it is in the chain when the caller's `commit()` returns (see the module's docstring)."""
    # Round-trip through JSON so the hash is over exactly what the database will store.
    clean_detail = json.loads(json.dumps(detail, default=str))
    entry = AuditStaged(
        at=utcnow(), actor_user_id=actor.user_id, actor_username=actor.username, actor_agency=actor.agency,
        client_address=actor.client_address, action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id), detail=clean_detail,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    session.info[_STAGED] = session.get_bind(mapper=AuditStaged)
    return entry


_FLAT = (str, int, bool, type(None))


def _as_stored(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as the database will store it (a JSON round trip), so that the hash covers exactly that; a
    flat dict of strings, integers, booleans and nulls is its own round trip."""
    if all(type(k) is str and type(v) in _FLAT for k, v in detail.items()):
        return dict(detail)
    return cast(dict[str, Any], json.loads(json.dumps(detail, default=str)))


def record_many(
    session: Session,
    actor: AuditActor,
    entries: list[tuple[str, str | None, object | None, dict[str, Any]]],
    *,
    chain_now: bool = False,
) -> int:
    """Stage many entries (action, object_type, object_id, detail) by one actor in the caller's transaction,
    in order, with one bulk insert: what a bulk step (validating 10,000 cases) writes per record. They are
    chained with the transaction's commit like `record`'s.

    `chain_now`: chain them at once in the caller's transaction instead (`_chain_in_transaction`), for a caller
    that commits right after, such as the API's bulk create: the head's lock is then held until that commit (on
    SQLite the writer holds the database's lock from its BEGIN anyway; chaining at once saves staging the entries
    and, at the commit, reading them back, copying them one statement each and deleting them past their guard)."""
    if not entries:
        return 0
    at = utcnow()
    who = (at, actor.user_id, actor.username, actor.agency, actor.client_address)
    rows = [
        (*who, action, object_type, None if object_id is None else str(object_id), _as_stored(detail))
        for action, object_type, object_id, detail in entries
    ]
    if chain_now:
        _chain_in_transaction(session, rows)
        return len(rows)
    insert_rows(session, _STAGED_TABLE, _STAGED_COLUMNS, rows)  # COPY on PostgreSQL, executemany on SQLite
    session.info[_STAGED] = session.get_bind(mapper=AuditStaged)
    return len(rows)


def _chain_in_transaction(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Chain `rows` (in `_STAGED_COLUMNS` order) in the caller's transaction, without staging them: take the head's
    lock, chain the entries staged before (other writers' committed ones, and this transaction's own) so that the
    chain keeps the order of commits and of this transaction's entries, then write these straight into the chain
    (COPY on PostgreSQL, executemany on SQLite) with their sequence numbers and hashes, and move the head.

    As strong as staging then appending: the entries land if and only if the transaction commits (a rollback,
    also of a SAVEPOINT, takes them and the head's move back together, and the entries of others it had chained
    go back to waiting staged); they are in the chain when the commit returns; each hash covers exactly what is
    stored (`_as_stored`, and `at` to the microsecond, as the column keeps it). What it saves, for a batch of
    1,000: the staging insert, the copy into the chain (a join on PostgreSQL, one statement per entry on SQLite)
    and the guarded delete (triggers per row), and a round of its own after the commit (on SQLite, before it).
    What it costs: other writers' rounds wait for the head's lock until this transaction commits, so only a caller
    that commits right after uses it (on SQLite other writers wait for the transaction's end anyway)."""
    conn = session.connection()
    while _append_batch(conn, BATCH) == BATCH:  # takes the head's lock, held until the transaction ends
        pass
    session.info.pop(_STAGED, None)  # what this transaction staged so far is chained in it
    seq, prev = conn.execute(_LOCK_HEAD).one()
    links = _links(seq, prev, rows)
    chained = [(n, *row, before, digest) for row, (n, before, digest) in zip(rows, links, strict=True)]
    insert_rows(session, _EVENTS_TABLE, ("seq", *_STAGED_COLUMNS, "prev_hash", "hash"), chained)
    seq, _, prev = links[-1]
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": prev})


# `_entry_hash`'s encoder: its json.dumps arguments, as one reusable encoder object.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def _links(seq: int, prev: str, rows: Sequence[Sequence[Any]]) -> list[tuple[int, str, str]]:
    """(seq, prev_hash, hash) of each entry of `rows` (values in `_STAGED_COLUMNS` order) chained after the head
    (`seq`, `prev`): the one place an entry's link is computed.

    Each hash is `_entry_hash`'s, over the same bytes: the payload is that function's sorted compact JSON,
    written as its parts (keys in sorted order: action, agency, at, detail, from, object_id, object_type, prev,
    seq, user, user_id), each value encoded by the same encoder. The parts an entry shares with the one before
    (its time, actor, action and object type: all of a `record_many` batch) are encoded once, so a batch of
    1,000 entries encodes only each detail, object id and link (tests/storage/test_audit_links.py compares the two
    on odd values)."""
    links = []
    encode = _ENCODE
    shared: tuple[Any, ...] = ()
    parts = ("", "", "", "")
    for at, user_id, username, agency, address, action, object_type, object_id, detail in rows:
        # (The type too: 1, 1.0 and True are equal but encode differently.)
        if shared != (key := (at, user_id, type(user_id), username, agency, address, action, object_type)):
            shared = key
            when = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
            parts = (
                f'{{"action":{encode(action)},"agency":{encode(agency)},"at":{encode(when)},"detail":',
                f',"from":{encode(address)},"object_id":',
                f',"object_type":{encode(object_type)},"prev":',
                f',"user":{encode(username)},"user_id":{encode(user_id)}}}',
            )
        seq += 1
        payload = (f"{parts[0]}{encode(detail)}{parts[1]}{encode(object_id)}{parts[2]}{encode(prev)}"
                   f',"seq":{encode(seq)}{parts[3]}')  # fmt: skip
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        links.append((seq, prev, digest))
        prev = digest
    return links


def serialise(session: Session) -> None:
    """Take the chain head's lock now: a writer that checks before it writes (no administrator yet? then create
    one) runs alone until its transaction ends (PostgreSQL: row lock; SQLite: writers are serialised). Append
    rounds wait for it, so only use it for rare steps."""
    session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())


@event.listens_for(Session, "before_commit")
def _chain_in_the_transaction_on_sqlite(session: Session) -> None:
    # SQLite has one writer at a time, holding the database's lock from BEGIN to COMMIT: a transaction that
    # staged entries chains them itself before it commits, under the lock it holds anyway (a separate round
    # would be a second write transaction queueing for the same lock). Same tables, same guards.
    bind = session.info.get(_STAGED)
    if bind is None or bind.dialect.name != "sqlite":
        return
    conn = session.connection()
    while _append_batch(conn, BATCH) == BATCH:
        pass
    session.info.pop(_STAGED, None)


@event.listens_for(Session, "after_commit")
def _staged_entries_committed(session: Session) -> None:
    bind = session.info.pop(_STAGED, None)
    if bind is not None:
        session.info[_DUE] = bind


@event.listens_for(Session, "after_transaction_end")
def _chain_after_commit(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction's end, after its connection went back to the pool: waiting here holds none.
    if transaction.parent is not None:
        return
    session.info.pop(_STAGED, None)  # rolled back or closed without commit: nothing of it was staged
    bind = session.info.pop(_DUE, None)
    if bind is not None:
        chain_committed(bind)


# --- chaining (the appender) --------------------------------------------------------------------------------


def _writer(bind: Engine | Connection) -> Engine:
    engine = bind.engine if isinstance(bind, Connection) else bind
    # On SQLite a read-only engine begins DEFERRED; the appender writes, so it takes the lock at BEGIN.
    return engine.execution_options(**{READ_ONLY_OPTION: False})


def append_staged(bind: Engine | Connection, batch: int = BATCH) -> int:
    """Chain every entry staged and committed so far, in staging order; returns how many were chained.

    Safe to call from any process at any time (appenders exclude each other by the head row's lock)."""
    engine = _writer(bind)
    chained = 0
    while True:
        with engine.begin() as conn:
            n = _append_batch(conn, batch)
        chained += n
        if n < batch:
            return chained


def _append_batch(conn: Connection, batch: int) -> int:
    """Chain up to `batch` staged entries in the connection's transaction: lock the head, copy the entries into
    the chain with their sequence numbers and hashes, delete them from the staging table, move the head."""
    seq, prev = conn.execute(_LOCK_HEAD).one()
    rows = conn.execute(_STAGED_ROWS, {"batch": batch}).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    linked = _links(seq, prev, [tuple(getattr(row, c) for c in _STAGED_COLUMNS) for row in rows])
    links = [{"sid": sid, "seq": n, "prev": before, "hash": digest}
             for sid, (n, before, digest) in zip(ids, linked, strict=True)]  # fmt: skip
    seq, _, prev = linked[-1]
    if conn.dialect.name == "postgresql":  # one statement each (as arrays), not one per entry
        arrays = {"sids": ids, "seqs": [link["seq"] for link in links], "prevs": [link["prev"] for link in links],
                  "hashes": [link["hash"] for link in links]}  # fmt: skip
        copied = conn.execute(_COPY_INTO_CHAIN_PG, arrays).rowcount
        if copied != len(rows):  # cannot happen under the head's lock; never move the head past a gap
            raise RuntimeError(f"audit append: {copied} of {len(rows)} staged entries copied into the chain")
        conn.execute(_UNSTAGE_PG, {"ids": ids})
    else:
        conn.execute(_COPY_INTO_CHAIN, links)
        conn.execute(_UNSTAGE, {"ids": ids})
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": prev})
    return len(rows)


def _copy_into_chain() -> Any:
    """INSERT INTO audit_events ... SELECT ... FROM audit_staged WHERE id = :sid: the content is copied by the
    database itself, byte for byte, which is what the staged row's DELETE guard compares."""
    staged = cast(Table, AuditStaged.__table__)
    events = cast(Table, AuditEvent.__table__)
    source = select(
        bindparam("seq"), *[staged.c[name] for name in _STAGED_COLUMNS], bindparam("prev"), bindparam("hash"),
        staged.c.id,
    ).where(staged.c.id == bindparam("sid"))  # fmt: skip
    return insert(events).from_select(["seq", *_STAGED_COLUMNS, "prev_hash", "hash", "staged_id"], source)


# The columns a staged entry and its chained copy share (`record_many` builds its rows in this order).
_STAGED_COLUMNS = ("at", "actor_user_id", "actor_username", "actor_agency", "client_address", "action", "object_type",
                   "object_id", "detail")  # fmt: skip
_COPY_INTO_CHAIN = _copy_into_chain()
_SHARED_COLUMNS = ", ".join(_STAGED_COLUMNS)
# PostgreSQL: the same copy for the whole batch in one statement, the links as arrays joined to the staged rows;
# sorted by seq so that the chain's ids (which `verify` walks) follow the sequence numbers.
_COPY_INTO_CHAIN_PG = text(
    f"INSERT INTO audit_events (seq, {_SHARED_COLUMNS}, prev_hash, hash, staged_id) "  # noqa: S608 (constants)
    f"SELECT l.seq, {', '.join(f's.{c}' for c in _STAGED_COLUMNS)}, l.prev, l.hash, s.id "
    "FROM unnest(CAST(:sids AS integer[]), CAST(:seqs AS integer[]), CAST(:prevs AS text[]), "
    "CAST(:hashes AS text[])) AS l(sid, seq, prev, hash) JOIN audit_staged s ON s.id = l.sid ORDER BY l.seq"
)
_UNSTAGE_PG = text("DELETE FROM audit_staged WHERE id = ANY(CAST(:ids AS integer[]))")
# Built once: the appender runs for every committed write.
_STAGED_TABLE = cast(Table, AuditStaged.__table__)
_HEAD_TABLE = cast(Table, AuditHead.__table__)
_EVENTS_TABLE = cast(Table, AuditEvent.__table__)
_LOCK_HEAD = select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.hash).where(_HEAD_TABLE.c.id == 1).with_for_update()
_STAGED_ROWS = select(_STAGED_TABLE).order_by(_STAGED_TABLE.c.id).limit(bindparam("batch"))
_UNSTAGE = delete(_STAGED_TABLE).where(_STAGED_TABLE.c.id.in_(bindparam("ids", expanding=True)))
_MOVE_HEAD = update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1).values(seq=bindparam("seq"), hash=bindparam("hash"))


class _GroupCommit:
    """Append rounds of one database in this process: one leader at a time; a committer returns after a
    round that started after its commit (that round saw its entries, chained them or found them chained).

    When no such round succeeded (the database went away between the commit and the round), the committer
    gets the round's error: its change and its entry are committed and durable, the entry staged until the
    next round, but the request is not answered as a success without its entry in the chain."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._started = 0
        self._finished = 0
        self._last_ok = 0  # the last round that succeeded
        self._error: BaseException | None = None  # the last round's failure
        self._running = False

    def wait(self, bind: Engine | Connection) -> None:
        with self._cond:
            needed = self._started + 1  # a round already running may have missed this commit
            while self._finished < needed:
                if not self._running:
                    self._running = True
                    self._started += 1
                    mine = self._started
                    break
                self._cond.wait()
            else:
                if self._last_ok < needed and self._error is not None:
                    raise self._error
                return
        error: BaseException | None = None
        try:
            append_staged(bind)
        except Exception as exc:
            # The entries stay staged (durable, guarded) and the next round chains them.
            log.exception("audit append round failed; staged entries are chained by the next round")
            error = exc
        finally:
            with self._cond:
                self._running = False
                self._finished = mine
                if error is None:
                    self._last_ok = mine
                self._error = error
                self._cond.notify_all()
        if error is not None:
            raise error


_ROUNDS: dict[str, _GroupCommit] = {}
_ROUNDS_LOCK = threading.Lock()


def chain_committed(bind: Engine | Connection) -> None:
    """Return once every entry committed before this call is in the chain (group commit)."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    key = engine.url.render_as_string(hide_password=True)
    with _ROUNDS_LOCK:
        rounds = _ROUNDS.setdefault(key, _GroupCommit())
    rounds.wait(engine)


def staged_count(session: Session) -> int:
    """Entries committed but not yet chained (normally none for more than a moment)."""
    return int(session.execute(select(func.count()).select_from(AuditStaged)).scalar_one())


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    ok: bool
    problem: str | None = None
    first_bad_seq: int | None = None
    head_seq: int = 0  # the last entry verified, and its hash: an anchor to keep outside the database
    head_hash: str = GENESIS
    staged: int = 0  # entries committed but not yet chained (not covered by this verification)


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
    return VerifyResult(count, True, head_seq=last, head_hash=prev, staged=staged_count(session))
