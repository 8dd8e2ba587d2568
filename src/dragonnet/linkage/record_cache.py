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
    """The cached records of `kind` as a Polars frame (cache_schema), or None: no file, or one that cannot be
    trusted (another version, truncated, other columns), which is ignored with a log line."""
    import polars as pl
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
    if not table.schema.remove_metadata().equals(cache_schema()):
        logger.warning("linkage: record cache %s ignored: unexpected columns", path)
        return None
    return pl.from_arrow(table)


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
    part of them), "none" leaves the files alone. `directory` None: no cache, everything normalised."""
    import polars as pl

    frame = with_fingerprints(party_frame(parties)).with_row_index("order")
    if directory is None or not parties:
        records = normalised_records(frame)
        return CachedRecords(records.to_arrow().cast(record_schema()), 0, len(parties))
    pieces, hits, misses = [], 0, 0
    for kind in frame.get_column("kind").unique().drop_nulls().to_list():
        of_kind = frame.filter(pl.col("kind") == kind)
        cached = read_cached(directory, kind)
        if cached is None:
            found, missing = None, of_kind
        else:
            found = of_kind.select("order", "unique_id", *FINGERPRINT).join(cached, on=FINGERPRINT, how="inner")
            missing = of_kind.join(cached.select(FINGERPRINT), on=FINGERPRINT, how="anti")
        fresh = normalised_records(missing, keep=("order", *FINGERPRINT))
        hits, misses = hits + (0 if found is None else found.height), misses + fresh.height
        kept = [] if found is None else [found]
        pieces += [*kept, fresh]
        if write == "replace" or (write == "merge" and fresh.height >= MERGE_FROM):
            rows = pl.concat([*kept, fresh], how="diagonal_relaxed")
            if write == "merge" and cached is not None:
                rows = pl.concat([cached, rows], how="diagonal_relaxed")
            write_cached(directory, kind, rows.unique(FINGERPRINT, keep="last", maintain_order=True))
    unnamed = frame.filter(pl.col("kind").is_null())  # no kind: nothing to file it under, normalised every time
    if unnamed.height:
        pieces.append(normalised_records(unnamed, keep=("order",)))
        misses += unnamed.height
    columns = record_schema().names
    records = pl.concat([p.select("order", *columns) for p in pieces], how="diagonal_relaxed").sort("order")
    return CachedRecords(records.select(columns).to_arrow().cast(record_schema()), hits, misses)
