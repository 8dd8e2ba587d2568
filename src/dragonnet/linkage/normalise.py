"""Normalisation of party names and identifiers before linkage: one spelling per real-world value.

- Names: Unicode folded (Vietnamese diacritics and "đ" dropped, full-width forms narrowed), Hanzi turned into
  pinyin when `pypinyin` is installed (surname syllable, then the given name's syllables joined: 陈伟强 ->
  "chen weiqiang"), honorifics dropped ("Mr.", "U", "Mrs"), tokens sorted so that name order does not matter
  ("NGUYEN Van Thang" = "Thang Nguyen Van").
- Companies: legal-form suffixes dropped ("Co., Ltd", "Sdn Bhd", "Pty Ltd", "Công ty TNHH"...).
- Phones: E.164 with libphonenumber, national numbers read in the party's (or the case's) country.
- Containers: ISO 6346 owner code + serial + check digit; a wrong check digit is reported, not corrected.
- Other codes (passports, registrations, plates): upper case, letters and digits only (any script kept).
- Addresses: distinctive tokens (generic words such as "street" or "đường" dropped) and the postcode.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers import phonenumberutil as pnu

from dragonnet.domain.identifiers import iso6346_check_digit

# Optional: transliteration of Chinese characters. pypinyin's phrase dictionary takes ~0.4 s to load, so it is
# imported the first time a name holds Hanzi, not by every process that imports this module (the app, the CLI).
HAS_PINYIN = importlib.util.find_spec("pypinyin") is not None


@cache
def _pinyin() -> Callable[..., list[str]] | None:
    if not HAS_PINYIN:  # pragma: no cover - depends on the environment
        return None
    from pypinyin import lazy_pinyin

    return lazy_pinyin


# The version of what normalisation gives (this module and `resolve.normalised_records`): bump it with any change
# of their output. `record_cache` keeps records normalised by a previous run only under the same version (with
# the reference data's and the libraries' versions: `record_cache.records_version`).
NORMALISER_VERSION = 1


_EXTRA_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae"})
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_CODE_JUNK = re.compile(r"[\W_]+", re.UNICODE)

_SHORT_LENGTHS = (
    pnu.ValidationResult.TOO_SHORT,
    pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pnu.ValidationResult.INVALID_LENGTH,
)  # lengths at which `parse` keeps a national prefix it could strip

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
    if text.isascii():  # nothing to decompose, no mark to drop, no extra letter to fold: only the case
        return text.lower()
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=65536)
def _han_to_pinyin(text: str, *, person: bool) -> str:
    lazy_pinyin = _pinyin() if _HAN.search(text) else None
    if lazy_pinyin is None:
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
    parsed = _parse_plain(phone, region.upper() if region else None)
    if parsed is None:
        try:
            parsed = phonenumbers.parse(phone, region.upper() if region else None)
        except phonenumbers.NumberParseException:
            return None
    if not _is_valid(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# libphonenumber compiles (or looks up in `re`'s own small cache) each of a region's patterns for every number it
# checks unless its pattern cache is on: a public switch, the same results.
phonenumbers.enable_pattern_cache()

# The number types whose descriptions a valid number matches one of; mobile and fixed-line first, as most numbers
# are (a number is valid when any matches: the order changes how soon it is known, not the answer).
_TYPE_DESCS = ("mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
               "uan", "voicemail")  # fmt: skip


def _is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """`phonenumbers.is_valid_number`, in a third of its time for a country code of one region (what nearly every
    number is): the number's significant digits must match the region's general description and one of its
    number types (`_number_type_helper` is not UNKNOWN), each a length check then one full match of a pattern
    compiled once, where libphonenumber looks each pattern up and matches it twice. A country code shared by
    several regions (+1, +7, +44...) or none goes to libphonenumber. tests/linkage test it against the library."""
    regions = pnu.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0)
    if regions is None or len(regions) != 1 or regions[0] == "001":  # "001": non-geographic
        return bool(phonenumbers.is_valid_number(number))
    descs = _region_descs(regions[0])
    if descs is None or descs[0] != number.country_code:
        return False
    _country_code, general, types = descs
    national = pnu.national_significant_number(number)
    return _matches(national, general) and any(_matches(national, desc) for desc in types)


_Desc = tuple[frozenset[int], "re.Pattern[str]"]


def _matches(national: str, desc: _Desc) -> bool:
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


@cache
def _region_descs(region: str) -> tuple[int, _Desc, tuple[_Desc, ...]] | None:
    """A region's country code, general description and number types (those with a pattern), or None without
    metadata or general description (what makes every number of it invalid in `is_valid_number_for_region`)."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.general_desc is None or metadata.country_code is None:
        return None

    def desc(found: Any) -> _Desc | None:
        if found is None or not found.national_number_pattern:
            return None
        return frozenset(found.possible_length), re.compile(found.national_number_pattern)

    general = desc(metadata.general_desc)
    if general is None:
        return None
    types = tuple(d for d in (desc(getattr(metadata, name)) for name in _TYPE_DESCS) if d is not None)
    return metadata.country_code, general, types


