"""Cases as typed (web form, REST API, one or a batch): the same validation and normalisation as the spreadsheet import.

A `CaseInput` holds what the officer typed (strings, as in the exchange format); a `TypedBatch` holds many cases as
typed, column by column, built from CaseInputs or straight from the API's parsed JSON (no object per case).
`validate_cases` turns a batch into exchange-format rows (one per item, all cases in one frame), runs
`normalise_items` / `normalise_parties` once over the whole batch, maps the row errors back to each case's form
fields (`seizure_date`, `items[1].quantity`, `parties[0].email`); `validate_case` is a batch of one.
`create_case` / `update_case` write one case; `intake.bulk` writes a batch.

Rules:
- Only members of the reporting agency (reporter or national coordinator) create and edit its cases; a case
  the actor may not see answers 404, a visible case of another agency 403.
- `case_ref` is unique per agency. The phase comes from the seizure date.
- Optimistic locking: an update names the version it was made from; if the case has moved on since, the
  update is refused with `Conflict` and nothing is written (also when two saves race: the database's
  version check makes exactly one win).
- Saving keeps a draft a draft (unless `submit`); a change to a validated or withdrawn case puts it back to
  `submitted` (it must be validated again). A merged case is not edited: edit the case it was merged into.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dragonnet import hooks
from dragonnet.domain.exchange import FORMAT, join_list, names_of
from dragonnet.domain.vocabulary import CaseStatus, IdentifierKind, Role, SharingLevel
from dragonnet.errors import Conflict, DragonnetError, ValidationError
from dragonnet.i18n import N_, with_values
from dragonnet.intake.curation.store import load_mappings, record_values
from dragonnet.intake.extra import CASE_EXTRA, ITEM_EXTRA, PARTY_EXTRA, pack
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS
from dragonnet.intake.normalise import (
    CASE_COLUMNS,
    ERROR_SCHEMA,
    REVIEW_SCHEMA,
    TEXT_MAX,
    ErrorSink,
    normalise_items,
    normalise_parties,
)
from dragonnet.intake.queries import read_parties
from dragonnet.intake.reader import ROW
from dragonnet.intake.readings import NO_MAPPINGS, ValueMappings
from dragonnet.intake.workflow import record_status
from dragonnet.operation.service import phase_for_date
from dragonnet.policy.access import Actor, PermissionDenied, audit_actor, get_case
from dragonnet.policy.audit import record
from dragonnet.storage.models import Agency, Case, CaseIdentifier, CaseTransit, Item, Operation, Participation, Party
from dragonnet.tabular import drop_columns

# The form's fields, from the exchange format (an item row's own columns; a case's columns; a party's).
ITEM_FIELDS = names_of(FORMAT.at_level("items", "item"))
PARTY_FIELDS = names_of(FORMAT.at_level("parties", "party"))
CASE_FIELDS = ("case_ref", *CASE_COLUMNS, "description")
MAX_ITEMS = 200
MAX_PARTIES = 100
EDITING_ROLES = (Role.REPORTER, Role.NATIONAL_COORDINATOR)


# A form error with a value: English in the API, translated on pages (dragonnet.i18n.with_values).
REF_USED = with_values(N_("case_ref %(ref)s is already used by your agency"))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _build(klass: Any, values: Mapping[str, str | None]) -> Any:
    """`klass(**values)`; exchange-format columns the class does not declare go to its `extra`."""
    declared = {f.name for f in fields(klass)}
    obj = klass(**{k: v for k, v in values.items() if k in declared and k != "extra"})
    obj.extra.update({k: v for k, v in values.items() if k not in declared})
    return obj


def value_of(obj: Any, column: str) -> str | None:
    """A typed value by its exchange-format column: a declared field, else `extra`."""
    return getattr(obj, column) if hasattr(obj, column) and column != "extra" else obj.extra.get(column)


def typed_text(value: object) -> str | None:
    """A typed value as the exchange format's text: stripped (blank -> None), a whole number without its `.0`,
    a list joined by the format's list separator."""
    if isinstance(value, (list, tuple)):
        return join_list(str(v).strip() for v in value) or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(value)


def _blank(obj: Any) -> bool:
    values = [v for k, v in asdict(obj).items() if k != "extra"] + list(obj.extra.values())
    return not any(_text(v) for v in values)


@dataclass
class ItemInput:
    commodity_class: str | None = None
    substance: str | None = None
    taxon: str | None = None
    specimen_type: str | None = None
    quantity: str | None = None
    unit: str | None = None
    hs_code: str | None = None
    description: str | None = None
    extra: dict[str, str | None] = field(default_factory=dict)  # format columns without a field here

    def is_blank(self) -> bool:
        return _blank(self)


@dataclass
class PartyInput:
    role: str | None = None
    kind: str | None = None
    name: str | None = None
    nationality: str | None = None
    birth_date: str | None = None
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    extra: dict[str, str | None] = field(default_factory=dict)  # format columns without a field here

    def is_blank(self) -> bool:
        return _blank(self)


