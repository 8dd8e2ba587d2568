"""Score 10,000,000 generated declarations with 50 risk profiles and the LightGBM model on one machine.

In the same run, the bare engines doing the same work: one DuckDB query computing the model's features of
every declaration (the same history tables and feature SQL, no profiles), fetched as one Arrow table, and one
LightGBM `Booster.predict` of the whole matrix. dragonnet's scoring adds the 50 profiles (rule score and
fired-profile masks in SQL), streaming in batches, the lane score and the lanes. Prints both times and the
ratio (issue #20's goal: <= 1.3x). A bare DuckDB scan of two columns is printed too, as the I/O floor.

    .venv/bin/python benchmarks/targeting_score_10m.py [--rows 10000000] [--threads 2] [--dir /tmp/tgbench]

Not part of the test suite. Data: dragonnet.targeting.generator (patterns documented there).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dragonnet.targeting import generator, lanes
from dragonnet.targeting import model as mdl
from dragonnet.targeting.engine import Workspace, fit
from dragonnet.targeting.features import scoring_sql
from dragonnet.targeting.profiles import ProfileSet, parse_profiles
from dragonnet.targeting.sql import DUCKDB

HS_PREFIXES = ["03", "05", "0507", "09", "29", "2905", "30", "44", "4403", "61", "84", "85", "8517", "96", "9601"]
TERMS = [["pangolin", "vảy"], ["ivory", "ngà", "象牙"], ["seahorse"], ["rosewood", "gỗ"], ["scales", "écailles"]]


def fifty_profiles() -> str:
    """50 profiles cycling through every condition type."""
    out = ["lanes: {red_rate: 0.03, yellow_rate: 0.05, random_share: 0.1, seed: 1}", "profiles:"]
    for i in range(50):
        kind = i % 5
        if kind == 0:
            cond = f"{{field: hs_code, prefix: ['{HS_PREFIXES[i % len(HS_PREFIXES)]}']}}"
            cond2 = "{value_per_kg: {below: p25}}"
        elif kind == 1:
            cond = "{value_per_kg: {below: p05}}" if i % 2 else "{value_per_kg: {ratio_above: 5}}"
            cond2 = f"{{field: gross_weight_kg, gte: {10 * (i + 1)}}}"
        elif kind == 2:
            cond = f"{{route: {{origin_in: [NG, CD, MZ, CM], transit_in: [{['ET', 'AE', 'MY'][i % 3]}]}}}}"
            cond2 = f"{{field: mode, ne: {['postal', 'road'][i % 2]}}}"
        elif kind == 3:
            terms = ", ".join(f"'{t}'" for t in TERMS[i % len(TERMS)])
            cond = f"{{text: {{field: goods_description, any: [{terms}]}}}}"
            cond2 = "{field: declared_value, gt: 0}"
        else:
            party = ["importer", "declarant", "exporter"][i % 3]
            cond = f"{{party_history: {{party: {party}, min_seizures: {1 + i % 3}}}}}"
            cond2 = f"{{field: office_locode, in: [{', '.join(generator.OFFICES[: 1 + i % 8])}]}}"
        out.append(f"  - {{id: p{i:02d}, owner: TH-CUS, sharing: green, weight: {0.2 + (i % 7) / 5}, "
                   f"conditions: [{cond}, {cond2}]}}")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--history", type=int, default=300_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="tgbench-"))
    folder.mkdir(parents=True, exist_ok=True)
    big, hist = folder / f"decl-{args.rows}.parquet", folder / f"hist-{args.history}.parquet"
    t = time.perf_counter()
    if not hist.exists():
        pq.write_table(generator.generate(args.history, seed=99, days=365), hist)
    if not big.exists():
        generator.write(big, args.rows, seed=7, labelled=0.0)
    size = big.stat().st_size / 1e6
    print(f"data: {args.rows:,} declarations ({size:.0f} MB Parquet), history {args.history:,} rows; "
          f"generated in {time.perf_counter() - t:.1f} s")  # fmt: skip
    profiles = parse_profiles(fifty_profiles(), "bench")
    assert len(profiles.profiles) == 50
    t = time.perf_counter()
    with Workspace([hist], threads=args.threads) as ws:
        # The model and the profiles' lane weights (learned on the last quarter of the history).
        spec = fit(ws.frame(profiles, mode="train"), ws.extras, profiles, rounds=100, threads=args.threads)
    learned = sum(1 for w in spec.lane.weights.values() if w.weight > 0)
    print(f"model: 100 rounds on {args.history:,} rows in {time.perf_counter() - t:.1f} s "
          f"({len(spec.feature_names)} features; lane weights: {len(spec.lane.weights)} profiles judged, "
          f"{learned} with a weight)")  # fmt: skip

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    t = time.perf_counter()
    (scan,) = con.execute(
        f"SELECT sum(CASE WHEN gross_weight_kg > 0 THEN declared_value / gross_weight_kg END) "
        f"FROM read_parquet('{big}')"
    ).fetchone() or (None,)
    t_scan = time.perf_counter() - t

    # The bare engines: DuckDB computes the model's features (no profiles), LightGBM predicts the matrix.
    t = time.perf_counter()
    with Workspace([big], [hist], extras=spec.extras, threads=args.threads) as ws:
        features = ws.con.sql(scoring_sql(DUCKDB, ProfileSet(()), spec.extras, mode="score")).arrow()
        if isinstance(features, pa.RecordBatchReader):
            features = features.read_all()
        t_features = time.perf_counter() - t
        frame = features.to_pandas()
        del features
        x = mdl.matrix(frame, spec)
        del frame
        bare_p = spec.booster.predict(x, num_threads=args.threads)
        del x
    t_bare = time.perf_counter() - t

    t = time.perf_counter()
    with Workspace([big], [hist], extras=spec.extras, threads=args.threads) as ws:
        t_setup = time.perf_counter() - t
        scored = ws.score(profiles, spec)
    scores = scored["score"].to_numpy()
    picked = lanes.assign(scores, profiles.lanes, scored["mandatory"].to_numpy(zero_copy_only=False))
    t_score = time.perf_counter() - t
    fired = float(np.mean(scored["rule_score"].to_numpy() > 0))
    print(f"bare DuckDB scan (sum of value per kg): {t_scan:.2f} s (result {scan:.4g})")
    print(f"targeting score (50 profiles + LightGBM + lanes): {t_score:.1f} s "
          f"(history tables {t_setup:.1f} s); {len(scores):,} rows, {args.rows / t_score:,.0f} rows/s; "
          f"a profile fired on {fired:.1%}; red {picked.count('red'):,}, "
          f"yellow {picked.count('yellow'):,}")  # fmt: skip
    print(
        f"bare DuckDB features + LightGBM predict: {t_bare:.1f} s (features {t_features:.1f} s); "
        f"mean p {float(np.mean(bare_p)):.4f} vs ours {float(np.nanmean(scored['model_p'].to_numpy())):.4f}"
    )
    print(f"ratio targeting / bare features + predict: {t_score / t_bare:.2f}x (goal <= 1.3x; threads={args.threads})")
    print(f"ratio targeting / bare two-column scan: {t_score / t_scan:.1f}x")


if __name__ == "__main__":
    main()
