"""The shipped gettext catalogues: complete where they say so, no fuzzy entry, placeholders kept, and the
template (messages.pot) up to date with the code and the page templates, so no new text slips in untranslated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from dragonnet.i18n import DEFAULT_LOCALE, LOCALE_DIR, LOCALES
from i18n.complete import COMPLETE_LOCALES

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "translatable": None}  # as `make extract` (-k)


def _catalog(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def problems(catalog: Catalog, *, complete: bool) -> list[str]:
    """What is wrong with a catalogue: fuzzy entries, placeholders not kept, and (complete) empty entries."""
    found: list[str] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        ids, strings = _ids(message), _strings(message)
        if message.fuzzy:
            found.append(f"fuzzy: {ids[0]!r}")
        if complete and catalog.locale_identifier != DEFAULT_LOCALE and not all(strings):
            found.append(f"untranslated: {ids[0]!r}")
        wanted = set().union(*(_placeholders(i) for i in ids))
        for text in strings:
            if not text:
                continue
            got = _placeholders(text)
            # A plural form may leave the count out ("one" in French: "un"), never add one or rename one.
            if not got <= wanted or (len(ids) == 1 and got != wanted):
                found.append(f"placeholders {sorted(got)} instead of {sorted(wanted)}: {ids[0]!r}")
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_shipped_catalogue_is_sound(locale: str) -> None:
    catalog = _catalog(locale)
    assert not problems(catalog, complete=locale in COMPLETE_LOCALES)


def test_complete_locales_are_shipped_ones() -> None:
    assert set(COMPLETE_LOCALES) <= set(LOCALES)
    assert DEFAULT_LOCALE in COMPLETE_LOCALES


def test_the_check_finds_what_it_should() -> None:
    """The checker itself: an empty, a fuzzy and a mangled entry are each reported."""
    catalog = Catalog(locale="fr")
    catalog.add("Case %(ref)s", "Dossier %(ref)s")
    catalog.add("Overview", "")
    catalog.add("Inbox", "Boîte", flags=["fuzzy"])
    catalog.add("%(count)s problem(s)", "%(nombre)s problème(s)")
    catalog.add("Route", "Itinéraire %(extra)s")
    found = problems(catalog, complete=True)
    assert found == [
        "untranslated: 'Overview'",
        "fuzzy: 'Inbox'",
        "placeholders ['%(nombre)s'] instead of ['%(count)s']: '%(count)s problem(s)'",
        "placeholders ['%(extra)s'] instead of []: 'Route'",
    ]
    assert problems(catalog, complete=False) == found[1:]


def test_every_catalogue_has_the_templates_messages() -> None:
    template = {m.id for m in _template() if m.id}
    for locale in LOCALES:
        ids = {m.id for m in _catalog(locale) if m.id}
        assert ids == template, (
            f"{locale}: run `make extract` (missing {len(template - ids)}, extra {len(ids - template)})"
        )


def _template() -> Catalog:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


def test_template_is_up_to_date_with_the_sources() -> None:
    """messages.pot holds exactly what `pybabel extract` (make extract) finds: a text added to a page or a
    marked constant without `make extract` fails here (headers, dates and line numbers do not count)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted: set[object] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        extracted.add(message)
    found = {m if isinstance(m, str) else tuple(m)[:2] for m in extracted}
    shipped = {m.id for m in _template() if m.id}
    assert found - shipped == set(), "texts not in messages.pot: run `make extract`"
    assert shipped - found == set(), "messages.pot has texts no longer in the sources: run `make extract`"


GETTEXT_ALIAS = re.compile(r"^from dragonnet\.i18n import .*\b(?:gettext|lazy_gettext|ngettext) as (\w+)", re.M)


def test_every_gettext_alias_in_the_code_is_an_extraction_keyword() -> None:
    """A text marked through an alias Babel does not know (`_l = lazy_gettext`) would never reach the catalogues
    and stay English on every page: each alias the code imports must be a keyword of `make extract` and here."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    aliases = {
        alias
        for path in (ROOT / "src" / "dragonnet").rglob("*.py")
        for alias in GETTEXT_ALIAS.findall(path.read_text(encoding="utf-8"))
    }
    assert aliases, "the pattern finds no alias: it no longer matches how the code imports gettext"
    for alias in sorted(aliases):
        assert alias in KEYWORDS, alias
        assert f"-k {alias} " in makefile, alias
