"""The case exchange format, read from its one definition (`data/exchange_format.yaml`).

Everything that speaks the format asks this module: the import (which headers map to which column, which
values a vocabulary column accepts, the limits), the web form and the API (the fields), the templates and
the case export (the columns). `DRAGONNET_EXCHANGE_FORMAT` names another file (a tested variant); the file
is checked when it is loaded, and a mistake in it is a clear error, not a silent gap.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from dragonnet.datafiles import load_yaml
from dragonnet.domain import vocabulary as vocab_module
from dragonnet.domain.quantity import Unit
from dragonnet.errors import ValidationError

DEFAULT_FILE = Path(__file__).with_name("data") / "exchange_format.yaml"
ENV_FILE = "DRAGONNET_EXCHANGE_FORMAT"

SheetKind = Literal["items", "parties"]
SHEETS: tuple[SheetKind, ...] = ("items", "parties")
LEVELS = ("key", "case", "item", "party")
TYPES = (
    "text", "agency", "date", "locode", "country", "countries", "vocabulary", "substance", "taxon", "number",
    "integer", "unit", "phone", "email", "hs_code",
)  # fmt: skip
LANGUAGES = ("en", "fr", "es", "vi", "zh", "th")
# A shipped page locale (dragonnet.i18n.LOCALES) -> the language of its header synonyms in the format file.
_LOCALE_LANGUAGE = {"zh_Hans": "zh"}
# Marks of the Brahmic scripts (Thai, Lao, Khmer, Myanmar, Indic) are part of their words: they are kept, where
# Latin accents (U+0300-U+036F after decomposition) are folded away.
_NOT_WORD = re.compile(r"[^\w\u0900-\u0DFF\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF]+|_")
EXAMPLE_LABEL_COLUMN = "description"  # its example is the example row's label, translated in the templates
_LATIN_ACCENT = re.compile(r"[\u0300-\u036f]")


def key(text: str) -> str:
    """A header's or value's comparison key: "Ngày bắt giữ " -> "ngay bat giu", "Case_Ref" -> "case ref"."""
    text = unicodedata.normalize("NFKC", text).replace("đ", "d").replace("Đ", "d")
    text = _LATIN_ACCENT.sub("", unicodedata.normalize("NFKD", text.casefold()))
    text = _NOT_WORD.sub(" ", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def header_language(locale: str) -> str:
    """The language of the format file's header synonyms for a page locale: "zh_Hans" -> "zh", "vi" -> "vi"."""
    return _LOCALE_LANGUAGE.get(locale, locale)


@dataclass(frozen=True)
class Column:
    name: str
    sheet: SheetKind
    level: str
    type: str
    required: bool = False
    required_for: tuple[str, ...] = ()
    max_length: int | None = None
    vocabulary: str | None = None
    description: str = ""
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> synonyms
    example: str = ""  # the value in the templates' example row

    @property
    def synonyms(self) -> tuple[str, ...]:
        return tuple(w for lang in self.headers for w in self.headers[lang])


@dataclass(frozen=True)
class Vocabulary:
    name: str
    values: tuple[tuple[str, str], ...]  # (value, label), from dragonnet.domain.vocabulary
    synonyms: dict[str, dict[str, tuple[str, ...]]]  # value -> language -> words

    def index(self) -> dict[str, str]:
        """Comparison key -> value: the values, their labels, "a_b" as "a b", then the synonyms."""
        out: dict[str, str] = {}
        for value, label in self.values:
            for text in (value, label, value.replace("_", " ")):
                out[key(text)] = value
        for value, by_language in self.synonyms.items():
            for words in by_language.values():
                for word in words:
                    out.setdefault(key(word), value)
        return out


