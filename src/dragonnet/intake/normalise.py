"""Vectorised validation and normalisation of the exchange format's rows.

Every check is a Polars expression over whole columns. Reference lookups (countries, places, substances,
taxa, units, odd numbers) run once per DISTINCT value and are joined back: a million rows hold only a few
thousand distinct spellings. Errors come out as a frame (row, column, value, reason, suggestion).

The officer's text is kept beside the normalised value (substance_text, taxon_text, quantity_text).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import polars as pl
from rapidfuzz import fuzz, process

from dragonnet.domain.exchange import FORMAT, SheetKind, join_list, list_hint, names_of, split_list
from dragonnet.domain.identifiers import conveyance_problem
from dragonnet.domain.quantity import KG_PER_UNIT, MAX_PLAUSIBLE, Unit, parse_number, parse_unit
from dragonnet.domain.vocabulary import (
    SpecimenType,
)
from dragonnet.errors import DragonnetError, ValidationError
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS, key
from dragonnet.intake.reader import ROW
from dragonnet.reference import cites, countries, places, substances
from dragonnet.tabular import RowError

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

_ISO_SHAPE = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$"
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
_DMY_SHAPE = r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$"
_PLAIN_NUMBER = r"^[0-9]{1,15}([.,][0-9]{1,15})?$"  # ASCII only: other digits take the slow path


# --- vocabularies ----------------------------------------------------------------------------------------

# Vocabulary column -> (comparison key -> value): values, labels and synonyms from the exchange-format file.
ENUMS: dict[str, dict[str, str]] = FORMAT.value_vocabularies()


# --- errors ------------------------------------------------------------------------------------------------


class ErrorSink:
    """Collects error frames; each check adds the rows matching a mask."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []

    def add(
        self,
        frame: pl.DataFrame,
        mask: pl.Expr,
        column: str,
        reason: pl.Expr | str,
        *,
        value: pl.Expr | None = None,
        suggestion: pl.Expr | str | None = None,
    ) -> None:
        hit = frame.filter(mask)
        if hit.height == 0:
            return
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        if suggestion is None:
            sugg_expr = pl.lit(None, dtype=pl.String)
        else:
            sugg_expr = pl.lit(suggestion) if isinstance(suggestion, str) else suggestion
        value_expr = pl.col(column) if value is None else value
        self.frames.append(
            hit.select(
                pl.col(ROW).cast(pl.Int64).alias("row"),
                pl.lit(column).alias("column"),
                value_expr.cast(pl.String).str.slice(0, SHOWN_VALUE_MAX).alias("value"),
                reason_expr.cast(pl.String).alias("reason"),
                sugg_expr.cast(pl.String).alias("suggestion"),
            )
        )

    def frame(self) -> pl.DataFrame:
        if not self.frames:
            return pl.DataFrame(schema=ERROR_SCHEMA)
        return pl.concat(self.frames, how="vertical").sort("row", maintain_order=True)


def error_rows(errors: pl.DataFrame, sheet: str = "items", limit: int | None = None) -> list[RowError]:
    rows = errors.head(limit) if limit is not None else errors
    return [
        RowError(r["row"], r["column"], r["value"], r["reason"], r["suggestion"], sheet)
        for r in rows.iter_rows(named=True)
    ]


# --- lookups once per distinct value --------------------------------------------------------------------------


def _lookup(
    frame: pl.DataFrame, column: str, fn: Callable[[str], dict[str, Any]], schema: dict[str, Any]
) -> pl.DataFrame:
    """Join fn(value) for each distinct non-null value of `column` back onto `frame` (columns of `schema`)."""
    distinct = frame.get_column(column).drop_nulls().unique().to_list()
    rows = [fn(v) for v in distinct]
    table = pl.DataFrame(
        {column: distinct, **{k: [r.get(k) for r in rows] for k in schema}},
        schema={column: frame.schema[column], **schema},
    )
    return frame.join(table, on=column, how="left", maintain_order="left")


def _suggest_enum(value: str, vocab: dict[str, str]) -> str | None:
    found = process.extractOne(key(value), list(vocab), scorer=fuzz.ratio, score_cutoff=70)
    return vocab[found[0]] if found else None