@dataclass
class CaseInput:
    """A case as typed: every value a string (or None), transit countries separated by the exchange format's list
    separator (`;`) or given as a list."""

    case_ref: str | None = None
    seizure_date: str | None = None
    place_locode: str | None = None
    place_name: str | None = None
    place_country: str | None = None
    place_type: str | None = None
    direction: str | None = None
    transport_mode: str | None = None
    conveyance_ref: str | None = None
    detection_method: str | None = None
    concealment: str | None = None
    origin_country: str | None = None
    transit_countries: str | None = None
    destination_country: str | None = None
    arrests: str | None = None
    sharing_level: str | None = None
    description: str | None = None
    items: list[ItemInput] = field(default_factory=list)
    parties: list[PartyInput] = field(default_factory=list)
    extra: dict[str, str | None] = field(default_factory=dict)  # format columns without a field here

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CaseInput:
        """From a dict (API body or parsed form); numbers and lists become the exchange format's text."""

        text = typed_text
        case: CaseInput = _build(cls, {f: text(data.get(f)) for f in CASE_FIELDS})
        case.items = [_build(ItemInput, {f: text(i.get(f)) for f in ITEM_FIELDS}) for i in data.get("items") or []]
        case.parties = [
            _build(PartyInput, {f: text(p.get(f)) for f in PARTY_FIELDS}) for p in data.get("parties") or []
        ]
        return case

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> CaseInput:
        """From a posted form: case fields by name, items as `item-N-field`, parties as `party-N-field`;
        blank rows are dropped."""
        case: CaseInput = _build(cls, {f: _text(form.get(f)) for f in CASE_FIELDS})
        case.items = [i for i in _rows(form, "item", ITEM_FIELDS, ItemInput) if not i.is_blank()]
        case.parties = [p for p in _rows(form, "party", PARTY_FIELDS, PartyInput) if not p.is_blank()]
        return case


def _rows(form: Mapping[str, str], prefix: str, fields: Iterable[str], klass: Any) -> list[Any]:
    pattern = re.compile(rf"^{prefix}-(\d{{1,3}})-(\w+)$")
    found: dict[int, dict[str, str | None]] = {}
    allowed = set(fields)
    for name, value in form.items():
        m = pattern.match(name)
        if m and m.group(2) in allowed:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = _text(value)
    return [_build(klass, found[i]) for i in sorted(found)]


@dataclass(frozen=True)
class FieldError:
    field: str
    value: str | None
    reason: str
    suggestion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CaseInvalid(ValidationError):
    """The case breaks the exchange format's rules; `errors` says where (one entry per field)."""

    def __init__(self, errors: list[FieldError]) -> None:
        shown = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"the case cannot be saved: {shown}{more}")
        self.errors = errors

    def by_field(self) -> dict[str, FieldError]:
        out: dict[str, FieldError] = {}
        for e in self.errors:
            out.setdefault(e.field, e)
        return out


@dataclass
class Checked:
    """A validated case: the case-level values, item rows and party rows ready to write."""

    case: dict[str, Any]
    items: list[dict[str, Any]]
    parties: list[dict[str, Any]]
    transit: list[str]
    # Values accepted with a warning (read by a guess, kept as written, quantity unknown), by form field, and the
    # values the operation's review queue receives (normalise.REVIEW_SCHEMA).
    warnings: list[FieldError] = field(default_factory=list)
    review: pl.DataFrame | None = None


# --- validation: one vectorised pass over a batch -----------------------------------------------------------
#
# One case or ten thousand go through the same code: every case's items become rows of ONE exchange-format
# frame (its parties rows of one party frame), `normalise_items` / `normalise_parties` run once over the whole
# batch (the spreadsheet import's vectorised rules, reference lookups once per distinct value), the phase is
# read once per distinct seizure date as the import reads it, and the row errors go back to the case and form
# field they came from. The form, the API's single create and update, and the API's bulk create all use it.

_CASE_LEVEL = {*CASE_COLUMNS, "case_ref", "reporting_agency"}
_NOT_CASE_ATTRIBUTES = {"transit_countries", *CASE_EXTRA}  # written as transits, and into Case.extra
CASE = "__case"  # a batch row's case: its index in the batch
POSITION = "__position"  # an item's or party's position in its case (0-based)


def _field_name(column: str, position: int) -> str:
    """The form field of a row error: a case-level column by name, an item's as items[i].column."""
    return column if column in _CASE_LEVEL and column != "description" else f"items[{position}].{column}"


def _precheck(items: int, parties: int, description: str | None) -> list[FieldError]:
    """What is refused before any row is read: no items, too many items or parties, an over-long description."""
    errors: list[FieldError] = []
    if not items:
        errors.append(FieldError("items", None, "a case needs at least one item"))
    if items > MAX_ITEMS:
        errors.append(FieldError("items", None, f"at most {MAX_ITEMS} items per case"))
    if parties > MAX_PARTIES:
        errors.append(FieldError("parties", None, f"at most {MAX_PARTIES} parties per case"))
    if description and len(description) > TEXT_MAX:
        errors.append(FieldError("description", None, f"text longer than {TEXT_MAX} characters"))
    return errors


