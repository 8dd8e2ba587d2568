"""Import the exchange format into cases: grouped, validated as a whole, written in one transaction.

Rules:
- Rows group into cases by (reporting_agency, case_ref). A case with any bad row (items or parties) is
  rejected whole: a case is never half-written.
- An agency imports only its own cases: a row naming another reporting_agency is an error.
- The phase comes from the seizure date (outside every phase of the operation: row error).
- Re-importing a case (same agency and case_ref) replaces its items, transit countries and parties and
  bumps its version; it never duplicates. Imported cases get status `submitted`; an update of a
  `validated` (or `withdrawn`) case puts it back to `submitted`, because its content changed and must be
  validated again. A `merged` case is not updated (row error: edit the case it was merged into). A re-imported
  case whose content is what is stored already is left alone and reported as unchanged (`intake.unchanged`).
- Each written import is recorded with its cases (created, updated, unchanged: `case_imports`), so that the
  list of just this import's cases can be shown (`report.import_id`).
- `all_or_nothing`: any error and nothing is written. Otherwise the valid cases land and the report lists
  the rejected rows. `dry_run` validates and reports without writing.
- Everything is written inside one SAVEPOINT in the caller's transaction, with one `cases.import` audit
  entry; a failure while writing rolls the whole import back. The caller commits (the CLI does).
- Dry runs and all-or-nothing imports that write nothing leave no audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import ARRAY, ColumnElement, String, Table, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from dragonnet import hooks
from dragonnet.domain.exchange import SheetKind
from dragonnet.domain.vocabulary import CaseStatus, IdentifierKind, SharingLevel
from dragonnet.i18n import N_, with_values
from dragonnet.intake.curation.store import load_mappings, record_values
from dragonnet.intake.extra import CASE_EXTRA, ITEM_EXTRA, PARTY_EXTRA, pack
from dragonnet.intake.forms import with_phases
from dragonnet.intake.headers import PARTY_COLUMNS, HeaderMapping, propose_mapping, require
from dragonnet.intake.normalise import CASE_KEY, ERROR_SCHEMA, ErrorSink, Normalised, normalise_items, normalise_parties
from dragonnet.intake.reader import MAX_BYTES, MAX_ROWS, ROW, RawTable, ReadResult, read_bytes
from dragonnet.intake.record import record_import
from dragonnet.intake.templates import EXAMPLE_CASE_REF, example_rows
from dragonnet.intake.unchanged import unchanged_refs
from dragonnet.operation.service import get_operation
from dragonnet.policy.audit import AuditActor, record
from dragonnet.storage.bulk import insert_frame, take_ids
from dragonnet.storage.models import (
    Agency,
    Case,
    CaseIdentifier,
    CaseTransit,
    Item,
    Operation,
    Participation,
    Party,
)
from dragonnet.tabular import ImportRejected, RowError

MAX_REPORTED_ERRORS = 10_000  # the report lists at most this many errors; errors_total counts them all
CHUNK = 5_000  # ids per IN (...) list and rows per executemany batch
# Reasons with values (English in the report's data; pages translate them, dragonnet.i18n.with_values).
MERGED_CASE = with_values(N_("case %(ref)s was merged into another case; edit that case"))
USED_ELSEWHERE = with_values(N_("case_ref %(ref)s is already used by your agency in another operation"))


@dataclass
class ImportReport:
    filename: str
    sha256: str
    format: str
    encoding: str | None
    operation: str
    agency: str
    dry_run: bool
    all_or_nothing: bool
    written: bool = False
    rows_total: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    cases_created: int = 0
    cases_updated: int = 0
    cases_unchanged: int = 0  # re-imported as they are stored: left alone (version and status kept)
    cases_rejected: int = 0
    parties_imported: int = 0
    rejected_cases: list[str] = field(default_factory=list)
    # The refs of the cases accepted, unchanged ones included (in a dry run, that would be): what a later step
    # (validation) acts on.
    case_refs: list[str] = field(default_factory=list)
    unchanged_refs: list[str] = field(default_factory=list)
    import_id: int | None = None  # the recorded import (case_imports), once written
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    # Values accepted by a guess to check (a misspelt taxon read as the closest CITES name); not rejections.
    warnings: list[RowError] = field(default_factory=list)
    warnings_total: int = 0
    # Distinct values read by a guess or not read at all (taxa, places, substances, countries, HS codes): the
    # operation's review queue receives them (not in a dry run).
    values_to_review: int = 0
    mapping: dict[str, str | None] = field(default_factory=dict)
    parties_mapping: dict[str, str | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every row was imported (or, in a dry run, would be)."""
        return self.rows_rejected == 0 and self.errors_total == 0

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("errors")
        out.pop("warnings")
        out["ok"] = self.ok
        return out

    def to_json(self, *, errors: bool = True, indent: int | None = None) -> str:
        out = self.summary()
        if errors:
            out["errors"] = [e.to_dict() for e in self.errors]
            out["warnings"] = [w.to_dict() for w in self.warnings]
        return json.dumps(out, ensure_ascii=False, indent=indent, default=str)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _canonical(table: RawTable, mapping: HeaderMapping) -> pl.DataFrame:
    return table.frame.select([pl.col(f"c{i}").alias(column) for i, column in mapping.columns.items()] + [pl.col(ROW)])


