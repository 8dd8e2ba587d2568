"""The audit chain detects every changed, deleted, reordered or inserted entry."""

import random

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from dragonnet.policy import audit
from dragonnet.storage.models import AuditEvent, AuditStaged, utcnow

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


# --- batched appends: staging in the change's transaction, chaining by the appender ------------------------


def _stage_without_chaining(engine: Engine, action: str = "case.update", **detail: object) -> int:
    """An entry committed with its change but not chained yet: what a server that died between its commit and
    the append round leaves behind."""
    entry = insert(AuditStaged).values(at=utcnow(), actor_username="vn.reporter", action=action, object_type="case",
                                       object_id="5", detail=detail)  # fmt: skip
    with engine.begin() as conn:
        sid = conn.execute(entry.returning(AuditStaged.id)).scalar_one()
    return int(sid)


def test_an_entry_is_in_the_chain_when_commit_returns(engine: Engine) -> None:
    with Session(engine) as s:
        audit.record(s, ACTOR, "case.create", "case", 1)
        audit.record(s, ACTOR, "case.share", "case", 1)
        s.commit()
    with engine.connect() as conn:  # another connection: committed and chained, in the order recorded
        rows = conn.execute(select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)).all()
        staged = conn.execute(select(func.count()).select_from(AuditStaged)).scalar_one()
    assert [tuple(r) for r in rows] == [(1, "case.create"), (2, "case.share")]
    assert staged == 0


def test_a_rolled_back_request_stages_nothing(engine: Engine) -> None:
    with Session(engine) as s:
        audit.record(s, ACTOR, "case.update", "case", 1)
        s.rollback()
        audit.record(s, ACTOR, "case.update", "case", 2)
        s.close()  # closed without commit: rolled back too
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(AuditStaged)).scalar_one() == 0
        assert audit.verify(s).entries == 0


def test_entries_left_staged_by_a_crash_are_chained_by_the_next_round(engine: Engine) -> None:
    _stage_without_chaining(engine, note="before the crash")
    with Session(engine) as s:
        result = audit.verify(s)
        assert result.ok and result.entries == 0 and result.staged == 1
        audit.record(s, ACTOR, "case.create", "case", 2)  # the next write's round takes the older entry first
        s.commit()
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [(e.action, e.detail) for e in rows] == [("case.update", {"note": "before the crash"}),
                                                        ("case.create", {})]  # fmt: skip
        assert audit.verify(s).ok and audit.verify(s).staged == 0


