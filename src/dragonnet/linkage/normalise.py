"""Normalisation of party names and identifiers before linkage: one spelling per real-world value.

- Names: Unicode folded (Vietnamese diacritics and "đ" dropped, full-width forms narrowed), Hanzi turned into
  pinyin when `pypinyin` is installed (surname syllable, then the given name's syllables joined: 陈伟强 ->
  "chen weiqiang"), honorifics dropped ("Mr.", "U", "Mrs"), tokens sorted so that name order does not matter
  ("NGUYEN Van Thang" = "Thang Nguyen Van").
- Companies: legal-form suffixes dropped ("Co., Ltd", "Sdn Bhd", "Pty Ltd", "Công ty TNHH"...).
- Phones: E.164 with libphonenumber, national numbers read in the party's (or the case's) country.
- Containers: ISO 6346 owner code + serial + check digit; a wrong check digit is reported, not corrected.
- Other codes (passports, registrations, plates): upper case, letters and digits only (any script kept).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from dragonnet.domain.identifiers import iso6346_check_digit

lazy_pinyin: Callable[..., list[str]] | None
try:  # optional: transliteration of Chinese characters
    from pypinyin import lazy_pinyin as _lazy_pinyin

    lazy_pinyin = _lazy_pinyin
except ImportError:  # pragma: no cover - depends on the environment
    lazy_pinyin = None

HAS_PINYIN = lazy_pinyin is not None


_EXTRA_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae"})
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_CODE_JUNK = re.compile(r"[\W_]+", re.UNICODE)

HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "u", "daw", "mdm", "madam", "sir", "haji", "hajjah"})

# Legal forms, longest first; matched on folded, lower-case, punctuation-free text.
COMPANY_FORMS: tuple[str, ...] = (
    "cong ty trach nhiem huu han", "cong ty tnhh thuong mai", "cong ty tnhh tm", "cong ty tnhh", "cong ty cp",
    "cong ty", "private limited", "pvt ltd", "pte ltd", "pty ltd", "sdn bhd", "company limited", "co ltd",
    "co limited", "corporation", "limited", "ltda", "lda", "ltd", "llc", "inc", "corp", "company", "co", "plc",
    "gmbh", "sa", "bhd", "sole", "you xian gong si", "youxiangongsi", "gong si", "gongsi", "tnhh",
)  # fmt: skip
_FORM_TOKENS = sorted((tuple(f.split()) for f in COMPANY_FORMS), key=len, reverse=True)


def fold(text: str) -> str:
    """Lower-case ASCII-ish text: diacritics dropped, compatibility forms (full-width) narrowed."""
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=65536)
def _han_to_pinyin(text: str, *, person: bool) -> str:
    if lazy_pinyin is None or not _HAN.search(text):
        return text
    out: list[str] = []
    for run in re.split(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)", text):
        if not run:
            continue
        if not _HAN.match(run):
            out.append(run)
            continue
        syllables = lazy_pinyin(run)
        if person and 2 <= len(syllables) <= 4:
            # Chinese order: one-syllable surname, then the given name written as one word.
            out.append(f" {syllables[0]} {''.join(syllables[1:])} ")
        else:
            out.append(" " + " ".join(syllables) + " ")
    return "".join(out)


def name_tokens(name: str | None, *, kind: str = "person") -> list[str]:
    """The tokens of a name, transliterated and folded; honorifics (persons) or legal forms (companies) dropped."""
    if not name:
        return []
    return list(_name_tokens(name, kind))


# Names and phones repeat across records (the same courier, the same common names): each distinct value is
# transliterated or parsed once per process. Pure functions of their arguments; bounded memory.
@lru_cache(maxsize=1 << 18)
def _name_tokens(name: str, kind: str) -> tuple[str, ...]:
    text = fold(_han_to_pinyin(name, person=kind == "person"))
    tokens = [t for t in _NON_WORD.split(text) if t]
    if kind == "person":
        return tuple([t for t in tokens if t not in HONORIFICS] or tokens)
    return tuple(strip_company_forms(tokens))


def strip_company_forms(tokens: list[str]) -> list[str]:
    """Drop legal-form words wherever they stand ("Công ty TNHH X" and "X Co., Ltd" give the same tokens)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for form in _FORM_TOKENS:
            if tuple(tokens[i : i + len(form)]) == form:
                i += len(form)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out or tokens


def name_key(name: str | None, *, kind: str = "person") -> str | None:
    """Order-independent key: the sorted tokens joined by a space ("nguyen thang van")."""
    tokens = name_tokens(name, kind=kind)
    return " ".join(sorted(tokens)) or None


def e164(phone: str | None, region: str | None) -> str | None:
    """A phone number in E.164, or None when libphonenumber cannot read a valid number."""
    if not phone:
        return None
    return _e164(phone, region)


@lru_cache(maxsize=1 << 18)
def _e164(phone: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(phone, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def e164_many(items: list[tuple[str, str | None]]) -> list[str | None]:
    """`e164` of many (number, region) pairs: one call per batch of distinct values (picklable, for a pool)."""
    return [e164(number, region) for number, region in items]


def name_tokens_many(items: list[tuple[str, str]]) -> list[list[str]]:
    """`name_tokens` of many (name, kind) pairs (picklable, for a pool)."""
    return [name_tokens(name, kind=kind) for name, kind in items]


def email(value: str | None) -> str | None:
    if not value or "@" not in value:
        return None
    return value.strip().lower()


def code(value: str | None) -> str | None:
    """Passports, registrations, plates, vessel names: upper case, letters and digits of any script."""
    if not value:
        return None
    out = _CODE_JUNK.sub("", fold(value)).upper()
    return out or None


# --- ISO 6346 container numbers ---------------------------------------------------------------------------

_CONTAINER = re.compile(r"^[A-Z]{3}[UJZR]\d{7}$")


@dataclass(frozen=True)
class Container:
    number: str  # 11 characters, no separators
    valid: bool  # the check digit agrees


def container(value: str | None) -> Container | None:
    """An ISO 6346 container number (separators dropped) and whether its check digit is right."""
    raw = code(value)
    if raw is None or not _CONTAINER.match(raw):
        return None
    return Container(raw, iso6346_check_digit(raw[:10]) == int(raw[10]))


def identifier(kind: str, value: str, region: str | None = None) -> str | None:
    """The linkage key of a case identifier of `kind` (None when it cannot be read)."""
    if kind == "phone":
        return e164(value, region)
    if kind == "email":
        return email(value)
    if kind == "container":
        found = container(value)
        return found.number if found else code(value)
    return code(value)
