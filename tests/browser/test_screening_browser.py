"""Screening a list in a real browser: a member opens "Screen a list" from the linkage pages, uploads a manifest,
sees the hit on a party of their agency's case, the hit on their watchlist and the row that was not screened; a
member of another agency screening the same list learns nothing of that (AMBER+STRICT) case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Party
from web.seed import PASSWORD
from web.webtest import seed_database

pytestmark = pytest.mark.browser

GIVEN = ["Somsak", "Anan", "Kittisak", "Niran", "Prasert", "Sompong", "Wichai", "Chaiya", "Surachai", "Boonmee"]
SERVED_DATABASES: dict[str, str] = {}  # base URL -> its database (to read ground truth)
FAMILY = ["Srisuk", "Thongdee", "Kaewmanee", "Chaiyasit", "Boonyarat", "Rattanakul", "Saelim", "Jaidee"]


@pytest.fixture(scope="module")
def screening_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded operation with parties: the courier Somchai Wongsawat on TH-1 (AMBER+STRICT) and, spelt the
    other way round, on TH-2; other people reported twice each (so the model has matches to learn from)."""
    folder = tmp_path_factory.mktemp("screening-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded = seed_database(url)
    with Session(engine) as session:
        for ref, name in (("TH-1", "Somchai Wongsawat"), ("TH-2", "WONGSAWAT Somchai")):
            session.add(Party(case_id=seeded.cases[ref], role="courier", kind="person", name=name, nationality="TH",
                              birth_date=dt.date(1978, 3, 14), id_number="AA4821937"))  # fmt: skip
        for i in range(60):
            name = f"{GIVEN[i % 10]} {FAMILY[(i * 3) % 8]}"
            born = dt.date(1960 + i % 40, 1 + i % 12, 1 + (i * 7) % 28)
            for ref, spelt in (("TH-3", name), ("VN-1", " ".join(reversed(name.split())).upper())):
                session.add(Party(case_id=seeded.cases[ref], role="consignee", kind="person", name=spelt,
                                  nationality="TH", birth_date=born, id_number=f"TB{500000 + i}"))  # fmt: skip
        session.commit()
    engine.dispose()
    with serve(url, folder) as base:
        SERVED_DATABASES[base] = url
        yield base


def _page(browser: object, base: str, username: str) -> object:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=base)
    context.set_default_timeout(60_000)  # a screening trains a model: seconds on a busy machine
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    return page


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text(
        "Passenger name,Date of birth,Nationality,Passport No.\n"
        "WONGSAWAT Somchai,14/03/1978,Thailand,AA4821937\n"
        "Mary Watched,1990-05-05,TH,X1234567\n"
        ",1990-05-05,TH,\n",
        encoding="utf-8",
    )
    return path


def test_member_screens_a_manifest(browser: object, screening_server: str, manifest: Path) -> None:
    from playwright.sync_api import Page, expect

    page = _page(browser, screening_server, "th_reporter")
    assert isinstance(page, Page)
    page.goto("/watchlist")
    page.select_option("select[name=kind]", "passport")
    page.fill("input[name=value]", "X 123 4567")
    page.click("form.msg-form button[type=submit]")
    page.click('a[data-nav="networks"]')
    page.click("nav.linkage-subnav >> text=Screen a list")
    expect(page).to_have_url("/operations/test-dragon/screening")
    page.set_input_files("#screening-file", str(manifest))
    page.fill("#screening-threshold", "0.5")
    page.click("#screening-button")
    result = page.locator("#screening-result")
    expect(result).to_contain_text("of 3 rows of manifest.csv")
    hits = page.locator("#screening-hits tbody tr")
    case_hits = page.locator('#screening-hits tr[data-row="2"][data-source="case"]')
    expect(case_hits.first).to_contain_text("Somchai Wongsawat")
    expect(case_hits.first).to_contain_text("date of birth")
    expect(page.locator('#screening-hits tr[data-row="3"][data-source="watchlist"]')).to_contain_text("exact value")
    expect(page.locator("#screening-problems tr.quarantined")).to_contain_text("no name")
    assert hits.count() >= 2
    case_hits.first.locator("a").click()
    page.wait_for_url("**/cases/*")
    page.context.close()


