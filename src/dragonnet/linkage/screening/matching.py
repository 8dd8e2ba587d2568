"""Matching a list against reference records with Splink: the screening's engine, without a database.

The Fellegi-Sunter model is the resolver's (`resolve.splink_settings`: names in any order and script, dates,
documents, phones, e-mails, nationality, addresses): the one the operator's latest resolution run estimated on
every party of the operation when there is one, else estimated here without labels: on the pairs between the list
and the reference (link-only, as bare Splink's link-only run) when they are enough to learn from, else on the list
and the reference records together (a short manifest: the reference's own duplicates teach it what a match looks
like), or, for fewer records than that needs, the shipped default model (`data/default-model.json`). It is
asked only for pairs *between* the list and the reference (`predict_between`): a manifest is never compared with
itself, the reference never with itself. Counters are counted in the backend: the pairs the blocking rules
produced (each compared field by field), the pairs scored, the pairs at or above the threshold.

`hidden` reference records (those the screener may not see: `policy.matches.screening_hidden_parties`) are matched
in the same run, so that the run's time does not depend on them, but counted nowhere: their hits come back apart
(`MatchRun.hidden_matches`) and become screening notices.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from rapidfuzz.distance import Levenshtein

from dragonnet.linkage.record_cache import cached_records_table
from dragonnet.linkage.resolve import (
    Backend,
    PairCounts,
    PartyInput,
    _db_api,
    above_threshold_table,
    blocked_table,
    count_pairs,
    default_model,
    give_unseen_levels_a_u,
    model_for_backend,
    pair_counting_table,
    records_table,
    register,
    splink_settings,
    train,
)
from dragonnet.progress import Progress, no_progress

DEFAULT_THRESHOLD = 0.9  # a hit is a lead for an officer to check: recall weighs more than in resolution
MAX_PAIRS_U = 1e6  # random pairs for the u estimates (Splink's FEBRL4 example's value; 3/4 of a screening's time)
MIN_RECORDS_TO_ESTIMATE = 2000  # fewer records (list and reference together): the shipped default model
MIN_EM_PAIRS = 100  # fewer blocked pairs than this in a training block: keep Splink's starting m values
EVIDENCE_FIELDS = ("name", "birth_date", "id_number", "phone", "email", "nationality", "address", "postcode")


@dataclass(frozen=True)
class PairMatch:
    """A list row and a reference record the model matched, with the fields that agreed."""

    row: int  # the list record's party_id
    reference: int  # the reference record's party_id
    probability: float
    weight: float
    agreed: dict[str, str]  # field -> "exact" or "similar"


@dataclass
class MatchRun:
    list_records: int
    reference_records: int
    threshold: float
    counts: PairCounts = field(default_factory=lambda: PairCounts(0, 0, 0))
    matches: list[PairMatch] = field(default_factory=list)
    hidden_matches: list[PairMatch] = field(default_factory=list)  # on `hidden` references: no evidence kept
    seconds: float = 0.0
    model_source: str = "estimated"  # estimated here (see trained_on); "stored" (given); "default" (shipped)
    model: dict[str, Any] | None = None  # the model estimated here (None when a stored one was given)
    cached_records: int = 0  # reference records read from the record cache instead of normalised
    trained_on: str | None = None  # estimated here on the pairs "between" list and reference, or on both "together"


def agreement(left: dict[str, Any], right: dict[str, Any]) -> dict[str, str]:
    """Which fields of two normalised records agree ("exact") or nearly agree ("similar"): the evidence shown."""
    out: dict[str, str] = {}

    def close(a: str | None, b: str | None, distance: int) -> bool:
        return bool(a and b) and Levenshtein.distance(str(a), str(b), score_cutoff=distance) <= distance

    same_key = left["name_key"] and left["name_key"] == right["name_key"]
    if same_key or (left["name_concat"] and left["name_concat"] == right["name_concat"]):
        out["name"] = "exact"
    elif close(left["name_concat"], right["name_concat"], 2) or (
        len(set(left["name_tokens"] or ()) & set(right["name_tokens"] or ())) >= 2
    ):
        out["name"] = "similar"
    for column, label in (("birth_date", "birth_date"), ("id_norm", "id_number")):
        if left[column] and left[column] == right[column]:
            out[label] = "exact"
        elif close(left[column], right[column], 1):
            out[label] = "similar"
    for column in ("phone", "email", "nationality", "postcode"):
        if left[column] and left[column] == right[column]:
            out[column] = "exact"
    if left["address_key"] and left["address_key"] == right["address_key"]:
        out["address"] = "exact"
    elif len(set(left["address_tokens"] or ()) & set(right["address_tokens"] or ())) >= 2:
        out["address"] = "similar"
    return {f: out[f] for f in EVIDENCE_FIELDS if f in out}


def _tables(records: Any, split: int) -> tuple[Any, Any, Any]:
    """The union (for training) and the list and reference parts (for prediction), with the same capped
    blocking keys (counted over the union, so a block is capped alike on both sides)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    union = blocked_table(records)
    is_list = pc.less(union.column("unique_id"), pa.scalar(split, pa.int64()))
    return union, union.filter(is_list), union.filter(pc.invert(is_list))


