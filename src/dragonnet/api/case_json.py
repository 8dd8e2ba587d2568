"""The case body's JSON schema as plain rules, and the bulk body's fast check.

The API's case models (`api.cases`: ItemIn, PartyIn, the case fields) declare their fields from the exchange
format's columns through `column_rule`, so the models and the rules here are one source. The bulk create takes up
to 2,000 cases per request; building a pydantic model per case and item there, then a `CaseInput` from each, cost
more than validating the whole batch. So `plain_bulk` checks the parsed JSON against the same rules in one pass
over plain dicts and lists, accepting only values that the models take unchanged (a string within its limit, a
JSON number for a number, an integer for an integer, a list of strings for countries, a boolean for `submit`).
Anything else (a missing or unknown key, a wrong type, a value pydantic would convert, an over-long text) answers
None, and the caller validates with the models: their errors, paths and messages are the API's contract, and a
value they convert goes through them. Rules:
- `plain_bulk` never accepts a body that the models refuse, and what it accepts reads the same as the models'
  dump (`tests/intake/test_cases_api.py` compares both on valid and invalid bodies).
- A JSON integer beyond 2**53 in a number field goes to the models (which read it as a float).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from dragonnet.domain.exchange import FORMAT, Column

Kind = Literal["text", "number", "integer", "countries"]
EXACT_FLOAT = 2**53  # beyond this a JSON integer read as a float changes


def column_rule(column: Column) -> tuple[Kind, int | None]:
    """A column's JSON kind and the longest text it takes (None: no limit)."""
    if column.type == "number":
        return "number", None
    if column.type == "integer":
        return "integer", None
    if column.type == "countries":
        return "countries", None
    return "text", column.max_length or (FORMAT.text_max if column.type == "text" else None)


@dataclass(frozen=True)
class Shape:
    """An object's keys: each plain key's rule, the required ones, and the keys holding lists of objects."""

    rules: dict[str, tuple[Kind, int | None]]
    required: frozenset[str]
    lists: dict[str, tuple[Shape, int, int]]  # key -> (element shape, min length, max length)
    flags: frozenset[str] = frozenset()  # boolean keys

    @classmethod
    def of(
        cls, columns: Iterable[Column], *, extra: dict[str, tuple[Kind, int | None]] | None = None,
        lists: dict[str, tuple[Shape, int, int]] | None = None, flags: Iterable[str] = (),
        required: Iterable[str] = (),
    ) -> Shape:  # fmt: skip
        """The shape of an object with `columns` (required as the format says), `extra` plain keys, lists of
        objects, boolean `flags`, and further `required` keys."""
        listed = list(columns)
        rules = {c.name: column_rule(c) for c in listed} | (extra or {})
        needed = frozenset(c.name for c in listed if c.required) | frozenset(required)
        return cls(rules, needed, lists or {}, frozenset(flags))

    keys: frozenset[str] = frozenset()  # every key it may have (set from the others)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(self.rules) | frozenset(self.lists) | self.flags)


def _plain_value(value: Any, kind: Kind, limit: int | None) -> bool:
    kind_of = type(value)
    if kind_of is str:
        return limit is None or len(value) <= limit
    if kind == "number":
        return kind_of is float or (kind_of is int and -EXACT_FLOAT <= value <= EXACT_FLOAT)
    if kind == "integer":
        return kind_of is int
    if kind == "countries":
        return kind_of is list and all(type(v) is str for v in value)
    return False


def plain(obj: Any, shape: Shape) -> bool:
    """True if `obj` (parsed JSON) fits `shape` exactly as the models would take it unchanged."""
    if type(obj) is not dict or not shape.required <= obj.keys() or not obj.keys() <= shape.keys:
        return False
    rules, lists = shape.rules, shape.lists
    for key, value in obj.items():
        rule = rules.get(key)
        if rule is not None:
            if value is None:
                if key in shape.required:
                    return False
            elif not _plain_value(value, *rule):
                return False
        elif key in lists:
            element, least, most = lists[key]
            if type(value) is not list or not least <= len(value) <= most:
                return False
            if not all(plain(v, element) for v in value):
                return False
        elif type(value) is not bool:  # a flag
            return False
    return True


def plain_bulk(body: Any, case: Shape, max_cases: int) -> list[dict[str, Any]] | None:
    """The cases of a bulk body `{"operation": ..., "cases": [...]}` if it fits exactly, else None."""
    if type(body) is not dict or body.keys() != {"operation", "cases"} or type(body["operation"]) is not str:
        return None
    cases = body["cases"]
    if type(cases) is not list or not 1 <= len(cases) <= max_cases:
        return None
    return cases if all(plain(c, case) for c in cases) else None


__all__ = ["Shape", "column_rule", "plain", "plain_bulk"]