def _enum(frame: pl.DataFrame, column: str, sink: ErrorSink, target: str | None = None) -> pl.DataFrame:
    vocab = ENUMS[column]
    accepted = sorted(set(vocab.values()))
    out = target or f"{column}__n"

    def fn(text: str) -> dict[str, Any]:
        value = vocab.get(key(text))
        return {out: value, f"{out}__s": None if value else _suggest_enum(text, vocab)}

    frame = _lookup(frame, column, fn, {out: pl.String, f"{out}__s": pl.String})
    sink.add(
        frame,
        pl.col(column).is_not_null() & pl.col(out).is_null(),
        column,
        pl.lit(f"not an accepted value; use one of {', '.join(accepted)}"),
        suggestion=pl.col(f"{out}__s"),
    )
    return frame.drop(f"{out}__s")


def _country_result(text: str) -> dict[str, Any]:
    try:
        return {"a2": countries.resolve(text).alpha2, "err": None, "sugg": None}
    except DragonnetError as exc:
        return {"a2": None, "err": exc.message, "sugg": ", ".join(exc.suggestions) or None}


def _countries(frame: pl.DataFrame, columns: Sequence[str], sink: ErrorSink) -> pl.DataFrame:
    cache: dict[str, dict[str, Any]] = {}

    def fn(text: str) -> dict[str, Any]:
        if text not in cache:
            cache[text] = _country_result(text)
        return cache[text]

    for column in columns:
        schema = {f"{column}__n": pl.String, f"{column}__e": pl.String, f"{column}__s": pl.String}

        def wrap(text: str) -> dict[str, Any]:
            r = fn(text)
            return {f"{column}__n": r["a2"], f"{column}__e": r["err"], f"{column}__s": r["sugg"]}  # noqa: B023

        frame = _lookup(frame, column, wrap, schema)
        sink.add(frame, pl.col(f"{column}__e").is_not_null(), column, pl.col(f"{column}__e"),
                 suggestion=pl.col(f"{column}__s"))  # fmt: skip
        frame = frame.drop(f"{column}__e", f"{column}__s")
    return frame


# --- scalar-compatible parsers (the vectorised rules, usable one value at a time) ------------------------


def date_column(column: str, *, day_first: bool) -> pl.Expr:
    """The date a text column holds, by the import's rules (null where it holds none)."""
    s = pl.col(column)
    iso_text = (
        pl.when(s.str.contains(_ISO_SHAPE))
        .then(s.str.replace_all(r"[/.]", "-"))
        .when(s.str.contains(_ISO_DATETIME))
        .then(s.str.slice(0, 10))
    )
    iso = iso_text.str.to_date("%Y-%m-%d", strict=False)
    if not day_first:
        return iso
    dmy = (
        pl.when(s.str.contains(_DMY_SHAPE)).then(s.str.replace_all(r"[-.]", "/")).str.to_date("%d/%m/%Y", strict=False)
    )
    return pl.coalesce(iso, dmy)


def check_dates(
    frame: pl.DataFrame, column: str, sink: ErrorSink, *, day_first: bool, today: dt.date, out: str
) -> pl.DataFrame:
    frame = frame.with_columns(date_column(column, day_first=day_first).alias(out))
    s = pl.col(column)
    bad = s.is_not_null() & pl.col(out).is_null()
    shaped = s.str.contains(_ISO_SHAPE) | s.str.contains(_ISO_DATETIME)
    dmy = s.str.contains(_DMY_SHAPE)
    if day_first:
        shaped = shaped | dmy
    reason = (
        pl.when(shaped)
        .then(pl.lit("impossible date"))
        .when(dmy)
        .then(pl.lit("not an ISO date (YYYY-MM-DD); DD/MM/YYYY is read only when the import is day-first"))
        .otherwise(pl.lit("not a date; write YYYY-MM-DD" + (" or DD/MM/YYYY" if day_first else "")))
    )
    sink.add(frame, bad, column, reason)
    sink.add(frame, pl.col(out) > pl.lit(today), column, pl.lit(f"date in the future (today is {today.isoformat()})"))
    sink.add(frame, pl.col(out) < pl.lit(dt.date(1900, 1, 1)), column, pl.lit("implausible date (before 1900)"))
    return frame.with_columns(pl.when((pl.col(out) > pl.lit(today)) | (pl.col(out) < pl.lit(dt.date(1900, 1, 1))))
                              .then(None).otherwise(pl.col(out)).alias(out))  # fmt: skip