def _numbered_records(
    rows: Sequence[PartyInput], reference: Sequence[PartyInput], record_cache: Path | None
) -> tuple[Any, int]:
    """The normalised records of the list rows, then of the reference (`records_table`: each distinct name,
    phone, document and address normalised once, the rest column-wise), numbered 0.. in that order (the callers'
    ids may overlap), and how many reference records were read from `record_cache` (`record_cache.py`: the
    parties normalised by an earlier run; the list's rows are never written there)."""
    import pyarrow as pa

    if record_cache is None:
        table, cached = records_table([*rows, *reference]), 0
    else:
        found = cached_records_table(reference, record_cache, write="merge")
        table, cached = pa.concat_tables([records_table(rows), found.table]), found.hits
    return table.set_column(0, "unique_id", pa.array(range(table.num_rows), pa.int64())), cached


# The evidence's levels per field, as `agreement` gives them: column-wise over every hit at once.
_NOT, _SIMILAR, _EXACT = 0, 1, 2
_LEVEL_NAMES = {_SIMILAR: "similar", _EXACT: "exact"}
_EVIDENCE_COLUMNS = ("name_key", "name_concat", "name_tokens", "birth_date", "id_norm", "phone", "email",
                     "nationality", "postcode", "address_key", "address_tokens")  # fmt: skip


