"""The language switcher in a real browser: on the login page (a cookie), then logged in (the user's setting),
without JavaScript; the menu in French once the French catalogue is complete (tests/i18n/complete.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from dragonnet.i18n import LOCALE_DIR
from i18n.complete import COMPLETE_LOCALES
from web.seed import PASSWORD, SLUG

pytestmark = pytest.mark.browser


def _switch(page: Page, code: str) -> None:
    page.click("#language-switcher summary")
    page.click(f"#language-switcher button[data-language={code}]")


def _forget_language(page: Page) -> None:
    """Back to "as my browser asks" on the account page (the live server is shared by every browser test)."""
    page.goto("/account")
    page.select_option("#account-language-select", "")
    page.click("#account-language-form button[type=submit]")
    expect(page.locator("#account-language-select")).to_have_value("")


def _french(msgid: str) -> str:
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        found = read_po(handle, locale="fr").get(msgid)
    assert found is not None and found.string, msgid
    return str(found.string)


def test_switch_language_on_the_login_page_then_logged_in(page: Page) -> None:
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#language-switcher button[data-language=vi]")).to_be_hidden()  # a closed menu
    _switch(page, "vi")
    expect(page).to_have_url("/login")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#language-switcher .langswitch-current")).to_have_text("vi")
    page.fill("#username", "vn_reporter")
    page.fill("#password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"/operations/{SLUG}")
    expect(page.locator("html")).to_have_attribute("lang", "vi")  # the cookie chose it
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] <= 100, header  # the switcher keeps the bar compact
    page.goto(f"/operations/{SLUG}/cases")
    _switch(page, "fr")  # logged in: the user's setting, back on the same page
    try:
        expect(page).to_have_url(f"/operations/{SLUG}/cases")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("#language-switcher button[data-language=fr]")).to_have_attribute("aria-current", "true")
        page.goto("/account")
        expect(page.locator("#account-language-select")).to_have_value("fr")
        if "fr" in COMPLETE_LOCALES:
            expect(page.locator("a[data-nav=overview]")).to_have_text(_french("Overview"))
            expect(page.locator("a[data-nav=cases]")).to_have_text(_french("Cases"))
    finally:  # the shared live server: the other browser tests read vn_reporter's pages in English
        _forget_language(page)


@pytest.mark.skipif("fr" not in COMPLETE_LOCALES, reason="the French catalogue is not complete yet")
def test_navigation_in_french_after_switching(page: Page) -> None:
    page.goto("/login")
    _switch(page, "fr")
    expect(page.locator("h1")).to_have_text(_french("Log in"))
    page.fill("#username", "th_reporter")
    page.fill("#password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("a[data-nav=overview]")).to_have_text(_french("Overview"))
    expect(page.locator("a[data-nav=report]")).to_have_text(_french("Report a seizure"))
    _switch(page, "en")  # logged in: saved as th_reporter's setting
    expect(page.locator("a[data-nav=overview]")).to_have_text("Overview")
    _forget_language(page)


def test_dashboard_report_language_reaches_the_downloads(page: Page) -> None:
    page.goto("/login")
    page.fill("#username", "th_coord")
    page.fill("#password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.goto(f"/operations/{SLUG}/dashboard")
    expect(page.locator("#filter-lang")).to_have_value("en")
    page.select_option("#filter-lang", "vi")
    page.click("#report-language-apply")  # the page and its download links in Vietnamese
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page).to_have_url(re.compile(r"[?&]lang=vi(&|$)"))
    expect(page.locator("#download-pdf")).to_have_attribute("href", re.compile(r"[?&]lang=vi(&|$)"))
    with page.expect_download() as info:
        page.click("#download-html")
    html = Path(info.value.path()).read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
