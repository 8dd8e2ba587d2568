"""Calibrated thresholds: the precision/recall curve from analysts' decisions against an independent count, the
honest refusals (too few decisions, one-sided decisions), who may see and adopt, the audit entry, and the next
screening using the adopted threshold (an explicit one still wins); the CLI, API and page doors."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from demo.conftest import DemoDB
from dragonnet.app import create_app
from dragonnet.cli.main import app as cli_app
from dragonnet.config import Settings
from dragonnet.demo import DEMO_PASSWORD
from dragonnet.errors import ValidationError
from dragonnet.linkage import calibration, service
from dragonnet.linkage.extract import extract
from dragonnet.linkage.screening import service as screening
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import Actor, PermissionDenied
from dragonnet.storage.linkage_models import LinkageRun, LinkDecision, ProposedLink, ThresholdAdoption
from dragonnet.storage.models import AuditEvent, User

SLUG = "mekong-dragon"
DECIDER = "vn.coordinator"  # sees the parties of the Vietnamese agency's cases (nominal data stays with its owner)


def _independent(labelled: list[tuple[bool, float | None]]) -> dict[float, tuple[int, int, float, float]]:
    """Precision and recall at each distinct probability, counted pair by pair (the reference for the SQL)."""
    positives = sum(1 for confirmed, _p in labelled if confirmed)
    out = {}
    for t in {p for _c, p in labelled if p is not None}:
        tp = sum(1 for c, p in labelled if c and p is not None and p >= t)
        fp = sum(1 for c, p in labelled if not c and p is not None and p >= t)
        out[t] = (tp, fp, tp / (tp + fp), tp / positives)
    return out


def _table(labelled: list[tuple[bool, float | None]]) -> pa.Table:
    return pa.table({"confirmed": pa.array([c for c, _p in labelled], pa.bool_()),
                     "p": pa.array([p for _c, p in labelled], pa.float64())})  # fmt: skip


def test_the_curve_matches_an_independent_count() -> None:
    rng = random.Random(16)
    # confirmed pairs score high, rejected ones lower, with ties and pairs the run never scored
    labelled = [(True, rng.choice([0.99, 0.97, 0.93, 0.9, 0.8, 0.6, None])) for _ in range(40)]
    labelled += [(False, rng.choice([0.97, 0.9, 0.7, 0.6, 0.55, None])) for _ in range(25)]
    points = calibration.curve(_table(labelled))
    expected = _independent(labelled)
    assert [p.threshold for p in points] == sorted(expected, reverse=True)
    for p in points:
        tp, fp, precision, recall = expected[p.threshold]
        assert (p.true_positives, p.false_positives) == (tp, fp)
        assert p.precision == pytest.approx(precision) and p.recall == pytest.approx(recall)
        assert p.f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_suggestions_best_f1_and_precision_target() -> None:
    # 10 confirmed at 0.99, 5 confirmed and 1 rejected at 0.9, 4 rejected at 0.7, 5 confirmed never scored
    labelled = [(True, 0.99)] * 10 + [(True, 0.9)] * 5 + [(False, 0.9)] + [(False, 0.7)] * 4 + [(True, None)] * 5
    cal = calibration.Calibration(1, 0.5, 20, 5, 5, calibration.curve(_table(labelled)))
    assert cal.problem is None
    best = cal.best_f1()
    assert best is not None and best.threshold == 0.9  # 15/16 precise, 15/20 found: F1 0.833 beats 0.667 at 0.99
    assert best.recall == pytest.approx(15 / 20) and best.precision == pytest.approx(15 / 16)
    strict = cal.for_precision(1.0)
    assert strict is not None and (strict.threshold, strict.recall) == (0.99, pytest.approx(0.5))
    assert cal.for_precision(0.9) == best
    assert cal.at(0.95).true_positives == 10 and cal.at(0.999).true_positives == 0


@pytest.mark.parametrize(
    ("confirmed", "rejected", "code"),
    [(10, 5, "too_few"), (25, 0, "no_rejected"), (0, 25, "no_confirmed")],
)
def test_too_few_or_one_sided_decisions_suggest_nothing(confirmed: int, rejected: int, code: str) -> None:
    labelled = [(True, 0.95)] * confirmed + [(False, 0.6)] * rejected
    cal = calibration.Calibration(1, 0.5, confirmed, rejected, 0, calibration.curve(_table(labelled)))
    assert cal.problem_code == code and cal.problem
    assert cal.best_f1() is None and cal.for_precision(0.5) is None
    assert calibration.Calibration(None, 0.5, 30, 30, 0, []).problem_code == "no_run"


# --- on the demo operation --------------------------------------------------------------------------------------


def _actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


LABELS = [(True, 0.99)] * 12 + [(True, 0.96)] * 6 + [(False, 0.96)] * 2 + [(False, 0.8)] * 4 + [(True, None)] * 2


@pytest.fixture(scope="module")
def labelled(demo_db: DemoDB) -> Iterator[list[tuple[int, int, bool, float | None]]]:
    """A run's scored pairs and the analyst's decisions on pairs of parties of the operation the analyst may see
    (stored directly: a real run's probabilities are the model's, not what a test needs)."""
    with Session(demo_db.engine) as session:
        actor = _actor(session, DECIDER)
        op = get_operation(session, SLUG)
        parties = sorted(extract(session, actor, operation_id=op.id).parties)
        assert len(parties) >= 2 * len(LABELS) + 1
        run = LinkageRun(scope_agency_id=None, backend="duckdb", threshold=0.95, records=len(parties))
        session.add(run)
        session.flush()
        pairs = []
        for i, (confirmed, p) in enumerate(LABELS):
            low, high = parties[2 * i], parties[2 * i + 1]
            if p is not None:
                session.add(ProposedLink(run_id=run.id, party_low_id=low, party_high_id=high, match_probability=p,
                                         match_weight=0.0))  # fmt: skip
            decision = "confirm" if confirmed else "reject"
            session.add(LinkDecision(party_low_id=low, party_high_id=high, decision=decision,
                                     agency_id=actor.agency_id, user_id=actor.user_id))  # fmt: skip
            pairs.append((low, high, confirmed, p))
        session.commit()
        run_id = run.id
    yield pairs
    with Session(demo_db.engine) as session:
        session.execute(delete(ThresholdAdoption))
        session.execute(delete(LinkDecision))
        session.execute(delete(ProposedLink).where(ProposedLink.run_id == run_id))
        session.execute(delete(LinkageRun).where(LinkageRun.id == run_id))
        session.commit()


def test_the_operation_curve_counts_the_decisions_the_reader_may_see(
    demo_db: DemoDB, labelled: list[tuple[int, int, bool, float | None]]
) -> None:
    with Session(demo_db.engine) as session:
        view = service.read_threshold(session, _actor(session, DECIDER), operation=SLUG, precision_target=1.0)
        cal = view.calibration
        assert (cal.decisions, cal.confirmed, cal.rejected, cal.unscored) == (26, 20, 6, 2)
        expected = _independent([(c, p) for c, p in LABELS])
        assert {p.threshold: (p.true_positives, p.false_positives) for p in cal.points} == {
            t: (tp, fp) for t, (tp, fp, _pr, _re) in expected.items()
        }
        best = cal.best_f1()
        assert best is not None and best.threshold == 0.96  # 18/20 precise, 18/20 found
        assert view.for_target is not None and view.for_target.threshold == 0.99
        assert view.current is None and view.screening_threshold == screening.DEFAULT_THRESHOLD
        # A reader who sees fewer parties counts fewer decisions: never a pair they could not open.
        other = service.read_threshold(session, _actor(session, "rilo.analyst"), operation=SLUG)
        visible = set(extract(session, _actor(session, "rilo.analyst"), operation_id=get_operation(session, SLUG).id)
                      .parties)  # fmt: skip
        assert other.calibration.decisions == sum(1 for a, b, *_ in labelled if a in visible and b in visible) < 26
        assert other.calibration.problem_code == "too_few" and other.calibration.best_f1() is None


def test_who_may_see_and_adopt(demo_db: DemoDB, labelled: list[tuple[int, int, bool, float | None]]) -> None:
    with Session(demo_db.engine) as session:
        for username in ("vn.reporter", "unodc.observer"):
            with pytest.raises(PermissionDenied):
                service.read_threshold(session, _actor(session, username), operation=SLUG)
        for username in ("vn.reporter", "unodc.observer"):
            with pytest.raises(PermissionDenied):
                service.adopt_threshold(session, _actor(session, username), operation=SLUG)
        analyst = _actor(session, DECIDER)
        with pytest.raises(ValidationError, match="precision target must be above 0 and at most 1"):
            service.adopt_threshold(session, analyst, operation=SLUG, rule="precision_target", precision_target=1.5)
        with pytest.raises(ValidationError, match="needs a precision target"):
            service.adopt_threshold(session, analyst, operation=SLUG, rule="precision_target")
        with pytest.raises(ValidationError, match="the curve starts at"):
            service.adopt_threshold(session, analyst, operation=SLUG, rule="chosen", threshold=0.3)
        with pytest.raises(ValidationError, match="rule must be"):
            service.adopt_threshold(session, analyst, operation=SLUG, rule="guess")
        session.rollback()
        assert calibration.adopted(session, get_operation(session, SLUG).id) is None


def test_adopt_is_audited_and_used_by_the_next_screening(
    demo_db: DemoDB, labelled: list[tuple[int, int, bool, float | None]]
) -> None:
    manifest = "Họ và tên,Ngày sinh\nThang Nguyen Van,02/11/1986\n".encode()
    with Session(demo_db.engine) as session:
        analyst = _actor(session, DECIDER)
        row = service.adopt_threshold(session, analyst, operation=SLUG)
        assert (row.threshold, row.rule, row.decisions, row.user_id) == (0.96, "best_f1", 26, analyst.user_id)
        assert row.precision == pytest.approx(18 / 20) and row.recall == pytest.approx(18 / 20)
        chosen = service.adopt_threshold(session, analyst, operation=SLUG, rule="chosen", threshold=0.97)
        assert chosen.recall == pytest.approx(12 / 20) and chosen.precision == 1.0
        session.commit()
        entries = session.execute(
            select(AuditEvent).where(AuditEvent.action == "linkage.threshold_adopted").order_by(AuditEvent.id)
        ).scalars().all()  # fmt: skip
        assert [e.detail["threshold"] for e in entries] == [0.96, 0.97]
        assert entries[1].detail["previous"] == 0.96 and entries[0].actor_username == DECIDER
        reporter = _actor(session, "vn.reporter")
        used = screening.screen(session, reporter, operation=SLUG, data=manifest, filename="m.csv")
        assert used.threshold == 0.97
        given = screening.screen(session, reporter, operation=SLUG, data=manifest, filename="m.csv", threshold=0.5)
        assert given.threshold == 0.5
        view = service.read_threshold(session, analyst, operation=SLUG)
        assert view.current is not None and view.current.threshold == 0.97 and len(view.history) == 2
        assert view.resolution_threshold == 0.97
        session.execute(delete(ThresholdAdoption))
        session.commit()


# --- the doors ---------------------------------------------------------------------------------------------------


def _url(db: DemoDB) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_cli_shows_adopts_and_fails_in_one_line(
    demo_db: DemoDB, labelled: list[tuple[int, int, bool, float | None]]
) -> None:
    runner = CliRunner()
    base = ["linkage", "threshold"]
    tail = ["--operation", SLUG, "--database-url", _url(demo_db)]
    out = runner.invoke(cli_app, [*base, "show", "--as", DECIDER, *tail, "--precision-target", "1"])
    assert out.exit_code == 0, out.output
    assert "26 decisions (20 confirmed, 6 rejected)" in out.output
    assert "suggested (best F1): 0.9600" in out.output and "suggested for precision 1: 0.9900" in out.output
    out = runner.invoke(cli_app, [*base, "show", "--as", DECIDER, *tail, "--json"])
    body = json.loads(out.output)
    assert body["suggested"]["best_f1"]["threshold"] == 0.96 and len(body["curve"]) == 3
    out = runner.invoke(cli_app, [*base, "adopt", "--as", DECIDER, *tail, "--precision-target", "1"])
    assert out.exit_code == 0, out.output
    assert "threshold 0.9900 adopted (precision_target" in out.output
    for args, message in [
        ([*base, "adopt", "--as", "vn.reporter", *tail], "error: only regional analysts, national coordinators and"),
        ([*base, "show", "--as", "vn.reporter", *tail], "error: only regional analysts, national coordinators"),
        ([*base, "adopt", "--as", DECIDER, *tail, "--threshold", "0.2"], "error: the curve starts at 0.5"),
        ([*base, "adopt", "--as", DECIDER, *tail, "--threshold", "0.9", "--precision-target", "1"], "error: give"),
    ]:
        out = runner.invoke(cli_app, args)
        assert out.exit_code == 1 and out.output.strip().startswith(message) and len(out.output.splitlines()) == 1, (
            args, out.output)  # fmt: skip
    with Session(demo_db.engine) as session:
        assert calibration.operation_threshold(session, get_operation(session, SLUG).id) == 0.99
        session.execute(delete(ThresholdAdoption))
        session.commit()


@pytest.fixture
def client(demo_db: DemoDB, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(_url(demo_db), tmp_path, "test-secret-key", 8, False)),
                    base_url="https://testserver") as c:  # fmt: skip
        yield c


def _login(client: TestClient, username: str) -> str:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code in (302, 303), r.text
    page = client.get(f"/operations/{SLUG}/networks")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_api_and_page(client: TestClient, labelled: list[tuple[int, int, bool, float | None]]) -> None:
    url = f"/api/v1/operations/{SLUG}/linkage/threshold"
    assert client.get(url).status_code == 401
    csrf = _login(client, "vn.reporter")
    assert client.get(url).status_code == 403
    assert client.get(f"/operations/{SLUG}/threshold").status_code == 403
    assert "/threshold" not in client.get(f"/operations/{SLUG}/networks").text  # no link to a page they may not see
    client.post("/logout", data={"csrf_token": csrf})

    csrf = _login(client, DECIDER)
    r = client.get(url, params={"precision_target": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["decisions"], body["unscored"], body["suggested"]["for_precision_target"]["threshold"]) == (
        26,
        2,
        0.99,
    )
    assert client.post(url, json={"rule": "chosen"}, headers={"X-CSRF-Token": csrf}).status_code == 422
    r = client.post(url, json={"rule": "best_f1"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["threshold"] == 0.96
    assert client.get(url).json()["screening_threshold"] == 0.96

    page = client.get(f"/operations/{SLUG}/threshold")
    assert page.status_code == 200
    assert 'id="chart-threshold-curve"' in page.text and "data:image/svg+xml;base64," in page.text
    assert 'id="threshold-adopt-form"' in page.text and "0.9600" in page.text
    assert f'href="/operations/{SLUG}/threshold"' in client.get(f"/operations/{SLUG}/networks").text
    r = client.post(f"/operations/{SLUG}/threshold", data={"csrf_token": csrf, "rule": "chosen", "threshold": "0.3"})
    assert r.status_code == 422 and 'id="threshold-error"' in r.text
    r = client.post(f"/operations/{SLUG}/threshold", data={"csrf_token": csrf, "rule": "chosen", "threshold": "0.98"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert client.post(f"/operations/{SLUG}/threshold", data={"csrf_token": "forged"}).status_code in (400, 403)
    assert client.get(f"/operations/{SLUG}/screening").text.count('value="0.98"') == 1  # the screening form's default
    assert "0.9800" in client.get(f"/operations/{SLUG}/threshold").text
