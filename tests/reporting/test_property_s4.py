"""S4 derived-data leaks: for random sharing configurations, the figures an actor gets equal the figures
recomputed on that actor's visible subset only (and a plain Python count agrees with DuckDB's)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dragonnet.operation.service import get_operation, phase_for_date
from dragonnet.policy.access import Actor, case_visibility
from dragonnet.reporting import breakdowns, rules
from dragonnet.reporting.extract import Extract, ScopeKind, allowed_scopes, extract, scope_for
from dragonnet.storage.models import Agency, Case, CaseShare, Item, User
from web.seed import SLUG, seed

ACTORS = ("th_reporter", "th_coord", "vn_reporter", "analyst")
LEVELS = ("red", "amber+strict", "amber", "green", "clear")
STATUSES = ("draft", "submitted", "validated", "merged", "withdrawn")
N_EXTRA = 24
CONFIGS = 12


def _restrict(ext: Extract, ids: set[int]) -> Extract:
    keep = pa.array(sorted(ids), type=pa.int64())
    return Extract(
        cases=ext.cases.filter(pc.is_in(ext.cases["id"], value_set=keep)),
        items=ext.items.filter(pc.is_in(ext.items["case_id"], value_set=keep)),
        transits=ext.transits.filter(pc.is_in(ext.transits["case_id"], value_set=keep)),
        phases=ext.phases,
    )


def test_figures_equal_the_scoped_recomputation(session: Session) -> None:
    seeded = seed(session)
    op = get_operation(session, SLUG)
    agencies = {a.code: a for a in session.execute(select(Agency)).scalars()}
    members = [agencies["TH-CUS"], agencies["VN-CUS"]]
    for n in range(N_EXTRA):
        day = dt.date(2024, 3, 3 + n) if n % 2 else dt.date(2024, 6, 2 + n)
        agency = members[n % 2]
        session.add(Case(
            operation_id=op.id, phase_id=phase_for_date(op, day).id, reporting_agency_id=agency.id,
            case_ref=f"P-{n}", status="validated", sharing_level="green", seizure_date=day,
            place_country=agency.country or "TH", transport_mode=("road", "postal", "air_cargo")[n % 3],
            arrests=n % 3, origin_country="LA", destination_country=("VN", "TH", "AU")[n % 3],
            items=[Item(position=1, commodity_class=("drug", "wildlife", "timber")[n % 3], quantity=1 + n,
                        unit="kg", mass_kg=1.0 + n)],
        ))  # fmt: skip
    session.flush()
    case_ids = sorted(session.execute(select(Case.id).where(Case.operation_id == seeded.operation_id)).scalars())
    actors = {
        name: Actor.for_user(session.execute(select(User).where(User.username == name)).scalar_one()) for name in ACTORS
    }
    compared = {"configs": 0, "aggregates": 0}

    config = st.lists(
        st.tuples(st.sampled_from(LEVELS), st.sampled_from(STATUSES), st.sets(st.sampled_from(sorted(agencies)))),
        min_size=len(case_ids), max_size=len(case_ids),
    )  # fmt: skip

    @settings(max_examples=CONFIGS, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(config=config, rule_key=st.sampled_from(sorted(rules.PRESETS)), phase=st.sampled_from([1, 2]))
    def check(config: list[tuple[str, str, set[str]]], rule_key: str, phase: int) -> None:
        session.execute(delete(CaseShare))
        for case_id, (level, status, shared_with) in zip(case_ids, config, strict=True):
            session.execute(update(Case).where(Case.id == case_id).values(sharing_level=level, status=status))
            for code in shared_with:
                session.add(CaseShare(case_id=case_id, agency_id=agencies[code].id, nominal=False))
        session.flush()
        session.expire_all()
        rule = rules.PRESETS[rule_key]
        everything = extract(session, op, rule, scope_for(None))
        previous = 1 if phase == 2 else None
        for name, actor in actors.items():
            visible = set(session.execute(select(Case.id).where(case_visibility(actor))).scalars())
            for kind in allowed_scopes(actor):
                if kind is ScopeKind.PUBLIC:
                    continue
                scope = scope_for(actor, kind.value)
                scoped = extract(session, op, rule, scope)
                assert set(scoped.cases["id"].to_pylist()) <= visible  # nothing beyond the policy, ever
                got = breakdowns.compute(breakdowns.prepare(scoped, rule), phase, previous)
                # The same figures recomputed on the actor's visible subset (within its scope) only.
                rows = everything.cases.to_pylist()
                in_scope = {
                    r["id"] for r in rows if r["id"] in visible and (
                        kind is ScopeKind.OPERATION
                        or (kind is ScopeKind.AGENCY and r["agency_id"] == actor.agency_id)
                        or (kind is ScopeKind.COUNTRY and r["agency_country"] == actor.country)
                    )
                }  # fmt: skip
                expected = breakdowns.compute(
                    breakdowns.prepare(_restrict(everything, in_scope), rule), phase, previous
                )
                assert got == expected, (name, kind)
                # And an independent count in plain Python over the visible rows.
                counted = Counter(r["phase_id"] for r in rows if r["id"] in in_scope)
                phase_id = next(p.id for p in op.phases if p.number == phase)
                assert got.headline.cases == counted.get(phase_id, 0), (name, kind)
                compared["aggregates"] += sum(len(b.rows) * len(b.columns) for b in got.breakdowns)
        compared["configs"] += 1

    check()
    print(f"S4: {compared['configs']} random sharing configs, {compared['aggregates']} aggregate cells, 0 differing")
    assert compared["configs"] >= CONFIGS
