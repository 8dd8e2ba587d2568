"""The dashboard in a real browser: a national coordinator filters and downloads the debrief; a partner
observer sees only the public summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from web.seed import PASSWORD, SLUG

pytestmark = pytest.mark.browser


def _login(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"/operations/{SLUG}")


def test_coordinator_filters_and_downloads(page: Page, tmp_path: Path) -> None:
    _login(page, "th_coord")
    page.click('a[data-nav="dashboard"]')
    expect(page).to_have_url(f"/operations/{SLUG}/dashboard")
    expect(page.locator("#dashboard-scope")).to_contain_text("Thailand")
    # Phase II, TH cases th_coord may see: TH-3 (clear) only (TH-4 is a draft).
    expect(page.locator("#headline-cases")).to_have_text("1")
    expect(page.locator("#report-rule")).to_contain_text("validated cases only")
    page.select_option("#filter-phase", "1")
    page.click("#filter-apply")
    expect(page.locator("#headline-cases")).to_have_text("2")  # TH-1 and TH-2
    page.select_option("#filter-commodity", "wildlife")
    page.click("#filter-apply")
    expect(page.locator("#headline-cases")).to_have_text("1")
    expect(page).to_have_url(
        f"/operations/{SLUG}/dashboard?phase=1&commodity=wildlife&country=&rule=operation&scope=country"
    )
    for img in page.locator(".report-chart img").all():
        assert (img.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    assert download.suggested_filename == f"{SLUG}-phase-1-debrief.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")


def test_observer_sees_the_public_summary_only(page: Page) -> None:
    _login(page, "observer")
    page.goto(f"/operations/{SLUG}/dashboard")
    expect(page.locator("h1")).to_contain_text("public summary")
    expect(page.locator("#headline-cases")).to_have_text("<5")
    expect(page.locator("#export-csv")).to_have_count(0)
    expect(page.locator("#table-by_agency")).to_have_count(0)
    expect(page.locator("#filter-country")).to_have_count(0)
    response = page.request.get(f"/operations/{SLUG}/reports/cases.csv")
    assert response.status == 404
