"""Importing cases end to end on SQLite and PostgreSQL: atomic per case, re-import updates, audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import NotFound
from dragonnet.intake.importer import ImportReport, import_cases
from dragonnet.policy import audit
from dragonnet.policy.audit import AuditActor
from dragonnet.storage.models import AuditEvent, Case, CaseIdentifier, Item, Operation, Party
from dragonnet.tabular import ImportRejected

from .helpers import HEADER, TODAY, VN_ACTOR, counts, csv_bytes, xlsx_bytes

DATA = Path(__file__).parent / "data"
TH_ACTOR = AuditActor(None, "th.reporter", "TH-CUS")


def row(ref: str = "VN-1", **values: Any) -> list[str]:
    base = {
        "case_ref": ref, "reporting_agency": "VN-CUS", "seizure_date": "2023-06-01", "place_locode": "VNHAN",
        "place_country": "VN", "transport_mode": "air_passenger", "commodity_class": "drug", "substance": "heroin",
        "taxon": "", "quantity": "1,5", "unit": "kg", "transit_countries": "", "arrests": "1", "description": "",
    }  # fmt: skip
    base.update(values)
    return [str(base[c]) for c in HEADER]


def run(session: Session, data: bytes, filename: str = "cases.csv", **kwargs: Any) -> ImportReport:
    kwargs.setdefault("agency_code", "VN-CUS")
    kwargs.setdefault("actor", VN_ACTOR)
    report = import_cases(session, operation_slug="mekong-dragon", data=data, filename=filename, today=TODAY, **kwargs)
    session.commit()
    return report


def test_messy_vietnamese_file(session: Session, operation: Operation) -> None:
    report = run(session, (DATA / "messy_vi.csv").read_bytes(), "messy_vi.csv", day_first=True)
    assert (report.cases_created, report.cases_updated, report.cases_rejected) == (3, 0, 1)
    assert (report.rows_total, report.rows_imported, report.rows_rejected) == (5, 4, 1)
    assert report.rejected_cases == ["HQ-2023-004"]
    # The impossible date rejects row 9; its unknown taxon alone would not (kept as written, "unverified").
    assert {(e.row, e.column) for e in report.errors} == {(9, "seizure_date")}
    assert report.mapping["Ngày bắt giữ"] == "seizure_date"
    # accepted, but flagged: the misspelt taxon was read as the closest CITES name; the unknown one kept as written
    assert [(w.row, w.column, w.value, w.suggestion) for w in report.warnings] == [
        (7, "taxon", "Manis javanika", "Manis javanica"),
        (9, "taxon", "Pangolinus fakeus", "Pangolinus fakeus (unverified)"),
    ]
    assert "unknown taxon 'Pangolinus fakeus'" in report.warnings[1].reason
    assert report.warnings_total == 2 and report.summary()["warnings_total"] == 2
    assert report.values_to_review == 2  # both taxa land in the operation's review queue

    case = session.execute(select(Case).where(Case.case_ref == "HQ-2023-001")).scalar_one()
    assert (case.status, case.version, case.sharing_level, case.phase.number) == ("submitted", 1, "amber", 5)
    assert (case.seizure_date, case.place_locode, case.place_country) == (dt.date(2023, 6, 2), "VNHPH", "VN")
    assert case.transport_mode == "sea_container" and case.transit_countries == ["LA", "TH"]
    items = [(i.position, i.substance, i.substance_text, i.quantity, i.unit, i.quantity_text, i.mass_kg)
             for i in case.items]  # fmt: skip
    assert items == [
        (1, "methamphetamine", "ma túy đá", 12.5, "kg", "12,5", 12.5),
        (2, "ketamine", "ketamine HCl", 1250.75, "g", "1.250,75", pytest.approx(1.25075)),
    ]
    pangolin = session.execute(select(Item).join(Case).where(Case.case_ref == "HQ-2023-002")).scalar_one()
    assert (pangolin.taxon, pangolin.taxon_text, pangolin.cites_appendix) == ("Manis javanica", "Manis javanika", "I")
    timber = session.execute(select(Item).join(Case).where(Case.case_ref == "HQ-2023-003")).scalar_one()
    assert (timber.commodity_class, timber.unit, timber.mass_kg) == ("timber", "m3", None)


def test_cp1252_french_and_gb18030_chinese_files(session: Session, operation: Operation) -> None:
    fr = run(session, (DATA / "cp1252_fr.csv").read_bytes(), "fr.csv", agency_code="TH-CUS", actor=TH_ACTOR)
    assert fr.encoding == "cp1252" and fr.ok and fr.cases_created == 2
    zh = run(session, (DATA / "gb18030_zh.csv").read_bytes(), "zh.csv", agency_code="TH-CUS", actor=TH_ACTOR)
    assert zh.encoding == "gb18030" and zh.ok, zh.errors
    case = session.execute(select(Case).where(Case.case_ref == "TH-ZH-1")).scalar_one()
    assert (case.place_country, case.origin_country, case.items[0].substance) == ("TH", "MM", "methamphetamine")
    ivory = session.execute(select(Case).where(Case.case_ref == "TH-FR-2")).scalar_one()
    assert ivory.origin_country == "CI" and ivory.items[0].goods_description == "ivoire brut"


def test_reimport_updates_instead_of_duplicating(session: Session, operation: Operation) -> None:
    first = csv_bytes([row("VN-1"), row("VN-1", substance="cocaine", quantity="2"), row("VN-2")])
    run(session, first)
    before = counts(session)
    assert before["cases"] == 2 and before["items"] == 3
    case = session.execute(select(Case).where(Case.case_ref == "VN-1")).scalar_one()
    case.status, case.validated_at = "validated", dt.datetime.now(dt.UTC)
    session.commit()

    second = csv_bytes([row("VN-1", quantity="7", transit_countries="TH"), row("VN-2")])
    report = run(session, second)
    # VN-2 is re-imported as it is stored: unchanged, not updated
    assert (report.cases_created, report.cases_updated, report.cases_unchanged) == (0, 1, 1)
    assert report.unchanged_refs == ["VN-2"] and report.case_refs == ["VN-1", "VN-2"]
    after = counts(session)
    assert after["cases"] == 2 and after["items"] == 2 and after["case_transits"] == 1
    session.expire_all()
    case = session.execute(select(Case).where(Case.case_ref == "VN-1")).scalar_one()
    # an update of a validated case puts it back to submitted: its content changed
    assert (case.version, case.status, case.validated_at) == (3, "submitted", None)
    assert [i.quantity for i in case.items] == [7.0]


def test_unchanged_cases_are_left_alone_and_each_import_lists_its_cases(session: Session, operation: Operation) -> None:
    from dragonnet.intake.queries import CaseFilters, case_query
    from dragonnet.policy.access import Actor
    from dragonnet.storage.intake_models import CaseImport, CaseImportCase
    from dragonnet.storage.models import Agency

    data = csv_bytes([row("VN-1", transit_countries="TH; LA"), row("VN-1", substance="cocaine"), row("VN-2")])
    first = run(session, data)
    case = session.execute(select(Case).where(Case.case_ref == "VN-1")).scalar_one()
    case.status, case.validated_at = "validated", dt.datetime.now(dt.UTC)
    session.commit()
    version = case.version
    dry = run(session, data, dry_run=True)  # the preview says so before anything is written
    assert (dry.cases_created, dry.cases_updated, dry.cases_unchanged) == (0, 0, 2)
    again = run(session, csv_bytes([row("VN-1", transit_countries="TH; LA"), row("VN-1", substance="cocaine"),
                                    row("VN-2"), row("VN-3")]))  # fmt: skip
    assert (again.cases_created, again.cases_updated, again.cases_unchanged) == (1, 0, 2)
    session.expire_all()
    case = session.execute(select(Case).where(Case.case_ref == "VN-1")).scalar_one()
    assert (case.version, case.status) == (version, "validated")  # an unchanged case keeps its validation
    changed = run(session, csv_bytes([row("VN-2", quantity="3")]))
    assert (changed.cases_updated, changed.cases_unchanged) == (1, 0)
    # Each written import remembers its cases: the case list of one import shows exactly those.
    imports = session.execute(select(CaseImport).order_by(CaseImport.id)).scalars().all()
    assert [i.id for i in imports] == [first.import_id, again.import_id, changed.import_id]
    assert (imports[1].cases_created, imports[1].cases_unchanged) == (1, 2)
    outcomes = session.execute(
        select(Case.case_ref, CaseImportCase.outcome)
        .join(CaseImportCase, CaseImportCase.case_id == Case.id)
        .where(CaseImportCase.import_id == again.import_id)
        .order_by(Case.case_ref)
    ).all()
    assert [tuple(o) for o in outcomes] == [("VN-1", "unchanged"), ("VN-2", "unchanged"), ("VN-3", "created")]
    vn = session.execute(select(Agency).where(Agency.code == "VN-CUS")).scalar_one()
    reporter = Actor(1, "vn.reporter", vn.id, "VN-CUS", "VN", frozenset({"reporter"}))
    listed = session.execute(case_query(reporter, operation, CaseFilters(import_id=changed.import_id))).scalars()
    assert [c.case_ref for c in listed] == ["VN-2"]


def test_the_template_example_is_skipped_as_is_and_imports_cleanly_once_written_over(
    session: Session, operation: Operation
) -> None:
    from dragonnet.intake import templates
    from dragonnet.storage.models import Phase

    session.add(Phase(operation_id=operation.id, number=6, name="Phase VI", start_date=dt.date(2024, 1, 1),
                      end_date=dt.date(2024, 12, 31)))  # fmt: skip
    session.commit()
    data = templates.csv_template()

    def load(content: bytes, name: str = "cases-template.csv") -> ImportReport:
        report = import_cases(session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR,
                              data=content, filename=name, today=dt.date(2024, 6, 1))  # fmt: skip
        session.commit()
        return report

    as_downloaded = load(data)
    assert (as_downloaded.rows_total, as_downloaded.cases_created, as_downloaded.errors) == (0, 0, [])
    skipped = [(2, "the template's example row: skipped, not imported")]
    assert [(w.row, w.reason) for w in as_downloaded.warnings] == skipped
    written_over = load(data.replace(b"EXAMPLE-0001", b"HPH-2024-0001"))
    assert written_over.ok and written_over.cases_created == 1, written_over.errors
    case = session.execute(select(Case).where(Case.case_ref == "HPH-2024-0001")).scalar_one()
    assert (case.conveyance_ref, case.transit_countries, case.items[0].taxon_text) == (
        "CSQU 305438 3",
        ["SG", "MY"],
        "pangolin scales",
    )
    from_xlsx = load(templates.xlsx_template(), "cases-template.xlsx")  # both sheets' example rows skipped
    assert (from_xlsx.rows_total, from_xlsx.cases_created, len(from_xlsx.warnings)) == (0, 0, 2)


def test_no_partial_case_ever(session: Session, operation: Operation) -> None:
    run(session, csv_bytes([row("OLD")]))
    before = counts(session)
    data = csv_bytes([
        row("VN-9"), row("VN-9", substance="cocaine"), row("VN-9", quantity="-1"),  # one bad row: the case goes
        row("VN-10"),
    ])  # fmt: skip
    report = run(session, data)
    assert report.rejected_cases == ["VN-9"] and report.rows_rejected == 3 and report.cases_created == 1
    after = counts(session)
    assert after["cases"] == before["cases"] + 1 and after["items"] == before["items"] + 1
    assert session.execute(select(Case).where(Case.case_ref == "VN-9")).scalar_one_or_none() is None


def test_all_or_nothing_writes_nothing_on_one_bad_row(session: Session, operation: Operation) -> None:
    run(session, csv_bytes([row("OLD")]))
    before = counts(session)
    audit_before = len(session.execute(select(AuditEvent.id)).all())
    data = csv_bytes([row(f"VN-{i}") for i in range(20)] + [row("BAD", unit="bags")])
    report = run(session, data, all_or_nothing=True)
    assert not report.written and report.cases_created == 0 and report.rows_rejected == 21
    assert report.errors[0].reason.startswith("unknown unit")
    assert counts(session) == before
    assert len(session.execute(select(AuditEvent.id)).all()) == audit_before


def test_dry_run_validates_without_writing(session: Session, operation: Operation) -> None:
    before = counts(session)
    report = run(session, csv_bytes([row("VN-1"), row("VN-2", seizure_date="2023-01-05")]), dry_run=True)
    assert report.dry_run and not report.written
    assert report.cases_created == 1 and report.cases_rejected == 1
    assert "outside every phase" in report.errors[0].reason
    assert counts(session) == before
    assert session.execute(select(AuditEvent)).first() is None


def test_an_agency_imports_only_its_own_cases(session: Session, operation: Operation) -> None:
    report = run(session, csv_bytes([row("VN-1"), row("TH-1", reporting_agency="TH-CUS")]))
    assert report.cases_created == 1 and report.rejected_cases == ["TH-CUS/TH-1"]
    assert report.errors[0].reason == "reporting_agency TH-CUS is not your agency (VN-CUS)"
    with pytest.raises(ImportRejected, match="belong"):
        run(session, csv_bytes([row("VN-1")]), actor=TH_ACTOR)
    with pytest.raises(ImportRejected, match="unknown agency"):
        run(session, csv_bytes([row("VN-1")]), agency_code="XX-CUS", actor=AuditActor(None, "x", None))
    with pytest.raises(NotFound):
        import_cases(session, operation_slug="nope", agency_code="VN-CUS", actor=VN_ACTOR, data=b"x", filename="a.csv")


def test_audit_entry_and_chain(session: Session, operation: Operation) -> None:
    data = csv_bytes([row("VN-1")])
    report = run(session, data)
    run(session, data)
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "cases.import")).scalars().all()
    assert len(events) == 2
    assert events[0].detail["sha256"] == report.sha256 and events[0].detail["cases_created"] == 1
    assert events[1].detail["cases_unchanged"] == 1 and events[0].detail["filename"] == "cases.csv"
    assert events[1].detail["cases_updated"] == 0
    assert audit.verify(session).ok


def test_failure_while_writing_rolls_the_whole_import_back(
    session: Session, operation: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dragonnet.intake.importer as importer

    before = counts(session)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "record", boom)
    with pytest.raises(RuntimeError):
        import_cases(session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR,
                     data=csv_bytes([row("VN-1"), row("VN-2")]), filename="a.csv", today=TODAY)  # fmt: skip
    session.rollback()
    assert counts(session) == before


def test_formula_injection_is_stored_verbatim(session: Session, operation: Operation) -> None:
    payloads = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://evil","x")']
    rows = [row(f"VN-{i}", description=p, substance="heroin") for i, p in enumerate(payloads)]
    report = run(session, csv_bytes(rows))
    assert report.ok, report.errors
    stored = session.execute(select(Item.goods_description).order_by(Item.id)).scalars().all()
    assert stored == payloads


def test_xlsx_with_parties_formula_strings_and_cached_values(session: Session, operation: Operation) -> None:
    items: list[list[object]] = [["Báo cáo"], HEADER, row("VN-1"), [], row("VN-2", commodity_class="wildlife",
                                 substance="", taxon="Pangolin scales", quantity=12.5)]  # fmt: skip
    parties: list[list[object]] = [
        ["case_ref", "reporting_agency", "role", "kind", "name", "nationality", "phone", "email"],
        ["VN-1", "VN-CUS", "courier", "person", "Trần Thị B", "Việt Nam", "0912 345 678", "B@Mail.vn"],
        ["VN-1", "VN-CUS", "consignee", "company", "=1+1", "", "", ""],
    ]
    data = xlsx_bytes({"items": items, "parties": parties}, formulas_as_text=True)
    report = run(session, data, "cases.xlsx")
    assert report.ok, report.errors
    assert report.parties_imported == 2
    names = session.execute(select(Party.name).order_by(Party.id)).scalars().all()
    assert names == ["Trần Thị B", "=1+1"]  # typed text, stored verbatim (exports neutralise it)
    identifiers = session.execute(select(CaseIdentifier.kind, CaseIdentifier.normalised)).all()
    assert sorted(identifiers) == [("email", "b@mail.vn"), ("phone", "+84912345678")]
    item = session.execute(select(Item).join(Case).where(Case.case_ref == "VN-2")).scalar_one()
    assert (item.specimen_type, item.quantity) == ("scales", 12.5)


def test_parties_for_unknown_cases_reject_their_rows(session: Session, operation: Operation) -> None:
    parties: list[list[object]] = [
        ["case_ref", "reporting_agency", "name", "role"],
        ["VN-1", "VN-CUS", "A", "boss"],
        ["VN-7", "VN-CUS", "B", "courier"],
    ]
    report = run(session, xlsx_bytes({"items": [HEADER, row("VN-1"), row("VN-2")], "parties": parties}), "c.xlsx")
    assert {(e.sheet, e.row, e.column) for e in report.errors} == {("parties", 3, "case_ref")}
    # "boss" is a synonym of organiser; the unknown case's party row is rejected, VN-1 and VN-2 land
    assert report.cases_created == 2 and report.parties_imported == 1


def test_malicious_cells_never_crash(session: Session, operation: Operation) -> None:
    rows = [row("VN-1", description="x" * 1_000_000), row("VN-2", description="bell\x07"), row("VN-3")]
    report = run(session, csv_bytes(rows))
    assert report.cases_created == 1 and report.rejected_cases == ["VN-1", "VN-2"]
    assert [e.reason for e in report.errors] == ["text longer than 2000 characters", "contains control characters"]
    with pytest.raises(ImportRejected, match="NUL"):
        run(session, csv_bytes(rows) + b"\x00")


def test_file_path_and_unmapped_required_columns(session: Session, operation: Operation, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"case_ref,seizure_date,quantity,unit\nA,2023-06-01,1,kg\n")
    with pytest.raises(ImportRejected, match=r"required column.*reporting_agency, place_country, commodity_class"):
        import_cases(session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR, file_path=path)
    path.write_bytes(
        b"Ref,Agency,seizure_date,Land,class,substance,quantity,unit\nA,VN-CUS,2023-06-01,VN,drug,heroin,1,kg\n"
    )
    report = import_cases(
        session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR, file_path=path,
        mapping={"Ref": "case_ref", "Land": "place_country"}, today=TODAY,
    )  # fmt: skip
    assert report.ok and report.cases_created == 1
    assert report.mapping["Land"] == "place_country" and report.mapping["Agency"] == "reporting_agency"


@pytest.mark.slow
def test_hundred_thousand_rows_import(session: Session, operation: Operation) -> None:
    substances = ["heroin", "ICE", "ketamine HCl", "cocaine", "yaba"]
    rows = [
        row(f"VN-{i // 4}", seizure_date=f"2023-06-{1 + i % 28:02d}" if i % 4 == 0 else "",
            substance=substances[i % 5], quantity=f"{1 + i % 97},{i % 10}", place_locode="" if i % 4 else "VNHAN",
            place_country="" if i % 4 else "VN")
        for i in range(100_000)
    ]  # fmt: skip
    report = run(session, csv_bytes(rows))
    assert report.ok, report.errors[:3]
    assert report.cases_created == 25_000 and report.rows_imported == 100_000
    assert counts(session)["items"] == 100_000


def test_the_rows_written_are_main_s(session: Session, operation: Operation) -> None:
    """Cases, items, transits, parties, identifiers, the import records and the audit entries of two imports (the
    second updates, keeps and adds cases) are exactly what main's importer wrote before the write path changed
    (issue #20: COPY in the text format, ids read through COPY): the stored file was written by main's code."""
    import json

    from .written_rows import run_scenario

    expected = json.loads((DATA / "import_written_rows.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(run_scenario(session), sort_keys=True, ensure_ascii=False, default=str)) == expected
