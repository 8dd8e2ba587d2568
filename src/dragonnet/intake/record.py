"""Each written import and its cases: what "see the cases of this import" lists.

An import (web, CLI or API) that lands writes one `case_imports` row and one `case_import_cases` row per case
it created, updated or found unchanged. The case list filters on it (`CaseFilters.import_id`), always within
what the reader may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import ScalarSelect, Table, select
from sqlalchemy.orm import Session

from dragonnet.errors import NotFound
from dragonnet.policy.access import Actor
from dragonnet.policy.audit import AuditActor
from dragonnet.storage.bulk import insert_frame
from dragonnet.storage.intake_models import CaseImport, CaseImportCase
from dragonnet.storage.models import Agency, Operation

if TYPE_CHECKING:
    from dragonnet.intake.importer import ImportReport

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def record_import(
    session: Session, operation: Operation, agency: Agency, actor: AuditActor, report: ImportReport,
    written: Mapping[str, int], existing: Mapping[str, tuple[int, str, int, int]],
) -> int:  # fmt: skip
    """Record the import and its cases (ids of the cases written by ref; unchanged ones from `existing`)."""
    row = CaseImport(
        operation_id=operation.id, agency_id=agency.id, user_id=actor.user_id, filename=report.filename[:200],
        sha256=report.sha256, cases_created=report.cases_created, cases_updated=report.cases_updated,
        cases_unchanged=report.cases_unchanged,
    )  # fmt: skip
    session.add(row)
    session.flush()
    written_refs = list(written)
    unchanged = report.unchanged_refs
    cases = pl.DataFrame(
        {"import_id": [row.id] * (len(written_refs) + len(unchanged)),
         "case_id": [written[r] for r in written_refs] + [existing[r][0] for r in unchanged],
         "outcome": [UPDATED if r in existing else CREATED for r in written_refs] + [UNCHANGED] * len(unchanged)},
        schema={"import_id": pl.Int64, "case_id": pl.Int64, "outcome": pl.String},
    )  # fmt: skip
    table = CaseImportCase.__table__
    assert isinstance(table, Table)
    insert_frame(session, table, cases)  # COPY on PostgreSQL: one row per case of a file of 10^5 cases
    return row.id


def get_import(session: Session, actor: Actor, operation: Operation, import_id: int) -> CaseImport:
    """The import as its case list heads it: only the importing agency's members see which file it was (others
    meet the cases they may see, without the import's name)."""
    row = session.get(CaseImport, import_id)
    if row is None or row.operation_id != operation.id or row.agency_id != actor.agency_id:
        raise NotFound(f"no import {import_id} of your agency in this operation")
    return row


def import_case_ids(import_id: int) -> ScalarSelect[int]:
    """A subquery of the case ids of an import (for `WHERE Case.id IN (...)`)."""
    return select(CaseImportCase.case_id).where(CaseImportCase.import_id == import_id).scalar_subquery()


__all__ = ["CREATED", "UNCHANGED", "UPDATED", "get_import", "import_case_ids", "record_import"]