def _rounds(refs: Sequence[tuple[int, str | None]]) -> list[list[int]]:
    """The cases (index, case_ref) split so that no case_ref appears twice in one pass (the normalisation groups a
    case's rows by its ref); nearly always a single pass. A repeated ref goes to a later pass, in order."""
    rounds: list[list[int]] = []
    seen: dict[str | None, int] = {}
    for index, ref in refs:
        n = seen.get(ref, 0) if ref is not None else 0
        if ref is not None:
            seen[ref] = n + 1
        while len(rounds) <= n:
            rounds.append([])
        rounds[n].append(index)
    return rounds


def _typed(obj: Any) -> dict[str, Any]:
    """An input's values by exchange-format column: its declared fields over its `extra` (as `value_of`)."""
    return {**obj.extra, **{k: v for k, v in vars(obj).items() if k not in ("extra", "items", "parties")}}


_ITEM_OWN = frozenset(ITEM_FIELDS)
# The batch's item rows: an item's own columns, then its case's columns (case_ref and reporting_agency apart).
_ITEM_ROW_OWN = tuple(c for c in ITEM_COLUMNS if c in _ITEM_OWN)
_ITEM_ROW_CASE = tuple(c for c in ITEM_COLUMNS if c not in _ITEM_OWN and c not in ("case_ref", "reporting_agency"))
_PARTY_ROW_OWN = tuple(c for c in PARTY_COLUMNS if c in PARTY_FIELDS)


@dataclass
class TypedBatch:
    """A batch of cases as typed, column by column: one row per case (its case-level columns), one per item (an
    item's own columns) and one per party, each item and party row tagged with its case (`CASE`, the index in
    the batch) and its position in the case. Built from `CaseInput`s (the form, one case), or straight from
    parsed JSON (`from_mappings`: the API's bulk body, no object per case). `item_frame` / `party_frame` give
    the exchange-format rows the import's normalisation reads."""

    cases: dict[str, list[Any]]  # case_ref, description, _ITEM_ROW_CASE
    items: dict[str, list[Any]]  # _ITEM_ROW_OWN, CASE, POSITION
    parties: dict[str, list[Any]]  # _PARTY_ROW_OWN, CASE, POSITION
    submits: list[bool]

    def __len__(self) -> int:
        return len(self.cases["case_ref"])

    @property
    def case_refs(self) -> list[str | None]:
        return self.cases["case_ref"]

    @property
    def descriptions(self) -> list[str | None]:
        return self.cases["description"]

    @property
    def seizure_dates(self) -> list[str | None]:
        return self.cases["seizure_date"]

    def counts(self) -> tuple[list[int], list[int]]:
        """Items and parties per case."""
        items, parties = [0] * len(self), [0] * len(self)
        for index in self.items[CASE]:
            items[index] += 1
        for index in self.parties[CASE]:
            parties[index] += 1
        return items, parties

    @classmethod
    def _empty(cls) -> TypedBatch:
        return cls(
            {c: [] for c in ("case_ref", "description", *_ITEM_ROW_CASE)},
            {c: [] for c in (*_ITEM_ROW_OWN, CASE, POSITION)},
            {c: [] for c in (*_PARTY_ROW_OWN, CASE, POSITION)},
            [],
        )

    @classmethod
    def from_inputs(cls, cases: Sequence[CaseInput], submits: Sequence[bool] | None = None) -> TypedBatch:
        batch = cls._empty()
        case_columns, item_columns, party_columns = batch.cases, batch.items, batch.parties
        for index, data in enumerate(cases):
            typed = _typed(data)
            for c in _ITEM_ROW_CASE:
                case_columns[c].append(typed.get(c))
            case_columns["case_ref"].append(data.case_ref)
            case_columns["description"].append(data.description)
            for n, item in enumerate(data.items):
                own = _typed(item)
                for c in _ITEM_ROW_OWN:
                    item_columns[c].append(own.get(c))
                item_columns[CASE].append(index)
                item_columns[POSITION].append(n)
            for n, party in enumerate(data.parties):
                for c in _PARTY_ROW_OWN:
                    party_columns[c].append(value_of(party, c))
                party_columns[CASE].append(index)
                party_columns[POSITION].append(n)
        batch.submits = list(submits) if submits is not None else [False] * len(cases)
        return batch

    @classmethod
    def from_mappings(cls, cases: Sequence[Mapping[str, Any]], submits: Sequence[bool]) -> TypedBatch:
        """From parsed JSON (schema-checked): the same values as `CaseInput.from_mapping` gives, without it."""
        batch = cls._empty()
        case_columns, item_columns, party_columns = batch.cases, batch.items, batch.parties
        case_keys = tuple(case_columns.items())
        item_keys = tuple((c, item_columns[c]) for c in _ITEM_ROW_OWN)
        party_keys = tuple((c, party_columns[c]) for c in _PARTY_ROW_OWN)
        item_case, item_position = item_columns[CASE], item_columns[POSITION]
        party_case, party_position = party_columns[CASE], party_columns[POSITION]
        text = _json_text
        for index, data in enumerate(cases):
            get = data.get
            for c, column in case_keys:
                column.append(text(get(c)))
            for n, item in enumerate(get("items") or ()):
                for c, column in item_keys:
                    column.append(text(item.get(c)))
                item_case.append(index)
                item_position.append(n)
            for n, party in enumerate(get("parties") or ()):
                for c, column in party_keys:
                    column.append(text(party.get(c)))
                party_case.append(index)
                party_position.append(n)
        batch.submits = list(submits)
        return batch

    def item_frame(self, cases: list[int], agency_code: str) -> pl.DataFrame:
        """The item rows of `cases` as an exchange-format frame (case-level values on each row), numbered
        (`ROW`) from 1."""
        return _rows_frame(self.items, self.cases, ITEM_COLUMNS, None if len(cases) == len(self) else cases,
                           agency_code)  # fmt: skip

    def party_frame(self, cases: list[int], agency_code: str) -> pl.DataFrame:
        refs = {"case_ref": ["-" if ref is None else ref for ref in self.case_refs]}
        return _rows_frame(self.parties, refs, PARTY_COLUMNS, None if len(cases) == len(self) else cases,
                           agency_code)  # fmt: skip


