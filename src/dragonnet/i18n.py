"""Languages: the shipped gettext catalogues, the locale a text is rendered in, lazy texts, per-locale formats.

Texts stay English in the code (the msgids). Lower layers only mark them (`N_`, `lazy_gettext`); they are
translated when a page is rendered, in the locale the web layer chose for the request (`use_locale`). The
CLI and the JSON API never choose one, so they stay English. Catalogues are Babel/gettext files under
`dragonnet/locale/<locale>/LC_MESSAGES/messages.po`, compiled to `.mo` by the build (`make catalogues`);
a checkout without the compiled files reads the `.po` directly (same result, slower first load).
Numbers, dates and country names come from Babel's CLDR data, so nothing is downloaded.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import gettext as _gettext
import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"
# Shipped locales. Simplified Chinese is `zh_Hans` (script, not country: it is read in CN, SG and MY alike).
LOCALES: tuple[str, ...] = ("en", "zh_Hans", "vi", "th", "fr", "km", "lo")
# Accept-Language tags (lower case, "-" separated) that mean Simplified Chinese; Traditional (zh-TW,
# zh-HK, zh-Hant) is not shipped and falls through to the next choice.
_ALIASES = {"zh": "zh_Hans", "zh-cn": "zh_Hans", "zh-sg": "zh_Hans", "zh-my": "zh_Hans", "zh-hans-cn": "zh_Hans"}

_current: ContextVar[str] = ContextVar("dragonnet_locale", default=DEFAULT_LOCALE)


def N_(message: str) -> str:
    """Mark a text for the catalogue without translating it here (it is translated where it is rendered)."""
    return message


def normalise(code: str | None) -> str | None:
    """A shipped locale for a code ("fr", "zh-Hans", "zh_CN", "vi-VN"), or None."""
    if not code:
        return None
    code = code.strip()
    if code in LOCALES:
        return code
    found = negotiate_locale([code.replace("_", "-")], [c.replace("_", "-") for c in LOCALES], sep="-",
                             aliases=_ALIASES)  # fmt: skip
    return found.replace("-", "_") if found else None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (q=0 dropped)."""
    tags: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            tags.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(tags)]


def negotiate(header: str | None) -> str | None:
    """The shipped locale the browser prefers most (Babel's negotiation over the Accept-Language tags)."""
    available = [c.replace("_", "-") for c in LOCALES]
    found = negotiate_locale(parse_accept_language(header), available, sep="-", aliases=_ALIASES)
    return found.replace("-", "_") if found else None


def select_locale(
    *,
    user_setting: str | None = None,
    cookie: str | None = None,
    accept_language: str | None = None,
    operation_default: str | None = None,
) -> str:
    """The request's locale: the user's setting, else the switcher's cookie (a visitor not logged in),
    else the browser's Accept-Language, else the operation's default language, else English."""
    return (
        normalise(user_setting)
        or normalise(cookie)
        or negotiate(accept_language)
        or normalise(operation_default)
        or DEFAULT_LOCALE
    )


