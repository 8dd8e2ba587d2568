"""Privacy-preserving screening: a list encoded where it is (no clear value in the file), checked at the hub (a
damaged file or another key is refused in one message), matched on encodings against what the user may see
only, one audit entry of counts; the CLI encodes and screens, the API and the page answer the same."""

from __future__ import annotations

import base64
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
from dragonnet.demo import DEMO_PASSWORD
from dragonnet.linkage import pprl
from dragonnet.linkage.screening import encoded
from dragonnet.messaging import watchlists
from dragonnet.policy.access import Actor, PermissionDenied, nominal_visibility, visible_parties
from dragonnet.storage.models import AuditEvent, Case, Party, User
from dragonnet.tabular import ImportRejected

SLUG = "mekong-dragon"
KEY = b"operation-shared-secret-0123456789"
OTHER_KEY = b"not-the-operation-key-0123456789"

# The demo's planted people as another country's officers write them (diacritics or not, Hanzi, name order).
MANIFEST = [
    ("Thang Nguyen Van", "02/11/1986", "Việt Nam", "", "12 Hàng Bạc, Hà Nội"),
    ("NGUYỄN VĂN THẮNG", "1986-11-02", "VN", "C4185230", ""),
    ("陈伟强", "18/06/1975", "中国", "", ""),
    ("Weiqiang CHEN", "1975-06-18", "CN", "E61830275", "88 Jiefang Road, Kunming 650011"),
    ("Zbigniew Quarterman", "1960-01-01", "PL", "", "ul. Długa 5, Gdańsk 80-827"),
]
PLANTED_ROWS = {2, 3, 4, 5}  # row 6: nobody


def _manifest(rows: list[tuple[str, str, str, str, str]] = MANIFEST, extra: str = "") -> bytes:
    lines = ["Họ và tên,Ngày sinh,Quốc tịch,Số hộ chiếu,Địa chỉ"] + [f'{n},{d},{c},{p},"{a}"' for n, d, c, p, a in rows]
    return ("\n".join(lines) + "\n" + extra).encode("utf-8")


def _encode(data: bytes, key: bytes = KEY, kind: str = "persons") -> bytes:
    return encoded.encode_list(data, "manifest.csv", key, kind=kind)[0].dumps()


def _actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


# --- the file (no database) ----------------------------------------------------------------------------------------


def test_an_encoded_list_round_trips_and_holds_no_clear_value() -> None:
    data = _manifest(extra=',1990-01-01,VN,,"3 Rue Oudom, Vientiane"\n')
    sent, report = encoded.encode_list(data, "manifest.csv", KEY)
    text = sent.dumps().decode("ascii")
    back = encoded.load_encoded(sent.dumps(), "list.encoded.json")
    assert back == sent and [r.row for r in back.rows] == [2, 3, 4, 5, 6]
    assert (back.rows_read, back.quarantined_rows) == (6, 1) and back.quarantined[0].column == "name"
    assert report.quarantined[0].value is None and len(report.notes) >= 1  # the sender's own report keeps reasons
    lowered = json.loads(text)
    folded = json.dumps(lowered, ensure_ascii=False).lower()
    for name, dob, _nat, passport, address in MANIFEST:
        for word in [*name.lower().split(), dob, passport.lower(), *address.lower().replace(",", "").split()]:
            if len(word) > 2:
                assert word not in folded, word
    for word in ("nguyen", "thang", "chen", "weiqiang", "1986", "c4185230", "jiefang", "650011", "oudom", "vientiane"):
        assert word not in folded, word
    assert all(e["reason"] and "1990" not in e["reason"] for e in lowered["quarantined"] + lowered["notes"])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"Name\nThang\n", "not an encoded list (not JSON)"),
        (lambda d: b'{"format": "something else"}', "not an encoded list"),
        (lambda d: d.replace(b'"version":1', b'"version":2'), "another version of dragonnet"),
        (lambda d: d.replace(b'"filter_bits":1472', b'"filter_bits":1024'), "another version of dragonnet"),
        (lambda d: re.sub(rb'"bits":"[^"]*"', b'"bits":"!!"', d, count=1), "is not base64"),
        (lambda d: re.sub(rb'"bits":"[^"]*"', b'"bits":"' + base64.b64encode(b"x" * 10) + b'"', d, count=1),
         "80 bits, not 1472"),
        (lambda d: re.sub(rb'"blocks":\["[^"]*"', b'"blocks":["name:nguyen van thang"', d, count=1),
         "not a keyed blocking key"),
        (lambda d: d.replace(b'"row":3,', b'"row":2,'), "a row number appears twice"),
        (lambda d: d.replace(b'"key_check":"', b'"key_check":"x'), "no key fingerprint"),
    ],
)  # fmt: skip
def test_a_malformed_encoded_file_is_refused_in_one_message(mutate: object, message: str) -> None:
    data = mutate(_encode(_manifest()))  # type: ignore[operator]
    with pytest.raises(ImportRejected, match=re.escape(message)):
        encoded.load_encoded(data, "list.encoded.json")


