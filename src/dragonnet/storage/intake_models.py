"""Tables of the case-intake capability (registered on the shared metadata by dragonnet.storage.schema).

- `case_status_changes`: every workflow step of a case (from, to, who, when, why).
- `case_merges`: a duplicate merged into the case kept (both reports stay; who merged, when, the evidence).
- `duplicate_dismissals`: a candidate pair an analyst judged not to be the same seizure (respected later).
- `case_corrections`: a value of a case corrected without an edit of the case, e.g. a written taxon or place mapped
  to its reference entry by the curation loop (which field, from what, to what, who, when, why): the case page
  shows them in the case's history beside its status changes.
- `import_uploads`: a spreadsheet kept between the preview and the confirmation of a web import; the bytes
  live in the data directory under the upload's random id, never under a name the user chose.
- `case_imports`, `case_import_cases`: each import that wrote cases, and which cases it created, updated or
  found unchanged (the link after an import lists just those).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dragonnet.storage.models import Base, utcnow


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_agency: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class CaseMerge(Base):
    __tablename__ = "case_merges"
    __table_args__ = (UniqueConstraint("duplicate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    keep_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    duplicate_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_by_username: Mapped[str | None] = mapped_column(String(64))
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DuplicateDismissal(Base):
    """A pair (low id, high id) judged distinct; the detector skips it from then on."""

    __tablename__ = "duplicate_dismissals"
    __table_args__ = (UniqueConstraint("case_low_id", "case_high_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_low_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_high_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dismissed_by_username: Mapped[str | None] = mapped_column(String(64))
    dismissed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseCorrection(Base):
    __tablename__ = "case_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    item_position: Mapped[int | None] = mapped_column(Integer)  # the item's position; NULL: a case-level field
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))  # "curation"
    reason: Mapped[str | None] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_agency: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImportUpload(Base):
    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    agency_code: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    day_first: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    consumed_at: Mapped[dt.datetime | None] = mapped_column()


class CaseImport(Base):
    """One import that was written (web, CLI or API): its file, who, when, and its counts."""

    __tablename__ = "case_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cases_created: Mapped[int] = mapped_column(Integer, default=0)
    cases_updated: Mapped[int] = mapped_column(Integer, default=0)
    cases_unchanged: Mapped[int] = mapped_column(Integer, default=0)


class CaseImportCase(Base):
    """A case an import wrote or found unchanged: `outcome` created, updated or unchanged."""

    __tablename__ = "case_import_cases"
    __table_args__ = (UniqueConstraint("import_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("case_imports.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))


__all__ = [
    "Base",
    "CaseCorrection",
    "CaseImport",
    "CaseImportCase",
    "CaseMerge",
    "CaseStatusChange",
    "DuplicateDismissal",
    "ImportUpload",
]
