"""Targeting in a real browser: an officer opens the list, sees the explanations, records a seizure; the
risk-management unit reads the profile report and records a review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from targeting.helpers import ProfileWorld, build_lists, build_profile_world
from web.seed import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def list_id(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> int:
    # The live server's database lives in the session's "live" folder (tests/browser/conftest.py).
    found = sorted(tmp_path_factory.getbasetemp().glob("live[0-9]*/dragonnet.db"))
    assert found, "the live server's database was not found"
    data_dir = tmp_path_factory.mktemp("targeting")
    return build_lists(f"sqlite:///{found[0]}", data_dir)


def test_officer_opens_list_sees_explanations_records_seizure(page: Page, list_id: int) -> None:
    page.goto("/login")
    page.fill("#username", "th_reporter")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click('a[data-nav="targeting"]')
    expect(page).to_have_url("/targeting")
    page.click(f'tr[data-list="{list_id}"] a')
    expect(page).to_have_url(f"/targeting/lists/{list_id}")
    first = page.locator(".tg-hit").first
    expect(first.locator(".tg-rank")).to_have_text("#1")
    expect(first.locator(".tg-lane")).to_contain_text("red")
    expect(first.locator(".tg-feature")).to_have_count(3)  # the model's top contributions
    expect(page.locator(".tg-rule").first).to_be_visible()  # some profile fired somewhere on the list
    first.locator('input[name="note"]').fill("scales in the lining")
    first.locator("button.tg-seize").click()
    first = page.locator(".tg-hit").first
    expect(first.locator(".tg-recorded")).to_contain_text("Seizure")
    link = first.locator("a.tg-case")
    expect(link).to_have_attribute("href", re.compile(r"^/cases/\d+$"))
    expect(first.locator("form.tg-form")).to_have_count(0)


@pytest.fixture(scope="module")
def profile_world(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> ProfileWorld:
    found = sorted(tmp_path_factory.getbasetemp().glob("live[0-9]*/dragonnet.db"))
    assert found, "the live server's database was not found"
    # No results recorded: a seizure would open draft cases that other browser tests would count.
    return build_profile_world(f"sqlite:///{found[0]}", tmp_path_factory.mktemp("profiles"), record=False)


def test_risk_unit_reads_the_report_and_reviews_a_profile(page: Page, profile_world: ProfileWorld) -> None:
    page.goto("/login")
    page.fill("#username", "th_reporter")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click('a[data-nav="targeting"]')
    page.click("#profiles-link")
    expect(page).to_have_url("/targeting/profiles")
    rows = page.locator("#profile-report tbody tr")
    expect(rows).to_have_count(5)
    page.fill('#report-filters input[name="from"]', "2024-02-01")
    page.fill('#report-filters input[name="to"]', "2024-04-30")
    page.click("#report-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"/targeting/profiles\?from=2024-02-01&to=2024-04-30"))
    origin = page.locator('tr[data-profile="t-origin"]')
    expect(origin.locator(".tg-selected")).not_to_have_text("0")
    expect(origin.locator(".tg-flag").first).to_contain_text("review due since Feb 1, 2024")
    expect(page.locator('tr[data-profile="t-horn"]')).to_contain_text("mandatory")
    expect(page.locator('#lane-rates tr[data-lane="random"]')).to_contain_text("green lane")
    origin.locator("a").first.click()
    expect(page).to_have_url("/targeting/profiles/t-origin")
    expect(page.locator("#profile-history tbody tr")).to_have_count(1)
    page.fill("#next-review", "2099-06-30")
    page.check("#mandatory")
    page.fill("#review-note", "route confirmed by intelligence")
    page.click("#review-form button[type=submit]")
    expect(page).to_have_url("/targeting/profiles/t-origin")
    expect(page.locator("#profile-mandatory")).to_be_visible()
    # The reader's date form (CLDR), the ISO value kept in <time datetime>.
    expect(page.locator("#profile-review-by time")).to_have_attribute("datetime", "2099-06-30")
    expect(page.locator("#profile-review-by")).to_have_text("Jun 30, 2099")
    expect(page.locator("#profile-history tbody tr")).to_have_count(2)
    expect(page.locator('#profile-history tr[data-version="2"]')).to_contain_text("route confirmed by intelligence")