@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalogue of a shipped locale (English: the msgids themselves)."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if locale not in LOCALES or not po.exists():
        return _gettext.NullTranslations()
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    # Not compiled (a fresh checkout before `make catalogues`, or a .po edited since): compile in memory.
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Render what runs inside in `locale` (the web layer wraps each page's rendering in it)."""
    token = _current.set(normalise(locale) or DEFAULT_LOCALE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str, **variables: Any) -> str:
    text = translations(_current.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


class LazyText:
    """A text translated when it is turned into a string, in the locale current at that time.

    For texts built before the locale is known (a page's title, a notice); `str()` gives English outside
    a page's rendering. The variables are formatted into the translated text (named placeholders only).
    """

    __slots__ = ("message", "variables")

    def __init__(self, message: str, variables: Mapping[str, Any]) -> None:
        self.message = message
        self.variables = dict(variables)

    def __str__(self) -> str:
        return gettext(self.message, **self.variables)

    def __repr__(self) -> str:
        return f"LazyText({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.message)

    def __len__(self) -> int:
        return len(str(self))

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)


def lazy_gettext(message: str, **variables: Any) -> LazyText:
    return LazyText(message, variables)


class Percent(float):
    """A ratio shown as a percentage with one decimal: "12.3%" in English text, the locale's form on pages."""

    def __str__(self) -> str:
        return f"{self:.1%}"


class Message(str):
    """An English text with values that remembers its msgid and values (`translatable`).

    It is a `str` (the English text) everywhere: JSON, the API, the CLI, logs, errors. Where a page renders it
    (`translate`, the `translate` filter) it is the catalogue's translation with the values formatted in the
    page's locale (dates, numbers, percentages, nested messages)."""

    message: str
    variables: dict[str, Any]

    def __new__(cls, message: str, variables: Mapping[str, Any]) -> Message:
        text = super().__new__(cls, message % dict(variables) if variables else message)
        text.message, text.variables = message, dict(variables)
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.message, self.variables))

    def localised(self) -> str:
        if not self.variables:  # a msgid, or an English text made from one with values (`with_values`)
            return translate(str(self.message))
        return gettext(self.message, **{name: _localised(value) for name, value in self.variables.items()})


def translatable(message: str, **variables: Any) -> Message:
    """A msgid with named values, English as a string, translated where a page shows it (an extraction keyword,
    so service messages with values, import reasons and review flags get catalogue entries)."""
    return Message(message, variables)


def _localised(value: Any) -> Any:
    """A value formatted into a translated message: in the current locale's form."""
    if isinstance(value, Message | LazyText):
        return translate(value)
    if isinstance(value, Percent):
        return format_percent(float(value), 1)
    if isinstance(value, dt.datetime):
        return format_datetime(value, "cell")
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format_number(value)
    return value


# English texts with values made by lower layers as plain strings (an import report's reasons, a service's error
# messages), recognised by their msgid's shape so that a page can show them translated with the same values.
_WITH_VALUES: dict[str, re.Pattern[str]] = {}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def with_values(message: str) -> str:
    """Declare `message` (a msgid with named placeholders, marked N_) as a text that lower layers format with
    values into plain English strings (`message % values`); `translate` recognises such a string and shows the
    translation with the same values. Returns `message`."""
    parts, position = [], 0
    for found in _PLACEHOLDER.finditer(message):
        parts.append(re.escape(message[position : found.start()]))
        parts.append(f"(?P<{found.group(1)}>.+?)" if found.group(1) else "%")
        position = found.end()
    parts.append(re.escape(message[position:]))
    _WITH_VALUES[message] = re.compile("".join(parts), re.S)
    return message


def _recognised(text: str) -> str | None:
    """The translation of a string made from a `with_values` msgid, or None (the current locale's)."""
    return _recognised_in(translations(_current.get()), text, len(_WITH_VALUES))


@functools.lru_cache(maxsize=8192)
def _recognised_in(catalogue: _gettext.NullTranslations, text: str, _declared: int) -> str | None:
    # Cached: an import report repeats the same few reasons over thousands of rows (`_declared` renews the
    # cache when a module declares more msgids).
    # The most specific msgid wins: "unknown agency %(code)s: add it first" over "unknown agency %(code)s", which
    # matches the same text with the rest taken as the value.
    matches = [(message, found) for message, pattern in _WITH_VALUES.items() if (found := pattern.fullmatch(text))]
    if not matches:
        return None
    message, found = max(matches, key=lambda m: len(_PLACEHOLDER.sub("", m[0])))
    return catalogue.gettext(message) % found.groupdict()


def english(text: object) -> str:
    """A text as English whatever the current locale (a lazy text's msgid with its values): for JSON, API, CLI."""
    if isinstance(text, LazyText):
        if not text.variables:
            return text.message
        return text.message % {name: english(value) if isinstance(value, LazyText) else value
                               for name, value in text.variables.items()}  # fmt: skip
    return str(text)


