"""A privacy-preserving screening (an encoded list matched at the hub) follows the hit / no-hit rule as the clear one
does (tests/security/test_screening_notices.py): a hit on a record the screener may not see is only "agency X holds
a record matching row N of your list" with a notice number, on every door (service, page, API, CLI, CSV/JSON
exports); the notice keeps no clear value (none reached the hub) and its owner's side says the list was encoded;
numbers are stable across re-runs of the same encodings; accepting a request gives a normal hit on the next run;
observers get nothing. On both backends, in the canary world of the access matrix (security.world)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.cli.linkage import linkage_app
from dragonnet.cli.main import app as cli_app
from dragonnet.linkage import service as linkage
from dragonnet.linkage.screening import encoded
from dragonnet.policy.access import Hidden, PermissionDenied
from dragonnet.storage.db import make_engine
from dragonnet.storage.linkage_models import ScreeningNotice
from dragonnet.storage.models import AuditEvent
from security.sessions import open_sessions, use
from security.test_screening_notices import _assert_absent, _hidden_case, _list, _visible_case
from security.world import CaseFact, World, actor_of

KEY = b"operation-shared-secret-0123456789"
THRESHOLD = 0.5


@pytest.fixture
def db(db_url: str, world: World) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _encoded(*cases: CaseFact) -> bytes:
    """The screener's manifest (`_list`: name, passport, e-mail per case), encoded where it is."""
    return encoded.encode_list(_list(*cases), "manifest.csv", KEY)[0].dumps()


def _screen(
    db: Session, who: str, world: World, data: bytes, name: str = "manifest.encoded.json"
) -> encoded.EncodedScreening:
    return encoded.screen_encoded(db, actor_of(db, who), operation=world.slug, data=data, filename=name, secret=KEY,
                                  threshold=THRESHOLD)  # fmt: skip


def _notices_on(result: encoded.EncodedScreening, db: Session, case: CaseFact) -> list[int]:
    found = db.execute(select(ScreeningNotice.id).where(ScreeningNotice.owner_case_id == case.id)).scalars()
    ids = set(found)
    return [n.notice_id for n in result.notices if n.notice_id in ids]


def test_an_encoded_hit_on_a_hidden_case_gives_only_a_notice(db: Session, world: World) -> None:
    hidden = _hidden_case(world, "th_reporter", "VN-CUS", "amber")
    visible = _visible_case(world, "th_reporter", "VN-CUS")
    result = _screen(db, "th_reporter", world, _encoded(hidden, visible))
    # Row 2 (hidden): a notice naming the agency only; row 3 (visible): a normal hit with its case.
    [number] = _notices_on(result, db, hidden)
    [notice] = [n for n in result.notices if n.notice_id == number]
    assert (notice.row, notice.owner_agency, notice.listed_name) == (2, "VN-CUS", "")
    assert not [h for h in result.hits if h.row == 2]
    assert any(h.row == 3 and h.source == "case" and h.link == f"/cases/{visible.id}" for h in result.hits)
    summary = result.summary()
    assert summary["notices"] == len(result.notices) and summary["pairs_above_threshold"] == len(
        [h for h in result.hits if h.source != "watchlist"]
    )
    assert summary["case_parties"] == len([c for c in world.cases if world.sees("th_reporter", c) == (True, True)])
    for fmt in ("json", "csv"):
        text = encoded.export(result, fmt).decode("utf-8")
        _assert_absent(text, hidden, fmt)
        assert f"/screening/notices/{number}" in text and "VN-CUS" in text
    # No clear value reached the hub: the notice keeps the row's number, kind and digests only.
    row = db.get(ScreeningNotice, number)
    assert row is not None and row.owner_case_id == hidden.id
    assert set(row.row_data) == {"encoded", "row", "kind", "list_sha256", "encoding_sha256"}
    assert row.row_data["encoded"] is True and row.row_data["row"] == 2
    assert row.row_key == row.row_data["encoding_sha256"]
    assert hidden.nm not in json.dumps(row.row_data) and hidden.nm not in row.list_name
    # The same list encoded again, and the same rows in another list and order: the same notice numbers.
    again = _screen(db, "th_reporter", world, _encoded(hidden, visible), "again.encoded.json")
    assert [n.notice_id for n in again.notices] == [n.notice_id for n in result.notices]
    moved = _screen(db, "th_reporter", world, _encoded(visible, hidden), "other.encoded.json")
    assert [(n.row, n.notice_id) for n in moved.notices if n.notice_id == number] == [(3, number)]
    # The notice is the screener's agency's: a third agency, the owner (not asked yet) and observers find nothing.
    with pytest.raises(Hidden):
        linkage.read_screening_notice(db, actor_of(db, "la_reporter"), number, purpose="t")
    with pytest.raises(Hidden):
        linkage.read_screening_notice(db, actor_of(db, "vn_coord"), number, purpose="t")
    assert linkage.read_screening_notices(db, actor_of(db, "observer"), purpose="t") == []
    with pytest.raises(PermissionDenied):
        _screen(db, "observer", world, _encoded(hidden))
    db.commit()
    entry = db.execute(select(AuditEvent).where(AuditEvent.action == "screening.run")).scalars().first()
    assert entry is not None and entry.detail["privacy_preserving"] and number in entry.detail["screening_notices"]
    assert f"R{hidden.nn}" not in json.dumps(entry.detail)


