"""Entity resolution of parties with Splink: one job, written once, run on DuckDB (default) or Apache Spark.

The model is Fellegi-Sunter: u probabilities from random pairs, m probabilities by expectation maximisation
(no labels), match weights per comparison level. Blocking rules are equi-joins on selective keys, so the
number of compared pairs grows with the blocks, not with the square of the records. Pairs at or above the
threshold are links; analysts' decisions override the model (a rejected pair is never a link, a confirmed
pair always is); clusters are the connected components of the links, computed here (the same code for both
backends, so the same pairs give the same clusters).

Comparisons use only functions both backends have natively (equality, Levenshtein, array intersection), so
DuckDB and Spark score pairs alike.
"""

# ruff: noqa: S608  (the SQL run on predictions holds a threshold written by Python as a float, never outside text)

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, chain
from pathlib import Path
from typing import Any, Literal

from dragonnet.cluster import SparkCluster, get_or_create, read_parquet, write_parquet
from dragonnet.linkage import normalise

Backend = Literal["duckdb", "spark"]
BACKENDS: tuple[Backend, ...] = ("duckdb", "spark")
DEFAULT_THRESHOLD = 0.95  # match probability at which a pair becomes a link

DEFAULT_MODEL_FILE = Path(__file__).with_name("data") / "default-model.json"  # scripts/build_linkage_model.py

RECORD_COLUMNS = (
    "unique_id", "kind", "name_key", "name_concat", "name_tokens", "name_prefix", "birth_date", "birth_year",
    "id_norm", "phone", "email", "nationality", "address_tokens", "address_key", "postcode",
)  # fmt: skip


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartyInput:
    """What the resolver needs of a party (the caller reads it from an access-scoped extract)."""

    party_id: int
    kind: str
    name: str
    nationality: str | None = None
    birth_date: dt.date | None = None
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    region: str | None = None  # the case's country, to read national phone numbers when nationality is empty
    address: str | None = None  # street, town, postcode as written (one text)
    postcode: str | None = None  # a postcode given apart from the address (else read from the address)


def to_record(p: PartyInput) -> dict[str, Any]:
    """The normalised record Splink compares."""
    tokens = normalise.name_tokens(p.name, kind=p.kind)
    key = " ".join(sorted(tokens)) or None
    concat = "".join(tokens) or None
    return {
        "unique_id": p.party_id,
        "kind": p.kind,
        "name_key": key,
        "name_concat": concat,
        "name_tokens": sorted(set(tokens)) or None,
        "name_prefix": (key.replace(" ", "")[:6] if key else None),
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "birth_year": p.birth_date.year if p.birth_date else None,
        "id_norm": normalise.code(p.id_number),
        "phone": normalise.e164(p.phone, p.nationality or p.region),
        "email": normalise.email(p.email),
        "nationality": p.nationality,
        **address_fields(p.address, p.postcode),
    }


def address_fields(address: str | None, postcode: str | None = None) -> dict[str, Any]:
    """The address columns of a record: its tokens (generic words dropped), the sorted tokens as one key, the
    postcode (the one given, else the one read from the address)."""
    parts = normalise.address(address)
    tokens = sorted(set(parts.tokens))
    given = normalise.code(postcode)
    return {
        "address_tokens": tokens or None,
        "address_key": " ".join(tokens) or None,
        "postcode": given or parts.postcode,
    }


# Each distinct name, phone, document number and address is normalised once per run (a few of them are the bulk of the
# records: the same courier, the same common names), everything else is column arithmetic in Polars. Many
# distinct names or phones are split between this process and a pool using the other cores (transliteration
# and libphonenumber are pure Python, one core each; Splink, which comes next, uses them all anyway).
# A spawned process costs about a second before its first value (the interpreter, the caller's main module, then
# pypinyin's dictionaries and libphonenumber's metadata loaded afresh) against some 16 us a value here: at 100,000
# records (23,000 distinct names, 42,000 phones) the pool took 1.9-2.2 s and this process alone 1.1 s.
PARALLEL_FROM = 200_000  # distinct values; below this starting a second process costs more than it saves