def test_verify_on_the_command_line_chains_staged_entries_first(db_url: str, engine: Engine) -> None:
    from typer.testing import CliRunner

    from dragonnet.cli.main import app

    _stage_without_chaining(engine)
    result = CliRunner().invoke(app, ["audit", "verify", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "1 entries" in result.output and "1 staged entries chained first" in result.output


@pytest.mark.parametrize("statement", ["UPDATE audit_staged SET action = 'x'", "DELETE FROM audit_staged"])
def test_the_database_guards_staged_entries(engine: Engine, statement: str) -> None:
    """Between commit and chaining an entry is as protected as in the chain: no edit, and no removal but the
    appender's move into the chain."""
    from sqlalchemy.exc import DatabaseError

    _stage_without_chaining(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert audit.append_staged(engine) == 1


def test_a_staged_entry_cannot_be_swapped_for_a_forged_copy(engine: Engine) -> None:
    """Someone able to append to the chain still cannot drop a staged entry by chaining a different one under
    its staged id: the DELETE guard compares the content."""
    from sqlalchemy.exc import DatabaseError

    sid = _stage_without_chaining(engine, note="the real one")
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        staged = conn.execute(select(AuditStaged).where(AuditStaged.id == sid)).one()
        conn.execute(insert(AuditEvent).values(
            seq=1, at=staged.at, actor_username=staged.actor_username, action=staged.action, object_type="case",
            object_id="5", detail={"note": "forged"}, prev_hash=audit.GENESIS, hash="e" * 64, staged_id=sid,
        ))  # fmt: skip
        conn.execute(text("DELETE FROM audit_staged WHERE id = :id"), {"id": sid})
    assert audit.append_staged(engine) == 1
    with Session(engine) as s:
        assert s.execute(select(AuditEvent.detail)).scalar_one() == {"note": "the real one"}


def test_staged_ids_are_never_reused(engine: Engine) -> None:
    """A chained entry keeps the id it was staged under (unique in the chain), also after the staging table
    was emptied: SQLite reuses rowids of an empty table unless told not to."""
    for i in range(3):
        with Session(engine) as s:
            audit.record(s, ACTOR, "case.read", "case", i)
            s.commit()
    with Session(engine) as s:
        ids = list(s.execute(select(AuditEvent.staged_id).order_by(AuditEvent.seq)).scalars())
        assert audit.verify(s).ok
    assert ids == sorted(set(ids)) and len(ids) == 3


def test_one_round_chains_many_commits_in_one_batch(engine: Engine) -> None:
    """Group commit: entries committed by many writers while no round runs are chained by one round, in one
    transaction, in staging order."""
    sids = [_stage_without_chaining(engine, n=i) for i in range(25)]
    assert audit.append_staged(engine) == 25
    with Session(engine) as s:
        rows = s.execute(select(AuditEvent.staged_id, AuditEvent.detail).order_by(AuditEvent.seq)).all()
        assert [r.staged_id for r in rows] == sids
        assert [r.detail for r in rows] == [{"n": i} for i in range(25)]
        assert audit.verify(s).ok
    assert audit.append_staged(engine, batch=10) == 0  # nothing left


def test_a_round_larger_than_a_batch_takes_several_transactions(engine: Engine) -> None:
    for i in range(23):
        _stage_without_chaining(engine, n=i)
    assert audit.append_staged(engine, batch=10) == 23
    with Session(engine) as s:
        result = audit.verify(s)
    assert result.ok and result.entries == 23 and result.staged == 0


def test_a_failed_round_fails_the_commit_and_the_entry_waits_staged(
    engine: Engine, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the database goes away between a commit and its append round. The change and its entry are
    committed, but the caller is not told "done" without the entry in the chain; the next round chains it."""
    if backend != "postgresql":
        pytest.skip("on SQLite the committing transaction chains its own entries (one commit, one outcome)")
    from sqlalchemy.exc import OperationalError

    def database_gone(bind: object, batch: int = audit.BATCH) -> int:
        raise OperationalError("append round", {}, Exception("server closed the connection unexpectedly"))

    from dragonnet.storage import audit_chain

    real = audit_chain.append_staged
    monkeypatch.setattr(audit_chain, "append_staged", database_gone)
    with Session(engine) as s:
        audit.record(s, ACTOR, "case.create", "case", 1)
        with pytest.raises(OperationalError):
            s.commit()
    monkeypatch.setattr(audit_chain, "append_staged", real)
    with Session(engine) as s:
        assert audit.verify(s).staged == 1  # committed and durable, not chained yet
        audit.record(s, ACTOR, "case.create", "case", 2)
        s.commit()
        assert [e.object_id for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()] == ["1", "2"]
        assert audit.verify(s).ok and audit.verify(s).staged == 0


# --- a bulk step's entries chained in its own transaction (record_many(chain_now=True)) ---------------------


def _entries(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        return [(e.seq, e.actor_username, e.client_address, e.action, e.object_type, e.object_id, e.detail)
                for e in rows]  # fmt: skip


def _many(n: int, tag: str) -> list[tuple[str, str | None, object | None, dict[str, object]]]:
    return [("case.create", "case", i, {"case_ref": f"{tag}-{i}", "items": i % 3, "bulk": True, "note": None})
            for i in range(n)]  # fmt: skip


def test_entries_chained_in_the_transaction_are_the_staged_ones(engine: Engine) -> None:
    """`chain_now` gives the same entries, in the same order, after the entries staged before (another writer's
    committed one, this transaction's own) and before those staged after, as staging then appending gives; the
    chain verifies and nothing is left staged."""
    for chain_now in (False, True):
        _stage_without_chaining(engine, note="committed by another writer")
        with Session(engine) as s:
            audit.record(s, ACTOR, "case.read", "case", 1)
            audit.record_many(s, ACTOR, _many(5, "A"), chain_now=chain_now)
            audit.record(s, ACTOR, "case.share", "case", 2)
            s.commit()
            result = audit.verify(s)
            assert result.ok and result.staged == 0
    entries = _entries(engine)
    staged_way, chained_way = [e[1:] for e in entries[:8]], [e[1:] for e in entries[8:]]
    assert [e[2] for e in chained_way] == ["case.update", "case.read", *["case.create"] * 5, "case.share"]
    assert chained_way == staged_way
    assert [e[0] for e in entries] == list(range(1, 17))


def test_entries_chained_in_a_rolled_back_savepoint_leave_no_trace(engine: Engine) -> None:
    """A SAVEPOINT rolled back after `chain_now` takes its entries and the head's move back: the chain continues
    from where it was, and an entry of another writer it had chained waits staged for the next round."""
    with Session(engine) as s:
        audit.record(s, ACTOR, "case.read", "case", 1)
        s.commit()
    _stage_without_chaining(engine, note="another writer")
    with Session(engine) as s:
        with s.begin_nested() as nested:
            audit.record_many(s, ACTOR, _many(3, "gone"), chain_now=True)
            nested.rollback()
        audit.record_many(s, ACTOR, _many(2, "kept"), chain_now=True)
        s.commit()
        result = audit.verify(s)
        assert result.ok and result.entries == 4 and result.staged == 0
    details = [e[6] for e in _entries(engine)]
    assert details[1] == {"note": "another writer"}
    assert [d["case_ref"] for d in details[2:]] == ["kept-0", "kept-1"]  # type: ignore[index]


def test_a_rolled_back_transaction_chained_in_leaves_the_chain_as_it_was(engine: Engine) -> None:
    with Session(engine) as s:
        audit.record(s, ACTOR, "case.read", "case", 1)
        s.commit()
        head = audit.verify(s).head_hash
        audit.record_many(s, ACTOR, _many(4, "gone"), chain_now=True)
        in_chain = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        assert in_chain == 5  # chained at once (both backends), not staged
        s.rollback()
        result = audit.verify(s)
        assert result.ok and result.entries == 1 and result.head_hash == head