def test_request_accept_on_an_encoded_notice_reveals_and_the_next_run_hits(db: Session, world: World) -> None:
    hidden = _hidden_case(world, "th_reporter", "VN-CUS", "amber")
    th = actor_of(db, "th_reporter")
    result = _screen(db, "th_reporter", world, _encoded(hidden))
    [number] = _notices_on(result, db, hidden)
    made = linkage.request_screening_disclosure(db, th, number, "the courier crossed at Mae Sai today")
    assert made.pending and made.owner_agency == "VN-CUS"
    # The owner reads the notice: an encoded row (its number, no value) matching its own party, and the request.
    vn = actor_of(db, "vn_coord")
    theirs = linkage.read_screening_notice(db, vn, number, purpose="t")
    assert not theirs.asker and theirs.encoded and theirs.own_case_id == hidden.id and theirs.row == 2
    assert theirs.listed_name == "" and "name" not in theirs.row_data and theirs.to_dict()["encoded"] is True
    done = linkage.decide_request(db, vn, made.id, "accept", "same courier, share it")
    assert done.status == "accepted"
    mine = linkage.read_screening_notice(db, th, number, purpose="t")
    assert mine.status == "revealed" and mine.revealed is not None and mine.revealed.case_id == hidden.id
    again = _screen(db, "th_reporter", world, _encoded(hidden))
    assert _notices_on(again, db, hidden) == []
    assert any(h.row == 2 and h.source == "case" and h.link == f"/cases/{hidden.id}" for h in again.hits)


def test_page_api_and_cli_show_encoded_notices_only(
    client: TestClient, world: World, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRAGONNET_LINKAGE_KEY", KEY.hex())  # the operation's key at the hub (page, API and CLI)
    hidden = _hidden_case(world, "th_reporter", "LA-CUS", "amber")
    logins = open_sessions(db_url, ["th_reporter", "la_coord", "observer"])
    login = logins["th_reporter"]
    use(client, login)
    files = {"file": ("manifest.encoded.json", _encoded(hidden), "application/json")}
    api = client.post(f"/api/v1/operations/{world.slug}/screening/encoded", files=files,
                      data={"threshold": str(THRESHOLD)}, headers={"X-CSRF-Token": login.csrf})  # fmt: skip
    assert api.status_code == 200, api.text
    body = api.json()
    [notice] = [n for n in body["notices"] if n["row"] == 2 and n["owner_agency"] == "LA-CUS"]
    assert body["notice_count"] == len(body["notices"]) and not [h for h in body["hits"] if h["row"] == 2]
    _assert_absent(api.text, hidden, "API encoded screening")
    number = notice["notice"]
    listed = [n for n in client.get("/api/v1/linkage/screening-notices").json() if n["id"] == number]
    assert [(n["side"], n["encoded"], n["listed_name"]) for n in listed] == [("asker", True, "")]

    page = client.post(f"/operations/{world.slug}/screening/encoded", files=files,
                       data={"csrf_token": login.csrf, "threshold": str(THRESHOLD)})  # fmt: skip
    assert page.status_code == 200 and 'id="encoded-notices-table"' in page.text
    assert f'href="/operations/{world.slug}/screening/notices/{number}"' in page.text
    _assert_absent(page.text, hidden, "encoded results page")
    download = client.post(f"/operations/{world.slug}/screening/encoded", files=files,
                           data={"csrf_token": login.csrf, "threshold": str(THRESHOLD), "output": "csv"})  # fmt: skip
    assert download.status_code == 200 and f"screening notice {number}" in download.text
    _assert_absent(download.text, hidden, "encoded CSV")
    links = client.get(f"/operations/{world.slug}/links")
    assert f'data-screening-notice="{number}"' in links.text
    _assert_absent(links.text, hidden, "links page")
    notice_page = client.get(f"/operations/{world.slug}/screening/notices/{number}")
    assert notice_page.status_code == 200 and 'id="request-form"' in notice_page.text
    assert 'id="notice-encoded"' in notice_page.text
    _assert_absent(notice_page.text, hidden, "notice page")
    asked = client.post(f"/operations/{world.slug}/screening/notices/{number}/request",
                        data={"csrf_token": login.csrf, "reason": "the consignee of our seizure"})  # fmt: skip
    assert asked.status_code == 303
    # The owner's side says honestly that the list was encoded: the row's number and its own party, no value.
    use(client, logins["la_coord"])
    owner_page = client.get(f"/operations/{world.slug}/screening/notices/{number}")
    assert owner_page.status_code == 200 and 'id="notice-encoded"' in owner_page.text
    assert "encoded" in owner_page.text.split('id="notice-agency"')[1].split("</p>")[0]
    assert 'class="row-value"' not in owner_page.text and f"Person {hidden.nm}" in owner_page.text  # its own party
    theirs = client.get(f"/api/v1/linkage/screening-notices/{number}").json()
    assert theirs["side"] == "owner" and theirs["encoded"] and theirs["own_case_id"] == hidden.id
    use(client, logins["observer"])
    assert client.get(f"/api/v1/linkage/screening-notices/{number}").status_code == 404
    assert client.get(f"/operations/{world.slug}/screening/notices/{number}").status_code == 404

    manifest = tmp_path / "manifest.encoded.json"
    manifest.write_bytes(_encoded(hidden))
    out = CliRunner().invoke(cli_app, ["screen", str(manifest), "--operation", world.slug, "--as", "th_reporter",
                                       "--threshold", str(THRESHOLD), "--database-url", db_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"row 2 -> LA-CUS holds a matching record (screening notice {number})" in out.output
    _assert_absent(out.output, hidden, "CLI encoded screen")
    out = CliRunner().invoke(linkage_app, ["screening-notices", "--as", "la_coord", "--database-url", db_url])
    assert out.exit_code == 0 and "screened row 2 of an encoded list (no name was sent)" in out.output, out.output
