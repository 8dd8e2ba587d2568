"""The profile report's figures against an independent, row-by-row count of the same declarations.

The report counts in DuckDB SQL and numpy over fired masks; here every figure is recounted from the raw rows
with plain Python predicates written from the profiles' meaning (not from their SQL), the party history
rebuilt day by day, the model's top-s re-sorted, and the confidence interval from scipy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import binomtest
from sqlalchemy import select

from dragonnet.policy.access import Actor
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import User
from dragonnet.targeting import engine, profile_service, service
from dragonnet.targeting.profiles import ProfileSet
from targeting.helpers import build_profile_world
from web.seed import Seeded

WORDS = ("ivory", "pangolin", "象牙", "vảy", "seahorse")


def _predicates() -> dict[str, Any]:
    """What each profile means, in plain Python over one row (`seized_before`: the importer's earlier seizures)."""
    return {
        "t-words": lambda r: any(t in (r["goods_description"] or "").lower() for t in WORDS),
        "t-origin": lambda r: r["origin_country"] in ("NG", "CD"),
        "t-value": lambda r: (r["declared_value"] or 0) > 5000 and r["declaration_date"] <= dt.date(2024, 3, 31),
        "t-repeat": lambda r: r["seized_before"] >= 1,
        "t-horn": lambda r: str(r["hs_code"] or "")[:4] in ("0507", "9601"),
    }


@dataclass
class World:
    db_url: str
    rows: list[dict[str, Any]]  # every stored declaration, outcome = file outcome overridden by recorded results
    recorded: dict[str, str]


def _actor(session: Any, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Actor.for_user(user)


@pytest.fixture
def world(db_url: str, seeded_db: Seeded, tmp_path: Path) -> World:
    built = build_profile_world(db_url, tmp_path)
    rows = pa.concat_tables([built.history, built.june]).to_pylist()
    for row in rows:
        if row["declaration_id"] in built.recorded:
            row["outcome"] = 1 if built.recorded[row["declaration_id"]] == "seizure" else 0
    _party_history(rows)
    return World(db_url, rows, built.recorded)


def _party_history(rows: list[dict[str, Any]]) -> None:
    """seized_before: the importer's seizures on strictly earlier days (one pass, day by day)."""
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["declaration_date"]].append(row)
    seized: dict[str, int] = defaultdict(int)
    for day in sorted(by_day):
        for row in by_day[day]:
            row["seized_before"] = seized[row["importer"]]
        for row in by_day[day]:
            if row["outcome"] == 1:
                seized[row["importer"]] += 1


def _report(world: World, query: profile_service.ReportQuery, today: dt.date) -> Any:
    eng = make_engine(world.db_url)
    try:
        with session_scope(eng) as session:
            return profile_service.effectiveness_report(session, _actor(session, "th_reporter"), query, threads=1,
                                                        today=today)  # fmt: skip
    finally:
        eng.dispose()


def _model_p(world: World, ids: list[str]) -> dict[str, float]:
    """The stored model's probabilities for these declarations (the counting around them is what is checked)."""
    from dragonnet.storage.targeting_models import TargetingBatch
    from dragonnet.targeting import model as mdl

    eng = make_engine(world.db_url)
    try:
        with session_scope(eng) as session:
            spec = service.load_spec(service.latest_model(session))
            files = [Path(b.path) for b in session.execute(select(TargetingBatch)).scalars()]
            results = service.recorded_results(session)
    finally:
        eng.dispose()
    assert spec is not None
    with engine.Workspace(files, results=results, extras=spec.extras, threads=1) as ws:
        ws.con.register("wanted", pa.table({"id": ids}))
        frame = ws.frame(ProfileSet(()), mode="train", where="declaration_id IN (SELECT id FROM wanted)")
    return dict(zip(frame["declaration_id"], mdl.predict(spec, frame, threads=1), strict=True))


def _check(world: World, report: Any, rows: list[dict[str, Any]]) -> None:
    inspected = [r for r in rows if r["outcome"] is not None]
    assert report.declarations == len(rows)
    assert report.inspected.inspected == len(inspected)
    assert report.inspected.found == sum(r["outcome"] for r in inspected)
    baseline = report.inspected.found / report.inspected.inspected
    model_p = _model_p(world, [r["declaration_id"] for r in rows])
    ranked = sorted(rows, key=lambda r: (-model_p[r["declaration_id"]], r["declaration_id"]))
    predicates = _predicates()
    for figures in report.profiles:
        fired = [r for r in rows if predicates[figures.profile.id](r)]
        hits = [r for r in fired if r["outcome"] is not None]
        found = sum(r["outcome"] for r in hits)
        assert (figures.selected, figures.hits.inspected, figures.hits.found) == (len(fired), len(hits), found), (
            figures.profile.id
        )
        if hits:
            ci = binomtest(found, len(hits)).proportion_ci(method="wilson")
            assert figures.hits.interval == pytest.approx((ci.low, ci.high), abs=1e-9)
            assert figures.lift_random == pytest.approx(found / len(hits) / baseline)
        top = [r for r in ranked[: len(fired)] if r["outcome"] is not None]
        assert figures.model is not None
        assert (figures.model.inspected, figures.model.found) == (len(top), sum(r["outcome"] for r in top))


def test_figures_match_an_independent_count_over_the_history(world: World) -> None:
    query = profile_service.ReportQuery(date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 4, 30))
    report = _report(world, query, today=dt.date(2024, 7, 1))
    rows = [r for r in world.rows if dt.date(2024, 2, 1) <= r["declaration_date"] <= dt.date(2024, 4, 30)]
    _check(world, report, rows)
    by_id = {p.profile.id: p for p in report.profiles}
    selected = {k: v.selected for k, v in by_id.items()}
    assert min(selected.values()) >= 10, selected  # every profile fires: the counts are not vacuous
    assert not report.every_declaration_inspected  # 70 % labelled: the report says the baseline is biased
    assert report.model is not None and report.model.overlaps  # the model was trained on these months
    # Review flags: dates, expiry, the floor (the baseline by default) over enough inspections.
    assert "no review date" in by_id["t-repeat"].flags
    assert "review due since 2024-02-01" in by_id["t-origin"].flags
    assert "expired on 2024-03-31" in by_id["t-value"].flags
    assert by_id["t-words"].flags == [] and by_id["t-horn"].profile.mandatory
    below = [p for p in report.profiles if p.hits.inspected >= 30 and p.hits.rate is not None
             and p.hits.rate < report.floor]  # fmt: skip
    assert {p.profile.id for p in below} == {
        p.profile.id for p in report.profiles if any(f.startswith("hit rate") for f in p.flags)
    }


