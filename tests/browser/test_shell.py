"""The web shell in a real browser: login, lock-out, logout and the back button, navigation by role, docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dragonnet.operation.service import COUNTING_RULE
from web.seed import EXPECTED_PHASE_COUNTS, OPERATION_NAME, PASSWORD, SLUG

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/dragonnet-overview.png")


def _login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_login_shows_overview_with_phase_counts(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url("/login")
    _login(page, "th_reporter")
    expect(page).to_have_url(f"/operations/{SLUG}")
    expect(page.locator("h1")).to_have_text(OPERATION_NAME)
    phase1, phase2 = EXPECTED_PHASE_COUNTS["th_reporter"]
    expect(page.locator('tr[data-phase="1"] td.cases')).to_have_text(str(phase1))
    expect(page.locator('tr[data-phase="2"] td.cases')).to_have_text(str(phase2))
    expect(page.locator("#total-cases")).to_have_text(str(phase1 + phase2))
    expect(page.locator("#counting-rule")).to_contain_text(COUNTING_RULE)
    expect(page.locator("#participants-table tbody tr")).to_have_count(3)
    # The stylesheet loaded (served from the package under the CSP).
    background = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert background == "rgb(15, 76, 92)"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_wrong_password_shows_the_error(page: Page) -> None:
    _login(page, "th_coord", "Not-the-password-1")
    expect(page.locator("#login-error")).to_have_text("Invalid username or password.")
    expect(page).to_have_url("/login")
    expect(page.locator("#username")).to_have_value("th_coord")
    assert not any(c["name"] == "dragonnet_session" for c in page.context.cookies())


def test_lockout_after_repeated_failures(page: Page) -> None:
    for attempt in range(4):
        _login(page, "locky", f"Wrong-password-{attempt}")
        expect(page.locator("#login-error")).to_have_text("Invalid username or password.")
    _login(page, "locky", "Wrong-password-final")
    expect(page.locator("#login-error")).to_have_text("Invalid username or password.")
    _login(page, "locky")  # the right password, too late: refused with the same answer (no name disclosed)
    expect(page.locator("#login-error")).to_have_text("Invalid username or password.")
    expect(page).to_have_url("/login")
    assert not any(c["name"] == "dragonnet_session" for c in page.context.cookies())


def test_logout_then_back_button_shows_no_data(page: Page) -> None:
    _login(page, "th_reporter")
    expect(page.locator("#phase-table")).to_be_visible()
    page.goto("/account")
    expect(page.locator("#account-facts")).to_contain_text("Thai Customs Department")
    page.click("form.logout button")
    expect(page).to_have_url("/login")
    assert not any(c["name"] == "dragonnet_session" for c in page.context.cookies())
    page.go_back()
    page.wait_for_load_state()
    expect(page).to_have_url("/login?next=/account")
    expect(page.locator("#account-facts")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Thai Customs Department")
    page.go_back()
    page.wait_for_load_state()
    expect(page.locator("#phase-table")).to_have_count(0)
    assert "/login" in page.url


def test_partner_observer_sees_only_public_pages(page: Page) -> None:
    _login(page, "observer")
    expect(page).to_have_url(f"/operations/{SLUG}")
    expect(page.locator(".mainnav a")).to_have_text(["Overview", "Dashboard"])
    expect(page.locator('tr[data-phase="2"] td.cases')).to_have_text(str(EXPECTED_PHASE_COUNTS["observer"][1]))


def test_reporter_navigation(page: Page) -> None:
    _login(page, "th_reporter")
    expect(page.locator(".mainnav a")).to_have_text(
        [
            "Overview",
            "Cases",
            "Report a seizure",
            "Networks",
            "Inbox",
            "Alerts",
            "Targeting",
            "Dashboard",
            "Reference data",
        ]
    )
    page.click("text=Reference data")
    expect(page).to_have_url("/reference")
    expect(page.locator('[data-attribution="cites"]')).to_contain_text("UNEP-WCMC")


def test_api_docs_render_under_the_csp(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("dragonnet", timeout=15_000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    base = page.url.split("/api/docs")[0]
    outside = [u for u in requests if not u.startswith((base, "data:"))]
    assert outside == [], f"requests left the server: {outside}"
