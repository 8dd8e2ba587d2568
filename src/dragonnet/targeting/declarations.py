"""Shipment declarations: the documented column set, columnar import from CSV/Parquet, the KCS adapter.

The column set (one row = one declared item of a declaration, air waybill, bill of lading, postal or
express item):

| column | type | meaning |
|---|---|---|
| declaration_id | text | the declaration (or manifest line) identifier; required |
| declaration_date | date | date lodged; required |
| office_locode | text | customs office (UN/LOCODE, 5 characters); required |
| mode | text | transport mode (vocabulary of the case format: sea_container, air_cargo, postal...) |
| declarant | text | declarant / broker identifier |
| importer | text | importer / consignee |
| exporter | text | exporter / consignor |
| origin_country | text | ISO 3166-1 alpha-2 country of origin |
| loading_place | text | place (LOCODE) or country of loading / departure |
| transit_places | text | transit places or countries, in order, separated by `;` |
| hs_code | text | HS code as declared (6 digits or more) |
| goods_description | text | goods description, any language |
| quantity | double | declared quantity (units of the HS code) |
| gross_weight_kg | double | gross weight in kg |
| declared_value | double | declared value in `currency` |
| currency | text | ISO 4217 code |
| conveyance_ref | text | container number, flight, vessel or courier reference |
| outcome | integer | past inspection result: 1 = seizure / irregularity, 0 = nothing found, empty = not inspected |
| x_... | any | optional extra columns (e.g. a national tariff field); numeric ones become model features,
  text ones categorical features |

Imports never go row by row: DuckDB reads the file, maps and casts the columns in one SELECT and writes one
Parquet file into the store (`<data dir>/targeting/declarations/`). Millions of rows take seconds.
"""

# ruff: noqa: S608  (SQL is assembled from validated identifiers and escaped literals, see targeting.sql)

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dragonnet.errors import ValidationError
from dragonnet.reference import goods

COLUMNS: dict[str, str] = {
    "declaration_id": "VARCHAR",
    "declaration_date": "DATE",
    "office_locode": "VARCHAR",
    "mode": "VARCHAR",
    "declarant": "VARCHAR",
    "importer": "VARCHAR",
    "exporter": "VARCHAR",
    "origin_country": "VARCHAR",
    "loading_place": "VARCHAR",
    "transit_places": "VARCHAR",
    "hs_code": "VARCHAR",
    "goods_description": "VARCHAR",
    "quantity": "DOUBLE",
    "gross_weight_kg": "DOUBLE",
    "declared_value": "DOUBLE",
    "currency": "VARCHAR",
    "conveyance_ref": "VARCHAR",
    "outcome": "INTEGER",
}
REQUIRED = ("declaration_id", "declaration_date", "office_locode")
EXTRA_PREFIX = "x_"

# The KCS synthetic import declarations (README of ../shared/data/customs-declarations-kcs): column -> SQL
# over the source columns. Documented in docs/benchmarks.md ("Risk targeting").
KCS_MODES = {"10": "sea_container", "20": "rail", "30": "road", "40": "air_cargo", "50": "postal"}
KCS_MAPPING: dict[str, str] = {
    "declaration_id": 'CAST("Declaration ID" AS VARCHAR)',
    "declaration_date": 'CAST("Date" AS DATE)',
    # Office ID is a number (e.g. 30); written as a pseudo-LOCODE of Korea: KR + 3 digits (KR030).
    "office_locode": "'KR' || lpad(CAST(\"Office ID\" AS VARCHAR), 3, '0')",
    "mode": 'CASE CAST("Mode of Transport" AS VARCHAR) '
    + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in KCS_MODES.items())
    + " ELSE 'other' END",
    "declarant": '"Declarant ID"',
    "importer": '"Importer ID"',
    "exporter": '"Seller ID"',
    "origin_country": '"Country of Origin"',
    "loading_place": '"Country of Departure"',
    "transit_places": "NULL",
    "hs_code": "lpad(CAST(\"HS6 Code\" AS VARCHAR), 6, '0')",
    "goods_description": "NULL",
    "quantity": "NULL",
    "gross_weight_kg": 'CAST("Net Mass" AS DOUBLE)',
    "declared_value": 'CAST("Item Price" AS DOUBLE)',
    "currency": "'KRW'",
    "conveyance_ref": '"Courier ID"',
    "outcome": 'CAST("Fraud" AS INTEGER)',
    "x_process_type": 'CAST("Process Type" AS VARCHAR)',
    "x_import_type": 'CAST("Import Type" AS VARCHAR)',
    "x_import_use": 'CAST("Import Use" AS VARCHAR)',
    "x_payment_type": 'CAST("Payment Type" AS VARCHAR)',
    "x_tax_rate": 'CAST("Tax Rate" AS DOUBLE)',
    "x_tax_type": 'CAST("Tax Type" AS VARCHAR)',
    "x_origin_indicator": 'CAST("Country of Origin Indicator" AS VARCHAR)',
    "x_critical_fraud": 'CAST("Critical Fraud" AS INTEGER)',
}
# Columns that describe the outcome, never features.
LABEL_COLUMNS = frozenset({"outcome", "x_critical_fraud"})
FORMATS = ("auto", "canonical", "kcs")


