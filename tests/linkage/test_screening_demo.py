"""Screening lists on the demo operation: planted people found from a manifest in several scripts and orders,
nothing of a hidden case revealed, one audit entry of counts, and the three doors (CLI, API, page)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from demo.conftest import DemoDB
from dragonnet.app import create_app
from dragonnet.cli.main import app as cli_app
from dragonnet.config import Settings
from dragonnet.demo import DEMO_PASSWORD, planted_networks
from dragonnet.linkage import normalise
from dragonnet.linkage.screening import service
from dragonnet.messaging import watchlists
from dragonnet.policy.access import Actor, PermissionDenied, nominal_visibility, visible_parties
from dragonnet.storage.models import Agency, AuditEvent, Case, Party, User

SLUG = "mekong-dragon"

# The planted people as officers of other countries write them: diacritics or not, family name first or last,
# Hanzi or pinyin. Each row: (name, date of birth, nationality, passport, the member's key in the demo plan).
MANIFEST = [
    ("Thang Nguyen Van", "02/11/1986", "Việt Nam", "", "thang"),
    ("NGUYỄN VĂN THẮNG", "1986-11-02", "VN", "C4185230", "thang"),
    ("陈伟强", "18/06/1975", "中国", "", "chen-wq"),
    ("Weiqiang CHEN", "1975-06-18", "CN", "E61830275", "chen-wq"),
    ("Pháng Lò Văn", "12/02/1990", "VN", "", "lo-phang"),
    ("Zbigniew Quarterman", "1960-01-01", "PL", "", None),  # nobody
]


def _manifest(rows: list[tuple[str, str, str, str, str | None]] = MANIFEST, extra: str = "") -> bytes:
    lines = ["Họ và tên,Ngày sinh,Quốc tịch,Số hộ chiếu"] + [f"{n},{d},{c},{p}" for n, d, c, p, _m in rows]
    return ("\n".join(lines) + "\n" + extra).encode("utf-8")


def _actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


def _ring_cases(session: Session, member: str) -> set[int]:
    """The ids of the cases of the ring the planted member belongs to (ground truth, never stored)."""
    ring = next(r for r in planted_networks(2023) if any(m.key == member for m in r.members))
    refs = set(ring.cases)
    rows = session.execute(
        select(Case.id, Agency.code, Case.case_ref).join(Agency, Agency.id == Case.reporting_agency_id)
    )
    return {cid for cid, agency, ref in rows if (agency, ref) in refs}


@pytest.fixture(scope="module")
def screened(demo_db: DemoDB) -> service.Screening:
    with Session(demo_db.engine) as session:
        result = service.screen(session, _actor(session, "vn.reporter"), operation=SLUG, data=_manifest(),
                                filename="manifest.csv")  # fmt: skip
        session.commit()
    return result


def test_a_manifest_in_several_scripts_and_orders_finds_the_planted_people(
    demo_db: DemoDB, screened: service.Screening
) -> None:
    with Session(demo_db.engine) as session:
        actor = _actor(session, "vn.reporter")
        visible = {p.id: p.case_id for p in session.execute(visible_parties(actor)).scalars()}
        for row, (_name, _dob, _nat, _passport, member) in enumerate(MANIFEST, start=2):
            hits = [h for h in screened.hits if h.row == row]
            if member is None:
                assert hits == [], row
                continue
            assert hits, (row, member)
            ring = _ring_cases(session, member)
            for hit in hits:
                assert hit.source == "case" and hit.record_id in visible  # only what the reporter may open
                assert visible[hit.record_id] in ring, (row, hit.reference)  # the planted person, not a namesake
                assert hit.link == f"/cases/{visible[hit.record_id]}"
                assert hit.match_probability is not None and hit.match_probability >= screened.threshold
                assert "name" in hit.agreed and "birth_date" in hit.agreed
    s = screened.summary()
    assert (s["rows_read"], s["rows_screened"], s["rows_quarantined"]) == (6, 6, 0)
    assert s["pairs_compared"] == s["pairs_scored"] >= s["pairs_above_threshold"] >= s["hits"] > 0
    assert s["case_parties"] > 0


def test_one_audit_entry_with_counts_and_no_names(demo_db: DemoDB, screened: service.Screening) -> None:
    with Session(demo_db.engine) as session:
        entries = session.execute(select(AuditEvent).where(AuditEvent.action == "screening.run")).scalars().all()
    assert len(entries) == 1
    detail = entries[0].detail
    assert detail["rows_read"] == 6 and detail["hits"] == len(screened.hits)
    assert detail["pairs_compared"] == screened.run.counts.compared
    assert (detail["trained_on"], detail["cached_records"]) == (screened.run.trained_on, screened.run.cached_records)
    assert set(detail["parties"]) == {h.record_id for h in screened.hits if h.source == "case"}
    text = json.dumps(detail, ensure_ascii=False).lower()
    for name, *_ in MANIFEST:
        assert normalise.fold(name).lower() not in normalise.fold(text)
    assert "weiqiang" not in text and "thang" not in text


def _hidden_party(session: Session, username: str) -> Party:
    """A person whose case's nominal data `username` may not see, with a name and a date of birth."""
    actor = _actor(session, username)
    return session.execute(
        select(Party).join(Case, Case.id == Party.case_id)
        .where(~nominal_visibility(actor), Party.kind == "person", Party.birth_date.is_not(None))
        .order_by(Party.id).limit(1)
    ).scalar_one()  # fmt: skip