def map_distinct(batch_fn: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    """`batch_fn(items)`, the items split between this process and one process per other core when many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_FROM or workers < 2:
        return batch_fn(items)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(items) // workers)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    # spawn, not fork: DuckDB's and Polars' threads may hold locks a forked child would inherit
    with ProcessPoolExecutor(len(chunks) - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(batch_fn, chunk) for chunk in chunks[1:]]
        out = batch_fn(chunks[0])
        for future in futures:
            out.extend(future.result())
    return out


def records_table(parties: Sequence[PartyInput]) -> Any:
    """The normalised records of `parties` as an Arrow table (the columns `to_record` gives, row for row):
    names, phones, document numbers and addresses are normalised once per distinct value, the rest column-wise."""
    return normalised_records(party_frame(parties)).to_arrow().cast(record_schema())


def party_frame(parties: Sequence[PartyInput]) -> Any:
    """The parties' input fields as a Polars frame (what `normalised_records` reads; `record_cache` fingerprints
    the same columns). Built by Arrow from each party's attribute dict in one pass (a column of Python values per
    field, eleven passes, took twice as long at 10^6 parties), then renamed."""
    import polars as pl
    import pyarrow as pa

    types = {"party_id": pa.int64(), "birth_date": pa.date32()}  # the others are text
    fields = pa.struct([(attribute, types.get(attribute, pa.string())) for attribute in _PARTY_COLUMNS])
    columns = pa.Table.from_struct_array(pa.array([vars(p) for p in parties], fields))
    frame = pl.from_arrow(columns.rename_columns(list(_PARTY_COLUMNS.values())))
    return frame.cast(_party_frame_schema())


# PartyInput's attributes -> party_frame's columns (the "raw_" ones are the inputs of a normalised column's name)
_PARTY_COLUMNS = {
    "party_id": "unique_id", "kind": "kind", "name": "name", "nationality": "nationality", "birth_date": "birth",
    "id_number": "id_number", "phone": "raw_phone", "email": "raw_email", "region": "region", "address": "address",
    "postcode": "raw_postcode",
}  # fmt: skip


def _party_frame_schema() -> Any:
    import polars as pl

    return {"unique_id": pl.Int64, "kind": pl.Utf8, "name": pl.Utf8, "nationality": pl.Utf8, "birth": pl.Date,
            "id_number": pl.Utf8, "raw_phone": pl.Utf8, "raw_email": pl.Utf8, "region": pl.Utf8,
            "address": pl.Utf8, "raw_postcode": pl.Utf8}  # fmt: skip


def normalised_records(frame: Any, keep: Sequence[str] = ()) -> Any:
    """The normalised records (a Polars frame with the record columns, row for row) of a `party_frame`; the
    frame's columns named in `keep` are carried along after them."""
    import polars as pl

    frame = frame.join(_distinct_names(frame), on=["name", "kind"], how="left", nulls_equal=True, maintain_order="left")
    frame = frame.join(_distinct_codes(frame), on="id_number", how="left", nulls_equal=True, maintain_order="left")
    frame = _with_phones(frame)
    frame = _with_addresses(frame)
    raw_email = pl.col("raw_email").str.strip_chars()
    return frame.select(
        "unique_id", "kind", "name_key", "name_concat", "name_tokens", "name_prefix",
        pl.col("birth").dt.strftime("%Y-%m-%d").alias("birth_date"),
        pl.col("birth").dt.year().cast(pl.Int64).alias("birth_year"),
        "id_norm", "phone",
        pl.when(pl.col("raw_email").str.contains("@", literal=True)).then(raw_email.str.to_lowercase())
        .alias("email"),
        "nationality", "address_tokens", "address_key", "postcode", *keep,
    )  # fmt: skip


def text_lists(name: str, lists: Sequence[Sequence[str]]) -> Any:
    """A Polars List(Utf8) series of Python lists of text, built from one flat Arrow array and its offsets:
    Polars' own constructor checks the lists one by one (a second per 100,000 names)."""
    import polars as pl
    import pyarrow as pa

    offsets = pa.array(list(accumulate(map(len, lists), initial=0)), pa.int64())
    flat = pa.array(list(chain.from_iterable(lists)), pa.string())
    return pl.Series(name, pa.LargeListArray.from_arrays(offsets, flat), dtype=pl.List(pl.Utf8))