def ref_conditions(session: Session, refs: Sequence[str]) -> Iterator[ColumnElement[bool]]:
    """`case_ref IN refs` as few conditions as the database allows: one `= ANY(array)` on PostgreSQL (one
    parameter however many refs), chunks of IN (...) lists elsewhere."""
    if not refs:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield Case.case_ref == any_(bindparam("refs", list(refs), type_=ARRAY(String)))
        return
    for chunk in _chunks(refs):
        yield Case.case_ref.in_(chunk)


def _without_example(frame: pl.DataFrame, sheet: SheetKind) -> tuple[pl.DataFrame, list[RowError]]:
    """The rows without the templates' unchanged example row, and a note for each one skipped."""
    example = example_rows(frame, sheet)
    if not example.any():
        return frame, []
    skipped = frame.filter(example).get_column(ROW).to_list()
    notes = [RowError(row, "case_ref", EXAMPLE_CASE_REF, "the template's example row: skipped, not imported",
                      None, sheet) for row in skipped]  # fmt: skip
    return frame.filter(~example), notes


def _agency(session: Session, operation: Operation, code: str) -> Agency:
    agency = session.execute(select(Agency).where(func.upper(Agency.code) == code.strip().upper())).scalar_one_or_none()
    if agency is None:
        raise ImportRejected(f"unknown agency {code!r}")
    taking_part = session.execute(
        select(Participation.id).where(Participation.operation_id == operation.id, Participation.agency_id == agency.id)
    ).first()
    if taking_part is None:
        raise ImportRejected(f"agency {agency.code} does not take part in operation {operation.slug!r}")
    return agency


def _normalised_phone(text: str) -> str:
    return re.sub(r"[^\d+]", "", text)[:200] or text[:200]


