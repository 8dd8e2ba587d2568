"""S13 export injection: every exported cell checked; Content-Disposition file names sanitised."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.operation.service import get_operation, phase_for_date
from dragonnet.policy.access import Actor
from dragonnet.reporting import render, service
from dragonnet.reporting.exports import case_rows, safe_filename, to_csv, to_xlsx
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import Agency, AuditEvent, Case, Item, User
from dragonnet.tabular import FORMULA_START, neutralise
from web.seed import SLUG
from web.webtest import app_client, logged_in, seeded_db  # noqa: F401

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
            "=1+1", "plain text"]  # fmt: skip


def _plant(session: Session) -> None:
    op = get_operation(session, SLUG)
    th = session.execute(select(Agency).where(Agency.code == "TH-CUS")).scalar_one()
    day = dt.date(2024, 6, 5)
    for n, payload in enumerate(PAYLOADS):
        session.add(Case(
            operation_id=op.id, phase_id=phase_for_date(op, day).id, reporting_agency_id=th.id,
            case_ref=f"{payload[:20]}-{n}", status="validated", sharing_level="green", seizure_date=day,
            place_country="TH", place_name=payload, concealment=payload, conveyance_ref=payload,
            description=payload, transport_mode="road",
            items=[Item(position=1, commodity_class="drug", substance_text=payload, quantity=1, unit="kg",
                        mass_kg=1.0)],
        ))  # fmt: skip
    session.flush()


def _unsafe(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def test_neutralise_and_filenames() -> None:
    for p in PAYLOADS:
        assert not _unsafe(neutralise(p))
    assert neutralise(3) == 3 and neutralise(None) is None
    assert safe_filename('../../evil"\r\nX-Header: 1.csv') == "evil_X-Header_1.csv"
    assert safe_filename("...") == "export" and len(safe_filename("a" * 500)) == 100


def test_every_exported_cell_is_safe(db_url: str, seeded_db: object) -> None:  # noqa: F811
    engine = make_engine(db_url)
    checked = 0
    try:
        with Session(engine) as session:
            _plant(session)
            user = session.execute(select(User).where(User.username == "th_reporter")).scalar_one()
            actor = Actor.for_user(user)
            export = case_rows(session, actor, get_operation(session, SLUG))
            assert len(export.rows) >= len(PAYLOADS)
            for row in csv.reader(io.StringIO(to_csv(export).decode("utf-8-sig"))):
                for cell in row:
                    checked += 1
                    assert not _unsafe(cell), cell
            wb = load_workbook(io.BytesIO(to_xlsx(export)))
            for ws in wb.worksheets:
                for xrow in ws.iter_rows():
                    for xcell in xrow:
                        checked += 1
                        assert xcell.data_type != "f", xcell.value
                        assert not _unsafe(xcell.value), xcell.value
            # The debrief's XLSX carries free text too (concealment texts, unresolved substances).
            d = service.debrief(session, SLUG, 2, actor=actor)
            wb = load_workbook(io.BytesIO(render.to_xlsx(d)))
            for ws in wb.worksheets:
                for xrow in ws.iter_rows():
                    for xcell in xrow:
                        checked += 1
                        assert xcell.data_type != "f" and not _unsafe(xcell.value), xcell.value
            session.rollback()
    finally:
        engine.dispose()
    print(f"S13: {checked} cells checked, 0 unescaped")
    assert checked > 500


def test_export_over_http_is_audited_and_scoped(app_client: TestClient) -> None:  # noqa: F811
    client = logged_in(app_client, "vn_reporter")
    response = client.get(f"/operations/{SLUG}/reports/cases.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="{SLUG}-cases.csv"'
    refs = [r[1] for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))][1:]
    assert sorted(refs) == ["TH-2", "TH-3", "VN-1"]  # never TH-1 (amber+strict) nor TH-4 (a foreign draft)
    assert client.get(f"/operations/{SLUG}/reports/cases.pdf").status_code == 422
    engine = make_engine(str(client.app.state.settings.database_url))  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "cases.export")).scalars().first()
    engine.dispose()


def test_observer_cannot_export(app_client: TestClient) -> None:  # noqa: F811
    client = logged_in(app_client, "observer")
    assert client.get(f"/operations/{SLUG}/reports/cases.csv").status_code == 404
    assert client.get(f"/api/v1/operations/{SLUG}/reports/cases.xlsx").status_code == 404