@dataclass(frozen=True)
class ExchangeFormat:
    version: int
    text_max: int
    columns: dict[SheetKind, tuple[Column, ...]]
    vocabularies: dict[str, Vocabulary]
    source: str
    list_separator: str = ";"  # between the values of a list cell (countries on a route), everywhere
    # Comparison keys of the words that say a quantity is honestly unknown ("unknown", "không rõ", "未知").
    unknown_quantity: frozenset[str] = frozenset()
    # Sheet -> its synonym index, built once (the templates ask it for every header).
    _indexes: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def names(self, sheet: SheetKind) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns[sheet])

    def required(self, sheet: SheetKind) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns[sheet] if c.required)

    def at_level(self, sheet: SheetKind, *levels: str) -> tuple[Column, ...]:
        return tuple(c for c in self.columns[sheet] if c.level in levels)

    def column(self, sheet: SheetKind, name: str) -> Column:
        for c in self.columns[sheet]:
            if c.name == name:
                return c
        raise KeyError(f"{sheet}.{name}")

    def max_lengths(self) -> dict[str, int]:
        """Column -> the longest text accepted, for the columns with a limit of their own."""
        return {c.name: c.max_length for sheet in SHEETS for c in self.columns[sheet] if c.max_length is not None}

    def value_vocabularies(self) -> dict[str, dict[str, str]]:
        """Vocabulary column -> (comparison key -> value), over both sheets."""
        out: dict[str, dict[str, str]] = {}
        for sheet in SHEETS:
            for c in self.columns[sheet]:
                if c.vocabulary is not None:
                    out[c.name] = self.vocabularies[c.vocabulary].index()
        return out

    def example_row(self, sheet: SheetKind) -> dict[str, str]:
        """Column -> the value of the templates' example row (empty where the example leaves it blank)."""
        return {c.name: c.example for c in self.columns[sheet]}

    def says_unknown_quantity(self, text: str | None) -> bool:
        """True when a quantity cell says, in words, that the quantity is not known ("unknown", "không rõ")."""
        if not text or not text.strip():
            return False
        return (key(text) or text.strip()) in self.unknown_quantity

    def header(self, sheet: SheetKind, name: str, locale: str) -> str | None:
        """The column's header in a template for `locale`: its first synonym in that language that the import
        maps back to this very column (by `synonym_index`), or None when the format has none (the template
        keeps the column's own name)."""
        words = self.column(sheet, name).headers.get(header_language(locale), ())
        index = self._indexes.get(sheet) or self._indexes.setdefault(sheet, synonym_index(self, sheet))
        return next((w for w in words if index.get(key(w)) == name), None)

    def allowed_values(self, sheet: SheetKind) -> dict[str, list[str]]:
        """Column -> the values a template lists for it (vocabulary columns and the unit)."""
        out: dict[str, list[str]] = {}
        for c in self.columns[sheet]:
            if c.vocabulary is not None:
                out[c.name] = [v for v, _label in self.vocabularies[c.vocabulary].values]
            elif c.type == "unit":
                out[c.name] = [u.value for u in Unit]
        return out


def _fail(source: str, where: str, message: str) -> ValidationError:
    return ValidationError(f"exchange format {source}: {where}: {message}")


