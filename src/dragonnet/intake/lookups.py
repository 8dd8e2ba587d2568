"""Field suggestions from the reference data (species, substances, places, countries, HS codes) for the case form
and the curation page.

Small, cached indexes; a query answers at most `limit` suggestions whose names start with (then contain)
the typed text, case- and accent-insensitive. Suggestions are hints: the server resolves what is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from dragonnet.intake.headers import key
from dragonnet.reference import cites, countries, goods, places, substances

LookupKind = Literal["species", "substances", "places", "countries", "goods"]
KINDS: tuple[str, ...] = ("species", "substances", "places", "countries", "goods")
MAX_RESULTS = 20


@dataclass(frozen=True)
class Suggestion:
    value: str  # what goes into the field
    label: str  # what the list shows beside it


@cache
def _index(kind: str) -> tuple[tuple[str, Suggestion], ...]:
    entries: list[tuple[str, Suggestion]] = []
    if kind == "countries":
        for c in countries.all_countries():
            s = Suggestion(c.alpha2, f"{c.common_name or c.name} ({c.alpha2})")
            for text in {c.alpha2, c.alpha3, c.name, c.common_name}:
                if text:
                    entries.append((key(text), s))
    elif kind == "places":
        for p in places.all_places():
            if not p.locode:
                continue
            s = Suggestion(p.locode, f"{p.name}, {p.country} ({p.locode}, {p.place_type.replace('_', ' ')})")
            for text in {p.locode, p.name, *p.aliases}:
                entries.append((key(text), s))
    elif kind == "substances":
        for sub in substances.all_substances():
            s = Suggestion(sub.name, f"{sub.name} ({sub.commodity_class}, {sub.control})")
            for text in {sub.name, *sub.synonyms}:
                entries.append((key(text), s))
    elif kind == "species":
        for t in cites.all_taxa():
            listing = f"CITES {t.listing}" if t.listing else "not CITES-listed"
            entries.append((key(t.name), Suggestion(t.name, f"{t.name} ({listing})")))
            for names in t.common_names.values():
                for name in names:
                    entries.append((key(name), Suggestion(t.name, f"{name}: {t.name} ({listing})")))
    elif kind == "goods":
        for hs in goods.all_codes():
            s = Suggestion(hs.formatted, str(hs)[:160])
            entries.append((hs.code, s))
            entries.append((key(hs.description), s))
    return tuple((k, s) for k, s in entries if k)


def suggest(kind: str, text: str, *, limit: int = MAX_RESULTS) -> list[Suggestion]:
    """Up to `limit` suggestions for `text` (prefix matches first, then substring matches)."""
    if kind not in KINDS:
        raise ValueError(kind)
    q = key(text or "")
    if kind == "goods":
        q = goods.normalise_code(text or "") or q  # "0507.10" is typed with a dot
    if not q:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    prefix: list[Suggestion] = []
    inner: list[Suggestion] = []
    seen: set[Suggestion] = set()
    for k, s in _index(kind):
        if s in seen:
            continue
        if k.startswith(q):
            prefix.append(s)
            seen.add(s)
        elif len(q) >= 3 and q in k and len(inner) < limit:
            inner.append(s)
            seen.add(s)
        if len(prefix) >= limit:
            break
    return (prefix + inner)[:limit]


__all__ = ["KINDS", "Suggestion", "suggest"]