def parse_date(text: str, *, day_first: bool = False, today: dt.date | None = None) -> dt.date:
    """One date by exactly the import's rules; ValidationError with the import's reason otherwise."""
    frame = pl.DataFrame({"d": [text.strip() or None], ROW: [1]}, schema={"d": pl.String, ROW: pl.Int64})
    sink = ErrorSink()
    frame = check_dates(frame, "d", sink, day_first=day_first, today=today or dt.date.today(), out="d__n")
    errors = sink.frame()
    if errors.height:
        raise ValidationError(f"{errors['reason'][0]}: {text!r}")
    value = frame["d__n"][0]
    if value is None:
        raise ValidationError(f"not a date: {text!r}")
    assert isinstance(value, dt.date)
    return value


def number_column(frame: pl.DataFrame, column: str, out: str) -> pl.DataFrame:
    """Numbers by dragonnet.domain.quantity.parse_number rules: plain numbers (`12`, `1.5`, `1,5`) parse as a
    column; the odd ones (thousands separators, signs) go through parse_number once per distinct value."""
    s = pl.col(column)
    plain = s.str.contains(_PLAIN_NUMBER)
    frame = frame.with_columns(
        pl.when(plain).then(s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)).alias(out)
    )
    odd = frame.filter(s.is_not_null() & ~plain).get_column(column).unique().to_list()
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
        frame = frame.join(table, on=column, how="left", maintain_order="left")
        frame = frame.with_columns(pl.coalesce(pl.col(out), pl.col(f"{out}__odd")).alias(out)).drop(f"{out}__odd")
    return frame


def parse_quantity_value(text: str) -> float:
    """One number by exactly the import's column rules (for tests and single edits)."""
    frame = number_column(pl.DataFrame({"q": [text.strip() or None]}, schema={"q": pl.String}), "q", "n")
    value = frame["n"][0]
    if value is None:
        raise ValidationError(f"not a number: {text!r}")
    return float(value)


# --- text hygiene -----------------------------------------------------------------------------------------------


def check_text(frame: pl.DataFrame, columns: Sequence[str], sink: ErrorSink) -> pl.DataFrame:
    """Reject control characters (other than tab/newline) and over-long cells; such cells become null."""
    present = [c for c in columns if c in frame.columns]
    frame = frame.with_columns([pl.col(c).str.replace_all("\r\n", "\n", literal=True) for c in present])
    cleared: list[pl.Expr] = []
    for c in present:
        limit = min(COLUMN_MAX.get(c, TEXT_MAX), TEXT_MAX)
        too_long = pl.col(c).str.len_chars() > limit
        control = pl.col(c).str.contains(CONTROL_CHARS)
        sink.add(frame, too_long, c, pl.lit(f"text longer than {limit} characters"),
                 value=pl.col(c).str.slice(0, 40) + pl.lit("…"))  # fmt: skip
        sink.add(frame, ~too_long & control, c, pl.lit("contains control characters"),
                 value=pl.col(c).str.replace_all(CONTROL_CHARS, "?"))  # fmt: skip
        cleared.append(pl.when(too_long | control).then(None).otherwise(pl.col(c)).alias(c))
        cleared.append((pl.col(c).is_not_null() & (too_long | control)).alias(f"{c}__bad"))
    return frame.with_columns(cleared)


def _required(frame: pl.DataFrame, column: str, sink: ErrorSink, value: str | None = None,
              when: pl.Expr | None = None, reason: str | None = None) -> None:  # fmt: skip
    """`column` (its normalised form `value`) must be present; cells already reported are not reported twice."""
    target = value or column
    mask = pl.col(target).is_null() & ~pl.col(f"{column}__bad")
    if column != target:
        mask = mask & pl.col(column).is_null()
    if when is not None:
        mask = mask & when
    sink.add(frame, mask, column, reason or "required", value=pl.lit(None, dtype=pl.String))


# --- items ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    frame: pl.DataFrame  # one row per source row, normalised columns (see normalise_items)
    errors: pl.DataFrame  # ERROR_SCHEMA
    # ERROR_SCHEMA too: values accepted, but read by a guess the officer should check (a misspelt taxon or
    # substance read as the closest reference name). They do not reject the row.
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ERROR_SCHEMA))


def _ensure(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    return frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing]) if missing else frame


