"""The curation loop in a real browser: a reporter's case carries a taxon nobody could read; the national
coordinator finds it on the curation page, maps it once, and the case changes, with the correction in its history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from web.seed import PASSWORD, SLUG

pytestmark = pytest.mark.browser

WRITTEN = "Tortuga radiada zz"  # no CITES name, no vocabulary entry: kept as written, "unverified", queued


def _login(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).not_to_have_url("/login")


def _report_a_case(page: Page) -> int:
    """The reporter's side (its form has browser tests of its own): the same JSON the case form's API takes."""
    _login(page, "th_reporter")
    page.goto("/account")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    body = {
        "operation": SLUG, "case_ref": "TH-BROWSER-CUR-1", "seizure_date": "2024-06-09", "place_country": "TH",
        "place_locode": "THBKK", "transport_mode": "air passenger", "sharing_level": "green",
        "items": [{"commodity_class": "wildlife", "taxon": WRITTEN, "quantity": "3", "unit": "pieces"}],
    }  # fmt: skip
    response = page.request.post("/api/v1/cases", data=body, headers={"X-CSRF-Token": token})
    assert response.status == 201, response.text()
    return int(response.json()["id"])


def test_a_coordinator_maps_a_written_taxon_and_the_case_changes(page: Page) -> None:
    case_id = _report_a_case(page)
    page.goto(f"/cases/{case_id}")
    expect(page.locator("body")).to_contain_text(WRITTEN)
    expect(page.locator("body")).to_contain_text("unverified")
    expect(page.locator('a[data-nav="curation"]')).to_have_count(0)  # a reporter reviews no values
    page.context.clear_cookies()

    _login(page, "th_coord")
    page.click('a[data-nav="curation"]')
    expect(page).to_have_url(re.compile(f"/operations/{SLUG}/curation$"))
    row = page.locator("#queue-table tbody tr", has_text=WRITTEN)
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-kind", "taxon")
    expect(row).to_contain_text("unresolved")
    # a wrong target is one clear error on the page, and changes nothing
    row.locator('input[name="target"]').fill("Nonsensus")
    row.locator('button[value="map"]').click()
    expect(page.locator("#curation-error")).to_contain_text("not a taxon")
    row = page.locator("#queue-table tbody tr", has_text=WRITTEN)
    expect(row).to_have_count(1)
    row.locator('input[name="target"]').fill("Astrochelys radiata")
    row.locator('button[value="map"]').click()
    expect(page.locator("#curation-notice")).to_contain_text("1 case(s) changed")
    expect(page.locator("#queue-table tbody tr", has_text=WRITTEN)).to_have_count(0)  # closed: off the open list
    expect(page.locator("#mapping-table tbody tr", has_text=WRITTEN)).to_contain_text("Astrochelys radiata")

    page.goto(f"/cases/{case_id}")
    expect(page.locator("body")).to_contain_text("Astrochelys radiata")
    correction = page.locator("#corrections tbody tr").first
    expect(correction).to_contain_text(WRITTEN)
    expect(correction).to_contain_text("Astrochelys radiata")
    expect(correction).to_contain_text("th_coord")