_PLAIN_NUMBER = re.compile(r"(\+?)([0-9]{7,17})", re.ASCII)


def _parse_plain(phone: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """`phonenumbers.parse` for the common case, digits only ("+84912345678", "0912345678"; what a record's
    phone is once spaces and dashes are dropped), in a quarter of its time; None: not that case, ask `parse`.

    The same steps as `parse` (phonenumbers 9.x) from the country code on: for such text, the steps it skips
    (finding the number in free text, RFC 3966 contexts, extensions, letters as digits) change nothing. Only the
    plain paths are taken: a national number starting with an international prefix or with the region's own
    country code, or any doubt about lengths, goes to `parse`. tests/linkage test it against `parse`."""
    plain = _PLAIN_NUMBER.fullmatch(phone)
    if plain is None:
        return None
    plus, digits = plain.groups()
    if plus:
        country_code, national = pnu._extract_country_code(digits)
        if country_code == 0:
            return None
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, pnu.region_code_for_country_code(country_code)
        )
    else:
        metadata = PhoneMetadata.metadata_for_region(region, None) if region else None
        if metadata is None or metadata.international_prefix is None or metadata.country_code is None:
            return None
        if re.match(metadata.international_prefix, digits) or digits.startswith(str(metadata.country_code)):
            return None
        country_code, national = metadata.country_code, digits
    if metadata is None or len(national) < 2:
        return None
    _carrier, stripped, _ = pnu._maybe_strip_national_prefix_carrier_code(national, metadata)
    if pnu._test_number_length(stripped, metadata) not in _SHORT_LENGTHS:
        national = stripped
    if not 2 <= len(national) <= 17:
        return None
    number = phonenumbers.PhoneNumber(country_code=country_code)
    pnu._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


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


# --- addresses ---------------------------------------------------------------------------------------------
#
# No address parser covers the region's scripts and conventions well (libpostal needs a 2 GB model downloaded
# at run time), so an address is compared as its tokens: folded like names (Hanzi read as pinyin), generic words
# ("street", "đường", "路", "jalan"; data/address-words.csv) dropped, and a postcode read when one stands near
# the end (4 to 6 digits, the region's formats). Word order and punctuation do not matter.

ADDRESS_WORDS_FILE = Path(__file__).with_name("data") / "address-words.csv"
_POSTCODE = re.compile(r"^\d{4,6}$")
POSTCODE_TAIL = 3  # a postcode is one of the last tokens of an address


@lru_cache(maxsize=1)
def address_words() -> frozenset[str]:
    """Generic address words (folded): they say what a token is, not where."""
    with ADDRESS_WORDS_FILE.open(encoding="utf-8", newline="") as handle:
        return frozenset(fold(row["word"]).strip() for row in csv.DictReader(handle) if row["word"].strip())


@dataclass(frozen=True)
class Address:
    tokens: tuple[str, ...]  # distinctive tokens, in the order written
    postcode: str | None


def address(text: str | None) -> Address:
    """An address's distinctive tokens and its postcode ("4/18 Railway Parade, Cabramatta NSW 2166" ->
    ("4", "18", "railway", "cabramatta", "nsw", "2166"), "2166")."""
    if not text or not text.strip():
        return Address((), None)
    return _address(text)


@lru_cache(maxsize=1 << 16)
def _address(text: str) -> Address:
    folded = fold(_han_to_pinyin(text, person=False))
    tokens = [t for t in _NON_WORD.split(folded) if t and t != "_"]
    generic = address_words()
    kept = tuple(t for t in tokens if t not in generic)
    postcode = next((t for t in reversed(tokens[-POSTCODE_TAIL:]) if _POSTCODE.match(t)), None)
    return Address(kept, postcode)


def address_many(texts: list[str]) -> list[tuple[list[str], str | None]]:
    """Of many addresses: each one's distinct tokens, sorted, and its postcode (picklable, for a pool)."""
    out: list[tuple[list[str], str | None]] = []
    for text in texts:
        parts = address(text)
        out.append((sorted(set(parts.tokens)), parts.postcode))
    return out
