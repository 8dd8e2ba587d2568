"""The model: trains on a small labelled sample, beats random selection, explains itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dragonnet.targeting import declarations, engine
from dragonnet.targeting import model as mdl
from dragonnet.targeting.profiles import builtin_profiles
from targeting.conftest import kcs_file


def test_beats_random_on_a_kcs_sample(tmp_path: Path) -> None:
    """Every 6th KCS row of 2020 (about 6,200): the earlier two thirds train, the last third evaluates."""
    import duckdb

    src = kcs_file("train")
    sample = tmp_path / "sample.csv"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{src}', header=true, all_varchar=true) "
        'WHERE CAST("Declaration ID" AS BIGINT) % 6 = 0) TO \'' + str(sample) + "' (HEADER)"
    )
    imported = declarations.import_file(sample, tmp_path / "store")
    assert imported.source_format == "kcs" and 5000 < imported.rows < 7500
    with engine.Workspace([imported.path], threads=1) as ws:
        _spec, ev = engine.train_time_ordered(ws, builtin_profiles("kcs"), eval_fraction=1 / 3, rounds=60)
    assert ev.eval_period[0] > ev.train_period[1]  # never trained on the future
    at5 = ev.model[2]
    assert at5.fraction == 0.05
    assert at5.precision > 1.5 * ev.base_rate, ev.as_dict()
    assert ev.auc is not None and ev.auc > 0.6


def test_beats_random_on_generated_data_and_explains(small_parquet: Path) -> None:
    profiles = builtin_profiles("default")
    with engine.Workspace([small_parquet], threads=1) as ws:
        spec, ev = engine.train_time_ordered(ws, profiles, rounds=60)
        assert ev.model[2].precision > 2 * ev.base_rate, ev.as_dict()
        scored = ws.score(profiles, spec).to_pandas()
        top = scored.sort_values("score", ascending=False).head(5)
        feats = ws.frame_for(profiles, top["declaration_id"].tolist())
    expl = mdl.explain(spec, feats, top=3)
    assert len(expl) == 5 and all(len(e) == 3 for e in expl)
    assert all({"feature", "label", "value", "contribution"} <= set(item) for e in expl for item in e)
    # The contributions (plus the bias) add up to the model's raw score.
    x = mdl.matrix(feats, spec)
    contrib = spec.booster.predict(x, pred_contrib=True)
    raw = spec.booster.predict(x, raw_score=True)
    assert np.allclose(contrib.sum(axis=1), raw)
    # The stored text of the booster predicts the same.
    again = mdl.ModelSpec.from_json(spec.to_json(), spec.booster_text)
    assert np.array_equal(mdl.predict(again, feats), mdl.predict(spec, feats))


def test_refuses_to_train_without_results(tmp_path: Path, small_parquet: Path) -> None:
    from dragonnet.errors import ValidationError
    from dragonnet.targeting.profiles import ProfileSet

    with engine.Workspace([small_parquet], threads=1) as ws:
        frame = ws.frame(ProfileSet(()), mode="train")
    frame["label"] = np.nan
    with pytest.raises(ValidationError):
        mdl.train(frame, engine.Extras())
