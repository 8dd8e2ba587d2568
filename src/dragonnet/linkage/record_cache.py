"""Normalised linkage records kept between runs: the parties rarely change, their normalisation is costly.

Normalising a party (names transliterated, phones read by libphonenumber, addresses tokenised) is a pure function
of its input fields, so a record is kept under a fingerprint of those fields: an edited party has another
fingerprint and simply misses (no invalidation hook to forget), an unchanged one is read back as it was written.
The fingerprint is 128 bits (two seeded 64-bit Polars hashes of the fields, a null apart from an empty text);
it holds no party id, because the declarations' parties are numbered afresh by every extract. One Parquet file
per kind under the data directory (`<data_dir>/linkage/records-person.parquet`, `records-company.parquet`).

A file is used only under the same `records_version` (the normaliser's version, its reference data's digest, the
versions of the libraries that read names, phones and fingerprints); another version, a truncated or foreign
file is ignored with a log line and the records are normalised afresh: never a wrong record. Files are written
whole to a temporary name and renamed, so a reader sees the old file or the new one.

`dragonnet linkage run` (`resolution.run_resolution`) writes the files with every party it resolved; a clear
screening (`screening.matching.match_lists`) reads them for its reference records, normalises only the misses and
adds them when there are many. The uploaded list is never written here.

The cache holds records, not visibility: it holds the normalised records of parties some users may not see
(hidden references are normalised alike) and is read only by the matcher, which applies the screener's
visibility to what it returns. Nothing read from it reaches a page, an API answer, an export or a notice.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from dragonnet.linkage import normalise
from dragonnet.linkage.resolve import PartyInput, normalised_records, party_frame, record_schema

logger = logging.getLogger(__name__)

VERSION_KEY = b"dragonnet.records_version"
# The party fields a normalised record depends on (`resolve.party_frame`'s columns but the id).
INPUT_COLUMNS = ("kind", "name", "nationality", "birth", "id_number", "raw_phone", "raw_email", "region",
                 "address", "raw_postcode")  # fmt: skip
FINGERPRINT = ("fingerprint_a", "fingerprint_b")
_SEEDS = (0x6472_6167_6F6E, 0x7265_636F_7264)  # fixed: a fingerprint is the same in every process
MERGE_FROM = 1000  # misses a screening adds to the file; fewer are normalised again next time (cheaper than a rewrite)

Write = Literal["replace", "merge", "none"]


def cache_dir(data_dir: Path) -> Path:
    """Where the records are kept under the data directory."""
    return data_dir / "linkage"


def cache_file(directory: Path, kind: str) -> Path:
    return directory / f"records-{kind}.parquet"


@lru_cache(maxsize=1)
def records_version() -> str:
    """What the cached records depend on: the normaliser's version, the digest of its reference data (generic
    address words), the versions of libphonenumber, pypinyin (absent: Hanzi kept as written) and Polars (its hash
    gives the fingerprints)."""
    digest = hashlib.sha256(normalise.ADDRESS_WORDS_FILE.read_bytes()).hexdigest()[:16]
    libraries = []
    for name in ("phonenumbers", "pypinyin", "polars"):
        try:
            libraries.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            libraries.append(f"{name}=none")
    pinyin = "pinyin" if normalise.HAS_PINYIN else "no-pinyin"
    return ";".join([f"normaliser={normalise.NORMALISER_VERSION}", f"address-words={digest}", pinyin, *libraries])


def with_fingerprints(frame: Any) -> Any:
    """A `party_frame` with the 128-bit fingerprint of its input fields (column-wise, in Polars)."""
    import polars as pl

    # A struct's hash combines its fields' hashes, a null's apart from an empty text's, so no shift of text
    # between fields and no null written as "" gives the same fingerprint.
    fields = pl.struct(*INPUT_COLUMNS)
    return frame.with_columns(*(fields.hash(seed).alias(name) for name, seed in zip(FINGERPRINT, _SEEDS, strict=True)))


def cache_schema() -> Any:
    """A cache file's columns: the fingerprint, then the record's columns but its id."""
    import pyarrow as pa

    fields = [pa.field(FINGERPRINT[0], pa.uint64()), pa.field(FINGERPRINT[1], pa.uint64())]
    return pa.schema(fields + [f for f in record_schema() if f.name != "unique_id"])


def read_cached(directory: Path, kind: str) -> Any:
    """The cached records of `kind` as an Arrow table (cache_schema, no metadata), or None: no file, or one that
    cannot be trusted (another version, truncated, other columns), which is ignored with a log line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = cache_file(directory, kind)
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        logger.warning("linkage: record cache %s ignored: unreadable (%s)", path, exc)
        return None
    found = (table.schema.metadata or {}).get(VERSION_KEY, b"").decode("utf-8", "replace")
    if found != records_version():
        logger.info("linkage: record cache %s ignored: written by normaliser %r, not %r", path, found,
                    records_version())  # fmt: skip
        return None
    table = table.replace_schema_metadata(None)
    if not table.schema.equals(cache_schema()):
        logger.warning("linkage: record cache %s ignored: unexpected columns", path)
        return None
    return table


