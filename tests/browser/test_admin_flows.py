"""Administration and the second factor in a real browser (Debian Chromium via Playwright)."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from web.seed import PASSWORD

pytestmark = pytest.mark.browser


def _login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _logout(page: Page) -> None:
    page.click("form.logout button")
    expect(page).to_have_url("/login")


def test_admin_creates_a_user_who_logs_in(page: Page) -> None:
    _login(page, "admin")
    page.click("a[data-nav=admin]")
    expect(page.locator("h1")).to_have_text("Administration")
    page.goto("/admin/users")
    page.fill("#u-username", "browser_made")
    page.fill("#u-name", "Browser Made")
    page.fill("#u-password", "Browser-made-passphrase-1")
    page.select_option("#u-agency", "VN-CUS")
    page.check("#u-role-reporter")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#done")).to_have_text("User created.")
    expect(page.locator("#user-facts")).to_contain_text("VN-CUS")
    _logout(page)
    _login(page, "browser_made", "Browser-made-passphrase-1")
    page.goto("/account")
    expect(page.locator("#account-facts")).to_contain_text("Viet Nam Customs")
    # The access history on /account is loaded by htmx (no inline script) and shows this login.
    expect(page.locator("#account-history-slot #events-table")).to_contain_text("auth.login")


def test_csrf_rejection_on_an_admin_form(page: Page) -> None:
    _login(page, "admin")
    page.goto("/admin/users")
    page.eval_on_selector("#user-form input[name=csrf_token]", "el => el.value = 'forged'")
    page.fill("#u-username", "never_made")
    page.fill("#u-password", "Never-made-passphrase-1")
    page.check("#u-role-reporter")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#error-message")).to_contain_text("expired")
    page.goto("/admin/users")
    expect(page.locator("#users-table")).not_to_contain_text("never_made")


def test_totp_enrolment_and_login(page: Page) -> None:
    _login(page, "analyst")
    page.goto("/account/security")
    page.click("#totp-start button")
    secret = page.locator("#totp-secret").inner_text().strip()
    expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    page.fill("#totp-code", totp.now())
    page.click("#totp-confirm button")
    expect(page.locator("#totp-on")).to_be_visible()
    _logout(page)
    _login(page, "analyst")
    expect(page.locator("#totp-prompt")).to_be_visible()
    assert not any(c["name"] == "dragonnet_session" for c in page.context.cookies())
    page.fill("#code", "000000" if totp.now() != "000000" else "111111")
    page.click("#totp-form button")
    expect(page.locator("#login-error")).to_contain_text("not right")
    page.fill("#code", totp.at(time.time() + 30))  # the next step: the confirmation used the current one
    page.click("#totp-form button")
    expect(page).not_to_have_url("/login")
    page.goto("/account")
    expect(page.locator("#account-facts")).to_contain_text("analyst")
