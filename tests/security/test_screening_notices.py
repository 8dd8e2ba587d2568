"""A screening's hit on a record the screener may not see follows the hit / no-hit rule (linkage.screening.notices):
only "agency X holds a record matching row N of your list" with a notice number, on every door (service, page,
API, CLI, CSV/XLSX/JSON exports); the owner reveals it by accepting a request (the case is shared, and the next
screening shows a normal hit) or declines with a reason; observers get nothing. On both backends, in the canary
world of the access matrix (security.world)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.cli.linkage import linkage_app
from dragonnet.cli.main import app as cli_app
from dragonnet.errors import ValidationError
from dragonnet.linkage import service as linkage
from dragonnet.linkage.screening import service
from dragonnet.policy.access import Hidden, PermissionDenied
from dragonnet.storage.db import make_engine
from dragonnet.storage.linkage_models import ScreeningNotice
from dragonnet.storage.messaging_models import Notification
from dragonnet.storage.models import AuditEvent, CaseShare
from security.sessions import open_sessions, use
from security.world import CaseFact, World, actor_of

THRESHOLD = "0.5"


@pytest.fixture
def db(db_url: str, world: World) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _hidden_case(world: World, reader: str, owner: str, level: str) -> CaseFact:
    """A validated case of `owner` at `level` that `reader` may not see with its parties, never shared."""
    return next(c for c in world.cases if c.owner == owner and c.level == level and c.status == "validated"
                and not c.shares and world.sees(reader, c) != (True, True))  # fmt: skip


def _visible_case(world: World, reader: str, owner: str) -> CaseFact:
    return next(c for c in world.cases if c.owner == owner and c.status == "validated"
                and world.sees(reader, c) == (True, True))  # fmt: skip


def _list(*cases: CaseFact) -> bytes:
    """A manifest naming the cases' couriers as the screener writes them: name, passport and e-mail (its own
    input); nothing else of the record (no phone, no address)."""
    lines = ["Name,Passport,E-mail"] + [f"Person {c.nm},P{c.nm},{c.nm}@example.org" for c in cases]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _secrets(case: CaseFact) -> list[str]:
    """What a notice must not tell of the other case: its reference and content, its party's other fields, its
    level (the case's own canaries: reference R<nn>, the non-nominal canary, the party's phone and address)."""
    return [f"R{case.nn}", case.nn, f"street {case.nm}", f"+66{case.nm}", f"66{case.nm}"]


def _assert_absent(text: str, case: CaseFact, where: str) -> None:
    for secret in _secrets(case):
        assert re.search(re.escape(secret) + r"(?!\d)", text) is None, (where, secret)
    assert "amber" not in text.lower() and "TLP" not in text, where


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_a_hidden_case_gives_only_a_notice_and_numbers_are_stable(db: Session, world: World) -> None:
    hidden = _hidden_case(world, "th_reporter", "VN-CUS", "amber")
    visible = _visible_case(world, "th_reporter", "VN-CUS")
    th = actor_of(db, "th_reporter")
    result = service.screen(db, th, operation=world.slug, data=_list(hidden, visible), filename="manifest.csv",
                            threshold=float(THRESHOLD))  # fmt: skip
    # Row 2 (hidden): a notice naming the agency only; row 3 (visible): a normal hit with its case.
    [notice] = [n for n in result.notices if n.row == 2]
    assert (notice.owner_agency, notice.listed_name) == ("VN-CUS", f"Person {hidden.nm}")
    assert not [h for h in result.hits if h.row == 2]
    assert any(h.row == 3 and h.source == "case" and h.link == f"/cases/{visible.id}" for h in result.hits)
    assert result.summary()["notices"] == len(result.notices)
    for fmt in ("json", "csv"):
        _assert_absent(service.export(result, fmt).decode("utf-8"), hidden, fmt)
    xlsx = _xlsx_text(service.export(result, "xlsx"))
    _assert_absent(xlsx, hidden, "xlsx")
    assert "screening notice" in xlsx and f"/screening/notices/{notice.notice_id}" in xlsx
    # The counters count what the screener may see only.
    assert result.summary()["case_parties"] == len(
        [c for c in world.cases if world.sees("th_reporter", c) == (True, True)]
    )
    # The row's data is kept with the notice (the screener's own input), for the owner to judge a request.
    row = db.get(ScreeningNotice, notice.notice_id)
    assert row is not None and row.row_data["name"] == f"Person {hidden.nm}" and row.owner_case_id == hidden.id
    # The same list again: the same notice numbers.
    again = service.screen(db, th, operation=world.slug, data=_list(hidden, visible), filename="again.csv",
                           threshold=float(THRESHOLD))  # fmt: skip
    assert [n.notice_id for n in again.notices] == [n.notice_id for n in result.notices]
    # The notice is the screener's agency's: a third agency and observers find nothing.
    with pytest.raises(Hidden):
        linkage.read_screening_notice(db, actor_of(db, "la_reporter"), notice.notice_id, purpose="t")
    with pytest.raises(Hidden):  # the owner learns of it only when asked
        linkage.read_screening_notice(db, actor_of(db, "vn_coord"), notice.notice_id, purpose="t")
    assert linkage.read_screening_notices(db, actor_of(db, "observer"), purpose="t") == []
    with pytest.raises(PermissionDenied):
        service.screen(db, actor_of(db, "observer"), operation=world.slug, data=_list(hidden), filename="l.csv")
    db.commit()
    entry = db.execute(select(AuditEvent).where(AuditEvent.action == "screening.run")).scalars().first()
    assert entry is not None and notice.notice_id in entry.detail["screening_notices"]
    assert f"R{hidden.nn}" not in json.dumps(entry.detail)


def test_request_accept_reveals_and_the_next_screening_hits(db: Session, world: World) -> None:
    hidden = _hidden_case(world, "th_reporter", "VN-CUS", "amber")
    th = actor_of(db, "th_reporter")
    result = service.screen(db, th, operation=world.slug, data=_list(hidden), filename="m.csv",
                            threshold=float(THRESHOLD))  # fmt: skip
    [notice] = result.notices
    with pytest.raises(ValidationError, match="at least"):
        linkage.request_screening_disclosure(db, th, notice.notice_id, "short")
    made = linkage.request_screening_disclosure(db, th, notice.notice_id, "the courier crossed at Mae Sai today")
    assert made.pending and made.screening_notice_id == notice.notice_id and made.owner_agency == "VN-CUS"
    with pytest.raises(ValidationError, match="asked already"):
        linkage.request_screening_disclosure(db, th, notice.notice_id, "asking twice is refused")
    # The owner now reads the notice: the submitted row and its own case, and the request to decide.
    vn = actor_of(db, "vn_coord")
    theirs = linkage.read_screening_notice(db, vn, notice.notice_id, purpose="t")
    assert not theirs.asker and theirs.own_case_id == hidden.id and theirs.row_data["name"] == f"Person {hidden.nm}"
    assert [r.id for r in theirs.pending_received] == [made.id]
    with pytest.raises(PermissionDenied):  # the asking side does not decide
        linkage.decide_request(db, th, made.id, "accept")
    done = linkage.decide_request(db, vn, made.id, "accept", "same courier, share it")
    assert done.status == "accepted" and done.screening_notice_id == notice.notice_id
    share = db.execute(
        select(CaseShare).where(CaseShare.case_id == hidden.id, CaseShare.agency_id == world.agencies["TH-CUS"])
    ).scalar_one()
    assert share.nominal
    mine = linkage.read_screening_notice(db, th, notice.notice_id, purpose="t")
    assert mine.status == "revealed" and mine.revealed is not None and mine.revealed.case_id == hidden.id
    # Inboxes of both agencies, and the audit log.
    for agency in ("TH-CUS", "VN-CUS"):
        subjects = db.execute(select(Notification.subject).where(
            Notification.agency_id == world.agencies[agency], Notification.kind.in_(["disclosure_request",
                                                                                       "disclosure_decision"]),
        )).scalars().all()  # fmt: skip
        assert any(f"Screening notice {notice.notice_id}" in s and f"request {made.id}" in s for s in subjects)
    db.commit()
    actions = set(db.execute(select(AuditEvent.action)).scalars())
    assert {"screening.disclosure_request", "linkage.disclosure_accept", "case.share"} <= actions
    # The next screening shows a normal hit on the case, and no notice.
    again = service.screen(db, th, operation=world.slug, data=_list(hidden), filename="m.csv",
                           threshold=float(THRESHOLD))  # fmt: skip
    assert again.notices == []
    assert any(h.row == 2 and h.source == "case" and h.link == f"/cases/{hidden.id}" for h in again.hits)


def test_decline_keeps_the_case_hidden(db: Session, world: World) -> None:
    hidden = _hidden_case(world, "vn_reporter", "LA-CUS", "red")
    vn = actor_of(db, "vn_reporter")
    result = service.screen(db, vn, operation=world.slug, data=_list(hidden), filename="m.csv",
                            threshold=float(THRESHOLD))  # fmt: skip
    [notice] = result.notices
    made = linkage.request_screening_disclosure(db, vn, notice.notice_id, "named in a seizure at Lao Bao")
    la = actor_of(db, "la_coord")
    with pytest.raises(ValidationError, match="reason"):
        linkage.decide_request(db, la, made.id, "decline")
    done = linkage.decide_request(db, la, made.id, "decline", "an open investigation, not now")
    assert done.status == "declined"
    view = linkage.read_screening_notice(db, vn, notice.notice_id, purpose="t")
    assert view.status == "declined" and view.revealed is None and view.may_request
    _assert_absent(json.dumps(view.to_dict()), hidden, "declined notice")
    assert view.requests[0].decision_reason == "an open investigation, not now"
    again = service.screen(db, vn, operation=world.slug, data=_list(hidden), filename="m.csv",
                           threshold=float(THRESHOLD))  # fmt: skip
    assert [n.notice_id for n in again.notices] == [notice.notice_id] and not again.hits


# --- the doors -----------------------------------------------------------------------------------------------


def test_page_api_and_cli_show_notices_only(client: TestClient, world: World, db_url: str, tmp_path: Path) -> None:
    hidden = _hidden_case(world, "th_reporter", "LA-CUS", "amber")
    logins = open_sessions(db_url, ["th_reporter", "la_coord", "observer"])
    login = logins["th_reporter"]
    use(client, login)
    files = {"file": ("manifest.csv", _list(hidden), "text/csv")}
    api = client.post(f"/api/v1/operations/{world.slug}/screening", files=files, data={"threshold": THRESHOLD},
                      headers={"X-CSRF-Token": login.csrf})  # fmt: skip
    assert api.status_code == 200, api.text
    body = api.json()
    [notice] = body["notices"]
    assert (notice["row"], notice["owner_agency"], body["notice_count"]) == (2, "LA-CUS", 1)
    assert not [h for h in body["hits"] if h["row"] == 2]
    _assert_absent(api.text, hidden, "API screening")
    number = notice["notice"]
    listed = client.get("/api/v1/linkage/screening-notices").json()
    assert [n["id"] for n in listed if n["id"] == number] and listed[0]["side"] == "asker"
    _assert_absent(json.dumps(listed), hidden, "API notices")

    page = client.post(f"/operations/{world.slug}/screening", files=files,
                       data={"csrf_token": login.csrf, "threshold": THRESHOLD})  # fmt: skip
    assert page.status_code == 200 and 'id="screening-notices-table"' in page.text
    assert f'href="/operations/{world.slug}/screening/notices/{number}"' in page.text
    _assert_absent(page.text, hidden, "results page")
    links = client.get(f"/operations/{world.slug}/links")
    assert f'data-screening-notice="{number}"' in links.text
    _assert_absent(links.text, hidden, "links page")
    notice_page = client.get(f"/operations/{world.slug}/screening/notices/{number}")
    assert notice_page.status_code == 200 and 'id="request-form"' in notice_page.text
    _assert_absent(notice_page.text, hidden, "notice page")
    asked = client.post(f"/operations/{world.slug}/screening/notices/{number}/request",
                        data={"csrf_token": login.csrf, "reason": "the consignee of our seizure"})  # fmt: skip
    assert asked.status_code == 303
    # The owner answers through the API's request route (shared with the match notices).
    use(client, logins["la_coord"])
    theirs = client.get(f"/api/v1/linkage/screening-notices/{number}").json()
    assert theirs["side"] == "owner" and theirs["own_case_id"] == hidden.id
    [request] = theirs["requests"]
    # On the page: a decline without a reason comes back to this notice with the error, nothing decided.
    owner_page = client.get(f"/operations/{world.slug}/screening/notices/{number}")
    assert f'name="screening_notice" value="{number}"' in owner_page.text
    refused = client.post(f"/operations/{world.slug}/requests/{request['id']}/decide",
                          data={"csrf_token": logins["la_coord"].csrf, "decision": "decline",
                                "screening_notice": number})  # fmt: skip
    assert refused.status_code == 303 and f"/screening/notices/{number}?error=" in refused.headers["location"]
    assert client.get(refused.headers["location"]).text.count('id="notice-error"') == 1
    decided = client.post(f"/api/v1/linkage/requests/{request['id']}/decision",
                          json={"decision": "decline", "reason": "not before the arrest"},
                          headers={"X-CSRF-Token": logins["la_coord"].csrf})  # fmt: skip
    assert decided.status_code == 200 and decided.json()["screening_notice"] == number
    use(client, logins["observer"])
    assert client.get(f"/api/v1/linkage/screening-notices/{number}").status_code == 404
    assert client.get("/api/v1/linkage/screening-notices").json() == []

    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(_list(hidden))
    out = CliRunner().invoke(cli_app, ["screen", str(manifest), "--operation", world.slug, "--as", "th_reporter",
                                       "--threshold", THRESHOLD, "--database-url", db_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"LA-CUS holds a matching record (screening notice {number})" in out.output
    _assert_absent(out.output, hidden, "CLI screen")
    out = CliRunner().invoke(linkage_app, ["screening-notices", "--as", "th_reporter", "--json", "--database-url",
                                           db_url])  # fmt: skip
    assert out.exit_code == 0 and next(n for n in json.loads(out.output) if n["id"] == number)["status"] == "declined"
    out = CliRunner().invoke(linkage_app, ["request-screening", str(number), "--as", "th_reporter", "--reason",
                                           "new evidence from the airport", "--database-url", db_url])  # fmt: skip
    assert out.exit_code == 0 and "sent to LA-CUS" in out.output, out.output
    out = CliRunner().invoke(linkage_app, ["request-screening", str(number), "--as", "vn_reporter", "--reason",
                                           "not our notice at all", "--database-url", db_url])  # fmt: skip
    assert out.exit_code == 1 and out.output.startswith("error:"), out.output