def test_another_agency_learns_nothing_of_a_hidden_case(browser: object, screening_server: str, manifest: Path) -> None:
    from playwright.sync_api import Page, expect

    page = _page(browser, screening_server, "vn_reporter")
    assert isinstance(page, Page)
    page.goto("/operations/test-dragon/screening")
    page.set_input_files("#screening-file", str(manifest))
    page.fill("#screening-threshold", "0.5")
    page.click("#screening-button")
    expect(page.locator("#screening-result")).to_be_visible()
    # TH-1 (AMBER+STRICT) and TH-2's parties are Thai Customs' only: no hit, no reference, no count.
    expect(page.locator('#screening-hits tr[data-row="2"]')).to_have_count(0)
    expect(page.locator("#screening-hits")).not_to_contain_text("TH-")
    expect(page.locator("#screening-counts")).to_contain_text("against 60 case parties")
    expect(page.locator('#screening-hits tr[data-source="watchlist"]')).to_have_count(0)
    page.context.close()


def _notice_on(url: str, case_ref: str) -> int:
    """The number of the screening notice on `case_ref`'s courier (ground truth: the page does not say it)."""
    from sqlalchemy import select

    from dragonnet.storage.linkage_models import ScreeningNotice
    from dragonnet.storage.models import Case

    engine = make_engine(url)
    with Session(engine) as session:
        found = session.execute(
            select(ScreeningNotice.id).join(Case, Case.id == ScreeningNotice.owner_case_id)
            .where(Case.case_ref == case_ref)
        ).scalar_one()  # fmt: skip
    engine.dispose()
    return int(found)


def test_a_hit_on_a_hidden_record_is_asked_for_from_the_results_page(
    browser: object, screening_server: str, manifest: Path
) -> None:
    """Viet Nam's reporter screens the manifest: Thai Customs' couriers (TH-1, TH-2: parties Viet Nam may not see)
    give notices naming Thai Customs only; the reporter opens TH-2's from the results page and asks with a reason;
    Thai Customs' coordinator accepts on the same notice; the next screening shows a normal hit on TH-2."""
    from playwright.sync_api import Page, expect

    page = _page(browser, screening_server, "vn_reporter")
    assert isinstance(page, Page)
    page.goto("/operations/test-dragon/screening")
    page.set_input_files("#screening-file", str(manifest))
    page.fill("#screening-threshold", "0.5")
    page.click("#screening-button")
    notices = page.locator('#screening-notices-table tr[data-row="2"]')
    expect(notices.first).to_contain_text("TH-CUS")
    expect(page.locator("#screening-notices")).not_to_contain_text("TH-2")
    number = _notice_on(SERVED_DATABASES[screening_server], "TH-2")
    page.click(f'#screening-notices-table tr[data-notice="{number}"] a')
    expect(page).to_have_url(f"/operations/test-dragon/screening/notices/{number}")
    expect(page.locator("#notice-revealed")).to_contain_text("not shared")
    page.fill("#request-reason", "the courier flew to Hanoi with a Thai passport")
    page.click("#request-form button[type=submit]")
    expect(page.locator("#requests-table .request-status")).to_have_text("pending")
    page.context.close()

    owner = _page(browser, screening_server, "th_coord")
    assert isinstance(owner, Page)
    owner.goto(f"/operations/test-dragon/screening/notices/{number}")
    expect(owner.locator(".request-reason")).to_contain_text("Thai passport")
    expect(owner.locator("#notice-facts")).to_contain_text("WONGSAWAT Somchai")  # the row as Viet Nam wrote it
    owner.locator(".decide-form button[value=accept]").click()
    expect(owner.locator("#requests-table .request-status")).to_have_text("accepted")
    owner.context.close()

    page = _page(browser, screening_server, "vn_reporter")
    page.goto(f"/operations/test-dragon/screening/notices/{number}")
    expect(page.locator("#notice-revealed")).to_contain_text("TH-2")
    page.goto("/operations/test-dragon/screening")
    page.set_input_files("#screening-file", str(manifest))
    page.fill("#screening-threshold", "0.5")
    page.click("#screening-button")
    expect(page.locator('#screening-hits tr[data-row="2"][data-source="case"]').first).to_contain_text("TH-2")
    page.context.close()