def translate(text: object) -> str:
    """A text that may be a catalogue msgid (a marked constant, a notice carried in a redirect): translated
    if it is one, else shown as it is (a service's message with values in it stays English)."""
    if isinstance(text, LazyText):
        return str(text)
    if isinstance(text, Message):
        return text.localised()
    if not text:
        return ""
    english_text = str(text)
    translated = gettext(english_text)
    if translated == english_text:  # not a msgid itself: perhaps one with values
        return _recognised(english_text) or translated
    return translated


# --- formats (CLDR through Babel): stored values stay ISO, pages show them per locale -----------------------


@functools.cache
def babel_locale(locale: str | None = None) -> Locale:
    try:
        return Locale.parse(locale or DEFAULT_LOCALE)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def format_number(value: Any, digits: int | None = None) -> str:
    """A number with the locale's grouping and decimal signs ("" for None); `digits`: fixed decimals."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return value
    locale = babel_locale(_current.get())
    if digits is not None:
        return _with_digits(locale.decimal_formats[None], digits).apply(value, locale)
    return babel_numbers.format_decimal(value, locale=locale)


def _with_digits(pattern: babel_numbers.NumberPattern, digits: int) -> babel_numbers.NumberPattern:
    """The locale's own pattern (grouping, signs, where % goes) with a fixed number of decimals."""
    fixed = copy.copy(pattern)
    fixed.frac_prec = (max(digits, 0), max(digits, 0))
    return fixed


def format_percent(value: Any, digits: int = 0) -> str:
    """A ratio (0.25) as the locale's percentage ("25 %" in French)."""
    if value is None or value == "":
        return ""
    locale = babel_locale(_current.get())
    return _with_digits(locale.percent_formats[None], digits).apply(value, locale)


def format_date(value: Any, form: str = "medium") -> str:
    """A date (or ISO date text) in the locale's `form` (short, medium, long, full)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return babel_dates.format_date(value, format=form, locale=babel_locale(_current.get()))


def format_datetime(value: Any, form: str = "medium") -> str:
    """A timestamp in the locale's `form`, in UTC (what the server stores).

    `form` "cell" is what a table cell shows: the medium date with the short time (no seconds), joined as
    the locale joins them ("5 déc. 2026, 14:03", "5 ธ.ค. 2569 14:03")."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    locale = babel_locale(_current.get())
    if form == "cell":
        value = value.astimezone(dt.UTC)
        date_text = babel_dates.format_date(value.date(), format="medium", locale=locale)
        time_text = babel_dates.format_time(value, format="short", tzinfo=dt.UTC, locale=locale)
        return str(locale.datetime_formats["medium"]).replace("{1}", date_text).replace("{0}", time_text)
    return babel_dates.format_datetime(value, format=form, tzinfo=dt.UTC, locale=locale)


def country_name(code: Any, fallback: str | None = None) -> str:
    """An ISO 3166 alpha-2 code's country name in the current locale (CLDR), else `fallback`, else the code."""
    if not code:
        return ""
    if fallback and _current.get() == DEFAULT_LOCALE:
        return fallback  # English: the reference's own (ISO 3166) name, as before ("Viet Nam", not CLDR's "Vietnam")
    text = str(code).upper()
    return babel_locale(_current.get()).territories.get(text) or fallback or text


def language_name(locale: str) -> str:
    """A shipped locale's name in its own language (what a language switcher shows)."""
    return babel_locale(locale).get_display_name(babel_locale(locale)) or locale


def install(env: Any) -> None:
    """Give a Jinja2 environment the i18n extension ({% trans %}, _(), ngettext) bound to the current
    locale, and the per-locale filters. Whitespace inside {% trans %} is collapsed ("trimmed"), as the
    extraction does (babel.cfg), so a msgid does not depend on the template's indentation."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(
        lambda message: translations(_current.get()).gettext(message),
        lambda singular, plural, n: translations(_current.get()).ngettext(singular, plural, n),
        newstyle=True,
    )
    env.globals["current_locale"] = current_locale
    env.filters["number"] = format_number
    env.filters["percent"] = format_percent
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["country"] = country_name
    env.filters["translate"] = translate