@dataclass(frozen=True)
class ImportSummary:
    path: Path
    rows: int
    first_date: dt.date | None
    last_date: dt.date | None
    offices: list[str]
    labelled: int
    source_format: str


def _source_relation(path: Path) -> str:
    name = path.name.lower()
    quoted = str(path).replace("'", "''")
    if name.endswith((".parquet", ".pq")):
        return f"read_parquet('{quoted}')"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".gz")):
        return f"read_csv('{quoted}', header=true, all_varchar=true)"
    raise ValidationError(f"{path.name}: not a CSV or Parquet file (.csv, .csv.gz, .parquet)")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _clean_name(name: str) -> str:
    return name.replace("\ufeff", "").strip()


def select_sql(con: duckdb.DuckDBPyConnection, path: Path, source_format: str = "auto") -> tuple[str, str]:
    """The SELECT that maps `path` onto the column set, and the format it used."""
    if not path.exists():
        raise ValidationError(f"no such file: {path}")
    if source_format not in FORMATS:
        raise ValidationError(f"unknown format {source_format!r}; use {', '.join(FORMATS)}")
    relation = _source_relation(path)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise ValidationError(f"{path.name}: cannot read: {str(exc).splitlines()[0]}") from None
    raw = [str(row[0]) for row in described]
    clean = {_clean_name(c): c for c in raw}
    if source_format == "auto":
        source_format = "kcs" if {"Fraud", "HS6 Code", "Item Price"} <= set(clean) else "canonical"
    if source_format == "kcs":
        missing = [c for c in ("Declaration ID", "Date", "Office ID", "Fraud") if c not in clean]
        if missing:
            raise ValidationError(f"{path.name}: not the KCS layout, missing {', '.join(missing)}")
        renames = ", ".join(f"{_quote_ident(raw_name)} AS {_quote_ident(c)}" for c, raw_name in clean.items())
        inner = f"(SELECT {renames} FROM {relation})"
        cols = ", ".join(f"{expr} AS {name}" for name, expr in KCS_MAPPING.items())
        return f"SELECT {cols} FROM {inner}", source_format
    lower = {c.lower(): raw_name for c, raw_name in clean.items()}
    missing = [c for c in REQUIRED if c not in lower]
    if missing:
        raise ValidationError(
            f"{path.name}: missing column(s) {', '.join(missing)}; the column set is {', '.join(COLUMNS)}"
        )
    parts = []
    for name, sql_type in COLUMNS.items():
        if name in lower:
            parts.append(f"TRY_CAST({_quote_ident(lower[name])} AS {sql_type}) AS {name}")
        else:
            parts.append(f"CAST(NULL AS {sql_type}) AS {name}")
    extras = [c for c in lower if c.startswith(EXTRA_PREFIX) and c.replace("_", "").isalnum()]
    for name in extras:
        # Numbers stay numbers (a CSV reads as text): TRY_CAST to DOUBLE when every value converts.
        parts.append(f"{_quote_ident(lower[name])} AS {name}")
    return f"SELECT {', '.join(parts)} FROM {relation}", source_format


