"""The schema: Alembic migrations build exactly the models' schema on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dragonnet.errors import ConfigurationError
from dragonnet.storage.db import make_engine, reader, redact
from dragonnet.storage.migrate import current_revision, head_revision, reset_database, upgrade
from dragonnet.storage.models import Agency, Case, Item, Operation, Phase, utcnow
from dragonnet.storage.schema import metadata


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_upgrade_is_idempotent_and_reset_rebuilds(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    before, after = upgrade(engine)
    assert before is None and after == head_revision()
    assert upgrade(engine) == (after, after)
    assert {"cases", "items", "parties", "audit_events"} <= set(inspect(engine).get_table_names())
    reset_database(engine)
    assert current_revision(engine) is None
    assert "cases" not in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("garbage", "not a database URL"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("postgresql://nobody:secret@127.0.0.1:1/nothing", "cannot open database"),
    ],
)
def test_wrong_database_url_is_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        make_engine(url)
    text = str(err.value)
    assert message in text
    assert "\n" not in text
    assert "secret" not in text  # passwords never appear in messages


def test_redact_hides_password() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def _operation(session: Session) -> Operation:
    op = Operation(slug="op", name="Op", description="", scope=["drug"])
    op.phases = [Phase(number=1, name="Phase I", start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 6, 30))]
    session.add(op)
    session.add(Agency(code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN"))
    session.flush()
    return op


def _case(session: Session, op: Operation, ref: str) -> Case:
    agency = session.execute(select(Agency)).scalar_one()
    case = Case(
        operation=op, phase=op.phases[0], reporting_agency=agency, case_ref=ref,
        seizure_date=dt.date(2023, 3, 1), place_country="VN",
    )  # fmt: skip
    case.items = [Item(commodity_class="drug", quantity=1.5, unit="kg", mass_kg=1.5)]
    session.add(case)
    session.flush()
    return case


def test_case_ref_unique_per_agency(session: Session) -> None:
    op = _operation(session)
    _case(session, op, "HP-2023-001")
    session.commit()
    with pytest.raises(IntegrityError):
        _case(session, op, "HP-2023-001")
    session.rollback()


def test_timestamps_are_utc_aware_on_both_backends(session: Session) -> None:
    op = _operation(session)
    case = _case(session, op, "X-1")
    session.commit()
    session.expire_all()
    loaded = session.get(Case, case.id)
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None
    assert abs((utcnow() - loaded.created_at).total_seconds()) < 60


def test_optimistic_locking_detects_a_stale_write(engine: Engine) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    with Session(engine) as s:
        op = _operation(s)
        case_id = _case(s, op, "LOCK-1").id
        s.commit()
    first, second = Session(engine), Session(reader(engine))
    a, b = first.get(Case, case_id), second.get(Case, case_id)
    assert a is not None and b is not None
    second.close()
    a.description = "first edit"
    first.commit()
    first.close()
    b.description = "second edit from a stale read"
    second2 = Session(engine)
    second2.add(b)
    with pytest.raises(StaleDataError):
        second2.commit()
    second2.close()
    with Session(engine) as s:
        final = s.get(Case, case_id)
        assert final is not None and final.description == "first edit" and final.version == 2
