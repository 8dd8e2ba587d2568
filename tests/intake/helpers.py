"""Builders of test files and table counts for the intake tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.operation import service
from dragonnet.policy.audit import AuditActor
from dragonnet.storage.models import Case, CaseIdentifier, CaseTransit, Item, Party

PHASES = [
    service.PhaseSpec(4, dt.date(2022, 4, 1), dt.date(2022, 11, 30), ("drug", "precursor", "wildlife", "timber")),
    service.PhaseSpec(5, dt.date(2023, 4, 15), dt.date(2023, 11, 16), ("drug", "precursor", "wildlife", "timber")),
]
VN_ACTOR = AuditActor(None, "vn.reporter", "VN-CUS")
TODAY = dt.date(2024, 1, 15)

HEADER = [
    "case_ref", "reporting_agency", "seizure_date", "place_locode", "place_country", "transport_mode",
    "commodity_class", "substance", "taxon", "quantity", "unit", "transit_countries", "arrests", "description",
]  # fmt: skip


def csv_bytes(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def counts(session: Session) -> dict[str, int]:
    return {
        m.__tablename__: session.execute(select(func.count()).select_from(m)).scalar_one()
        for m in (Case, Item, CaseTransit, Party, CaseIdentifier)
    }


def xlsx_bytes(
    sheets: dict[str, list[list[object]]], *, merge: dict[str, list[str]] | None = None, formulas_as_text: bool = False
) -> bytes:
    """An XLSX workbook built with openpyxl; `merge` names cell ranges to merge per sheet; with
    `formulas_as_text`, cells such as "=1+1" are stored as the typed text, not as formulas."""
    from openpyxl import Workbook

    wb = Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet(title)
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
        if formulas_as_text:
            for cells in ws.iter_rows():
                for cell in cells:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        cell.data_type = "s"
        for rng in (merge or {}).get(title, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_cached_formula_values(data: bytes, values: dict[str, str]) -> bytes:
    """Give formula cells a cached value, as Excel saves them (openpyxl writes formulas without one)."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = content.decode("utf-8")
                for ref, value in values.items():
                    text = re.sub(
                        rf'(<c r="{ref}"[^>]*>)<f>([^<]*)</f><v\s*/?>(</v>)?',
                        lambda m, v=value: f"{m.group(1)}<f>{m.group(2)}</f><v>{v}</v>",
                        text,
                    )
                content = text.encode("utf-8")
            dst.writestr(info, content)
    return out.getvalue()
