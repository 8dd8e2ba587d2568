"""The phase of a case is derived from its seizure date and the operation's phase periods."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Protocol, TypeVar

from dragonnet.errors import ValidationError

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


class PhasePeriod(Protocol):
    @property
    def number(self) -> int: ...
    @property
    def start_date(self) -> dt.date: ...
    @property
    def end_date(self) -> dt.date: ...


P = TypeVar("P", bound=PhasePeriod)


def roman(number: int) -> str:
    return ROMAN[number - 1] if 1 <= number <= len(ROMAN) else str(number)


def check_periods(phases: Sequence[PhasePeriod]) -> None:
    """Phases must have start <= end and must not overlap, so a date has at most one phase."""
    ordered = sorted(phases, key=lambda p: p.start_date)
    for p in ordered:
        if p.start_date > p.end_date:
            raise ValidationError(f"phase {roman(p.number)} ends ({p.end_date}) before it starts ({p.start_date})")
    for a, b in itertools.pairwise(ordered):
        if b.start_date <= a.end_date:
            raise ValidationError(f"phases {roman(a.number)} and {roman(b.number)} overlap")


def phase_of(seizure_date: dt.date, phases: Sequence[P], operation: str = "the operation") -> P:
    """The phase whose period (both ends inclusive) holds the date, or a clear error naming the periods."""
    for phase in phases:
        if phase.start_date <= seizure_date <= phase.end_date:
            return phase
    raise ValidationError(outside_every_phase(seizure_date, phases, operation))


def outside_every_phase(day: dt.date, phases: Sequence[PhasePeriod], operation: str = "the operation") -> str:
    """Why a date has no phase: the phases' dates, and what to do about it."""
    ordered = sorted(phases, key=lambda p: p.number)
    periods = "; ".join(f"phase {roman(p.number)} {p.start_date} to {p.end_date}" for p in ordered)
    if not ordered:
        todo = "an administrator must first add a phase (Administration > Operations, or `dragonnet operations phase`)"
    elif day > max(p.end_date for p in ordered):
        todo = ("if the seizure was made on that day, an administrator must add the operation's current phase or "
                "extend the last one (Administration > Operations, or `dragonnet operations phase`); "
                "otherwise correct the date")  # fmt: skip
    else:
        todo = "check the date (the seizure must fall within a phase), or ask an administrator to extend a phase"
    return (f"seizure date {day.isoformat()} is outside every phase of {operation} "
            f"({periods or 'no phases yet'}): {todo}")  # fmt: skip
