"""Setting up a real operation in a browser: an administrator creates an operation, two phases and an agency
in the web admin (and is refused an overlapping phase); a reporter uploads a spreadsheet (with its progress
bar) and a national coordinator validates every submitted case at once with "select all"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from web.seed import PASSWORD

pytestmark = pytest.mark.browser
SLUG = "browser-setup"
HEADER = "case_ref,reporting_agency,seizure_date,place_country,commodity_class,substance,quantity,unit,sharing_level"


def _login(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("form.logout")).to_be_visible()


def _logout(page: Page) -> None:
    page.click("form.logout button")
    expect(page).to_have_url("/login")


def test_admin_sets_up_an_operation_and_a_coordinator_bulk_validates(page: Page) -> None:
    _login(page, "admin")
    page.goto("/admin/operations")
    page.fill("#o-slug", SLUG)
    page.fill("#o-name", "Browser set-up operation")
    page.check("#operation-form input[name=scope][value=drug]")
    page.click("#operation-form button[type=submit]")
    expect(page).to_have_url(f"/admin/operations/{SLUG}?done=operation")

    for name, start, end in (("Phase I", "2015-01-01", "2015-06-30"), ("Phase II", "2015-07-01", "2015-12-31")):
        page.fill("#p-name", name)
        page.fill("#p-start", start)
        page.fill("#p-end", end)
        page.click("#phase-form button[type=submit]")
        expect(page.locator("#done")).to_have_text("Phase added.")
    expect(page.locator("#phases-table tbody tr")).to_have_count(2)
    # An overlapping phase is refused with one clear line, and nothing changes.
    page.fill("#p-name", "Phase III")
    page.fill("#p-start", "2015-12-01")
    page.fill("#p-end", "2016-03-31")
    page.click("#phase-form button[type=submit]")
    expect(page.locator("#operation-error")).to_contain_text("would overlap Phase II")
    expect(page.locator("#phases-table tbody tr")).to_have_count(2)

    page.goto("/admin/agencies")
    page.fill("#a-code", "LA-CUS")
    page.fill("#a-name", "Lao Customs Department")
    page.select_option("#a-kind", "customs")
    page.fill("#a-country", "Laos")
    page.click("#agency-form button[type=submit]")
    expect(page.locator("tr[data-agency=LA-CUS]")).to_contain_text("LA")

    page.goto(f"/admin/operations/{SLUG}")
    for agency in ("LA-CUS", "TH-CUS"):
        page.select_option("#j-agency", agency)
        page.click("#join-form button[type=submit]")
        expect(page.locator(f"#participants-table tr[data-agency='{agency}']")).to_contain_text("Member")
    _logout(page)

    _login(page, "th_reporter")
    rows = [f"BR-{n},TH-CUS,2015-0{n}-1{n},TH,drug,heroin,{n},kg,green" for n in range(1, 4)]
    page.goto(f"/operations/{SLUG}/import")
    page.set_input_files("#file", files=[{"name": "browser.csv", "mimeType": "text/csv",
                                          "buffer": "\n".join([HEADER, *rows]).encode()}])  # fmt: skip
    page.click("#upload-button")
    expect(page.locator("#dry-run-summary")).to_contain_text("3 new case(s)")
    page.click("#confirm-import")
    expect(page.locator("#import-summary")).to_contain_text("3 new")
    _logout(page)

    _login(page, "th_coord")
    page.goto(f"/operations/{SLUG}/validate")
    expect(page.locator("input.bulk-case")).to_have_count(3)
    page.check("#select-all")
    expect(page.locator("input.bulk-case:checked")).to_have_count(3)
    page.click("#validate-selected")
    expect(page.locator("#bulk-done")).to_have_text("3 case(s) validated.")
    expect(page.locator("input.bulk-case")).to_have_count(0)
    page.goto(f"/operations/{SLUG}/cases?status=validated")
    for n in range(1, 4):
        expect(page.locator("body")).to_contain_text(f"BR-{n}")
