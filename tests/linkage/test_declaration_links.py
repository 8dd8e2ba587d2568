"""Declarations linked to cases, as users reach them: the service, the API and the CLI, under the access rules.

A user reads the declarations their own agency imported, and only if they may target (targeting's rule); the
cases, parties and identifiers only through the access policy. The world (over tests/web/seed.py):

| link        | through                                      | operator | th_reporter | vn_reporter |
|-------------|----------------------------------------------|----------|-------------|-------------|
| TH-1 x D2   | phone +66812345678 (TH-1's identifier)       | yes      | yes         | no          |
| TH-2 x D1   | company name Wing Fat (a lead only)          | yes      | yes         | no          |
| TH-2 x D3   | trader code IMP0042 (Golden Ocean on TH-2)   | yes      | yes         | no          |
| TH-3 x D1   | container SITU1676717                        | yes      | yes         | no          |
| TH-3 x D3   | Golden Ocean on TH-3, confirmed = TH-2's one | yes      | yes         | no          |
| VN-1 x V1   | container MSKU9070323 and Hoang Phat (lead)  | yes      | no          | yes         |
| TH-1 x V1   | container MSKU9070323 (TH-1 is amber+strict) | yes      | no          | no          |
| TH-2 x V1   | Hoang Phat on TH-2 (TH-2's parties: TH only) | yes      | no          | no          |

D4 shares TH-3's container but was lodged before the operation; D5 and N1 (imported without an agency) share
nothing. UNODC imported nothing: its analyst and its observer (who may not target at all) read no declaration.

With a stored resolution run (`service.run_resolution`, the operator's `dragonnet linkage run`), the declared
parties are resolved by Splink with the case parties: a declared importer written without diacritics, with the
phone of a case party, shows as the same party "resolved by the model", with the probability.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.app import create_app
from dragonnet.cli.main import app as cli_app
from dragonnet.errors import ValidationError
from dragonnet.linkage import service
from dragonnet.policy.access import Actor
from dragonnet.storage.linkage_models import DeclarationMatch, LinkDecision, PartyCluster, ProposedLink
from dragonnet.storage.models import AuditEvent, CaseIdentifier, Party, User
from dragonnet.storage.targeting_models import TargetingBatch, TargetingHit, TargetingList
from dragonnet.targeting.service import import_declarations
from web.seed import SLUG, seed
from web.webtest import logged_in, settings_for

HEADER = (
    "declaration_id,declaration_date,office_locode,mode,importer,exporter,conveyance_ref,origin_country,hs_code,"
    "x_importer_phone"
)
WING_FAT = "WING FAT FRESH FRUIT TRADING COMPANY LIMITED"
TH_ROWS = [
    # D1 has two declared items (two rows, two HS codes): one declaration.
    f"D1,2024-03-10,THBKK,sea_container,{WING_FAT},Sinar Jaya Trading Sdn Bhd,SITU 167671-7,MY,030289,",
    f"D1,2024-03-10,THBKK,sea_container,{WING_FAT},Sinar Jaya Trading Sdn Bhd,SITU 167671-7,MY,030290,",
    "D2,2024-06-05,THBKK,postal,Somchai Wongsawat,Lucky Star,RR123456785CN,CN,300490,081 234 5678",
    "D3,2024-06-06,THLCH,air_cargo,IMP0042,,618-12345675,VN,440399,",
    "D4,2023-01-01,THBKK,sea_container,Old Trader Co Ltd,Someone Ltd,SITU 167671-7,CN,030289,",
    "D5,2024-06-07,THBKK,sea_container,Unrelated Trading Co Ltd,Nobody Sdn Bhd,,MY,030289,",
]
VN_ROWS = ["V1,2024-06-12,VNHPH,sea_container,Công ty TNHH Hoàng Phát,Ruby Timber Ltd,MSKU 907032-3,LA,440399,"]
NO_AGENCY_ROWS = ["N1,2024-06-12,MYPKG,road,Nobody Sdn Bhd,Anybody Ltd,,TH,030289,"]

TH_PAIRS = {("TH-1", "D2"), ("TH-2", "D1"), ("TH-2", "D3"), ("TH-3", "D1"), ("TH-3", "D3")}
VN_PAIRS = {("VN-1", "V1")}
OPERATOR_PAIRS = TH_PAIRS | VN_PAIRS | {("TH-1", "V1"), ("TH-2", "V1")}


@dataclass
class World:
    cases: dict[str, int]
    refs: dict[int, str]
    operation_id: int
    th_batch: int
    th_list: int
    th_hit: int


def _import(session: Session, data_dir: Path, name: str, rows: list[str], agency: str | None) -> int:
    path = data_dir / f"{name}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return import_declarations(session, data_dir, path, agency_code=agency).id


def _list(session: Session, agency_id: int, operation_id: int, batch_id: int, declaration_id: str) -> TargetingList:
    hit = TargetingHit(rank=1, lane="red", random=False, score=0.9, rule_score=0.9, model_score=None,
                       declaration_id=declaration_id, declaration_date=dt.date(2024, 3, 10),
                       facts={"declaration_id": declaration_id, "office_locode": "THBKK"})  # fmt: skip
    tl = TargetingList(agency_id=agency_id, operation_id=operation_id, office_locode="THBKK", batch_id=batch_id,
                       declarations=1, red=1, yellow=0, profiles=[], hits=[hit])  # fmt: skip
    session.add(tl)
    session.flush()
    return tl


def build_world(session: Session, data_dir: Path) -> World:
    seeded = seed(session)
    cases = seeded.cases
    th_batch = _import(session, data_dir, "th", TH_ROWS, "TH-CUS")
    _import(session, data_dir, "vn", VN_ROWS, "VN-CUS")
    _import(session, data_dir, "none", NO_AGENCY_ROWS, None)
    golden_2 = Party(case_id=cases["TH-2"], role="consignee", kind="company", name="Golden Ocean Trading",
                     id_number="IMP-0042")  # fmt: skip
    golden_3 = Party(case_id=cases["TH-3"], role="consignor", kind="company", name="Golden Ocean Trading Ltd")
    session.add_all([
        Party(case_id=cases["TH-2"], role="consignee", kind="company", name="Wing Fat Fresh Fruit Trading Co., Ltd"),
        Party(case_id=cases["TH-2"], role="consignor", kind="company", name="Hoang Phat Co Ltd"),
        Party(case_id=cases["VN-1"], role="consignee", kind="company", name="Hoang Phat Co Ltd"),
        golden_2, golden_3,
        CaseIdentifier(case_id=cases["TH-3"], kind="container", value="SITU 167671-7", normalised="SITU1676717"),
        CaseIdentifier(case_id=cases["TH-1"], kind="phone", value="+66 81 234 5678", normalised="+66812345678"),
        CaseIdentifier(case_id=cases["TH-1"], kind="container", value="MSKU 907032-3", normalised="MSKU9070323"),
        CaseIdentifier(case_id=cases["VN-1"], kind="container", value="MSKU9070323", normalised="MSKU9070323"),
    ])  # fmt: skip
    session.flush()
    low, high = sorted((golden_2.id, golden_3.id))
    session.add(LinkDecision(party_low_id=low, party_high_id=high, decision="confirm",
                             agency_id=seeded.agencies["TH-CUS"]))  # fmt: skip
    th_list = _list(session, seeded.agencies["TH-CUS"], seeded.operation_id, th_batch, "D1")
    # A later list of another agency over the same batch: never offered to a Thai user.
    _list(session, seeded.agencies["VN-CUS"], seeded.operation_id, th_batch, "D1")
    session.commit()
    return World(dict(cases), {v: k for k, v in cases.items()}, seeded.operation_id, th_batch, th_list.id,
                 th_list.hits[0].id)  # fmt: skip


def _actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


def _pairs(world: World, rows: list[service.CaseDeclarationLink]) -> set[tuple[str, str]]:
    return {(world.refs[r.case_id], r.declaration_id) for r in rows}


@pytest.fixture
def world(session: Session, tmp_path: Path) -> World:
    return build_world(session, tmp_path)


# --- the service ----------------------------------------------------------------------------------------------


def test_a_member_sees_the_links_of_their_agencys_declarations_with_the_evidence(
    session: Session, world: World
) -> None:
    th = _actor(session, "th_reporter")
    found = service.declaration_links_for(session, th, operation_id=world.operation_id)
    assert found.may_read and found.declarations == 4  # D1, D2, D3, D5 (D4 was lodged before the operation)
    assert _pairs(world, found.rows) == TH_PAIRS
    assert found.total == len(TH_PAIRS) and found.offices == ("THBKK", "THLCH")
    row = {(world.refs[r.case_id], r.declaration_id): r for r in found.rows}
    d1 = row[("TH-3", "D1")]
    assert (d1.office, d1.date.isoformat(), d1.hs_codes, d1.case_ref, d1.mode) == (
        "THBKK", "2024-03-10", ("030289", "030290"), "TH-3", "sea_container")  # fmt: skip
    assert [(e.kind, e.entity, e.case_values, e.declaration_values) for e in d1.evidence] == [
        ("container", "container:SITU1676717", ("SITU 167671-7",), ("SITU 167671-7",))]  # fmt: skip
    assert d1.declaration_agency == "TH-CUS" and d1.declaration == f"{world.th_batch}/D1"
    assert (d1.targeting_list_id, d1.targeting_hit_id) == (world.th_list, world.th_hit)  # its own list only
    phone = row[("TH-1", "D2")].evidence
    assert [(e.kind, e.case_values, e.declaration_values) for e in phone] == [
        ("phone", ("+66 81 234 5678",), ("081 234 5678",))]  # fmt: skip
    lead = row[("TH-2", "D1")]
    assert lead.lead_only and [(e.kind, e.case_values, e.declaration_values) for e in lead.evidence] == [
        ("company_name", ("Wing Fat Fresh Fruit Trading Co., Ltd",), (WING_FAT,))]  # fmt: skip
    assert lead.case_parties and row[("TH-2", "D1")].targeting_list_id == world.th_list
    # The trader code joins Golden Ocean of TH-2 to the declared importer; the confirmed pair carries TH-3 along.
    for ref in ("TH-2", "TH-3"):
        (evidence,) = row[(ref, "D3")].evidence
        assert evidence.kind == "party" and evidence.declaration_values == ("IMP0042",)
        assert evidence.case_values[0].startswith("Golden Ocean Trading")
    assert row[("TH-2", "D3")].hs_codes == ("440399",) and row[("TH-2", "D3")].targeting_list_id is None
    # Strong evidence first, leads last.
    assert [r.lead_only for r in found.rows] == sorted(r.lead_only for r in found.rows)
    # The coordinator of the same agency reads the same declarations.
    coord = service.declaration_links_for(session, _actor(session, "th_coord"), operation_id=world.operation_id)
    assert _pairs(world, coord.rows) == TH_PAIRS


def test_filters_by_kind_of_evidence_and_office(session: Session, world: World) -> None:
    th = _actor(session, "th_reporter")
    containers = service.declaration_links_for(session, th, operation_id=world.operation_id, kind="container")
    assert _pairs(world, containers.rows) == {("TH-3", "D1")} and containers.total == len(TH_PAIRS)
    parties = service.declaration_links_for(session, th, operation_id=world.operation_id, kind="party")
    assert _pairs(world, parties.rows) == {("TH-2", "D3"), ("TH-3", "D3")}
    office = service.declaration_links_for(session, th, operation_id=world.operation_id, office="thlch")
    assert _pairs(world, office.rows) == {("TH-2", "D3"), ("TH-3", "D3")}
    no_leads = service.declaration_links_for(session, th, operation_id=world.operation_id, company_names=False)
    assert _pairs(world, no_leads.rows) == TH_PAIRS - {("TH-2", "D1")}
    with pytest.raises(ValidationError, match="kind must be one of"):
        service.declaration_links_for(session, th, operation_id=world.operation_id, kind="vessel")


def test_nobody_sees_another_agencys_declarations_or_cases_beyond_the_policy(session: Session, world: World) -> None:
    vn = service.declaration_links_for(session, _actor(session, "vn_reporter"), operation_id=world.operation_id)
    assert vn.may_read and vn.declarations == 1
    assert _pairs(world, vn.rows) == VN_PAIRS  # not TH-1 (hidden case), not TH-2 (hidden parties), no Thai D*
    (row,) = vn.rows
    assert {e.kind for e in row.evidence} == {"container", "company_name"}
    assert row.targeting_list_id is None  # the Viet Nam list ranks a Thai batch: not this declaration's
    for username in ("analyst", "observer"):  # UNODC imported nothing; an observer may not target at all
        other = service.declaration_links_for(session, _actor(session, username), operation_id=world.operation_id)
        assert other.rows == [] and other.declarations == 0 and other.total == 0
        assert other.may_read is (username == "analyst")
    operator = service.declaration_links_for(session, None, operation_id=world.operation_id)
    assert _pairs(world, operator.rows) == OPERATOR_PAIRS
    assert operator.declarations == 6  # D1, D2, D3, D5, V1, N1


def test_a_batch_whose_file_is_gone_gives_no_links(session: Session, world: World) -> None:
    batch = session.get(TargetingBatch, world.th_batch)
    assert batch is not None
    Path(batch.path).unlink()
    found = service.declaration_links_for(session, _actor(session, "th_reporter"), operation_id=world.operation_id)
    assert found.rows == [] and found.declarations == 0


# --- the API and the page -------------------------------------------------------------------------------------


@pytest.fixture
def client(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    with Session(engine, expire_on_commit=False) as session:
        built = build_world(session, tmp_path)
    with TestClient(create_app(settings_for(db_url, tmp_path)), follow_redirects=False,
                    raise_server_exceptions=False) as c:  # fmt: skip
        yield c, built


API = f"/api/v1/linkage/declaration-links?operation={SLUG}"


def test_api_returns_the_links_of_the_caller(client: tuple[TestClient, World], engine: Engine) -> None:
    c, built = client
    assert c.get(API).status_code == 401
    logged_in(c, "th_reporter")
    body = c.get(API).json()
    assert body["operation"] == SLUG and body["declarations"] == 4 and body["total"] == len(TH_PAIRS)
    assert {(r["case_ref"], r["declaration_id"]) for r in body["links"]} == TH_PAIRS
    d1 = next(r for r in body["links"] if (r["case_ref"], r["declaration_id"]) == ("TH-3", "D1"))
    assert d1["case_id"] == built.cases["TH-3"] and d1["office"] == "THBKK" and d1["date"] == "2024-03-10"
    assert d1["hs_codes"] == ["030289", "030290"] and d1["targeting_list_id"] == built.th_list
    assert d1["evidence"] == [{"kind": "container", "label": "Same container", "entity": "container:SITU1676717",
                               "lead": False, "case_values": ["SITU 167671-7"],
                               "declaration_values": ["SITU 167671-7"], "probability": None}]  # fmt: skip
    only = c.get(API + "&kind=party&office=THLCH").json()
    assert {(r["case_ref"], r["declaration_id"]) for r in only["links"]} == {("TH-2", "D3"), ("TH-3", "D3")}
    assert c.get(API + "&kind=vessel").status_code == 422
    assert c.get("/api/v1/linkage/declaration-links?operation=no-such-operation").status_code == 404
    # Party names were shown: the read is audited like the other nominal reads.
    with Session(engine) as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.object_type == "linkage_declaration_links").order_by(AuditEvent.seq)
        ).scalars().first()  # fmt: skip
        assert event is not None and event.action == "nominal.read" and event.actor_username == "th_reporter"


@pytest.mark.parametrize(("username", "pairs"), [("vn_reporter", VN_PAIRS), ("analyst", set()), ("observer", set())])
def test_api_and_page_of_other_agencies(client: tuple[TestClient, World], username: str,
                                        pairs: set[tuple[str, str]]) -> None:  # fmt: skip
    c, _built = client
    logged_in(c, username)
    body = c.get(API).json()
    assert {(r["case_ref"], r["declaration_id"]) for r in body["links"]} == pairs
    page = c.get(f"/operations/{SLUG}/declaration-links")
    assert page.status_code == 200
    for hidden in ("D1", "D2", "D3", "SITU", "Wing Fat", "Golden Ocean", "IMP0042"):
        assert f">{hidden}" not in page.text and hidden not in json.dumps(body)
    if username == "observer":
        assert "do not read declarations" in page.text
    assert c.get("/operations/no-such-operation/declaration-links").status_code == 404


def test_page_lists_the_links_with_filters_and_links_to_case_and_targeting_list(
    client: tuple[TestClient, World],
) -> None:
    c, built = client
    assert c.get(f"/operations/{SLUG}/declaration-links").status_code in (302, 303)  # to the login page
    logged_in(c, "th_reporter")
    html = c.get(f"/operations/{SLUG}/declaration-links").text
    assert 'id="declaration-links"' in html
    assert f'href="/cases/{built.cases["TH-3"]}"' in html
    assert f'href="/targeting/lists/{built.th_list}#hit-{built.th_hit}"' in html
    assert "SITU 167671-7" in html and "Same company name (lead)" in html and "030290" in html
    assert f'href="/operations/{SLUG}/declaration-links"' in html  # the sub-navigation
    assert "<script>" not in html.split('id="declaration-links"', 1)[1]
    filtered = c.get(f"/operations/{SLUG}/declaration-links?kind=phone").text
    assert f'href="/cases/{built.cases["TH-1"]}"' in filtered and f'href="/cases/{built.cases["TH-3"]}"' not in filtered
    assert c.get(f"/operations/{SLUG}/declaration-links?kind=nonsense").status_code == 422
    networks = c.get(f"/operations/{SLUG}/networks").text
    assert f'href="/operations/{SLUG}/declaration-links"' in networks


def test_openapi_documents_the_route(client: tuple[TestClient, World]) -> None:
    c, _built = client
    spec = c.get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/linkage/declaration-links"]["get"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(op["responses"])
    assert op["tags"] == ["linkage"]
    assert {p["name"] for p in op["parameters"]} >= {"operation", "kind", "office"}


# --- the command line -----------------------------------------------------------------------------------------

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["linkage", "declarations", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_lists_links_as_the_operator_or_a_user(db_url: str, engine: Engine, tmp_path: Path) -> None:
    with Session(engine, expire_on_commit=False) as session:
        build_world(session, tmp_path)
    code, out, err = _cli("--operation", SLUG, "--json", "--database-url", db_url)
    assert code == 0, err
    rows = json.loads(out)
    assert {(r["case_ref"], r["declaration_id"]) for r in rows} == OPERATOR_PAIRS
    code, out, err = _cli("--operation", SLUG, "--user", "th_reporter", "--json", "--database-url", db_url)
    assert code == 0, err
    assert {(r["case_ref"], r["declaration_id"]) for r in json.loads(out)} == TH_PAIRS
    code, out, err = _cli("--operation", SLUG, "--as", "vn_reporter", "--database-url", db_url)
    assert code == 0, err
    assert "VN-1" in out and "V1" in out and "container MSKU9070323" in out and "TH-" not in out
    code, out, _err = _cli("--operation", SLUG, "--user", "observer", "--database-url", db_url)
    assert code == 0 and "does not read declarations" in out
    code, out, _err = _cli("--operation", SLUG, "--kind", "phone", "--json", "--database-url", db_url)
    assert code == 0 and {(r["case_ref"], r["declaration_id"]) for r in json.loads(out)} == {("TH-1", "D2")}
    for args, message in (
        (("--operation", "no-such-operation"), "unknown operation"),
        (("--operation", SLUG, "--user", "nobody"), "unknown or disabled user 'nobody'"),
        (("--operation", SLUG, "--kind", "vessel"), "kind must be one of"),
    ):
        code, _out, err = _cli(*args, "--database-url", db_url)
        assert code == 1 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


# --- declared parties resolved by the stored run ---------------------------------------------------------------

# A parcel to Nguyen Van Hung, declared without diacritics and with his phone written the national way; the case
# party (TH-1) carries no phone identifier, so nothing but the model links the two.
HUNG_ROW = "D7,2024-06-08,THBKK,postal,NGUYEN VAN HUNG,Lucky Star,,VN,300490,0084912345678"


def add_hung(session: Session, world: World, data_dir: Path) -> tuple[int, int]:
    """(party id, batch id): a person on TH-1 and a second Thai batch declaring a parcel to him."""
    hung = Party(case_id=world.cases["TH-1"], role="consignee", kind="person", name="Nguyễn Văn Hùng",
                 nationality="VN", birth_date=dt.date(1980, 5, 17), phone="+84 912 345 678")  # fmt: skip
    session.add(hung)
    batch = _import(session, data_dir, "th-parcels", [HUNG_ROW], "TH-CUS")
    session.commit()
    return hung.id, batch


def _model_evidence(row: service.CaseDeclarationLink) -> service.Evidence:
    (evidence,) = [e for e in row.evidence if e.probability is not None]
    return evidence


def test_a_run_resolves_declared_parties_with_the_case_parties(session: Session, world: World, tmp_path: Path) -> None:
    hung, batch = add_hung(session, world, tmp_path)
    th = _actor(session, "th_reporter")
    before = service.declaration_links_for(session, th, operation_id=world.operation_id)
    assert ("TH-1", "D7") not in _pairs(world, before.rows)  # no stored run: no shared party, phone or container
    run = service.run_resolution(session)
    session.commit()
    # The run stores one match per case party and declaration; its links and clusters hold case parties only.
    matches = session.execute(select(DeclarationMatch).where(DeclarationMatch.run_id == run.id)).scalars().all()
    (match,) = [m for m in matches if m.party_id == hung]
    assert (match.batch_id, match.declaration_id, match.role) == (batch, "D7", "consignee")
    assert run.threshold <= match.match_probability <= 1.0 and len(match.record_key) == 64
    case_parties = set(session.execute(select(Party.id)).scalars())
    clustered = session.execute(select(PartyCluster.party_id).where(PartyCluster.run_id == run.id)).scalars().all()
    assert set(clustered) == case_parties and run.records == len(case_parties)
    for low, high in session.execute(select(ProposedLink.party_low_id, ProposedLink.party_high_id)):
        assert low in case_parties and high in case_parties

    found = service.declaration_links_for(session, th, operation_id=world.operation_id)
    row = {(world.refs[r.case_id], r.declaration_id): r for r in found.rows}
    evidence = _model_evidence(row[("TH-1", "D7")])
    assert evidence.kind == "party" and evidence.probability == match.match_probability
    assert (evidence.case_values, evidence.declaration_values) == (("Nguyễn Văn Hùng",), ("NGUYEN VAN HUNG",))
    assert "resolved by the model" in evidence.label and f"{match.match_probability:.3f}" in evidence.label
    assert row[("TH-1", "D7")].case_parties == (hung,)
    assert ("TH-1", "D7") in _pairs(world, service.declaration_links_for(
        session, th, operation_id=world.operation_id, kind="party").rows)  # fmt: skip
    assert _pairs(world, found.rows) >= TH_PAIRS  # what linked before still links
    # Another agency reads neither the Thai batch nor TH-1's parties; the operator reads everything.
    for username in ("vn_reporter", "analyst", "observer"):
        other = service.declaration_links_for(session, _actor(session, username), operation_id=world.operation_id)
        assert all(r.declaration_id != "D7" and world.refs[r.case_id] != "TH-1" for r in other.rows)
    operator = service.declaration_links_for(session, None, operation_id=world.operation_id)
    assert _model_evidence(next(r for r in operator.rows if r.declaration_id == "D7")).case_values == (
        "Nguyễn Văn Hùng",)  # fmt: skip


def test_model_links_come_from_the_latest_run(session: Session, world: World, tmp_path: Path) -> None:
    hung, batch_id = add_hung(session, world, tmp_path)
    service.run_resolution(session)
    session.commit()
    operator = service.declaration_links_for(session, None, operation_id=world.operation_id)
    assert ("TH-1", "D7") in _pairs(world, operator.rows)
    # A later run that no longer sees the declaration (its file is gone) replaces the evidence.
    batch = session.get(TargetingBatch, batch_id)
    assert batch is not None
    Path(batch.path).unlink()
    later = service.run_resolution(session)
    session.commit()
    assert session.execute(
        select(DeclarationMatch).where(DeclarationMatch.run_id == later.id, DeclarationMatch.party_id == hung)
    ).first() is None  # fmt: skip
    assert ("TH-1", "D7") not in _pairs(world, service.declaration_links_for(
        session, None, operation_id=world.operation_id).rows)  # fmt: skip


def test_page_api_and_cli_show_the_model_resolved_party(db_url: str, engine: Engine, tmp_path: Path) -> None:
    with Session(engine, expire_on_commit=False) as session:
        built = build_world(session, tmp_path)
        add_hung(session, built, tmp_path)
        service.run_resolution(session)
        session.commit()
    for username in ("th_reporter", "vn_reporter"):
        with TestClient(create_app(settings_for(db_url, tmp_path)), follow_redirects=False,
                        raise_server_exceptions=False) as c:  # fmt: skip
            logged_in(c, username)
            html = c.get(f"/operations/{SLUG}/declaration-links").text
            d7 = [r for r in c.get(API).json()["links"] if r["declaration_id"] == "D7"]
            if username == "vn_reporter":
                assert "NGUYEN VAN HUNG" not in html and "Nguyễn" not in html and d7 == []
                continue
            assert "NGUYEN VAN HUNG" in html and "resolved by the model, match probability 0." in html
            (link,) = d7
            assert link["case_ref"] == "TH-1" and "resolved by the model" in link["evidence"][0]["label"]
            assert 0.5 < link["evidence"][0]["probability"] <= 1.0
    code, out, err = _cli("--operation", SLUG, "--json", "--database-url", db_url)
    assert code == 0, err
    (row,) = [r for r in json.loads(out) if r["declaration_id"] == "D7"]
    (evidence,) = row["evidence"]
    assert evidence["kind"] == "party" and evidence["probability"] >= 0.95
