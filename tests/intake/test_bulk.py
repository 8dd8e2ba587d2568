"""Bulk create (the API's /cases/bulk service): one validation pass over the batch with the import's rules, the
valid cases written together, each case atomic on its own; the same bad value gets the same reason as in a file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.intake import bulk, forms
from dragonnet.intake.importer import import_cases
from dragonnet.policy.access import Actor, PermissionDenied
from dragonnet.policy.users import create_user
from dragonnet.storage.intake_models import CaseStatusChange
from dragonnet.storage.models import AuditEvent, AuditStaged, Case, CaseIdentifier, Operation, Party

from .helpers import HEADER, TODAY, VN_ACTOR, csv_bytes

GOOD_ROW = {
    "seizure_date": "2023-06-01", "place_locode": "VNHAN", "place_country": "VN", "transport_mode": "air_passenger",
    "commodity_class": "drug", "substance": "heroin", "taxon": "", "quantity": "1,5", "unit": "kg",
    "transit_countries": "", "arrests": "1", "description": "",
}  # fmt: skip
# One bad (or doubtful) value per case: what an officer gets wrong in a file and in an API client alike.
BAD: dict[str, dict[str, str]] = {
    "B-DATE": {"seizure_date": "2023-02-30"},
    "B-PHASE": {"seizure_date": "2023-01-01"},
    "B-FUTURE": {"seizure_date": "2024-02-01"},
    "B-COUNTRY": {"place_country": "Vietnamm"},
    "B-MODE": {"transport_mode": "spaceship"},
    "B-TRANSIT": {"transit_countries": "TH, MY"},
    "B-QTY": {"quantity": "a lot"},
    "B-NEG": {"quantity": "-3"},
    "B-UNIT": {"unit": "bags"},
    "B-SUBST": {"substance": "unobtainium"},
    "B-PREC": {"substance": "ephedrine"},
    "B-TAXON": {"commodity_class": "wildlife", "substance": ""},
    "B-ARRESTS": {"arrests": "two"},
    "W-TAXON": {"commodity_class": "wildlife", "substance": "", "taxon": "Manis javanika"},
    "W-UNKNOWN": {"quantity": "unknown", "unit": ""},
    "OK": {},
}


def _row(ref: str, values: dict[str, str]) -> dict[str, str]:
    return {"case_ref": ref, "reporting_agency": "VN-CUS", **GOOD_ROW, **values}


def _as_input(row: dict[str, str]) -> forms.CaseInput:
    """The file's row as an API client sends it: case fields, and the item's own fields as its one item."""
    item_fields = set(forms.ITEM_FIELDS)
    case = {k: v for k, v in row.items() if k not in item_fields and k != "reporting_agency" and v != ""}
    case["items"] = [{k: v for k, v in row.items() if k in item_fields and v != ""}]
    return forms.CaseInput.from_mapping(case)


@pytest.fixture
def reporter(session: Session, operation: Operation) -> Actor:
    user = create_user(session, username="vn.reporter", password="bulk-Pa55word-long", agency_code="VN-CUS",
                       roles=["reporter"], enforce_policy=False)  # fmt: skip
    session.commit()
    return Actor.for_user(user)


def _field_column(field: str) -> str:
    return field.rsplit(".", 1)[-1]


def test_same_bad_values_same_reasons_in_a_file_and_a_batch(
    session: Session, operation: Operation, reporter: Actor
) -> None:
    rows = [_row(ref, values) for ref, values in BAD.items()]
    refs = list(BAD)
    report = import_cases(session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR,
                          data=csv_bytes([[r[c] for c in HEADER] for r in rows]), filename="bad.csv", today=TODAY,
                          dry_run=True)  # fmt: skip
    by_file: dict[str, set[tuple[str, str]]] = {ref: set() for ref in refs}
    for e in report.errors:
        by_file[refs[e.row - 2]].add((e.column, e.reason))  # row 1 is the header
    file_warnings = {(refs[w.row - 2], w.column, w.reason) for w in report.warnings}

    checked = forms.validate_cases([_as_input(r) for r in rows], agency_code="VN-CUS", operation=operation,
                                   today=TODAY)  # fmt: skip
    by_batch: dict[str, set[tuple[str, str]]] = {ref: set() for ref in refs}
    for index, problem in checked.invalid.items():
        by_batch[refs[index]] = {(_field_column(e.field), e.reason) for e in problem.errors}
    batch_warnings = {
        (refs[i], _field_column(w.field), w.reason) for i, warnings in checked.warnings.items() for w in warnings
    }

    assert by_batch == by_file
    assert batch_warnings == file_warnings
    # Each bad case fails on its own value, the doubtful ones pass with their warning; the good one passes clean.
    assert {ref for ref, reasons in by_batch.items() if reasons} == {r for r in refs if r.startswith("B-")}
    assert {ref for ref, _c, _r in batch_warnings} == {"W-TAXON", "W-UNKNOWN"}
    assert [column for column, _reason in by_batch["B-PHASE"]] == ["seizure_date"]
    # The field of an error names the item it is on.
    assert [e.field for e in checked.invalid[refs.index("B-UNIT")].errors] == ["items[0].unit"]


def _case(ref: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_ref": ref, "seizure_date": "2023-06-01", "place_country": "Viet Nam", "place_locode": "VNHAN",
        "transport_mode": "air passenger", "transit_countries": ["LA", "Thailand"], "destination_country": "CN",
        "sharing_level": "green", "description": "two couriers",
        "items": [{"commodity_class": "drug", "substance": "ICE", "quantity": "12,5", "unit": "kg"},
                  {"commodity_class": "wildlife", "taxon": "pangolin scales", "quantity": 30, "unit": "kg",
                   "hs_code": "0507.90"}],
        "parties": [{"role": "courier", "kind": "person", "name": "Nguyen Van A", "nationality": "Viet Nam",
                     "phone": "091 234 5678", "email": "A@Example.org"}],
    }  # fmt: skip
    body.update(over)
    return body


LOTS = {"commodity_class": "drug", "substance": "heroin", "quantity": "lots", "unit": "kg"}


def _stored(session: Session, case_id: int) -> dict[str, Any]:
    """A case as stored, without what differs between two writes (ids, times, refs)."""
    case = session.get(Case, case_id)
    assert case is not None
    skip = {"id", "case_ref", "created_at", "reported_at", "submitted_at", "updated_at", "status", "version"}
    columns = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key not in skip}
    items = [{c.key: getattr(i, c.key) for c in i.__table__.columns if c.key not in ("id", "case_id")}
             for i in case.items]  # fmt: skip
    parties = [
        {c.key: getattr(p, c.key) for c in Party.__table__.columns if c.key not in ("id", "case_id")}
        for p in session.execute(select(Party).where(Party.case_id == case_id).order_by(Party.id)).scalars()
    ]
    identifiers = sorted(
        (i.kind, i.value, i.normalised)
        for i in session.execute(select(CaseIdentifier).where(CaseIdentifier.case_id == case_id)).scalars()
    )
    return {"case": columns, "transits": case.transit_countries, "items": items, "parties": parties,
            "identifiers": identifiers}  # fmt: skip


def test_bulk_writes_what_one_by_one_writes_and_each_case_alone(
    session: Session, operation: Operation, reporter: Actor
) -> None:
    single = forms.create_case(session, reporter, operation, forms.CaseInput.from_mapping(_case("ONE")),
                               submit=True, today=TODAY)  # fmt: skip
    session.commit()
    batch = [
        bulk.BulkCase(forms.CaseInput.from_mapping(_case("BULK-1")), submit=True),
        bulk.BulkCase(forms.CaseInput.from_mapping(_case("BULK-2", items=[LOTS]))),
        bulk.BulkCase(forms.CaseInput.from_mapping(_case("ONE"))),  # the agency's ref already
        bulk.BulkCase(forms.CaseInput.from_mapping(_case("BULK-3", parties=[], transit_countries=None))),
        bulk.BulkCase(forms.CaseInput.from_mapping(_case("BULK-3"))),  # the same ref twice in one batch
        bulk.BulkCase(forms.CaseInput.from_mapping(_case("BULK-4", items=[]))),
    ]
    outcomes = bulk.create_cases(session, reporter, operation, batch, today=TODAY)
    session.commit()

    assert [o.ok for o in outcomes] == [True, False, False, True, False, False]
    assert [e.field for e in outcomes[1].error.errors] == ["items[0].quantity"]  # type: ignore[union-attr]
    assert outcomes[2].error.message.endswith("case_ref ONE is already used by your agency")  # type: ignore[union-attr]
    assert outcomes[4].error.message.endswith("case_ref BULK-3 is already used by your agency")  # type: ignore[union-attr]
    assert outcomes[5].error.errors[0].reason == "a case needs at least one item"  # type: ignore[union-attr]
    # The bulk case is stored exactly as the same case created alone (normalised values, items, route, parties).
    assert outcomes[0].case_id is not None and outcomes[3].case_id is not None
    assert _stored(session, outcomes[0].case_id) == _stored(session, single.id)
    first, third = session.get(Case, outcomes[0].case_id), session.get(Case, outcomes[3].case_id)
    assert first is not None and third is not None
    assert (first.status, first.version, first.submitted_at is not None) == ("submitted", 1, True)
    assert (third.status, third.submitted_at, third.transit_countries) == ("draft", None, [])
    assert first.created_by_id == reporter.user_id and first.description == "two couriers"
    changes = session.execute(select(CaseStatusChange.case_id, CaseStatusChange.to_status, CaseStatusChange.reason)
                              .where(CaseStatusChange.case_id.in_([first.id, third.id]))).all()  # fmt: skip
    assert sorted(changes) == sorted([(first.id, "submitted", "created"), (third.id, "draft", "created")])
    # One case.create entry per case written (none for the refused ones), as one by one: staged in the write's
    # transaction, or chained already by the group commit.
    entries = {
        oid: detail
        for table in (AuditStaged, AuditEvent)
        for oid, detail in session.execute(
            select(table.object_id, table.detail).where(table.action == "case.create", table.id > 0)
        ).all()
    }
    assert set(entries) == {str(single.id), str(first.id), str(third.id)}
    assert (entries[str(first.id)]["items"], entries[str(first.id)]["parties"]) == (2, 1)
    assert (entries[str(third.id)]["status"], entries[str(third.id)]["parties"]) == ("draft", 0)


def test_not_a_member_every_case_refused(session: Session, operation: Operation) -> None:
    user = create_user(session, username="observer", password="bulk-Pa55word-long", agency_code="VN-CUS",
                       roles=["partner_observer"], enforce_policy=False)  # fmt: skip
    session.commit()
    batch = [bulk.BulkCase(forms.CaseInput.from_mapping(_case(f"X-{n}"))) for n in range(2)]
    outcomes = bulk.create_cases(session, Actor.for_user(user), operation, batch, today=TODAY)
    assert all(isinstance(o.error, PermissionDenied) for o in outcomes)
    assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_each_case_of_a_batch_is_checked_as_it_is_alone(operation: Operation) -> None:
    """A case checked in a batch (its rows picked out of the batch's frames) is the case checked alone (a batch
    of one, whose rows are taken whole): the same values, items in order, parties, route and warnings. The
    batch has cases read in a second pass (a repeated ref), cases without items or parties, and a refused one
    between them, so that its passes take some of its cases only."""
    reversed_items = [{"commodity_class": "wildlife", "taxon": "Manis javanica", "quantity": 2, "unit": "pieces"},
                      {"commodity_class": "drug", "substance": "heroin", "quantity": "0,5", "unit": "kg"}]  # fmt: skip
    bodies = [
        _case("C-1"),
        _case("C-2", items=reversed_items, parties=[]),
        _case("C-3", items=[]),  # refused before its rows are read
        _case("C-1", description="the same ref, read in a second pass"),
        _case("C-4", transit_countries=None, parties=[*_case("x")["parties"], {"role": "owner", "kind": "company",
                                                                                "name": "Kim Long Trading"}]),
        _case("C-5", items=[LOTS]),  # refused by its rows
    ]  # fmt: skip
    inputs = [forms.CaseInput.from_mapping(b) for b in bodies]
    batch = forms.validate_cases(inputs, agency_code="VN-CUS", operation=operation, today=TODAY)
    assert sorted(batch.invalid) == [2, 5]
    for index in batch.valid:
        in_batch = batch.checked(index)
        alone = forms.validate_case(inputs[index], agency_code="VN-CUS", operation=operation, today=TODAY)
        assert _written(in_batch) == _written(alone), index
    assert [i["substance"] for i in batch.checked(1).items] == [None, "heroin"]
    assert [p["name"] for p in batch.checked(4).parties] == ["Nguyen Van A", "Kim Long Trading"]


def _written(checked: forms.Checked) -> tuple[Any, ...]:
    """What the writer takes of a checked case (its review rows are the whole batch's)."""
    return checked.case, checked.items, checked.parties, checked.transit, checked.warnings


def test_a_single_case_is_a_batch_of_one(operation: Operation) -> None:
    data = forms.CaseInput.from_mapping(_case("ONE", seizure_date="2023-01-01"))
    with pytest.raises(forms.CaseInvalid) as caught:
        forms.validate_case(data, agency_code="VN-CUS", operation=operation, today=dt.date(2024, 1, 15))
    assert [(e.field, e.value) for e in caught.value.errors] == [("seizure_date", "2023-01-01")]


def test_phases_are_read_as_phase_for_date_reads_each_date() -> None:
    """`with_phases` reads every date in one expression: the same phase as `phase_for_date` (the first whose
    period holds the date, both ends inclusive, overlapping periods too), the same message for a date outside
    every phase, and no phase and no error for a missing date."""
    from types import SimpleNamespace

    import polars as pl

    from dragonnet.errors import DragonnetError
    from dragonnet.intake.reader import ROW
    from dragonnet.operation.service import phase_for_date

    def phase(pid: int, number: int, start: str, end: str) -> SimpleNamespace:
        return SimpleNamespace(id=pid, number=number, name=f"P{number}", start_date=dt.date.fromisoformat(start),
                               end_date=dt.date.fromisoformat(end))  # fmt: skip

    operation: Any = SimpleNamespace(slug="op", phases=[phase(7, 2, "2024-01-01", "2024-06-30"),
                                                        phase(3, 1, "2023-01-01", "2024-01-31")])  # fmt: skip
    days = ["2022-12-31", "2023-01-01", "2024-01-01", "2024-01-31", "2024-02-01", "2024-06-30", "2024-07-01", None]
    frame = pl.DataFrame({"seizure_date": [None if d is None else dt.date.fromisoformat(d) for d in days],
                          ROW: range(1, len(days) + 1)})  # fmt: skip
    read, errors = forms.with_phases(frame, operation)
    expected_ids: list[int | None] = []
    expected_errors: dict[int, str] = {}
    for row, day in enumerate(frame.get_column("seizure_date").to_list(), start=1):
        try:
            expected_ids.append(None if day is None else phase_for_date(operation, day).id)
        except DragonnetError as exc:
            expected_ids.append(None)
            expected_errors[row] = exc.message
    assert read.get_column("phase_id").to_list() == expected_ids == [None, 3, 7, 7, 7, 7, None, None]
    assert dict(zip(errors.get_column("row").to_list(), errors.get_column("reason").to_list(), strict=True)) == (
        expected_errors
    )
    assert set(expected_errors) == {1, 7} and set(errors.get_column("column").to_list()) == {"seizure_date"}


def test_a_new_case_deletes_nothing(session: Session, operation: Operation, reporter: Actor) -> None:
    """Creating a case writes its parties and identifiers without first deleting the ones a new case cannot have
    (an edit replaces them: there the DELETEs stay), and they are stored."""
    from sqlalchemy import event

    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(" ".join(statement.split()[:3]).upper())

    bind = session.connection().engine
    event.listen(bind, "before_cursor_execute", note)
    try:
        case = forms.create_case(session, reporter, operation, forms.CaseInput.from_mapping(_case("NEW-1")),
                                 submit=True, today=TODAY)  # fmt: skip
    finally:
        event.remove(bind, "before_cursor_execute", note)
    assert "DELETE FROM PARTIES" not in sent and "DELETE FROM CASE_IDENTIFIERS" not in sent, sent
    parties = session.execute(select(func.count()).select_from(Party).where(Party.case_id == case.id)).scalar_one()
    identifiers = session.execute(
        select(func.count()).select_from(CaseIdentifier).where(CaseIdentifier.case_id == case.id)
    ).scalar_one()
    assert parties == len(_case("NEW-1")["parties"]) and identifiers > 0
