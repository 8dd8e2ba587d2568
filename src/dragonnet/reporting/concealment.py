"""Concealment categories derived from the officer's free text (the case record holds text only).

Ordered keyword rules, first match wins; compiled into one SQL CASE expression so that DuckDB classifies
the rows. Texts that match nothing count as "other"; the debrief also lists the most frequent texts.
"""

from __future__ import annotations

from dragonnet.i18n import N_

CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("body", N_("On or in the body"), ("body-pack", "body pack", "swallow", "to the body", "under clothing")),
    ("baggage", N_("Baggage and carried bags"), ("suitcase", "luggage", "backpack", "carried", "personal effects")),
    ("vehicle", N_("Vehicle compartment or load"), ("truck", "car's", "passenger car", "motorbike", "fuel tank",
                                                "tyre", "pick-up", "freight wagon", "compartment")),
    ("vessel", N_("Vessel hold or at sea"), ("hold of", "deck of", "at sea", "barge", "fishing boat")),
    ("container", N_("Container structure"), ("false floor", "cooling unit", "false bottom")),
    ("post", N_("Postal or express item"), ("greeting card", "parcel", "toner", "loudspeaker", "books")),
    ("misdeclared", N_("Mis-declared or mixed with cargo"), ("declared as", "mis-declared", "among declared",
                                                         "mixed with", "cartons of", "bags of", "sacks of",
                                                         "bales", "crates", "consignment", "packaging")),
    ("goods", N_("Hidden inside goods"), ("inside", "hollowed", "in packets", "in tea", "bottles", "candles")),
)  # fmt: skip
OTHER = ("other", N_("Other or not stated"))

LABELS: dict[str, str] = {key: label for key, label, _ in CATEGORIES} | {OTHER[0]: OTHER[1]}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_case(column: str) -> str:
    """A DuckDB CASE expression giving the category key of `column` (a trusted column name)."""
    parts = []
    for key, _label, words in CATEGORIES:
        tests = " OR ".join(f"contains(lower({column}), {_quote(w)})" for w in words)
        parts.append(f"WHEN {tests} THEN {_quote(key)}")
    return f"CASE WHEN {column} IS NULL OR trim({column}) = '' THEN 'other' {' '.join(parts)} ELSE 'other' END"


def classify(text: str | None) -> str:
    """The same rule in Python (for tests and single values)."""
    low = (text or "").strip().lower()
    if not low:
        return OTHER[0]
    for key, _label, words in CATEGORIES:
        if any(w in low for w in words):
            return key
    return OTHER[0]
