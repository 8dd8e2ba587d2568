"""Identifiers seen in cases, alerts, watchlists and declarations: check digits and the one rule per identifier
(every form, the API and the import call these, so a container passes or fails the same check everywhere)."""

from __future__ import annotations

import re
import string
import unicodedata


def _iso6346_values() -> dict[str, int]:
    """ISO 6346 character values: digits as themselves, A=10 ... Z=38 skipping multiples of 11."""
    values = {str(d): d for d in range(10)}
    value = 10
    for ch in string.ascii_uppercase:
        if value % 11 == 0:
            value += 1
        values[ch] = value
        value += 1
    return values


ISO6346_VALUES = _iso6346_values()


def iso6346_sum(first10: str) -> int:
    """The weighted sum of owner code, category and serial (10 characters; ValueError on others)."""
    try:
        return sum(ISO6346_VALUES[ch] * (2**i) for i, ch in enumerate(first10.upper()))
    except KeyError as exc:
        raise ValueError(f"not an ISO 6346 character: {exc.args[0]!r}") from None


def iso6346_check_digit(first10: str) -> int:
    """The container number's check digit; a remainder of 10 counts as 0."""
    return iso6346_sum(first10) % 11 % 10


# --- container numbers: the one rule of every form, the API, the import, alerts and watchlists ---------------

_SEPARATORS = re.compile(r"[\s\-./]")
# Owner code (3 letters), category (U freight, J detachable equipment, Z trailer), serial (6), check digit.
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
# Four letters and seven digits: written as a container number, so it must pass the container rule.
_CONTAINER_SHAPED = re.compile(r"^[A-Z]{4}[0-9]{7}$")


def compact_code(text: str) -> str:
    """Upper case, full-width characters folded, spaces, dashes, dots and slashes dropped: "mscu 123456-5"
    -> "MSCU1234565"."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())


def looks_like_container(text: str | None) -> bool:
    """Written like a container number (four letters and seven digits, separators aside)."""
    return bool(text) and bool(_CONTAINER_SHAPED.match(compact_code(text or "")))


def container_problem(text: str) -> str | None:
    """None when `text` is a valid ISO 6346 container number, else why not (one sentence, with the fix)."""
    code = compact_code(text)
    if not _CONTAINER_SHAPED.match(code):
        return (f"container {text.strip()!r} is not an ISO 6346 number: write the owner code (4 letters) and "
                "7 digits, e.g. CSQU 305438 3")  # fmt: skip
    if not _CONTAINER.match(code):
        return (f"container {text.strip()!r}: the fourth letter is the equipment category and must be U, J or Z "
                f"(not {code[3]})")  # fmt: skip
    expected = iso6346_check_digit(code[:10])
    if expected != int(code[10]):
        return (f"container {text.strip()!r}: wrong ISO 6346 check digit (the last digit must be {expected} for "
                f"{code[:4]} {code[4:10]}); check the number on the container or the bill of lading")  # fmt: skip
    return None


def is_valid_container(text: str) -> bool:
    return container_problem(text) is None


def container_number(text: str) -> str:
    """The normalised container number ("MSCU1234565"), or ValueError saying what is wrong."""
    problem = container_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return compact_code(text)


def conveyance_problem(text: str | None) -> str | None:
    """A conveyance reference (flight, vessel, vehicle, container, AWB...) written like a container number must
    be a valid one; anything else is free text here. None when acceptable."""
    if not text or not looks_like_container(text):
        return None
    return container_problem(text)
