"""Targeting in a real browser: an officer opens the list, sees the explanations, records a seizure."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from targeting.helpers import build_lists
from web.seed import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def list_id(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> int:
    # The live server's database lives in the session's "live" folder (tests/browser/conftest.py).
    found = sorted(tmp_path_factory.getbasetemp().glob("live*/dragonnet.db"))
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