def _distinct_names(frame: Any) -> Any:
    import polars as pl

    names = frame.select("name", "kind").unique()
    tokens = map_distinct(normalise.name_tokens_many, [(n or "", k) for n, k in names.iter_rows()])
    names = names.with_columns(text_lists("tokens", tokens))
    key = pl.col("tokens").list.sort().list.join(" ")
    concat = pl.col("tokens").list.join("")
    return names.select(
        "name", "kind",
        pl.when(key != "").then(key).alias("name_key"),
        pl.when(concat != "").then(concat).alias("name_concat"),
        pl.when(pl.col("tokens").list.len() > 0).then(pl.col("tokens").list.unique().list.sort())
        .alias("name_tokens"),
        pl.when(key != "").then(key.str.replace_all(" ", "", literal=True).str.slice(0, 6)).alias("name_prefix"),
    )  # fmt: skip


def _distinct_codes(frame: Any) -> Any:
    """`normalise.code` per distinct document number: column-wise for ASCII text (folding changes nothing there
    but the case: letters and digits kept, upper-cased), in Python for the rest (any script, diacritics)."""
    import polars as pl

    ids = frame.select("id_number").unique().drop_nulls()
    other = pl.col("id_number").str.contains(r"[^\x00-\x7F]")
    plain = pl.col("id_number").str.replace_all(r"[^A-Za-z0-9]+", "").str.to_uppercase()
    ascii_ids = ids.filter(~other).with_columns(pl.when(plain != "").then(plain).alias("id_norm"))
    rest = ids.filter(other)
    rest = rest.with_columns(pl.Series("id_norm", [normalise.code(v) for v in rest["id_number"]], dtype=pl.Utf8))
    return pl.concat([ascii_ids, rest])


def _with_phones(frame: Any) -> Any:
    """E.164 per distinct (number, region read in): the region only matters for numbers without a '+', and
    spacing and dashes never matter, so they are dropped from the key first (what libphonenumber ignores)."""
    import polars as pl

    region = pl.coalesce(pl.when(pl.col("nationality") != "").then(pl.col("nationality")), pl.col("region"))
    compact = pl.col("raw_phone").str.replace_all(r"[\s\-.()]", "")
    plain = compact.str.contains(r"^\+?[0-9]+$")
    frame = frame.with_columns(
        pl.when(plain).then(compact).otherwise(pl.col("raw_phone")).alias("phone_key"),
        pl.when(plain & compact.str.starts_with("+")).then(pl.lit(None, pl.Utf8)).otherwise(region)
        .alias("phone_region"),
    )  # fmt: skip
    keys = frame.select("phone_key", "phone_region").unique().filter(pl.col("phone_key").is_not_null())
    phones = map_distinct(normalise.e164_many, list(keys.iter_rows()))
    keys = keys.with_columns(pl.Series("phone", phones, dtype=pl.Utf8))
    return frame.join(keys, on=["phone_key", "phone_region"], how="left", nulls_equal=True, maintain_order="left")


def _with_addresses(frame: Any) -> Any:
    """The address columns (`address_fields`): each distinct address read once, each distinct postcode given
    apart normalised once; the postcode given wins over the one read from the address."""
    import polars as pl

    texts = frame.select("address").unique().drop_nulls()
    read = map_distinct(normalise.address_many, texts["address"].to_list())
    texts = texts.with_columns(
        text_lists("tokens", [tokens for tokens, _postcode in read]),
        pl.Series("read_postcode", [postcode for _tokens, postcode in read], dtype=pl.Utf8),
    )
    key = pl.col("tokens").list.join(" ")
    texts = texts.select(
        "address", "read_postcode",
        pl.when(pl.col("tokens").list.len() > 0).then(pl.col("tokens")).alias("address_tokens"),
        pl.when(key != "").then(key).alias("address_key"),
    )  # fmt: skip
    given = frame.select("raw_postcode").unique().drop_nulls()
    given = given.with_columns(
        pl.Series("given_postcode", [normalise.code(v) for v in given["raw_postcode"]], dtype=pl.Utf8)
    )
    frame = frame.join(texts, on="address", how="left", maintain_order="left")
    frame = frame.join(given, on="raw_postcode", how="left", maintain_order="left")
    return frame.with_columns(pl.coalesce("given_postcode", "read_postcode").alias("postcode"))


# --- the Splink model ---------------------------------------------------------------------------------------