def _json_text(value: object) -> str | None:
    """`typed_text`, with its common cases first (a string, nothing)."""
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    return typed_text(value)


def _rows_frame(
    rows: dict[str, list[Any]], cases: dict[str, list[Any]], names: tuple[str, ...], chosen: list[int] | None,
    agency: str,
) -> pl.DataFrame:  # fmt: skip
    """The `rows` (item or party columns, tagged CASE and POSITION) of the `chosen` cases (all if None) with the
    exchange format's columns: their own, their case's from `cases` (one value per case, repeated on its rows),
    `reporting_agency` set, the others empty; then ROW, CASE, POSITION. Built as one frame from the batch's
    lists, without a join or a query: a fifth of their cost for a request's one case, under half for 1,000."""
    wanted = None if chosen is None else set(chosen)
    picked = None if wanted is None else [n for n, case in enumerate(rows[CASE]) if case in wanted]

    def on_picked(values: list[Any]) -> list[Any]:
        return values if picked is None else [values[n] for n in picked]

    case_of = on_picked(rows[CASE])
    height = len(case_of)
    data: dict[str, Any] = {}
    for column in names:
        if column == "reporting_agency":
            data[column] = [agency] * height
        elif column in rows:
            data[column] = on_picked(rows[column])
        elif column in cases:
            values = cases[column]
            data[column] = [values[case] for case in case_of]
        else:
            data[column] = [None] * height
    data |= {ROW: range(1, height + 1), CASE: case_of, POSITION: on_picked(rows[POSITION])}
    return pl.DataFrame(data, schema={**dict.fromkeys(names, pl.String), ROW: pl.Int64, CASE: pl.Int64,
                                      POSITION: pl.Int64})  # fmt: skip


