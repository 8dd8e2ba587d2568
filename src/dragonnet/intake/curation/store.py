"""The review queue and the mappings, as intake uses them: recorded by every import and save, consulted before the
reference data. No access check here: the callers (importer, form) already act for the agency whose values these
are; the people who review them go through `intake.curation.service`."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.intake.readings import Mapped, ValueMappings, value_key
from dragonnet.storage.curation_models import CurationMapping, CurationValue

OPEN, MAPPED, NOT_LISTED = "open", "mapped", "not_listed"
TEXT_MAX = 200


def load_mappings(session: Session, operation_id: int, agency_code: str | None) -> ValueMappings:
    """The mappings an import of `agency_code` consults: the operation's, overridden by the agency's own."""
    scopes = ["", agency_code.upper()] if agency_code else [""]
    rows = session.execute(
        select(CurationMapping).where(CurationMapping.operation_id == operation_id, CurationMapping.scope.in_(scopes))
    ).scalars()
    ordered = sorted(rows, key=lambda m: m.scope != "")  # the operation's first, the agency's override them
    entries = {(m.kind, m.key, m.context or ""): Mapped(m.id, m.target, m.not_listed, m.scope) for m in ordered}
    return ValueMappings(entries)


def record_values(session: Session, operation_id: int, agency_id: int, review: pl.DataFrame) -> int:
    """Add an import's (or a save's) values to review to the operation's queue: one entry per agency, kind,
    written value (by its comparison key) and context; `occurrences` adds up the rows that wrote it. A value seen
    again after its mapping was removed opens again. Returns the number of distinct values recorded."""
    if review.height == 0:
        return 0
    now = dt.datetime.now(dt.UTC)
    grouped: dict[tuple[str, str, str], dict[str, object]] = {}
    for r in review.iter_rows(named=True):
        text = (r["text"] or "").strip()[:TEXT_MAX]
        if not text:
            continue
        k = (r["kind"], value_key(r["kind"], text)[:TEXT_MAX], r["context"] or "")
        entry = grouped.setdefault(k, {"text": text, "rows": 0})
        entry.update(status=r["status"], read_as=(r["read_as"] or None), reason=r["reason"])
        entry["rows"] = int(entry["rows"]) + int(r["rows"])  # type: ignore[call-overload]
    existing = {
        (v.kind, v.key, v.context): v
        for v in session.execute(
            select(CurationValue).where(
                CurationValue.operation_id == operation_id,
                CurationValue.agency_id == agency_id,
                CurationValue.key.in_(sorted({k[1] for k in grouped})),
            )
        ).scalars()
    }
    for k, entry in grouped.items():
        value = existing.get(k)
        read_as = entry["read_as"]
        if value is None:
            session.add(
                CurationValue(
                    operation_id=operation_id, agency_id=agency_id, kind=k[0], text=entry["text"], key=k[1],
                    context=k[2], status=entry["status"], read_as=str(read_as)[:TEXT_MAX] if read_as else None,
                    reason=entry["reason"], occurrences=entry["rows"], state=OPEN, first_seen=now, last_seen=now,
                )
            )  # fmt: skip
            continue
        value.occurrences += int(entry["rows"])  # type: ignore[call-overload]
        value.last_seen = now
        value.status = str(entry["status"])
        value.read_as = str(read_as)[:TEXT_MAX] if read_as else None
        value.reason = str(entry["reason"]) if entry["reason"] else None
        if value.state != OPEN:  # read again without a mapping: its mapping was removed
            value.state, value.mapping_id = OPEN, None
    session.flush()
    return len(grouped)


__all__ = ["MAPPED", "NOT_LISTED", "OPEN", "load_mappings", "record_values"]
