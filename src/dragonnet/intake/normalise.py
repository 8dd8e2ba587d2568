"""Vectorised validation and normalisation of the exchange format's rows.

Every check is a Polars expression over whole columns. Reference lookups (countries, places, substances,
taxa, units, odd numbers) run once per DISTINCT value and are joined back: a million rows hold only a few
thousand distinct spellings. Errors come out as a frame (row, column, value, reason, suggestion).

The officer's text is kept beside the normalised value (substance_text, taxon_text, quantity_text).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import polars as pl
from rapidfuzz import fuzz, process

from dragonnet.domain.exchange import FORMAT, SheetKind, join_list, list_hint, names_of, split_list
from dragonnet.domain.identifiers import ISO6346_VALUES, conveyance_problem
from dragonnet.domain.quantity import KG_PER_UNIT, MAX_PLAUSIBLE, Unit, parse_number, parse_unit
from dragonnet.errors import ValidationError
from dragonnet.i18n import N_, Message, translatable, with_values
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS, key
from dragonnet.intake.reader import ROW
from dragonnet.intake.readings import (
    NO_MAPPINGS,
    Reading,
    ValueMappings,
    read_country,
    read_hs_code,
    read_place,
    read_substance,
    read_taxon,
)
from dragonnet.tabular import RowError, drop_columns, printable_ascii, settled_or_rule

TEXT_MAX = FORMAT.text_max
SHOWN_VALUE_MAX = 200  # an error echoes at most this much of the offending cell
# Limits of the database columns the text lands in (VARCHAR lengths are enforced by PostgreSQL).
COLUMN_MAX: dict[str, int] = FORMAT.max_lengths()
CONTROL_CHARS = r"[\x00-\x08\x0B-\x1F\x7F]"  # tab and newline are allowed; CRLF is folded to LF first

ERROR_SCHEMA: dict[str, Any] = {
    "row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String, "suggestion": pl.String,
}  # fmt: skip

CASE_COLUMNS: tuple[str, ...] = names_of(FORMAT.at_level("items", "case"))
CASE_KEY = ("reporting_agency", "case_ref")
_CASE_REQUIRED: tuple[str, ...] = tuple(c.name for c in FORMAT.at_level("items", "case") if c.required)

# Reasons with values: plain English strings in the error frames, translated where a page shows them.
NOT_ACCEPTED = with_values(N_("not an accepted value; use one of %(values)s"))
FUTURE_DATE = with_values(N_("date in the future (today is %(today)s)"))
TOO_LONG = with_values(N_("text longer than %(limit)s characters"))
UNKNOWN_UNIT = with_values(N_("unknown unit; use one of %(values)s"))
NOT_A_DATE = with_values(N_("not a date: %(value)s"))
NOT_A_NUMBER = with_values(N_("not a number: %(value)s"))
NOT_A_DATE_DMY = N_("not a date; write YYYY-MM-DD or DD/MM/YYYY")
NOT_A_DATE_ISO = N_("not a date; write YYYY-MM-DD")
REQUIRED_ON_A_ROW = N_("required (on at least one row of the case)")

_ISO_SHAPE = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$"
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
_DMY_SHAPE = r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$"
# A day, an English month name or abbreviation and a year ("18-Jan-09", "3 March 2011"): spreadsheets show dates so
# by default. Unambiguous whatever the locale; a two-digit year is 1970-2069 (a future date is refused).
_DAY_MONTH_NAME = r"^\d{1,2}[- ./][A-Za-z]{3,9}\.?[- ./]\d{2}(\d{2})?$"
_PLAIN_NUMBER = r"^[0-9]{1,15}([.,][0-9]{1,15})?$"  # ASCII only: other digits take the slow path


# --- vocabularies ----------------------------------------------------------------------------------------

# Vocabulary column -> (comparison key -> value): values, labels and synonyms from the exchange-format file.
ENUMS: dict[str, dict[str, str]] = FORMAT.value_vocabularies()


# --- errors ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """One check of an ErrorSink, kept until the sink's frame is asked for: its rows are `frame` where `mask`."""

    frame: pl.DataFrame
    mask: pl.Expr
    column: str
    reason: pl.Expr | str
    value: pl.Expr | None
    suggestion: pl.Expr | str | None

    def rows(self) -> pl.DataFrame:
        """The error rows (ERROR_SCHEMA) of the frame's rows where the mask holds."""
        reason = pl.lit(self.reason) if isinstance(self.reason, str) else self.reason
        if self.suggestion is None:
            suggestion = pl.lit(None, dtype=pl.String)
        else:
            suggestion = pl.lit(self.suggestion) if isinstance(self.suggestion, str) else self.suggestion
        value = pl.col(self.column) if self.value is None else self.value
        return self.frame.filter(self.mask).select(
            pl.col(ROW).cast(pl.Int64).alias("row"),
            pl.lit(self.column).alias("column"),
            value.cast(pl.String).str.slice(0, SHOWN_VALUE_MAX).alias("value"),
            reason.cast(pl.String).alias("reason"),
            suggestion.cast(pl.String).alias("suggestion"),
        )


