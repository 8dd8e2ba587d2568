"""How intake reads a written reference value: the operation's own mapping first, then the reference data.

Five kinds of value are read against reference data: a place (name, with its country as context), a taxon, a
substance, a country and an HS code. Each reader answers, for ONE distinct value, what is stored and what the
officer must be told:

- read exactly (or by a mapping of the operation): stored, nothing to say;
- read by a guess: stored with what it was read as, reported as a warning (the value, what it was read as,
  why), and put in the operation's review queue;
- not read at all: a place, taxon or HS code is kept as written with a warning (and queued); a substance or a
  country stays an error (a drug without a substance of the lists, a country without an ISO code cannot be
  counted), and is queued so that a coordinator can map it once for the next import.

A taxon CITES does not list is accepted (status "not CITES-listed", with a warning), so is a name nobody knows
(status "unverified", kept as written). Every answer has the same fields (`Reading`); `intake.normalise` calls
the readers once per distinct value and joins the answers back onto the rows.

Mappings (`ValueMappings`) come from the curation loop (`intake.curation`): a written value mapped once to a
reference entry, or confirmed "not listed", by a national coordinator (for its agency) or the regional analyst
(for the whole operation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dragonnet.domain.vocabulary import SpecimenType
from dragonnet.errors import DragonnetError
from dragonnet.intake.headers import key
from dragonnet.reference import cites, countries, goods, places, substances

KINDS: tuple[str, ...] = ("place", "taxon", "substance", "country", "hs_code")
GUESS, UNRESOLVED = "guess", "unresolved"
NOT_LISTED_TEXT = "not listed"


def value_key(kind: str, text: str) -> str:
    """The comparison key of a written value: case, accents, punctuation and spaces folded; HS codes as digits."""
    if kind == "hs_code":
        digits = goods.normalise_code(text)
        if digits:
            return digits
    return key(text)


@dataclass(frozen=True)
class Mapped:
    """A mapping of the operation: the reference entry a written value stands for, or "not listed"."""

    id: int
    target: str | None
    not_listed: bool
    scope: str  # "" for the whole operation, else the agency's code


@dataclass(frozen=True)
class ValueMappings:
    """(kind, key, context) -> Mapped. The agency's own mappings already override the operation's here."""

    entries: Mapping[tuple[str, str, str], Mapped] = field(default_factory=dict)

    def find(self, kind: str, text: str | None, context: str | None = None) -> Mapped | None:
        if not text or not self.entries:
            return None
        k = value_key(kind, text)
        found = self.entries.get((kind, k, context or ""))
        if found is None and context:
            found = self.entries.get((kind, k, ""))
        return found

    def __len__(self) -> int:
        return len(self.entries)


NO_MAPPINGS = ValueMappings()


@dataclass(frozen=True)
class Reading:
    """What one written value is stored as, and what is said about it.

    `values`: the stored columns (per kind, see each reader). `error`: the value is refused (the row is
    rejected). `warning`: accepted, but the officer must check it (`stored_as` says what lands in the
    database). `review`: GUESS or UNRESOLVED when the value goes to the review queue, with `read_as` and `reason`.
    """

    values: dict[str, Any]
    error: str | None = None
    suggestion: str | None = None
    warning: str | None = None
    stored_as: str | None = None
    review: str | None = None
    read_as: str | None = None
    reason: str | None = None
    mapped: int | None = None  # the id of the mapping that decided it


# --- places ------------------------------------------------------------------------------------------------------

PLACE_FIELDS = ("p_locode", "p_name", "p_type", "p_lat", "p_lon")


def _place_values(place: places.Place | None) -> dict[str, Any]:
    if place is None:
        return dict.fromkeys(PLACE_FIELDS)
    return {
        "p_locode": place.locode or None,
        "p_name": place.name,
        "p_type": place.place_type if place.place_type != "other" else None,
        "p_lat": place.latitude,
        "p_lon": place.longitude,
    }


def _place_by_code(code: str, country: str | None) -> places.Place | None:
    res = places.lookup(code, country)
    return res.place if res.place is not None and res.matched_by in ("locode", "iata", "icao") else None


def read_place(locode: str | None, name: str | None, country: str | None, mappings: ValueMappings) -> Reading:
    """The place of seizure from its UN/LOCODE (an unknown code, or one in another country, is an error) or its
    name with the country as context: exact, a guess (stored with its code and coordinates, warned) or not
    found (kept as written, warned). The values: p_locode, p_name (the reference name), p_type, p_lat, p_lon."""
    if locode:
        place = places.get(locode)
        if place is None:
            return Reading(_place_values(None), error=f"unknown UN/LOCODE {locode!r}")
        if country and place.country != country:
            why = f"UN/LOCODE {place.locode} is in {place.country}, not in {country}"
            return Reading(_place_values(None), error=why)
        return Reading(_place_values(place))
    if not name:
        return Reading(_place_values(None))
    mapped = mappings.find("place", name, country)
    if mapped is not None:
        if mapped.not_listed:
            return Reading(_place_values(None), mapped=mapped.id)
        target = _place_by_code(mapped.target or "", None)
        if target is not None:
            return Reading(_place_values(target), mapped=mapped.id)
    res = places.lookup(name, country)
    if res.place is not None and res.status == places.EXACT:
        return Reading(_place_values(res.place))
    if res.place is not None:
        shown = str(res.place)
        return Reading(_place_values(res.place), warning=f"read by a guess: {res.reason}", stored_as=shown,
                       review=GUESS, read_as=shown, reason=res.reason)  # fmt: skip
    why = res.reason or f"unknown place {name!r}"
    hint = f" (did you mean: {', '.join(res.suggestions[:3])}?)" if res.suggestions else ""
    return Reading(_place_values(None), warning=f"{why}: kept as written, without a code or coordinates{hint}",
                   stored_as=name, review=UNRESOLVED, reason=why)  # fmt: skip


# --- taxa --------------------------------------------------------------------------------------------------------

TAXON_FIELDS = ("tx_name", "tx_listing", "tx_status", "tx_rank", "tx_hint")


def _taxon_values(taxon: cites.Taxon | None, status: str, hint: str | None = None) -> dict[str, Any]:
    return {
        "tx_name": taxon.name if taxon else None,
        "tx_listing": (taxon.listing[:16] if taxon and taxon.listing else None),
        "tx_status": status,
        "tx_rank": taxon.rank[:16] if taxon else None,
        "tx_hint": hint if hint in SpecimenType.values() else None,
    }


def read_taxon(text: str, mappings: ValueMappings) -> Reading:
    """A taxon at any rank: exact, a guess (warned), a taxon CITES does not list (accepted, warned) or a name
    nobody knows (accepted as written with the status "unverified", warned). Never an error: an empty taxon on
    a wildlife item is the required-cell check's. Values: tx_name, tx_listing, tx_status, tx_rank, tx_hint."""
    mapped = mappings.find("taxon", text)
    if mapped is not None:
        if mapped.not_listed:
            return Reading(_taxon_values(None, cites.NOT_LISTED), mapped=mapped.id)
        taxon = cites.get(mapped.target or "")
        if taxon is not None:
            return Reading(_taxon_values(taxon, taxon.cites_status), mapped=mapped.id)
    res = cites.lookup(text)
    m = res.match
    if m is None:
        why = res.reason or f"unknown taxon {text!r}"
        hint = f" (did you mean: {', '.join(res.suggestions[:3])}?)" if res.suggestions else ""
        warning = f'{why}; accepted with the status "unverified"{hint}'
        return Reading(_taxon_values(None, cites.UNVERIFIED), warning=warning, stored_as=f"{text} (unverified)",
                       review=UNRESOLVED, reason=why)  # fmt: skip
    values = _taxon_values(m.taxon, res.cites_status, m.specimen_hint)
    at = f"{m.taxon.rank.lower()}, {res.cites_status}"
    if res.status == cites.GUESS:
        return Reading(values, warning=f"{res.reason} ({at})", stored_as=m.taxon.name,
                       review=GUESS, read_as=f"{m.taxon.name} ({at})", reason=res.reason)  # fmt: skip
    if res.cites_status == cites.NOT_LISTED:
        return Reading(values, warning=f"not CITES-listed ({m.taxon.rank.lower()}): accepted as wildlife with the "
                       "status \"not CITES-listed\"", stored_as=m.taxon.name)  # fmt: skip
    return Reading(values)