def agreements(records: Any, lefts: Sequence[int], rights: Sequence[int]) -> list[dict[str, str]]:
    """`agreement` of each pair of rows (`lefts[i]`, `rights[i]`) of the normalised `records` (an Arrow table),
    computed column-wise: the two sides taken in Arrow, equality and shared tokens in Polars, Levenshtein with its
    cutoff in rapidfuzz (`cpdist`), then one small integer per pair naming its fields' levels, and each pair's dict
    copied from the one of its combination. The same dicts as `agreement` (tests compare both)."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    if not lefts:
        return []
    columns = records.select(list(_EVIDENCE_COLUMNS))
    left = cast("pl.DataFrame", pl.from_arrow(columns.take(pa.array(lefts, pa.int64()))))  # a table: a frame
    right = cast("pl.DataFrame", pl.from_arrow(columns.take(pa.array(rights, pa.int64()))))
    pairs = pl.concat([left.rename(lambda c: f"{c}_l"), right.rename(lambda c: f"{c}_r")], how="horizontal")
    levels = pairs.select(*_level_expressions(pairs)).to_numpy()
    code = levels @ (3 ** np.arange(len(EVIDENCE_FIELDS)))
    templates: dict[int, dict[str, str]] = {}
    out = []
    for value in code.tolist():
        template = templates.get(value)
        if template is None:
            digits = [(value // 3**i) % 3 for i in range(len(EVIDENCE_FIELDS))]
            template = templates[value] = {
                f: _LEVEL_NAMES[d] for f, d in zip(EVIDENCE_FIELDS, digits, strict=True) if d
            }
        out.append(dict(template))
    return out


def _level_expressions(pairs: Any) -> list[Any]:
    """One column per EVIDENCE_FIELDS field, in that order: 2 exact, 1 similar, 0 neither (`agreement`'s rule)."""
    import polars as pl

    def present(column: str) -> Any:  # Python's truth of a text: neither None nor empty
        return (pl.col(column).is_not_null() & (pl.col(column) != "")).fill_null(False)

    def exact(column: str) -> Any:
        return present(f"{column}_l") & (pl.col(f"{column}_l") == pl.col(f"{column}_r")).fill_null(False)

    def close(column: str, distance: int) -> Any:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        both = pairs.select(present(f"{column}_l") & present(f"{column}_r")).to_series()
        found = process.cpdist(pairs[f"{column}_l"].fill_null("").to_list(), pairs[f"{column}_r"].fill_null("")
                               .to_list(), scorer=Levenshtein.distance, score_cutoff=distance, workers=1)  # fmt: skip
        return pl.lit(pl.Series(both.to_numpy() & (found <= distance)))

    def shared(column: str, at_least: int) -> Any:
        return pl.col(f"{column}_l").list.set_intersection(pl.col(f"{column}_r")).list.len().fill_null(0) >= at_least

    def level(is_exact: Any, is_similar: Any | None = None) -> Any:
        chosen: Any = pl.when(is_exact).then(_EXACT)
        if is_similar is not None:
            chosen = chosen.when(is_similar).then(_SIMILAR)
        return chosen.otherwise(_NOT).cast(pl.Int64)

    by_field = {
        "name": level(exact("name_key") | exact("name_concat"), close("name_concat", 2) | shared("name_tokens", 2)),
        "birth_date": level(exact("birth_date"), close("birth_date", 1)),
        "id_number": level(exact("id_norm"), close("id_norm", 1)),
        "phone": level(exact("phone")), "email": level(exact("email")), "nationality": level(exact("nationality")),
        "address": level(exact("address_key"), shared("address_tokens", 2)),
        "postcode": level(exact("postcode")),
    }  # fmt: skip
    return [by_field[f].alias(f) for f in EVIDENCE_FIELDS]


DETERMINISTIC_RULES = (("kind", "id_norm"), ("kind", "name_key", "birth_date"))  # the prior's near-certain pairs


def _pairs_between(left: Any, right: Any, columns: tuple[str, ...]) -> int:
    """How many (list row, reference record) pairs a blocking rule gives (Splink's exact count)."""
    from splink import block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    counted = count_comparisons_from_blocking_rules(
        [left, right], blocking_rules=block_on(*columns), link_type="link_only",
        unique_id_column_name="unique_id", record_sample_proportion=1.0,
    )  # fmt: skip
    return int(counted[-1]["cumulative_comparison_count"])


def _train_between(left: Any, right: Any, seed: int) -> dict[str, Any] | None:
    """The model estimated on the pairs the screening scores, list row x reference record (Splink's link-only
    training, as bare Splink's link-only run does), or None when those pairs are too few to learn from (a short
    manifest: fewer than MIN_EM_PAIRS in a training block, or no near-certain pair for the prior).

    Estimated on list and reference together instead (`train` on the union, a dedupe job), EM also walks the
    reference's pairs with itself: six times the pairs at 100,000 x 1,000,000, the bulk of a screening's time.

    A level no random pair agreed on (every person their own phone: none of 10^6 random pairs shares one) gets
    u = 1 / the pairs sampled (`give_unseen_levels_a_u`, as `train` does), instead of no u at all, which would give
    the level no weight: estimated between list and reference, the phone's exact match was lost that way."""
    from splink import Linker, block_on

    from dragonnet.linkage.resolve import TRAINING_BLOCKS

    if any(_pairs_between(left, right, columns) < MIN_EM_PAIRS for columns in TRAINING_BLOCKS) or not any(
        _pairs_between(left, right, columns) for columns in DETERMINISTIC_RULES
    ):
        return None
    settings = splink_settings()
    settings.link_type = "link_only"
    linker = Linker([left, right], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*columns) for columns in DETERMINISTIC_RULES], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=MAX_PAIRS_U, seed=seed)
    for columns in TRAINING_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*columns), estimate_without_term_frequencies=True
        )
    give_unseen_levels_a_u(linker, MAX_PAIRS_U)
    model: dict[str, Any] = linker.misc.save_model_to_json()
    model["link_type"] = "dedupe_only"  # predicted between the two parts of one table (`predict_between`)
    return model