def splink_settings(*, defaults: bool = False) -> Any:
    """dragonnet's settings; `defaults=True` gives plain Splink comparisons (the benchmark's baseline)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if defaults:
        comparisons: list[Any] = [
            cl.NameComparison("name_key"),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("id_norm"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("email"),
            cl.ExactMatch("nationality"),
        ]
    else:
        comparisons = [
            cl.CustomComparison(
                [
                    cll.NullLevel("name_key"),
                    cll.ExactMatchLevel("name_key"),
                    cll.ExactMatchLevel("name_concat"),
                    cll.LevenshteinLevel("name_concat", 2),
                    cll.ArrayIntersectLevel("name_tokens", 2),
                    cll.ArrayIntersectLevel("name_tokens", 1),
                    cll.ElseLevel(),
                ],
                output_column_name="name",
            ),
            cl.CustomComparison(
                [
                    cll.NullLevel("birth_date"),
                    cll.ExactMatchLevel("birth_date"),
                    cll.LevenshteinLevel("birth_date", 1),
                    cll.ElseLevel(),
                ],
                output_column_name="birth_date",
            ),
            cl.CustomComparison(
                [
                    cll.NullLevel("id_norm"),
                    cll.ExactMatchLevel("id_norm"),
                    cll.LevenshteinLevel("id_norm", 1),
                    cll.ElseLevel(),
                ],
                output_column_name="id_norm",
            ),
            cl.ExactMatch("phone"),
            cl.ExactMatch("email"),
            cl.ExactMatch("nationality"),
            cl.CustomComparison(
                [
                    cll.NullLevel("address_key"),
                    cll.ExactMatchLevel("address_key"),
                    cll.ArrayIntersectLevel("address_tokens", 3),
                    cll.ArrayIntersectLevel("address_tokens", 2),
                    cll.ArrayIntersectLevel("address_tokens", 1),
                    cll.ElseLevel(),
                ],
                output_column_name="address",
            ),
            cl.ExactMatch("postcode"),
        ]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        # Name and date blocks use the capped keys (see `capped_block_keys`), so no block is larger than
        # BLOCK_CAP records and the pairs grow linearly with the records: at 10^6 parties the plain
        # name_key block alone gave 617 million pairs (the same "Nguyen Van Hung" thousands of times).
        blocking_rules_to_generate_predictions=[
            block_on("kind", "b_name"),
            block_on("kind", "b_name_year"),
            block_on("kind", "b_prefix_year"),
            block_on("id_norm"),
            block_on("phone"),
            block_on("email"),
            block_on("kind", "b_birth_date"),
            block_on("kind", "b_address"),
            block_on("kind", "b_postcode_year"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        probability_two_random_records_match=1e-4,
    )


@lru_cache(maxsize=1)
def _default_model_text() -> str:
    return DEFAULT_MODEL_FILE.read_text(encoding="utf-8")


def default_model() -> dict[str, Any]:
    """The shipped model (estimated on generated people of the region): for data too small to estimate one."""
    model: dict[str, Any] = json.loads(_default_model_text())
    return model


_PROBABILITIES = ("m_probability", "u_probability")


def model_for_backend(model: dict[str, Any], backend: Backend) -> dict[str, Any]:
    """A saved model in `backend`'s SQL dialect: a model is saved with its SQL (DuckDB's `list_intersect` is
    Spark's `array_intersect`), so for another backend the comparisons are rebuilt in its dialect and the
    estimated probabilities carried over, level by level, for the comparisons both have."""
    if model.get("sql_dialect") == backend:
        return model
    out: dict[str, Any] = splink_settings().get_settings(backend).as_dict()
    saved = {c["output_column_name"]: c["comparison_levels"] for c in model.get("comparisons", [])}
    for comparison in out["comparisons"]:
        levels = saved.get(comparison["output_column_name"])
        if levels is None or len(levels) != len(comparison["comparison_levels"]):
            continue  # not in the saved model (an older one): Splink's starting values
        for level, old in zip(comparison["comparison_levels"], levels, strict=True):
            level.update({k: old[k] for k in _PROBABILITIES if k in old})
    out["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    return out


def _db_api(backend: Backend, spark: Any = None) -> Any:
    if backend == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI()
    if backend == "spark":
        from splink import SparkAPI

        if spark is None:
            spark = local_spark()
        # The comparisons use Spark's own functions only: Splink's Scala UDF jar is not needed (nor reachable
        # through Spark Connect).
        return SparkAPI(spark_session=spark, break_lineage_method="persist", num_partitions_on_repartition=2,
                        register_udfs_automatically=False)  # fmt: skip
    raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")


def local_spark(cores: int = 1) -> Any:
    """A local SparkSession (one JVM per process; small shuffles)."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("dragonnet-linkage")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    return get_or_create(builder, f"local[{cores}]")