class ErrorSink:
    """Collects error frames; each check adds the rows matching a mask.

    Checks are evaluated when the frame is asked for, every check of one frame in one query that says which
    masks match anywhere; only those are filtered. A clean frame costs one query per stage, not two per check:
    that fixed cost is what a one-case request paid (~50 checks on a one-row frame)."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame | _Check] = []  # in the order added: error frames, or checks to evaluate

    def add(
        self,
        frame: pl.DataFrame,
        mask: pl.Expr,
        column: str,
        reason: pl.Expr | str,
        *,
        value: pl.Expr | None = None,
        suggestion: pl.Expr | str | None = None,
        requires: str | None = None,
        requires_null: str | None = None,
    ) -> None:
        """The rows of `frame` where `mask` holds are errors of `column`. `requires` names a column the mask holds
        only where it has a value, `requires_null` one it holds only where it is blank: a check that cannot hold
        (read from the columns' null counts, no query) is not kept."""
        if not frame.height:
            return
        if (requires and _all_null(frame, requires)) or (requires_null and _no_nulls(frame, requires_null)):
            return
        self.frames.append(_Check(frame, mask, column, reason, value, suggestion))

    def frame(self) -> pl.DataFrame:
        matched = self._matching_checks()
        found = [
            entry if isinstance(entry, pl.DataFrame) else entry.rows()
            for entry in self.frames
            if isinstance(entry, pl.DataFrame) or id(entry) in matched
        ]
        if not found:
            return pl.DataFrame(schema=ERROR_SCHEMA)
        return pl.concat(found, how="vertical").sort("row", maintain_order=True)

    def _matching_checks(self) -> set[int]:
        """The ids of the checks whose mask holds on some row: one query per checked frame."""
        by_frame: dict[int, list[_Check]] = {}
        for entry in self.frames:
            if isinstance(entry, _Check):
                by_frame.setdefault(id(entry.frame), []).append(entry)
        matched: set[int] = set()
        for checks in by_frame.values():
            flags = checks[0].frame.select(check.mask.any().alias(str(i)) for i, check in enumerate(checks)).row(0)
            matched.update(id(check) for check, hit in zip(checks, flags, strict=True) if hit)
        return matched


def error_rows(errors: pl.DataFrame, sheet: str = "items", limit: int | None = None) -> list[RowError]:
    rows = errors.head(limit) if limit is not None else errors
    return [
        RowError(r["row"], r["column"], r["value"], r["reason"], r["suggestion"], sheet)
        for r in rows.iter_rows(named=True)
    ]


# --- lookups once per distinct value --------------------------------------------------------------------------


def _all_null(frame: pl.DataFrame, column: str) -> bool:
    """The column holds no value at all (read from the column's metadata, no query): a lookup of it would join
    an empty table, so its result columns are written as nulls directly. A request's one case leaves most
    columns blank; each lookup skipped saves it a handful of queries."""
    series = frame.get_column(column)
    return series.null_count() == frame.height and not isinstance(series.dtype, pl.Struct)


def _no_nulls(frame: pl.DataFrame, column: str) -> bool:
    """Every cell of the column holds a value (its null count, no query)."""
    return frame.get_column(column).null_count() == 0


def _one_row(frame: pl.DataFrame) -> bool:
    """A frame of one row (a request's one-item case): a lookup's table of its one value is that row's result,
    placed beside it without a join."""
    return frame.height == 1


# Rows from which a frame is a file's rather than a request's: its per-row work outweighs a query's fixed cost, so
# a step worth a query of its own on 10^6 rows (distinct dates, null columns placed beside) is taken from here.
LARGE_FRAME_ROWS = 10_000
SHARED_HEIGHT_MAX = 64  # constant columns of a request's few rows are built once and shared, not a file's


def _constant_columns(schema: tuple[tuple[str, Any], ...], value: bool | None, height: int) -> pl.DataFrame:
    """`height` rows of `value` (null, or a flag) in `schema`'s columns (frames are immutable: a small one is
    shared)."""
    if height <= SHARED_HEIGHT_MAX:
        return _shared_constant_columns(schema, value, height)
    return _new_constant_columns(schema, value, height)


def _new_constant_columns(schema: tuple[tuple[str, Any], ...], value: bool | None, height: int) -> pl.DataFrame:
    # One query for all the columns (a Series' extend_constant is a query per column: 5x the cost at ten columns).
    return pl.select(*(pl.repeat(value, height, dtype=kind).alias(name) for name, kind in schema))


_shared_constant_columns = functools.lru_cache(maxsize=512)(_new_constant_columns)


def _with_nulls(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    """`frame` with the columns of `schema` added as nulls, as a left join on an empty table adds them (placed
    beside the frame: no query)."""
    return frame.hstack(_constant_columns(tuple(schema.items()), None, frame.height))


def _distinct(frame: pl.DataFrame, column: str, *, nulls: bool = False) -> list[Any]:
    """The distinct values of `column` (null among them only with `nulls`), in no particular order; a one-row
    frame's one value read without a query."""
    values = frame.get_column(column)
    if frame.height == 0 or _one_row(frame):
        return [v for v in values.to_list() if nulls or v is not None]
    return (values if nulls else values.drop_nulls()).unique().to_list()


def _joined(frame: pl.DataFrame, table: pl.DataFrame, column: str, *, nulls_equal: bool = False) -> pl.DataFrame:
    """`frame` left-joined on `column` with `table` (one row per distinct value of the column, the frame's order
    kept). A one-row frame's table holds its value only (a null one only where `nulls_equal`), so the join is the
    table's other columns placed beside the row."""
    if _one_row(frame) and table.height == 1 and (nulls_equal or frame.get_column(column).null_count() == 0):
        return frame.hstack(drop_columns(table, [column]))
    # A column of the table without a value (a reading's notes, where nothing was guessed or refused: most of
    # them) is placed beside the frame as nulls, not gathered row by row: a file's transit countries gathered
    # eight such columns onto 10^6 rows, five times the time of the join without them.
    large = frame.height >= LARGE_FRAME_ROWS
    empty = [c for c in table.columns if large and c != column and table.get_column(c).null_count() == table.height]
    joined = frame.join(drop_columns(table, empty) if empty else table, on=column, how="left", maintain_order="left",
                        nulls_equal=nulls_equal)  # fmt: skip
    if not empty:
        return joined
    nulls = _constant_columns(tuple((c, table.schema[c]) for c in empty), None, frame.height)
    return joined.hstack(nulls)[[*frame.columns, *(c for c in table.columns if c != column)]]


def _beside(frame: pl.DataFrame, values: tuple[Any, ...], schema: dict[str, Any]) -> pl.DataFrame:
    """A one-row frame with `values` (columns of `schema`) placed beside its row: what the left join of the row
    on a table of its one value gives (the table built by rows: a third of the cost of one by columns)."""
    return frame.hstack(pl.DataFrame([values], schema=schema, orient="row"))


def _lookup(
    frame: pl.DataFrame, column: str, fn: Callable[[str], dict[str, Any]], schema: dict[str, Any]
) -> pl.DataFrame:
    """Join fn(value) for each distinct non-null value of `column` back onto `frame` (columns of `schema`)."""
    if _all_null(frame, column):
        return _with_nulls(frame, schema)
    distinct = _distinct(frame, column)
    rows = [fn(v) for v in distinct]
    if _one_row(frame):  # its one value: the result beside the row
        return _beside(frame, tuple(rows[0].get(k) for k in schema), schema)
    table = pl.DataFrame(
        {column: distinct, **{k: [r.get(k) for r in rows] for k in schema}},
        schema={column: frame.get_column(column).dtype, **schema},
    )
    return _joined(frame, table, column)


# The review queue's rows: values read by a guess or not read at all, with how many rows wrote them.
REVIEW_SCHEMA: dict[str, Any] = {
    "kind": pl.String, "column": pl.String, "text": pl.String, "context": pl.String, "status": pl.String,
    "read_as": pl.String, "reason": pl.String, "rows": pl.Int64,
}  # fmt: skip
# What a reader says about a value, as columns `<prefix>__<suffix>` beside its stored values.
_NOTES: dict[str, str] = {
    "e": "error", "s": "suggestion", "w": "warning", "st": "stored_as", "rv": "review", "ra": "read_as", "rr": "reason",
}  # fmt: skip


class Reads:
    """The reference readings of one normalisation: the operation's mappings, a cache per distinct value (a
    country is read once for every country column), and the values to review."""

    def __init__(self, mappings: ValueMappings = NO_MAPPINGS) -> None:
        self.mappings = mappings
        self._cache: dict[tuple[str, Any], Reading] = {}
        self._review: list[pl.DataFrame] = []

    def read(
        self,
        frame: pl.DataFrame,
        column: str,
        kind: str,
        fn: Callable[[Any], Reading],
        schema: dict[str, Any],
        *,
        out: dict[str, str] | None = None,
        prefix: str | None = None,
    ) -> pl.DataFrame:
        """Join fn(value) for each distinct value of `column` (nulls included for struct keys) back onto the
        frame: the reading's values (renamed by `out`) and its notes as `<prefix>__e`, `__w`, `__rv`..."""
        prefix = prefix or column
        out = out or {}
        types = {out.get(name, name): kind_of for name, kind_of in schema.items()}
        types.update({f"{prefix}__{suffix}": pl.String for suffix in _NOTES})
        if _all_null(frame, column):
            return _with_nulls(frame, types)
        kind_of_key = frame.get_column(column).dtype
        distinct = _distinct(frame, column, nulls=isinstance(kind_of_key, pl.Struct))
        readings: list[Reading] = []
        for value in distinct:
            cache_key = (kind, value if not isinstance(value, dict) else tuple(value.items()))
            found = self._cache.get(cache_key)
            if found is None:
                found = self._cache[cache_key] = fn(value)
            readings.append(found)
        if _one_row(frame):  # its one value (a struct key's nulls included): the reading beside the row
            r = readings[0]
            return _beside(frame, (*(r.values.get(name) for name in schema), *(getattr(r, a) for a in _NOTES.values())),
                           types)  # fmt: skip
        columns: dict[str, Any] = {column: distinct}
        for name in schema:
            columns[out.get(name, name)] = [r.values.get(name) for r in readings]
        for suffix, attr in _NOTES.items():
            columns[f"{prefix}__{suffix}"] = [getattr(r, attr) for r in readings]
        table = pl.DataFrame(columns, schema={column: kind_of_key, **types})
        return _joined(frame, table, column, nulls_equal=True)

    def review(self, frame: pl.DataFrame, kind: str, column: str, text: pl.Expr, *, when: pl.Expr,
               context: pl.Expr | None = None, prefix: str | None = None) -> None:  # fmt: skip
        """Queue the values of the rows matching `when` that were read by a guess or not read at all."""
        p = prefix or column
        if _all_null(frame, f"{p}__rv"):  # nothing was read by a guess or left unread: no row can match
            return
        hit = frame.filter(when & pl.col(f"{p}__rv").is_not_null())
        if hit.height == 0:
            return
        self._review.append(
            hit.select(
                pl.lit(kind).alias("kind"), pl.lit(column).alias("column"), text.cast(pl.String).alias("text"),
                (context if context is not None else pl.lit("")).fill_null("").cast(pl.String).alias("context"),
                pl.col(f"{p}__rv").alias("status"), pl.col(f"{p}__ra").alias("read_as"),
                pl.col(f"{p}__rr").alias("reason"),
            ).group_by("kind", "column", "text", "context", "status", "read_as", "reason", maintain_order=True)
            .agg(pl.len().cast(pl.Int64).alias("rows"))
        )  # fmt: skip

    def warn(self, notes: ErrorSink, frame: pl.DataFrame, column: str, *, when: pl.Expr,
             prefix: str | None = None, value: pl.Expr | None = None) -> None:  # fmt: skip
        """The readings' warnings as notes: the value, why, and what is stored."""
        p = prefix or column
        notes.add(frame, when & pl.col(f"{p}__w").is_not_null(), column, pl.col(f"{p}__w"), value=value,
                  suggestion=pl.col(f"{p}__st"), requires=f"{p}__w")  # fmt: skip

    @staticmethod
    def drop_notes(frame: pl.DataFrame, *prefixes: str, also: Sequence[str] = ()) -> pl.DataFrame:
        """The frame without the notes of `prefixes` (and the columns `also`), in one selection."""
        return drop_columns(frame, [*(f"{p}__{suffix}" for p in prefixes for suffix in _NOTES), *also], strict=False)

    def frame(self) -> pl.DataFrame:
        if not self._review:
            return pl.DataFrame(schema=REVIEW_SCHEMA)
        return (
            pl.concat(self._review, how="vertical")
            .group_by("kind", "column", "text", "context", "status", "read_as", "reason", maintain_order=True)
            .agg(pl.col("rows").sum())
        )


def _suggest_enum(value: str, vocab: dict[str, str]) -> str | None:
    found = process.extractOne(key(value), list(vocab), scorer=fuzz.ratio, score_cutoff=70)
    return vocab[found[0]] if found else None


def _enum(frame: pl.DataFrame, column: str, sink: ErrorSink, target: str | None = None) -> pl.DataFrame:
    vocab = ENUMS[column]
    accepted = sorted(set(vocab.values()))
    out = target or f"{column}__n"
    if _all_null(frame, column):  # nothing to read, and the check below cannot hold
        return _with_nulls(frame, {out: pl.String})

    def fn(text: str) -> dict[str, Any]:
        value = vocab.get(key(text))
        return {out: value, f"{out}__s": None if value else _suggest_enum(text, vocab)}

    frame = _lookup(frame, column, fn, {out: pl.String, f"{out}__s": pl.String})
    sink.add(
        frame,
        pl.col(column).is_not_null() & pl.col(out).is_null(),
        column,
        pl.lit(NOT_ACCEPTED % {"values": ", ".join(accepted)}),
        suggestion=pl.col(f"{out}__s"),
        requires_null=out,
    )
    return drop_columns(frame, [f"{out}__s"])


def _countries(frame: pl.DataFrame, columns: Sequence[str], sink: ErrorSink, reads: Reads) -> pl.DataFrame:
    """Each country column read once per distinct value (codes, names; the operation's mappings first)."""
    for column in columns:
        frame = reads.read(frame, column, "country", lambda text: read_country(text, reads.mappings),
                           {"a2": pl.String}, out={"a2": f"{column}__n"})  # fmt: skip
        sink.add(frame, pl.col(f"{column}__e").is_not_null(), column, pl.col(f"{column}__e"),
                 suggestion=pl.col(f"{column}__s"), requires=f"{column}__e")  # fmt: skip
        reads.review(frame, "country", column, pl.col(column), when=pl.lit(True))
        frame = reads.drop_notes(frame, column)
    return frame


# --- scalar-compatible parsers (the vectorised rules, usable one value at a time) ------------------------


@functools.lru_cache(maxsize=64)
def date_column(column: str, *, day_first: bool) -> pl.Expr:
    """The date a text column holds, by the import's rules (null where it holds none). Built once per column (an
    expression is immutable: shared by every call)."""
    s = pl.col(column)
    iso_text = (
        pl.when(s.str.contains(_ISO_SHAPE))
        .then(s.str.replace_all(r"[/.]", "-"))
        .when(s.str.contains(_ISO_DATETIME))
        .then(s.str.slice(0, 10))
    )
    iso = iso_text.str.to_date("%Y-%m-%d", strict=False)
    named = pl.when(s.str.contains(_DAY_MONTH_NAME)).then(s.str.replace_all(r"\.?[- ./]+", "-"))
    long_year = named.str.contains(r"-\d{4}$")
    month_name = pl.coalesce(
        *(pl.when(long_year).then(named.str.to_date(f, strict=False)) for f in ("%d-%b-%Y", "%d-%B-%Y")),
        *(pl.when(~long_year).then(named.str.to_date(f, strict=False)) for f in ("%d-%b-%y", "%d-%B-%y")),
    )
    iso = pl.coalesce(iso, month_name)
    if not day_first:
        return iso
    dmy = (
        pl.when(s.str.contains(_DMY_SHAPE)).then(s.str.replace_all(r"[-.]", "/")).str.to_date("%d/%m/%Y", strict=False)
    )
    return pl.coalesce(iso, dmy)


def check_dates(
    frame: pl.DataFrame, column: str, sink: ErrorSink, *, day_first: bool, today: dt.date, out: str
) -> pl.DataFrame:
    frame = frame.with_columns(_dates_read(frame, column, day_first=day_first).alias(out))
    bad, reason = _date_errors(column, out, day_first=day_first)
    sink.add(frame, bad, column, reason, requires=column, requires_null=out)
    dates = frame.get_column(out)
    lowest, highest = dates.min(), dates.max()  # the column's bounds (no query) say which range check can hold
    future = isinstance(highest, dt.date) and highest > today
    ancient = isinstance(lowest, dt.date) and lowest < dt.date(1900, 1, 1)
    if future:
        sink.add(frame, pl.col(out) > pl.lit(today), column, pl.lit(FUTURE_DATE % {"today": today.isoformat()}))
    if ancient:
        sink.add(frame, pl.col(out) < pl.lit(dt.date(1900, 1, 1)), column,
                 pl.lit(N_("implausible date (before 1900)")))  # fmt: skip
    if not future and not ancient:
        return frame  # every date in range, or none: nothing to clear
    return frame.with_columns(pl.when((pl.col(out) > pl.lit(today)) | (pl.col(out) < pl.lit(dt.date(1900, 1, 1))))
                              .then(None).otherwise(pl.col(out)).alias(out))  # fmt: skip


def _dates_read(frame: pl.DataFrame, column: str, *, day_first: bool) -> pl.Expr | pl.Series:
    """`date_column` of the frame: on a large frame read once per distinct text and mapped back (a file's
    items repeat their case's date, and an operation spans a few hundred days: 10^6 rows held 215 distinct
    dates, read in a fifth of the time of every row)."""
    if frame.height < LARGE_FRAME_ROWS:  # reading each row costs less than finding the distinct texts
        return date_column(column, day_first=day_first)
    values = frame.get_column(column)
    distinct = values.drop_nulls().unique()
    read = distinct.to_frame().select(date_column(column, day_first=day_first)).to_series()
    return values.replace_strict(distinct, read, default=None, return_dtype=pl.Date)


@functools.lru_cache(maxsize=64)
def _date_errors(column: str, out: str, *, day_first: bool) -> tuple[pl.Expr, pl.Expr]:
    """Where a written date did not read, and why (built once per column)."""
    s = pl.col(column)
    bad = s.is_not_null() & pl.col(out).is_null()
    shaped = s.str.contains(_ISO_SHAPE) | s.str.contains(_ISO_DATETIME) | s.str.contains(_DAY_MONTH_NAME)
    dmy = s.str.contains(_DMY_SHAPE)
    if day_first:
        shaped = shaped | dmy
    reason = (
        pl.when(shaped)
        .then(pl.lit(N_("impossible date")))
        .when(dmy)
        .then(pl.lit(N_("not an ISO date (YYYY-MM-DD); DD/MM/YYYY is read only when the import is day-first")))
        .otherwise(pl.lit(NOT_A_DATE_DMY if day_first else NOT_A_DATE_ISO))
    )
    return bad, reason


def parse_date(text: str, *, day_first: bool = False, today: dt.date | None = None) -> dt.date:
    """One date by exactly the import's rules; ValidationError with the import's reason otherwise."""
    frame = pl.DataFrame({"d": [text.strip() or None], ROW: [1]}, schema={"d": pl.String, ROW: pl.Int64})
    sink = ErrorSink()
    frame = check_dates(frame, "d", sink, day_first=day_first, today=today or dt.date.today(), out="d__n")
    errors = sink.frame()
    if errors.height:
        # a Message: the CLI and API read English, a page the reason translated (dragonnet.i18n.translate)
        reason = Message(errors["reason"][0], {})
        raise ValidationError(translatable("%(reason)s: %(value)s", reason=reason, value=repr(text)))
    value = frame["d__n"][0]
    if value is None:
        raise ValidationError(NOT_A_DATE % {"value": repr(text)})
    assert isinstance(value, dt.date)
    return value


def _plain_number(column: str) -> pl.Expr:
    """The number a plain cell (`12`, `1.5`, `1,5`) holds; null for any other cell."""
    s = pl.col(column)
    number = s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    return pl.when(s.str.contains(_PLAIN_NUMBER)).then(number)


def _odd_numbers(frame: pl.DataFrame, column: str) -> list[str]:
    """The distinct written cells of `column` that are not plain numbers."""
    return _distinct(frame.filter(pl.col(column).is_not_null() & ~pl.col(column).str.contains(_PLAIN_NUMBER)), column)


def number_column(frame: pl.DataFrame, column: str, out: str) -> pl.DataFrame:
    """Numbers by dragonnet.domain.quantity.parse_number rules: plain numbers (`12`, `1.5`, `1,5`) parse as a
    column; the odd ones (thousands separators, signs) go through parse_number once per distinct value."""
    return _with_odd_numbers(
        frame.with_columns(_plain_number(column).alias(out)), column, out, _odd_numbers(frame, column)
    )


def _with_odd_numbers(frame: pl.DataFrame, column: str, out: str, odd: list[str]) -> pl.DataFrame:
    """`out` (the plain numbers) completed with the `odd` cells' numbers, each read by parse_number once."""
    if odd:
        parsed: dict[str, float | None] = {}
        for text in odd:
            try:
                parsed[text] = parse_number(text) if len(text) <= 64 else None
            except ValidationError:
                parsed[text] = None
        table = pl.DataFrame(
            {column: list(parsed), f"{out}__odd": list(parsed.values())},
            schema={column: pl.String, f"{out}__odd": pl.Float64},
        )
        frame = _joined(frame, table, column)
        frame = frame.with_columns(pl.coalesce(pl.col(out), pl.col(f"{out}__odd")).alias(out))
        frame = drop_columns(frame, [f"{out}__odd"])
    return frame


def parse_quantity_value(text: str) -> float:
    """One number by exactly the import's column rules (for tests and single edits)."""
    frame = number_column(pl.DataFrame({"q": [text.strip() or None]}, schema={"q": pl.String}), "q", "n")
    value = frame["n"][0]
    if value is None:
        raise ValidationError(NOT_A_NUMBER % {"value": repr(text)})
    return float(value)


# --- text hygiene -----------------------------------------------------------------------------------------------


def check_text(frame: pl.DataFrame, columns: Sequence[str], sink: ErrorSink) -> pl.DataFrame:
    """Reject control characters (other than tab/newline) and over-long cells; such cells become null."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    written = [c for c in present if not _all_null(frame, c)]  # a blank column has nothing to fold or reject
    limits = {c: min(COLUMN_MAX.get(c, TEXT_MAX), TEXT_MAX) for c in present}

    def too_long(c: str) -> pl.Expr:
        return pl.col(c).str.len_chars() > limits[c]

    def control(c: str) -> pl.Expr:
        return pl.col(c).str.contains(CONTROL_CHARS)

    # One pass over the written columns: which hold a control character at all, and each one's longest cell in
    # bytes (no scan: a string's byte length is stored). A carriage return is a control character and a cell has
    # no more characters than bytes, so only the columns this pass names can hold a CRLF to fold or a bad cell;
    # a clean file's columns are scanned once, not also for carriage returns and their characters counted.
    flags = (
        frame.select(*(pl.col(c).str.contains(CONTROL_CHARS).any().alias(c) for c in written),
                     *(pl.col(c).str.len_bytes().max().alias(f"{c}__bytes") for c in written)).row(0, named=True)
        if written else {}
    )  # fmt: skip
    controlled = [c for c in written if flags[c]]
    suspect = [c for c in written if flags[c] or (flags[f"{c}__bytes"] or 0) > limits[c]]
    bad_any = dict.fromkeys(present, False)
    if controlled:  # CRLF is folded to LF first: a column that held one is asked again once folded
        has_cr = frame.select(pl.col(c).str.contains("\r", literal=True).any() for c in controlled).row(0)
        folded = [c for c, cr in zip(controlled, has_cr, strict=True) if cr]
        if folded:
            frame = frame.with_columns(pl.col(c).str.replace_all("\r\n", "\n", literal=True) for c in folded)
    if suspect:
        bad_any |= dict(zip(suspect, frame.select(_bad_cell_anywhere(c, limits[c]) for c in suspect).row(0),
                            strict=True))  # fmt: skip
    if not any(bad_any.values()):  # a clean frame: every `__bad` flag false, placed beside it
        return frame.hstack(_constant_columns(tuple((f"{c}__bad", pl.Boolean) for c in present), False, frame.height))
    for c in (c for c in present if bad_any[c]):
        sink.add(frame, too_long(c), c, pl.lit(TOO_LONG % {"limit": limits[c]}),
                 value=pl.col(c).str.slice(0, 40) + pl.lit("…"))  # fmt: skip
        sink.add(frame, ~too_long(c) & control(c), c, pl.lit(N_("contains control characters")),
                 value=pl.col(c).str.replace_all(CONTROL_CHARS, "?"))  # fmt: skip
    cleared: list[pl.Expr] = []
    for c in present:
        if bad_any[c]:
            bad = too_long(c) | control(c)
            cleared += [
                pl.when(bad).then(None).otherwise(pl.col(c)).alias(c),
                (pl.col(c).is_not_null() & bad).alias(f"{c}__bad"),
            ]
        else:
            cleared.append(pl.lit(False).alias(f"{c}__bad"))
    return frame.with_columns(cleared)


@functools.lru_cache(maxsize=256)
def _bad_cell_anywhere(column: str, limit: int) -> pl.Expr:
    """`<column>__bad`: some cell of the column is too long or holds a control character (built once)."""
    cell = pl.col(column)
    return ((cell.str.len_chars() > limit) | cell.str.contains(CONTROL_CHARS)).any().alias(f"{column}__bad")


def _required(frame: pl.DataFrame, column: str, sink: ErrorSink, value: str | None = None,
              when: pl.Expr | None = None, reason: str | None = None) -> None:  # fmt: skip
    """`column` (its normalised form `value`) must be present; cells already reported are not reported twice."""
    target = value or column
    mask = pl.col(target).is_null() & ~pl.col(f"{column}__bad")
    if column != target:
        mask = mask & pl.col(column).is_null()
    if when is not None:
        mask = mask & when
    sink.add(frame, mask, column, reason or N_("required"), value=pl.lit(None, dtype=pl.String),
             requires_null=target)  # fmt: skip


# --- items ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    frame: pl.DataFrame  # one row per source row, normalised columns (see normalise_items)
    errors: pl.DataFrame  # ERROR_SCHEMA
    # ERROR_SCHEMA too: values accepted, but read by a guess the officer should check (a misspelt taxon or
    # substance read as the closest reference name). They do not reject the row.
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ERROR_SCHEMA))
    # REVIEW_SCHEMA: the values read by a guess or not read at all (taxa, places, substances, countries, HS
    # codes), per distinct value with the number of rows: what the operation's review queue receives.
    review: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REVIEW_SCHEMA))


def _ensure(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    return frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing]) if missing else frame


def _transit_reading(text: str, mappings: ValueMappings) -> Reading:
    """A transit list ("LA; TH"), split on the exchange format's one list separator (as every form): every part
    a country; the first part that is not one makes the cell an error."""
    codes: list[str] = []
    for part in split_list(text):
        r = read_country(part, mappings)
        if r.values["a2"] is None:
            hint = list_hint(part)
            suggestion = r.suggestion
            if hint:  # "TH, MY": suggest the list written with the separator when its parts are countries
                found = [read_country(p, mappings).values["a2"] for p in re.split(r"[,/|，]", part) if p.strip()]
                if found and all(found):
                    suggestion = join_list(found)
            return Reading({"tr_list": None, "tr_part": part}, error=(r.error or "") + hint, suggestion=suggestion,
                           review=r.review, reason=r.reason)  # fmt: skip
        codes.append(r.values["a2"])
    return Reading({"tr_list": codes, "tr_part": None})


# The columns the stages below read by name. Any other column of the format (one added to the file) is carried
# to the result under its own name: a vocabulary or country column as its normalised value, others as checked
# text (`check_text`: control characters, length). intake.extra stores the ones without a database column.
_HANDLED_ITEM_COLUMNS = frozenset({
    "case_ref", "reporting_agency", "seizure_date", "place_locode", "place_name", "place_country", "place_type",
    "direction", "transport_mode", "conveyance_ref", "detection_method", "concealment", "commodity_class",
    "substance", "taxon", "specimen_type", "quantity", "unit", "origin_country", "transit_countries",
    "destination_country", "arrests", "sharing_level", "description", "hs_code",
})  # fmt: skip
_HANDLED_PARTY_COLUMNS = frozenset({
    "case_ref", "reporting_agency", "role", "kind", "name", "nationality", "birth_date", "id_number", "phone",
    "email", "address",
})  # fmt: skip


def _carried(sheet: SheetKind, handled: frozenset[str]) -> list[pl.Expr]:
    """The result columns of the format's columns that no stage reads by name."""
    out: list[pl.Expr] = []
    for c in FORMAT.columns[sheet]:
        if c.name in handled:
            continue
        normalised = c.vocabulary is not None or c.type == "country"
        out.append(pl.col(f"{c.name}__n").alias(c.name) if normalised else pl.col(c.name))
    return out


_VOCABULARY_COLUMNS: tuple[str, ...] = tuple(c.name for c in FORMAT.columns["items"] if c.vocabulary)
_COUNTRY_COLUMNS: tuple[str, ...] = tuple(c.name for c in FORMAT.columns["items"] if c.type == "country")


def normalise_items(
    frame: pl.DataFrame, *, day_first: bool = False, today: dt.date | None = None,
    mappings: ValueMappings = NO_MAPPINGS,
) -> Normalised:  # fmt: skip
    """Validate and normalise item rows (exchange-format column names, strings) as whole columns.

    Case-level columns may be left blank on a case's later rows: the first non-blank value of the case fills
    them; a different non-blank value is an error on that row. The result has, per row: `_row`, case_ref,
    reporting_agency, the case-level columns normalised (seizure_date as a date, countries alpha-2,
    transit_countries as a list), and commodity_class, substance_text/substance/substance_control,
    taxon_text/taxon/cites_appendix/taxon_status/taxon_rank, specimen_type, quantity/unit/quantity_text/mass_kg
    (quantity and unit null when the quantity is written as unknown), hs_code, description.

    Reference values (countries, places, substances, taxa, HS codes) are read by `intake.readings`, the
    operation's `mappings` first, once per distinct value. Values read by a guess, kept as written or without a
    quantity come back as warnings; the values to review as `review`.

    Stages: text and cell shapes -> vocabularies, countries, dates, numbers -> places -> quantities and units
    -> substances, taxa and HS codes -> required cells -> the result -> case-level consistency.
    """
    today = today or dt.date.today()
    sink, notes, reads = ErrorSink(), ErrorSink(), Reads(mappings)
    frame = _ensure(frame, ITEM_COLUMNS)
    frame = check_text(frame, ITEM_COLUMNS, sink)
    frame = _values(frame, sink, reads, day_first=day_first, today=today)
    frame = _places(frame, sink, notes, reads)
    frame = _quantities(frame, sink, notes)
    frame = _substances_and_taxa(frame, sink, notes, reads)
    frame = _hs_codes(frame, notes, reads)
    _required_cells(frame, sink)
    result = _case_level(_item_result(frame), sink)
    return Normalised(result, sink.frame(), notes.frame(), reads.frame())


def _container_settled(column: str) -> pl.Expr:
    """True where `domain.identifiers.conveyance_problem` would answer None, computed column-wise: printable
    ASCII text (where upper(), NFKC and the separators mean the same in Polars' regex as in Python's) that is
    either not written like a container number (four letters, seven digits) or a valid one (category U, J or Z,
    ISO 6346 check digit). Everything else (a wrong digit or category, other scripts) is not settled here and is
    asked of the rule itself, which writes the message. A file of 10^6 rows holds ~250,000 distinct containers:
    the rule's Python, once per value, was seconds of an import."""
    code = pl.col(column).str.to_uppercase().str.replace_all(r"[ \-./]", "")
    shaped = code.str.contains(r"^[A-Z]{4}[0-9]{7}$")
    weighted = [
        code.str.slice(i, 1).replace_strict(ISO6346_VALUES, default=0, return_dtype=pl.Int64) * (2**i)
        for i in range(10)
    ]
    digit_ok = (pl.sum_horizontal(weighted) % 11 % 10) == code.str.slice(10, 1).cast(pl.Int64, strict=False)
    valid = shaped & code.str.slice(3, 1).is_in(["U", "J", "Z"]) & digit_ok
    return printable_ascii(column) & (~shaped | valid)


def _conveyance_errors(frame: pl.DataFrame) -> pl.DataFrame:
    """`cv_err`: why a conveyance written like a container number is not a valid one (the one container rule of
    `domain.identifiers`), None when acceptable; settled column-wise where it can be (`_container_settled`)."""
    column = "conveyance_ref"
    if _all_null(frame, column):
        return _with_nulls(frame, {"cv_err": pl.String})
    distinct = frame.get_column(column).drop_nulls().unique()  # a file repeats a case's container per item
    errors = settled_or_rule(distinct, _container_settled(column), pl.lit(None, dtype=pl.String), conveyance_problem,
                             pl.String)  # fmt: skip
    problems = pl.DataFrame({column: distinct, "cv_err": errors}, schema={column: distinct.dtype, "cv_err": pl.String})
    return _joined(frame, problems, column)


def _values(frame: pl.DataFrame, sink: ErrorSink, reads: Reads, *, day_first: bool, today: dt.date) -> pl.DataFrame:
    """Dates, vocabularies, countries, transit lists and arrests: each column once, lookups per distinct value."""
    frame = check_dates(frame, "seizure_date", sink, day_first=day_first, today=today, out="seizure_date__n")
    for column in _VOCABULARY_COLUMNS:
        frame = _enum(frame, column, sink)
    frame = _countries(frame, _COUNTRY_COLUMNS, sink, reads)
    frame = reads.read(frame, "transit_countries", "transit", lambda text: _transit_reading(text, reads.mappings),
                       {"tr_list": pl.List(pl.String), "tr_part": pl.String})  # fmt: skip
    sink.add(frame, pl.col("transit_countries__e").is_not_null(), "transit_countries", pl.col("transit_countries__e"),
             suggestion=pl.col("transit_countries__s"), requires="transit_countries__e")  # fmt: skip
    reads.review(frame, "country", "transit_countries", pl.col("tr_part"), when=pl.col("tr_part").is_not_null())
    frame = reads.drop_notes(frame, "transit_countries", also=["tr_part"])
    # A conveyance written like a container number passes the one container rule (domain.identifiers).
    frame = _conveyance_errors(frame)
    sink.add(frame, pl.col("cv_err").is_not_null(), "conveyance_ref", pl.col("cv_err"), requires="cv_err")
    # arrests: a whole number
    if _all_null(frame, "arrests"):
        return _with_nulls(frame, {"arrests__n": pl.Int64})
    arrests_ok = pl.col("arrests").str.contains(r"^\d{1,6}$")
    sink.add(frame, pl.col("arrests").is_not_null() & ~arrests_ok, "arrests", pl.lit(N_("not a whole number")),
             requires="arrests")  # fmt: skip
    return frame.with_columns(pl.when(arrests_ok).then(pl.col("arrests").cast(pl.Int64, strict=False))
                              .alias("arrests__n"))  # fmt: skip


_PLACE_SCHEMA: dict[str, Any] = {"p_locode": pl.String, "p_name": pl.String, "p_type": pl.String,
                                 "p_lat": pl.Float64, "p_lon": pl.Float64}  # fmt: skip


def _places(frame: pl.DataFrame, sink: ErrorSink, notes: ErrorSink, reads: Reads) -> pl.DataFrame:
    """The place of seizure, read per distinct (locode, name, country): a guess is stored with its code and
    coordinates and warned; a name that resolves nowhere is kept as written and warned (never silently)."""
    frame = frame.with_columns(
        pl.struct(
            pl.col("place_locode").alias("l"), pl.col("place_name").alias("n"), pl.col("place_country__n").alias("c")
        ).alias("__place")
    )
    frame = reads.read(frame, "__place", "place",
                       lambda k: read_place(k["l"], k["n"], k["c"], reads.mappings), _PLACE_SCHEMA)  # fmt: skip
    sink.add(frame, pl.col("__place__e").is_not_null(), "place_locode", pl.col("__place__e"), requires="__place__e")
    named = pl.col("place_locode").is_null() & pl.col("place_name").is_not_null()
    reads.warn(notes, frame, "place_name", when=named, prefix="__place")
    reads.review(frame, "place", "place_name", pl.col("place_name"), when=named,
                 context=pl.col("place_country__n"), prefix="__place")  # fmt: skip
    return reads.drop_notes(frame, "__place", also=["__place"])


def _quantities(frame: pl.DataFrame, sink: ErrorSink, notes: ErrorSink) -> pl.DataFrame:
    """Quantity and unit: a positive, plausible number in a known unit; the mass in kg where it converts. A
    quantity written as unknown ("unknown", "không rõ"...) is accepted with a warning: quantity and mass stay
    empty (never a guessed number) and the unit may be left blank."""
    odd = _odd_numbers(frame, "quantity")  # the words a quantity is written in are among them
    unknown = [t for t in odd if FORMAT.says_unknown_quantity(t)]
    unit_map: dict[str, str | None] = {}
    for text in _distinct(frame, "unit"):
        try:
            unit_map[text] = parse_unit(text).value
        except ValidationError:
            unit_map[text] = None
    frame = frame.with_columns(
        pl.col("quantity").is_in(unknown).fill_null(False).alias("quantity__unknown"),
        _plain_number("quantity").alias("quantity__n"),
        pl.col("unit").replace_strict(unit_map, default=None, return_dtype=pl.String).alias("unit__n"),
    )
    frame = _with_odd_numbers(frame, "quantity", "quantity__n", odd)
    rules = _quantity_rules()
    sink.add(frame, rules["unknown_unit"], "unit", pl.lit(UNKNOWN_UNIT % {"values": ", ".join(u.value for u in Unit)}),
             requires="unit", requires_null="unit__n")  # fmt: skip
    sink.add(frame, rules["not_a_number"], "quantity", pl.lit(
        N_("not a number (write \"unknown\" when the source holds neither a weight nor a count)")), requires="quantity",
        requires_null="quantity__n")  # fmt: skip
    sink.add(frame, rules["not_positive"], "quantity", pl.lit(N_("quantity must be a positive number")),
             requires="quantity__n")  # fmt: skip
    sink.add(frame, rules["too_large"], "quantity", rules["too_large_reason"], requires="quantity__n")
    if unknown:  # else no quantity is written as unknown
        notes.add(frame, pl.col("quantity__unknown"), "quantity",
                  pl.lit(N_("quantity unknown: the case counts, its quantity is left out of the totals")),
                  suggestion=pl.lit("unknown"))  # fmt: skip
    return frame.with_columns(rules["mass_kg"])


@functools.cache
def _quantity_rules() -> dict[str, pl.Expr]:
    """The quantity checks' masks and the mass, over `quantity__n` and `unit__n` (built once)."""
    q = pl.col("quantity__n")
    max_q = pl.col("unit__n").replace_strict({u.value: v for u, v in MAX_PLAUSIBLE.items()}, default=None,
                                              return_dtype=pl.Float64)  # fmt: skip
    factor = pl.col("unit__n").replace_strict({u.value: f for u, f in KG_PER_UNIT.items()}, default=None,
                                              return_dtype=pl.Float64)  # fmt: skip
    return {
        "unknown_unit": pl.col("unit").is_not_null() & pl.col("unit__n").is_null(),
        "not_a_number": pl.col("quantity").is_not_null() & q.is_null() & ~pl.col("quantity__unknown"),
        "not_positive": q.is_not_null() & (q.is_nan() | q.is_infinite() | (q <= 0)),
        "too_large": q.is_not_null() & max_q.is_not_null() & (q > max_q),
        "too_large_reason": pl.format("quantity {} {} is implausibly large; check the unit", q, pl.col("unit__n")),
        "mass_kg": (q * factor).alias("mass_kg"),
    }


_SUBSTANCE_SCHEMA: dict[str, Any] = {"sub_name": pl.String, "sub_control": pl.String, "sub_class": pl.String}
_TAXON_SCHEMA: dict[str, Any] = {"tx_name": pl.String, "tx_listing": pl.String, "tx_status": pl.String,
                                 "tx_rank": pl.String, "tx_hint": pl.String}  # fmt: skip


def _substances_and_taxa(frame: pl.DataFrame, sink: ErrorSink, notes: ErrorSink, reads: Reads) -> pl.DataFrame:
    """Substance and taxon read once per distinct text, required by commodity class. An unknown substance is an
    error; a taxon is never one (unlisted: "not CITES-listed"; unknown: "unverified", kept as written, warned)."""
    frame = reads.read(frame, "substance", "substance", lambda t: read_substance(t, reads.mappings), _SUBSTANCE_SCHEMA)
    frame = reads.read(frame, "taxon", "taxon", lambda t: read_taxon(t, reads.mappings), _TAXON_SCHEMA)
    klass = pl.col("commodity_class__n")
    needs_substance = klass.is_in(["drug", "precursor"])
    needs_taxon = klass.is_in(["wildlife", "timber"])
    sink.add(frame, needs_substance & pl.col("substance__e").is_not_null(), "substance", pl.col("substance__e"),
             suggestion=pl.col("substance__s"), requires="substance__e")  # fmt: skip
    # A precursor reported as a drug (or the reverse) would be counted in the wrong column of every figure.
    sink.add(frame, needs_substance & pl.col("sub_class").is_not_null() & (pl.col("sub_class") != klass),
             "commodity_class", pl.format("{} is a {} ({}), not a {}", pl.col("sub_name"), pl.col("sub_class"),
                                          pl.col("sub_control"), klass),
             value=klass, suggestion=pl.col("sub_class"))  # fmt: skip
    reads.warn(notes, frame, "substance", when=needs_substance)
    reads.warn(notes, frame, "taxon", when=needs_taxon)
    reads.review(frame, "substance", "substance", pl.col("substance"), when=needs_substance)
    reads.review(frame, "taxon", "taxon", pl.col("taxon"), when=needs_taxon)
    return reads.drop_notes(frame, "substance", "taxon")


def _hs_codes(frame: pl.DataFrame, notes: ErrorSink, reads: Reads) -> pl.DataFrame:
    """The optional HS code checked against HS 2022: stored as its digits; a guess or a code HS 2022 does not
    have is kept (as written digits, or as written) with a warning."""
    frame = reads.read(frame, "hs_code", "hs_code", lambda t: read_hs_code(t, reads.mappings), {"hs": pl.String},
                       out={"hs": "hs_code__n"})  # fmt: skip
    reads.warn(notes, frame, "hs_code", when=pl.lit(True))
    reads.review(frame, "hs_code", "hs_code", pl.col("hs_code"), when=pl.lit(True))
    return reads.drop_notes(frame, "hs_code")


def _required_cells(frame: pl.DataFrame, sink: ErrorSink) -> None:
    """Required per row (the case-level required columns are checked per case in `_case_level`)."""
    klass = pl.col("commodity_class__n")
    for column, value in (("case_ref", None), ("reporting_agency", None), ("commodity_class", "commodity_class__n")):
        _required(frame, column, sink, value)
    known = ~pl.col("quantity__unknown")
    _required(frame, "quantity", sink, "quantity__n", when=known,
              reason=N_("required (write \"unknown\" when the source holds neither a weight nor a count)"))  # fmt: skip
    _required(frame, "unit", sink, "unit__n", when=known)
    classes = set(_distinct(frame, "commodity_class__n"))  # a check for classes no row has cannot hold
    if classes & {"drug", "precursor"}:
        _required(frame, "substance", sink, when=klass.is_in(["drug", "precursor"]),
                  reason=N_("required for drugs and precursors"))  # fmt: skip
    if classes & {"wildlife", "timber"}:
        _required(frame, "taxon", sink, when=klass.is_in(["wildlife", "timber"]),
                  reason=N_("required for wildlife and timber"))  # fmt: skip


def _item_result(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per source row: the normalised values under the names the writer uses."""
    return frame.select(_item_result_columns(tuple(f"{c}__bad" in frame.columns for c in _CASE_REQUIRED)))


@functools.lru_cache(maxsize=8)
def _item_result_columns(flagged: tuple[bool, ...]) -> list[pl.Expr]:
    """`_item_result`'s expressions, built once per set of case-level required columns with a `__bad` flag."""
    klass = pl.col("commodity_class__n")
    return [
        pl.col(ROW),
        pl.col("case_ref"),
        pl.col("reporting_agency").str.to_uppercase().alias("reporting_agency"),
        pl.col("seizure_date__n").alias("seizure_date"),
        pl.coalesce(pl.col("p_locode"), pl.col("place_locode").str.to_uppercase().str.replace_all(r"[\s\-]", "")).alias(
            "place_locode"
        ),
        pl.coalesce(pl.col("place_name"), pl.col("p_name")).alias("place_name"),
        pl.col("place_country__n").alias("place_country"),
        pl.coalesce(pl.col("place_type__n"), pl.col("p_type")).alias("place_type"),
        pl.col("p_lat").alias("latitude"),
        pl.col("p_lon").alias("longitude"),
        pl.col("direction__n").alias("direction"),
        pl.col("transport_mode__n").alias("transport_mode"),
        pl.col("conveyance_ref"),
        pl.col("detection_method__n").alias("detection_method"),
        pl.col("concealment"),
        pl.col("origin_country__n").alias("origin_country"),
        pl.col("tr_list").alias("transit_countries"),
        pl.col("destination_country__n").alias("destination_country"),
        pl.col("arrests__n").alias("arrests"),
        pl.col("sharing_level__n").alias("sharing_level"),
        klass.alias("commodity_class"),
        pl.col("substance").alias("substance_text"),
        pl.col("sub_name").alias("substance"),
        pl.col("sub_control").alias("substance_control"),
        pl.col("taxon").alias("taxon_text"),
        pl.col("tx_name").alias("taxon"),
        pl.col("tx_listing").alias("cites_appendix"),
        pl.col("tx_status").alias("taxon_status"),
        pl.col("tx_rank").alias("taxon_rank"),
        pl.coalesce(pl.col("specimen_type__n"), pl.col("tx_hint")).alias("specimen_type"),
        pl.col("quantity__n").alias("quantity"),
        pl.col("unit__n").alias("unit"),
        pl.col("quantity").alias("quantity_text"),
        pl.col("mass_kg"),
        pl.col("hs_code__n").alias("hs_code"),
        pl.col("description"),
        *_carried("items", _HANDLED_ITEM_COLUMNS),
        # A case-level required cell was written (even if it was wrong: that is its own error).
        *(
            (pl.col(c).is_not_null() | (pl.col(f"{c}__bad") if bad else pl.lit(False))).alias(f"__has_{c}")
            for c, bad in zip(_CASE_REQUIRED, flagged, strict=True)
        ),
    ]


def _case_level(frame: pl.DataFrame, sink: ErrorSink) -> pl.DataFrame:
    """Fill a case's blank case-level cells from its first non-blank value; differing values are errors."""
    keys = list(CASE_KEY)
    has_case = pl.col("case_ref").is_not_null()
    one_row = _one_row_per_case(frame)
    if not one_row:  # cases of one row have nothing to fill and nothing to compare
        frame = _filled_from_first_rows(frame, sink, keys, has_case)
    # Case-level required columns, checked once the case's rows are filled.
    for column in _CASE_REQUIRED:
        written = pl.col(f"__has_{column}") if one_row else pl.col(f"__has_{column}").any().over(keys)
        sink.add(frame, pl.col(column).is_null() & ~written & has_case, column,
                 pl.lit(REQUIRED_ON_A_ROW), value=pl.lit(None, dtype=pl.String), requires_null=column)  # fmt: skip
    return drop_columns(frame, [f"__has_{c}" for c in _CASE_REQUIRED])


def _filled_from_first_rows(frame: pl.DataFrame, sink: ErrorSink, keys: list[str], has_case: pl.Expr) -> pl.DataFrame:
    """Each case's blank case-level cells from its first non-blank value; a differing value is an error."""
    columns = (*CASE_COLUMNS, "latitude", "longitude")
    frame = frame.with_columns([pl.col(c).drop_nulls().first().over(keys).alias(f"__first_{c}") for c in columns])
    for column in CASE_COLUMNS:
        first = pl.col(f"__first_{column}")
        kind = frame.schema[column]
        if kind == pl.List(pl.String):
            shown, shown_first = pl.col(column).list.join(";"), first.list.join(";")
        else:
            shown, shown_first = pl.col(column).cast(pl.String), first.cast(pl.String)
        # Compared as stored (a date as a date, a list element by element), not as written out: the same answer
        # without a file's 10^6 values turned into text (most of the time of its checks); a float as written
        # out, where -0.0 and 0.0 are two values.
        value, value_first = (shown, shown_first) if kind.is_float() else (pl.col(column), first)
        differs = pl.col(column).is_not_null() & (value != value_first)
        sink.add(frame, differs & has_case, column, pl.format("differs from the case's first row ({})", shown_first),
                 value=shown)  # fmt: skip
    return frame.with_columns(
        [pl.when(has_case).then(pl.col(f"__first_{c}")).otherwise(pl.col(c)).alias(c) for c in columns]
    ).drop([f"__first_{c}" for c in columns])


def _one_row_per_case(frame: pl.DataFrame) -> bool:
    """Each case (agency and ref; rows without a ref count as one) has one row: what a request's cases usually
    are, whose case-level columns need no window."""
    return frame.height <= 1 or frame.select(*CASE_KEY).n_unique() == frame.height


# --- parties -----------------------------------------------------------------------------------------------------


def _phone_result(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_parties(
    frame: pl.DataFrame, *, day_first: bool = False, today: dt.date | None = None, default_region: str | None = None,
    mappings: ValueMappings = NO_MAPPINGS,
) -> Normalised:  # fmt: skip
    """Validate party rows: role/kind enums, nationality, birth date, phone (E.164 when parseable), e-mail."""
    today = today or dt.date.today()
    sink, reads = ErrorSink(), Reads(mappings)
    frame = _ensure(frame, PARTY_COLUMNS)
    frame = check_text(frame, PARTY_COLUMNS, sink)
    for column in (c.name for c in FORMAT.columns["parties"] if c.vocabulary):
        frame = _enum(frame, column, sink)
    frame = _countries(frame, tuple(c.name for c in FORMAT.columns["parties"] if c.type == "country"), sink, reads)
    frame = check_dates(frame, "birth_date", sink, day_first=day_first, today=today, out="birth_date__n")
    for column in ("case_ref", "reporting_agency", "name"):
        _required(frame, column, sink)
    email_ok = pl.col("email").str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    sink.add(frame, pl.col("email").is_not_null() & ~email_ok, "email", pl.lit(N_("not an e-mail address")),
             requires="email")  # fmt: skip
    frame = frame.with_columns(
        pl.struct(pl.col("phone").alias("p"), pl.col("nationality__n").alias("c")).alias("__phone")
    )
    keys = frame.get_column("__phone").unique().to_list()
    phone_table = pl.DataFrame(
        {"__phone": keys,
         "phone__n": [_phone_result(k["p"], k["c"] or default_region) if k["p"] else None for k in keys]},
        schema={"__phone": frame.get_column("__phone").dtype, "phone__n": pl.String},
    )  # fmt: skip
    frame = _joined(frame, phone_table, "__phone", nulls_equal=True)
    result = frame.select(
        pl.col(ROW),
        pl.col("case_ref"),
        pl.col("reporting_agency").str.to_uppercase(),
        pl.col("role__n").fill_null("other").alias("role"),
        pl.col("kind__n").fill_null("person").alias("kind"),
        pl.col("name"),
        pl.col("nationality__n").alias("nationality"),
        pl.col("birth_date__n").alias("birth_date"),
        pl.col("id_number"),
        pl.col("phone"),
        pl.col("phone__n").alias("phone_e164"),
        pl.when(email_ok).then(pl.col("email").str.to_lowercase()).alias("email_normalised"),
        pl.col("email"),
        pl.col("address"),
        *_carried("parties", _HANDLED_PARTY_COLUMNS),
    )
    return Normalised(result, sink.frame(), review=reads.frame())
