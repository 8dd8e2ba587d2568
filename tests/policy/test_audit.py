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
    session.commit()


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