def test_a_user_of_another_agency_never_sees_a_hidden_case(demo_db: DemoDB) -> None:
    with Session(demo_db.engine) as session:
        party = _hidden_party(session, "th.reporter")
        case = session.get(Case, party.case_id)
        assert case is not None
        party_id, case_id, case_ref = party.id, case.id, case.case_ref
        owner = session.execute(
            select(User).where(User.agency_id == case.reporting_agency_id, User.is_active.is_(True)).limit(1)
        ).scalar_one()
        row = [(party.name, party.birth_date.isoformat() if party.birth_date else "", party.nationality or "",
                party.id_number or "", None)]  # fmt: skip
        stranger = service.screen(session, _actor(session, "th.reporter"), operation=SLUG, data=_manifest(row),
                                  filename="list.csv")  # fmt: skip
        owned = service.screen(session, Actor.for_user(owner), operation=SLUG, data=_manifest(row), filename="list.csv")
        visible = {p.id for p in session.execute(visible_parties(_actor(session, "th.reporter"))).scalars()}
        session.rollback()
    # The owner's agency finds its own party (so the list is a good one)...
    assert any(h.record_id == party_id for h in owned.hits)
    # ...the other agency learns nothing: no hit on that party, its case or any party it may not open.
    assert all(h.record_id != party_id for h in stranger.hits)
    body = json.dumps(stranger.to_json(), ensure_ascii=False)
    assert f'/cases/{case_id}"' not in body and case_ref not in body
    assert {h.record_id for h in stranger.hits if h.source == "case"} <= visible
    assert stranger.case_parties <= len(visible)


def test_watchlist_values_are_hits_and_observers_may_not_screen(demo_db: DemoDB) -> None:
    with Session(demo_db.engine) as session:
        actor = _actor(session, "vn.reporter")
        watchlists.add_entry(session, actor, "passport", "X 1234-567", "a courier")
        result = service.screen(session, actor, operation=SLUG, filename="l.csv",
                                data=_manifest([("Some Body", "1990-01-01", "VN", "x1234567", None)]))  # fmt: skip
        with pytest.raises(PermissionDenied):
            service.screen(session, _actor(session, "unodc.observer"), operation=SLUG, data=_manifest(),
                           filename="l.csv")  # fmt: skip
        session.rollback()
    [hit] = [h for h in result.hits if h.source == "watchlist"]
    assert (hit.row, hit.agreed, hit.link, hit.match_probability) == (2, {"id_number": "exact"}, "/watchlist", None)


# --- the doors ---------------------------------------------------------------------------------------------------


def _url(db: DemoDB) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_cli_screens_writes_safe_exports_and_fails_in_one_line(
    demo_db: DemoDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRAGONNET_DATA_DIR", str(tmp_path))  # the records the screening keeps (record_cache)
    runner = CliRunner()
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(_manifest([("=Thang Nguyen Van", "1986-11-02", "VN", "C4185230", "thang")],
                                   extra=",1990-01-01,VN,\n"))  # fmt: skip
    base = ["screen", str(manifest), "--operation", SLUG, "--as", "vn.reporter", "--database-url", _url(demo_db)]
    out = runner.invoke(cli_app, [*base, "--out", str(tmp_path / "hits.csv")])
    assert out.exit_code == 0, out.output
    assert "2 rows read: 1 screened, 1 quarantined" in out.output and "pairs compared" in out.output
    assert "model: estimated on list and reference together; reference records read from the records kept" in out.output
    assert "quarantined: list row 3, name: no name" in out.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "hits.csv").read_text(encoding="utf-8"))))
    assert rows and all(r["listed_name"] == "'=Thang Nguyen Van" for r in rows)  # not a formula
    hits = [r for r in rows if r["source"] != "notice"]  # notices: hits on records the reporter may not see
    assert hits and all(r["link"].startswith("/cases/") and r["evidence"] for r in hits)
    assert all("/screening/notices/" in r["link"] and not r["evidence"] for r in rows if r["source"] == "notice")

    out = runner.invoke(cli_app, [*base, "--json", "--out", str(tmp_path / "hits.xlsx"), "--threshold", "0.5"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["threshold"] == 0.5 and body["rows_quarantined"] == 1 and body["quarantined"][0]["column"] == "name"
    # one row against the demo's persons: too few pairs between them, estimated together; the first run kept the
    # reference's records (more than MERGE_FROM normalised), this one read them back
    assert (body["model"], body["trained_on"]) == ("estimated", "together") and body["cached_records"] > 1000
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "hits.xlsx")
    assert book.sheetnames == ["hits", "rows", "summary"]
    assert book["hits"]["B2"].value == "'=Thang Nguyen Van"
    assert runner.invoke(cli_app, [*base, "--out", str(tmp_path / "hits.json")]).exit_code == 0
    assert json.loads((tmp_path / "hits.json").read_text(encoding="utf-8"))["hits"]

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    for args, message in [
        (["screen", str(bad), "--operation", SLUG, "--as", "vn.reporter"], "error: bad.xlsx: not an XLSX"),
        ([*base[:-2], "--operation", "nope"], "error: unknown operation"),
        ([*base, "--out", str(tmp_path / "hits.txt")], "error: --out"),
        ([*base, "--kind", "robots"], "error: unknown kind"),
        ([*base[:4], "--as", "unodc.observer"], "error: only members"),
    ]:
        if "--database-url" not in args:
            args = [*args, "--database-url", _url(demo_db)]
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)


