"""Stored profiles: import (all or nothing), who may see and change them, the review cycle, the audited history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.policy.access import Actor, Hidden, PermissionDenied
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import AuditEvent, User
from dragonnet.targeting import profile_service as ps
from web.seed import Seeded

TH_FILE = """
lanes: {red_rate: 0.2}
profiles:
  - {id: th-open, owner: TH-CUS, sharing: green, weight: 1.5, review_by: 2030-01-01,
     conditions: [{field: origin_country, in: [NG]}]}
  - {id: th-secret, owner: TH-CUS, sharing: amber+strict, weight: 2.0, responsible: th_reporter,
     conditions: [{text: {any: [ivory]}}]}
"""
TODAY = dt.date(2024, 7, 1)


@pytest.fixture
def db(db_url: str, seeded_db: Seeded) -> Iterator[Session]:
    eng = make_engine(db_url)
    try:
        with session_scope(eng) as session:
            yield session
    finally:
        eng.dispose()


def actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


def audit_actions(session: Session) -> list[str]:
    session.commit()  # entries are staged in the transaction and chained by its commit
    query = select(AuditEvent.action).where(AuditEvent.action.like("targeting.profile.%")).order_by(AuditEvent.seq)
    rows = session.execute(query).scalars()
    return list(rows)


def test_import_creates_updates_and_keeps_identical_profiles(db: Session) -> None:
    th = actor(db, "th_reporter")
    first = ps.import_profiles(db, th, TH_FILE, "th.yaml")
    assert (first.created, first.updated, first.unchanged) == (["th-open", "th-secret"], [], [])
    again = ps.import_profiles(db, th, TH_FILE, "th.yaml")
    assert again.unchanged == ["th-open", "th-secret"] and not again.created and not again.updated
    changed = ps.import_profiles(db, th, TH_FILE.replace("weight: 1.5", "weight: 0.8"), "th-v2.yaml")
    assert changed.updated == ["th-open"] and changed.unchanged == ["th-secret"]
    row = ps.get_profile(db, th, "th-open")
    assert row.version == 2 and row.definition["weight"] == 0.8 and row.agency.code == "TH-CUS"
    history = ps.history(db, th, "th-open")
    assert [(c.version, c.action) for c in history] == [(1, "created"), (2, "updated")]
    assert history[1].changes == {"weight": [1.5, 0.8]} and history[1].by_name == "th_reporter"
    assert history[1].note == "imported from th-v2.yaml"
    assert audit_actions(db) == ["targeting.profile.created", "targeting.profile.created", "targeting.profile.updated"]
    # The stored set: what lists and training use (the file's lanes block is not stored).
    stored = ps.stored_profile_set(db, "TH-CUS")
    assert stored is not None and [p.id for p in stored.profiles] == ["th-open", "th-secret"]
    assert stored.lanes.red_rate == 0.05


def test_only_the_owner_agency_changes_a_profile_and_imports_are_all_or_nothing(db: Session) -> None:
    ps.import_profiles(db, actor(db, "th_reporter"), TH_FILE, "th.yaml")
    db.commit()
    vn = actor(db, "vn_reporter")
    mixed = TH_FILE.replace("th-secret, owner: TH-CUS", "vn-own, owner: VN-CUS")
    with pytest.raises(PermissionDenied):
        ps.import_profiles(db, vn, mixed, "mixed.yaml")  # th-open belongs to TH-CUS
    db.rollback()
    assert ps.stored_profile_set(db, "VN-CUS") is not None
    assert ps.visible_profiles(db, vn) and all(r.key != "vn-own" for r in ps.visible_profiles(db, vn))
    with pytest.raises(PermissionDenied):
        ps.review_profile(db, vn, "th-open", decision="retire", next_review=None, note="not ours", today=TODAY)
    with pytest.raises(ValidationError):
        ps.import_profiles(db, actor(db, "th_reporter"), TH_FILE.replace("TH-CUS, sharing: green", "XX-NONE"), "x")
    with pytest.raises(PermissionDenied):
        ps.import_profiles(db, actor(db, "observer"), TH_FILE, "th.yaml")


def test_sharing_decides_who_sees_a_profile(db: Session) -> None:
    ps.import_profiles(db, actor(db, "th_reporter"), TH_FILE, "th.yaml")
    assert [r.key for r in ps.visible_profiles(db, actor(db, "th_reporter"))] == ["th-open", "th-secret"]
    vn = actor(db, "vn_reporter")
    assert [r.key for r in ps.visible_profiles(db, vn)] == ["th-open"]
    with pytest.raises(Hidden):
        ps.get_profile(db, vn, "th-secret")  # amber+strict: does not exist for VN-CUS
    with pytest.raises(Hidden):
        ps.history(db, vn, "th-secret")
    assert ps.visible_profiles(db, actor(db, "observer")) == []
    stored = ps.stored_profile_set(db, "VN-CUS")
    assert stored is not None and [p.id for p in stored.profiles] == ["th-open"]


def test_the_review_cycle_keeps_retires_reinstates_and_records_each_step(db: Session) -> None:
    th = actor(db, "th_reporter")
    ps.import_profiles(db, th, TH_FILE, "th.yaml")
    assert "no review date" in ps.summary(ps.get_profile(db, th, "th-secret"), TODAY)["flags"]
    with pytest.raises(ValidationError, match="next review date"):
        ps.review_profile(db, th, "th-secret", decision="keep", next_review=TODAY, note="ok", today=TODAY)
    with pytest.raises(ValidationError, match="note"):
        ps.review_profile(db, th, "th-secret", decision="keep", next_review=dt.date(2025, 1, 1), note=" ", today=TODAY)
    row = ps.review_profile(db, th, "th-secret", decision="keep", next_review=dt.date(2025, 1, 1),
                            note="hit rate fine; intelligence from case TH-1", mandatory=True,
                            expires=dt.date(2025, 6, 30), today=TODAY)  # fmt: skip
    assert (row.version, row.mandatory, row.review_by, row.valid_to) == (2, True, dt.date(2025, 1, 1),
                                                                         dt.date(2025, 6, 30))  # fmt: skip
    assert row.definition["mandatory"] is True and row.reviewed_at is not None
    assert ps.summary(row, TODAY)["flags"] == []
    stored = ps.stored_profile_set(db, "TH-CUS")
    assert stored is not None and {p.id: p.mandatory for p in stored.profiles} == {"th-open": False, "th-secret": True}
    ps.review_profile(db, th, "th-secret", decision="retire", next_review=None, note="no finds in a year", today=TODAY)
    stored = ps.stored_profile_set(db, "TH-CUS")
    assert stored is not None and [p.id for p in stored.profiles] == ["th-open"]  # a retired profile no longer fires
    with pytest.raises(ValidationError, match="retired"):
        ps.review_profile(db, th, "th-secret", decision="keep", next_review=dt.date(2025, 1, 1), note="x", today=TODAY)
    ps.review_profile(db, th, "th-secret", decision="reinstate", next_review=dt.date(2025, 3, 1),
                      note="new intelligence", mandatory=False, expires=None, today=TODAY)  # fmt: skip
    history = ps.history(db, th, "th-secret")
    assert [(c.version, c.action) for c in history] == [(1, "created"), (2, "reviewed"), (3, "retired"),
                                                         (4, "reinstated")]  # fmt: skip
    assert history[1].changes == {"mandatory": [None, True], "review_by": [None, "2025-01-01"],
                                  "valid_to": [None, "2025-06-30"]}  # fmt: skip
    assert history[3].changes == {"mandatory": [True, None], "review_by": ["2025-01-01", "2025-03-01"],
                                  "valid_to": ["2025-06-30", None]}  # fmt: skip
    assert history[2].note == "no finds in a year"
    assert audit_actions(db)[-3:] == ["targeting.profile.reviewed", "targeting.profile.retired",
                                      "targeting.profile.reinstated"]  # fmt: skip
    flags = ps.summary(ps.get_profile(db, th, "th-open"), dt.date(2030, 1, 2))["flags"]
    assert flags == ["review due since 2030-01-01"]


def test_the_report_needs_a_targeting_member(db: Session) -> None:
    with pytest.raises(PermissionDenied):
        ps.effectiveness_report(db, actor(db, "observer"), ps.ReportQuery())
    with pytest.raises(ValidationError):
        ps.ReportQuery(date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 1, 1)).check()
    # Nothing imported: every figure is zero, nothing fails.
    ps.import_profiles(db, actor(db, "th_reporter"), TH_FILE, "th.yaml")
    report = ps.effectiveness_report(db, actor(db, "th_reporter"), ps.ReportQuery(), today=TODAY)
    assert report.declarations == 0 and [p.selected for p in report.profiles] == [0, 0]