def test_one_office_with_recorded_results_lanes_and_mandatory_red(world: World) -> None:
    query = profile_service.ReportQuery(date_from=dt.date(2024, 6, 1), date_to=dt.date(2024, 6, 30), office="THBKK",
                                        floor=0.9, min_inspections=1)  # fmt: skip
    report = _report(world, query, today=dt.date(2024, 7, 1))
    rows = [r for r in world.rows if r["declaration_date"] >= dt.date(2024, 6, 1) and r["office_locode"] == "THBKK"]
    _check(world, report, rows)
    assert report.inspected.inspected == len(world.recorded)  # only what the officers recorded
    assert report.model is not None and not report.model.overlaps
    # The lanes' hit rates, from the recorded results themselves.
    eng = make_engine(world.db_url)
    try:
        with session_scope(eng) as session:
            from dragonnet.storage.targeting_models import TargetingHit

            hits = list(session.execute(select(TargetingHit).where(TargetingHit.result.is_not(None))).scalars())
            expected: dict[str, list[int]] = {"red": [0, 0], "yellow": [0, 0], "random": [0, 0]}
            for h in hits:
                key = "random" if h.random else h.lane
                expected[key][0] += 1
                expected[key][1] += h.result == "seizure"
    finally:
        eng.dispose()
    assert {k: [v.inspected, v.found] for k, v in report.lanes.items()} == expected
    assert report.lanes["random"].inspected >= 1  # the random draw's outcome: the green lane's estimate
    flagged = {p.profile.id for p in report.profiles if any(f.startswith("hit rate") for f in p.flags)}
    assert flagged == {p.profile.id for p in report.profiles if p.hits.inspected and (p.hits.rate or 0) < 0.9}
    _check_mandatory_red(world)


def _check_mandatory_red(world: World) -> None:
    """Every June declaration a mandatory profile fired on is red on its list, first, and the list says why."""
    from dragonnet.storage.targeting_models import TargetingHit

    horn = {r["declaration_id"] for r in world.rows if r["declaration_id"].startswith("J")
            and _predicates()["t-horn"](r)}  # fmt: skip
    assert horn
    eng = make_engine(world.db_url)
    try:
        with session_scope(eng) as session:
            hits = {h.declaration_id: h for h in session.execute(select(TargetingHit)).scalars()}
    finally:
        eng.dispose()
    for did in horn:
        hit = hits[did]  # on a list, whatever its score
        assert hit.lane == "red"
        (entry,) = [r for r in hit.rules if r["id"] == "t-horn"]
        assert entry["mandatory"] is True
    assert np.mean([hits[d].rank for d in horn]) < 5  # listed first