def _with_case_positions(frame: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """`frame` (normalised rows, by ROW) with the CASE and POSITION of its row in `rows`: placed beside it when
    the rows are the same in the same order (what the normalisation keeps; no query), else joined on ROW."""
    if frame.height == rows.height and frame.get_column(ROW).equals(rows.get_column(ROW)):
        return frame.hstack([rows.get_column(CASE), rows.get_column(POSITION)])
    return frame.join(rows.select(ROW, CASE, POSITION), on=ROW, how="left", maintain_order="left")


def with_phases(frame: pl.DataFrame, operation: Operation) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`phase_id` of each row from its seizure date; the rows whose date is outside every phase of the operation
    come back as errors (ERROR_SCHEMA, column seizure_date). The import's rule."""
    # The first phase whose period holds the date, as `phase_for_date` reads it, as one expression over the
    # operation's few phases (a batch of 1,000 cases has a few hundred distinct dates); the message of a date
    # outside every phase comes from `phase_for_date` itself, once per such date.
    day = pl.col("seizure_date")
    phase_id: pl.Expr = pl.lit(None, pl.Int64)
    phases = list(operation.phases)
    if phases:
        chain: Any = pl
        for phase in phases:
            chain = chain.when(day.is_between(phase.start_date, phase.end_date)).then(pl.lit(phase.id, pl.Int64))
        phase_id = chain.otherwise(pl.lit(None, pl.Int64))
    frame = frame.with_columns(phase_id.alias("phase_id"))
    if not frame.get_column("phase_id").null_count():  # every row in a phase (no query): no date outside one
        return frame, pl.DataFrame(schema=ERROR_SCHEMA)
    phase_errors: dict[dt.date, str] = {}
    for outside in frame.filter(day.is_not_null() & pl.col("phase_id").is_null()).get_column("seizure_date").unique():
        try:
            phase_for_date(operation, outside)
        except DragonnetError as exc:
            phase_errors[outside] = exc.message
    sink = ErrorSink()
    sink.add(frame, pl.col("seizure_date").is_not_null() & pl.col("phase_id").is_null(), "seizure_date",
             pl.col("seizure_date").replace_strict(phase_errors, default=None, return_dtype=pl.String))  # fmt: skip
    return frame, sink.frame()


# An item row as the writer takes it (`Item`'s attributes) from the checked frame's columns.
_ITEM_FIELDS = (
    *((c, c) for c in ("commodity_class", "substance_text", "substance", "substance_control", "taxon_text", "taxon",
                       "cites_appendix", "taxon_status", "taxon_rank", "specimen_type", "quantity", "unit",
                       "quantity_text", "mass_kg", "hs_code")),
    ("goods_description", "description"),
)  # fmt: skip
# A party row's columns that are not `Party`'s attributes (its extra fields go in `extra`).
_PARTY_NOT_STORED = frozenset({ROW, CASE, POSITION, "case_ref", "reporting_agency", *PARTY_EXTRA})


@dataclass
class CheckedBatch:
    """A batch after its one pass: the normalised item rows (with `phase_id`) and party rows of its valid cases,
    each row tagged with its case (`CASE`, the index in the batch) and position; the problems of the invalid
    ones; the warnings per case; and the values to review of the whole batch (normalise.REVIEW_SCHEMA), as a
    file import queues them."""

    size: int
    items: pl.DataFrame
    parties: pl.DataFrame
    invalid: dict[int, CaseInvalid]
    warnings: dict[int, list[FieldError]]
    review: pl.DataFrame
    descriptions: list[str | None]

    @property
    def valid(self) -> list[int]:
        return [i for i in range(self.size) if i not in self.invalid]

    def checked(self, index: int) -> Checked:
        """One valid case as the writer of a single case takes it; CaseInvalid if it is not valid."""
        if index in self.invalid:
            raise self.invalid[index]
        rows = self._rows_of(self.items, index)
        first = rows[0]
        case = {c: first[c] for c in (*CASE_COLUMNS, "latitude", "longitude") if c not in _NOT_CASE_ATTRIBUTES}
        case["extra"] = pack(first, CASE_EXTRA)
        case["case_ref"] = first["case_ref"]
        case["arrests"] = case["arrests"] or 0
        case["sharing_level"] = case["sharing_level"] or SharingLevel.AMBER.value
        case["phase_id"] = first["phase_id"]
        case["description"] = self.descriptions[index]
        item_rows = [{**{name: row[column] for name, column in _ITEM_FIELDS}, "extra": pack(row, ITEM_EXTRA)}
                     for row in rows]  # fmt: skip
        parties = [
            {**{k: v for k, v in p.items() if k not in _PARTY_NOT_STORED}, "extra": pack(p, PARTY_EXTRA)}
            for p in self._rows_of(self.parties, index)
        ]
        transit = list(first["transit_countries"] or [])
        return Checked(case, item_rows, parties, transit, self.warnings.get(index, []), self.review)

    def _rows_of(self, frame: pl.DataFrame, index: int) -> list[dict[str, Any]]:
        """The rows of case `index` in `frame`, in position order, as dicts. A batch of one case (a report) has
        only its own rows, already in order (no query)."""
        if frame.is_empty():
            return []
        if not (self.size == 1 and frame.get_column(POSITION).is_sorted()):
            frame = frame.filter(pl.col(CASE) == index).sort(POSITION)
        return frame.to_dicts()


class _Problems:
    """Field errors and warnings per case, each (field, reason) once per case, in the order found."""

    def __init__(self) -> None:
        self.errors: dict[int, list[FieldError]] = {}
        self.warnings: dict[int, list[FieldError]] = {}
        self._seen: set[tuple[int, str, str]] = set()
        self._warned: set[tuple[int, str, str | None, str]] = set()

    def add(self, case: int, error: FieldError) -> None:
        if (case, error.field, error.reason) not in self._seen:
            self._seen.add((case, error.field, error.reason))
            self.errors.setdefault(case, []).append(error)

    def warn(self, case: int, column: str, warning: FieldError) -> None:
        if (case, column, warning.value, warning.reason) not in self._warned:
            self._warned.add((case, column, warning.value, warning.reason))
            self.warnings.setdefault(case, []).append(warning)


def _located(errors: pl.DataFrame, rows: pl.DataFrame) -> list[dict[str, Any]]:
    """Row errors with the case and position of their row (none asked of a clean batch: no query)."""
    if errors.is_empty():
        return []
    return errors.join(rows.select(pl.col(ROW).alias("row"), CASE, POSITION), on="row", how="left",
                       maintain_order="left").to_dicts()  # fmt: skip


def validate_cases(
    cases: Sequence[CaseInput] | TypedBatch, *, agency_code: str, operation: Operation, today: dt.date | None = None,
    mappings: ValueMappings = NO_MAPPINGS,
) -> CheckedBatch:  # fmt: skip
    """Validate and normalise a batch of cases exactly as the import does, in one pass over all their rows (the
    operation's value mappings first). Each case is valid or not on its own; CheckedBatch says which and why."""
    batch = cases if isinstance(cases, TypedBatch) else TypedBatch.from_inputs(cases)
    today = today or dt.date.today()
    problems = _Problems()
    for index, counted in enumerate(zip(*batch.counts(), batch.descriptions, strict=True)):
        for error in _precheck(*counted):
            problems.add(index, error)
    readable = [(i, ref) for i, ref in enumerate(batch.case_refs) if i not in problems.errors]
    item_frames: list[pl.DataFrame] = []
    party_frames: list[pl.DataFrame] = []
    reviews: list[pl.DataFrame] = []
    for chosen in _rounds(readable):
        items, parties, review = _one_pass(batch, chosen, agency_code, operation, today, mappings, problems)
        item_frames.append(items)
        party_frames.append(parties)
        reviews.append(review)
    invalid = {i: CaseInvalid(errors) for i, errors in problems.errors.items()}
    items, parties = _concat(item_frames), _concat(party_frames)
    if invalid:  # a clean batch keeps every row: no query
        bad = pl.Series(list(invalid), dtype=pl.Int64).implode()
        items, parties = items.filter(~pl.col(CASE).is_in(bad)), parties.filter(~pl.col(CASE).is_in(bad))
    review = pl.concat(reviews, how="vertical") if reviews else pl.DataFrame(schema=REVIEW_SCHEMA)
    return CheckedBatch(len(batch), items, parties, invalid, problems.warnings, review, batch.descriptions)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.width]
    if not frames:
        return pl.DataFrame(schema={CASE: pl.Int64, POSITION: pl.Int64})
    return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]


