"""Everyday work in the demo, as the officers see it (issue 19), on a desktop (1366x900) and a phone (390x844):
today's seizure saves; the alert's sender reads what the recipient found; one container rule on the case form
and the alert form; the inbox's unread count in the menu; the key columns of the recipients table and the case
list in view; the partner observer told why something is hidden or differs, without a link to act; targeting
lists and resolved networks present on first login.

One demo database per module (the build takes a minute or two: marked slow)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.demo import DEMO_PASSWORD, build_demo
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLUG = "mekong-dragon"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
BAD_CONTAINER = "MSCU1234567"  # the example: wrong ISO 6346 check digit (5 is right)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory, live_server: str) -> Path:
    """A demo database and its data folder (the targeting store), built once for the module. To iterate, set
    DRAGONNET_BROWSER_DEMO_DIR to a data folder built by `dragonnet demo` (today's): a copy of it is used."""
    folder = tmp_path_factory.mktemp("demo-live")
    prebuilt = os.environ.get("DRAGONNET_BROWSER_DEMO_DIR")
    if prebuilt:
        shutil.copytree(prebuilt, folder, dirs_exist_ok=True)
        return folder
    engine = make_engine(f"sqlite:///{folder / 'dragonnet.db'}")
    upgrade(engine)
    with Session(engine) as session:
        build_demo(session, seed=2023, data_dir=folder)
        session.commit()
    engine.dispose()
    return folder


@pytest.fixture(scope="module")
def demo_url(demo_folder: Path) -> str:
    return f"sqlite:///{demo_folder / 'dragonnet.db'}"


@pytest.fixture(scope="module")
def demo_server(demo_folder: Path, demo_url: str) -> Iterator[str]:
    with serve(demo_url, demo_folder) as base:
        yield base


@pytest.fixture
def open_page(browser: Browser, demo_server: str) -> Iterator[object]:
    """open_page(username, viewport) -> a logged-in page; fails the test on script errors and CSP violations."""
    contexts = []
    problems: list[str] = []

    def opener(username: str, viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(base_url=demo_server, viewport=viewport)  # type: ignore[arg-type]
        context.set_default_timeout(30_000)  # a loaded 2-core CI runner: saves against 5,000 cases
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"error {e}"))
        page.on("dialog", lambda d: (problems.append(f"dialog {d.message}"), d.dismiss()))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        expect(page).not_to_have_url(re.compile(r"/login"))
        return page

    yield opener
    for context in contexts:
        context.close()
    assert problems == []


def _in_view(page: Page, selector: str) -> None:
    """The element is shown and lies inside the viewport's width (not cut off, no sideways scrolling needed)."""
    element = page.locator(selector).first
    expect(element).to_be_visible()
    box = element.bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box, width)


