"""The audit chain detects every changed, deleted, reordered or inserted entry."""

import random

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from dragonnet.policy import audit
from dragonnet.storage.models import AuditEvent

ACTOR = audit.AuditActor(7, "vn.reporter", "VN-CUS", "127.0.0.1")


def _fill(session: Session, n: int = 12) -> None:
    for i in range(n):
        audit.record(session, ACTOR, "case.read", "case", i, fields=["parties"], note=f"entry {i} é 中")
    session.commit()


def test_intact_chain_verifies(session: Session) -> None:
    _fill(session)
    result = audit.verify(session)
    assert result.ok and result.entries == 12


def test_rolled_back_entries_leave_no_gap(session: Session) -> None:
    _fill(session, 3)
    audit.record(session, ACTOR, "case.update", "case", 99)
    session.rollback()  # the audited change did not land, so neither does its entry
    audit.record(session, ACTOR, "case.update", "case", 100)
    session.commit()
    result = audit.verify(session)
    assert result.ok and result.entries == 4


def _bypass_append_only(session: Session) -> None:
    """What an attacker with database superuser or file access does first: switch the guard off."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))


def _tamper(session: Session, kind: str, rng: random.Random) -> None:
    _bypass_append_only(session)
    _tamper_in_place(session, kind, rng)
    session.commit()


def _tamper_in_place(session: Session, kind: str, rng: random.Random) -> None:
    ids = list(session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
    victim = rng.choice(ids[:-1])
    if kind == "change":
        session.execute(update(AuditEvent).where(AuditEvent.id == victim).values(object_id="666"))
    elif kind == "change_actor":
        session.execute(update(AuditEvent).where(AuditEvent.id == victim).values(actor_username="someone.else"))
    elif kind == "delete":
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim})
    elif kind == "delete_last":
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[-1]})
    elif kind == "swap":
        a = session.get(AuditEvent, victim)
        b = session.get(AuditEvent, victim + 1)
        assert a is not None and b is not None
        fields = ["action", "object_type", "object_id", "detail", "at"]
        va, vb = ({f: getattr(e, f) for f in fields} for e in (a, b))
        for f in fields:
            setattr(a, f, vb[f])
            setattr(b, f, va[f])
    elif kind == "rehash_one":
        # A forger who recomputes the changed entry's own hash still breaks the next link.
        ev = session.get(AuditEvent, victim)
        assert ev is not None
        ev.object_id = "forged"
        ev.hash = "f" * 64
    session.flush()


@pytest.mark.parametrize("kind", ["change", "change_actor", "delete", "delete_last", "swap", "rehash_one"])
def test_tampering_is_detected(session: Session, kind: str) -> None:
    _fill(session)
    _tamper(session, kind, random.Random(kind))
    result = audit.verify(session)
    assert not result.ok, kind
    assert result.problem


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_the_database_refuses_edits(session: Session, statement: str) -> None:
    from sqlalchemy.exc import DatabaseError

    _fill(session, 2)
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
        session.flush()
    session.rollback()
    assert audit.verify(session).ok


def test_concurrent_appends_do_not_fork_the_chain(engine: Engine) -> None:
    import threading

    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(10):
                with Session(engine) as s:
                    audit.record(s, ACTOR, "case.create", "case", f"{k}-{i}")
                    s.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as s:
        result = audit.verify(s)
    assert result.ok and result.entries == 40


def _rewrite_from(session: Session, victim_seq: int) -> None:
    """The strongest forgery: change an entry, then recompute every later hash and the head, as someone with
    the database's superuser rights and this source code can. The chain alone verifies afterwards."""
    rows = list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())
    prev = audit.GENESIS
    for ev in rows:
        if ev.seq == victim_seq:
            ev.object_id = "forged"
        if ev.seq >= victim_seq:
            actor = audit.AuditActor(ev.actor_user_id, ev.actor_username, ev.actor_agency, ev.client_address)
            ev.prev_hash = prev
            ev.hash = audit._entry_hash(prev, ev.seq, ev.at, actor, ev.action, ev.object_type, ev.object_id, ev.detail)
        prev = ev.hash
    session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})


TRIAL_KINDS = ["change", "change_actor", "delete", "delete_last", "swap", "rehash_one", "insert", "rewrite"]


def test_randomised_tamper_trials(session: Session, backend: str) -> None:
    """S10: T random tamper trials (kind, victim and count of edits drawn at random), each inside a transaction
    that is rolled back; `verify` with the anchor taken before the trials must detect every one."""
    _fill(session, 40)
    before = audit.verify(session)
    anchors = {before.head_seq: before.head_hash}
    rng = random.Random(10)
    trials = 96
    detected = detected_without_anchor = 0
    by_kind: dict[str, int] = {}
    for _ in range(trials):
        kind = rng.choice(TRIAL_KINDS)
        by_kind[kind] = by_kind.get(kind, 0) + 1
        _bypass_append_only(session)
        ids = list(session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())
        if kind == "insert":
            # a forged entry appended after the real ones, with a made-up hash, and the head moved to it
            last = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
            session.add(AuditEvent(seq=last.seq + 1, at=last.at, actor_user_id=None, actor_username="ghost",
                                   actor_agency=None, client_address=None, action="case.delete", object_type="case",
                                   object_id="1", detail={}, prev_hash=last.hash, hash="e" * 64))  # fmt: skip
            session.flush()
            session.execute(text("UPDATE audit_head SET seq = seq + 1, hash = :h WHERE id = 1"), {"h": "e" * 64})
        elif kind == "rewrite":
            _rewrite_from(session, rng.choice(ids))
        else:
            for _ in range(rng.randint(1, 3) if kind in ("change", "change_actor") else 1):
                _tamper_in_place(session, kind, rng)
        session.flush()
        detected += not audit.verify(session, anchors).ok
        detected_without_anchor += not audit.verify(session).ok
        session.rollback()
        if backend == "sqlite":  # the triggers were dropped inside the rolled-back transaction: back again
            assert session.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                        "AND name LIKE 'audit_events_no_%'")).scalar_one() == 2  # fmt: skip
    assert audit.verify(session, anchors).ok  # every trial was rolled back
    print(f"figure: S10 {backend}: {trials} random tamper trials {by_kind}; detected {detected} with the anchor, "
          f"{detected_without_anchor} by the chain alone")  # fmt: skip
    assert detected == trials
    assert detected_without_anchor == trials - by_kind.get("rewrite", 0)
