"""Quantities and units: parse what officers write, normalise mass only where the conversion is sound."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from dragonnet.errors import ValidationError


class Unit(StrEnum):
    """The exchange format's units. Mass units convert to kg; counts and volumes never do."""

    KG = "kg"
    G = "g"
    T = "t"
    PIECES = "pieces"
    TABLETS = "tablets"
    L = "l"
    ML = "ml"
    M3 = "m3"


KG_PER_UNIT: dict[Unit, float] = {Unit.KG: 1.0, Unit.G: 0.001, Unit.T: 1000.0}

UNIT_SYNONYMS: dict[str, Unit] = {
    "kg": Unit.KG, "kgs": Unit.KG, "kilo": Unit.KG, "kilos": Unit.KG, "kilogram": Unit.KG,
    "kilograms": Unit.KG, "kilogramme": Unit.KG, "公斤": Unit.KG, "千克": Unit.KG,
    "g": Unit.G, "gr": Unit.G, "gram": Unit.G, "grams": Unit.G, "gramme": Unit.G, "克": Unit.G,
    "t": Unit.T, "ton": Unit.T, "tons": Unit.T, "tonne": Unit.T, "tonnes": Unit.T, "tấn": Unit.T, "吨": Unit.T,
    "pieces": Unit.PIECES, "piece": Unit.PIECES, "pcs": Unit.PIECES, "pc": Unit.PIECES, "items": Unit.PIECES,
    "units": Unit.PIECES, "head": Unit.PIECES, "heads": Unit.PIECES, "individuals": Unit.PIECES,
    "cái": Unit.PIECES, "con": Unit.PIECES, "件": Unit.PIECES, "只": Unit.PIECES, "个": Unit.PIECES,
    "tablets": Unit.TABLETS, "tablet": Unit.TABLETS, "tabs": Unit.TABLETS, "pills": Unit.TABLETS,
    "pill": Unit.TABLETS, "viên": Unit.TABLETS, "片": Unit.TABLETS, "粒": Unit.TABLETS,
    "l": Unit.L, "litre": Unit.L, "litres": Unit.L, "liter": Unit.L, "liters": Unit.L, "lít": Unit.L, "升": Unit.L,
    "ml": Unit.ML, "millilitre": Unit.ML, "milliliter": Unit.ML, "millilitres": Unit.ML, "milliliters": Unit.ML,
    "m3": Unit.M3, "m³": Unit.M3, "cbm": Unit.M3, "cubic metre": Unit.M3, "cubic meter": Unit.M3,
    "cubic metres": Unit.M3, "cubic meters": Unit.M3, "khối": Unit.M3, "立方米": Unit.M3,
}  # fmt: skip

# Quantities above these are almost surely a unit or typing error; reject rather than distort figures.
MAX_PLAUSIBLE = {
    Unit.KG: 1e6, Unit.G: 1e9, Unit.T: 1e4, Unit.PIECES: 1e8, Unit.TABLETS: 1e9,
    Unit.L: 1e7, Unit.ML: 1e10, Unit.M3: 1e5,
}  # fmt: skip


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: Unit

    @property
    def mass_kg(self) -> float | None:
        """The mass in kg for mass units; None for counts and volumes (no invented densities)."""
        factor = KG_PER_UNIT.get(self.unit)
        return None if factor is None else self.value * factor

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit.value}"


def parse_unit(text: str) -> Unit:
    key = re.sub(r"\s+", " ", text.strip().lower().rstrip("."))
    if key in UNIT_SYNONYMS:
        return UNIT_SYNONYMS[key]
    raise ValidationError(f"unknown unit {text!r}; use one of {', '.join(u.value for u in Unit)}")


_NUMBER = re.compile(r"^[+-]?(\d{1,3}([ ,.\u00a0']\d{3})+|\d+)([.,]\d+)?$")


def parse_number(text: str) -> float:
    """A number as officers write it: `1.5`, `1,5` (decimal comma), `1,250.5`, `1.250,5`, `1 250`."""
    raw = text.strip().replace("\u202f", " ")
    if not raw or not _NUMBER.match(raw):
        raise ValidationError(f"not a number: {text!r}")
    cleaned = raw.replace(" ", "").replace("\u00a0", "").replace("'", "")
    last_dot, last_comma = cleaned.rfind("."), cleaned.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
        thousands = "," if decimal_sep == "." else "."
        cleaned = cleaned.replace(thousands, "").replace(decimal_sep, ".")
    elif last_comma >= 0:
        # Several commas are thousands separators; a single one is a decimal comma, as most member
        # agencies write it ("1,5 kg"). "1,250" therefore reads 1.25: the import preview shows it.
        if cleaned.count(",") > 1:
            cleaned = cleaned.replace(",", "")
        else:
            cleaned = cleaned.replace(",", ".")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    try:
        value = float(Decimal(cleaned))
    except InvalidOperation:
        raise ValidationError(f"not a number: {text!r}") from None
    return value


def make_quantity(value: float | str, unit: str | Unit) -> Quantity:
    """Validate a quantity: positive, finite, plausible for its unit."""
    number = parse_number(value) if isinstance(value, str) else float(value)
    parsed_unit = unit if isinstance(unit, Unit) else parse_unit(unit)
    if not math.isfinite(number) or number <= 0:
        raise ValidationError(f"quantity must be a positive number, got {value!r}")
    if number > MAX_PLAUSIBLE[parsed_unit]:
        raise ValidationError(f"quantity {number:g} {parsed_unit.value} is implausibly large; check the unit")
    return Quantity(number, parsed_unit)
