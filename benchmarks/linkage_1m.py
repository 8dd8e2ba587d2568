"""1,000,000 party records resolved on one machine with DuckDB: time, peak memory, ratio to bare Splink.

"ours" is `dragonnet.linkage.resolve.resolve` from the parties as read from the database (normalisation +
Splink training and prediction + decisions + clusters); "bare" is Splink alone with the same settings,
blocking keys included, on records already normalised and already in an Arrow table (training and
prediction, then Splink's own connected components); "normalise" times `records_table` alone (names,
phones and documents normalised once per distinct value). Each runs in its own subprocess so peak memory
(ru_maxrss) and the per-process caches are its own.

    .venv/bin/python benchmarks/linkage_1m.py [--records 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time


def _population(records: int, seed: int) -> list[object]:
    from dragonnet.linkage.evaluation import labelled_people

    people = max(1, int(records / 2.03))  # labelled_people averages ~2.03 records per person
    parties = labelled_people(people, seed).parties
    return parties[:records]


def _child(mode: str, records: int, seed: int) -> None:
    from dragonnet.linkage.resolve import PartyInput, records_table, resolve

    parties = [p for p in _population(records, seed) if isinstance(p, PartyInput)]
    t = time.perf_counter()
    if mode == "ours":
        result = resolve(parties)
        links, clusters = len(result.links), len(set(result.clusters.values()))
    elif mode == "normalise":
        links, clusters = -1, records_table(parties).num_rows
    else:
        from splink import DuckDBAPI, Linker, block_on

        from dragonnet.linkage.resolve import TRAINING_BLOCKS, _as_table, splink_settings

        recs = records_table(parties)
        t = time.perf_counter()  # bare Splink starts from normalised records in Arrow
        db = DuckDBAPI()
        linker = Linker(db.register(_as_table(recs, "duckdb")), splink_settings(), log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("kind", "id_norm"), block_on("kind", "name_key", "birth_date")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=7)
        for columns in TRAINING_BLOCKS:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), estimate_without_term_frequencies=True
            )
        predictions = linker.inference.predict(threshold_match_probability=0.5)
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
        links = -1
        clusters = int(linker.misc.query_sql(
            f"select count(distinct cluster_id) as n from {clustered.physical_name}", output_type="pandas"
        )["n"][0])  # fmt: skip
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "records": len(parties), "seconds": seconds, "peak_mb": peak_mb,
                      "links": links, "clusters": clusters}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", choices=["ours", "bare", "normalise"])
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.records, args.seed)
        return
    results = {}
    for mode in ("bare", "ours", "normalise"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--records", str(args.records), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[mode]
        what = "entities" if mode != "normalise" else "records normalised"
        print(f"{mode:9s}: {r['records']:,} records, {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB, "
              f"{r['clusters']:,} {what}")  # fmt: skip
    ratio = results["ours"]["seconds"] / results["bare"]["seconds"]
    print(f"ratio ours / bare Splink (time): {ratio:.2f}")


if __name__ == "__main__":
    main()
