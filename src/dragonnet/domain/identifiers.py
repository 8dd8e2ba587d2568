"""Check digits of identifiers seen in cases, alerts and declarations (one rule, used everywhere)."""

from __future__ import annotations

import string


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
