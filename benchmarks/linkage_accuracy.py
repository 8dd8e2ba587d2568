"""Linkage accuracy on a labelled set of person records with realistic errors (docs/benchmarks.md).

Compares, on the same records: dragonnet's clear-text resolution (Splink, our comparisons and normalisation),
plain Splink with its default comparisons (NameComparison / ExactMatch on the same columns, same blocking and
training), and the privacy-preserving linkage (field-block Bloom filters with keyed blocking keys, matched by
the hub's Fellegi-Sunter model on Dice levels): at the default threshold, over a sweep of thresholds (the best
F1 and the chosen operating point), with the shipped default model instead of one estimated on the data, and
(`--unblocked`) on all pairs, which measures the recall the blocking costs.

    .venv/bin/python benchmarks/linkage_accuracy.py [--people 2000] [--seed 7] [--unblocked]
"""

from __future__ import annotations

import argparse
import time

from dragonnet.linkage import pprl
from dragonnet.linkage.evaluation import (
    Labelled,
    Scores,
    clusters_from_pairs,
    labelled_people,
    pairwise_scores,
    same_group_pairs,
)
from dragonnet.linkage.resolve import resolve

SWEEP = (0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99)
KEY = b"benchmark-operation-key-0123456789"


def encodings(data: Labelled) -> list[pprl.Encoding]:
    """Each agency encodes its own records."""
    out: list[pprl.Encoding] = []
    for agency in sorted(set(data.agency.values())):
        out += pprl.encode_parties([p for p in data.parties if data.agency[p.party_id] == agency], agency, KEY)
    return out


def scores(data: Labelled, matches: list[pprl.Match], threshold: float) -> Scores:
    ids = [p.party_id for p in data.parties]
    pairs = [(int(m.a.ref), int(m.b.ref)) for m in matches if m.probability >= threshold]
    return pairwise_scores(data.truth, clusters_from_pairs(ids, pairs))


def blocking_ceiling(data: Labelled, encoded: list[pprl.Encoding]) -> tuple[int, int, float]:
    """True pairs sharing a keyed blocking key, of all true pairs; and the recall if the hub linked exactly those."""
    by_key: dict[str, list[int]] = {}
    for e in encoded:
        for key in e.blocks:
            by_key.setdefault(key, []).append(int(e.ref))
    truth = same_group_pairs(data.truth)
    candidates = {(min(a, b), max(a, b)) for ids in by_key.values() for i, a in enumerate(ids) for b in ids[i + 1 :]}
    kept = truth & candidates
    closed = pairwise_scores(data.truth, clusters_from_pairs([p.party_id for p in data.parties], kept))
    return len(kept), len(truth), closed.recall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--unblocked", action="store_true", help="also score all pairs (slow: quadratic)")
    args = parser.parse_args()
    data = labelled_people(args.people, args.seed)
    n = len(data.parties)
    print(f"{n} records of {args.people} people (seed {args.seed}); {n * (n - 1) // 2} pairs")
    rows: list[tuple[str, Scores, str, float]] = []

    t = time.perf_counter()
    ours = resolve(data.parties)
    rows.append(("dragonnet clear-text (Splink, our settings)", pairwise_scores(data.truth, ours.clusters), "",
                 time.perf_counter() - t))  # fmt: skip

    t = time.perf_counter()
    plain = resolve(data.parties, defaults=True)
    rows.append(("plain Splink defaults (same blocking and training)", pairwise_scores(data.truth, plain.clusters),
                 "", time.perf_counter() - t))  # fmt: skip

    # The benchmark links all records (as the clear-text runs do): same_agency=True.
    t = time.perf_counter()
    encoded = encodings(data)
    encode_seconds = time.perf_counter() - t
    t = time.perf_counter()
    hub = pprl.hub_match(encoded, threshold=min(SWEEP), same_agency=True)
    hub_seconds = time.perf_counter() - t
    compared = f"{hub.compared} / {hub.eligible}"
    rows.append((f"privacy-preserving (keyed blocking, trained model, p >= {pprl.DEFAULT_THRESHOLD})",
                 scores(data, hub.matches, pprl.DEFAULT_THRESHOLD), compared,
                 encode_seconds + hub_seconds))  # fmt: skip
    t = time.perf_counter()
    untrained = pprl.hub_match(encoded, threshold=min(SWEEP), same_agency=True, train=False)
    rows.append((f"privacy-preserving (keyed blocking, default model, p >= {pprl.DEFAULT_THRESHOLD})",
                 scores(data, untrained.matches, pprl.DEFAULT_THRESHOLD), compared,
                 encode_seconds + time.perf_counter() - t))  # fmt: skip
    if args.unblocked:
        t = time.perf_counter()
        full = pprl.hub_match(encoded, threshold=min(SWEEP), same_agency=True, blocking=False)
        rows.append((f"privacy-preserving (no blocking, trained model, p >= {pprl.DEFAULT_THRESHOLD})",
                     scores(data, full.matches, pprl.DEFAULT_THRESHOLD), f"{full.compared} / {full.eligible}",
                     encode_seconds + time.perf_counter() - t))  # fmt: skip

    print("| linkage | precision | recall | F1 | pairs found / true | pairs compared / all | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, s, pairs_compared, secs in rows:
        found = f"{s.found_pairs} / {s.true_pairs}"
        print(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {found} | {pairs_compared} | {secs:.1f} |")

    print(f"\nprivacy-preserving, threshold sweep (match probability; chosen: {pprl.DEFAULT_THRESHOLD})")
    print("| threshold | trained: P / R / F1 | default model: P / R / F1 |")
    print("|---|---|---|")
    best: dict[str, tuple[float, float]] = {}
    for threshold in SWEEP:
        cells = []
        for label, result in (("trained", hub), ("default", untrained)):
            s = scores(data, result.matches, threshold)
            cells.append(f"{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}")
            if s.f1 > best.get(label, (-1.0, 0.0))[0]:
                best[label] = (s.f1, threshold)
        print(f"| {threshold} | {cells[0]} | {cells[1]} |")
    for label, (f1, threshold) in best.items():
        print(f"best F1 ({label} model): {f1:.3f} at p >= {threshold}")

    kept, true_pairs, closed = blocking_ceiling(data, encoded)
    print(f"\nblocking: {kept} of {true_pairs} true pairs share a keyed blocking key ({100 * kept / true_pairs:.1f}%); "
          f"linking exactly those pairs would reach recall {closed:.3f} (clusters close the rest)")  # fmt: skip
    cross = pprl.hub_match(encoded, threshold=pprl.DEFAULT_THRESHOLD)
    print(f"the hub's own run (other agencies only): {cross.compared} pairs compared of {cross.eligible} "
          f"({100 * cross.compared / max(cross.eligible, 1):.2f}%), {len(cross.matches)} matches")  # fmt: skip


if __name__ == "__main__":
    main()
