"""Linkage accuracy on a labelled set of person records with realistic errors (docs/benchmarks.md).

Compares, on the same records: dragonnet's clear-text resolution (Splink, our comparisons and normalisation),
plain Splink with its default comparisons (NameComparison / ExactMatch on the same columns, same blocking and
training), and the privacy-preserving linkage (Bloom-filter CLKs, Dice at the hub).

    .venv/bin/python benchmarks/linkage_accuracy.py [--people 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time

from dragonnet.linkage import pprl
from dragonnet.linkage.evaluation import clusters_from_pairs, labelled_people, pairwise_scores
from dragonnet.linkage.resolve import resolve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = labelled_people(args.people, args.seed)
    ids = [p.party_id for p in data.parties]
    print(f"{len(data.parties)} records of {args.people} people (seed {args.seed})")
    rows = []

    t = time.perf_counter()
    ours = resolve(data.parties)
    rows.append(("dragonnet clear-text (Splink, our settings)", pairwise_scores(data.truth, ours.clusters),
                 time.perf_counter() - t))  # fmt: skip

    t = time.perf_counter()
    plain = resolve(data.parties, defaults=True)
    rows.append(("plain Splink defaults (same blocking and training)", pairwise_scores(data.truth, plain.clusters),
                 time.perf_counter() - t))  # fmt: skip

    key = b"benchmark-operation-key-0123456789"
    for threshold in (0.85, pprl.DEFAULT_THRESHOLD):
        t = time.perf_counter()
        encodings = []
        for agency in sorted(set(data.agency.values())):
            encodings += pprl.encode_parties(
                [p for p in data.parties if data.agency[p.party_id] == agency], agency, key
            )
        found = pprl.match(encodings, threshold=threshold, same_agency=True)
        clusters = clusters_from_pairs(ids, [(int(m.a.ref), int(m.b.ref)) for m in found])
        rows.append((f"privacy-preserving (CLK, Dice >= {threshold})", pairwise_scores(data.truth, clusters),
                     time.perf_counter() - t))  # fmt: skip

    print("| linkage | precision | recall | F1 | pairs found / true | seconds |")
    print("|---|---|---|---|---|---|")
    for name, s, secs in rows:
        pairs = f"{s.found_pairs} / {s.true_pairs}"
        print(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {pairs} | {secs:.1f} |")


if __name__ == "__main__":
    main()
