"""Identifiers named in alerts and watchlists: their kinds and normalised forms (the check-digit rules are
dragonnet.domain.identifiers', shared with the case form, the API and the import).

Normalised forms are what matching compares: containers and vessels in upper case without spaces or
punctuation, names case- and accent-folded, phones as digits with a leading '+' when given.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

import polars as pl

from dragonnet.domain.identifiers import container_problem
from dragonnet.errors import ValidationError
from dragonnet.reference._text import norm
from dragonnet.tabular import printable_ascii, settled_or_rule


class AlertIdentifierKind(StrEnum):
    AWB = "awb"
    BILL_OF_LADING = "bill_of_lading"
    CONTAINER = "container"
    FLIGHT = "flight"
    VESSEL = "vessel"
    PASSPORT = "passport"


class WatchKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    PHONE = "phone"
    EMAIL = "email"
    PASSPORT = "passport"
    CONTAINER = "container"
    VESSEL = "vessel"
    VEHICLE = "vehicle"
    BANK_ACCOUNT = "bank_account"


NOMINAL_WATCH_KINDS = frozenset(
    {WatchKind.PERSON, WatchKind.COMPANY, WatchKind.PHONE, WatchKind.EMAIL, WatchKind.PASSPORT, WatchKind.BANK_ACCOUNT}
)

_ALNUM = re.compile(r"[^0-9A-Z]")
_FLIGHT = re.compile(r"^([A-Z0-9]{2}[A-Z]?)([0-9]{1,4})([A-Z]?)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _upper_alnum(value: str) -> str:
    return _ALNUM.sub("", unicodedata.normalize("NFKC", value).upper())


def is_valid_imo(value: str) -> bool:
    digits = _upper_alnum(value).removeprefix("IMO")
    if not re.fullmatch(r"[0-9]{7}", digits):
        return False
    return sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == int(digits[6])


def is_valid_awb(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"[0-9]{11}", digits):
        return False
    return int(digits[3:10]) % 7 == int(digits[10])


def normalise_alert_identifier(kind: str, value: str) -> str:
    """The normalised identifier, or ValidationError saying what is wrong with it."""
    text = value.strip()
    if not text or len(text) > 100:
        raise ValidationError(f"{kind.replace('_', ' ')}: give a value of 1 to 100 characters")
    try:
        k = AlertIdentifierKind(kind)
    except ValueError:
        raise ValidationError(
            f"unknown identifier kind {kind!r}; use {', '.join(k.value for k in AlertIdentifierKind)}"
        ) from None
    code = _upper_alnum(text)
    if k is AlertIdentifierKind.CONTAINER:
        problem = container_problem(text)  # the one container rule (domain.identifiers): as on the case form
        if problem is not None:
            raise ValidationError(problem)
        return code
    if k is AlertIdentifierKind.VESSEL:
        if not is_valid_imo(code):
            raise ValidationError(f"vessel {text!r}: give the 7-digit IMO number (check digit included)")
        return code.removeprefix("IMO")
    if k is AlertIdentifierKind.AWB:
        if not is_valid_awb(text):
            raise ValidationError(f"air waybill {text!r}: give 3-digit prefix and 8-digit serial (check digit mod 7)")
        return code
    if k is AlertIdentifierKind.FLIGHT:
        if not _FLIGHT.match(code):
            raise ValidationError(f"flight {text!r}: give the airline designator and number, e.g. VN 123")
        return code
    if len(code) < 4:
        raise ValidationError(f"{k.value.replace('_', ' ')} {text!r} is too short")
    return code


def normalise_watch_value(kind: str, value: str) -> str:
    """Normalised form of a watchlist value (also applied to the records it is compared with)."""
    text = value.strip()
    if kind in (WatchKind.PERSON, WatchKind.COMPANY):
        return norm(text)
    if kind == WatchKind.PHONE:
        digits = re.sub(r"[^0-9]", "", text)
        return ("+" if text.startswith("+") or text.startswith("00") else "") + digits.removeprefix("00")
    if kind == WatchKind.EMAIL:
        return text.casefold()
    if kind == WatchKind.VESSEL:
        return _upper_alnum(text).removeprefix("IMO")
    return _upper_alnum(text)


_LETTERS_AND_DIGITS = frozenset({WatchKind.CONTAINER, WatchKind.VESSEL, WatchKind.VEHICLE, WatchKind.PASSPORT,
                                  WatchKind.BANK_ACCOUNT})  # fmt: skip


def normalise_watch_values(kind: str, values: pl.Series) -> pl.Series:
    """`normalise_watch_value` over a column of distinct values (an import's 250,000 containers). For the kinds
    kept as upper-case letters and digits, printable ASCII is settled column-wise (NFKC leaves it as it is, and
    upper case is the same in Polars and Python there); every other value goes through the function itself."""
    values = values.cast(pl.String)
    if kind not in _LETTERS_AND_DIGITS:
        return values.map_elements(lambda v: normalise_watch_value(kind, v), return_dtype=pl.String)
    folded = pl.col("value").str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "")
    if kind == WatchKind.VESSEL:
        folded = folded.str.strip_prefix("IMO")
    return settled_or_rule(
        values.alias("value"), printable_ascii("value"), folded, lambda v: normalise_watch_value(kind, v)
    ).alias(values.name)


def check_watch_value(kind: str, value: str) -> str:
    """Validate a new watchlist entry; returns its normalised form."""
    try:
        WatchKind(kind)
    except ValueError:
        raise ValidationError(f"unknown watchlist kind {kind!r}; use {', '.join(k.value for k in WatchKind)}") from None
    if not value.strip() or len(value) > 200:
        raise ValidationError("give a value of 1 to 200 characters")
    if kind == WatchKind.CONTAINER and (problem := container_problem(value)) is not None:
        raise ValidationError(problem)
    if kind == WatchKind.EMAIL and not _EMAIL.match(value.strip()):
        raise ValidationError(f"{value.strip()!r} is not an e-mail address")
    normalised = normalise_watch_value(kind, value)
    if len(normalised.strip("+")) < 3:
        raise ValidationError(f"{value.strip()!r} is too short to watch")
    return normalised
