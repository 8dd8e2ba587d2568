import datetime as dt
from dataclasses import dataclass

import pytest

from dragonnet.domain.phases import check_periods, phase_of, roman
from dragonnet.errors import ValidationError


@dataclass
class P:
    number: int
    start_date: dt.date
    end_date: dt.date


PHASES = [P(4, dt.date(2022, 4, 1), dt.date(2022, 11, 30)), P(5, dt.date(2023, 4, 15), dt.date(2023, 11, 16))]


@pytest.mark.parametrize(
    ("day", "number"),
    [
        (dt.date(2023, 4, 15), 5),  # first day counts
        (dt.date(2023, 11, 16), 5),  # last day counts
        (dt.date(2022, 7, 1), 4),
    ],
)
def test_phase_of_date(day: dt.date, number: int) -> None:
    assert phase_of(day, PHASES).number == number


@pytest.mark.parametrize("day", [dt.date(2023, 4, 14), dt.date(2023, 11, 17), dt.date(2019, 1, 1)])
def test_date_outside_every_phase_is_a_clear_error(day: dt.date) -> None:
    with pytest.raises(ValidationError) as err:
        phase_of(day, PHASES, operation="operation 'mekong-dragon'")
    message = str(err.value)
    assert day.isoformat() in message
    assert "outside every phase of operation 'mekong-dragon'" in message
    assert "phase V 2023-04-15 to 2023-11-16" in message
    assert "administrator" in message  # and what to do about it


def test_a_date_after_the_last_phase_says_to_add_the_current_phase() -> None:
    with pytest.raises(ValidationError) as err:
        phase_of(dt.date(2026, 3, 1), PHASES)
    assert "add the operation's current phase or extend the last one" in str(err.value)
    with pytest.raises(ValidationError, match="no phases yet"):
        phase_of(dt.date(2026, 3, 1), [])


def test_overlapping_or_inverted_phases_are_rejected() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        check_periods(
            [P(1, dt.date(2020, 1, 1), dt.date(2020, 6, 30)), P(2, dt.date(2020, 6, 30), dt.date(2020, 12, 1))]
        )
    with pytest.raises(ValidationError, match="ends"):
        check_periods([P(1, dt.date(2020, 6, 1), dt.date(2020, 1, 1))])
    check_periods(PHASES)


def test_roman_numerals() -> None:
    assert [roman(n) for n in (1, 4, 5, 9)] == ["I", "IV", "V", "IX"]
