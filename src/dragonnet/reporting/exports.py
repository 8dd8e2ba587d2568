"""Case-list exports (CSV, XLSX) through the access policy, safe against formula injection.

Only non-nominal case facts are exported (no parties, no personal identifiers). Every text cell that a
spreadsheet could read as a formula (starting with = + - @ tab or CR) gets a leading apostrophe; numbers
are written as numbers. Export is recorded in the audit chain as `cases.export`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.exchange import FORMAT
from dragonnet.errors import NotFound, ValidationError
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, case_visibility
from dragonnet.reporting.extract import ReportingAgency
from dragonnet.storage.models import Case, CaseTransit, Item, Operation, Phase
from dragonnet.tabular import neutralise

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, default: str = "export") -> str:
    """A file name for Content-Disposition: ASCII letters, digits, . _ - only; no leading dot; at most 100."""
    clean = _UNSAFE_NAME.sub("_", name).strip("._") or default
    return clean[:100]


def content_disposition(name: str) -> str:
    return f'attachment; filename="{safe_filename(name)}"'


# One row per case: who and where in the workflow, then the exchange format's case-level columns (in the
# format's order: a column added to the format is exported), then the case's items summed up.
CASE_LEVEL: tuple[str, ...] = tuple(c.name for c in FORMAT.at_level("items", "case"))
_CASE_TABLE = Case.__table__  # a format column without a column of its own is read from Case.extra
EXPORT_COLUMNS: tuple[str, ...] = (
    "agency", "case_ref", "phase", "status", "reported_at", *CASE_LEVEL, "commodity_classes", "items",
    "estimated_value_usd", "description",
)  # fmt: skip


@dataclass(frozen=True)
class CaseExport:
    columns: tuple[str, ...]
    rows: list[list[Any]]


def case_rows(session: Session, actor: Actor, operation: Operation, phase_number: int | None = None) -> CaseExport:
    """The cases of `operation` that `actor` may see (drafts only their own), one row each, non-nominal."""
    if actor.is_observer_only or not actor.is_authenticated:
        raise NotFound("there is nothing at this address")  # observers see the public summary only
    stmt = (
        select(Case, ReportingAgency.code, Phase.number)
        .join(ReportingAgency, ReportingAgency.id == Case.reporting_agency_id)
        .join(Phase, Phase.id == Case.phase_id)
        .where(Case.operation_id == operation.id, case_visibility(actor))
        .order_by(Phase.number, ReportingAgency.code, Case.case_ref)
    )
    if phase_number is not None:
        stmt = stmt.where(Phase.number == phase_number)
    found = session.execute(stmt).all()
    ids = [c.id for c, _, _ in found]
    items: dict[int, list[str]] = {}
    classes: dict[int, set[str]] = {}
    transits: dict[int, list[str]] = {}
    for chunk in (ids[i : i + 900] for i in range(0, len(ids), 900)):
        for it in session.execute(select(Item).where(Item.case_id.in_(chunk)).order_by(Item.case_id, Item.position)):
            item = it[0]
            what = item.substance or item.taxon or item.substance_text or item.taxon_text or item.commodity_class
            amount = f"{item.quantity:g} {item.unit}" if item.quantity is not None else "quantity unknown"
            items.setdefault(item.case_id, []).append(f"{what} {amount}")
            classes.setdefault(item.case_id, set()).add(item.commodity_class)
        for case_id, country in session.execute(
            select(CaseTransit.case_id, CaseTransit.country)
            .where(CaseTransit.case_id.in_(chunk))
            .order_by(CaseTransit.case_id, CaseTransit.position)
        ):
            transits.setdefault(case_id, []).append(country)
    rows: list[list[Any]] = []
    for case, agency_code, phase in found:
        level = {c: " > ".join(transits.get(case.id, [])) if c == "transit_countries"
                 else getattr(case, c) if c in _CASE_TABLE.c else (case.extra or {}).get(c)
                 for c in CASE_LEVEL}  # fmt: skip
        rows.append([
            agency_code, case.case_ref, phase, case.status, case.reported_at, *level.values(),
            ", ".join(sorted(classes.get(case.id, set()))), "; ".join(items.get(case.id, [])),
            case.estimated_value_usd, case.description,
        ])  # fmt: skip
    return CaseExport(EXPORT_COLUMNS, rows)


def to_csv(export: CaseExport) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(export.columns)
    for row in export.rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: spreadsheets then read UTF-8


def to_xlsx(export: CaseExport, sheet: str = "cases") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(export.columns))
    for row in export.rows:
        ws.append([neutralise(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_cases(
    session: Session, actor: Actor, operation: Operation, fmt: str, phase_number: int | None = None
) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the case list `actor` may see; audited as `cases.export`."""

    if fmt not in ("csv", "xlsx"):
        raise ValidationError(f"unknown export format {fmt!r}; use csv, xlsx")
    export = case_rows(session, actor, operation, phase_number)
    who = audit.AuditActor(actor.user_id, actor.username, actor.agency_code, actor.client_address)
    audit.record(session, who, "cases.export", "operation", operation.slug, format=fmt, phase=phase_number,
                 rows=len(export.rows))  # fmt: skip
    suffix = f"-phase-{phase_number}" if phase_number is not None else ""
    name = safe_filename(f"{operation.slug}{suffix}-cases.{fmt}")
    if fmt == "csv":
        return to_csv(export), "text/csv; charset=utf-8", name
    return to_xlsx(export), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name
