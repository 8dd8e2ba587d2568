"""The match threshold in a real browser: Thai Customs' national coordinator opens "Match threshold" from the
linkage pages, sees the curve of the decisions on its agency's parties and the suggestion, adopts it, and the
screening form then starts from it; a reporter has no link to the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.storage.db import make_engine
from dragonnet.storage.linkage_models import LinkageRun, LinkDecision, ProposedLink
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Agency, Party
from web.seed import PASSWORD
from web.webtest import seed_database

pytestmark = pytest.mark.browser

# (confirmed, probability): best F1 at 0.96 (18 of 20 confirmed found, 2 rejections among 20 found)
LABELS = [(True, 0.99)] * 12 + [(True, 0.96)] * 6 + [(False, 0.96)] * 2 + [(False, 0.8)] * 4 + [(True, None)] * 2


@pytest.fixture(scope="module")
def threshold_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded operation with a stored run's scored pairs of Thai Customs' parties and its analysts' decisions."""
    folder = tmp_path_factory.mktemp("threshold-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded = seed_database(url)
    with Session(engine) as session:
        th = session.execute(select(Agency).where(Agency.code == "TH-CUS")).scalar_one()
        parties = [Party(case_id=seeded.cases["TH-3"], role="consignee", kind="person", name=f"Person {i}")
                   for i in range(2 * len(LABELS))]  # fmt: skip
        session.add_all(parties)
        run = LinkageRun(scope_agency_id=None, backend="duckdb", threshold=0.95, records=len(parties))
        session.add(run)
        session.flush()
        for i, (confirmed, p) in enumerate(LABELS):
            low, high = parties[2 * i].id, parties[2 * i + 1].id
            if p is not None:
                session.add(ProposedLink(run_id=run.id, party_low_id=low, party_high_id=high, match_probability=p,
                                         match_weight=0.0))  # fmt: skip
            session.add(LinkDecision(party_low_id=low, party_high_id=high, agency_id=th.id,
                                     decision="confirm" if confirmed else "reject"))  # fmt: skip
        session.commit()
    engine.dispose()
    with serve(url, folder) as base:
        yield base


def _page(browser: object, base: str, username: str) -> object:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=base)
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.problems = problems  # type: ignore[attr-defined]
    return page


def test_coordinator_sees_the_curve_and_adopts_the_suggestion(browser: object, threshold_server: str) -> None:
    from playwright.sync_api import Page, expect

    page = _page(browser, threshold_server, "th_coord")
    assert isinstance(page, Page)
    page.click('a[data-nav="networks"]')
    page.click("nav.linkage-subnav >> text=Match threshold")
    expect(page).to_have_url("/operations/test-dragon/threshold")
    expect(page.locator("#threshold-counts")).to_contain_text("26 decisions")
    expect(page.locator("#threshold-counts")).to_contain_text("20 confirmed, 6 rejected")
    expect(page.locator("#threshold-adopted")).to_contain_text("None adopted")
    expect(page.locator("#chart-threshold-curve img")).to_be_visible()
    expect(page.locator("#threshold-best")).to_contain_text("0.9600")
    page.fill("#threshold-target", "1")
    page.click("#threshold-target-form button")
    expect(page.locator("#threshold-for-target")).to_contain_text("0.9900")
    page.check("input[name=rule][value=best_f1]")
    page.click("#threshold-adopt-button")
    expect(page.locator("#threshold-adopted")).to_contain_text("Adopted: 0.9600, from 26 decisions")
    expect(page.locator("#threshold-history tbody tr")).to_have_count(1)
    page.goto("/operations/test-dragon/screening")
    expect(page.locator("#screening-threshold")).to_have_value("0.96")
    assert page.problems == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_reporter_has_no_link_and_is_refused(browser: object, threshold_server: str) -> None:
    from playwright.sync_api import Page, expect

    page = _page(browser, threshold_server, "th_reporter")
    assert isinstance(page, Page)
    page.goto("/operations/test-dragon/networks")
    expect(page.locator("nav.linkage-subnav")).not_to_contain_text("Match threshold")
    response = page.goto("/operations/test-dragon/threshold")
    assert response is not None and response.status == 403
    page.context.close()
