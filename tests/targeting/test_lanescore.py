"""The lane score learns what each profile adds to the model: a strong rule lifts it, a useless one cannot lower it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dragonnet.targeting import engine, generator, lanescore
from dragonnet.targeting.profiles import parse_profiles

STRONG, USELESS = "kx-417", "zq-902"  # markers in the goods description: the model has no text feature


def planted(n: int, seed: int) -> pa.Table:
    """Generated declarations; 3 % carry STRONG and are fraud 85 % of the time, 10 % carry USELESS at random."""
    table = generator.generate(n, seed=seed, start=dt.date(2024, 1, 1), days=240)
    rng = np.random.default_rng(seed + 100)
    strong = rng.random(n) < 0.03
    useless = rng.random(n) < 0.10
    desc = np.asarray(table["goods_description"].to_pylist(), dtype=object)
    desc = np.where(strong, desc + f" ref {STRONG}", desc)
    desc = np.where(useless, desc + f" lot {USELESS}", desc)
    outcome = table["outcome"].to_numpy(zero_copy_only=False)
    outcome = np.where(strong, (rng.random(n) < 0.85).astype(np.int32), outcome)
    table = table.set_column(table.schema.get_field_index("goods_description"), "goods_description",
                             pa.array(desc, pa.string()))  # fmt: skip
    return table.set_column(table.schema.get_field_index("outcome"), "outcome", pa.array(outcome, pa.int32()))


def profiles_yaml(*which: str) -> str:
    entries = {
        "strong": f"  - {{id: planted-strong, owner: TH-CUS, weight: 1.0, "
        f"conditions: [{{text: {{field: goods_description, any: ['{STRONG}']}}}}]}}",
        "useless": f"  - {{id: planted-useless, owner: TH-CUS, weight: 3.0, "
        f"conditions: [{{text: {{field: goods_description, any: ['{USELESS}']}}}}]}}",
    }
    return "profiles:\n" + "\n".join(entries[w] for w in which) + "\n"


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("planted") / "planted.parquet"
    pq.write_table(planted(24_000, seed=31), path)
    return path


def _train(path: Path, text: str) -> tuple[lanescore.LaneWeights, engine.Evaluation]:
    profiles = parse_profiles(text)
    with engine.Workspace([path], threads=1) as ws:
        spec, ev = engine.train_time_ordered(ws, profiles, eval_fraction=0.25, rounds=60)
    return spec.lane, ev


def test_a_strong_rule_lifts_the_lane_score_above_the_model(planted_file: Path) -> None:
    lane, ev = _train(planted_file, profiles_yaml("strong", "useless"))
    assert lane.weights["planted-strong"].weight > 1.0, lane.as_dict()
    assert lane.weights["planted-useless"].weight == 0.0, lane.as_dict()
    for with_rules, alone in zip(ev.lane, ev.model, strict=True):
        assert with_rules.precision >= alone.precision, ev.as_dict()
    at5 = {name: rows[2].precision for name, rows in ev.rankings()}
    assert at5["lane score"] >= at5["model alone"] + 0.05, at5
    # The hand-set noisy-OR lets the useless rule (weight 3) push clean declarations up: worse than the model.
    assert at5["hand-set noisy-OR"] < at5["model alone"], at5


def test_a_useless_rule_does_not_lower_the_lane_score(planted_file: Path) -> None:
    lane, ev = _train(planted_file, profiles_yaml("useless"))
    assert lane.weights["planted-useless"].weight == 0.0
    assert lane.weights["planted-useless"].fired >= lanescore.MIN_FIRED
    assert [r.precision for r in ev.lane] == [r.precision for r in ev.model]


def test_fit_learns_what_a_rule_adds_and_nothing_for_a_redundant_one() -> None:
    rng = np.random.default_rng(4)
    n = 40_000
    x = rng.normal(size=n)  # what the model knows
    hidden = rng.random(n) < 0.05  # what only the rule knows
    redundant = x > 1.5  # a rule the model already captures
    logit = -2.0 + 1.2 * x + 2.0 * hidden
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    model_p = 1 / (1 + np.exp(-(-2.0 + 1.2 * x)))  # a calibrated model without the hidden factor
    profiles = parse_profiles(
        "profiles:\n"
        "  - {id: hidden, owner: X, conditions: [{field: hs_code, eq: '1'}]}\n"
        "  - {id: redundant, owner: X, conditions: [{field: hs_code, eq: '2'}]}\n"
        "  - {id: rare, owner: X, conditions: [{field: hs_code, eq: '3'}]}\n"
    )
    rare = np.zeros(n, dtype=bool)
    rare[:5] = True
    lane = lanescore.fit(model_p, [hidden, redundant, rare], y, profiles)
    assert 1.6 < lane.weights["hidden"].weight < 2.4, lane.as_dict()
    assert lane.weights["redundant"].weight == 0.0
    assert "rare" not in lane.weights  # too few firings to judge: provisional
    used = {p.id: lanescore.weight_used(p, lane) for p in profiles.profiles}
    assert used["rare"] == lanescore.WeightUsed(1.0, lanescore.PROVISIONAL)
    assert used["redundant"] == lanescore.WeightUsed(0.0, lanescore.LEARNED)
    # Rows where no weighted profile fires keep the model's probability exactly.
    packed = hidden.astype(np.int64) | redundant.astype(np.int64) << 1 | rare.astype(np.int64) << 2  # mask_sql's form
    assert all(np.array_equal(a, b) for a, b in zip(lanescore.fired_columns([packed], 3), [hidden, redundant, rare],
                                                    strict=True))  # fmt: skip
    scored = lanescore.score(model_p, [packed], profiles, lane)
    quiet = ~hidden & ~rare
    assert np.array_equal(scored[quiet], model_p[quiet])
    assert (scored[hidden] > model_p[hidden]).all()


def test_a_changed_or_new_profile_is_provisional_until_the_next_training() -> None:
    before = parse_profiles("profiles:\n  - {id: a, owner: X, weight: 2.0, conditions: [{field: hs_code, eq: '1'}]}\n")
    lane = lanescore.LaneWeights({"a": lanescore.LearnedWeight(0.0, before.profiles[0].fingerprint, 100, 3, 0.0)})
    assert lanescore.weight_used(before.profiles[0], lane).basis == lanescore.LEARNED
    # A later review date or expiry does not change what the profile selects: still learned.
    later = parse_profiles(
        "profiles:\n  - {id: a, owner: X, weight: 2.0, review_by: 2030-01-01, valid_to: 2031-01-01,\n"
        "     conditions: [{field: hs_code, eq: '1'}]}\n"
    )
    assert lanescore.weight_used(later.profiles[0], lane).basis == lanescore.LEARNED
    changed = parse_profiles("profiles:\n  - {id: a, owner: X, weight: 2.0, conditions: [{field: hs_code, eq: '9'}]}\n")
    assert lanescore.weight_used(changed.profiles[0], lane) == lanescore.WeightUsed(2.0, lanescore.PROVISIONAL)
    assert lanescore.weight_used(changed.profiles[0], None).basis == lanescore.NO_MODEL


def test_the_weights_survive_the_stored_model(planted_file: Path) -> None:
    from dragonnet.targeting import model as mdl

    profiles = parse_profiles(profiles_yaml("strong"))
    with engine.Workspace([planted_file], threads=1) as ws:
        frame = ws.frame(profiles, mode="train")
        spec = engine.fit(frame, ws.extras, profiles, rounds=30, threads=1)
        again = mdl.ModelSpec.from_json(spec.to_json(), spec.booster_text)
        assert again.lane == spec.lane and spec.lane.weights["planted-strong"].weight > 0
        sample = frame.head(500)
        a = engine.score_batch(sample, profiles, spec, threads=1)
        b = engine.score_batch(sample, profiles, again, threads=1)
    assert np.array_equal(a.score, b.score)
    marked = sample["mask_0"].to_numpy() == 1  # the one profile fired
    assert marked.any() and (a.score[marked] > a.model_p[marked]).all()
