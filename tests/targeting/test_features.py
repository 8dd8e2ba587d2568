"""Training-data preparation: party history from strictly earlier days only (no future leakage)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dragonnet.targeting import generator
from dragonnet.targeting.engine import Workspace
from dragonnet.targeting.profiles import ProfileSet

NO_PROFILES = ProfileSet(())


def _write(table: pa.Table, path: Path) -> list[Path]:
    pq.write_table(table, path)
    return [path]


def _tiny() -> pa.Table:
    days = [dt.date(2024, 1, d) for d in (1, 2, 2, 3, 5)]
    return pa.table({
        "declaration_id": ["a", "b", "c", "d", "e"],
        "declaration_date": pa.array(days, pa.date32()),
        "office_locode": ["THBKK"] * 5,
        "importer": ["I1", "I1", "I1", "I1", "I2"],
        "hs_code": ["851712"] * 5,
        "gross_weight_kg": [1.0] * 5,
        "declared_value": [10.0] * 5,
        "outcome": pa.array([1, 0, 1, None, 1], pa.int32()),
    })  # fmt: skip


def test_counts_only_earlier_days(tmp_path: Path) -> None:
    with Workspace(_write(_tiny(), tmp_path / "t.parquet"), threads=1) as ws:
        frame = ws.frame(NO_PROFILES, mode="train").set_index("declaration_id")
    # a: nothing before; b and c (same day) see only a; d sees a, b, c; e is another importer.
    assert frame.loc[["a", "b", "c", "d", "e"], "imp_n"].tolist() == [0, 1, 1, 3, 0]
    assert frame.loc[["a", "b", "c", "d", "e"], "imp_pos"].tolist() == [0, 1, 1, 2, 0]
    # The HS code's history counts the same way (d's own missing outcome is not counted anywhere).
    assert frame.loc["e", "hs_n"] == 3 and frame.loc["e", "hs_pos"] == 2


def test_changing_future_outcomes_never_changes_earlier_features(tmp_path: Path) -> None:
    table = generator.generate(2000, seed=9, days=60)
    cut = dt.date(2024, 1, 31)
    later = pc.greater_equal(table["declaration_date"], pa.scalar(cut, pa.date32()))
    flipped_outcome = pc.if_else(later, pc.subtract(pa.scalar(1, pa.int32()), table["outcome"]), table["outcome"])
    flipped = table.set_column(table.schema.get_field_index("outcome"), "outcome", flipped_outcome)
    frames = []
    for name, t in (("orig", table), ("flip", flipped)):
        with Workspace(_write(t, tmp_path / f"{name}.parquet"), threads=1) as ws:
            frames.append(ws.frame(NO_PROFILES, mode="train").set_index("declaration_id").sort_index())
    orig, flip = frames
    before = orig["declaration_date"] < np.datetime64(cut)
    cols = [c for c in orig.columns if c.endswith(("_n", "_pos"))]
    assert before.sum() > 500 and (~before).sum() > 500
    # Rows before the cut: identical history features; rows after it: labels differ, so some features do.
    assert orig.loc[before, cols].equals(flip.loc[before, cols])
    assert not orig.loc[~before, cols].equals(flip.loc[~before, cols])


def test_scoring_uses_only_the_history(tmp_path: Path) -> None:
    hist = _write(_tiny(), tmp_path / "hist.parquet")
    new = _tiny().slice(0, 1).set_column(0, "declaration_id", pa.array(["z"]))
    new = new.set_column(new.schema.get_field_index("outcome"), "outcome", pa.array([None], pa.int32()))
    with Workspace(_write(new, tmp_path / "new.parquet"), hist, threads=1) as ws:
        row = ws.frame(NO_PROFILES).iloc[0]
    assert (row["imp_n"], row["imp_pos"]) == (3, 2)  # a, b, c of the history (d was not inspected)
