"""The linkage pages in a real browser: a member opens a network's graph and drills down to a case; a member
finds the declaration of their agency that shares a container with a case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import CaseIdentifier
from dragonnet.targeting.service import import_declarations
from web.seed import PASSWORD
from web.webtest import seed_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def linkage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """A live server over the seeded database where TH-1 and TH-2 share a container, which a declaration imported
    by Thai Customs also names."""
    folder = tmp_path_factory.mktemp("linkage-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded = seed_database(url)
    with Session(engine) as session:
        for ref in ("TH-1", "TH-2"):
            session.add(CaseIdentifier(case_id=seeded.cases[ref], kind="container", value="SITU 167671-7",
                                       normalised="SITU1676717"))  # fmt: skip
        declared = folder / "declarations.csv"
        declared.write_text("declaration_id,declaration_date,office_locode,mode,importer,conveyance_ref,hs_code\n"
                            "DLIVE1,2024-03-12,THBKK,sea_container,Blue Lotus Trading,SITU 167671-7,030289\n",
                            encoding="utf-8")  # fmt: skip
        import_declarations(session, folder, declared, agency_code="TH-CUS")
        session.commit()
    engine.dispose()
    with serve(url, folder) as base:
        yield base, dict(seeded.cases)


@pytest.fixture
def th_page(browser: object, linkage_server: tuple[str, dict[str, int]]) -> Iterator[object]:
    """Thai Customs' reporter, logged in; fails the test on CSP violations and script errors."""
    from playwright.sync_api import Browser

    base, _cases = linkage_server
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=base)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/login")
    page.fill("input[name=username]", "th_reporter")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    try:
        yield page
    finally:
        context.close()
    assert [p for p in problems if "Content Security Policy" in p or "Error" in p] == []


def test_member_opens_the_graph_and_drills_down_to_a_case(
    th_page: object, linkage_server: tuple[str, dict[str, int]]
) -> None:
    from playwright.sync_api import Page, expect

    _base, cases = linkage_server
    page = th_page
    assert isinstance(page, Page)
    page.goto("/operations/test-dragon/networks")
    row = page.locator("#networks-table tr[data-network='1']")
    expect(row).to_contain_text("SITU1676717")
    row.locator("a").click()
    graph = page.locator("#network-graph")
    expect(graph).to_have_attribute("data-ready", "3")  # two cases and the container
    # Tap a case node in the canvas: cytoscape renders it; ask it where the node is and click there.
    # The canvas must be in the viewport and the layout settled, so measure again before each try.
    graph.scroll_into_view_if_needed()
    for attempt in range(3):
        box = graph.bounding_box()
        assert box is not None
        pos = page.evaluate(
            "() => { const n = window.dragonnetGraph.nodes(\"[type = 'case']\")[0];"
            " const p = n.renderedPosition(); return [p.x, p.y, n.data('case_id')]; }"
        )
        page.mouse.click(box["x"] + pos[0], box["y"] + pos[1])
        try:
            page.wait_for_url(f"**/cases/{pos[2]}", timeout=5_000)
            break
        except Exception:
            if attempt == 2:
                raise
    assert pos[2] in (cases["TH-1"], cases["TH-2"])


def test_member_finds_a_declaration_linked_to_a_case(
    th_page: object, linkage_server: tuple[str, dict[str, int]]
) -> None:
    from playwright.sync_api import Page, expect

    _base, cases = linkage_server
    page = th_page
    assert isinstance(page, Page)
    page.goto("/operations/test-dragon/networks")
    page.locator(".linkage-subnav").get_by_role("link", name="Declarations linked to cases").click()
    page.wait_for_url("**/operations/test-dragon/declaration-links")
    rows = page.locator("#declaration-links tbody tr[data-declaration='DLIVE1']")
    expect(rows).to_have_count(2)  # TH-1 and TH-2 both carry the container
    first = rows.first
    expect(first).to_contain_text("Same container")
    expect(first).to_contain_text("SITU 167671-7")
    expect(first).to_contain_text("THBKK")
    expect(first).to_contain_text("030289")
    page.select_option("#declaration-links-form select[name=kind]", "container")
    page.click("#declaration-links-form button[type=submit]")
    page.wait_for_url("**kind=container**")
    expect(rows).to_have_count(2)
    rows.first.locator("th a").click()
    page.wait_for_url(lambda u: u.rstrip("/").endswith((f"/cases/{cases['TH-1']}", f"/cases/{cases['TH-2']}")))
