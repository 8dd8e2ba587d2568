"""Case intake in a real browser: upload a spreadsheet with an error, see the report, fix, re-upload, confirm;
fill the case form (with reference-data suggestions), save, reopen."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from web.seed import PASSWORD, SLUG

pytestmark = pytest.mark.browser

HEADER = ["case_ref", "reporting_agency", "seizure_date", "place_country", "commodity_class", "substance", "quantity",
          "unit"]  # fmt: skip


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    return buf.getvalue().encode()


def _login(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"/operations/{SLUG}")


def test_upload_error_fix_confirm(page: Page, tmp_path: Path) -> None:
    _login(page, "vn_reporter")
    bad = tmp_path / "seizures.csv"
    bad.write_bytes(_csv([["VN-B1", "VN-CUS", "2024-06-12", "Viet Nam", "drug", "ya ba", "12", "bags"],
                          ["VN-B2", "VN-CUS", "2024-06-13", "VN", "precursor", "P2P", "200", "l"]]))  # fmt: skip
    page.goto(f"/operations/{SLUG}/import")
    page.set_input_files("#file", str(bad))
    page.click("#upload-button")
    expect(page.locator("#dry-run-summary")).to_contain_text("1 row(s) rejected")
    expect(page.locator("#error-table")).to_contain_text("unknown unit")
    expect(page.locator("#mapping-table")).to_contain_text("case_ref")
    good = tmp_path / "seizures-fixed.csv"
    good.write_bytes(_csv([["VN-B1", "VN-CUS", "2024-06-12", "Viet Nam", "drug", "ya ba", "12", "kg"],
                           ["VN-B2", "VN-CUS", "2024-06-13", "VN", "precursor", "P2P", "200", "l"]]))  # fmt: skip
    page.set_input_files("#reupload-form input[type=file]", str(good))
    page.click("#reupload-button")
    expect(page.locator("#dry-run-summary")).to_contain_text("0 row(s) rejected")
    page.click("#confirm-import")
    expect(page.locator("#import-summary")).to_contain_text("2 new, 0 updated and 0 unchanged case(s)")
    page.click("#import-cases")  # just this import's cases, not every submitted case of the operation
    expect(page.locator("#import-heading")).to_contain_text("seizures-fixed.csv")
    expect(page.locator("#case-table tbody tr")).to_have_count(2)
    page.goto(f"/operations/{SLUG}/cases?q=VN-B")
    expect(page.locator("#case-table tbody tr")).to_have_count(2)


def test_fill_the_case_form_save_reopen(page: Page) -> None:
    _login(page, "th_reporter")
    page.click("a[data-nav=report]")
    expect(page.locator("h1")).to_have_text("Report a seizure")
    page.fill("#f-case_ref", "TH-BROWSER-1")
    page.fill("#f-seizure_date", "2024-06-08")
    page.fill("#f-place_country", "Thai")
    expect(page.locator("#dl-countries option[value=TH]")).to_have_count(1)  # suggestions arrived
    page.fill("#f-place_country", "TH")
    page.select_option("#f-item-0-commodity_class", "wildlife")
    page.fill("#f-item-0-taxon", "Manis jav")
    # the first species lookup builds the index (cold CITES data): give it time
    expect(page.locator("#dl-species option[value='Manis javanica']")).to_have_count(1, timeout=30_000)
    page.fill("#f-item-0-taxon", "pangolin scales")
    page.fill("#f-item-0-quantity", "abc")
    page.select_option("#f-item-0-unit", "kg")
    page.keyboard.press("Escape")  # close a suggestion list that may cover the button
    page.click("#add-item")
    expect(page.locator("#item-rows .item-row")).to_have_count(2)
    page.select_option("#f-item-1-commodity_class", "drug")
    page.fill("#f-item-1-substance", "crystal meth")
    page.fill("#f-item-1-quantity", "1,5")
    page.select_option("#f-item-1-unit", "kg")
    page.click("#save-draft")
    expect(page.locator("[data-error-for='items[0].quantity']")).to_contain_text("not a number")
    page.fill("#f-item-0-quantity", "42")
    page.click("#save-draft")
    expect(page.locator("#case-status")).to_have_text("Draft")
    expect(page.locator("#item-table")).to_contain_text("methamphetamine")
    expect(page.locator("#item-table")).to_contain_text("Manis")
    page.click("#edit-case")
    expect(page.locator("#f-case_ref")).to_have_value("TH-BROWSER-1")
    expect(page.locator("#f-item-0-taxon")).to_have_value("pangolin scales")
    page.fill("#f-conveyance_ref", "TG 999")
    page.click("#save-submit")
    expect(page.locator("#case-status")).to_have_text("Submitted")
    expect(page.locator("#case-version")).to_have_text("2")