def _words(source: str, where: str, raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise _fail(source, where, f"expected languages ({', '.join(LANGUAGES)}) with lists of words")
    out: dict[str, tuple[str, ...]] = {}
    for lang, words in raw.items():
        if lang not in LANGUAGES:
            raise _fail(source, where, f"unknown language {lang!r}; use {', '.join(LANGUAGES)}")
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise _fail(source, f"{where}.{lang}", "expected a list of words")
        out[lang] = tuple(words)
    return out


def _vocabularies(source: str, raw: Any) -> dict[str, Vocabulary]:
    out: dict[str, Vocabulary] = {}
    for name, spec in (raw or {}).items():
        enum = getattr(vocab_module, str(spec.get("values", "")), None)
        if not isinstance(enum, type) or not issubclass(enum, vocab_module.LabelledEnum):
            raise _fail(source, f"vocabularies.{name}.values", "name a vocabulary of dragonnet.domain.vocabulary")
        values = tuple((m.value, m.label) for m in enum)
        known = {v for v, _ in values}
        synonyms: dict[str, dict[str, tuple[str, ...]]] = {}
        for value, words in (spec.get("synonyms") or {}).items():
            if value not in known:
                raise _fail(source, f"vocabularies.{name}.synonyms", f"{value!r} is not a value of {enum.__name__}")
            synonyms[value] = _words(source, f"vocabularies.{name}.synonyms.{value}", words)
        out[name] = Vocabulary(name, values, synonyms)
    return out


def _column(source: str, sheet: SheetKind, raw: dict[str, Any], items: dict[str, Column],
            vocabularies: dict[str, Vocabulary]) -> Column:  # fmt: skip
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise _fail(source, f"sheets.{sheet}", f"column name {name!r} is not a lower-case identifier")
    where = f"sheets.{sheet}.{name}"
    unknown = set(raw) - {"name", "level", "type", "vocabulary", "required", "required_for", "max_length",
                          "description", "headers", "example"}  # fmt: skip
    if unknown:
        raise _fail(source, where, f"unknown keys {', '.join(sorted(unknown))}")
    level, kind = raw.get("level"), raw.get("type")
    if level not in LEVELS:
        raise _fail(source, where, f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if kind not in TYPES:
        raise _fail(source, where, f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    vocabulary = raw.get("vocabulary")
    if (kind == "vocabulary") != (vocabulary is not None) or (vocabulary and vocabulary not in vocabularies):
        raise _fail(source, where, "a vocabulary column names one of the vocabularies below (and only it does)")
    max_length = raw.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise _fail(source, where, "max_length must be a positive whole number")
    headers = raw.get("headers") or {}
    if headers == "same_as_items":
        if name not in items:
            raise _fail(source, where, "same_as_items: the items sheet has no such column")
        words = items[name].headers
    else:
        words = _words(source, f"{where}.headers", headers)
    return Column(
        name=name, sheet=sheet, level=level, type=kind, required=bool(raw.get("required", False)),
        required_for=tuple(raw.get("required_for") or ()), max_length=max_length, vocabulary=vocabulary,
        description=str(raw.get("description") or ""), headers=words, example=str(raw.get("example") or ""),
    )  # fmt: skip


def parse(data: Any, source: str = "<text>") -> ExchangeFormat:
    """Check and read a parsed exchange-format file."""
    if not isinstance(data, dict) or not isinstance(data.get("sheets"), dict):
        raise _fail(source, "top level", "expected version, text_max, sheets and vocabularies")
    vocabularies = _vocabularies(source, data.get("vocabularies"))
    columns: dict[SheetKind, tuple[Column, ...]] = {}
    for sheet in SHEETS:
        raw = (data["sheets"].get(sheet) or {}).get("columns")
        if not isinstance(raw, list) or not raw:
            raise _fail(source, f"sheets.{sheet}", "expected a list of columns")
        items = {c.name: c for c in columns.get("items", ())}
        found = tuple(_column(source, sheet, c, items, vocabularies) for c in raw)
        names = [c.name for c in found]
        if len(set(names)) != len(names):
            raise _fail(source, f"sheets.{sheet}", "a column is listed twice")
        if [c.name for c in found if c.level == "key"] != ["case_ref", "reporting_agency"]:
            raise _fail(source, f"sheets.{sheet}", "the key columns are case_ref, reporting_agency (in that order)")
        columns[sheet] = found
    separator = data.get("list_separator", ";")
    if not isinstance(separator, str) or len(separator) != 1 or separator.isalnum() or separator.isspace():
        raise _fail(source, "list_separator", "one punctuation character, e.g. ;")
    unknown = _words(source, "unknown_quantity", data.get("unknown_quantity") or {})
    unknown_keys = frozenset(k for words in unknown.values() for k in (key(w) or w.strip() for w in words) if k)
    return ExchangeFormat(int(data.get("version", 1)), int(data.get("text_max", 2000)), columns, vocabularies, source,
                          list_separator=separator, unknown_quantity=unknown_keys)  # fmt: skip


def load(path: Path | str | None = None) -> ExchangeFormat:
    """The exchange format in `path` (default: $DRAGONNET_EXCHANGE_FORMAT, else the shipped file)."""
    chosen = Path(path or os.environ.get(ENV_FILE) or DEFAULT_FILE)
    return _load(str(chosen.resolve()))


@functools.lru_cache(maxsize=4)
def _load(path: str) -> ExchangeFormat:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"exchange format {path}: cannot read it: {exc.strerror}") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"exchange format {path}: not valid YAML: {exc}") from None
    return parse(data, path)


def synonym_index(fmt: ExchangeFormat, sheet: SheetKind) -> dict[str, str]:
    """Header comparison key -> column: the synonyms, then the columns' own names (which always win)."""
    out: dict[str, str] = {}
    for c in fmt.columns[sheet]:
        for word in c.synonyms:
            out.setdefault(key(word), c.name)
    for c in fmt.columns[sheet]:
        out[key(c.name)] = c.name
    return out


def babel_extract(fileobj: Any, keywords: object, comment_tags: object, options: object) -> Iterable[Any]:
    """A Babel extraction method (babel.cfg): the columns' descriptions and the example row's label (the example
    of the `description` column) are msgids, so the templates read in the user's language while the format file
    stays the one definition. The other examples are data (codes, names, values) and stay as written."""
    data = load_yaml(fileobj.read().decode("utf-8"))
    seen: set[str] = set()
    for sheet in SHEETS:
        for raw in data["sheets"][sheet]["columns"]:
            texts = [raw.get("description"), raw.get("example") if raw.get("name") == EXAMPLE_LABEL_COLUMN else None]
            for text in texts:
                if text and str(text) not in seen:
                    seen.add(str(text))
                    yield 0, "gettext", str(text), [f"exchange format, {sheet}.{raw['name']}"]


def names_of(columns: Iterable[Column]) -> tuple[str, ...]:
    return tuple(c.name for c in columns)


FORMAT = load()

# Lists in one cell or field (the countries of a route): one separator for every form, the API's text fields,
# the import, the export and the templates. Its full-width form (a Chinese or Japanese keyboard's) counts too.
LIST_SEPARATOR = FORMAT.list_separator
_FULL_WIDTH = {";": "\uff1b", ",": "\uff0c", "|": "\uff5c", "/": "\uff0f"}


def split_list(text: str | None) -> list[str]:
    """The values of a list written in one field: "TH; MY" -> ["TH", "MY"] (blanks dropped, order kept)."""
    if not text:
        return []
    full = _FULL_WIDTH.get(LIST_SEPARATOR)
    if full:
        text = text.replace(full, LIST_SEPARATOR)
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def join_list(values: Iterable[str]) -> str:
    """A list as a field shows it: "TH; MY"."""
    return f"{LIST_SEPARATOR} ".join(v for v in values if v)


def list_hint(text: str) -> str:
    """What to add to an error about one value of a list that was perhaps separated the wrong way."""
    if any(sep in text for sep in (",", "/", "|")) and LIST_SEPARATOR not in text:
        return f' (separate the countries of a list with "{LIST_SEPARATOR}", e.g. TH{LIST_SEPARATOR} MY)'
    return ""
