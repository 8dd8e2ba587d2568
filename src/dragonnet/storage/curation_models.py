"""Tables of the curation loop (values read by a guess or left unresolved, and how an operation maps them).

- `curation_values`: the review queue of an operation. One row per (agency, kind, written value, context): a taxon,
  place, substance, country or HS code that the reference data read by a guess or could not read, with what it
  was read as, why, how often it was written and whether it has been reviewed (mapped or confirmed "not listed").
- `curation_mappings`: a written value mapped once to a reference entry (a LOCODE or airport code, a taxon, a
  substance, a country, an HS code), or confirmed as not in the reference ("not listed"). `scope` is "" for the
  whole operation (a regional analyst's mapping) or the code of the one agency it applies to (a national
  coordinator's). Imports consult them before the reference data; they are exported and imported as files.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dragonnet.storage.models import Base, utcnow


class CurationMapping(Base):
    __tablename__ = "curation_mappings"
    __table_args__ = (UniqueConstraint("operation_id", "scope", "kind", "key", "context"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # NULL: the whole operation
    scope: Mapped[str] = mapped_column(String(32))  # "" (operation) or the agency's code
    kind: Mapped[str] = mapped_column(String(16))  # taxon | place | substance | country | hs_code
    text: Mapped[str] = mapped_column(String(200))  # the value as written when it was mapped
    key: Mapped[str] = mapped_column(String(200))  # its comparison key (case, accents, spaces folded)
    context: Mapped[str] = mapped_column(String(2), default="")  # the country of a place ("" when none)
    target: Mapped[str | None] = mapped_column(String(200))  # the reference entry; NULL when not_listed
    not_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_username: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CurationValue(Base):
    __tablename__ = "curation_values"
    __table_args__ = (UniqueConstraint("operation_id", "agency_id", "kind", "key", "context"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    context: Mapped[str] = mapped_column(String(2), default="")
    status: Mapped[str] = mapped_column(String(16))  # guess | unresolved: how the reference data read it
    read_as: Mapped[str | None] = mapped_column(String(200))  # what a guess read it as
    reason: Mapped[str | None] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer, default=0)  # rows that wrote it, over every import and save
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | mapped | not_listed
    mapping_id: Mapped[int | None] = mapped_column(ForeignKey("curation_mappings.id", ondelete="SET NULL"))
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)


__all__ = ["CurationMapping", "CurationValue"]
