"""Issue #18 item 4: a seizure whose quantity is honestly unknown counts as a case and stays out of the totals,
and the quantities table says how many cases had no quantity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.operation.service import get_operation, phase_for_date
from dragonnet.reporting import render, service
from dragonnet.storage.models import Agency, Case, Item
from web.seed import SLUG, seed


def _case(op_id: int, phase_id: int, agency: Agency, ref: str, day: dt.date, quantity: float | None) -> Case:
    return Case(
        operation_id=op_id, phase_id=phase_id, reporting_agency_id=agency.id, case_ref=ref, status="validated",
        sharing_level="green", seizure_date=day, place_country=agency.country or "TH", transport_mode="air_passenger",
        items=[Item(position=1, commodity_class="wildlife", taxon_text="Manis javanica", quantity=quantity,
                    unit=None if quantity is None else "kg", mass_kg=quantity)],
    )  # fmt: skip


def test_unknown_quantities_count_as_cases_and_stay_out_of_the_totals(session: Session) -> None:
    seed(session)
    op = get_operation(session, SLUG)
    agency = session.execute(select(Agency).where(Agency.code == "TH-CUS")).scalar_one()
    day = dt.date(2024, 6, 12)
    phase = phase_for_date(op, day)
    session.add_all([
        _case(op.id, phase.id, agency, "Q-KNOWN", day, 12.5),
        _case(op.id, phase.id, agency, "Q-UNKNOWN-1", day, None),
        _case(op.id, phase.id, agency, "Q-UNKNOWN-2", day, None),
    ])  # fmt: skip
    session.flush()

    d = service.debrief(session, SLUG, phase.number, actor=None)
    rows = {(r["commodity_class"], r["unit"]): r for r in d.breakdown("quantities").as_dicts()}
    unknown = rows[("wildlife", None)]
    assert (unknown["cases"], unknown["seizures"], unknown["total"]) == (2, 2, None)
    known = rows[("wildlife", "kg")]
    assert known["total"] == 12.5 and known["cases"] >= 1
    classes = {r["commodity_class"]: r for r in d.breakdown("by_commodity_class").as_dicts()}
    assert classes["wildlife"]["cases"] >= 3  # the two cases without a quantity are cases all the same
    table = d.breakdown("quantities")
    unit, total = table.columns[1], table.columns[4]
    assert render.cell_text(None, unit) == "(not stated)" and render.cell_text(None, total) == "–"
    assert "left out of the totals" in (table.note or "")