# At most this many records share a name or date blocking key; a more common key (a very common name, a
# placeholder birth date such as 1970-01-01) is left out of that block: those records can still meet through
# the other keys (name with birth year, documents, phones, e-mails). 100 records make at most 4,950 pairs.
BLOCK_CAP = 100
_CAPPED = {
    "b_name": ("name_key",),
    "b_name_year": ("name_key", "birth_year"),
    "b_prefix_year": ("name_prefix", "birth_year"),
    "b_birth_date": ("birth_date",),
    "b_address": ("address_key",),
    "b_postcode_year": ("postcode", "birth_year"),
}


def capped_block_keys(table: Any, cap: int = BLOCK_CAP) -> Any:
    """Add the b_* blocking columns to an Arrow table of records: the joined key where its (kind, key) block has
    at most `cap` records, else null. Counted in Arrow (vectorised), before any backend sees the records."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for out, columns in _CAPPED.items():
        parts = [pc.cast(table.column(c), pa.string()) for c in columns]
        key = pc.binary_join_element_wise(*parts, "|")  # null when any part is null
        counts = pa.table({"kind": table.column("kind"), "k": key}).group_by(["kind", "k"]).aggregate([("k", "count")])
        common = counts.filter(pc.greater(counts.column("k_count"), cap))
        if common.num_rows:
            # a key common within one kind is dropped for every kind: rare, and only loses candidate pairs
            key = pc.if_else(pc.is_in(key, value_set=common.column("k")), pa.scalar(None, pa.string()), key)
        table = table.append_column(out, key)
    return table


def record_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("unique_id", pa.int64()), ("kind", pa.string()), ("name_key", pa.string()),
            ("name_concat", pa.string()), ("name_tokens", pa.list_(pa.string())), ("name_prefix", pa.string()),
            ("birth_date", pa.string()), ("birth_year", pa.int64()), ("id_norm", pa.string()),
            ("phone", pa.string()), ("email", pa.string()), ("nationality", pa.string()),
            ("address_tokens", pa.list_(pa.string())), ("address_key", pa.string()), ("postcode", pa.string()),
        ]
    )  # fmt: skip


def blocked_table(records: Sequence[Mapping[str, Any]] | Any) -> Any:
    """Records (dicts as `to_record` gives, or the Arrow table of `records_table`) as an Arrow table with their
    capped blocking keys (`register` hands it to a backend)."""
    import pyarrow as pa

    table = records if isinstance(records, pa.Table) else pa.Table.from_pylist([dict(r) for r in records],
                                                                                schema=record_schema())  # fmt: skip
    return capped_block_keys(table)


def register(db_api: Any, table: Any) -> Any:
    """An Arrow table of records registered with a Splink backend. Spark gets it with its Arrow types: through
    pandas, a column with no value at all (no addresses) would lose its type and Spark could not compare it."""
    if hasattr(db_api, "spark"):
        return db_api.register(db_api.spark.createDataFrame(table))
    return db_api.register(table)


@dataclass(frozen=True)
class ScoredPair:
    left: int
    right: int
    match_probability: float
    match_weight: float


@dataclass
class Resolution:
    """The outcome of one run: scored candidate pairs, links after decisions, clusters."""

    backend: str
    threshold: float
    records: int
    compared_pairs: int  # pairs the blocking produced, each compared and scored (not only those predicted)
    pairs: list[ScoredPair]  # at or above the threshold (before decisions)
    links: list[tuple[int, int]]  # after decisions
    clusters: dict[int, int]  # party id -> cluster id (the smallest party id of the cluster)
    model: dict[str, Any] = field(default_factory=dict)
    pairs_above_threshold: int = 0  # scored pairs at or above the threshold (before decisions)
    output: str | None = None  # on a Spark cluster: the run's folder of Parquet files (see SparkCluster)

    def cluster_members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for pid, cid in self.clusters.items():
            out.setdefault(cid, []).append(pid)
        return {k: sorted(v) for k, v in sorted(out.items())}


# EM runs twice, each time on pairs blocked on fields the other session estimates. The capped key bounds the
# pairs; the plain column beside it (same pairs) tells Splink which comparison the session cannot estimate.
TRAINING_BLOCKS = (("kind", "name_key", "b_name"), ("kind", "birth_date", "b_birth_date"))


def train(
    linker: Any, *, seed: int = 7, max_pairs_u: float = 2e6, min_em_pairs: int = 0, table: Any = None,
    records: int | None = None,
) -> None:  # fmt: skip
    """Estimate the Fellegi-Sunter model of `linker` from its records (EM, no labels).

    An EM session on fewer than `min_em_pairs` blocked pairs is skipped: a handful of pairs (a short list
    against a reference without duplicates) teaches EM nothing but noise, and Splink's starting m values are
    the better guess (`table`: the linker's records registered where the pairs are counted, see
    `pair_counting_table`). `records`: how many records the linker dedupes, when the caller knows (see
    `u_chunks`)."""
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

    # The prior from near-certain rules (same passport/registration; same name and birth date), recall assumed 0.7.
    # Records without any such pair (every party distinct) would give a prior of 0, which no model can use: the
    # settings' prior stays then.
    deterministic = [block_on("kind", "id_norm"), block_on("kind", "name_key", "birth_date")]
    if table is None or _blocked_pairs(table, deterministic) > 0:
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    else:
        logger.info(
            "linkage: no near-certain pair; the prior stays %s",
            linker.misc.save_model_to_json().get("probability_two_random_records_match"),
        )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=max_pairs_u, seed=seed, num_chunks=u_chunks(records, max_pairs_u)
    )
    for columns in TRAINING_BLOCKS:
        if min_em_pairs and table is not None and _blocked_pairs(table, block_on(*columns)) < min_em_pairs:
            logger.info("linkage: EM training on %s skipped: fewer than %d pairs", ", ".join(columns), min_em_pairs)
            continue
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), estimate_without_term_frequencies=True
            )
        except EMTrainingException:
            # No pairs to learn from in this block (tiny data, or every key too common): the comparisons keep
            # the estimates of the other session, or Splink's starting values.
            logger.warning("linkage: EM training on %s found no pairs; skipped", ", ".join(columns))
    give_unseen_levels_a_u(linker, max_pairs_u)


U_CHUNKS = 10  # Splink's default


def u_chunks(records: int | None, max_pairs_u: float) -> int:
    """How many chunks Splink's u estimate takes: one when every pair of the `records` fits in the sample.

    Splink splits the sampled pairs into chunks to bound memory and to stop early once every level has been seen
    often enough. When the sample is every pair, one pass counts them all: the u values are those of all the
    pairs, not of the first chunks; where no level would stop the chunks early they are the same values. The
    chunks would only repeat the pass's fixed cost: on a Spark standalone cluster, 73 records took 100 s in
    chunks against 21 s in one pass."""
    if records is not None and records * (records - 1) / 2 <= max_pairs_u:
        return 1
    return U_CHUNKS


def give_unseen_levels_a_u(linker: Any, max_pairs_u: float) -> None:
    """A level no random pair agreed on (every person their own phone: none of 10^6 random pairs shares one) gets
    u = 1 / the pairs sampled, the most it can be for none to be seen. Splink marks it "not observed", predicts
    with u = 1e-6 in the run that trained it but saves it without a u, so a model read back (the operator's stored
    model a screening uses) gave the level no weight: a phone match counted for nothing."""
    for comparison in linker._settings_obj.comparisons:  # Splink has no public setter for a trained u
        for level in comparison.comparison_levels:
            if not level.is_null_level and level._m_is_trained and not level._u_is_trained:
                level.u_probability = 1.0 / max_pairs_u


def pair_counting_table(backend: Backend, table: Any, blocked: Any) -> Any:
    """Where `train` counts blocked pairs: the linker's own `table` on DuckDB; for Spark, the same records
    (`blocked`, the Arrow table registered as `table`) in DuckDB. The counts are the same (equality blocking
    rules), and on Spark each count is a few jobs: 19 s of a 73-record resolution on a standalone cluster."""
    if backend == "duckdb":
        return table
    return register(_db_api("duckdb"), blocked)


def _blocked_pairs(table: Any, rule: Any) -> int:  # rule: one blocking rule or a list of them
    """How many pairs a training block gives in a dedupe job (counted exactly by Splink's blocking analysis)."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    records = count_comparisons_from_blocking_rules(
        table, blocking_rules=rule, link_type="dedupe_only", unique_id_column_name="unique_id",
        record_sample_proportion=1.0,
    )  # fmt: skip
    return int(records[-1]["cumulative_comparison_count"])


