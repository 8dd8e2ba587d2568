"""Declarations as a linkage source: their parties and containers beside the cases', read under targeting's rule
(a batch belongs to the agency that imported it; its members who may target read it, nobody else but the
operator), and links between cases and declarations through shared entities."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.linkage import normalise
from dragonnet.linkage.extract import (
    DeclarationLink,
    declaration_links,
    declaration_party_kind,
    extract,
    linkage_parties,
    visible_batches,
)
from dragonnet.policy.access import Actor
from dragonnet.storage.models import CaseIdentifier, Party, User
from dragonnet.targeting.service import import_declarations
from web.seed import seed

HEADER = "declaration_id,declaration_date,office_locode,mode,importer,exporter,conveyance_ref,origin_country"
TH_ROWS = [
    # D1 has two declared items (two rows): one declaration.
    "D1,2024-03-10,THBKK,sea_container,WING FAT FRESH FRUIT TRADING COMPANY LIMITED,Sinar Jaya Trading Sdn Bhd,"
    "SITU 167671-7,MY,",
    "D1,2024-03-10,THBKK,sea_container,WING FAT FRESH FRUIT TRADING COMPANY LIMITED,Sinar Jaya Trading Sdn Bhd,"
    "SITU 167671-7,MY,",
    "D2,2024-06-05,THBKK,postal,Somchai Wongsawat,Lucky Star,RR123456785CN,CN,081 234 5678",
    "D3,2024-06-06,THBKK,air_cargo,IMP0042,,618-12345675,VN,",
    "D4,2023-01-01,THBKK,sea_container,Old Trader Co Ltd,Someone Ltd,,CN,",
    "D5,2024-06-07,THBKK,sea_container,Wing Fat Fresh Fruit Trading Co. Ltd,Sinar Jaya Trading Sdn Bhd,,MY,",
]


def _import(session: Session, data_dir: Path, name: str, rows: list[str], agency: str | None,
            extra: str = "") -> None:  # fmt: skip
    path = data_dir / f"{name}.csv"
    path.write_text("\n".join([HEADER + extra, *rows]) + "\n", encoding="utf-8")
    import_declarations(session, data_dir, path, agency_code=agency)


def _actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


def _setup(session: Session, data_dir: Path) -> dict[str, int]:
    seeded = seed(session)
    cases = seeded.cases
    _import(session, data_dir, "th", TH_ROWS, "TH-CUS", extra=",x_importer_phone")
    _import(session, data_dir, "vn", ["V1,2024-06-12,VNHPH,sea_container,Công ty TNHH Hoàng Phát,Ruby Timber Ltd,"
                                      "MSKU 907032-3,LA"], "VN-CUS")  # fmt: skip
    _import(session, data_dir, "none", ["N1,2024-06-12,MYPKG,road,Nobody Sdn Bhd,Anybody Ltd,,TH"], None)
    wing_fat = Party(case_id=cases["TH-2"], role="consignee", kind="company",
                     name="Wing Fat Fresh Fruit Trading Co., Ltd")  # fmt: skip
    session.add_all([
        wing_fat,
        Party(case_id=cases["VN-1"], role="consignee", kind="company", name="Hoang Phat Co Ltd"),
        CaseIdentifier(case_id=cases["TH-3"], kind="container", value="SITU 167671-7", normalised="SITU1676717"),
        CaseIdentifier(case_id=cases["TH-1"], kind="phone", value="+66 81 234 5678", normalised="+66812345678"),
    ])  # fmt: skip
    session.commit()
    return {**cases, "wing_fat": wing_fat.id, "operation": seeded.operation_id}


def test_each_user_reads_only_the_declarations_of_their_agency(session: Session, tmp_path: Path) -> None:
    ids = _setup(session, tmp_path)
    operator = extract(session, None, declarations=True)
    assert {d.declaration_id for d in operator.declarations.values()} == {"D1", "D2", "D3", "D4", "D5", "V1", "N1"}
    assert len(operator.declarations) == 7  # D1's two item rows are one declaration
    scoped = extract(session, None, operation_id=ids["operation"], declarations=True)
    assert "D4" not in {d.declaration_id for d in scoped.declarations.values()}  # lodged before the operation

    th = extract(session, _actor(session, "th_reporter"), declarations=True)
    assert {(d.declaration_id, d.agency) for d in th.declarations.values()} == {
        ("D1", "TH-CUS"), ("D2", "TH-CUS"), ("D3", "TH-CUS"), ("D4", "TH-CUS"), ("D5", "TH-CUS")}  # fmt: skip
    vn = extract(session, _actor(session, "vn_reporter"), declarations=True)
    assert {d.declaration_id for d in vn.declarations.values()} == {"V1"}
    for name in ("observer", "analyst"):  # UNODC imported nothing; an observer may not target at all
        ex = extract(session, _actor(session, name), declarations=True)
        assert not ex.declarations and not ex.declaration_parties and not ex.declaration_identifiers
    hub = extract(session, None, hub=True, declarations=True)
    assert not hub.declarations and not hub.declaration_parties
    for ex in (th, vn):  # every record points to a declaration of the extract, none to another agency's
        keys = set(ex.declarations)
        assert all(set(p.declarations) <= keys for p in ex.declaration_parties.values())
        assert all(i.declaration in keys for i in ex.declaration_identifiers)
    assert not extract(session, _actor(session, "th_reporter")).declarations  # only when asked for


def test_declaration_parties_and_containers_are_linkage_records(session: Session, tmp_path: Path) -> None:
    _setup(session, tmp_path)
    ex = extract(session, _actor(session, "th_reporter"), declarations=True)
    by_name = {(p.party.name, p.role): p for p in ex.declaration_parties.values()}
    key = {d.declaration_id: k for k, d in ex.declarations.items()}
    wing = by_name[("WING FAT FRESH FRUIT TRADING COMPANY LIMITED", "consignee")]
    assert wing.party.kind == "company" and wing.source == "declaration" and wing.declarations == (key["D1"],)
    sinar = by_name[("Sinar Jaya Trading Sdn Bhd", "consignor")]
    assert sinar.declarations == tuple(sorted((key["D1"], key["D5"])))
    somchai = by_name[("Somchai Wongsawat", "consignee")]
    assert somchai.party.kind == "person" and somchai.party.phone == "081 234 5678"
    code = by_name[("IMP0042", "consignee")]
    assert code.party.kind == "company" and code.party.id_number == "IMP0042"
    assert all(pid < 0 for pid in ex.declaration_parties)  # never a case party's id
    idents = {(i.kind, i.key, i.declaration) for i in ex.declaration_identifiers}
    assert ("container", "SITU1676717", key["D1"]) in idents
    assert ("phone", "+66812345678", key["D2"]) in idents
    assert not any(i.key.startswith("618") or i.key.startswith("RR") for i in ex.declaration_identifiers)
    # The two spellings of Wing Fat normalise alike, as the case party's does.
    case_party = next(p for p in ex.parties.values() if p.party.name.startswith("Wing Fat"))
    assert normalise.name_key(case_party.party.name, kind="company") == normalise.name_key(wing.party.name,
                                                                                            kind="company")  # fmt: skip
    records = linkage_parties(ex)
    assert len(records) == len(ex.parties) + len(ex.declaration_parties)
    assert len({p.party_id for p in records}) == len(records)


def test_cases_link_to_declarations_through_parties_and_identifiers(session: Session, tmp_path: Path) -> None:
    ids = _setup(session, tmp_path)
    th = _actor(session, "th_reporter")
    ex = extract(session, th, declarations=True)
    key = {d.declaration_id: k for k, d in ex.declarations.items()}
    wing_decl = [pid for pid, p in ex.declaration_parties.items() if p.party.name.lower().startswith("wing fat")]
    links = [(ids["wing_fat"], pid) for pid in wing_decl] + [(ids["wing_fat"], 999_999)]  # unknown id: ignored
    got = declaration_links(ex, links, company_names=False)
    assert DeclarationLink(ids["TH-2"], key["D1"], "party", f"party:{min(ids['wing_fat'], *wing_decl)}") in got
    assert {(lk.case_id, lk.declaration, lk.kind) for lk in got} == {
        (ids["TH-2"], key["D1"], "party"), (ids["TH-2"], key["D5"], "party"),
        (ids["TH-3"], key["D1"], "container"), (ids["TH-1"], key["D2"], "phone"),
    }  # fmt: skip
    # Without resolved links: the same company name (legal form dropped) is a lead of its own kind.
    leads = {(lk.case_id, lk.declaration, lk.kind, lk.entity) for lk in declaration_links(ex)}
    assert (ids["TH-2"], key["D1"], "company_name", "company:fat fresh fruit trading wing") in leads
    assert (ids["TH-2"], key["D5"], "company_name", "company:fat fresh fruit trading wing") in leads
    # Viet Nam's user: its own declaration and case; Thai declarations never appear.
    vn = extract(session, _actor(session, "vn_reporter"), declarations=True)
    assert all(vn.declarations[lk.declaration].agency == "VN-CUS" for lk in declaration_links(vn))


def test_kind_of_a_declared_party() -> None:
    assert declaration_party_kind("KR1234567", "sea_container") == "company"
    assert declaration_party_kind("Công ty TNHH Hoàng Phát", "postal") == "company"
    assert declaration_party_kind("Somchai Wongsawat", "postal") == "person"
    assert declaration_party_kind("Golden Ocean Trading", "sea_container") == "company"


def test_a_batch_whose_file_is_gone_is_skipped(session: Session, tmp_path: Path) -> None:
    _setup(session, tmp_path)
    th = _actor(session, "th_reporter")
    (batch,) = visible_batches(session, th)
    Path(batch[2]).unlink()
    ex = extract(session, th, declarations=True)
    assert not ex.declarations and not ex.declaration_parties
    assert len(visible_batches(session, None)) == 3 and visible_batches(session, None, hub=True) == []
    # The operator still reads the other two batches.
    assert {d.declaration_id for d in extract(session, None, declarations=True).declarations.values()} == {"V1", "N1"}