def write_cached(directory: Path, kind: str, records: Any) -> None:
    """Write the records of `kind` (a Polars frame with cache_schema's columns, one row a fingerprint) whole, to a
    temporary file renamed over the old one."""
    import pyarrow.parquet as pq

    table = records.select(cache_schema().names).to_arrow().cast(cache_schema())
    table = table.replace_schema_metadata({VERSION_KEY: records_version().encode("utf-8")})
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".records-{kind}-", suffix=".parquet", dir=directory)
    os.close(handle)
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, cache_file(directory, kind))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class CachedRecords:
    table: Any  # the normalised records, row for row in the order of the parties (resolve.record_schema)
    hits: int  # records read from the cache
    misses: int  # records normalised here


def cached_records_table(parties: Sequence[PartyInput], directory: Path | None, *, write: Write) -> CachedRecords:
    """`resolve.records_table(parties)`, with the records found in the cache under `directory` read back and only
    the others normalised. `write`: "replace" makes each kind's file hold these parties' records (a resolution run
    over every party), "merge" adds the misses to what is there when they are MERGE_FROM or more (a screening over
    part of them), "none" leaves the files alone. `directory` None: no cache, everything normalised.

    The records stay in Arrow as read: each party gets the row of its record in the cached and freshly normalised
    tables (one join on the fingerprint that keeps the parties' order), and one `take` puts them in that order."""
    import polars as pl
    import pyarrow as pa

    frame = with_fingerprints(party_frame(parties))
    if directory is None or not parties:
        records = normalised_records(frame)
        return CachedRecords(records.to_arrow().cast(record_schema()), 0, len(parties))
    frame = frame.with_row_index("order")
    sources = _Sources()
    kinds = frame.get_column("kind").unique().drop_nulls().to_list()
    for kind in kinds:
        one_kind = len(kinds) == 1 and frame.get_column("kind").null_count() == 0  # the usual case: no filter
        of_kind = frame if one_kind else frame.filter(pl.col("kind") == kind)
        cached = read_cached(directory, kind)
        fresh = sources.add(of_kind, cached)
        if write == "replace":
            _write_unique(directory, kind, sources.records_of(of_kind))
        elif write == "merge" and fresh.num_rows >= MERGE_FROM:
            _write_unique(directory, kind, fresh if cached is None else pa.concat_tables([cached, fresh]))
    unnamed = frame.filter(pl.col("kind").is_null())  # no kind: nothing to file it under, normalised every time
    if unnamed.height:
        sources.add(unnamed, None)
    table = sources.in_order().drop_columns(list(FINGERPRINT))
    table = table.add_column(0, "unique_id", frame.get_column("unique_id").to_arrow())
    return CachedRecords(table.cast(record_schema()), sources.hits, sources.misses)


class _Sources:
    """The record tables the parties' records are taken from (cache_schema each: a kind's cached file, the records
    normalised here), with where each party's record is in their concatenation."""

    def __init__(self) -> None:
        self.tables: list[Any] = []
        self.rows = 0  # rows of the tables so far
        self.positions: list[Any] = []  # Polars frames (order, at): a party's row in the concatenated tables
        self.hits = self.misses = 0

    def add(self, parties: Any, cached: Any) -> Any:
        """Point `parties` (a fingerprinted party frame with its `order`) at their rows of `cached` (or None),
        normalise the others; the table of the records normalised here (cache_schema)."""
        import polars as pl

        if cached is None:
            at = parties.select("order", pl.lit(None, pl.Int64).alias("at"))
        else:
            keys = pl.DataFrame(cached.select(list(FINGERPRINT))).with_row_index("at")  # one row a fingerprint
            at = parties.select("order", *FINGERPRINT).join(keys, on=FINGERPRINT, how="left", maintain_order="left")
            at = at.select("order", pl.col("at").cast(pl.Int64))
        missed = at.get_column("at").is_null()
        fresh = normalised_records(parties.filter(missed), keep=FINGERPRINT)
        fresh = fresh.select(cache_schema().names).to_arrow().cast(cache_schema())
        cached_rows = 0 if cached is None else cached.num_rows
        # a hit: its row of the cached table; a miss: its row of the fresh one, which follows it
        fresh_row = self.rows + cached_rows + missed.cast(pl.Int64).cum_sum() - 1
        self.positions.append(at.with_columns(pl.when(missed).then(fresh_row).otherwise(pl.col("at") + self.rows)))
        self.tables += [*([] if cached is None else [cached]), fresh]
        self.rows += cached_rows + fresh.num_rows
        self.hits, self.misses = self.hits + at.height - fresh.num_rows, self.misses + fresh.num_rows
        return fresh

    def records_of(self, parties: Any) -> Any:
        """The records of `parties` (added before), row for row."""
        import polars as pl

        at = parties.select("order").join(pl.concat(self.positions), on="order", how="left", maintain_order="left")
        return self._take(at.get_column("at"))

    def in_order(self) -> Any:
        """Every added party's record, in the parties' order."""
        import polars as pl

        positions = self.positions[0] if len(self.positions) == 1 else pl.concat(self.positions).sort("order")
        return self._take(positions.get_column("at"))

    def _take(self, at: Any) -> Any:
        import pyarrow as pa

        return pa.concat_tables(self.tables).take(at.to_arrow())


def _write_unique(directory: Path, kind: str, records: Any) -> None:
    """Write a kind's records (an Arrow table, cache_schema), one row a fingerprint (the last one given)."""
    import polars as pl

    rows = pl.DataFrame(records)
    write_cached(directory, kind, rows.unique(FINGERPRINT, keep="last", maintain_order=True))
