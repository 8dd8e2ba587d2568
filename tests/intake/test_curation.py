"""The curation loop on SQLite and PostgreSQL: the review queue an import fills, mapping a value once (applied to
the cases that carry it, audited, in their history, and to later imports), who may do what, the mapping file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.intake.curation import files, service
from dragonnet.intake.importer import ImportReport, import_cases
from dragonnet.operation import service as ops
from dragonnet.policy.access import Actor, Hidden, PermissionDenied
from dragonnet.policy.audit import AuditActor
from dragonnet.policy.users import create_user
from dragonnet.storage.curation_models import CurationValue
from dragonnet.storage.intake_models import CaseCorrection
from dragonnet.storage.models import Agency, AuditEvent, Case, Item, Operation

from .helpers import TODAY, csv_bytes

SLUG = "mekong-dragon"
HEADER = ["case_ref", "reporting_agency", "seizure_date", "place_name", "place_country", "origin_country",
          "commodity_class", "substance", "taxon", "quantity", "unit", "hs_code"]  # fmt: skip


def rows(agency: str, prefix: str = "C") -> list[list[str]]:
    base = [agency, "2023-06-01"]
    return [
        [f"{prefix}-1", *base, "Kotoka Airprot", "GH", "Ghana", "wildlife", "", "Aldabra Troiteses", "2", "pieces",
         "0599"],
        [f"{prefix}-2", *base, "Xyzzy Harbour", "VN", "LA", "wildlife", "", "Manis javanika", "unknown", "",
         "05071000"],
        [f"{prefix}-3", *base, "Hanoi Airport", "VN", "Vietnamm", "drug", "heroinn", "", "1", "kg", ""],
    ]  # fmt: skip


def actor(session: Session, username: str, agency: str, role: str) -> Actor:
    user = create_user(session, username=username, password="curation-Pa55word-long", agency_code=agency,
                       roles=[role], enforce_policy=False)  # fmt: skip
    session.commit()
    return Actor.for_user(user)


@pytest.fixture
def people(session: Session, operation: Operation) -> dict[str, Actor]:
    rilo = ops.add_agency(session, code="RILO-AP", name="RILO Asia/Pacific", kind="other", country=None)
    ops.add_participant(session, operation, rilo, "member")
    session.commit()
    return {
        "vn": actor(session, "vn.coordinator", "VN-CUS", "national_coordinator"),
        "th": actor(session, "th.coordinator", "TH-CUS", "national_coordinator"),
        "analyst": actor(session, "rilo.analyst", "RILO-AP", "regional_analyst"),
        "reporter": actor(session, "vn.reporter", "VN-CUS", "reporter"),
    }


def run(session: Session, agency: str, data: list[list[str]], **kwargs: Any) -> ImportReport:
    report = import_cases(session, operation_slug=SLUG, agency_code=agency, data=csv_bytes(data, HEADER),
                          filename="cases.csv", actor=AuditActor(None, "importer", agency), today=TODAY,
                          **kwargs)  # fmt: skip
    session.commit()
    return report


def item_of(session: Session, ref: str) -> Item:
    return session.execute(select(Item).join(Case).where(Case.case_ref == ref)).scalars().first()  # type: ignore[return-value]


def test_an_import_fills_the_queue_with_every_guess_and_unresolved_value(
    session: Session, operation: Operation, people: dict[str, Actor]
) -> None:
    report = run(session, "VN-CUS", rows("VN-CUS"))
    assert report.rows_rejected == 1  # "Vietnamm" is no country: C-3 rejected (its values are queued all the same)
    queue = service.review_queue(session, people["vn"], SLUG)
    got = {(e.kind, e.text, e.context, e.status) for e in queue}
    assert got == {
        ("place", "Kotoka Airprot", "GH", "guess"), ("place", "Xyzzy Harbour", "VN", "unresolved"),
        ("taxon", "Aldabra Troiteses", "", "unresolved"), ("taxon", "Manis javanika", "", "guess"),
        ("hs_code", "0599", "", "unresolved"), ("hs_code", "05071000", "", "guess"),
        ("substance", "heroinn", "", "guess"), ("country", "Vietnamm", "", "unresolved"),
    }  # fmt: skip
    guess = next(e for e in queue if e.text == "Manis javanika")
    assert guess.read_as and "Manis javanica" in guess.read_as and "closest name" in (guess.reason or "")
    # every guess and every value kept as written is a warning of the report, with what is stored
    warned = {(w.column, w.value) for w in report.warnings}
    assert {("place_name", "Kotoka Airprot"), ("place_name", "Xyzzy Harbour"), ("taxon", "Aldabra Troiteses"),
            ("taxon", "Manis javanika"), ("hs_code", "0599"), ("hs_code", "05071000"), ("quantity", "unknown"),
            ("substance", "heroinn")} <= warned  # fmt: skip
    # a guessed place is stored with its code and coordinates; an unknown one as written, without
    kotoka = session.execute(select(Case).where(Case.case_ref == "C-1")).scalar_one()
    assert (kotoka.place_name, kotoka.place_locode) == ("Kotoka Airprot", "GHACC") and kotoka.latitude is not None
    xyzzy = session.execute(select(Case).where(Case.case_ref == "C-2")).scalar_one()
    assert (xyzzy.place_name, xyzzy.place_locode, xyzzy.latitude) == ("Xyzzy Harbour", None, None)
    unknown = item_of(session, "C-2")
    assert (unknown.quantity, unknown.unit, unknown.quantity_text, unknown.mass_kg) == (None, None, "unknown", None)
    assert unknown.hs_code == "05071000"
    # the same values again add up; a dry run records nothing
    run(session, "VN-CUS", rows("VN-CUS", "D"))
    run(session, "VN-CUS", rows("VN-CUS", "E"), dry_run=True)
    again = {e.text: e.occurrences for e in service.review_queue(session, people["vn"], SLUG)}
    assert again["Aldabra Troiteses"] == 2
    # who sees the queue: the agency's coordinator and the regional analyst; TH's coordinator sees none of VN's
    assert service.review_queue(session, people["th"], SLUG) == []
    assert len(service.review_queue(session, people["analyst"], SLUG)) == len(queue)
    with pytest.raises(Hidden):
        service.review_queue(session, people["reporter"], SLUG)


def test_a_mapping_applies_to_the_cases_the_queue_and_later_imports(
    session: Session, operation: Operation, people: dict[str, Actor]
) -> None:
    run(session, "VN-CUS", rows("VN-CUS"))
    vn = people["vn"]
    entry = next(e for e in service.review_queue(session, vn, SLUG) if e.text == "Aldabra Troiteses")
    case = session.execute(select(Case).where(Case.case_ref == "C-1")).scalar_one()
    version = case.version
    applied = service.map_value(session, vn, SLUG, value_id=entry.id, target="Aldabra tortoise")
    session.commit()
    assert (applied.created, applied.cases, applied.items, applied.values_closed) == (True, 1, 1, 1)
    assert applied.mapping.agency == "VN-CUS" and applied.mapping.target == "Aldabrachelys gigantea"
    item = item_of(session, "C-1")
    assert (item.taxon_text, item.taxon, item.taxon_status, item.cites_appendix) == (
        "Aldabra Troiteses",
        "Aldabrachelys gigantea",
        "listed",
        "II",
    )
    session.refresh(case)
    assert case.version == version + 1
    (correction,) = session.execute(select(CaseCorrection).where(CaseCorrection.case_id == case.id)).scalars()
    assert (correction.field, correction.item_position, correction.new_value, correction.actor_username) == (
        "taxon",
        1,
        "Aldabrachelys gigantea",
        "vn.coordinator",
    )
    audit = session.execute(select(AuditEvent).where(AuditEvent.action == "curation.map")).scalar_one()
    assert audit.detail["cases"] == [case.id] and audit.detail["scope"] == "VN-CUS"
    assert all(e.text != "Aldabra Troiteses" for e in service.review_queue(session, vn, SLUG))
    # a later import reads the value by the mapping: no warning, nothing queued
    later = run(session, "VN-CUS", [rows("VN-CUS", "F")[0]])
    assert not any(w.column == "taxon" for w in later.warnings)
    assert item_of(session, "F-1").taxon == "Aldabrachelys gigantea"
    # TH's import is not covered by VN's mapping; the regional analyst maps for the whole operation
    run(session, "TH-CUS", [rows("TH-CUS", "T")[0]])
    th_entry = next(e for e in service.review_queue(session, people["th"], SLUG) if e.kind == "taxon")
    with pytest.raises(Hidden):
        service.map_value(session, people["vn"], SLUG, value_id=th_entry.id, target="Aldabra tortoise")
    session.rollback()
    wide = service.map_value(session, people["analyst"], SLUG, kind="taxon", text="aldabra  troiteses",
                             target="Aldabrachelys gigantea")  # fmt: skip
    session.commit()
    assert wide.mapping.agency == "" and wide.cases == 1  # TH's case; VN's already carries the value
    assert item_of(session, "T-1").taxon == "Aldabrachelys gigantea"


def test_not_listed_places_countries_and_hs_codes(
    session: Session, operation: Operation, people: dict[str, Actor]
) -> None:
    run(session, "VN-CUS", rows("VN-CUS"))
    vn = people["vn"]
    # a guessed place mapped to another code: stored with the new code and its coordinates
    same = service.map_value(session, vn, SLUG, kind="place", text="Kotoka Airprot", context="GH", target="ACC")
    assert same.cases == 0 and same.mapping.target == "GHACC"  # the guess was right: nothing to change
    applied = service.map_value(session, vn, SLUG, kind="place", text="Kotoka Airprot", context="GH", target="GHTEM")
    session.commit()
    assert applied.cases == 1 and not applied.created
    kotoka = session.execute(select(Case).where(Case.case_ref == "C-1")).scalar_one()
    assert kotoka.place_locode == "GHTEM" and kotoka.place_name == "Kotoka Airprot"
    # an unknown place confirmed "not listed": kept as written, no longer queued, no longer warned
    service.map_value(session, vn, SLUG, kind="place", text="Xyzzy Harbour", context="VN", not_listed=True)
    service.map_value(session, vn, SLUG, kind="hs_code", text="0599", target="0507")
    session.commit()
    assert item_of(session, "C-1").hs_code == "0507"
    # a country is always a code: "not listed" is refused; the mapping makes the rejected row importable
    with pytest.raises(ValidationError):
        service.map_value(session, vn, SLUG, kind="country", text="Vietnamm", not_listed=True)
    session.rollback()
    service.map_value(session, vn, SLUG, kind="country", text="Vietnamm", target="Viet Nam")
    session.commit()
    report = run(session, "VN-CUS", rows("VN-CUS", "G"))
    assert report.rows_rejected == 0
    assert {w.value for w in report.warnings} >= {"Manis javanika", "unknown"}
    assert not {"Xyzzy Harbour", "0599", "Kotoka Airprot", "Vietnamm"} & {w.value for w in report.warnings}
    # the wrong agency: a coordinator maps for its own agency only
    with pytest.raises(PermissionDenied):
        service.map_value(session, people["th"], SLUG, kind="taxon", text="x", target="Aves", agency="VN-CUS")
    session.rollback()
    with pytest.raises(ValidationError, match="not a taxon"):
        service.map_value(session, vn, SLUG, kind="taxon", text="Birdz", target="Flying things")
    session.rollback()


def test_the_mapping_file_round_trips_and_is_all_or_nothing(
    session: Session, operation: Operation, people: dict[str, Actor]
) -> None:
    analyst = people["analyst"]
    service.map_value(session, analyst, SLUG, kind="taxon", text="Birds of paradise", target="Paradisaeidae",
                      note="=cmd|' /C calc'!A0")  # fmt: skip
    service.map_value(session, analyst, SLUG, kind="place", text="Kotoka Airprot", context="GH", target="GHACC",
                      agency="TH-CUS")  # fmt: skip
    service.map_value(session, analyst, SLUG, kind="taxon", text="Chinese Hwamei birds", not_listed=True)
    session.commit()
    text = service.export_mappings(session, analyst, SLUG, "csv")
    assert "'=cmd" in text  # a formula in a note is neutralised
    yaml_text = service.export_mappings(session, analyst, SLUG, "yaml")
    from_yaml = {r.text for r in files.read(yaml_text.encode(), "m.yaml")}
    assert from_yaml == {r.text for r in files.read(text.encode(), "m.csv")}
    # another operation imports them
    other = ops.create_operation(session, slug="other-op", name="Other", description="", scope=["wildlife"],
                                 phases=[])  # fmt: skip
    for code in ("RILO-AP", "TH-CUS"):
        ops.add_participant(
            session, other, session.execute(select(Agency).where(Agency.code == code)).scalar_one(), "member"
        )
    session.commit()
    result = service.import_mappings(session, analyst, "other-op", data=text.encode(), filename="m.csv")
    session.commit()
    assert result.ok and len(result.applied) == 3
    got = {(m.kind, m.text, m.agency, m.target, m.not_listed) for m in service.mappings(session, analyst, "other-op")}
    assert got == {("taxon", "Birds of paradise", "", "Paradisaeidae", False),
                   ("place", "Kotoka Airprot", "TH-CUS", "GHACC", False),
                   ("taxon", "Chinese Hwamei birds", "", None, True)}  # fmt: skip
    # one bad row and nothing lands; the report names each bad row
    bad = text + "taxon,Unicorn,,Monoceros fabulosus,,,\nplanet,Mars,,,,,\n"
    before = len(service.mappings(session, analyst, SLUG))
    result = service.import_mappings(session, analyst, SLUG, data=bad.encode(), filename="m.csv")
    session.commit()
    assert not result.ok and [e.row for e in result.errors] == [5, 6]
    assert "unknown kind 'planet'" in result.errors[1].reason
    assert len(service.mappings(session, analyst, SLUG)) == before
    # a coordinator imports for its own agency only
    th_file = "kind,text,target,agency\ntaxon,Parrots of the world,Psittaciformes,VN-CUS\n"
    result = service.import_mappings(session, people["th"], SLUG, data=th_file.encode(), filename="m.csv")
    assert not result.ok and "own agency" in result.errors[0].reason


def test_removing_a_mapping_reopens_the_value(session: Session, operation: Operation, people: dict[str, Actor]) -> None:
    run(session, "VN-CUS", [rows("VN-CUS")[0]])
    vn = people["vn"]
    applied = service.map_value(session, vn, SLUG, kind="taxon", text="Aldabra Troiteses", target="Aldabra tortoise")
    session.commit()
    service.remove_mapping(session, vn, SLUG, applied.mapping.id)
    session.commit()
    assert service.mappings(session, vn, SLUG) == []
    assert item_of(session, "C-1").taxon == "Aldabrachelys gigantea"  # the case keeps its value
    run(session, "VN-CUS", [rows("VN-CUS", "H")[0]])
    value = session.execute(select(CurationValue).where(CurationValue.text == "Aldabra Troiteses")).scalar_one()
    assert value.state == "open" and value.mapping_id is None
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "curation.unmap")).scalar_one()