@dataclass(frozen=True)
class PairCounts:
    """What a run did with the pairs: every blocked pair is compared field by field and scored by the model."""

    compared: int  # candidate pairs the blocking rules produced (each compared field by field)
    scored: int  # pairs the model gave a match probability (Splink scores every compared pair)
    above: int  # pairs at or above the threshold


def count_pairs(predictions: Any, threshold: float, *, below_id: int | None = None) -> PairCounts:
    """Count a Splink prediction (made without a threshold) in the backend, without moving the pairs out;
    `below_id`: only the pairs of records whose ids are both below it. (The SQL holds numbers written by Python,
    never text from outside.)"""
    where = "" if below_id is None else f" WHERE unique_id_l < {int(below_id)} AND unique_id_r < {int(below_id)}"
    row = predictions.query_sql(
        "SELECT count(*) AS compared, count(match_probability) AS scored, "
        f"sum(CASE WHEN match_probability >= {float(threshold)!r} THEN 1 ELSE 0 END) AS above FROM {{this}}{where}"
    ).as_record_list()[0]
    return PairCounts(compared=int(row["compared"]), scored=int(row["scored"]), above=int(row["above"] or 0))


def above_threshold(predictions: Any, threshold: float) -> list[ScoredPair]:
    """The scored pairs at or above `threshold` (ids as the records gave them, low id first)."""
    return scored_pairs(above_threshold_table(predictions, threshold))


