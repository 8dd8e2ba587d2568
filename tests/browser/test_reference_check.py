"""The reference page in a real browser: upload a list of places and of taxa, read each result."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from web.seed import PASSWORD

pytestmark = pytest.mark.browser


def _login(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).not_to_have_url("/login")


def test_check_a_list_of_places_then_taxa(page: Page, tmp_path: Path) -> None:
    _login(page, "th_reporter")
    page.click('a[data-nav="reference"]')
    expect(page).to_have_url("/reference")
    places_file = tmp_path / "ports.csv"
    places_file.write_text("text,country\nJomo Kenyatta Airport,Kenya\nShahjalal Airport,BD\nBrussels Airport,NL\n")
    page.select_option("#check-kind", "place")
    page.set_input_files("#check-file", str(places_file))
    page.click("#check-button")
    expect(page.locator("#check-summary")).to_contain_text("3 terms")
    rows = page.locator("#check-results tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-status", "exact")
    expect(rows.nth(0)).to_contain_text("KENBO")
    expect(rows.nth(1)).to_have_attribute("data-status", "guess")
    expect(rows.nth(1)).to_contain_text("by the words written")
    expect(rows.nth(2)).to_have_attribute("data-status", "unresolved")
    expect(rows.nth(2)).to_contain_text("BE")

    taxa_file = tmp_path / "taxa.txt"
    taxa_file.write_text("ivory\nPloughshare Tortoise\n<script>alert(1)</script>\n")
    page.select_option("#check-kind", "taxon")
    page.set_input_files("#check-file", str(taxa_file))
    page.click("#check-button")
    expect(page.locator("#check-results tbody tr")).to_have_count(3)
    expect(page.locator('#check-results tr[data-line="1"]')).to_contain_text("Elephantidae")
    expect(page.locator('#check-results tr[data-line="2"]')).to_contain_text("Astrochelys yniphora")
    expect(page.locator('#check-results tr[data-line="3"]')).to_contain_text("unverified")
    expect(page.locator("#check-kind")).to_have_value("taxon")