def _one_pass(
    batch: TypedBatch, chosen: list[int], agency_code: str, operation: Operation, today: dt.date,
    mappings: ValueMappings, problems: _Problems,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """Normalise the items and parties of the `chosen` cases (distinct refs) at once; record their problems by
    field."""
    rows = batch.item_frame(chosen, agency_code)
    items = normalise_items(drop_columns(rows, (CASE, POSITION)), today=today, mappings=mappings)
    frame, phase_errors = with_phases(items.frame, operation)
    frame = _with_case_positions(frame, rows)
    for e in _located(items.errors, rows):
        problems.add(e[CASE], FieldError(_field_name(e["column"], e[POSITION]), e["value"], e["reason"],
                                         e["suggestion"]))  # fmt: skip
    for e in _located(items.warnings, rows):
        problems.warn(e[CASE], e["column"], FieldError(_field_name(e["column"], e[POSITION]), e["value"],
                                                       e["reason"], e["suggestion"]))  # fmt: skip
    for e in _located(phase_errors, rows):
        if e[POSITION] == 0:
            problems.add(e[CASE], FieldError("seizure_date", batch.seizure_dates[e[CASE]], e["reason"]))
    review = items.review
    parties = pl.DataFrame()
    if not batch.parties[CASE]:  # no party in the whole batch: no party frame to build
        return frame, parties, review
    party_rows = batch.party_frame(chosen, agency_code)
    if party_rows.height:
        normalised = normalise_parties(drop_columns(party_rows, (CASE, POSITION)), today=today, mappings=mappings)
        review = pl.concat([review, normalised.review], how="vertical")
        for e in _located(normalised.errors, party_rows):
            if e["column"] in ("case_ref", "reporting_agency"):
                continue
            problems.add(e[CASE], FieldError(f"parties[{e[POSITION]}].{e['column']}", e["value"], e["reason"],
                                             e["suggestion"]))  # fmt: skip
        parties = _with_case_positions(normalised.frame, party_rows)
    return frame, parties, review


def validate_case(
    data: CaseInput, *, agency_code: str, operation: Operation, today: dt.date | None = None,
    mappings: ValueMappings = NO_MAPPINGS,
) -> Checked:  # fmt: skip
    """Validate and normalise one case exactly as the import does (a batch of one); CaseInvalid lists the
    problems by field."""
    return validate_cases([data], agency_code=agency_code, operation=operation, today=today,
                          mappings=mappings).checked(0)  # fmt: skip


# --- writing ------------------------------------------------------------------------------------------------


def check_member(session: Session, actor: Actor, operation: Operation) -> Agency:
    """The actor's agency if the actor reports for it in `operation` (read in the same statement: the new case's
    agency, so that showing it reads nothing more)."""
    if not any(actor.has(r) for r in EDITING_ROLES) or actor.agency_id is None:
        raise PermissionDenied(
            actor, "operation", operation.slug, "only reporters and national coordinators report cases"
        )
    taking_part = session.execute(
        select(Agency)
        .join(Participation, Participation.agency_id == Agency.id)
        .where(Participation.operation_id == operation.id, Participation.agency_id == actor.agency_id)
    ).scalar_one_or_none()
    if taking_part is None:
        raise PermissionDenied(
            actor, "operation", operation.slug, f"{actor.agency_code} does not take part in operation {operation.slug}"
        )
    return taking_part


def _apply(session: Session, case: Case, checked: Checked) -> None:
    if case.id is not None:  # replace: delete the old rows first (unique positions)
        case.items.clear()
        case.transits.clear()
        session.flush()
    for k, v in checked.case.items():
        setattr(case, k, v)
    case.items = [Item(position=n, **row) for n, row in enumerate(checked.items, start=1)]
    case.transits = [CaseTransit(position=n, country=c) for n, c in enumerate(checked.transit, start=1)]
    case.updated_at = dt.datetime.now(dt.UTC)


def _write_parties(session: Session, case_id: int, parties: list[dict[str, Any]], *, new_case: bool = False) -> None:
    """The case's parties and their identifiers, replacing those it had (a case just inserted has none: no
    DELETE statements then, two round trips less per report)."""
    if not new_case:
        session.execute(delete(CaseIdentifier).where(CaseIdentifier.case_id == case_id))
        session.execute(delete(Party).where(Party.case_id == case_id))
    for row in parties:
        extra = {k: row.pop(k) for k in ("phone_e164", "email_normalised")}
        party = Party(case_id=case_id, **row)
        session.add(party)
        session.flush()
        if row.get("phone"):
            normalised = extra["phone_e164"] or re.sub(r"[^\d+]", "", row["phone"]) or row["phone"]
            session.add(CaseIdentifier(case_id=case_id, party_id=party.id, kind=IdentifierKind.PHONE.value,
                                       value=row["phone"][:200], normalised=normalised[:200]))  # fmt: skip
        if row.get("email"):
            normalised = extra["email_normalised"] or row["email"].lower()
            session.add(CaseIdentifier(case_id=case_id, party_id=party.id, kind=IdentifierKind.EMAIL.value,
                                       value=row["email"][:200], normalised=normalised[:200]))  # fmt: skip


def _queue_values(session: Session, operation_id: int, agency_id: int, checked: Checked) -> None:
    """The saved case's values read by a guess or not read at all go to the operation's review queue."""
    if checked.review is not None:
        record_values(session, operation_id, agency_id, checked.review)


def create_case(
    session: Session,
    actor: Actor,
    operation: Operation,
    data: CaseInput,
    *,
    submit: bool = False,
    today: dt.date | None = None,
) -> Case:
    """Create a case of the actor's agency (a draft, or submitted with `submit`)."""
    agency = check_member(session, actor, operation)
    assert actor.agency_code is not None and actor.agency_id is not None
    mappings = load_mappings(session, operation.id, actor.agency_code)
    checked = validate_case(data, agency_code=actor.agency_code.upper(), operation=operation, today=today,
                            mappings=mappings)  # fmt: skip
    ref = checked.case["case_ref"]
    if session.execute(
        select(Case.id).where(Case.reporting_agency_id == actor.agency_id, Case.case_ref == ref)
    ).first():
        raise CaseInvalid([FieldError("case_ref", ref, REF_USED % {"ref": ref})])
    now = dt.datetime.now(dt.UTC)
    status = CaseStatus.SUBMITTED.value if submit else CaseStatus.DRAFT.value
    case = Case(
        operation_id=operation.id, reporting_agency=agency, status=status, created_by_id=actor.user_id,
        reported_at=now, created_at=now, submitted_at=now if submit else None,
    )  # fmt: skip
    _apply(session, case, checked)
    # No savepoint (two round trips): nothing is written before this point, and neither door goes on with the
    # transaction after a failure below; the request's rollback undoes all of it.
    session.add(case)
    session.flush()
    _write_parties(session, case.id, checked.parties, new_case=True)
    record_status(session, actor, case, None, status, "created")
    _queue_values(session, operation.id, actor.agency_id, checked)
    record(session, audit_actor(actor), "case.create", "case", case.id, case_ref=case.case_ref, status=status,
           items=len(checked.items), parties=len(checked.parties), warnings=len(checked.warnings))  # fmt: skip
    session.flush()
    hooks.cases_written(session, hooks.CasesWritten(case_ids=[case.id]))
    return case


def editable_case(session: Session, actor: Actor, case_id: int) -> Case:
    """The case if the actor may edit it: 404 if invisible, 403 if another agency's, 422 if merged."""
    case = get_case(session, actor, case_id)
    if case.reporting_agency_id != actor.agency_id or not any(actor.has(r) for r in EDITING_ROLES):
        raise PermissionDenied(actor, "case", case_id, "only the reporting agency's officers edit this case")
    if case.status == CaseStatus.MERGED.value:
        raise ValidationError("this case was merged into another case; edit that case instead")
    return case


def read_for_edit(
    session: Session, actor: Actor, case_id: int, *, purpose: str = "edit form"
) -> tuple[Case, CaseInput]:
    """The case and its content as the edit form shows it, parties included: an editor sees names, phones and
    passports, so the read is audited (`case.read_nominal`) like the case page's."""
    case = editable_case(session, actor, case_id)
    parties = read_parties(session, actor, case, purpose=purpose) or []
    return case, case_to_input(session, case, with_parties=True, parties=parties)


def update_case(
    session: Session,
    actor: Actor,
    case_id: int,
    data: CaseInput,
    *,
    version: int | None,
    submit: bool = False,
    today: dt.date | None = None,
) -> Case:
    """Replace the case's content (items, route, parties) if `version` is still the current one."""
    case = editable_case(session, actor, case_id)
    if version is None:
        raise ValidationError("say which version you edited (the `version` field or an If-Match header)")
    if case.version != version:
        raise Conflict(
            f"case {case.case_ref} was changed by someone else (now version {case.version}, you edited version "
            f"{version}); nothing was saved: reload it and make your change again"
        )
    assert actor.agency_code is not None
    mappings = load_mappings(session, case.operation_id, actor.agency_code)
    checked = validate_case(data, agency_code=actor.agency_code.upper(), operation=case.operation, today=today,
                            mappings=mappings)  # fmt: skip
    if (
        checked.case["case_ref"] != case.case_ref
        and session.execute(
            select(Case.id).where(
                Case.reporting_agency_id == case.reporting_agency_id,
                Case.case_ref == checked.case["case_ref"],
                Case.id != case.id,
            )
        ).first()
    ):
        ref = checked.case["case_ref"]
        raise CaseInvalid([FieldError("case_ref", ref, REF_USED % {"ref": ref})])
    old_status = case.status
    new_status = old_status
    if (submit and old_status == CaseStatus.DRAFT.value) or old_status in (
        CaseStatus.VALIDATED.value,
        CaseStatus.WITHDRAWN.value,
    ):
        new_status = CaseStatus.SUBMITTED.value
    try:
        with session.begin_nested():
            _apply(session, case, checked)
            if new_status != old_status:
                case.status = new_status
                if new_status == CaseStatus.SUBMITTED.value:
                    case.submitted_at = dt.datetime.now(dt.UTC)
                case.validated_at = None
                case.validated_by_id = None
            session.flush()  # UPDATE ... WHERE version = :loaded: a concurrent save makes this fail
            _write_parties(session, case.id, checked.parties)
            if new_status != old_status:
                record_status(session, actor, case, old_status, new_status, "edited")
            _queue_values(session, case.operation_id, case.reporting_agency_id, checked)
            record(session, audit_actor(actor), "case.update", "case", case.id, case_ref=case.case_ref,
                   version=case.version, status=new_status, warnings=len(checked.warnings))  # fmt: skip
            hooks.cases_written(session, hooks.CasesWritten(case_ids=[case.id]))
    except StaleDataError:
        raise Conflict(
            f"case {case_id} was changed by someone else while you saved; nothing was saved: reload it and "
            "make your change again"
        ) from None
    return case


def _texts(extra: dict[str, Any] | None) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in (extra or {}).items()}