def test_match_encoded_returns_row_party_evidence_probability() -> None:
    """The reusable matching: (row, party_id, per-field Dice, probability), list x reference pairs only."""
    sent = encoded.load_encoded(_encode(_manifest()), "l.json")
    rows = [pprl.Encoding(str(r.row), "x", r.kind, r.bits, r.blocks) for r in sent.rows]
    from dragonnet.linkage.resolve import PartyInput
    from dragonnet.linkage.screening.reader import parse_birth_date

    reference = pprl.encode_parties([
        PartyInput(41, "person", "Nguyen Van Thang", "VN", parse_birth_date("1986-11-02")[0], "C4185230"),
        PartyInput(42, "person", "Nguyen Van Thang", "VN", parse_birth_date("1986-11-02")[0], "C4185230"),
        PartyInput(43, "person", "Tran Duc Long", "VN", parse_birth_date("1977-12-01")[0]),
    ], "hub", KEY)  # fmt: skip
    run = encoded.match_encoded(rows, reference, threshold=0.5)
    assert {(m.row, m.party_id) for m in run.matches} == {(2, 41), (2, 42), (3, 41), (3, 42)}
    row, party_id, evidence, probability = run.matches[0]
    assert evidence["name"] == 1.0 and evidence["birth_date"] == 1.0 and 0.5 <= probability <= 1.0
    assert run.matches[2].evidence["id_number"] == 1.0 and run.compared >= 4 and run.model_source == "default"


# --- at the hub (demo operation) ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screened(demo_db: DemoDB) -> encoded.EncodedScreening:
    with Session(demo_db.engine) as session:
        result = encoded.screen_encoded(session, _actor(session, "vn.reporter"), operation=SLUG,
                                        data=_encode(_manifest()), filename="list.encoded.json", secret=KEY)  # fmt: skip
        session.commit()
    return result


def test_the_planted_people_are_found_on_encodings_with_per_field_evidence(
    demo_db: DemoDB, screened: encoded.EncodedScreening
) -> None:
    with Session(demo_db.engine) as session:
        visible = {p.id: p.case_id for p in session.execute(visible_parties(_actor(session, "vn.reporter"))).scalars()}
    assert {h.row for h in screened.hits} == PLANTED_ROWS
    for hit in screened.hits:
        assert hit.source == "case" and hit.record_id in visible and hit.link == f"/cases/{visible[hit.record_id]}"
        assert hit.match_probability is not None and hit.match_probability >= screened.threshold
        assert hit.similarity["name"] >= 0.7 and hit.agreed["birth_date"] == "exact"
    s = screened.summary()
    assert (s["rows_read"], s["rows_screened"], s["privacy_preserving"]) == (5, 5, True)
    assert s["pairs_compared"] == s["pairs_scored"] >= s["pairs_above_threshold"] >= s["hits"] > 0


def test_one_audit_entry_of_counts_and_no_name_at_the_hub(demo_db: DemoDB, screened: encoded.EncodedScreening) -> None:
    with Session(demo_db.engine) as session:
        entries = session.execute(select(AuditEvent).where(AuditEvent.action == "screening.run")).scalars().all()
    [entry] = [e for e in entries if e.detail.get("privacy_preserving")]
    assert entry.detail["hits"] == len(screened.hits) and entry.detail["rows_read"] == 5
    assert set(entry.detail["parties"]) == {h.record_id for h in screened.hits}
    assert not any(w in json.dumps(entry.detail).lower() for w in ("thang", "chen", "quarterman"))


