"""A reporter's day in Simplified Chinese and in Vietnamese, in a real browser (issue 17, "What it must show"):
the language chosen with the switcher (saved as the user's setting), a seizure reported through the case
form (the success message in that language), a spreadsheet with an error imported (the error report's
headings in that language), the dashboard, and the debrief PDF downloaded in that language, whose fonts are
checked with poppler: a Noto CJK font embedded for Chinese, the catalogue's words (with Vietnamese
diacritics) in the extracted text, and the first page rendered to an image with ink on it.

Every expected text comes from the compiled catalogue (dragonnet.i18n), none is written here. The tests run
against their own seeded server (one per module), so the cases they add and the languages they set do not
reach the other browser tests' shared server."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from browser.live import serve_seeded
from dragonnet.i18n import translations
from web.seed import PASSWORD, SLUG

pytestmark = pytest.mark.browser

POPPLER = ("pdffonts", "pdftotext", "pdftoppm")
# locale -> (reporter, its agency, country, place, a case reference of its own)
REPORTERS = {
    "zh_Hans": ("th_reporter", "TH-CUS", "TH", "THBKK", "TH-ZH-1"),
    "vi": ("vn_reporter", "VN-CUS", "VN", "VNSGN", "VN-VI-1"),
}
HEADER = ["case_ref", "reporting_agency", "seizure_date", "place_country", "commodity_class", "substance", "quantity",
          "unit"]  # fmt: skip


def _t(locale: str, msgid: str) -> str:
    """The catalogue's translation; a test of a complete catalogue never falls back to the English msgid."""
    text = translations(locale).gettext(msgid)
    assert text and text != msgid, (locale, msgid)
    return text


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def lang_server(tmp_path_factory: pytest.TempPathFactory, live_server: str) -> Iterator[str]:
    """A fresh seeded SQLite dragonnet of this module's own (live_server: only for its Chromium check)."""
    with serve_seeded(tmp_path_factory.mktemp("languages-live")) as base:
        yield base


@pytest.fixture
def lang_page(browser: Browser, lang_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=lang_server, viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"error {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog {d.message}"), d.dismiss()))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert problems == []


def _login_and_choose(page: Page, username: str, locale: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"/operations/{SLUG}")
    page.click("#language-switcher summary")  # logged in: saved as the user's setting
    page.click(f"#language-switcher button[data-language={locale}]")
    expect(page.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))


def _report_a_seizure(page: Page, locale: str, country: str, locode: str, ref: str) -> None:
    page.click("a[data-nav=report]")
    expect(page.locator("h1")).to_have_text(_t(locale, "Report a seizure"))
    page.fill("#f-case_ref", ref)
    page.fill("#f-seizure_date", "2024-06-10")
    page.fill("#f-place_country", country)
    page.fill("#f-place_locode", locode)
    page.select_option("#f-item-0-commodity_class", "drug")
    page.fill("#f-item-0-substance", "methamphetamine")
    page.fill("#f-item-0-quantity", "2.5")
    page.select_option("#f-item-0-unit", "kg")
    page.keyboard.press("Escape")  # close a suggestion list that may cover the button
    page.click("#save-submit")
    saved = page.locator("#case-saved")
    expect(saved).to_contain_text(ref)
    expect(saved).to_contain_text(
        _t(locale, "saved and submitted: it now goes to validation by your national coordinator.")
    )


def _import_with_an_error(page: Page, locale: str, agency: str, country: str, ref: str, folder: Path) -> None:
    buffer = io.StringIO()
    rows = [[f"{ref}-X1", agency, "2024-06-12", country, "drug", "ya ba", "12", "bags"],  # "bags": not a unit
            [f"{ref}-X2", agency, "2024-06-13", country, "precursor", "P2P", "200", "l"]]  # fmt: skip
    csv.writer(buffer).writerows([HEADER, *rows])
    sheet = folder / "seizures.csv"
    sheet.write_bytes(buffer.getvalue().encode())
    page.goto(f"/operations/{SLUG}/import")
    page.set_input_files("#file", str(sheet))
    page.click("#upload-button")
    # the first check of a session loads the reference data: give it time
    expect(page.locator("#dry-run h2")).to_have_text(_t(locale, "Dry run"), timeout=60_000)
    headings = page.locator("#error-table thead th")
    expect(headings).to_have_text(
        [_t(locale, word) for word in ("Sheet", "Row", "Column", "Value", "Problem", "Suggestion")]
    )
    expect(page.locator("#error-table tbody tr")).to_have_count(1)
    expect(page.locator("#error-table tbody")).to_contain_text("bags")  # the value as written: data, not text
    expect(page.locator("#confirm-import")).to_contain_text(re.compile(r"\b1\b"))


def _pdf_glyphs(pdf: Path, locale: str, folder: Path) -> None:
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    embedded = [line for line in fonts.splitlines()[2:] if line.split() and " yes " in line]
    assert embedded, fonts
    if locale == "zh_Hans":
        # e.g. "XGIAKD+Noto-Sans-CJK-JP" (the subset prefix, then the face's name)
        assert any(re.search(r"Noto(Sans|Serif)CJK", line.replace("-", "")) for line in embedded), fonts
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    for msgid in ("Seized items", "Arrests", "Reporting countries"):
        assert _squash(_t(locale, msgid)) in _squash(text), (msgid, _t(locale, msgid))
    if locale == "vi":  # letters with diacritics came through as text, not boxes or dropped marks
        assert re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", text), text[:500]
    else:
        assert re.search(r"[\u4e00-\u9fff]", text), text[:500]
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf), str(folder / "page")], check=True)
    image = Image.open(next(folder.glob("page*.png"))).convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:128]) / (image.width * image.height)
    assert 0.002 < dark < 0.5, dark  # text was drawn, and the page is not a black box of missing glyphs


@pytest.mark.parametrize("locale", ["zh_Hans", "vi"])
def test_a_reporters_day_in_the_language(lang_page: Page, locale: str, tmp_path: Path) -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"poppler-utils missing ({', '.join(missing)}): apt-get install poppler-utils")
    page = lang_page
    username, agency, country, locode, ref = REPORTERS[locale]
    _login_and_choose(page, username, locale)
    _report_a_seizure(page, locale, country, locode, ref)
    _import_with_an_error(page, locale, agency, country, ref, tmp_path)

    page.click("a[data-nav=dashboard]")
    expect(page).to_have_url(re.compile(rf"/operations/{SLUG}/dashboard"))
    expect(page.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))
    expect(page.locator("#filter-lang")).to_have_value(locale)  # the report in the reader's language
    expect(page.locator("#download-pdf")).to_be_visible()

    with page.expect_download() as info:
        page.click("#download-pdf")
    pdf = tmp_path / "debrief.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    _pdf_glyphs(pdf, locale, tmp_path)
