"""Many cases at once (the API's bulk create): one validation pass over the batch, one write, one batch of audit
entries.

Rules (the API's contract, unchanged from one-by-one creation):
- Each case is atomic on its own: the valid cases land, each invalid one says why (its field errors, the same
  reasons as the spreadsheet import gives for the same values) and nothing of it is written.
- A case_ref already used by the agency, or used by an earlier case of the same batch, is refused for that case.
- Each case is a draft, or submitted with its own `submit`; each gets its status row and its `case.create`
  audit entry, as if created alone.
- The values read by a guess or not read at all go to the operation's review queue for the whole batch, refused
  cases included: a batch is queued as a file import queues its file.

How: the batch comes as a `forms.TypedBatch` (the API builds it straight from the request's JSON, column by
column; `BulkCase`s are converted to one); `forms.validate_cases` validates and normalises every case of it in
one vectorised pass (the import's rules), the existing refs are read in one query, and the valid cases are
written in one SAVEPOINT by the import's writer (`importer.write_cases`: COPY on PostgreSQL, batched executemany
on SQLite), with their status rows (`storage.bulk.insert_rows`: COPY on PostgreSQL) and their audit entries
(`record_many`: on PostgreSQL written straight into the chain in this transaction, which commits right after; on
SQLite chained before the commit as every SQLite transaction chains its own). If that write fails on a database
conflict (a case_ref taken by a concurrent write), it is rolled back and the cases are written one SAVEPOINT
each, so that only the conflicting case is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.errors import DragonnetError
from dragonnet.intake.curation.store import load_mappings, record_values
from dragonnet.intake.forms import (
    CASE,
    CaseInput,
    CaseInvalid,
    CheckedBatch,
    FieldError,
    TypedBatch,
    check_member,
    validate_cases,
)
from dragonnet.intake.importer import ref_conditions, write_cases
from dragonnet.intake.reader import ROW
from dragonnet.policy.access import Actor, audit_actor
from dragonnet.policy.audit import record_many
from dragonnet.storage.bulk import insert_rows
from dragonnet.storage.intake_models import CaseStatusChange
from dragonnet.storage.models import Agency, Case, Operation

MAX_CASES = 2_000  # cases per request: one pass validates them together (see docs/benchmarks.md, "bulk create")
OWN_VALUES = ("status", "submitted_at", "description")
STATUS_COLUMNS = ("case_id", "from_status", "to_status", "actor_user_id", "actor_username", "actor_agency", "at",
                  "reason")  # fmt: skip


@dataclass(frozen=True)
class BulkCase:
    """One case of a batch: what was typed, and whether to submit it at once."""

    data: CaseInput
    submit: bool = False


@dataclass
class Outcome:
    """What became of one case of the batch: created (`case_id`), or refused with `error`."""

    index: int
    case_ref: str | None
    case_id: int | None = None
    error: DragonnetError | None = None

    @property
    def ok(self) -> bool:
        return self.case_id is not None


def create_cases(
    session: Session, actor: Actor, operation: Operation, cases: Sequence[BulkCase] | TypedBatch, *,
    today: dt.date | None = None,
) -> list[Outcome]:  # fmt: skip
    """Create the valid cases of the batch for the actor's agency, in order; one Outcome per case. The batch is
    `BulkCase`s, or a `TypedBatch` built straight from the request's JSON (no object per case)."""
    if len(cases) > MAX_CASES:
        raise DragonnetError(f"at most {MAX_CASES} cases per request; send the rest in another request")
    batch = (
        cases if isinstance(cases, TypedBatch) else TypedBatch.from_inputs([c.data for c in cases],
                                                                           [c.submit for c in cases])
    )  # fmt: skip
    outcomes = [Outcome(n, ref) for n, ref in enumerate(batch.case_refs)]
    try:
        check_member(session, actor, operation)
    except DragonnetError as exc:  # not a member: every case is refused the same way, as each alone would be
        for outcome in outcomes:
            outcome.error = exc
        return outcomes
    assert actor.agency_code is not None and actor.agency_id is not None
    mappings = load_mappings(session, operation.id, actor.agency_code)
    checked = validate_cases(batch, agency_code=actor.agency_code.upper(), operation=operation,
                             today=today, mappings=mappings)  # fmt: skip
    for index, problem in checked.invalid.items():
        outcomes[index].error = problem
    writable = _refs_free(session, actor, checked, outcomes)
    with session.begin_nested():  # as a file import does, the batch's values to review are queued, all of them
        record_values(session, operation.id, actor.agency_id, checked.review)
    if not writable:
        return outcomes
    try:
        with session.begin_nested():
            _write(session, actor, operation, checked, batch.submits, writable, outcomes)
    except IntegrityError:  # a conflict with a concurrent write: find the case it was, one case at a time
        for index in writable:
            try:
                with session.begin_nested():
                    _write(session, actor, operation, checked, batch.submits, [index], outcomes)
            except IntegrityError:
                ref = outcomes[index].case_ref
                reason = f"case_ref {ref} was used by your agency while this case was being saved"
                outcomes[index].error = CaseInvalid([FieldError("case_ref", ref, reason)])
    session.expire_all()
    return outcomes


