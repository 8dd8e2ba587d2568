"""A pseudo-locale in a real browser (issue 17, "What it must show"): every text of the catalogue template
(messages.pot) accented, lengthened by about 30 % and wrapped in ⟦ ⟧, placeholders and HTML tags kept, compiled
with Babel into a temporary locale folder. For three roles (reporter, national coordinator, partner observer)
every page of the menu and the account page is opened in Chromium at 1366 px and must show

- no untranslated visible text: each visible text node either carries pseudo-translated letters, or is data.
  Data is (heuristic): text without letters; codes (upper case letters, digits, - _ / . :); and strings held
  in the database (every text column of every table: operation, agency, user, case, item, place names...),
  CLDR's English country names (the pseudo-locale's formats are English's), the languages' own names (the
  switcher) and the product's name. A text node is data when nothing with two or more letters is left after
  those are taken out. Attributes (placeholder, title, aria-label) and texts written by JavaScript after an
  action are not checked here.
- no horizontal overflow: the page is not wider than the window, and no element's content is wider than its
  box unless the box scrolls (overflow-x auto/scroll, e.g. a wide table's wrapper).

The pseudo catalogue is installed in place of English's (the source language, whose catalogue is the identity)
by patching `dragonnet.i18n.translations` for this module: the live server runs in this process, so the pages
are rendered with it, and no code path of the app is changed for the test. The module has its own seeded server.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import MetaData, String, Text, select

import dragonnet.i18n as i18n
from browser.live import serve
from dragonnet.reporting import rules
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from web.seed import PASSWORD, SLUG
from web.webtest import seed_database

pytestmark = pytest.mark.browser

ACCENTS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀćđéƒĝĥíĵķĺɱñöþǫŕšţüṽŵẋýžÀßĆĐÉƑĜĤÍĴĶĹṀÑÖÞǪŔŠŢÜṼŴẊÝŽ",
)
PSEUDO_LETTERS = set("àƀćđéƒĝĥíĵķĺɱñöþǫŕšţüṽŵẋýžÀßĆĐÉƑĜĤÍĴĶĹṀÑÖÞǪŔŠŢÜṼŴẊÝŽ⟦⟧")
# What a translation must keep as it is: placeholders, HTML tags and entities.
KEEP = re.compile(r"%\([a-zA-Z_]\w*\)[sdifr]|%%|<[^>]+>|&#?\w+;")
ROLES = ["th_reporter", "th_coord", "observer", "analyst", "admin"]
WINDOW = {"width": 1366, "height": 900}


def pseudo(text: str) -> str:
    """Accented, about 30 % longer, in ⟦ ⟧; placeholders, tags and entities untouched."""
    pieces: list[str] = []
    position = 0
    for kept in KEEP.finditer(text):
        pieces.append(text[position : kept.start()].translate(ACCENTS))
        pieces.append(kept.group())
        position = kept.end()
    pieces.append(text[position:].translate(ACCENTS))
    letters = sum(ch.isalpha() for ch in KEEP.sub("", text))
    return "⟦" + "".join(pieces) + "·" * max(1, round(letters * 0.3)) + "⟧"


def build_pseudo_catalogue(folder: Path) -> Path:
    """messages.pot -> a pseudo catalogue compiled by Babel into `folder`/en_XA/LC_MESSAGES/messages.mo."""
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalogue = Catalog(locale="en", domain=i18n.DOMAIN)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            catalogue.add(message.id, tuple(pseudo(form) for form in message.id))
        else:
            catalogue.add(message.id, pseudo(message.id))
    target = folder / "en_XA" / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    target.parent.mkdir(parents=True)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    target.write_bytes(buffer.getvalue())
    return target


def test_pseudo_keeps_placeholders_and_tags() -> None:
    text = pseudo('Case %(ref)s: <a href="%(href)s">open</a> &amp; 100%%')
    assert "%(ref)s" in text and '<a href="%(href)s">' in text and "</a>" in text and "&amp;" in text
    assert "öþéñ" in text and text.startswith("⟦Ćàšé") and text.endswith("·⟧")
    assert len(text) >= len("Case %(ref)s: <a href=...>open</a> &amp; 100%%") * 1.0


@pytest.fixture(scope="module")
def pseudo_server(tmp_path_factory: pytest.TempPathFactory, live_server: str) -> Iterator[tuple[str, set[str]]]:
    """A seeded server of this module's own, rendering "en" with the pseudo catalogue; and the data strings."""
    folder = tmp_path_factory.mktemp("pseudo-live")
    with build_pseudo_catalogue(folder / "locale").open("rb") as handle:
        catalogue = Translations(handle, domain=i18n.DOMAIN)
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_database(url)
    data = _data_strings(engine)
    engine.dispose()
    original = i18n.translations
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(i18n, "translations", lambda locale: catalogue if locale == "en" else original(locale))
        with serve(url, folder) as base:
            yield base, data


def _data_strings(engine: object) -> set[str]:
    """Every text value held in the database, CLDR's English country names, the languages' own names."""
    metadata = MetaData()
    metadata.reflect(engine)  # type: ignore[arg-type]
    found: set[str] = set()
    with engine.connect() as connection:  # type: ignore[attr-defined]
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text):
                    for (value,) in connection.execute(select(column).distinct().limit(5000)):
                        if isinstance(value, str) and 2 <= len(value) <= 200:
                            found.add(value)
    found.update(Locale("en").territories.values())
    english = Locale("en")
    for width in ("abbreviated", "wide"):  # dates in the English pseudo-locale's CLDR format
        found.update(english.months["format"][width].values())
        found.update(english.days["format"][width].values())
    found.update(i18n.language_name(code) for code in i18n.LOCALES)
    found.update(code.replace("_", "-") for code in i18n.LOCALES)  # the switcher shows the current code
    found.update(rules.PRESETS)  # the counting rules' keys ("operation", "wco-reported"): codes, as on the CLI
    found.update({"dragonnet", "文A"})  # the product; the switcher's icon (a symbol, the same in every language)
    return found


