"""S19, the differencing attack of issue #15, kept in the suite.

A partner observer asks for the public debrief of the demo operation's phase V, its last completed phase
(which also shows the phases before it) under every filter combination it may send: no filter, each
commodity class, each reporting country, and each class x country (bounded to those). Every count it is
shown goes into `Attack`, which subtracts and narrows intervals through every sum the attacker knows holds
(tests/security/differencing.py; the demo database of tests/demo, through tests/reporting/conftest.py).

* Against the public summary (cell-key perturbation, then "<5"): no suppressed value is recovered.
* Self-test: the same scan against the same figures with plain suppression (exact counts, "<5") recovers
  suppressed values, each equal to the true figure (as the probe of the issue did: 24 values).

The scan computes the observer's debriefs through the service the web and API call (one extract shared by
the queries, for speed); `test_observer_door_serves_the_scanned_figures` checks that the API answers an
observer exactly these figures.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from demo.conftest import DemoDB
from dragonnet.app import create_app
from dragonnet.config import Settings
from dragonnet.demo import DEMO_PASSWORD
from dragonnet.domain.vocabulary import CommodityClass
from dragonnet.operation.service import get_operation, operation_totals
from dragonnet.policy import cellkey
from dragonnet.reporting.extract import extract, scope_for
from dragonnet.reporting.public import public_summary
from dragonnet.reporting.rules import DEFAULT
from dragonnet.reporting.service import Filters, compute_figures
from security.differencing import Attack, Var, naive_differences, plain_suppression

SLUG = "mekong-dragon"
OBSERVER = "unodc.observer"
# The countries of the fast scan: mid-sized reporting countries, where small class cells are found.
FAST_COUNTRIES = 3
# The phase scanned: the last completed one (the demo's current phase VI holds only this season's first cases).
PHASE = 5


@dataclass
class Scan:
    perturbed: Attack  # the public summary, read by an attacker allowing the published noise bound
    gambler: Attack  # the same figures, read by an attacker who bets the noise is within +-2 (93% of cells)
    plain: Attack  # the self-test: the same figures with plain suppression
    truth: dict[Var, int]  # the true counts
    requests: int

    def report(self, label: str) -> str:
        gamble = self.gambler.recovered()
        naive = naive_differences(self.perturbed)
        hidden = list(self.perturbed.suppressed)
        modal = Counter(self.truth[v] for v in hidden).most_common(1)[0][1] if hidden else 0
        return (
            f"S19 {label}: {self.requests} debrief requests ({len(self.perturbed.queries)} phase x filter cells read), "
            f"{len(self.perturbed.equations)} equations; public summary: {len(hidden)} '<5' cells, "
            f"{len(self.perturbed.recovered())} recovered; betting on noise within +-2: {len(gamble)} pinned, "
            f"{sum(self.truth[v] == x for v, x in gamble.items())} right; naive subtraction: {len(naive)} guesses, "
            f"{sum(self.truth.get(v) == x for v, x in naive.items())} right (always guessing the commonest hidden "
            f"value: {modal}); plain suppression (self-test): {len(self.plain.suppressed)} '<5' cells, "
            f"{len(self.plain.recovered())} recovered"
        )


def _countries_by_size(session: Session) -> list[str]:
    """The reporting countries of the phase, largest first (what the observer's unfiltered debrief lists)."""
    op = get_operation(session, SLUG)
    scope = scope_for(None, "public")
    whole = compute_figures(session, op, PHASE, scope, DEFAULT).debrief
    return [str(r["key"]) for r in whole.breakdown("by_country").as_dicts()]


def scan(session: Session, countries: list[str], every_country: list[str]) -> Scan:
    op = get_operation(session, SLUG)
    scope = scope_for(None, "public")
    ext = extract(session, op, DEFAULT, scope)
    key = cellkey.cell_key(session)
    classes = CommodityClass.values()
    perturbed, gambler, plain, truth = Attack(cellkey.MAX_NOISE), Attack(2), Attack(0), Attack(0)
    requests = 0
    for commodity in [None, *classes]:
        for country in [None, *countries]:
            figures = compute_figures(session, op, PHASE, scope, DEFAULT, Filters(commodity, country), ext=ext)
            shown = public_summary(figures.debrief, key, figures.runs, figures.exact)
            requests += 1
            for attack in (perturbed, gambler):
                attack.read(shown, commodity, country)
            plain.read(plain_suppression(figures.debrief), commodity, country)
            truth.read(figures.debrief, commodity, country)
    # The operation's overview (every member and observer sees it): each phase's cases by class, the same cells.
    for total in operation_totals(session, op):
        for klass, value in total.by_class.items():
            var = (total.number, klass, None, None, None)
            if var in perturbed.intervals:
                for attack in (perturbed, gambler):
                    attack.observe(var, value)
    truth._absent_rows_are_zero()
    exact = {v: lo for v, (lo, hi) in truth.intervals.items() if lo == hi}
    single_class = all(
        exact[(p, None, c, None, None)] == sum(exact.get((p, k, c, None, None), 0) for k in classes)
        for (p, k, c, d, _) in exact
        if k is None and d is None
    )
    for attack in (perturbed, gambler, plain):
        attack.add_structure(classes, every_country, single_class)
    return Scan(perturbed, gambler, plain, exact, requests)


def _check(result: Scan, label: str) -> None:
    print(result.report(label))
    assert result.perturbed.suppressed, "the scan met no '<5' cell: it tests nothing"
    # The attack's own check: every equation it uses holds on the true figures.
    for attack in (result.perturbed, result.plain):
        wrong = [t for t, parts in attack.equations if result.truth[t] != sum(result.truth[p] for p in parts)]
        assert not wrong, f"the attack assumes {len(wrong)} sums that do not hold, e.g. {wrong[0]}"
    # The attack on the public summary recovers nothing, and its intervals always hold the true value.
    assert result.perturbed.recovered() == {}
    solved = result.perturbed.solve()
    assert all(solved[v][0] <= result.truth[v] <= solved[v][1] for v in result.perturbed.suppressed)
    # The self-test: the same attack, on the same figures with plain suppression, recovers true values.
    recovered = result.plain.recovered()
    assert recovered, "the self-test recovered nothing: the attack has lost its teeth"
    assert all(result.truth[v] == value for v, value in recovered.items())
    assert all(result.truth[v] == value for v, value in naive_differences(result.plain).items())


def test_differencing_scan_over_mid_sized_countries(demo: Session) -> None:
    countries = _countries_by_size(demo)
    middle = len(countries) // 3
    _check(scan(demo, countries[middle : middle + FAST_COUNTRIES], countries), f"{FAST_COUNTRIES} countries")


# One backend: what the scan attacks is the public summary's perturbation, computed in DuckDB and Python from the
# extract, whatever the database. The figures under filters are checked on both backends (test_property_s4, the
# demo's debrief tests), and so are the scan over mid-sized countries and the door test.
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_differencing_scan_over_every_filter(demo: Session) -> None:
    countries = _countries_by_size(demo)
    _check(scan(demo, countries, countries), "every country")


def _client(demo_db: DemoDB, tmp_path: Path) -> TestClient:
    url = demo_db.engine.url.render_as_string(hide_password=False)
    return TestClient(create_app(Settings(url, tmp_path, "test-secret-key", 8, False)), follow_redirects=False)


def test_observer_door_serves_the_scanned_figures(demo_db: DemoDB, demo: Session, tmp_path: Path) -> None:
    """What the scan computes is what the observer is served: the API's debrief for a few filters."""
    country = _countries_by_size(demo)[5]
    demo.rollback()  # the app reads the same database (SQLite: no transaction left open)
    asked = ((None, None), ("wildlife", None), (None, country), ("drug", country))
    served = []
    with _client(demo_db, tmp_path) as client:
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
        assert token
        login = {"username": OBSERVER, "password": DEMO_PASSWORD, "csrf_token": token.group(1), "next": "/"}
        assert client.post("/login", data=login).status_code == 303
        for commodity, where in asked:
            params = {k: v for k, v in (("commodity", commodity), ("country", where)) if v}
            answer = client.get(f"/api/v1/operations/{SLUG}/reports/debrief", params=params)
            assert answer.status_code == 200, answer.text
            served.append(answer.json())
    op = get_operation(demo, SLUG)
    scope = scope_for(None, "public")
    key = cellkey.cell_key(demo)
    for (commodity, where), body in zip(asked, served, strict=True):
        assert body["scope"]["kind"] == "public" and body["perturbed"] is True
        figures = compute_figures(demo, op, None, scope, DEFAULT, Filters(commodity, where))
        expected = public_summary(figures.debrief, key, figures.runs, figures.exact).as_dict()
        assert body["headline"] == expected["headline"]
        assert body["breakdowns"] == expected["breakdowns"]
