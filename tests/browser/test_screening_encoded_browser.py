"""Screening an encoded list in a real browser: a member opens "Screen an encoded list" from the linkage pages,
uploads a list encoded under the operation's key (no name in it), sees the hit on their agency's case party with
each field's similarity; a member of another agency uploading the same file learns nothing of that case but a
screening notice naming Thai Customs, asks for the record from it, Thai Customs' coordinator reads a notice that
says the list was encoded (no row value) and accepts, and the next screening hits the case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.linkage.privacy import linkage_secret
from dragonnet.linkage.screening.encoded import encode_list
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Party
from web.seed import PASSWORD
from web.webtest import seed_database, settings_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The seeded operation with the courier Somchai Wongsawat on TH-2 (Thai Customs' parties only)."""
    folder = tmp_path_factory.mktemp("encoded-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded = seed_database(url)
    with Session(engine) as session:
        session.add(Party(case_id=seeded.cases["TH-2"], role="courier", kind="person", name="WONGSAWAT Somchai",
                          nationality="TH", birth_date=dt.date(1978, 3, 14), id_number="AA4821937",
                          address="12 Sukhumvit Soi 4, Khlong Toei, Bangkok 10110"))  # fmt: skip
        session.commit()
    engine.dispose()
    listed = (
        b"Passenger name,Date of birth,Nationality,Passport No.,Address\n"
        b'Somchai Wongsawat,14/03/1978,Thailand,AA4821937,"12 Sukhumvit 4, Bangkok 10110"\n'
        b"Mary Nobody,1990-05-05,TH,X1234567,\n"
    )
    secret = linkage_secret(settings_for(url, folder).secret_key)  # the instance's key (the demo's, derived)
    encoded = folder / "manifest.encoded.json"
    encoded.write_bytes(encode_list(listed, "manifest.csv", secret)[0].dumps())
    with serve(url, folder) as base:
        yield base, encoded


def _login(browser: object, base: str, username: str) -> object:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=base)
    context.set_default_timeout(60_000)  # matching trains nothing here, but the machine may be busy
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    return page


def test_a_member_screens_an_encoded_list_and_another_agency_learns_nothing(
    browser: object, server: tuple[str, Path]
) -> None:
    from playwright.sync_api import Page, expect

    base, encoded = server
    assert b"somchai" not in encoded.read_bytes().lower()
    page = _login(browser, base, "th_reporter")
    assert isinstance(page, Page)
    page.goto("/operations/test-dragon/screening")
    page.click("nav.linkage-subnav >> text=Screen an encoded list")
    expect(page).to_have_url("/operations/test-dragon/screening/encoded")
    page.set_input_files("#encoded-file", str(encoded))
    page.fill("#encoded-threshold", "0.5")
    page.click("#encoded-button")
    expect(page.locator("#encoded-result")).to_contain_text("of 2 rows of manifest.encoded.json")
    hit = page.locator('#encoded-hits tr[data-row="2"][data-source="case"]')
    expect(hit).to_contain_text("WONGSAWAT Somchai")
    expect(hit).to_contain_text("date of birth 1.00")
    expect(hit).to_contain_text("address")
    expect(page.locator('#encoded-hits tr[data-row="3"]')).to_have_count(0)
    hit.locator("a").click()
    page.wait_for_url("**/cases/*")
    page.context.close()

    other = _login(browser, base, "vn_reporter")
    assert isinstance(other, Page)
    other.goto("/operations/test-dragon/screening/encoded")
    other.set_input_files("#encoded-file", str(encoded))
    other.fill("#encoded-threshold", "0.5")
    other.click("#encoded-button")
    expect(other.locator("#encoded-result")).to_be_visible()
    expect(other.locator("#encoded-hits tr[data-row]")).to_have_count(0)
    expect(other.locator("#encoded-no-hits")).to_be_visible()
    expect(other.locator("#encoded-hits")).not_to_contain_text("TH-")
    notice = other.locator('#encoded-notices-table tr[data-row="2"]')
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("TH-CUS")
    expect(other.locator("#encoded-notices")).not_to_contain_text("TH-2")
    notice.locator("a").click()
    other.wait_for_url("**/screening/notices/*")
    number = other.url.rsplit("/", 1)[1]
    expect(other.locator("#notice-revealed")).to_contain_text("not shared")
    other.fill("#request-reason", "the courier flew to Hanoi with a Thai passport")
    other.click("#request-form button[type=submit]")
    expect(other.locator("#requests-table .request-status")).to_have_text("pending")
    other.context.close()

    owner = _login(browser, base, "th_coord")
    assert isinstance(owner, Page)
    owner.goto(f"/operations/test-dragon/screening/notices/{number}")
    expect(owner.locator(".pagehead .lede")).to_contain_text("encoded")
    expect(owner.locator("#notice-encoded")).to_be_visible()
    expect(owner.locator("#notice-facts .row-value")).to_have_count(0)  # no value of the row: none was sent
    expect(owner.locator("#notice-party")).to_contain_text("WONGSAWAT Somchai")  # its own party
    owner.locator(".decide-form button[value=accept]").click()
    expect(owner.locator("#requests-table .request-status")).to_have_text("accepted")
    owner.context.close()

    again = _login(browser, base, "vn_reporter")
    assert isinstance(again, Page)
    again.goto("/operations/test-dragon/screening/encoded")
    again.set_input_files("#encoded-file", str(encoded))
    again.fill("#encoded-threshold", "0.5")
    again.click("#encoded-button")
    expect(again.locator('#encoded-hits tr[data-row="2"][data-source="case"]')).to_contain_text("WONGSAWAT Somchai")
    expect(again.locator("#encoded-notices-table")).to_have_count(0)
    again.context.close()