# --- substances ----------------------------------------------------------------------------------------------------

SUBSTANCE_FIELDS = ("sub_name", "sub_control", "sub_class")


def _substance_values(sub: substances.Substance | None, control: str | None = None) -> dict[str, Any]:
    if sub is None:
        return {"sub_name": None, "sub_control": control, "sub_class": None}
    return {"sub_name": sub.name, "sub_control": sub.control, "sub_class": sub.commodity_class}


def read_substance(text: str, mappings: ValueMappings) -> Reading:
    """A drug or precursor of the INCB lists: exact, a near spelling (a guess, warned) or unknown (an error, queued
    for a mapping). A value confirmed "not listed" by the operation is accepted as written (a new substance).
    Values: sub_name, sub_control, sub_class."""
    mapped = mappings.find("substance", text)
    if mapped is not None:
        if mapped.not_listed:
            return Reading(_substance_values(None, NOT_LISTED_TEXT), mapped=mapped.id)
        sub = substances.get(mapped.target or "")
        if sub is not None:
            return Reading(_substance_values(sub), mapped=mapped.id)
    try:
        m = substances.resolve(text)
    except DragonnetError as exc:
        return Reading(_substance_values(None), error=exc.message, suggestion=", ".join(exc.suggestions) or None,
                       review=UNRESOLVED, reason=exc.message)  # fmt: skip
    if m.matched_by == "fuzzy":
        why = f"read as {m.substance.name}, the closest listed name ({m.score:.0f}%)"
        return Reading(_substance_values(m.substance), warning=why,
                       stored_as=m.substance.name, review=GUESS, read_as=m.substance.name, reason=why)  # fmt: skip
    return Reading(_substance_values(m.substance))