def test_a_hidden_case_gives_no_hit_and_the_owner_finds_it(demo_db: DemoDB) -> None:
    with Session(demo_db.engine) as session:
        stranger = _actor(session, "th.reporter")
        party = session.execute(
            select(Party).join(Case, Case.id == Party.case_id)
            .where(~nominal_visibility(stranger), Party.kind == "person", Party.birth_date.is_not(None))
            .order_by(Party.id).limit(1)
        ).scalar_one()  # fmt: skip
        case = session.get(Case, party.case_id)
        assert case is not None and party.birth_date is not None
        owner = session.execute(
            select(User).where(User.agency_id == case.reporting_agency_id, User.is_active.is_(True)).limit(1)
        ).scalar_one()
        data = _encode(_manifest([(party.name, party.birth_date.isoformat(), party.nationality or "",
                                   party.id_number or "", party.address or "")]))  # fmt: skip
        theirs = encoded.screen_encoded(session, stranger, operation=SLUG, data=data, filename="l.json", secret=KEY)
        owned = encoded.screen_encoded(session, Actor.for_user(owner), operation=SLUG, data=data, filename="l.json",
                                       secret=KEY)  # fmt: skip
        visible = {p.id for p in session.execute(visible_parties(stranger)).scalars()}
        party_id, case_id, case_ref = party.id, case.id, case.case_ref
        session.rollback()
    assert any(h.record_id == party_id for h in owned.hits)
    assert all(h.record_id != party_id for h in theirs.hits)
    assert {h.record_id for h in theirs.hits if h.source == "case"} <= visible
    body = json.dumps(theirs.to_json(), ensure_ascii=False)
    assert f'/cases/{case_id}"' not in body and case_ref not in body


def test_another_key_is_refused_observers_may_not_screen_and_watchlists_match_on_keys(demo_db: DemoDB) -> None:
    with Session(demo_db.engine) as session:
        actor = _actor(session, "vn.reporter")
        with pytest.raises(ImportRejected, match="encoded under another key"):
            encoded.screen_encoded(session, actor, operation=SLUG, data=_encode(_manifest(), OTHER_KEY),
                                   filename="l.json", secret=KEY)  # fmt: skip
        with pytest.raises(PermissionDenied):
            encoded.screen_encoded(session, _actor(session, "unodc.observer"), operation=SLUG,
                                   data=_encode(_manifest()), filename="l.json", secret=KEY)  # fmt: skip
        watchlists.add_entry(session, actor, "passport", "X 1234-567", "a courier")
        data = _encode(_manifest([("Some Body", "1990-01-01", "VN", "x1234567", "")]))
        result = encoded.screen_encoded(session, actor, operation=SLUG, data=data, filename="l.json", secret=KEY)
        session.rollback()
    [hit] = [h for h in result.hits if h.source == "watchlist"]
    assert (hit.row, hit.similarity, hit.link, hit.match_probability) == (2, {"id_number": 1.0}, "/watchlist", None)


# --- the doors ------------------------------------------------------------------------------------------------------


