"""The exchange-format templates downloaded in the reader's language from the import page (issue 17): the
template language defaults to the page's (here Chinese, from the browser's Accept-Language), and another can be
chosen; the headers are the format file's synonyms in that language, which the importer reads back."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from dragonnet.domain.exchange import FORMAT
from web.seed import PASSWORD, SLUG

pytestmark = pytest.mark.browser


@pytest.fixture
def chinese_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A browser whose Accept-Language asks for Simplified Chinese (vn_reporter has no language setting)."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []


def test_download_the_chinese_template_from_the_import_page(chinese_page: Page) -> None:
    page = chinese_page
    page.goto("/login")
    page.fill("#username", "vn_reporter")
    page.fill("#password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"/operations/{SLUG}")
    page.goto(f"/operations/{SLUG}/import")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#template-lang")).to_have_value("zh_Hans")  # the page's language by default
    with page.expect_download() as download:
        page.click("#template-xlsx")
    assert download.value.suggested_filename == "cases-template-zh_Hans.xlsx"
    wb = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    header = [c.value for c in wb["items"][1]]
    assert header[0] == FORMAT.header("items", "case_ref", "zh_Hans") == "案件编号"
    assert "查获日期" in header
    page.select_option("#template-lang", "vi")  # another language, from the same form
    with page.expect_download() as csv_download:
        page.click("#template-csv")
    assert csv_download.value.suggested_filename == "cases-template-vi.csv"
    assert csv_download.value.path().read_text(encoding="utf-8").startswith("số vụ,cơ quan,ngày bắt giữ,")
