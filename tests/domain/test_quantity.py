import pytest
from hypothesis import given
from hypothesis import strategies as st

from dragonnet.domain.quantity import Unit, make_quantity, parse_number, parse_unit
from dragonnet.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        ("1,5", 1.5),  # decimal comma
        ("1,250.5", 1250.5),
        ("1.250,5", 1250.5),
        ("1 250", 1250.0),
        ("1,250,000", 1250000.0),
        ("1.250.000", 1250000.0),
        ("12", 12.0),
        (" 0,75 ", 0.75),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1..2", "1,2,3.4.5", "12kg", "--1", "1e5", "NaN"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValidationError, match="not a number"):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("KG", Unit.KG), ("kgs", Unit.KG), ("grams", Unit.G), ("tấn", Unit.T), ("viên", Unit.TABLETS),
     ("pcs", Unit.PIECES), ("m³", Unit.M3), ("Litres", Unit.L), ("公斤", Unit.KG)],
)  # fmt: skip
def test_parse_unit_synonyms(text: str, unit: Unit) -> None:
    assert parse_unit(text) is unit


def test_unknown_unit_names_the_accepted_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown unit .bags.*kg, g, t"):
        parse_unit("bags")


def test_mass_only_for_mass_units() -> None:
    assert make_quantity("1,5", "t").mass_kg == pytest.approx(1500.0)
    assert make_quantity(250, "g").mass_kg == pytest.approx(0.25)
    # No invented conversions: pieces, tablets and volumes have no mass.
    assert make_quantity(40000, "tablets").mass_kg is None
    assert make_quantity(12, "pieces").mass_kg is None
    assert make_quantity(3.2, "m3").mass_kg is None
    assert make_quantity(5, "l").mass_kg is None


@pytest.mark.parametrize(("value", "unit"), [(0, "kg"), (-3, "kg"), (float("inf"), "kg"), (2e6, "kg"), (5e4, "t")])
def test_implausible_quantities_rejected(value: float, unit: str) -> None:
    with pytest.raises(ValidationError):
        make_quantity(value, unit)


@given(st.decimals(min_value="0.001", max_value="999999", places=3, allow_nan=False))
def test_decimal_point_and_comma_agree(value: object) -> None:
    text = f"{value}"
    assert parse_number(text) == pytest.approx(parse_number(text.replace(".", ",")))