def import_cases(
    session: Session,
    *,
    operation_slug: str,
    agency_code: str,
    actor: AuditActor,
    file_path: str | Path | None = None,
    data: bytes | None = None,
    filename: str | None = None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    day_first: bool = False,
    mapping: Mapping[str, str | None] | None = None,
    today: dt.date | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportReport:
    """Import a CSV/XLSX file of cases for `agency_code` into the operation; see the module's rules.

    Give `file_path`, or `data` with `filename` (whose extension says CSV or XLSX). Raises ImportRejected
    (a DragonnetError) when the file as a whole cannot be imported; row problems are in the report.

    Stages: read -> map (headers to columns) -> normalise -> validate (agency, phase, existing cases, parties)
    -> report -> write (with the audit entry, in one transaction; not for a dry run).
    """
    data, filename = _file_bytes(file_path, data, filename, max_bytes)
    operation = get_operation(session, operation_slug)
    agency = _agency(session, operation, agency_code)
    if actor.agency is not None and actor.agency.upper() != agency.code.upper():
        raise ImportRejected(f"{actor.username or 'you'} belong(s) to {actor.agency}, not to {agency.code}")
    today = today or dt.date.today()

    raw = read_bytes(data, filename, max_bytes=max_bytes, max_rows=max_rows)
    items_map, parties_map = _map_headers(raw, mapping)
    report = ImportReport(
        filename=Path(filename).name,
        sha256=hashlib.sha256(data).hexdigest(),
        format=raw.format,
        encoding=raw.encoding,
        operation=operation.slug,
        agency=agency.code,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        mapping=items_map.as_dict(),
        parties_mapping=parties_map.as_dict() if parties_map else {},
    )
    mappings = load_mappings(session, operation.id, agency.code)
    item_rows, examples = _without_example(_canonical(raw.items, items_map), "items")
    items = normalise_items(item_rows, day_first=day_first, today=today, mappings=mappings)
    parties = None
    if raw.parties is not None and parties_map is not None:
        party_rows, party_examples = _without_example(_canonical(raw.parties, parties_map), "parties")
        examples += party_examples
        parties = normalise_parties(party_rows, day_first=day_first, today=today, default_region=agency.country,
                                    mappings=mappings)  # fmt: skip
    checked = _validate(session, operation, agency, items, parties)
    plan = _without_unchanged(session, report, checked, _report(report, checked, items))
    report.warnings, report.warnings_total = examples + report.warnings, report.warnings_total + len(examples)
    review = _review(items, parties)
    report.values_to_review = review.height
    if dry_run:
        return report
    if all_or_nothing and checked.errors.height > 0:  # nothing lands but the values to review
        report.cases_created = report.cases_updated = report.rows_imported = report.parties_imported = 0
        report.cases_unchanged = 0
        report.rows_rejected = report.rows_total
        report.case_refs = report.unchanged_refs = []
        with session.begin_nested():
            record_values(session, operation.id, agency.id, review)
        return report
    with session.begin_nested():
        ids = write_cases(session, operation, agency, actor, plan.good, plan.good_cases, checked.existing,
                     plan.to_update, plan.good_parties)  # fmt: skip
        record_values(session, operation.id, agency.id, review)
        report.import_id = record_import(session, operation, agency, actor, report, ids, checked.existing)
        record(
            session, actor, "cases.import", "operation", operation.slug,
            filename=report.filename, sha256=report.sha256, format=report.format, encoding=report.encoding,
            agency=agency.code, rows_total=report.rows_total, rows_imported=report.rows_imported,
            rows_rejected=report.rows_rejected, cases_created=report.cases_created,
            cases_updated=report.cases_updated, cases_unchanged=report.cases_unchanged,
            cases_rejected=report.cases_rejected, parties_imported=report.parties_imported,
            all_or_nothing=all_or_nothing, import_id=report.import_id,
            warnings=report.warnings_total, values_to_review=report.values_to_review,
        )  # fmt: skip
    session.expire_all()
    report.written = True
    return report


def _review(items: Normalised, parties: Normalised | None) -> pl.DataFrame:
    """The distinct values of both sheets to review (REVIEW_SCHEMA rows, summed per value)."""
    frames = [items.review] + ([parties.review] if parties is not None else [])
    return pl.concat(frames, how="vertical")


def _file_bytes(
    file_path: str | Path | None, data: bytes | None, filename: str | None, max_bytes: int
) -> tuple[bytes, str]:
    """Read: the file's bytes and name (a path, or bytes with their name); a file over the limit is refused."""
    if file_path is not None:
        path = Path(file_path)
        filename = filename or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImportRejected(f"cannot read {path}: {exc.strerror or exc}") from None
        if size > max_bytes:
            raise ImportRejected(f"{path.name}: file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
        data = path.read_bytes()
    if data is None or not filename:
        raise ImportRejected("give a file path, or the file's bytes and its name")
    return data, filename


def _map_headers(
    raw: ReadResult, mapping: Mapping[str, str | None] | None
) -> tuple[HeaderMapping, HeaderMapping | None]:
    """Map: the sheets' headers to exchange-format columns (an explicit mapping wins); required columns checked."""
    items_map = propose_mapping(raw.items.headers, "items", mapping)
    require(items_map)
    parties_map: HeaderMapping | None = None
    if raw.parties is not None:
        explicit = {h: c for h, c in (mapping or {}).items() if c is None or c in PARTY_COLUMNS}
        parties_map = propose_mapping(raw.parties.headers, "parties", explicit)
        require(parties_map)
    return items_map, parties_map


@dataclass
class _Checked:
    """What validation leaves: the item rows (with phase_id and the rejected cases marked), the errors of both
    sheets, the rejected case keys, the party rows, and the agency's existing cases by ref."""

    frame: pl.DataFrame
    errors: pl.DataFrame
    item_errors: pl.DataFrame
    bad_keys: pl.DataFrame
    parties: pl.DataFrame | None
    existing: dict[str, tuple[int, str, int, int]]  # case_ref -> (id, status, version, operation_id)
    own: str


def _validate(
    session: Session, operation: Operation, agency: Agency, items: Normalised, parties: Normalised | None
) -> _Checked:
    """Validate what the normalisation cannot see alone: the agency, the phase of each seizure date, the
    agency's existing cases (merged, or in another operation), and parties without item rows."""
    frame = items.frame
    sink = ErrorSink()
    own = agency.code.upper()
    sink.add(frame, pl.col("reporting_agency").is_not_null() & (pl.col("reporting_agency") != own),
             "reporting_agency", pl.format("reporting_agency {} is not your agency ({})",
                                           pl.col("reporting_agency"), pl.lit(own)))  # fmt: skip
    frame = _with_phases(frame, operation, sink)
    existing = _existing_cases(session, agency, frame.filter(pl.col("reporting_agency") == own))
    blocked = {
        ref: (MERGED_CASE % {"ref": ref} if status == CaseStatus.MERGED.value else USED_ELSEWHERE % {"ref": ref})
        for ref, (_cid, status, _v, op_id) in existing.items()
        if status == CaseStatus.MERGED.value or op_id != operation.id
    }  # fmt: skip
    if blocked:
        sink.add(frame, pl.col("case_ref").is_in(list(blocked)) & (pl.col("reporting_agency") == own), "case_ref",
                 pl.col("case_ref").replace_strict(blocked, default=None, return_dtype=pl.String))  # fmt: skip

    item_errors = pl.concat([items.errors, sink.frame()]).with_columns(pl.lit("items").alias("sheet"))
    error_frames = [item_errors]
    bad_keys = (
        frame.join(item_errors.select(pl.col("row").alias(ROW)).unique(), on=ROW, how="semi").select(*CASE_KEY).unique()
    )
    parties_frame: pl.DataFrame | None = None
    if parties is not None:
        parties_frame, party_errors = _check_parties(frame, parties, own)
        error_frames.append(party_errors)
        bad_party_keys = (
            parties_frame.join(party_errors.select(pl.col("row").alias(ROW)).unique(), on=ROW, how="semi")
            .select(*CASE_KEY)
            .unique()
        )
        bad_keys = pl.concat([bad_keys, bad_party_keys]).unique()

    errors = pl.concat(error_frames).sort(["sheet", "row"], descending=[False, False], maintain_order=True)
    bad_keys = bad_keys.filter(pl.col("case_ref").is_not_null() & pl.col("reporting_agency").is_not_null())
    bad_keys = bad_keys.with_columns(pl.lit(True).alias("__bad"))
    frame = frame.join(bad_keys, on=list(CASE_KEY), how="left", maintain_order="left")
    return _Checked(frame, errors, item_errors, bad_keys, parties_frame, existing, own)


def _with_phases(frame: pl.DataFrame, operation: Operation, sink: ErrorSink) -> pl.DataFrame:
    """The phase of each row from its seizure date (the rule every door shares: `forms.with_phases`)."""
    frame, errors = with_phases(frame, operation)
    sink.frames.append(errors)
    return frame


def _existing_cases(session: Session, agency: Agency, own_rows: pl.DataFrame) -> dict[str, tuple[int, str, int, int]]:
    """The agency's cases with the refs of these rows: case_ref -> (id, status, version, operation_id)."""
    refs = own_rows.get_column("case_ref").drop_nulls().unique().to_list()
    existing: dict[str, tuple[int, str, int, int]] = {}
    for ref_matches in ref_conditions(session, refs):
        for cid, ref, status, version, op_id in session.execute(
            select(Case.id, Case.case_ref, Case.status, Case.version, Case.operation_id).where(
                Case.reporting_agency_id == agency.id, ref_matches
            )
        ):
            existing[ref] = (cid, status, version, op_id)
    return existing


def _check_parties(frame: pl.DataFrame, parties: Normalised, own: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The party rows (of this agency, of a case with item rows) and their errors."""
    pf = parties.frame
    psink = ErrorSink()
    psink.add(pf, pl.col("reporting_agency").is_not_null() & (pl.col("reporting_agency") != own),
              "reporting_agency", pl.format("reporting_agency {} is not your agency ({})",
                                            pl.col("reporting_agency"), pl.lit(own)))  # fmt: skip
    known = frame.select(*CASE_KEY).unique().with_columns(pl.lit(True).alias("__known"))
    pf = pf.join(known, on=list(CASE_KEY), how="left", maintain_order="left")
    psink.add(pf, pl.col("case_ref").is_not_null() & (pl.col("reporting_agency") == own)
              & pl.col("__known").is_null(), "case_ref",
              pl.lit(N_("no item rows for this case in the items sheet")))  # fmt: skip
    party_errors = pl.concat([parties.errors, psink.frame()]).with_columns(pl.lit("parties").alias("sheet"))
    return pf.drop("__known"), party_errors


@dataclass
class _Plan:
    """What the write stage writes: the accepted rows, one row per accepted case, the cases to update, parties."""

    good: pl.DataFrame
    good_cases: pl.DataFrame
    to_update: list[str]
    good_parties: pl.DataFrame | None


def _report(report: ImportReport, checked: _Checked, items: Normalised) -> _Plan:
    """Report: fill the per-row report (errors, warnings, rejected cases, counts) and plan the write."""
    frame, errors, own = checked.frame, checked.errors, checked.own
    error_rows_set = checked.item_errors.get_column("row").unique()
    rejected = pl.col("__bad").is_not_null() | pl.col(ROW).is_in(error_rows_set.implode())
    good = frame.filter(~rejected).drop("__bad")

    report.rows_total = frame.height
    report.errors_total = errors.height
    report.errors = [
        RowError(r["row"], r["column"], r["value"], r["reason"], r["suggestion"], r["sheet"])
        for r in errors.head(MAX_REPORTED_ERRORS).iter_rows(named=True)
    ]
    report.warnings_total = items.warnings.height
    report.warnings = [
        RowError(r["row"], r["column"], r["value"], r["reason"], r["suggestion"], "items")
        for r in items.warnings.head(MAX_REPORTED_ERRORS).iter_rows(named=True)
    ]
    report.rejected_cases = sorted(
        ref if agency_of == own else f"{agency_of}/{ref}"
        for agency_of, ref in checked.bad_keys.select(*CASE_KEY).iter_rows()
    )
    report.cases_rejected = checked.bad_keys.height

    good_cases = good.unique(subset=list(CASE_KEY), keep="first", maintain_order=True)
    refs_ok = good_cases.get_column("case_ref").to_list()
    to_update = [r for r in refs_ok if r in checked.existing]
    report.cases_created = len(refs_ok) - len(to_update)
    report.case_refs = list(refs_ok)
    report.cases_updated = len(to_update)
    report.rows_imported = good.height
    report.rows_rejected = frame.height - good.height
    good_parties: pl.DataFrame | None = None
    if checked.parties is not None:
        good_parties = checked.parties.join(good_cases.select(*CASE_KEY), on=list(CASE_KEY), how="semi")
        report.parties_imported = good_parties.height
    return _Plan(good, good_cases, to_update, good_parties)


def _without_unchanged(session: Session, report: ImportReport, checked: _Checked, plan: _Plan) -> _Plan:
    """Leave out of the write the re-imported cases whose content is what is stored (reported as unchanged)."""
    same = unchanged_refs(session, checked.existing, plan.good, plan.good_cases, plan.good_parties, plan.to_update)
    if not same:
        return plan
    report.unchanged_refs = same
    report.cases_unchanged = len(same)
    report.cases_updated -= len(same)
    kept = ~pl.col("case_ref").is_in(pl.Series(same, dtype=pl.String).implode())
    parties = plan.good_parties.filter(kept) if plan.good_parties is not None else None
    return _Plan(plan.good.filter(kept), plan.good_cases.filter(kept), [r for r in plan.to_update if r not in same],
                 parties)  # fmt: skip


_CASE_FIELDS = (
    "seizure_date", "place_locode", "place_name", "place_country", "place_type", "latitude", "longitude", "direction",
    "transport_mode", "conveyance_ref", "detection_method", "concealment", "origin_country", "destination_country",
)  # fmt: skip
_ITEM_FIELDS = (
    "commodity_class", "substance_text", "substance", "substance_control", "taxon_text", "taxon", "cites_appendix",
    "taxon_status", "taxon_rank", "specimen_type", "quantity", "unit", "quantity_text", "mass_kg", "hs_code",
)  # fmt: skip


def _table(model: type[Any]) -> Table:
    """The model's Core table: bulk statements on it run as one executemany per batch (the ORM's bulk path
    splits batches by the NULL pattern of each row, which is slow for 10^5 rows)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _with_extra(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """The format's columns without a database column (`names`, see intake.extra) packed into one `extra`
    column of JSON text (null when all are empty). Nothing changes for a format without such columns."""
    if not names:
        return frame
    packed = [
        json.dumps(found, ensure_ascii=False) if (found := pack(row, names)) else None
        for row in frame.select(*names).to_dicts()
    ]
    return frame.drop(*names).with_columns(pl.Series("extra", packed, dtype=pl.String))


def _json_extra(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for executemany: `extra` as an object (the JSON column serialises it), not as JSON text."""
    if not rows or "extra" not in rows[0]:
        return rows
    for row in rows:
        if row.get("extra") is not None:
            row["extra"] = json.loads(row["extra"])
    return rows


def write_cases(
    session: Session,
    operation: Operation,
    agency: Agency,
    actor: AuditActor,
    good: pl.DataFrame,
    good_cases: pl.DataFrame,
    existing: dict[str, tuple[int, str, int, int]],
    to_update: list[str],
    parties: pl.DataFrame | None,
    *,
    own_values: Sequence[str] = (),
) -> dict[str, int]:
    """Write: new cases, updated cases (their old items, transits, parties replaced), items and transits,
    parties and their identifiers; then tell the listeners (`hooks.cases_written`). On PostgreSQL the bulk
    rows go through COPY. Returns case_ref -> id of the cases written.

    A new case is `submitted` now, unless `good_cases` carries its own values (`own_values`: the API's bulk
    create gives each case its status, submitted_at and description)."""
    now = dt.datetime.now(dt.UTC)
    case_frame = _with_extra(good_cases.select(
        "case_ref", "phase_id", *_CASE_FIELDS,
        pl.col("arrests").fill_null(0),
        pl.col("sharing_level").fill_null(SharingLevel.AMBER.value),
        *CASE_EXTRA, *own_values,
    ), CASE_EXTRA)  # fmt: skip
    common = {"status": CaseStatus.SUBMITTED.value, "submitted_at": now, "updated_at": now}
    updating = pl.col("case_ref").is_in(pl.Series(to_update, dtype=pl.String).implode())
    new_frame = case_frame.filter(~updating).with_columns(
        *(pl.lit(v).alias(k) for k, v in common.items() if k not in own_values),
        pl.lit(operation.id, dtype=pl.Int64).alias("operation_id"),
        pl.lit(agency.id, dtype=pl.Int64).alias("reporting_agency_id"),
        pl.lit(1, dtype=pl.Int64).alias("version"),
        pl.lit(now).alias("reported_at"),
        pl.lit(now).alias("created_at"),
        pl.lit(actor.user_id, dtype=pl.Int64).alias("created_by_id"),
    )
    ids, id_frame = _write_cases_items_and_transits(session, good, good_cases, case_frame, new_frame, updating,
                                                    common, existing, to_update)  # fmt: skip
    if parties is not None and parties.height:
        _write_parties(session, parties, id_frame)
    session.flush()
    # Watchlists: owners who may see a written case hear of a match, in this same transaction.
    written = good_cases.join(id_frame, on="case_ref", how="inner").select("case_id", "conveyance_ref")
    written_parties = None
    if parties is not None and parties.height:
        written_parties = parties.join(id_frame, on="case_ref", how="inner").select(
            "case_id", "kind", "name", "phone", "email", "id_number"
        )
    hooks.cases_written(session, hooks.CasesWritten(written.get_column("case_id").to_list(), written, written_parties))
    return ids


def _updated_ids(
    case_frame: pl.DataFrame, updating: pl.Expr, existing: dict[str, tuple[int, str, int, int]]
) -> dict[str, int]:
    """case_ref -> id of the re-uploaded cases: an updated case keeps its id."""
    return {ref: existing[ref][0] for ref in case_frame.filter(updating).get_column("case_ref").to_list()}


def _id_frame(ids: Mapping[str, int]) -> pl.DataFrame:
    return pl.DataFrame({"case_ref": list(ids), "case_id": list(ids.values())},
                        schema={"case_ref": pl.String, "case_id": pl.Int64})  # fmt: skip


def _write_cases_items_and_transits(
    session: Session, good: pl.DataFrame, good_cases: pl.DataFrame, case_frame: pl.DataFrame,
    new_frame: pl.DataFrame, updating: pl.Expr, common: dict[str, Any],
    existing: dict[str, tuple[int, str, int, int]], to_update: list[str],
) -> tuple[dict[str, int], pl.DataFrame]:  # fmt: skip
    """The new cases' ids taken first (`take_ids`: PostgreSQL's sequence in one statement; on SQLite the ids it
    would give them, under the write lock), so that every case's id is known before anything is written; then a
    worker builds the item and transit frames (Polars releases the GIL) while the new cases go out (COPY on
    PostgreSQL, executemany on SQLite: `insert_frame`) and the database stores them and the updated cases; then the
    items and transits. The rows and their order are those of writing one table after the other. (On SQLite the
    cases went out one INSERT ... RETURNING per case before: 10,000 statements for a file of 10,000 cases.)"""
    new_ids = take_ids(session, "cases", new_frame.height)
    ids = dict(zip(new_frame.get_column("case_ref").to_list(), new_ids.to_list(), strict=True))
    if to_update:
        ids.update(_updated_ids(case_frame, updating, existing))
    id_frame = _id_frame(ids)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-frames") as pool:
        frames = pool.submit(_item_and_transit_frames, good, good_cases, id_frame)
        insert_frame(session, _table(Case), new_frame.with_columns(new_ids))
        if to_update:
            _update_cases(session, case_frame, updating, common, existing, to_update)
        items, transits = frames.result()
    insert_frame(session, _table(Item), items)
    insert_frame(session, _table(CaseTransit), transits)
    return ids, id_frame


def _update_cases(
    session: Session, case_frame: pl.DataFrame, updating: pl.Expr, common: dict[str, Any],
    existing: dict[str, tuple[int, str, int, int]], to_update: list[str],
) -> None:  # fmt: skip
    """Update the re-uploaded cases if their version is unchanged (else Conflict), and remove their items,
    transits, parties and identifiers (written anew). Their ids stay theirs (`_updated_ids`)."""
    table = _table(Case)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
        .values(
            {
                f: bindparam(f)
                for f in (
                    *_CASE_FIELDS,
                    "phase_id",
                    "arrests",
                    "sharing_level",
                    "status",
                    "submitted_at",
                    "updated_at",
                    "version",
                    *(("extra",) if CASE_EXTRA else ()),
                )
            }
            | {"validated_at": None, "validated_by_id": None}
        )
    )
    upd_rows = []
    for r in _json_extra(case_frame.filter(updating).to_dicts()):
        cid, _status, version, _op = existing[r["case_ref"]]
        row = {k: v for k, v in r.items() if k != "case_ref"}
        upd_rows.append({**row, **common, "_id": cid, "_version": version, "version": version + 1})
    changed = 0
    for batch in _chunks(upd_rows):
        changed += session.connection().execute(stmt, list(batch)).rowcount
    if changed != len(upd_rows):
        from dragonnet.errors import Conflict

        raise Conflict("a case changed while it was being imported; import the file again")
    old_ids = [existing[r][0] for r in to_update]
    for chunk in _chunks(old_ids):
        for model in (CaseIdentifier, Party, Item, CaseTransit):
            session.execute(delete(model).where(model.case_id.in_(chunk)).execution_options(synchronize_session=False))


def _item_and_transit_frames(
    good: pl.DataFrame, good_cases: pl.DataFrame, id_frame: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of `items` (position: file order within the case) and of `case_transits`, with their case ids."""
    items = (
        good.join(id_frame, on="case_ref", how="inner", maintain_order="left")
        .with_columns(pl.col(ROW).rank("ordinal").over("case_id").cast(pl.Int64).alias("position"))
        .select("case_id", "position", *_ITEM_FIELDS, pl.col("description").alias("goods_description"), *ITEM_EXTRA)
    )
    transits = (
        good_cases.join(id_frame, on="case_ref", how="inner")
        .select("case_id", pl.col("transit_countries").alias("country"))
        .filter(pl.col("country").is_not_null())
        .explode("country")
        .filter(pl.col("country").is_not_null())
        .with_columns(pl.int_range(1, pl.len() + 1).over("case_id").cast(pl.Int64).alias("position"))
        .select("case_id", "country", "position")
    )
    return _with_extra(items, ITEM_EXTRA), transits


_PHONE, _EMAIL = IdentifierKind.PHONE.value, IdentifierKind.EMAIL.value


def _write_parties(session: Session, parties: pl.DataFrame, id_frame: pl.DataFrame) -> None:
    """The parties, and the phones and e-mails as identifiers of their case. The parties' ids are taken first
    (`take_ids`), so the parties go out like the items (COPY on PostgreSQL, executemany on SQLite) and each
    identifier names its party without reading ids back (on SQLite an INSERT ... RETURNING was one statement per
    party)."""
    prow = parties.join(id_frame, on="case_ref", how="inner", maintain_order="left")
    pids = take_ids(session, "parties", prow.height)
    party_frame = _with_extra(
        prow.select(
            "case_id", "role", "kind", "name", "nationality", "birth_date", "id_number", "phone", "email", "address",
            *PARTY_EXTRA,
        ),
        PARTY_EXTRA,
    )  # fmt: skip
    insert_frame(session, _table(Party), party_frame.with_columns(pids))
    identifiers: list[dict[str, Any]] = []
    contacts = prow.select("case_id", "phone", "phone_e164", "email", "email_normalised").with_columns(pids)
    for case_id, phone, phone_e164, email, email_normalised, pid in contacts.iter_rows():
        own = {"case_id": case_id, "party_id": pid}
        if phone:
            normalised = phone_e164 or _normalised_phone(phone)
            identifiers.append({**own, "kind": _PHONE, "value": phone[:200], "normalised": normalised})
        if email:
            normalised = (email_normalised or email.lower())[:200]
            identifiers.append({**own, "kind": _EMAIL, "value": email[:200], "normalised": normalised})
    for batch in _chunks(identifiers):
        session.execute(insert(_table(CaseIdentifier)), list(batch))


__all__ = ["ERROR_SCHEMA", "ImportRejected", "ImportReport", "RowError", "import_cases", "write_cases"]