def above_threshold_table(predictions: Any, threshold: float) -> Any:
    """The scored pairs at or above `threshold` as an Arrow table (unique_id_l, unique_id_r, match_probability,
    match_weight; a pair's ids either way round), for callers that read them column-wise."""
    return predictions.query_sql(
        "SELECT unique_id_l, unique_id_r, match_probability, match_weight FROM {this} "
        f"WHERE match_probability >= {float(threshold)!r}"
    ).as_pyarrow_table()


def scored_pairs(rows: Any) -> list[ScoredPair]:
    """An Arrow table of (unique_id_l, unique_id_r, match_probability, match_weight) as pairs, low id first."""
    return [
        ScoredPair(min(int(a), int(b)), max(int(a), int(b)), float(p), float(w))
        for a, b, p, w in zip(*(rows.column(i).to_pylist() for i in range(4)), strict=True)
    ]


def train_and_predict(
    records: Sequence[Mapping[str, Any]] | Any,
    *,
    backend: Backend = "duckdb",
    threshold: float = DEFAULT_THRESHOLD,
    defaults: bool = False,
    spark: Any = None,
    seed: int = 7,
    max_pairs_u: float = 2e6,
    run_dir: str | None = None,
) -> tuple[list[ScoredPair], PairCounts, dict[str, Any]]:
    """Train the Fellegi-Sunter model on `records` (dicts as `to_record` gives, or the Arrow table of
    `records_table`) (EM, no labels) and score the blocked pairs.

    Returns the pairs at or above min(threshold, 0.5) (the caller applies the threshold and decisions), the
    counts of pairs compared, scored and at the threshold, and the model.

    `spark` is a SparkSession (the records go to it from memory) or a `SparkCluster` (its session is opened
    here and stopped at the end; records and pairs go through Parquet files under `run_dir`)."""
    if isinstance(spark, SparkCluster):
        if backend != "spark":
            raise ValueError("a Spark cluster needs backend='spark'")
        cluster = spark
        session = cluster.session()
        try:
            return _train_and_predict(records, backend, threshold, defaults, session, seed, max_pairs_u,
                                      run_dir or cluster.run_dir())  # fmt: skip
        finally:
            session.stop()
    return _train_and_predict(records, backend, threshold, defaults, spark, seed, max_pairs_u, None)