# --- countries -----------------------------------------------------------------------------------------------------


def read_country(text: str, mappings: ValueMappings) -> Reading:
    """An ISO 3166 country from a code or a name: exact, or an error (queued for a mapping). Values: a2."""
    mapped = mappings.find("country", text)
    if mapped is not None and mapped.target:
        try:
            return Reading({"a2": countries.get(mapped.target).alpha2}, mapped=mapped.id)
        except DragonnetError:
            pass  # a mapping to a code the country list no longer has: read the text itself
    try:
        return Reading({"a2": countries.resolve(text).alpha2})
    except DragonnetError as exc:
        return Reading({"a2": None}, error=exc.message, suggestion=", ".join(exc.suggestions) or None,
                       review=UNRESOLVED, reason=exc.message)  # fmt: skip


# --- HS codes ------------------------------------------------------------------------------------------------------


def hs_label(code: str | None) -> str | None:
    """ "050710" -> "0507.10 Ivory, unworked; ..." (a national line: its subheading's description); None if none."""
    if not code:
        return None
    res = goods.lookup(code)
    return str(res.code) if res.code is not None else None


def read_hs_code(text: str, mappings: ValueMappings) -> Reading:
    """An HS code checked against HS 2022: exact (stored as its digits), a guess (a national tariff line or an
    odd length: stored as written digits, warned) or not in HS 2022 (kept as written, warned). Values: hs."""
    mapped = mappings.find("hs_code", text)
    if mapped is not None:
        if mapped.not_listed:
            return Reading({"hs": text.strip()}, mapped=mapped.id)
        hs = goods.get(mapped.target or "")
        if hs is not None:
            return Reading({"hs": hs.code}, mapped=mapped.id)
    res = goods.lookup(text)
    if res.code is not None and res.status == goods.EXACT:
        return Reading({"hs": res.code.code})
    if res.code is not None:
        digits = goods.normalise_code(text) or res.code.code
        shown = str(res.code)
        return Reading({"hs": digits}, warning=f"read by a guess: {res.reason}", stored_as=shown,
                       review=GUESS, read_as=shown, reason=res.reason)  # fmt: skip
    why = res.reason or f"{text!r} is not an HS 2022 code"
    hint = f" (nearest: {res.suggestions[0]})" if res.suggestions else ""
    return Reading({"hs": text.strip()}, warning=f"{why}: kept as written{hint}", stored_as=text.strip(),
                   review=UNRESOLVED, reason=why)  # fmt: skip


__all__ = [
    "GUESS", "KINDS", "NO_MAPPINGS", "UNRESOLVED", "Mapped", "Reading", "ValueMappings", "hs_label", "read_country",
    "read_hs_code", "read_place", "read_substance", "read_taxon", "value_key",
]  # fmt: skip
