"""Two-step matching in a real browser (issue #15): Thai Customs' reporter finds a hit naming only Viet Nam
Customs, asks with a reason; Viet Nam's coordinator reads the request on the same notice and accepts; the
reporter then sees the case revealed and can open it (it answered 404 before)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from security.sessions import open_sessions
from security.world import CaseFact, MatchFact, World, build_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def notice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, World]]:
    folder = tmp_path_factory.mktemp("notices-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        world = build_world(session, folder)
        session.commit()
    engine.dispose()
    with serve(url, folder) as base:
        yield base, url, world


def _unasked(world: World, requester: str, owner: str, level: str) -> tuple[MatchFact, CaseFact, CaseFact]:
    """A match of `requester`'s party with an unshared `level` case of `owner` that nobody asked about yet."""
    asked = {r.notice for r in world.requests}
    for m in world.matches:
        a, b = world.cases[m.a], world.cases[m.b]
        own, other = (a, b) if a.owner == requester else (b, a)
        if (own.owner, other.owner, other.level) == (requester, owner, level) and not other.shares \
                and m.id not in asked:  # fmt: skip
            return m, own, other
    raise AssertionError(f"no unasked match {requester} -> {owner} ({level})")


def _page_as(browser: object, base: str, url: str, username: str) -> tuple[object, object, list[str]]:
    """A page logged in as `username` (a server-side session: coordinators would need TOTP at the form)."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    login = open_sessions(url, [username])[username]
    context = browser.new_context(base_url=base)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "dragonnet_session", "value": login.cookie, "url": base}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def test_ask_accept_and_reveal(browser: object, notice_server: tuple[str, str, World]) -> None:
    from playwright.sync_api import BrowserContext, Page, expect

    base, url, world = notice_server
    m, _own, other = _unasked(world, "TH-CUS", "VN-CUS", "amber")
    other_ref = f"R{other.nn}"

    th_context, th, th_problems = _page_as(browser, base, url, "th_reporter")
    assert isinstance(th, Page) and isinstance(th_context, BrowserContext)
    assert th.goto(f"/cases/{other.id}").status == 404  # not theirs to open yet
    th.goto(f"/operations/{world.slug}/links")
    row = th.locator(f"#notices-table tr[data-notice='{m.id}']")
    expect(row).to_contain_text("VN-CUS")
    expect(row.locator(".notice-status")).to_have_text("hit")
    assert other_ref not in th.content() and other.nm not in th.content()

    row.locator(f"a[href$='/notices/{m.id}']").click()
    expect(th.locator("#notice-agency")).to_have_text("VN-CUS")
    expect(th.locator("#notice-revealed")).to_contain_text("not shared with your agency")
    th.fill("#request-reason", "the same courier crossed at Lao Bao last month")
    th.click("#request-form button[type=submit]")
    status = th.locator("#requests-table .request-status")
    expect(status).to_have_text("pending")
    expect(th.locator("#request-form")).to_have_count(0)  # asked once

    vn_context, vn, vn_problems = _page_as(browser, base, url, "vn_coord")
    assert isinstance(vn, Page) and isinstance(vn_context, BrowserContext)
    vn.goto(f"/operations/{world.slug}/notices/{m.id}")
    decide = vn.locator(".decide-form")
    expect(decide).to_have_count(1)
    expect(vn.locator(".request-reason")).to_have_text("the same courier crossed at Lao Bao last month")
    decide.locator("button[value=decline]").click()  # declining without a reason is refused, nothing changes
    expect(vn.locator("#notice-error")).to_contain_text("reason")
    expect(vn.locator("#requests-table .request-status")).to_have_text("pending")
    vn.locator(".decide-form button[value=accept]").click()
    expect(vn.locator("#requests-table .request-status")).to_have_text("accepted")
    expect(vn.locator(".decide-form")).to_have_count(0)

    th.reload()
    expect(th.locator("#notice-revealed a")).to_have_text(other_ref)
    expect(th.locator("#notice-revealed")).to_contain_text(other.nm)
    th.locator("#notice-revealed a").click()
    th.wait_for_url(f"**/cases/{other.id}")
    expect(th.locator("body")).to_contain_text(other_ref)

    th_context.close()
    vn_context.close()
    problems = th_problems + vn_problems
    assert [p for p in problems if "Content Security Policy" in p or "Error" in p] == []
