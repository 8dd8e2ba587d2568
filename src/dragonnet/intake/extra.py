"""Exchange-format columns that have no database column of their own: stored in `extra` (JSON) by name.

The format file may grow a column before the schema does; such a column is then read, mapped, checked,
shown and exported like the others, and stored in the `extra` object of its level (case, item or party)
instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table

from dragonnet.domain.exchange import FORMAT, names_of
from dragonnet.storage.models import Case, Item, Party

# Stored elsewhere: an item row's `description` as items.goods_description, the transit countries as rows of
# case_transits.
_STORED_AS = {"items": {"description": "goods_description"}}
_ROWS_OF_THEIR_OWN = frozenset({"transit_countries"})


def _without_column(
    model: type[Any], names: Sequence[str], renamed: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    table = model.__table__
    assert isinstance(table, Table)
    renamed = renamed or {}
    return tuple(n for n in names if renamed.get(n, n) not in table.c and n not in _ROWS_OF_THEIR_OWN)


CASE_EXTRA: tuple[str, ...] = _without_column(Case, names_of(FORMAT.at_level("items", "case")))
ITEM_EXTRA: tuple[str, ...] = _without_column(Item, names_of(FORMAT.at_level("items", "item")), _STORED_AS["items"])
PARTY_EXTRA: tuple[str, ...] = _without_column(Party, names_of(FORMAT.at_level("parties", "party")))


def pack(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any] | None:
    """The `extra` object of a row: its values of `names` that are not empty (None when there is none)."""
    found = {n: row[n] for n in names if row.get(n) not in (None, "")}
    return found or None
