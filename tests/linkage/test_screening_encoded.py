"""Privacy-preserving screening: a list encoded where it is (no clear value in the file), checked at the hub (a
damaged file or another key is refused in one message), matched on encodings against what the user may see
only, one audit entry of counts; the CLI encodes and screens, the API and the page refuse bad files alike (the
same hits through the three doors: tests/test_doors.py). The world is tests/linkage's declarations world."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.app import create_app
from dragonnet.cli.main import app as cli_app
from dragonnet.linkage import pprl
from dragonnet.linkage.screening import encoded
from dragonnet.messaging import watchlists
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import Actor, PermissionDenied, visible_parties
from dragonnet.storage.linkage_models import ThresholdAdoption
from dragonnet.storage.models import AuditEvent, Party, User
from dragonnet.tabular import ImportRejected
from linkage.test_declaration_links import World, build_world
from web.seed import SLUG
from web.webtest import logged_in, settings_for

KEY = b"operation-shared-secret-0123456789"
OTHER_KEY = b"not-the-operation-key-0123456789"

# People as another country's officers write them (diacritics or not, Hanzi, name order, addresses).
MANIFEST = [
    ("Thang Nguyen Van", "02/11/1986", "Việt Nam", "", "12 Hàng Bạc, Hà Nội"),
    ("NGUYỄN VĂN THẮNG", "1986-11-02", "VN", "C4185230", ""),
    ("陈伟强", "18/06/1975", "中国", "", ""),
    ("Weiqiang CHEN", "1975-06-18", "CN", "E61830275", "88 Jiefang Road, Kunming 650011"),
    ("Zbigniew Quarterman", "1960-01-01", "PL", "", "ul. Długa 5, Gdańsk 80-827"),
]
CONSIGNEES = (
    b'Company name,Registration No.,Address\n"Golden Ocean Trading Co., Ltd",IMP-0042,\nHOANG PHAT COMPANY LIMITED,,\n'
    b'Nobody Imports Pty,,"9 Quay St, Auckland"\n,X9,\n'
)


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
    assert (
        (row, party_id) == (2, 41)
        and evidence["name"] == 1.0
        and evidence["birth_date"] == 1.0
        and 0.5 <= probability <= 1.0
    )
    assert run.matches[2].evidence["id_number"] == 1.0 and run.compared >= 4 and run.model_source == "default"


def test_hidden_references_are_matched_but_counted_nowhere() -> None:
    """Hidden reference records (those the screener may not see) are matched in the same run; their hits come
    back apart, without evidence, and the counter and the shown matches are those of the visible reference."""
    sent = encoded.load_encoded(_encode(_manifest()), "l.json")
    rows = [pprl.Encoding(str(r.row), "x", r.kind, r.bits, r.blocks) for r in sent.rows]
    from dragonnet.linkage.resolve import PartyInput
    from dragonnet.linkage.screening.reader import parse_birth_date

    born = parse_birth_date("1986-11-02")[0]
    shown = pprl.encode_parties([PartyInput(41, "person", "Nguyen Van Thang", "VN", born, "C4185230")], "hub", KEY)
    hidden = pprl.encode_parties([PartyInput(77, "person", "Chen Weiqiang", "CN", parse_birth_date("1975-06-18")[0],
                                             "E61830275")], "hub", KEY)  # fmt: skip
    alone = encoded.match_encoded(rows, shown, threshold=0.5)
    both = encoded.match_encoded(rows, shown, threshold=0.5, hidden=hidden)
    assert both.matches == alone.matches and both.compared == alone.compared and alone.hidden_matches == []
    assert {(m.row, m.party_id) for m in both.hidden_matches} >= {(5, 77)}
    assert all(m.evidence == {} for m in both.hidden_matches) and not {m.party_id for m in both.matches} & {77}
    only_hidden = encoded.match_encoded(rows, [], threshold=0.5, hidden=hidden)
    assert only_hidden.compared == 0 and only_hidden.matches == [] and only_hidden.hidden_matches


# --- at the hub -----------------------------------------------------------------------------------------------------


def _party_ids(session: Session, world: World, case: str, name: str) -> set[int]:
    return set(
        session.execute(select(Party.id).where(Party.case_id == world.cases[case], Party.name == name)).scalars()
    )


@pytest.fixture
def world(session: Session, tmp_path: Path) -> World:
    return build_world(session, tmp_path)


def test_companies_are_found_on_encodings_only_where_the_user_may_see(session: Session, world: World) -> None:
    data = _encode(CONSIGNEES, kind="companies")
    th, vn = _actor(session, "th_reporter"), _actor(session, "vn_reporter")
    theirs = encoded.screen_encoded(
        session, th, operation=SLUG, data=data, filename="c.json", secret=KEY, threshold=0.5
    )
    golden = _party_ids(session, world, "TH-2", "Golden Ocean Trading")
    assert golden <= {h.record_id for h in theirs.hits if h.row == 2 and h.source == "case"}
    [hit] = [h for h in theirs.hits if h.record_id in golden]
    assert hit.link == f"/cases/{world.cases['TH-2']}" and hit.agreed["id_number"] == "exact"
    assert hit.similarity["name"] >= 0.85 and hit.match_probability is not None and hit.match_probability >= 0.5
    assert {h.row for h in theirs.hits} <= {2, 3} and theirs.summary()["rows_quarantined"] == 1
    # Viet Nam Customs may not see TH-2's parties: its Hoang Phat gives no hit, no reference, no count.
    mine = encoded.screen_encoded(session, vn, operation=SLUG, data=data, filename="c.json", secret=KEY, threshold=0.5)
    hidden = _party_ids(session, world, "TH-2", "Hoang Phat Co Ltd") | golden
    visible = {p.id for p in session.execute(visible_parties(vn)).scalars()}
    assert not hidden & visible and not {h.record_id for h in mine.hits} & hidden
    assert {h.record_id for h in mine.hits if h.source == "case"} <= visible
    assert "TH-2" not in json.dumps(mine.to_json()) and mine.case_parties <= len(visible)
    # One audit entry per screening, counts and ids, no name.
    session.commit()
    entries = session.execute(select(AuditEvent).where(AuditEvent.action == "screening.run")).scalars().all()
    assert [e.detail["privacy_preserving"] for e in entries] == [True, True]
    assert set(entries[0].detail["parties"]) == {h.record_id for h in theirs.hits if h.source == "case"}
    assert not any(w in json.dumps([e.detail for e in entries]).lower() for w in ("golden", "hoang", "nobody"))


def test_another_key_and_observers_are_refused_and_watchlists_match_on_keyed_values(
    session: Session, world: World
) -> None:
    actor = _actor(session, "th_reporter")
    with pytest.raises(ImportRejected, match="encoded under another key"):
        encoded.screen_encoded(session, actor, operation=SLUG, data=_encode(_manifest(), OTHER_KEY), filename="l.json",
                               secret=KEY)  # fmt: skip
    with pytest.raises(PermissionDenied):
        encoded.screen_encoded(session, _actor(session, "observer"), operation=SLUG, data=_encode(_manifest()),
                               filename="l.json", secret=KEY)  # fmt: skip
    watchlists.add_entry(session, actor, "passport", "X 1234-567", "a courier")
    data = _encode(_manifest([("Some Body", "1990-01-01", "VN", "x1234567", "")]))
    result = encoded.screen_encoded(session, actor, operation=SLUG, data=data, filename="l.json", secret=KEY)
    [hit] = [h for h in result.hits if h.source == "watchlist"]
    assert (hit.row, hit.similarity, hit.link, hit.match_probability) == (2, {"id_number": 1.0}, "/watchlist", None)


def test_the_default_threshold_is_the_operations_adopted_one_and_xlsx_keeps_no_value(
    session: Session, world: World
) -> None:
    actor = _actor(session, "th_reporter")
    data = _encode(CONSIGNEES, kind="companies")
    default = encoded.screen_encoded(session, actor, operation=SLUG, data=data, filename="c.json", secret=KEY)
    assert default.threshold == 0.9  # nothing adopted: DEFAULT_THRESHOLD, as the clear screening
    session.add(ThresholdAdoption(operation_id=get_operation(session, SLUG).id, threshold=0.4321, rule="chosen",
                                  decisions=0))  # fmt: skip
    session.flush()
    adopted = encoded.screen_encoded(session, actor, operation=SLUG, data=data, filename="c.json", secret=KEY)
    assert adopted.threshold == 0.4321 and adopted.summary()["threshold"] == 0.4321
    assert all(h.match_probability is None or h.match_probability >= 0.4321 for h in adopted.hits)
    given = encoded.screen_encoded(session, actor, operation=SLUG, data=data, filename="c.json", secret=KEY,
                                   threshold=0.95)  # fmt: skip
    assert given.threshold == 0.95
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(encoded.export(adopted, "xlsx")), read_only=True)
    assert book.sheetnames == ["hits", "rows", "summary"]
    hits = [list(r) for r in book["hits"].iter_rows(values_only=True)]
    assert hits[0] == list(encoded.EXPORT_COLUMNS) and len(hits) - 1 == len(adopted.hits) > 0
    assert [r[1] for r in book["rows"].iter_rows(values_only=True)][1:] == ["quarantined"]  # row 5: no name
    assert ["threshold", 0.4321] in [list(r) for r in book["summary"].iter_rows(values_only=True)]
    everything = json.dumps([[list(r) for r in book[s].iter_rows(values_only=True)] for s in book.sheetnames])
    assert "X9" not in everything  # the quarantined row's value never reached the hub


# --- the doors' errors (the same hits through the three doors: tests/test_doors.py) ---------------------------------


@pytest.fixture
def client(db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DRAGONNET_LINKAGE_KEY", KEY.hex())
    with Session(engine, expire_on_commit=False) as session:
        build_world(session, tmp_path)
    with TestClient(create_app(settings_for(db_url, tmp_path)), follow_redirects=False) as c:
        yield c


def test_cli_api_and_page_refuse_another_key_and_a_damaged_file(
    client: TestClient, db_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    (tmp_path / "consignees.csv").write_bytes(CONSIGNEES)
    (tmp_path / "key").write_bytes(KEY)
    (tmp_path / "other.key").write_bytes(OTHER_KEY)
    out = tmp_path / "list.encoded.json"
    done = runner.invoke(cli_app, ["screen", "encode", str(tmp_path / "consignees.csv"), "--key-file",
                                   str(tmp_path / "key"), "--out", str(out), "--kind", "companies"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "4 rows read: 3 encoded, 1 quarantined" in done.output and "golden" not in out.read_text().lower()
    hub = ["screen", str(out), "--operation", SLUG, "--as", "th_reporter", "--database-url", db_url]
    printed = runner.invoke(cli_app, [*hub, "--key-file", str(tmp_path / "key"), "--threshold", "0.5"])
    assert printed.exit_code == 0, printed.output
    assert "privacy-preserving screening: 4 rows read" in printed.output and "row 2 ->" in printed.output
    damaged = tmp_path / "damaged.json"
    damaged.write_bytes(out.read_bytes().replace(b'"version":1', b'"version":7'))
    for args, message in [
        ([*hub, "--key-file", str(tmp_path / "other.key")], "error: list.encoded.json: encoded under another key"),
        (["screen", str(damaged), *hub[2:], "--key-file", str(tmp_path / "key")], "another version of dragonnet"),
        ([*hub, "--key-file", str(tmp_path / "key"), "--out", str(tmp_path / "h.txt")], "error: --out"),
        (["screen", "encode", str(tmp_path / "missing.csv"), "--out", str(out)], "error: cannot read"),
    ]:
        failed = runner.invoke(cli_app, args)
        assert failed.exit_code == 1 and message in failed.output, (args, failed.output)

    api = f"/api/v1/operations/{SLUG}/screening/encoded"
    page = f"/operations/{SLUG}/screening/encoded"
    files = {"file": ("list.encoded.json", out.read_bytes(), "application/json")}
    assert client.post(api, files=files).status_code == 401
    logged_in(client, "th_reporter")
    csrf = client.get(page).text.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = {"file": ("l.json", _encode(CONSIGNEES, OTHER_KEY, "companies"), "application/json")}
    bad = client.post(api, files=wrong, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and "another key" in bad.json()["error"]["message"]
    shown = client.post(page, files=wrong, data={"csrf_token": csrf})
    assert shown.status_code == 422 and 'id="encoded-error"' in shown.text and "another key" in shown.text
    junk = client.post(api, files={"file": ("l.json", b"{nope", "application/json")}, headers={"X-CSRF-Token": csrf})
    assert junk.status_code == 400 and "not an encoded list" in junk.json()["error"]["message"]
    assert client.post(page, files=files, data={"csrf_token": "forged"}).status_code == 403
    download = client.post(page, files=files, data={"csrf_token": csrf, "output": "csv", "threshold": "0.5"})
    assert download.status_code == 200 and download.text.startswith("row,source,matched_name")
    xlsx = client.post(page, files=files, data={"csrf_token": csrf, "output": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert "spreadsheetml" in xlsx.headers["content-type"]
    written = runner.invoke(cli_app, [*hub, "--key-file", str(tmp_path / "key"), "--out", str(tmp_path / "h.xlsx")])
    assert written.exit_code == 0 and (tmp_path / "h.xlsx").read_bytes().startswith(b"PK"), written.output
    assert client.get(f"/operations/{SLUG}/screening").text.count(f'href="{page}"') == 1  # in the linkage menu
    spec = client.get("/api/v1/openapi.json").json()
    assert {"200", "400", "401", "403", "404", "422"} <= set(
        spec["paths"][api.replace(SLUG, "{slug}")]["post"]["responses"]
    )
    client.cookies.clear()
    logged_in(client, "observer")
    csrf = client.get(page).text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(api, files=files, headers={"X-CSRF-Token": csrf}).status_code == 403
