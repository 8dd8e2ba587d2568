"""Browser tests: Debian's Chromium driven by Playwright against a live uvicorn server on loopback.

The server runs in a background thread over a small seeded SQLite database (tests/web/seed.py), one per
pytest session (per xdist worker). Playwright's own browser downloads are never used (no
`playwright install`): Chromium comes from the system package. Without /usr/bin/chromium the tests are
skipped, except in CI (`CI` set) where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from browser.live import serve_seeded

CHROMIUM = Path(os.environ.get("DRAGONNET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium); browser tests skipped")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running dragonnet over a fresh, seeded SQLite database."""
    _require_chromium()
    with serve_seeded(tmp_path_factory.mktemp("live")) as base:
        yield base


@pytest.fixture(scope="session")
def browser(live_server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class PageWatch:
    """What a test must never see: JavaScript dialogs (XSS), CSP violations, script errors."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[object]:
    """A fresh browser context (no cookies) and page; fails the test on dialogs, CSP violations, JS errors."""
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Error

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    watch = PageWatch()

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            watch.console_errors.append(msg.text)

    def on_page_error(err: Error) -> None:
        watch.page_errors.append(str(err))

    pg.on("dialog", on_dialog)
    pg.on("console", on_console)
    pg.on("pageerror", on_page_error)
    pg.watch = watch  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert watch.dialogs == [], f"a dialog opened (script injection?): {watch.dialogs}"
    csp = [m for m in watch.console_errors if "Content Security Policy" in m]
    assert csp == [], f"CSP violations: {csp}"
    assert watch.page_errors == [], f"JavaScript errors: {watch.page_errors}"