def _collect_hits(run: MatchRun, found: Any, records: Any, rows: Sequence[PartyInput],
                  reference: Sequence[PartyInput], split: int, shown: int) -> None:  # fmt: skip
    """The pairs at the threshold (`found`, an Arrow table of record numbers: list rows below `split`, the shown
    reference records next, hidden ones last) as the run's matches, with their evidence (`agreements`), and its
    hidden matches, without any. Column-wise in numpy until the PairMatch objects."""
    import numpy as np

    ids = [found.column(i).to_numpy() for i in range(2)]
    low, high = np.minimum(*ids), np.maximum(*ids)
    between = (low < split) & (high >= split)  # a list row with a reference record (list ids are low)
    hidden = between & (high - split >= shown)
    shown_pairs = between & ~hidden
    probability, weight = (found.column(i).to_numpy() for i in (2, 3))
    for mask, into, evidence in ((hidden, run.hidden_matches, None), (shown_pairs, run.matches, agreements)):
        lows, highs = low[mask].tolist(), high[mask].tolist()
        agreed = evidence(records, lows, highs) if evidence else [{} for _ in lows]  # a hidden hit shows nothing
        into.extend(
            PairMatch(rows[a].party_id, reference[b - split].party_id, p, w, fields)
            for a, b, p, w, fields in zip(lows, highs, probability[mask].tolist(), weight[mask].tolist(), agreed,
                                          strict=True)
        )  # fmt: skip


def match_lists(
    rows: Sequence[PartyInput],
    reference: Sequence[PartyInput],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    backend: Backend = "duckdb",
    spark: Any = None,
    progress: Progress = no_progress,
    seed: int = 7,
    model: dict[str, Any] | None = None,
    hidden: Sequence[PartyInput] = (),
    record_cache: Path | None = None,
) -> MatchRun:
    """Score every blocked pair (list row, reference record) and keep those at or above `threshold`.

    Party ids are the callers' (a list row's number, a reference record's id); they may overlap between the two
    sides: the matcher numbers the records itself. `model`: a trained Splink model (the operator's latest
    resolution run, estimated on every party of the operation) to use as it is; without one, the model is
    estimated here (`_train_between`, else on the list and the reference together: `run.trained_on`).
    `hidden`: reference records matched alike but left out of the counters and of `matches` (their hits are in
    `hidden_matches`, without the agreeing fields).
    `record_cache`: the folder of normalised records kept between runs (`record_cache.cache_dir`), where the
    reference's records are read (shown and hidden alike: the cache holds records, not visibility)."""
    from splink import Linker

    started = time.perf_counter()
    run = MatchRun(len(rows), len(reference), threshold)
    shown = len(reference)
    reference = [*reference, *hidden]
    if not rows or not reference:
        run.seconds = time.perf_counter() - started
        return run
    progress(0, 3, "training the model")
    split = len(rows)
    records, run.cached_records = _numbered_records(rows, reference, record_cache)
    union, left, right = _tables(records, split)
    db_api = _db_api(backend, spark)
    table, left, right = register(db_api, union), register(db_api, left), register(db_api, right)
    if model is None and len(records) < MIN_RECORDS_TO_ESTIMATE:
        model, run.model_source = default_model(), "default"
    elif model is not None:
        run.model_source = "stored"
    else:
        model = _train_between(left, right, seed)
        run.trained_on = "between" if model is not None else "together"
    if model is not None:
        linker = Linker(table, model_for_backend(dict(model), backend), log_level=logging.ERROR)
    else:
        linker = Linker(table, splink_settings(), log_level=logging.ERROR)
        train(linker, seed=seed, max_pairs_u=MAX_PAIRS_U, min_em_pairs=MIN_EM_PAIRS,
              table=pair_counting_table(backend, table, union), records=union.num_rows)  # fmt: skip
    if run.trained_on is not None:
        run.model = linker.misc.save_model_to_json()
    progress(1, 3, "scoring pairs")
    predictions = linker.inference.predict_between(left, right)
    run.counts = count_pairs(predictions, threshold, below_id=split + shown if hidden else None)
    progress(2, 3, "collecting hits")
    _collect_hits(run, above_threshold_table(predictions, threshold), records, rows, reference, split, shown)
    run.matches.sort(key=lambda m: (m.row, -m.probability, m.reference))
    run.hidden_matches.sort(key=lambda m: (m.row, m.reference))
    progress(3, 3, "done")
    run.seconds = time.perf_counter() - started
    return run