# Visible text nodes of the page (those of closed menus, hidden elements, scripts and styles left out).
VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    const el = node.parentElement;
    if (!text || !el || el.closest("script, style, noscript, template")) continue;
    // the datasets' versions, sources, licences and attributions: data, cited as the sources ask
    if (el.closest("#datasets-table tbody td") || (el.closest("p.attribution") && !el.closest("strong"))) continue;
    if (el.closest("select") && !(el.tagName === "OPTION" && el.selected)) continue;
    const style = getComputedStyle(el);
    if (el.getClientRects().length === 0 || style.visibility === "hidden") continue;
    out.push(text);
  }
  return out;
}"""

# Elements whose content is wider than their box while the box does not scroll; and the page's own width.
OVERFLOWS = """() => {
  const out = [];
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth + 1) out.push(`page ${page.scrollWidth} > ${window.innerWidth}`);
  for (const el of document.body.querySelectorAll("*")) {
    if (el.clientWidth === 0 || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.display === "inline" || ["auto", "scroll"].includes(style.overflowX)) continue;
    if (el.closest("svg")) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
      out.push(`${name}: content ${el.scrollWidth} > box ${el.clientWidth}: ${el.textContent.trim().slice(0, 60)}`);
    }
  }
  return out;
}"""


def _untranslated(texts: list[str], data: list[str]) -> list[str]:
    """The texts that are neither pseudo-translated nor data (see the module's docstring). A text node that holds
    a translation and an English value formatted into it ("⟦Ćöüñţîñĝ ŕüļé:⟧ validated cases only") is checked
    word by word: the pseudo-translated words are taken out, what is left must be data."""
    left_over = []
    for text in texts:
        rest = " ".join(word for word in text.split(" ") if not PSEUDO_LETTERS & set(word))
        rest = re.sub(r"^.+ \([A-Z]{2}\)$", " ", rest)  # a reference name with its ISO code beside: "Viet Nam (VN)"
        for value in data:  # whole words only, longest first ("Test Dragon" before "Test")
            if value in rest:
                rest = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", rest)
        rest = re.sub(r"\b[a-z_]+(\.[a-z_]+)+\b", " ", rest)  # event codes: auth.login
        rest = re.sub(r"\b[A-Z0-9][A-Z0-9\-_/.:]*\b", " ", rest)  # codes: TH-CUS, THBKK, 2024-06-10, HS 2939
        if re.search(r"[^\W\d_]{2,}", rest):
            left_over.append(text)
    return left_over


def _pages_of(page: Page) -> list[str]:
    """The menu's pages, the account page and, where the role has one in its lists, a case's page."""
    links = page.locator("a[data-nav]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    page.goto(f"/operations/{SLUG}/cases")
    case = page.locator("td.case-ref a").first
    cases = [case.get_attribute("href")] if case.count() else []
    return [*dict.fromkeys([*links, "/account", *cases])]


def _problems(page: Page, data: list[str]) -> list[str]:
    """What the page now shown shows untranslated, and what overflows."""
    untranslated = _untranslated(page.evaluate(VISIBLE_TEXTS), data)
    return [f"untranslated: {t!r}" for t in untranslated] + page.evaluate(OVERFLOWS)


def _failed_submit(page: Page, username: str) -> str | None:
    """A form sent with errors the server finds: the page it answers with (its form errors, the kept values).
    Reporters: a seizure whose quantity is not a number; administrators: a user whose username is taken (a
    service message with a value). None for roles without such a form."""
    if username == "admin":
        page.goto("/admin/users")
        page.fill("#u-username", "th_reporter")
        page.fill("#u-password", "Pseudo-locale-passphrase-1")
        page.locator("#user-form button[type=submit]").click()
        return "/admin/users (username taken)"
    if username not in ("th_reporter", "th_coord"):
        return None
    page.goto(f"/operations/{SLUG}/report")
    page.fill("#f-case_ref", f"TH-PSEUDO-{username}")
    page.fill("#f-seizure_date", "2024-06-08")
    page.fill("#f-place_country", "TH")
    page.select_option("#f-item-0-commodity_class", "drug")
    page.fill("#f-item-0-quantity", "abc")
    page.keyboard.press("Escape")  # close a suggestion list that may cover the button
    page.click("#save-draft")
    return "/report (a quantity that is not a number)"


@pytest.mark.parametrize("username", ROLES)
def test_every_page_in_the_pseudo_locale(browser: Browser, pseudo_server: tuple[str, set[str]], username: str) -> None:
    base, data_strings = pseudo_server
    data = sorted(data_strings, key=len, reverse=True)
    context = browser.new_context(base_url=base, viewport=WINDOW)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        expect(page).to_have_url(f"/operations/{SLUG}")
        expect(page.locator("a[data-nav=overview]")).to_contain_text("⟦")  # the pseudo catalogue is in use
        problems: dict[str, list[str]] = {}
        for path in _pages_of(page):
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response and response.status)
            page.wait_for_load_state("networkidle")  # parts loaded after the page (the account's history)
            if found := _problems(page, data):
                problems[path] = found
        if (path := _failed_submit(page, username)) is not None:
            expect(page.locator("main")).to_contain_text("⟦")  # the answer: the form with its errors, or the error page
            if found := _problems(page, data):
                problems[path] = found
        assert problems == {}, "\n".join(f"{p}:\n  " + "\n  ".join(found) for p, found in problems.items())
        assert errors == []
    finally:
        context.close()