def _place_result(locode: str | None, name: str | None, country: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"p_locode": None, "p_name": None, "p_type": None, "p_err": None, "p_sugg": None,
                           "p_col": None, "p_lat": None, "p_lon": None}  # fmt: skip
    if locode:
        place = places.get(locode)
        if place is None:
            out.update(p_err=f"unknown UN/LOCODE {locode!r}", p_col="place_locode")
            return out
        if country and place.country != country:
            out.update(p_err=f"UN/LOCODE {place.locode} is in {place.country}, not in {country}", p_col="place_locode")
            return out
    elif name:
        try:
            place = places.resolve(name, country)
        except DragonnetError:
            return out  # a free-text place name is allowed when there is no LOCODE
        if not place.locode:
            return out
    else:
        return out
    out.update(p_locode=place.locode or None, p_name=place.name, p_lat=place.latitude, p_lon=place.longitude,
               p_type=place.place_type if place.place_type != "other" else None)  # fmt: skip
    return out


def _substance_result(text: str) -> dict[str, Any]:
    try:
        m = substances.resolve(text)
        guessed = f"read as {m.substance.name}, the closest listed name" if m.matched_by == "fuzzy" else None
        return {"sub_name": m.substance.name, "sub_control": m.substance.control,
                "sub_class": m.substance.commodity_class, "sub_err": None, "sub_sugg": None,
                "sub_note": guessed}  # fmt: skip
    except DragonnetError as exc:
        return {"sub_name": None, "sub_control": None, "sub_class": None, "sub_err": exc.message,
                "sub_sugg": ", ".join(exc.suggestions) or None, "sub_note": None}  # fmt: skip


def _taxon_result(text: str) -> dict[str, Any]:
    try:
        m = cites.resolve(text)
        hint = m.specimen_hint if m.specimen_hint in SpecimenType.values() else None
        guessed = f"read as {m.taxon.name}, the closest CITES name" if m.matched_by == "fuzzy" else None
        return {"tx_name": m.taxon.name, "tx_listing": (m.taxon.listing or "not listed")[:16], "tx_hint": hint,
                "tx_err": None, "tx_sugg": None, "tx_note": guessed}  # fmt: skip
    except DragonnetError as exc:
        return {"tx_name": None, "tx_listing": None, "tx_hint": None, "tx_err": exc.message,
                "tx_sugg": ", ".join(exc.suggestions) or None, "tx_note": None}  # fmt: skip


def _transit_result(text: str) -> dict[str, Any]:
    codes: list[str] = []
    for part in split_list(text):  # the one list separator of the exchange format (as every form)
        r = _country_result(part)
        if r["a2"] is None:
            hint = list_hint(part)
            if hint:  # "TH, MY": suggest the list written with the separator when its parts are countries
                found = [_country_result(p)["a2"] for p in re.split(r"[,/|，]", part) if p.strip()]
                if found and all(found):
                    return {"tr_list": None, "tr_err": r["err"] + hint, "tr_sugg": join_list(found)}
            return {"tr_list": None, "tr_err": r["err"] + hint, "tr_sugg": r["sugg"]}
        codes.append(r["a2"])
    return {"tr_list": codes, "tr_err": None, "tr_sugg": None}