def _url(db: DemoDB) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_cli_encodes_then_screens_and_fails_in_one_line(demo_db: DemoDB, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "manifest.csv").write_bytes(_manifest(extra=",1990-01-01,VN,,\n"))
    (tmp_path / "key").write_bytes(KEY)
    (tmp_path / "other.key").write_bytes(OTHER_KEY)
    out = tmp_path / "list.encoded.json"
    done = runner.invoke(cli_app, ["screen", "encode", str(tmp_path / "manifest.csv"), "--key-file",
                                   str(tmp_path / "key"), "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "6 rows read: 5 encoded, 1 quarantined" in done.output and "thang" not in out.read_text().lower()
    hub = ["screen", str(out), "--operation", SLUG, "--as", "vn.reporter", "--database-url", _url(demo_db)]
    result = runner.invoke(cli_app, [*hub, "--key-file", str(tmp_path / "key"), "--json",
                                     "--out", str(tmp_path / "hits.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {h["row"] for h in body["hits"]} == PLANTED_ROWS and body["rows_quarantined"] == 1
    assert "similarity" in (tmp_path / "hits.csv").read_text(encoding="utf-8").splitlines()[0]
    printed = runner.invoke(cli_app, [*hub, "--key-file", str(tmp_path / "key")])
    assert "privacy-preserving screening: 6 rows read" in printed.output and "row 2 ->" in printed.output
    damaged = tmp_path / "damaged.json"
    damaged.write_bytes(out.read_bytes().replace(b'"version":1', b'"version":7'))
    for args, message in [
        ([*hub, "--key-file", str(tmp_path / "other.key")], "error: list.encoded.json: encoded under another key"),
        ([*hub[:1], str(damaged), *hub[2:], "--key-file", str(tmp_path / "key")], "another version of dragonnet"),
        (["screen", "encode", str(tmp_path / "missing.csv"), "--out", str(out)], "error: cannot read"),
    ]:
        failed = runner.invoke(cli_app, args)
        assert failed.exit_code == 1 and message in failed.output, (args, failed.output)


@pytest.fixture
def client(demo_db: DemoDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DRAGONNET_LINKAGE_KEY", KEY.hex())
    with TestClient(create_app(Settings(_url(demo_db), tmp_path, "test-secret-key", 8, False)),
                    follow_redirects=False) as c:  # fmt: skip
        yield c


def _login(client: TestClient, username: str) -> str:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"})  # fmt: skip
    assert r.status_code == 303, r.text
    found = re.search(r'name="csrf_token" value="([^"]*)"', client.get(f"/operations/{SLUG}/screening/encoded").text)
    assert found
    return found.group(1)


def test_the_api_and_the_page_answer_the_same_hits(client: TestClient, screened: encoded.EncodedScreening) -> None:
    data = _encode(_manifest())
    files = {"file": ("list.encoded.json", data, "application/json")}
    api = f"/api/v1/operations/{SLUG}/screening/encoded"
    assert client.post(api, files=files).status_code == 401
    csrf = _login(client, "vn.reporter")
    r = client.post(api, files=files, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hit_count"] == len(body["hits"]) and body["privacy_preserving"] is True
    assert [(h["row"], h["link"]) for h in body["hits"]] == [(h.row, h.link) for h in screened.hits]
    page = client.post(f"/operations/{SLUG}/screening/encoded", files=files, data={"csrf_token": csrf})
    assert page.status_code == 200 and 'id="encoded-hits"' in page.text
    assert re.findall(r'<tr data-row="(\d+)"', page.text) == [str(h.row) for h in screened.hits]
    wrong = {"file": ("l.json", _encode(_manifest(), OTHER_KEY), "application/json")}
    bad = client.post(api, files=wrong, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and "another key" in bad.json()["error"]["message"]
    shown = client.post(f"/operations/{SLUG}/screening/encoded", files=wrong, data={"csrf_token": csrf})
    assert shown.status_code == 422 and 'id="encoded-error"' in shown.text
    junk = client.post(api, files={"file": ("l.json", b"{nope", "application/json")}, headers={"X-CSRF-Token": csrf})
    assert junk.status_code == 400 and "not an encoded list" in junk.json()["error"]["message"]
    download = client.post(f"/operations/{SLUG}/screening/encoded", files=files,
                           data={"csrf_token": csrf, "output": "csv"})  # fmt: skip
    assert download.status_code == 200 and download.text.startswith("row,source,matched_name")
    assert client.post(f"/operations/{SLUG}/screening/encoded", files=files,
                       data={"csrf_token": "forged"}).status_code == 403  # fmt: skip
    spec = client.get("/api/v1/openapi.json").json()
    assert {"200", "400", "401", "403", "404", "422"} <= set(spec["paths"][api.replace(SLUG, "{slug}")]["post"]["responses"])


def test_observers_get_403_from_the_api(client: TestClient) -> None:
    csrf = _login(client, "unodc.observer")
    r = client.post(f"/api/v1/operations/{SLUG}/screening/encoded",
                    files={"file": ("l.json", _encode(_manifest()), "application/json")},
                    headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert r.status_code == 403
