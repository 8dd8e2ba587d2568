"""The alert scenario in a real browser, two contexts: Viet Nam raises an alert; Malaysia's contact point,
with its inbox open, receives it live (server-sent events, no reload), acknowledges and reports a seizure;
Thailand (off the route) gets 404. No dialogs, no CSP violations, no script errors."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from browser.live import serve
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.migrate import upgrade
from messaging.conftest import seed_messaging
from web.seed import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def messaging_server(tmp_path_factory: pytest.TempPathFactory, live_server: str) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("messaging-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        seed_messaging(session)
    engine.dispose()
    with serve(url, folder) as base:
        yield base


class Watched:
    def __init__(self, browser: Browser, base_url: str) -> None:
        self.context: BrowserContext = browser.new_context(base_url=base_url)
        self.context.set_default_timeout(10_000)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog {d.message}"), d.dismiss()))
        self.page.on("pageerror", lambda e: self.problems.append(f"error {e}"))
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None
            ),
        )

    def login(self, username: str) -> None:
        self.page.goto("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        expect(self.page).not_to_have_url(re.compile(r"/login"))


def test_alert_raised_received_live_and_answered(browser: Browser, messaging_server: str) -> None:
    vn, my, th = (Watched(browser, messaging_server) for _ in range(3))
    try:
        my.login("my_cp")
        my.page.goto("/inbox")
        expect(my.page.locator("#inbox-empty")).to_be_visible()
        # The inbox link is in the main navigation.
        expect(my.page.locator('.mainnav a[data-nav="inbox"]')).to_have_count(1)

        vn.login("vn_reporter")
        vn.page.goto("/alerts/new")
        vn.page.fill("#f-title", "Container of pangolin scales <script>window.__xss=1</script>")
        vn.page.fill("#f-origin", "Nigeria")
        vn.page.fill("#f-transits", "Malaysia")
        vn.page.fill("#f-destination", "Viet Nam")
        vn.page.select_option("#f-transport_mode", "sea_container")
        vn.page.select_option("#identifier_kind_0", "container")
        vn.page.fill("#identifier_value_0", "MSCU1234566")
        vn.page.fill("#f-indicators", "new consignee\nweight below declared")
        vn.page.select_option("#f-sharing_level", "amber")
        vn.page.select_option("#f-urgency", "immediate")
        vn.page.click("#alert-submit")
        expect(vn.page).to_have_url(re.compile(r"/alerts/\d+\?raised=1$"))
        expect(vn.page.locator("#alert-notice")).to_be_visible()
        alert_path = vn.page.url.removeprefix(messaging_server).split("?")[0]
        expect(vn.page.locator("#alert-route")).to_have_text("NG → MY → VN")
        expect(vn.page.locator('#recipient-table tr[data-agency="MY-CUS"]')).to_be_visible()

        # Malaysia: the alert appears in the open inbox without a reload, the badge counts it.
        item = my.page.locator(f'#inbox-list a[href="{alert_path}"]')
        expect(item).to_be_visible(timeout=15_000)
        expect(item).to_contain_text("<script>")  # shown as text, never run
        expect(my.page.locator("#inbox-unread-count")).to_have_text("1")
        expect(my.page.locator("#msg-unread")).to_have_text("1")
        assert my.page.evaluate("window.__xss") is None

        item.click()
        expect(my.page).to_have_url(re.compile(alert_path + "$"))
        my.page.click("#acknowledge")
        my.page.check("#result-seizure_made")
        my.page.fill("#seizure_date", "2024-06-15")
        my.page.fill("#result-note", "1.2 t of scales")
        my.page.click("#answer")
        expect(my.page.locator("#my-result")).to_have_text("Answered: Seizure made.")
        case_link = my.page.locator("#alert-cases a.case-link")
        expect(case_link).to_have_attribute("href", re.compile(r"^/cases/\d+$"))

        # Viet Nam sees the result (and that a case was opened, not the draft itself).
        vn.page.reload()
        expect(vn.page.locator('#recipient-table tr[data-agency="MY-CUS"] td.result')).to_contain_text("Seizure made")
        expect(vn.page.locator("#alert-cases")).to_contain_text("not shown to you")
        expect(vn.page.locator("#outcome-list li[data-agency=MY-CUS]")).to_contain_text("1.2 t of scales")

        # Thailand, off the route: the alert does not exist.
        th.login("th_reporter")
        response = th.page.goto(alert_path)
        assert response is not None and response.status == 404
        th.page.goto("/alerts")
        expect(th.page.locator("#alert-table")).not_to_contain_text("pangolin")
        for w in (vn, my, th):
            assert w.problems == []
    finally:
        for w in (vn, my, th):
            w.context.close()