def case_to_input(
    session: Session, case: Case, *, with_parties: bool, parties: Sequence[Party] | None = None
) -> CaseInput:
    """The case as the officer typed it (original texts kept beside the normalised values); `parties` as read
    (and audited) by the caller, else read here."""
    data = CaseInput(
        case_ref=case.case_ref, seizure_date=case.seizure_date.isoformat(), place_locode=case.place_locode,
        place_name=case.place_name, place_country=case.place_country, place_type=case.place_type,
        direction=case.direction, transport_mode=case.transport_mode, conveyance_ref=case.conveyance_ref,
        detection_method=case.detection_method, concealment=case.concealment, origin_country=case.origin_country,
        transit_countries=join_list(case.transit_countries) or None, destination_country=case.destination_country,
        arrests=str(case.arrests), sharing_level=case.sharing_level, description=case.description,
        extra=_texts(case.extra),
    )  # fmt: skip
    data.items = [
        ItemInput(
            commodity_class=i.commodity_class,
            substance=i.substance_text or i.substance,
            taxon=i.taxon_text or i.taxon,
            specimen_type=i.specimen_type,
            quantity=i.quantity_text or (f"{i.quantity:g}" if i.quantity is not None else None),
            unit=i.unit,
            hs_code=i.hs_code,
            description=i.goods_description,
            extra=_texts(i.extra),
        )
        for i in case.items
    ]
    if with_parties and parties is None:
        parties = list(session.execute(select(Party).where(Party.case_id == case.id).order_by(Party.id)).scalars())
    if with_parties and parties:
        data.parties = [
            PartyInput(
                role=p.role,
                kind=p.kind,
                name=p.name,
                nationality=p.nationality,
                birth_date=p.birth_date.isoformat() if p.birth_date else None,
                id_number=p.id_number,
                phone=p.phone,
                email=p.email,
                address=p.address,
                extra=_texts(p.extra),
            )
            for p in parties
        ]
    return data


__all__ = [
    "CaseInput", "CaseInvalid", "FieldError", "ItemInput", "PartyInput", "TypedBatch", "case_to_input", "create_case",
    "editable_case", "read_for_edit", "update_case", "validate_case",
]  # fmt: skip