def _numeric_extras(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    out = []
    for name, sql_type, *_ in con.execute(f"DESCRIBE {view}").fetchall():
        if not str(name).startswith(EXTRA_PREFIX) or str(name) in LABEL_COLUMNS:
            continue
        if str(sql_type) == "VARCHAR":
            bad = con.execute(
                f"SELECT count(*) FROM {view} WHERE {name} IS NOT NULL AND TRY_CAST({name} AS DOUBLE) IS NULL"
            ).fetchone()
            if bad is not None and bad[0] == 0:
                out.append(str(name))
    return out


def import_file(path: Path, store: Path, source_format: str = "auto") -> ImportSummary:
    """Read `path` (CSV or Parquet, any size), map it onto the column set, write one Parquet file to `store`."""
    store.mkdir(parents=True, exist_ok=True)
    target = store / f"batch-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
    con = duckdb.connect()
    try:
        query, used = select_sql(con, path, source_format)
        con.execute(f"CREATE TEMP VIEW src AS {query}")
        numeric = set(_numeric_extras(con, "src"))
        described = [str(r[0]) for r in con.execute("DESCRIBE src").fetchall()]
        cols = ", ".join(f"TRY_CAST({c} AS DOUBLE) AS {c}" if c in numeric else c for c in described)
        con.execute(f"CREATE TEMP VIEW mapped AS SELECT {cols} FROM src")
        checks = con.execute(
            "SELECT count(*), count(declaration_id), count(declaration_date), count(office_locode), "
            "min(declaration_date), max(declaration_date), count(outcome) FROM mapped"
        ).fetchone()
        assert checks is not None
        rows, ids, dates, offices_n, first, last, labelled = checks
        if rows == 0:
            raise ValidationError(f"{path.name}: no rows")
        for count, name in ((ids, "declaration_id"), (dates, "declaration_date"), (offices_n, "office_locode")):
            if count < rows:
                raise ValidationError(f"{path.name}: {rows - count} row(s) without a valid {name}")
        bad_outcome = con.execute("SELECT count(*) FROM mapped WHERE outcome NOT IN (0, 1)").fetchone()
        if bad_outcome is not None and bad_outcome[0]:
            raise ValidationError(f"{path.name}: outcome must be 1 (seizure), 0 (nothing found) or empty")
        offices = [str(r[0]) for r in con.execute("SELECT DISTINCT office_locode FROM mapped ORDER BY 1").fetchall()]
        quoted = str(target).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM mapped ORDER BY declaration_date) TO '{quoted}' (FORMAT parquet)")
    finally:
        con.close()
    return ImportSummary(target, int(rows), first, last, offices, int(labelled), used)


@dataclass(frozen=True)
class HsCheck:
    """The declared HS codes of a batch checked against HS 2022: rows whose code is not in the nomenclature (a
    chapter, heading or subheading; a national 8-, 10- or 12-digit line at its subheading) and the commonest."""

    rows_with_code: int
    rows_not_in_hs: int
    codes_not_in_hs: list[tuple[str, int]]


def check_hs_codes(path: Path, *, limit: int = 10) -> HsCheck:
    """One DuckDB pass over a stored batch, each distinct code compared once with the nomenclature."""
    known = pa.table({"code": [c.code for c in goods.all_codes()]})
    con = duckdb.connect()
    try:
        con.register("hs", known)
        quoted = str(path).replace("'", "''")
        con.execute(
            "CREATE TEMP VIEW declared AS SELECT "
            "regexp_replace(CAST(hs_code AS VARCHAR), '[^0-9]', '', 'g') AS digits, "
            f"count(*) AS n FROM read_parquet('{quoted}') WHERE hs_code IS NOT NULL GROUP BY 1"
        )
        total = con.execute("SELECT coalesce(sum(n), 0) FROM declared").fetchone()
        bad = con.execute(
            "SELECT digits, n FROM declared WHERE NOT (length(digits) IN (2, 4, 6, 8, 10, 12) AND "
            "substr(digits, 1, least(length(digits), 6)) IN (SELECT code FROM hs)) ORDER BY n DESC, digits"
        ).fetchall()
    finally:
        con.close()
    return HsCheck(int(total[0]) if total else 0, sum(int(n) for _, n in bad),
                   [(str(d), int(n)) for d, n in bad[:limit]])  # fmt: skip


def store_files(store: Path) -> list[Path]:
    return sorted(store.glob("batch-*.parquet")) if store.exists() else []


def parquet_relation(paths: list[Path]) -> str:
    """A DuckDB relation over several Parquet files with possibly different extra columns."""
    if not paths:
        raise ValidationError("no declarations imported yet: run `dragonnet targeting import FILE` first")
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{listed}], union_by_name=true)"