# The columns the stages below read by name. Any other column of the format (one added to the file) is carried
# to the result under its own name: a vocabulary or country column as its normalised value, others as checked
# text (`check_text`: control characters, length). intake.extra stores the ones without a database column.
_HANDLED_ITEM_COLUMNS = frozenset({
    "case_ref", "reporting_agency", "seizure_date", "place_locode", "place_name", "place_country", "place_type",
    "direction", "transport_mode", "conveyance_ref", "detection_method", "concealment", "commodity_class",
    "substance", "taxon", "specimen_type", "quantity", "unit", "origin_country", "transit_countries",
    "destination_country", "arrests", "sharing_level", "description",
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


def normalise_items(frame: pl.DataFrame, *, day_first: bool = False, today: dt.date | None = None) -> Normalised:
    """Validate and normalise item rows (exchange-format column names, strings) as whole columns.

    Case-level columns may be left blank on a case's later rows: the first non-blank value of the case fills
    them; a different non-blank value is an error on that row. The result has, per row: `_row`, case_ref,
    reporting_agency, the case-level columns normalised (seizure_date as a date, countries alpha-2,
    transit_countries as a list), and commodity_class, substance_text/substance/substance_control,
    taxon_text/taxon/cites_appendix, specimen_type, quantity/unit/quantity_text/mass_kg, description.

    Stages: text and cell shapes -> vocabularies, countries, dates, numbers -> places -> quantities and units
    -> substances and taxa -> required cells -> the result -> case-level consistency.
    """
    today = today or dt.date.today()
    sink = ErrorSink()
    frame = _ensure(frame, ITEM_COLUMNS)
    frame = check_text(frame, ITEM_COLUMNS, sink)
    frame = _values(frame, sink, day_first=day_first, today=today)
    frame = _places(frame, sink)
    frame = _quantities(frame, sink)
    frame, notes = _substances_and_taxa(frame, sink)
    _required_cells(frame, sink)
    result = _case_level(_item_result(frame), sink)
    return Normalised(result, sink.frame(), notes.frame())


def _values(frame: pl.DataFrame, sink: ErrorSink, *, day_first: bool, today: dt.date) -> pl.DataFrame:
    """Dates, vocabularies, countries, transit lists and arrests: each column once, lookups per distinct value."""
    frame = check_dates(frame, "seizure_date", sink, day_first=day_first, today=today, out="seizure_date__n")
    for column in _VOCABULARY_COLUMNS:
        frame = _enum(frame, column, sink)
    frame = _countries(frame, _COUNTRY_COLUMNS, sink)
    frame = _lookup(frame, "transit_countries", _transit_result,
                    {"tr_list": pl.List(pl.String), "tr_err": pl.String, "tr_sugg": pl.String})  # fmt: skip
    sink.add(frame, pl.col("tr_err").is_not_null(), "transit_countries", pl.col("tr_err"), suggestion=pl.col("tr_sugg"))
    # A conveyance written like a container number passes the one container rule (domain.identifiers).
    frame = _lookup(frame, "conveyance_ref", lambda text: {"cv_err": conveyance_problem(text)}, {"cv_err": pl.String})
    sink.add(frame, pl.col("cv_err").is_not_null(), "conveyance_ref", pl.col("cv_err"))
    # arrests: a whole number
    arrests_ok = pl.col("arrests").str.contains(r"^\d{1,6}$")
    sink.add(frame, pl.col("arrests").is_not_null() & ~arrests_ok, "arrests", pl.lit("not a whole number"))
    return frame.with_columns(pl.when(arrests_ok).then(pl.col("arrests").cast(pl.Int64, strict=False))
                              .alias("arrests__n"))  # fmt: skip


def _places(frame: pl.DataFrame, sink: ErrorSink) -> pl.DataFrame:
    """The place of seizure, resolved per distinct (locode, name, country)."""
    frame = frame.with_columns(
        pl.struct(
            pl.col("place_locode").alias("l"), pl.col("place_name").alias("n"), pl.col("place_country__n").alias("c")
        ).alias("__place")
    )
    place_keys = frame.get_column("__place").unique().to_list()
    place_rows = [_place_result(k["l"], k["n"], k["c"]) for k in place_keys]
    place_schema = {"p_locode": pl.String, "p_name": pl.String, "p_type": pl.String, "p_err": pl.String,
                    "p_sugg": pl.String, "p_col": pl.String, "p_lat": pl.Float64, "p_lon": pl.Float64}  # fmt: skip
    place_table = pl.DataFrame(
        {"__place": place_keys, **{k: [r[k] for r in place_rows] for k in place_schema}},
        schema={"__place": frame.schema["__place"], **place_schema},
    )
    frame = frame.join(place_table, on="__place", how="left", maintain_order="left", nulls_equal=True)
    sink.add(frame, pl.col("p_err").is_not_null(), "place_locode", pl.col("p_err"))

    return frame


def _quantities(frame: pl.DataFrame, sink: ErrorSink) -> pl.DataFrame:
    """Quantity and unit: a positive, plausible number in a known unit; the mass in kg where it converts."""
    frame = number_column(frame, "quantity", "quantity__n")
    unit_map: dict[str, str | None] = {}
    for text in frame.get_column("unit").drop_nulls().unique().to_list():
        try:
            unit_map[text] = parse_unit(text).value
        except ValidationError:
            unit_map[text] = None
    frame = frame.with_columns(pl.col("unit").replace_strict(unit_map, default=None, return_dtype=pl.String)
                               .alias("unit__n"))  # fmt: skip
    sink.add(frame, pl.col("unit").is_not_null() & pl.col("unit__n").is_null(), "unit",
             pl.lit(f"unknown unit; use one of {', '.join(u.value for u in Unit)}"))  # fmt: skip
    q = pl.col("quantity__n")
    sink.add(frame, pl.col("quantity").is_not_null() & q.is_null(), "quantity", pl.lit("not a number"))
    sink.add(frame, q.is_not_null() & (q.is_nan() | q.is_infinite() | (q <= 0)), "quantity",
             pl.lit("quantity must be a positive number"))  # fmt: skip
    max_q = pl.col("unit__n").replace_strict({u.value: v for u, v in MAX_PLAUSIBLE.items()}, default=None,
                                              return_dtype=pl.Float64)  # fmt: skip
    sink.add(frame, q.is_not_null() & max_q.is_not_null() & (q > max_q), "quantity",
             pl.format("quantity {} {} is implausibly large; check the unit", q, pl.col("unit__n")))  # fmt: skip
    factor = pl.col("unit__n").replace_strict({u.value: f for u, f in KG_PER_UNIT.items()}, default=None,
                                              return_dtype=pl.Float64)  # fmt: skip
    return frame.with_columns((q * factor).alias("mass_kg"))


def _substances_and_taxa(frame: pl.DataFrame, sink: ErrorSink) -> tuple[pl.DataFrame, ErrorSink]:
    """Substance and taxon resolved once per distinct text, required by commodity class; the guesses come back
    as notes (warnings), not errors."""
    frame = _lookup(
        frame,
        "substance",
        _substance_result,
        {"sub_name": pl.String, "sub_control": pl.String, "sub_class": pl.String, "sub_err": pl.String,
         "sub_sugg": pl.String, "sub_note": pl.String},
    )  # fmt: skip
    frame = _lookup(frame, "taxon", _taxon_result,
                    {"tx_name": pl.String, "tx_listing": pl.String, "tx_hint": pl.String, "tx_err": pl.String,
                     "tx_sugg": pl.String, "tx_note": pl.String})  # fmt: skip
    klass = pl.col("commodity_class__n")
    needs_substance = klass.is_in(["drug", "precursor"])
    needs_taxon = klass.is_in(["wildlife", "timber"])
    sink.add(frame, needs_substance & pl.col("sub_err").is_not_null(), "substance", pl.col("sub_err"),
             suggestion=pl.col("sub_sugg"))  # fmt: skip
    sink.add(frame, needs_taxon & pl.col("tx_err").is_not_null(), "taxon", pl.col("tx_err"),
             suggestion=pl.col("tx_sugg"))  # fmt: skip
    # A precursor reported as a drug (or the reverse) would be counted in the wrong column of every figure.
    sink.add(frame, needs_substance & pl.col("sub_class").is_not_null() & (pl.col("sub_class") != klass),
             "commodity_class", pl.format("{} is a {} ({}), not a {}", pl.col("sub_name"), pl.col("sub_class"),
                                          pl.col("sub_control"), klass),
             value=klass, suggestion=pl.col("sub_class"))  # fmt: skip
    notes = ErrorSink()
    notes.add(frame, needs_substance & pl.col("sub_note").is_not_null(), "substance", pl.col("sub_note"),
              suggestion=pl.col("sub_name"))  # fmt: skip
    notes.add(frame, needs_taxon & pl.col("tx_note").is_not_null(), "taxon", pl.col("tx_note"),
              suggestion=pl.col("tx_name"))  # fmt: skip

    return frame, notes


def _required_cells(frame: pl.DataFrame, sink: ErrorSink) -> None:
    """Required per row (the case-level required columns are checked per case in `_case_level`)."""
    klass = pl.col("commodity_class__n")
    for column, value in (("case_ref", None), ("reporting_agency", None), ("commodity_class", "commodity_class__n"),
                          ("quantity", "quantity__n"), ("unit", "unit__n")):  # fmt: skip
        _required(frame, column, sink, value)
    _required(frame, "substance", sink, when=klass.is_in(["drug", "precursor"]),
              reason="required for drugs and precursors")  # fmt: skip
    _required(frame, "taxon", sink, when=klass.is_in(["wildlife", "timber"]), reason="required for wildlife and timber")


def _item_result(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per source row: the normalised values under the names the writer uses."""
    klass = pl.col("commodity_class__n")
    return frame.select(
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
        pl.coalesce(pl.col("specimen_type__n"), pl.col("tx_hint")).alias("specimen_type"),
        pl.col("quantity__n").alias("quantity"),
        pl.col("unit__n").alias("unit"),
        pl.col("quantity").alias("quantity_text"),
        pl.col("mass_kg"),
        pl.col("description"),
        *_carried("items", _HANDLED_ITEM_COLUMNS),
        # A case-level required cell was written (even if it was wrong: that is its own error).
        *(
            (pl.col(c).is_not_null() | (pl.col(f"{c}__bad") if f"{c}__bad" in frame.columns else pl.lit(False))).alias(
                f"__has_{c}"
            )
            for c in _CASE_REQUIRED
        ),
    )


def _case_level(frame: pl.DataFrame, sink: ErrorSink) -> pl.DataFrame:
    """Fill a case's blank case-level cells from its first non-blank value; differing values are errors."""
    keys = list(CASE_KEY)
    columns = (*CASE_COLUMNS, "latitude", "longitude")
    frame = frame.with_columns([pl.col(c).drop_nulls().first().over(keys).alias(f"__first_{c}") for c in columns])
    has_case = pl.col("case_ref").is_not_null()
    for column in CASE_COLUMNS:
        first = pl.col(f"__first_{column}")
        if frame.schema[column] == pl.List(pl.String):
            shown, shown_first = pl.col(column).list.join(";"), first.list.join(";")
        else:
            shown, shown_first = pl.col(column).cast(pl.String), first.cast(pl.String)
        differs = pl.col(column).is_not_null() & (shown != shown_first)
        sink.add(frame, differs & has_case, column, pl.format("differs from the case's first row ({})", shown_first),
                 value=shown)  # fmt: skip
    frame = frame.with_columns(
        [pl.when(has_case).then(pl.col(f"__first_{c}")).otherwise(pl.col(c)).alias(c) for c in columns]
    ).drop([f"__first_{c}" for c in columns])
    # Case-level required columns, checked once the case's rows are filled.
    for column in _CASE_REQUIRED:
        written = pl.col(f"__has_{column}").any().over(keys)
        frame = frame.with_columns(written.alias(f"__any_{column}"))
        sink.add(frame, pl.col(column).is_null() & ~pl.col(f"__any_{column}") & has_case, column,
                 pl.lit("required (on at least one row of the case)"), value=pl.lit(None, dtype=pl.String))  # fmt: skip
    return frame.drop([f"__{what}_{c}" for c in _CASE_REQUIRED for what in ("has", "any")])


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
    frame: pl.DataFrame, *, day_first: bool = False, today: dt.date | None = None, default_region: str | None = None
) -> Normalised:
    """Validate party rows: role/kind enums, nationality, birth date, phone (E.164 when parseable), e-mail."""
    today = today or dt.date.today()
    sink = ErrorSink()
    frame = _ensure(frame, PARTY_COLUMNS)
    frame = check_text(frame, PARTY_COLUMNS, sink)
    for column in (c.name for c in FORMAT.columns["parties"] if c.vocabulary):
        frame = _enum(frame, column, sink)
    frame = _countries(frame, tuple(c.name for c in FORMAT.columns["parties"] if c.type == "country"), sink)
    frame = check_dates(frame, "birth_date", sink, day_first=day_first, today=today, out="birth_date__n")
    for column in ("case_ref", "reporting_agency", "name"):
        _required(frame, column, sink)
    email_ok = pl.col("email").str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    sink.add(frame, pl.col("email").is_not_null() & ~email_ok, "email", pl.lit("not an e-mail address"))
    frame = frame.with_columns(
        pl.struct(pl.col("phone").alias("p"), pl.col("nationality__n").alias("c")).alias("__phone")
    )
    keys = frame.get_column("__phone").unique().to_list()
    phone_table = pl.DataFrame(
        {"__phone": keys,
         "phone__n": [_phone_result(k["p"], k["c"] or default_region) if k["p"] else None for k in keys]},
        schema={"__phone": frame.schema["__phone"], "phone__n": pl.String},
    )  # fmt: skip
    frame = frame.join(phone_table, on="__phone", how="left", maintain_order="left", nulls_equal=True)
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
    return Normalised(result, sink.frame())