@VIEWPORTS
def test_todays_seizure_saves_and_says_so(open_page, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    page = open_page("th.reporter", viewport)
    page.goto(f"/operations/{SLUG}/report")
    ref = f"TH-TODAY-{viewport['width']}"
    page.fill("#f-case_ref", ref)
    page.fill("#f-seizure_date", dt.date.today().isoformat())
    page.fill("#f-place_country", "TH")
    page.fill("#f-place_locode", "THBKK")
    page.select_option("#f-item-0-commodity_class", "drug")
    page.fill("#f-item-0-substance", "methamphetamine")
    page.fill("#f-item-0-quantity", "2.5")
    page.select_option("#f-item-0-unit", "kg")
    page.keyboard.press("Escape")
    submit = page.locator("#save-submit")
    expect(submit).to_have_class(re.compile(r"\bprimary\b"))  # the highlighted button submits
    submit.click()
    expect(page.locator("#case-saved")).to_contain_text(f"Case {ref} saved and submitted")
    expect(page.locator("#case-status")).to_have_text("Submitted")
    expect(page.locator(".footer")).to_contain_text(re.compile(r"dragonnet \d+\.\d+"))


def test_a_date_outside_every_phase_keeps_what_was_typed(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("th.reporter")
    page.goto(f"/operations/{SLUG}/report")
    page.fill("#f-case_ref", "TH-OLD-1")
    page.fill("#f-seizure_date", "2017-01-05")
    page.fill("#f-place_country", "TH")
    page.select_option("#f-item-0-commodity_class", "drug")
    page.fill("#f-item-0-substance", "heroin")
    page.fill("#f-item-0-quantity", "1")
    page.select_option("#f-item-0-unit", "kg")
    page.fill("#f-description", "found in a spare tyre")
    page.keyboard.press("Escape")
    page.click("#save-submit")
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Seizure date")  # the field's name as the form shows it
    expect(errors).to_contain_text("phase")
    expect(errors).not_to_contain_text("seizure_date")
    expect(page.locator("#f-description")).to_have_value("found in a spare tyre")
    expect(page.locator("#f-case_ref")).to_have_value("TH-OLD-1")


@VIEWPORTS
def test_the_sender_reads_the_outcome(open_page, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    page = open_page("vn.reporter2", viewport)
    page.click("a[data-nav=alerts]")
    page.get_by_role("link", name="Alert #1").first.click()
    expect(page.locator("#alert-title")).to_contain_text("Pangolin scales")
    outcome = page.locator("#outcome-list li[data-agency=SG-CUS]")
    expect(outcome).to_contain_text("Seizure made")
    expect(outcome).to_contain_text("pangolin scales")
    expect(outcome).to_contain_text("84 sacks")  # the answering officer's own words
    # The case SG opened stays with SG; the page says why, without its content.
    expect(page.locator("#alert-cases li[data-agency=SG-CUS]")).to_contain_text("not shown to you")
    # The key columns of the recipients table are in view.
    for column in ("Agency", "Acknowledged", "Result"):
        _in_view(page, f"#recipient-table th:has-text('{column}')")
    _in_view(page, "#recipient-table tr[data-agency=SG-CUS] td.result")
    _in_view(page, "#recipient-table tr[data-agency=SG-CUS] td.ack")


def test_a_seizure_made_today_answers_an_alert(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("vn.reporter")
    page.goto("/alerts/3")  # rhino horn couriers to Ha Noi: Viet Nam customs has not acknowledged it yet
    page.click("#acknowledge")
    page.check("#result-seizure_made")
    page.fill("#seizure_date", dt.date.today().isoformat())
    page.select_option("#found_commodity", "wildlife")
    page.fill("#found_goods", "rhino horn")
    page.fill("#found_quantity", "6.5")
    page.select_option("#found_unit", "kg")
    page.fill("#result-note", "Two couriers stopped at Noi Bai, horns in their checked bags.")
    page.click("#answer")
    expect(page.locator("#alert-notice")).to_contain_text("Result sent")
    outcome = page.locator("#outcome-list li[data-agency=VN-CUS]")
    expect(outcome).to_contain_text("rhino horn")
    expect(outcome.locator("time")).to_have_attribute("datetime", dt.date.today().isoformat())
    sender = open_page("my.reporter")  # the sender agency (MY-RMCD) reads it
    sender.goto("/alerts/3")
    expect(sender.locator("#outcome-list li[data-agency=VN-CUS]")).to_contain_text("Noi Bai")


def test_alert_the_countries_on_a_cases_route(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("vn.reporter")
    page.goto(f"/operations/{SLUG}/cases?q=HQVN")
    page.locator("#case-table td.case-ref a").first.click()
    page.click("#alert-route")
    expect(page.locator("#from-case")).to_be_visible()  # "Filled in from case ...: check it, then send"
    expect(page.locator("#f-destination")).not_to_have_value("")
    expect(page.locator("#recipients-list li").first).to_be_visible()  # who receives it, before sending


def test_one_container_rule_on_both_forms(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("vn.reporter")
    page.goto(f"/operations/{SLUG}/report")
    page.fill("#f-case_ref", "VN-CONT-1")
    page.fill("#f-seizure_date", dt.date.today().isoformat())
    page.fill("#f-place_country", "VN")
    page.fill("#f-conveyance_ref", BAD_CONTAINER)
    page.fill("#f-transit_countries", "SG, MY")
    page.select_option("#f-item-0-commodity_class", "drug")
    page.fill("#f-item-0-substance", "heroin")
    page.fill("#f-item-0-quantity", "1")
    page.select_option("#f-item-0-unit", "kg")
    page.keyboard.press("Escape")
    page.click("#save-draft")
    case_error = page.locator("[data-error-for=conveyance_ref]")
    expect(case_error).to_contain_text("wrong ISO 6346 check digit")
    expect(page.locator("[data-error-for=transit_countries]")).to_contain_text("SG; MY")  # one separator: ";"
    expect(page.locator("#f-conveyance_ref")).to_have_value(BAD_CONTAINER)

    page.goto("/alerts/new")
    page.fill("#f-title", "Heroin in a reefer")
    page.fill("#f-origin", "MM")
    page.fill("#f-destination", "VN")
    page.select_option("#identifier_kind_0", "container")
    page.fill("#identifier_value_0", BAD_CONTAINER)
    page.keyboard.press("Escape")
    page.click("#alert-submit")
    expect(page.locator("#alert-error")).to_contain_text("wrong ISO 6346 check digit")
    expect(page.locator("#identifier_value_0")).to_have_value(BAD_CONTAINER)
    expect(page.locator("#f-title")).to_have_value("Heroin in a reefer")


@VIEWPORTS
def test_inbox_count_in_the_menu(open_page, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    page = open_page("my.reporter", viewport)
    badge = page.locator("a[data-nav=inbox] #nav-unread")
    expect(badge).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.locator("a[data-nav=alerts]")).to_have_attribute("href", "/alerts")  # alerts: their own entry
    unread = badge.inner_text()
    page.click("a[data-nav=inbox]")
    expect(page.locator("#inbox-unread-count")).to_have_text(unread)  # the menu's count is the inbox's


@VIEWPORTS
def test_phone_and_desktop_keep_the_case_list_readable(open_page, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    page = open_page("vn.coordinator", viewport)
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] <= 100, header
    page.goto(f"/operations/{SLUG}/cases")
    expect(page.locator("#filter-phase")).to_be_visible()  # a select, not a text box
    expect(page.locator("#filter-phase option")).to_have_count(7)  # "any" and the six phases
    for column in ("Case", "Seizure date", "Status"):
        _in_view(page, f"#case-table th:has-text('{column}')")
    first_ref = page.locator("#case-table td.case-ref a").first
    box = first_ref.bounding_box()
    assert box is not None and box["height"] < 30, box  # a case ref on one line


@VIEWPORTS
def test_the_observer_is_told_why(open_page, demo_url: str, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(demo_url)
    with Session(engine) as session:  # a submitted TLP:AMBER case: not for partner observers
        hidden_case = session.execute(
            select(Case.id).where(Case.sharing_level == "amber", Case.status == "validated").limit(1)
        ).scalar_one()
    engine.dispose()
    page = open_page("unodc.observer", viewport)
    expect(page.locator("a[data-nav=cases]")).to_have_count(0)
    expect(page.locator("a[data-nav=report]")).to_have_count(0)
    scope = page.locator("#view-scope")
    expect(scope).to_contain_text(re.compile(r"Your view counts the cases you may see: [\d,]+ of [\d,]+"))
    page.goto(f"/operations/{SLUG}/dashboard")
    expect(page.locator("#view-scope")).to_be_visible()
    page.goto(f"/operations/{SLUG}/cases")
    expect(page.locator("#visibility-rule")).to_contain_text("partner observers")
    expect(page.locator("#report-link")).to_have_count(0)
    expect(page.locator("#import-link")).to_have_count(0)
    response = page.goto(f"/operations/{SLUG}/report")
    assert response is not None and response.status == 403
    expect(page.locator("#error-message")).to_contain_text("may not report seizures")
    # A case not shared with observers and a case that does not exist read the same: the rule, no content.
    page.goto(f"/cases/{hidden_case}")
    expect(page.locator("#error-why")).to_contain_text("not shared with you")
    hidden = page.locator("main").inner_text()
    page.goto("/cases/99999999")
    assert page.locator("main").inner_text().replace("99999999", "N") == hidden.replace(str(hidden_case), "N")


def test_targeting_lists_and_resolved_networks_in_the_demo(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("vn.coordinator")
    page.click("a[data-nav=targeting]")
    expect(page.locator("#targeting-lists tbody tr").first).to_be_visible()
    expect(page.get_by_text("No targeting list")).to_have_count(0)
    page.locator("#targeting-lists tbody tr a").first.click()
    expect(page.locator("#targeting-hits li").first).to_be_visible()
    page.click("a[data-nav=networks]")
    expect(page.get_by_text("No entity-resolution run yet")).to_have_count(0)
    expect(page.locator("#networks-table tbody tr").first).to_be_visible()
    page.locator("#networks-table tbody tr a").first.click()
    graph = page.locator("#network-graph")
    expect(graph).to_have_attribute("data-ready", re.compile(r"^[1-9]"))