def _refs_free(session: Session, actor: Actor, checked: CheckedBatch, outcomes: list[Outcome]) -> list[int]:
    """The valid cases whose ref the agency has not used (in the database, or earlier in this batch)."""
    valid = checked.valid
    refs = [outcomes[i].case_ref for i in valid]
    used: set[str] = set()
    wanted = sorted({r for r in refs if r is not None})
    for ref_matches in ref_conditions(session, wanted):  # one array parameter on PostgreSQL, not 1,000
        used.update(
            session.execute(
                select(Case.case_ref).where(Case.reporting_agency_id == actor.agency_id, ref_matches)
            ).scalars()
        )
    writable: list[int] = []
    for index in valid:
        ref = outcomes[index].case_ref
        if ref in used:
            reason = f"case_ref {ref} is already used by your agency"
            outcomes[index].error = CaseInvalid([FieldError("case_ref", ref, reason)])
            continue
        assert ref is not None
        used.add(ref)
        writable.append(index)
    return writable


def _write(
    session: Session, actor: Actor, operation: Operation, checked: CheckedBatch, submits: Sequence[bool],
    indexes: list[int], outcomes: list[Outcome],
) -> None:  # fmt: skip
    """Write the cases `indexes` of the batch: rows, status rows, values to review, audit entries."""
    now = dt.datetime.now(dt.UTC)
    chosen = pl.Series(indexes, dtype=pl.Int64).implode()
    submitted = [submits[i] for i in indexes]
    own = pl.DataFrame(
        {
            CASE: indexes,
            "status": [CaseStatus.SUBMITTED.value if s else CaseStatus.DRAFT.value for s in submitted],
            "submitted_at": [now if s else None for s in submitted],
            "description": [checked.descriptions[i] for i in indexes],
        },
        schema={CASE: pl.Int64, "status": pl.String, "submitted_at": pl.Datetime("us", "UTC"),
                "description": pl.String},
    )  # fmt: skip
    good = checked.items.filter(pl.col(CASE).is_in(chosen)).sort(ROW)
    # One row per case; its `description` is the case's (the item rows' own is the goods description).
    good_cases = (
        good.unique(subset=[CASE], keep="first", maintain_order=True).drop("description").join(own, on=CASE, how="left")
    )
    parties = checked.parties.filter(pl.col(CASE).is_in(chosen)) if checked.parties.height else None
    agency = session.get(Agency, actor.agency_id)
    assert agency is not None
    ids = write_cases(session, operation, agency, audit_actor(actor), good, good_cases, {}, [], parties,
                      own_values=OWN_VALUES)  # fmt: skip
    statuses = dict(zip(good_cases.get_column("case_ref").to_list(), good_cases.get_column("status").to_list(),
                        strict=True))  # fmt: skip
    items = good.group_by(CASE).len()
    item_counts = dict(zip(items.get_column(CASE).to_list(), items.get_column("len").to_list(), strict=True))
    party_counts: dict[int, int] = {}
    if parties is not None:
        counted = parties.group_by(CASE).len()
        party_counts = dict(zip(counted.get_column(CASE).to_list(), counted.get_column("len").to_list(), strict=True))
    status_rows = CaseStatusChange.__table__
    assert isinstance(status_rows, Table)
    insert_rows(session, status_rows, STATUS_COLUMNS, [  # COPY on PostgreSQL, one executemany on SQLite
        (ids[ref], None, status, actor.user_id, actor.username, actor.agency_code, now, "created")
        for ref, status in statuses.items()
    ])  # fmt: skip
    entries: list[tuple[str, str | None, object | None, dict[str, Any]]] = []
    for index in indexes:
        ref = outcomes[index].case_ref
        assert ref is not None
        entries.append(("case.create", "case", ids[ref], {
            "case_ref": ref, "status": statuses[ref], "items": item_counts.get(index, 0),
            "parties": party_counts.get(index, 0), "warnings": len(checked.warnings.get(index, [])), "bulk": True,
        }))  # fmt: skip
    # Chained in this transaction (PostgreSQL): the request commits right after, and 1,000 entries would otherwise
    # be staged, copied into the chain and unstaged by a round of their own.
    record_many(session, audit_actor(actor), entries, chain_now=True)
    for index in indexes:
        outcomes[index].case_id = ids[outcomes[index].case_ref or ""]


__all__ = ["MAX_CASES", "BulkCase", "Outcome", "TypedBatch", "create_cases"]