def _login(client: TestClient, username: str) -> str:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"})  # fmt: skip
    assert r.status_code == 303, r.text
    page = client.get(f"/operations/{SLUG}/screening")
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found
    return found.group(1)


@pytest.fixture
def client(demo_db: DemoDB, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(_url(demo_db), tmp_path, "test-secret-key", 8, False)),
                    follow_redirects=False) as c:  # fmt: skip
        yield c


def test_api_screens_a_multipart_upload(client: TestClient) -> None:
    url = f"/api/v1/operations/{SLUG}/screening"
    files = {"file": ("manifest.csv", _manifest(), "text/csv")}
    assert client.post(url, files=files).status_code == 401
    csrf = _login(client, "vn.reporter")
    r = client.post(url, files=files, data={"kind": "persons"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hit_count"] == len(body["hits"]) > 0 and body["rows_read"] == 6
    assert body["pairs_compared"] == body["pairs_scored"] >= body["pairs_above_threshold"]
    assert {h["source"] for h in body["hits"]} == {"case"}
    assert body["trained_on"] in ("between", "together") and body["cached_records"] >= 0
    bad = client.post(
        url, files={"file": ("x.xlsx", b"nope", "application/octet-stream")}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status_code == 400 and "not an XLSX" in bad.json()["error"]["message"]
    assert client.post(url, files=files, data={"threshold": "2"}, headers={"X-CSRF-Token": csrf}).status_code == 422
    assert client.post("/api/v1/operations/nope/screening", files=files,
                       headers={"X-CSRF-Token": csrf}).status_code == 404  # fmt: skip
    spec = client.get("/api/v1/openapi.json").json()
    responses = spec["paths"][url.replace(SLUG, "{slug}")]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "422"} <= set(responses)


def test_api_refuses_observers(client: TestClient) -> None:
    csrf = _login(client, "unodc.observer")
    r = client.post(f"/api/v1/operations/{SLUG}/screening", files={"file": ("m.csv", _manifest(), "text/csv")},
                    headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert r.status_code == 403


def test_the_page_uploads_shows_hits_and_downloads(client: TestClient) -> None:
    csrf = _login(client, "vn.reporter")
    page = client.get(f"/operations/{SLUG}/screening")
    assert page.status_code == 200 and 'id="screening-form"' in page.text
    networks = client.get(f"/operations/{SLUG}/networks")
    assert f'href="/operations/{SLUG}/screening"' in networks.text  # reachable from the linkage pages
    files = {"file": ("manifest.csv", _manifest(extra=",1990-01-01,VN,\n"), "text/csv")}
    r = client.post(f"/operations/{SLUG}/screening", files=files, data={"csrf_token": csrf})
    assert r.status_code == 200, r.text
    assert 'id="screening-hits"' in r.text and 'data-source="case"' in r.text and "/cases/" in r.text
    assert 'class="quarantined"' in r.text and "no name" in r.text
    download = client.post(f"/operations/{SLUG}/screening", files=files, data={"csrf_token": csrf, "output": "csv"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "listed_name" in download.text
    bad = client.post(f"/operations/{SLUG}/screening", files={"file": ("m.csv", b"Seat\n1A\n", "text/csv")},
                      data={"csrf_token": csrf})  # fmt: skip
    assert bad.status_code == 422 and 'id="screening-error"' in bad.text
    forged = client.post(f"/operations/{SLUG}/screening", files=files, data={"csrf_token": "forged"})
    assert forged.status_code == 403
