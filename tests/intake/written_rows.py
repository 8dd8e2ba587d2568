"""The rows an import writes, as comparable text: every table the importer writes (cases, items, transits, parties,
identifiers, the import record and its case list, the audit entries), with the values that differ from run to run
(ids, clocks, hashes of the chain) replaced by what they point to (a case by its ref) or left out.

`tests/intake/data/import_written_rows.json` holds these rows as main's importer wrote them for `SCENARIO`
(before the write path changed for issue #20); the test compares the rows written now with it on both backends."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dragonnet.intake.importer import import_cases
from dragonnet.storage.intake_models import CaseImport, CaseImportCase
from dragonnet.storage.models import AuditEvent, Case, CaseIdentifier, CaseTransit, Item, Party

from .helpers import HEADER, TODAY, VN_ACTOR, csv_bytes

PARTY_HEADER = ["case_ref", "reporting_agency", "role", "kind", "name", "nationality", "phone", "email"]
# Clocks, ids and the chain's hashes: not part of what an import writes as content.
_LEFT_OUT = {
    "id",
    "created_at",
    "updated_at",
    "reported_at",
    "submitted_at",
    "validated_at",
    "at",
    "hash",
    "prev_hash",
    "seq",
    "import_id",
    "case_id",
    "party_id",
    "merged_into_id",
    "staged_id",
    "sha256",
}  # fmt: skip  (an XLSX file carries its creation time: its hash changes with each run)


def _row(ref: str, **values: str) -> list[str]:
    base = {
        "case_ref": ref, "reporting_agency": "VN-CUS", "seizure_date": "2023-06-01", "place_locode": "VNHAN",
        "place_country": "VN", "transport_mode": "air_passenger", "commodity_class": "drug", "substance": "heroin",
        "taxon": "", "quantity": "1,5", "unit": "kg", "transit_countries": "", "arrests": "1", "description": "",
    }  # fmt: skip
    return [str((base | values)[c]) for c in HEADER]


def _files() -> list[bytes]:
    """A first file (several items per case, transits, wildlife and timber, a rejected case, parties with phones
    and e-mails) and a second one that updates a case, leaves one unchanged and adds one."""
    first_items = [
        _row("VN-1", transit_countries="LA; TH"), _row("VN-1", substance="cocaine", quantity="2"),
        _row("VN-2", commodity_class="wildlife", substance="", taxon="Manis javanica", quantity="12", unit="kg",
             place_locode="", place_country="Viet Nam"),
        _row("VN-3", commodity_class="timber", substance="", taxon="Dalbergia cochinchinensis", quantity="3",
             unit="m3", transit_countries="KH"),
        _row("VN-4", quantity="-1"),  # rejected: the whole case
        _row("VN-5", substance="ya ba", quantity="2000", unit="pieces", arrests="0",
             description='two lines\nwith a back\\slash, a\ttab, "quotes" and \\N'),
    ]  # fmt: skip
    parties = [["VN-1", "VN-CUS", "courier", "person", "Nguyen Van A", "VN", "0912 345 678", "A@Example.org"],
               ["VN-2", "VN-CUS", "consignee", "company", "Cong ty B", "VN", "", ""]]  # fmt: skip
    second_items = [
        _row("VN-1", transit_countries="LA; TH"), _row("VN-1", substance="cocaine", quantity="2"),
        _row("VN-2", commodity_class="wildlife", substance="", taxon="Manis javanica", quantity="14", unit="kg",
             place_locode="", place_country="Viet Nam"),
        _row("VN-6", substance="ketamine", quantity="0,25"),
    ]  # fmt: skip

    def workbook(items: list[list[str]], party_rows: list[list[str]]) -> bytes:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "items"
        for r in [HEADER, *items]:
            ws.append(r)
        ps = wb.create_sheet("parties")
        for r in [PARTY_HEADER, *party_rows]:
            ps.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    return [workbook(first_items, parties), csv_bytes(second_items)]


def run_scenario(session: Session) -> list[dict[str, Any]]:
    """Import the two files, committing after each (as the CLI does); the written rows after each."""
    snapshots = []
    for n, data in enumerate(_files()):
        name = "first.xlsx" if n == 0 else "second.csv"
        import_cases(session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR, data=data,
                     filename=name, today=TODAY)  # fmt: skip
        session.commit()
        snapshots.append(written_rows(session))
    return snapshots


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if k not in _LEFT_OUT}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _table_rows(session: Session, model: type[Any], refs: dict[int, str]) -> list[dict[str, Any]]:
    table = model.__table__
    assert isinstance(table, Table)
    out = []
    for r in session.execute(select(table).order_by(table.c.id)).mappings():
        row = {k: _plain(v) for k, v in r.items() if k not in _LEFT_OUT}
        if "case_id" in r:
            row["case"] = refs.get(r["case_id"])
        out.append(row)
    return sorted(out, key=lambda x: json.dumps(x, sort_keys=True, default=str))


def written_rows(session: Session) -> dict[str, Any]:
    """Every row of the tables an import writes, comparable across runs and backends."""
    session.expire_all()
    refs = dict(session.execute(select(Case.id, Case.case_ref)).tuples().all())
    out: dict[str, Any] = {}
    for name, model in (("cases", Case), ("items", Item), ("case_transits", CaseTransit), ("parties", Party),
                        ("case_identifiers", CaseIdentifier), ("case_imports", CaseImport),
                        ("case_import_cases", CaseImportCase)):  # fmt: skip
        out[name] = _table_rows(session, model, refs)
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    out["audit"] = [{"action": e.action, "object": [e.object_type, e.object_id], "actor": e.actor_username,
                     "detail": _plain(e.detail)} for e in events]  # fmt: skip
    return out