def _train_and_predict(
    records: Sequence[Mapping[str, Any]] | Any, backend: Backend, threshold: float, defaults: bool, spark: Any,
    seed: int, max_pairs_u: float, run_dir: str | None,
) -> tuple[list[ScoredPair], PairCounts, dict[str, Any]]:  # fmt: skip
    from splink import Linker

    db_api = _db_api(backend, spark)
    blocked = blocked_table(records)
    if run_dir is not None:
        # The cluster reads its input from the shared location, not from this process's memory (Parquet keeps
        # the Arrow types, an all-null column too).
        write_parquet(blocked, f"{run_dir}/records.parquet")
        table = db_api.register(spark.read.parquet(f"{run_dir}/records.parquet"))
    else:
        table = register(db_api, blocked)
    linker = Linker(table, splink_settings(defaults=defaults), log_level=logging.ERROR)
    train(linker, seed=seed, max_pairs_u=max_pairs_u, table=pair_counting_table(backend, table, blocked),
          records=blocked.num_rows)  # fmt: skip
    predictions = linker.inference.predict()
    counts = count_pairs(predictions, threshold)
    floor = min(threshold, 0.5)
    if run_dir is not None:
        # The cluster writes the scored pairs where this process reads them back.
        scored = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
        frame = predictions.as_spark_dataframe()
        frame.where(frame["match_probability"] >= floor).select(*scored).write.mode("overwrite").parquet(
            f"{run_dir}/pairs.parquet"
        )
        pairs = scored_pairs(read_parquet(f"{run_dir}/pairs.parquet").select(scored))
    else:
        pairs = above_threshold(predictions, floor)
    model = linker.misc.save_model_to_json()
    return pairs, counts, model


def connected_components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Union-find: node -> the smallest node of its component."""
    parent: dict[int, int] = {n: n for n in nodes}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return {n: find(n) for n in parent}


def apply_decisions(
    pairs: Iterable[ScoredPair], threshold: float, decisions: Mapping[tuple[int, int], str]
) -> list[tuple[int, int]]:
    """Links: pairs at the threshold, minus rejected pairs, plus confirmed pairs (keys are (low, high) ids)."""
    links = {(p.left, p.right) for p in pairs if p.match_probability >= threshold}
    for pair, decision in decisions.items():
        key = (min(pair), max(pair))
        if decision == "reject":
            links.discard(key)
        elif decision == "confirm":
            links.add(key)
    return sorted(links)


def resolve(
    parties: Sequence[PartyInput],
    *,
    backend: Backend = "duckdb",
    threshold: float = DEFAULT_THRESHOLD,
    decisions: Mapping[tuple[int, int], str] | None = None,
    defaults: bool = False,
    spark: Any = None,
    records: Any = None,
) -> Resolution:
    """Resolve `parties` into entities. Decisions only concern pairs of parties in `parties`. `records`: their
    normalised records when the caller has them (`record_cache`), else they are normalised here."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if records is None:
        records = records_table(parties)
    ids = {p.party_id for p in parties}
    scoped = {k: v for k, v in (decisions or {}).items() if k[0] in ids and k[1] in ids}
    if records.num_rows < 2:
        return Resolution(backend, threshold, records.num_rows, 0, [], [], {i: i for i in ids})
    run_dir = spark.run_dir() if isinstance(spark, SparkCluster) else None
    pairs, counts, model = train_and_predict(
        records, backend=backend, threshold=threshold, defaults=defaults, spark=spark, run_dir=run_dir
    )
    above = sorted((p for p in pairs if p.match_probability >= threshold), key=lambda p: (p.left, p.right))
    links = apply_decisions(above, threshold, scoped)
    clusters = connected_components(sorted(ids), links)
    if run_dir is not None:
        import pyarrow as pa

        members = sorted(clusters.items())
        write_parquet(pa.table({"party_id": pa.array([m[0] for m in members], pa.int64()),
                                "cluster_id": pa.array([m[1] for m in members], pa.int64())}),
                      f"{run_dir}/clusters.parquet")  # fmt: skip
    return Resolution(backend, threshold, records.num_rows, counts.compared, above, links, clusters, model,
                      pairs_above_threshold=counts.above, output=run_dir)  # fmt: skip
