"""Places: every UN/LOCODE location, every airport, and the curated places of the operation, with coordinates.

Three sources, joined when first used:
- the UN/LOCODE code list (data/unlocode.csv.gz, 2018-1 edition, ~110,000 locations with function flags and
  subdivisions; replaceable with DRAGONNET_UNLOCODE_FILE, see reference/unlocode.py);
- airports from the `airportsdata` package (IATA and ICAO codes, official names, cities, coordinates), each
  linked to the UN/LOCODE of the place it serves;
- the curated table (data/places.csv, scripts/build_places.py): the functions most relevant to the operation,
  aliases in the region's languages, land-border crossings without a code.

Resolution (lookup(), lookup_many()) reads a code (UN/LOCODE, IATA, ICAO) or a name as officers write it,
with the country as context. Names are compared after folding case, diacritics, punctuation and the words
listed in data/place-words.csv ("Airport", "International", "Port of", "sân bay", "机场"...). Every answer says
whether it is exact, a guess (and what was matched), or unresolved (and why): a place is never matched in
another country than the one given.

    >>> lookup("Jomo Kenyatta Airport", "KE").place.locode
    'KENBO'
    >>> resolve("Haiphong").locode
    'VNHPH'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import shipped, unlocode
from dragonnet.reference._text import compact, has_cjk, norm, norm_expr
from dragonnet.reference._text import suggest as text_suggest
from dragonnet.reference.loaded import loaded_once

TABLE_VERSION = "2"
PLACE_TYPES = ("seaport", "airport", "land_border", "inland", "mail_centre", "express_centre", "other")
EXACT, GUESS, UNRESOLVED = "exact", "guess", "unresolved"
FUZZY_ACCEPT = 90.0  # a fuzzy name at or above this score (within the country) is answered as a guess
_LOCODE_RE = re.compile(r"^([A-Za-z]{2})[\s\-]?([A-Za-z2-9]{3})$")
_IATA_RE = re.compile(r"^[A-Za-z]{3}$")
_ICAO_RE = re.compile(r"^[A-Za-z]{4}$")
_PAREN = re.compile(r"\s*\(([^)]*)\)")
# Weights of a name for its place: 0 its own name, 1 an alias or variant, 2 a weaker link (the city an airport
# serves, the second half of "Wilson Apt/Nairobi").
_W_NAME, _W_ALIAS, _W_WEAK = 0, 1, 2
_TYPE_BY_FUNCTION = (
    ("border", "land_border"),
    ("port", "seaport"),
    ("airport", "airport"),
    ("postal", "mail_centre"),
    ("multimodal", "inland"),
)
_FUNCTION_OF_TYPE = {t: f for f, t in _TYPE_BY_FUNCTION}


@dataclass(frozen=True)
class Place:
    locode: str  # UN/LOCODE without space, e.g. "VNHPH"; "" for a crossing or an airfield with no code
    name: str
    country: str  # ISO alpha-2
    place_type: str  # one of PLACE_TYPES
    latitude: float | None
    longitude: float | None
    iata: str | None
    source: str = field(default="curated", compare=False)  # "curated" | "unlocode" | "airportsdata"
    aliases: tuple[str, ...] = field(default=(), compare=False)
    icao: str | None = field(default=None, compare=False)
    subdivision: str | None = field(default=None, compare=False)  # ISO 3166-2 code without the country
    functions: tuple[str, ...] = field(default=(), compare=False)  # UN/LOCODE functions: port, airport, border...

    def __str__(self) -> str:
        code = self.locode or self.iata or self.icao
        return f"{self.name} ({code})" if code else f"{self.name}, {self.country}"

    @property
    def code(self) -> str:
        """The most specific code: the UN/LOCODE, else the airport's IATA or ICAO code, else ""."""
        return self.locode or self.iata or self.icao or ""


@dataclass(frozen=True)
class PlaceResolution:
    """What a written place resolved to: exact, a guess (with what was matched), or unresolved (with why)."""

    text: str
    country: str | None  # the alpha-2 context used (None: none given, or not understood)
    status: str  # EXACT | GUESS | UNRESOLVED
    place: Place | None = None
    matched_by: str | None = None  # "locode" | "iata" | "icao" | "name" | "alias" | "airport" | "words" | "fuzzy"...
    matched_text: str | None = None  # the code or reference name that matched
    reason: str | None = None  # why a guess is a guess, or why nothing resolved
    candidates: tuple[Place, ...] = ()  # other places the text may mean
    suggestions: tuple[str, ...] = ()  # did-you-mean, for unresolved text

    @property
    def resolved(self) -> bool:
        return self.place is not None

    @property
    def guessed(self) -> bool:
        return self.status == GUESS


# --------------------------------------------------------------------------------------------------- loading


def normalise_locode(code: str) -> str | None:
    """ "VN HPH", "vn-hph", "vnhph" -> "VNHPH"; None when the text is not shaped like a UN/LOCODE."""
    m = _LOCODE_RE.match(code.strip())
    return (m.group(1) + m.group(2)).upper() if m else None


@dataclass(frozen=True)
class _Curated:
    places: list[Place]
    by_locode: dict[str, Place]


@cache
def _curated() -> _Curated:
    places: list[Place] = []
    by_locode: dict[str, Place] = {}
    with shipped.package_file("places.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            place = Place(
                locode=row["locode"],
                name=row["name"],
                country=row["country"],
                place_type=row["place_type"],
                latitude=float(row["latitude"]) if row["latitude"] else None,
                longitude=float(row["longitude"]) if row["longitude"] else None,
                iata=row["iata"] or None,
                source=row.get("source") or "curated",
                aliases=tuple(a for a in row.get("aliases", "").split("|") if a),
            )
            places.append(place)
            if place.locode:
                by_locode[place.locode] = place
    return _Curated(places, by_locode)


@dataclass(frozen=True)
class PlaceWord:
    key: str  # normalised
    hint: str | None  # a place type


@cache
def place_words() -> tuple[PlaceWord, ...]:
    """The words folded away around names (data/place-words.csv), longest first."""
    words: dict[str, str | None] = {}
    with shipped.package_file("place-words.csv").open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    for row in csv.DictReader(lines):
        key = norm(row["word"])
        if key:
            words.setdefault(key, (row.get("hint") or "").strip() or None)
    return tuple(PlaceWord(k, h) for k, h in sorted(words.items(), key=lambda kv: (-len(kv[0]), kv[0])))


def _word_regex() -> str:
    spaced = [re.escape(w.key) for w in place_words() if not has_cjk(w.key)]
    return " (?:" + "|".join(spaced) + ") "


@cache
def _cjk_words() -> tuple[PlaceWord, ...]:
    return tuple(w for w in place_words() if has_cjk(w.key))


@cache
def _word_pattern() -> re.Pattern[str]:
    return re.compile(_word_regex())


_FOLD_PASSES = 4  # a match eats the space after it, so runs of words need more than one pass


def fold(key: str) -> tuple[str, str | None]:
    """A normalised name without the words of data/place-words.csv, and the place type they point to.

    "jomo kenyatta international airport" -> ("jomo kenyatta", "airport"); "port of haiphong" ->
    ("haiphong", "seaport"). The same folding keys the reference names, so both sides meet.
    """
    hints = {w.key: w.hint for w in place_words()}
    hint: str | None = None
    out = f" {key} "
    for _ in range(_FOLD_PASSES):
        for m in _word_pattern().finditer(out):
            hint = hint or hints.get(m.group(0).strip())
        folded = _word_pattern().sub(" ", out)
        if folded == out:
            break
        out = folded
    for w in _cjk_words():
        if w.key in out:
            hint = hint or w.hint
            out = out.replace(w.key, " ")
    return " ".join(out.split()), hint


def _fold_expr(expr: pl.Expr) -> pl.Expr:
    out = pl.concat_str([pl.lit(" "), expr, pl.lit(" ")])
    for _ in range(_FOLD_PASSES):
        out = out.str.replace_all(_word_regex(), " ")
    for w in _cjk_words():
        out = out.str.replace_all(w.key, " ", literal=True)
    return out.str.replace_all(r" {2,}", " ").str.strip_chars(" ")


@dataclass
class _Airport:
    icao: str
    iata: str
    name: str
    city: str
    country: str
    subdivision: str
    latitude: float
    longitude: float
    locode: str = ""


@dataclass
class _Table:
    """The joined place data. Entities are numbered: UN/LOCODE rows, then airports, then curated places."""

    codes: unlocode.CodeList
    by_locode: dict[str, int]  # UN/LOCODE -> row of the code list
    country: list[str]  # per code-list row
    airports: list[_Airport]
    by_iata: dict[str, list[int]]  # IATA -> airport indexes
    by_icao: dict[str, int]
    airports_of: dict[str, list[int]]  # UN/LOCODE -> airports serving it (best first)
    _places: dict[int, Place] = field(default_factory=dict)

    @property
    def n_codes(self) -> int:
        return len(self.country)

    @property
    def n_airports(self) -> int:
        return len(self.airports)


def _airports_frame() -> pl.DataFrame:
    """airportsdata's table (icao, iata, name, city, subd, country, lat, lon), IATA airports first."""
    import airportsdata

    path = Path(airportsdata.__file__).with_name("airports.csv")
    cols = ["icao", "iata", "name", "city", "subd", "country", "lat", "lon"]
    if path.is_file():
        frame = pl.read_csv(
            path, columns=cols, schema_overrides=dict.fromkeys(cols[:6], pl.String), infer_schema_length=0
        )
    else:  # pragma: no cover - a future airportsdata layout
        frame = pl.DataFrame(list(airportsdata.load("ICAO").values())).select(cols)
    frame = frame.with_columns(
        [pl.col(c).cast(pl.String).fill_null("") for c in cols[:6]]
        + [pl.col("lat").cast(pl.Float64, strict=False), pl.col("lon").cast(pl.Float64, strict=False)]
    ).filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null() & (pl.col("icao") != ""))
    # IATA airports first: when names collide, scheduled airports beat airstrips.
    return frame.sort([pl.col("iata") == "", pl.col("icao")])


def _link_airports(codes: pl.DataFrame, airports: pl.DataFrame) -> list[str]:
    """The UN/LOCODE each airport serves ("" when none): the code list's own IATA column, then country + IATA
    code as the location code when that location has an airport function, then the one location of the same
    country named like the airport's city (preferring locations with an airport function)."""
    rows = codes.select("locode", "country", "iata", "function", norm_expr(pl.col("name")).alias("k"))
    rows = rows.with_columns(pl.col("function").str.contains("4", literal=True).alias("has_airport"))
    ap = airports.select("icao", "iata", "country", norm_expr(pl.col("city")).alias("k")).with_row_index("ai")
    by_column = (
        rows.filter(pl.col("iata") != "").unique(["country", "iata"], keep="first").select("country", "iata", "locode")
    )
    linked = ap.join(by_column.rename({"locode": "l1"}), on=["country", "iata"], how="left")
    own = rows.filter(pl.col("has_airport")).select("locode").with_columns(pl.col("locode").alias("l2"))
    linked = linked.with_columns((pl.col("country") + pl.col("iata")).alias("locode")).join(
        own, on="locode", how="left"
    )
    named = (
        rows.filter(pl.col("k") != "")
        .sort("has_airport", descending=True)
        .group_by(["country", "k"], maintain_order=True)
        .agg(pl.col("locode").first().alias("l3"), pl.len().alias("n"), pl.col("has_airport").sum().alias("na"))
    )
    linked = linked.join(named, on=["country", "k"], how="left")
    by_city = pl.when((pl.col("n") == 1) | (pl.col("na") == 1) | ((pl.col("iata") != "") & pl.col("n").is_not_null()))
    linked = linked.with_columns(
        pl.coalesce(pl.col("l1"), pl.col("l2"), by_city.then(pl.col("l3")), pl.lit("")).alias("link")
    ).sort("ai")
    return linked.get_column("link").to_list()


def _load_airports(codes: pl.DataFrame) -> list[_Airport]:
    frame = _airports_frame()
    links = _link_airports(codes, frame)
    return [
        _Airport(icao, iata, name, city, country, subd, lat, lon, link)
        for (icao, iata, name, city, subd, country, lat, lon), link in zip(
            frame.select("icao", "iata", "name", "city", "subd", "country", "lat", "lon").iter_rows(),
            links,
            strict=True,
        )
    ]


@loaded_once
def _table() -> _Table:
    codes = unlocode.load()
    frame = codes.frame
    locodes = frame.get_column("locode").to_list()
    by_locode = {code: i for i, code in enumerate(locodes)}
    country = frame.get_column("country").to_list()
    airports = _load_airports(frame)
    by_iata: dict[str, list[int]] = {}
    by_icao: dict[str, int] = {}
    airports_of: dict[str, list[int]] = {}
    for i, a in enumerate(airports):
        by_icao[a.icao] = i
        if a.iata:
            by_iata.setdefault(a.iata, []).append(i)
        if a.locode:
            airports_of.setdefault(a.locode, []).append(i)
    for code, ais in airports_of.items():
        loc = code[2:]
        # the airport whose IATA code is the location code, then IATA airports, then the rest
        ais.sort(key=lambda ai: (airports[ai].iata != loc, airports[ai].iata == "", airports[ai].icao))
    return _Table(codes, by_locode, country, airports, by_iata, by_icao, airports_of)


def _entity_count() -> tuple[int, int, int]:
    t = _table()
    return t.n_codes, t.n_airports, len(_curated().places)


# --------------------------------------------------------------------------------------------------- places


def _type_from_functions(fns: tuple[str, ...]) -> str:
    for fn, ptype in _TYPE_BY_FUNCTION:
        if fn in fns:
            return ptype
    return "other"


def _code_place(row: int) -> Place:
    """The Place of a code-list row, overlaid by its curated entry; coordinates from its airport if it has none."""
    t = _table()
    cached = t._places.get(row)
    if cached is not None:
        return cached
    r = t.codes.frame.row(row, named=True)
    fns = unlocode.functions_of(r["function"])
    code = r["locode"]
    sub = r["subdivision"] or None
    curated = _curated().by_locode.get(code)
    airport = t.airports[t.airports_of[code][0]] if code in t.airports_of else None
    aliases = tuple(a for a in (r["aliases"] or "").split("|") if a)
    if r["name_ascii"]:
        aliases = (r["name_ascii"], *aliases)
    if curated is not None:
        place = replace(
            curated,
            subdivision=sub,
            functions=fns,
            aliases=(*curated.aliases, *aliases),
            icao=airport.icao if airport and curated.place_type == "airport" else None,
        )
    else:
        lat, lon = r["latitude"], r["longitude"]
        if lat is None and airport is not None:
            lat, lon = airport.latitude, airport.longitude
        place = Place(
            locode=code,
            name=r["name"],
            country=r["country"],
            place_type=_type_from_functions(fns),
            latitude=lat,
            longitude=lon,
            iata=r["iata"] or (airport.iata if airport and airport.iata else None),
            source="unlocode",
            aliases=aliases,
            icao=airport.icao if airport else None,
            subdivision=sub,
            functions=fns,
        )
    t._places[row] = place
    return place


def _airport_place(ai: int) -> Place:
    t = _table()
    key = t.n_codes + ai
    cached = t._places.get(key)
    if cached is not None:
        return cached
    a = t.airports[ai]
    curated = _curated().by_locode.get(a.locode) if a.locode else None
    if curated is not None and curated.place_type == "airport" and curated.iata == a.iata:
        place = replace(curated, icao=a.icao)
    else:
        place = Place(
            locode=a.locode,
            name=a.name,
            country=a.country,
            place_type="airport",
            latitude=a.latitude,
            longitude=a.longitude,
            iata=a.iata or None,
            source="airportsdata",
            aliases=(a.city,) if a.city else (),
            icao=a.icao,
            subdivision=None,
            functions=("airport",),
        )
    t._places[key] = place
    return place


def _entity_place(entity: int) -> Place:
    n_codes, n_airports, _ = _entity_count()
    if entity < n_codes:
        return _code_place(entity)
    if entity < n_codes + n_airports:
        return _airport_place(entity - n_codes)
    cur = _curated().places[entity - n_codes - n_airports]
    row = _table().by_locode.get(cur.locode) if cur.locode else None
    return _code_place(row) if row is not None else cur


def _as_type(place: Place, hint: str | None) -> Place:
    """The place seen through the function the text asked for: "Dubai Airport" is AEDXB as its airport."""
    if hint is None or place.place_type == hint:
        return place
    if hint == "airport" and place.locode:
        t = _table()
        ais = [ai for ai in t.airports_of.get(place.locode, []) if t.airports[ai].iata]
        if ais:
            return _airport_place(ais[0])
    if place.functions and _FUNCTION_OF_TYPE.get(hint) in place.functions:
        return replace(place, place_type=hint)
    return place


# --------------------------------------------------------------------------------------------------- codes


def get(locode: str) -> Place | None:
    """The place with this UN/LOCODE ("VNHPH", "VN HPH", "vnhph"), or None.

    A code the list marks as removed answers its successor when the list names one ("USE BR CFO").
    """
    code = normalise_locode(locode)
    if code is None:
        return None
    t = _table()
    row = t.by_locode.get(code)
    if row is None:
        return _curated().by_locode.get(code)
    successor = t.codes.frame.item(row, "replaced_by")
    if successor and successor in t.by_locode:
        return _code_place(t.by_locode[successor])
    return _code_place(row)


def is_valid_locode(code: str) -> bool:
    """True for a code of the UN/LOCODE list in use (or of the curated table)."""
    return get(code) is not None


def by_iata(code: str, country: str | None = None) -> Place | None:
    """The airport with this IATA code (in `country` when given), or None."""
    t = _table()
    for ai in t.by_iata.get(code.strip().upper(), []):
        if country is None or t.airports[ai].country == country:
            return _airport_place(ai)
    return None


def by_icao(code: str) -> Place | None:
    """The airport with this ICAO code, or None."""
    ai = _table().by_icao.get(code.strip().upper())
    return _airport_place(ai) if ai is not None else None


def _rows_where(expr: pl.Expr) -> list[int]:
    frame = _table().codes.frame.with_row_index("__i")
    return frame.filter(expr).get_column("__i").to_list()


def for_country(alpha2: str) -> list[Place]:
    """Every place of a country: its curated places first, then its other UN/LOCODE locations."""
    a2 = alpha2.strip().upper()
    t = _table()
    curated = [p for p in _curated().places if p.country == a2]
    seen = {p.locode for p in curated if p.locode}
    out = [_code_place(t.by_locode[p.locode]) if p.locode in t.by_locode else p for p in curated]
    rows = _rows_where(pl.col("country") == a2)
    out += [_code_place(r) for r in rows if t.codes.frame.item(r, "locode") not in seen]
    return out


def border_crossings(alpha2: str | None = None) -> list[Place]:
    """Border crossings: UN/LOCODE locations with function B, and curated land-border crossings."""
    expr = pl.col("function").str.slice(7, 1) == "B"
    if alpha2:
        expr = expr & (pl.col("country") == alpha2.upper())
    places = [_code_place(r) for r in _rows_where(expr)]
    seen = {p.locode for p in places}
    places += [
        p
        for p in _curated().places
        if p.place_type == "land_border"
        and p.locode not in seen
        and (not alpha2 or p.country == alpha2.upper())
        and (not p.locode or p.locode not in seen)
    ]
    return places


def postal_offices(alpha2: str | None = None) -> list[Place]:
    """Postal exchange offices: UN/LOCODE locations with function 5, and curated mail centres."""
    expr = pl.col("function").str.slice(4, 1) == "5"
    if alpha2:
        expr = expr & (pl.col("country") == alpha2.upper())
    places = [_code_place(r) for r in _rows_where(expr)]
    seen = {p.locode for p in places}
    places += [
        p
        for p in _curated().places
        if p.place_type == "mail_centre"
        and (not p.locode or p.locode not in seen)
        and (not alpha2 or p.country == alpha2.upper())
    ]
    return places


def curated_places() -> list[Place]:
    """The curated places of the operation's countries (data/places.csv)."""
    return list(_curated().places)


def all_places() -> list[Place]:
    """Every place: the curated ones first, then every UN/LOCODE location (over 100,000: prefer lookups)."""
    t = _table()
    out = list(_curated().places)
    seen = {p.locode for p in out if p.locode}
    frame_codes = t.codes.frame.get_column("locode").to_list()
    out += [_code_place(i) for i, code in enumerate(frame_codes) if code not in seen]
    return out


# --------------------------------------------------------------------------------------------------- names


class _Postings:
    """key -> entity*4+weight hits, as one flat sorted array with offsets (cheap to build from Polars)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        frame = frame.unique(["key", "ew"]).sort(["key", "ew"])
        self._ews: list[int] = frame.get_column("ew").to_list()
        heads = frame.with_row_index("i").group_by("key", maintain_order=True).agg(pl.col("i").first(), pl.len())
        self._at: dict[str, tuple[int, int]] = dict(
            zip(
                heads.get_column("key").to_list(),
                zip(heads.get_column("i").to_list(), heads.get_column("len").to_list(), strict=True),
                strict=True,
            )
        )

    def get(self, key: str) -> list[int]:
        at = self._at.get(key)
        return self._ews[at[0] : at[0] + at[1]] if at else []

    def all_keys(self) -> Iterable[str]:
        return self._at.keys()


@dataclass(frozen=True)
class _NameIndex:
    exact: _Postings  # key (and its spaceless form) -> hits
    folded: _Postings  # folded key (and its spaceless form) -> hits, only where folding changed the key
    long: pl.DataFrame  # (country, fold, ew): the pool of the within-country steps


def _name_frames() -> pl.DataFrame:
    """(entity, country, key, fold, ew) for every name, variant and alias of every place."""
    t = _table()
    frame = t.codes.frame.select("country", "name", "name_ascii", "aliases").with_row_index("entity")
    name = pl.col("name")
    has_paren = frame.filter(name.str.contains("(", literal=True))
    has_slash = frame.filter(name.str.contains("/", literal=True))
    has_alias = frame.filter(pl.col("aliases") != "")
    no_paren = name.str.replace_all(_PAREN.pattern, "")
    parts = [
        frame.select("entity", "country", name.alias("text"), pl.lit(_W_NAME).alias("w")),
        frame.filter(pl.col("name_ascii") != "").select(
            "entity", "country", pl.col("name_ascii").alias("text"), pl.lit(_W_NAME).alias("w")
        ),
        has_paren.select("entity", "country", no_paren.alias("text"), pl.lit(_W_NAME).alias("w")),
        has_paren.select(
            "entity", "country", name.str.extract_all(r"\([^)]*\)").alias("text"), pl.lit(_W_ALIAS).alias("w")
        )
        .explode("text")
        .with_columns(pl.col("text").str.strip_chars("()")),
        has_slash.select(
            "entity", "country", no_paren.str.split("/").list.first().alias("text"), pl.lit(_W_ALIAS).alias("w")
        ),
        has_slash.select(
            "entity", "country", no_paren.str.split("/").list.slice(1).alias("text"), pl.lit(_W_WEAK).alias("w")
        ).explode("text"),
        has_alias.select(
            "entity", "country", pl.col("aliases").str.split("|").alias("text"), pl.lit(_W_ALIAS).alias("w")
        ).explode("text"),
    ]
    n_codes, n_airports = t.n_codes, t.n_airports
    ap_rows: list[tuple[int, str, str, int]] = []
    for i, a in enumerate(t.airports):
        ap_rows.append((n_codes + i, a.country, a.name, _W_NAME))
        if a.city:
            ap_rows.append((n_codes + i, a.country, a.city, _W_WEAK))
    for j, p in enumerate(_curated().places):
        for text in (p.name, *p.aliases):
            ap_rows.append((n_codes + n_airports + j, p.country, text, _W_NAME))
    schema = {"entity": pl.Int64, "country": pl.String, "text": pl.String, "w": pl.Int64}
    parts.append(pl.DataFrame(ap_rows, schema=schema, orient="row"))
    long = pl.concat(
        [p.select(pl.col("entity").cast(pl.Int64), "country", "text", pl.col("w").cast(pl.Int64)) for p in parts]
    )
    long = long.filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
    long = long.with_columns((pl.col("entity") * 4 + pl.col("w")).alias("ew")).unique(["text", "ew"])
    texts = long.select(pl.col("text").unique())
    texts = texts.with_columns(norm_expr(pl.col("text")).alias("key"))
    keys = texts.select(pl.col("key").unique())
    keys = keys.with_columns(_fold_expr(pl.col("key")).alias("fold"))
    long = long.join(texts, on="text").join(keys, on="key").filter(pl.col("key") != "")
    return long.select("entity", "country", "key", "fold", "ew")


def _spaceless(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    spaced = frame.filter(pl.col(column).str.contains(" ", literal=True))
    return pl.concat(
        [
            frame.select(pl.col(column).alias("key"), "ew"),
            spaced.select(pl.col(column).str.replace_all(" ", "", literal=True).alias("key"), "ew"),
        ]
    )


@loaded_once
def _names() -> _NameIndex:
    long = _name_frames()
    exact = _Postings(_spaceless(long, "key"))
    changed = long.filter((pl.col("fold") != pl.col("key")) & (pl.col("fold") != ""))
    folded = _Postings(_spaceless(changed, "fold"))
    pool = long.filter(pl.col("fold") != "").select("country", "fold", "ew").unique()
    return _NameIndex(exact, folded, pool)


@cache
def _country_pool(country: str) -> tuple[list[str], list[int]]:
    """(folded keys, hits) of one country: the pool of the by-words and fuzzy steps."""
    part = _names().long.filter(pl.col("country") == country)
    return part.get_column("fold").to_list(), part.get_column("ew").to_list()


def _entity_country(entity: int) -> str:
    n_codes, n_airports, _ = _entity_count()
    t = _table()
    if entity < n_codes:
        return t.country[entity]
    if entity < n_codes + n_airports:
        return t.airports[entity - n_codes].country
    return _curated().places[entity - n_codes - n_airports].country


# --------------------------------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class _Candidate:
    place: Place
    weight: int
    entity: int


def _rank(c: _Candidate, hint: str | None) -> tuple[int, ...]:
    p = c.place
    n_codes, n_airports, _ = _entity_count()
    curated = 0 if p.source in ("curated",) or (p.locode and p.locode in _curated().by_locode) else 1
    fits = 0 if hint is None or p.place_type == hint or _FUNCTION_OF_TYPE.get(hint, "") in p.functions else 1
    return (
        c.weight,
        fits,
        curated,
        0 if p.latitude is not None else 1,
        0 if p.iata or p.locode else 1,
        0 if c.entity < n_codes + n_airports else 1,
    )


def _candidates(ews: Iterable[int], country: str | None, hint: str | None) -> list[_Candidate]:
    """Distinct places (by code) for index hits, best first; hits outside `country` are dropped."""
    best: dict[str, _Candidate] = {}
    for ew in ews:
        entity, weight = divmod(ew, 4)
        if country is not None and _entity_country(entity) != country:
            continue
        place = _as_type(_entity_place(entity), hint)
        key = place.locode or f"{place.iata or place.icao or ''}:{place.name}:{place.country}"
        cand = _Candidate(place, weight, entity)
        old = best.get(key)
        if old is None or _rank(cand, hint) < _rank(old, hint):
            best[key] = cand
    return sorted(best.values(), key=lambda c: _rank(c, hint))


def _is_airfield(c: _Candidate) -> bool:
    """An airstrip without an IATA code: "Chiang Rai Airport" (VTCR, closed) must not hide CEI."""
    return c.place.source == "airportsdata" and not c.place.iata


def _countries_of(ews: Iterable[int]) -> list[str]:
    return sorted({_entity_country(ew // 4) for ew in ews})


def _decide(
    text: str, country: str | None, cands: list[_Candidate], hint: str | None, matched_by: str, note: str | None
) -> PlaceResolution:
    """One answer from ranked candidates: exact when one place stands alone at the best rank."""
    top = cands[0]
    rank = _rank(top, hint)[:2]
    tied = [c for c in cands[1:] if _rank(c, hint)[:2] == rank]
    how = matched_by if top.weight == _W_NAME else ("alias" if matched_by == "name" else matched_by)
    reasons = [note] if note else []
    if tied:
        reasons.append(
            f"{len(tied) + 1} places share this name{' in ' + country if country else ''}; took the best documented one"
        )
    if top.weight == _W_WEAK:
        reasons.append(f"matched {top.place.name!r} through a related name")
    status = GUESS if reasons else EXACT
    return PlaceResolution(
        text=text,
        country=country,
        status=status,
        place=top.place,
        matched_by=how,
        matched_text=top.place.name,
        reason="; ".join(reasons) or None,
        candidates=tuple(c.place for c in cands[1:6]),
    )


def _by_code(raw: str, country: str | None) -> PlaceResolution | None:
    """A UN/LOCODE, IATA or ICAO code; None when the text is not a known code."""
    t = _table()
    code = normalise_locode(raw)
    if code is not None and code in t.by_locode:
        place = get(code)
        assert place is not None
        if country is not None and place.country != country:
            return PlaceResolution(
                raw, country, UNRESOLVED, reason=f"UN/LOCODE {code} is in {place.country}, not in {country}"
            )
        successor = t.codes.frame.item(t.by_locode[code], "replaced_by")
        if successor and place.locode == successor:
            return PlaceResolution(
                raw,
                country,
                GUESS,
                place,
                "locode",
                code,
                f"{code} was removed from UN/LOCODE; read as its successor {successor}",
            )
        return PlaceResolution(raw, country, EXACT, place, "locode", code)
    word = raw.strip()
    if _IATA_RE.match(word):
        up = word.upper()
        ais = t.by_iata.get(up, [])
        inside = [ai for ai in ais if country is None or t.airports[ai].country == country]
        if inside:
            return PlaceResolution(raw, country, EXACT, _airport_place(inside[0]), "iata", up)
        if country is not None and (country + up) in t.by_locode:
            place = get(country + up)
            return PlaceResolution(raw, country, EXACT, place, "locode", country + up)
        if ais:
            other = t.airports[ais[0]]
            return PlaceResolution(
                raw, country, UNRESOLVED, reason=f"IATA {up} is {other.name} in {other.country}, not in {country}"
            )
    if _ICAO_RE.match(word):
        ai = t.by_icao.get(word.upper())
        if ai is not None:
            a = t.airports[ai]
            if country is not None and a.country != country:
                return PlaceResolution(
                    raw, country, UNRESOLVED, reason=f"ICAO {a.icao} is {a.name} in {a.country}, not in {country}"
                )
            return PlaceResolution(raw, country, EXACT, _airport_place(ai), "icao", a.icao)
    return None


def _looks_like_code(raw: str) -> bool:
    """Codes win over names when written as codes: upper case, or with a separator ("VN HPH")."""
    s = raw.strip()
    return bool(s) and (s.isupper() or bool(re.match(r"^[A-Za-z]{2}[\s\-][A-Za-z2-9]{3}$", s)))


def _by_words(key: str, country: str, hint: str | None) -> list[_Candidate]:
    """Places of the country whose folded name holds every word of the text ("shahjalal" in "hazrat shahjalal")."""
    keys, ews = _country_pool(country)
    words = key.split()
    if not words or sum(len(w) for w in words) < 4:
        return []
    hits = [ews[i] for i, k in enumerate(keys) if all(w in k.split() for w in words)]
    return _candidates(hits, country, hint) if len(hits) <= 50 else []


def _by_fuzzy(key: str, country: str, hint: str | None) -> list[tuple[_Candidate, float]]:
    keys, ews = _country_pool(country)
    if len(key) < 4 or not keys:
        return []
    found = process.extract(key, keys, scorer=fuzz.ratio, limit=8, score_cutoff=FUZZY_ACCEPT - 15)
    out: list[tuple[_Candidate, float]] = []
    seen: set[str] = set()
    for _k, score, i in found:
        for cand in _candidates([ews[i]], country, hint):
            code = cand.place.code or cand.place.name
            if code not in seen:
                seen.add(code)
                out.append((cand, float(score)))
    return out


def _fits(cands: list[_Candidate], hint: str | None) -> list[_Candidate]:
    """Candidates of the type the text asked for (all of them when it asked for none)."""
    if hint is None:
        return cands
    return [c for c in cands if _rank(c, hint)[1] == 0]


def _by_span(fkey: str, country: str, hint: str | None) -> tuple[str, list[_Candidate]]:
    """The longest run of words of the text that names a place of the country ("cayenne" in "cayenne felix
    eboue", "fortaleza" in "pinto martins fortaleza"); runs of short words are skipped."""
    idx = _names()
    if has_cjk(fkey) and " " not in fkey:
        # Chinese has no spaces: the longest leading run of characters that names a place ("广州" in "广州白云")
        for end in range(len(fkey) - 1, 1, -1):
            ews = [*idx.exact.get(fkey[:end]), *idx.folded.get(fkey[:end])]
            cands = _fits(_candidates(ews, country, hint), hint)
            if cands:
                return fkey[:end], cands
        return "", []
    words = fkey.split()
    for size in range(len(words) - 1, 0, -1):
        for start in range(len(words) - size + 1):
            span = " ".join(words[start : start + size])
            if len(span.replace(" ", "")) < 4:
                continue
            ews = [*idx.exact.get(span), *idx.folded.get(span)]
            cands = _fits(_candidates(ews, country, hint), hint)
            if cands:
                return span, cands
    return "", []


def _country_airport(fkey: str, country: str | None, hint: str | None) -> list[_Candidate]:
    """ "Malta Airport": the text names the country itself; its one IATA airport, if it has exactly one."""
    if hint != "airport" or not fkey:
        return []
    from dragonnet.reference import countries

    c = countries.try_resolve(fkey)
    if c is None or (country is not None and c.alpha2 != country):
        return []
    t = _table()
    ais = [i for i, a in enumerate(t.airports) if a.country == c.alpha2 and a.iata]
    n_codes = t.n_codes
    return _candidates([(n_codes + ais[0]) * 4], c.alpha2, hint) if len(ais) == 1 else []


def _within_country(raw: str, fkey: str, a2: str, hint: str | None) -> PlaceResolution | tuple[str, ...]:
    """The guessing steps, within the given country only; answers the suggestions when all fail."""
    cands = _fits(_by_words(fkey, a2, hint), hint)
    if cands:
        return _decide(raw, a2, cands, hint, "words", f"matched {cands[0].place.name!r} by the words written")
    cands = _country_airport(fkey, a2, hint)
    if cands:
        return _decide(raw, a2, cands, hint, "country airport", f"the only IATA airport of {a2}")
    fuzzy = [(c, score) for c, score in _by_fuzzy(fkey, a2, hint) if _fits([c], hint)]
    if fuzzy and fuzzy[0][1] >= FUZZY_ACCEPT:
        cand, score = fuzzy[0]
        return _decide(
            raw,
            a2,
            [cand] + [c for c, _ in fuzzy[1:]],
            hint,
            "fuzzy",
            f"read as {cand.place.name!r}, the closest spelling ({score:.0f}%)",
        )
    span, cands = _by_span(fkey, a2, hint)
    if cands:
        return _decide(raw, a2, cands, hint, "part", f"matched {cands[0].place.name!r} from the words {span!r} only")
    return tuple(str(c.place) for c, _ in fuzzy[:5])


@cache
def _confusions() -> dict[str, list[tuple[str, str]]]:
    """data/country-confusions.csv: country written -> [(country meant, why)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    with shipped.package_file("country-confusions.csv").open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    for row in csv.DictReader(lines):
        out.setdefault(row["country"].strip(), []).append((row["also"].strip(), row["note"].strip()))
    return out


def _confusable(raw: str, a2: str) -> PlaceResolution | None:
    """A place not in the country written, but in a country often written for it ("Congo" for CD): a guess."""
    for also, why in _confusions().get(a2, []):
        res = _lookup(raw, also, confuse=False)
        if res.place is not None:
            reason = "; ".join(r for r in (f"not found in {a2} but in {also}: {why}", res.reason) if r)
            return replace(res, country=a2, status=GUESS, reason=reason)
    return None


def _curated_suggestions(raw: str, a2: str | None) -> tuple[str, ...]:
    """Did-you-mean among the curated places (the operation's own), for text no step could read."""
    pool = [p for p in _curated().places if a2 is None or p.country == a2]
    labels = [label for p in pool for label in (p.name, *p.aliases)]
    by_label: dict[str, Place] = {}
    for p in pool:
        for label in (p.name, *p.aliases):
            by_label.setdefault(norm(label), p)
    out: list[str] = []
    for label in text_suggest(raw, labels, limit=5, cutoff=70):
        found = by_label.get(norm(label))
        if found is not None and str(_merged(found)) not in out:
            out.append(str(_merged(found)))
    return tuple(out)


def _merged(p: Place) -> Place:
    row = _table().by_locode.get(p.locode) if p.locode else None
    return _code_place(row) if row is not None else p


def _resolve_country(text: str | None) -> tuple[str | None, str | None]:
    """(alpha-2, note): a country that does not resolve is dropped with a note (the place is then a guess)."""
    if not text or not text.strip():
        return None, None
    from dragonnet.reference import countries

    c = countries.try_resolve(text)
    if c is None:
        return None, f"country {text.strip()!r} not understood; matched without it"
    return c.alpha2, None


def _with_note(res: PlaceResolution, note: str | None) -> PlaceResolution:
    if note is None or res.place is None:
        return res
    reason = "; ".join(r for r in (note, res.reason) if r)
    return replace(res, status=GUESS, reason=reason)


def lookup(text: str, country: str | None = None) -> PlaceResolution:
    """Resolve one written place (a code or a name) with its country as context; never raises.

    `country` is an alpha-2 code or any name countries.resolve reads. The answer is EXACT (a code, or a name
    or alias after folding), GUESS (matched by some of its words, a near spelling, one of several places of the
    same name, a removed code's successor, or without a country that was written but not understood; `reason`
    says which) or UNRESOLVED (`reason` says why, `suggestions` offers near names of that country).
    """
    raw = (text or "").strip()
    if not raw:
        return PlaceResolution(text or "", None, UNRESOLVED, reason="empty place")
    a2, note = _resolve_country(country)
    return _with_note(_lookup(raw, a2), note)


def _lookup(raw: str, a2: str | None, *, confuse: bool = True) -> PlaceResolution:
    code_first = _looks_like_code(raw)
    if code_first:
        hit = _by_code(raw, a2)
        if hit is not None:
            return hit
    idx = _names()
    key = norm(raw)
    outside: list[int] = []
    # 1. the name or an alias as written (case, accents, punctuation and spaces folded)
    minor: list[_Candidate] = []
    for k in dict.fromkeys((key, compact(key))):
        ews = idx.exact.get(k)
        cands = _candidates(ews, a2, None)
        if cands and not all(_is_airfield(c) for c in cands):
            return _decide(raw, a2, cands, None, "name", None)
        minor = minor or cands
        outside += ews
    # 2. without the words around the name ("Airport", "International", "Port of", "sân bay"...)
    fkey, hint = fold(key)
    if fkey and fkey != key:
        if _IATA_RE.match(fkey) or _ICAO_RE.match(fkey):
            hit = _by_code(fkey.upper(), a2)
            if hit is not None and hit.place is not None:
                return replace(hit, text=raw)
        ews = [*idx.exact.get(fkey), *idx.folded.get(fkey), *idx.folded.get(compact(fkey))]
        cands = _candidates(ews, a2, hint)
        if cands:
            return _decide(raw, a2, cands, hint, "name", None)
        outside += ews
    elif fkey:
        ews = idx.folded.get(fkey)
        cands = _candidates(ews, a2, hint)
        if cands:
            return _decide(raw, a2, cands, hint, "name", None)
        outside += ews
    if minor:  # only airstrips without an IATA code carry this exact name: answer one of them
        return _decide(raw, a2, minor, None, "name", None)
    if not code_first:
        hit = _by_code(raw, a2)
        if hit is not None:
            return hit
    # 3. within the country: by its words, by a part of the text, by a near spelling (all guesses)
    suggestions: tuple[str, ...] = ()
    if a2 is not None and fkey:
        guessed = _within_country(raw, fkey, a2, hint)
        if isinstance(guessed, PlaceResolution):
            return guessed
        suggestions = guessed
    if not suggestions:
        suggestions = _curated_suggestions(raw, a2)
    if a2 is not None and confuse:
        confused = _confusable(raw, a2)
        if confused is not None:
            return confused
    where = f" in {a2}" if a2 else ""
    if outside and a2 is not None:
        others = ", ".join(_countries_of(outside)[:5])
        reason = f"no place named {raw!r}{where} (places of that name are in {others})"
    else:
        reason = f"unknown place {raw!r}{where}"
    return PlaceResolution(raw, a2, UNRESOLVED, reason=reason, suggestions=suggestions)


def lookup_many(texts: Sequence[str | None], countries: Sequence[str | None] | None = None) -> list[PlaceResolution]:
    """lookup() over a column: each distinct (text, country) pair is resolved once, answers in input order."""
    ctry: Sequence[str | None] = countries if countries is not None else [None] * len(texts)
    if len(ctry) != len(texts):
        raise ValueError("texts and countries differ in length")
    memo: dict[tuple[str, str | None], PlaceResolution] = {}
    out: list[PlaceResolution] = []
    for text, c in zip(texts, ctry, strict=True):
        k = ((text or "").strip(), (c or "").strip() or None)
        res = memo.get(k)
        if res is None:
            res = memo[k] = lookup(k[0], k[1])
        out.append(res)
    return out


def lookup_frame(frame: pl.DataFrame, text: str, country: str | None = None) -> pl.DataFrame:
    """Polars: the frame with place_* columns resolved once per distinct (text, country) pair, joined back."""
    cols = [text] + ([country] if country else [])
    distinct = frame.select(cols).unique()
    texts = distinct.get_column(text).to_list()
    ctry = distinct.get_column(country).to_list() if country else None
    results = lookup_many(texts, ctry)
    table = distinct.with_columns(
        pl.Series("place_status", [r.status for r in results], dtype=pl.String),
        pl.Series("place_code", [r.place.code if r.place else None for r in results], dtype=pl.String),
        pl.Series("place_locode", [(r.place.locode or None) if r.place else None for r in results], dtype=pl.String),
        pl.Series("place_name_resolved", [r.place.name if r.place else None for r in results], dtype=pl.String),
        pl.Series("place_type_resolved", [r.place.place_type if r.place else None for r in results], dtype=pl.String),
        pl.Series("place_latitude", [r.place.latitude if r.place else None for r in results], dtype=pl.Float64),
        pl.Series("place_longitude", [r.place.longitude if r.place else None for r in results], dtype=pl.Float64),
        pl.Series("place_reason", [r.reason for r in results], dtype=pl.String),
    )
    return frame.join(table, on=cols, how="left", maintain_order="left", nulls_equal=True)


def resolve(text: str, country: str | None = None) -> Place:
    """A place from a UN/LOCODE, an IATA/ICAO code or a name (exact or guessed; lookup() says which).

    Raises ReferenceLookupError (with suggestions) when nothing resolves, or when `country` is not a country.
    """
    if country and country.strip():
        from dragonnet.reference import countries

        countries.resolve(country)  # a wrong country is an error here, as it always was
    res = lookup(text, country)
    if res.place is None:
        raise ReferenceLookupError(res.reason or f"unknown place {text.strip()!r}", suggestions=list(res.suggestions))
    return res.place


def suggest(text: str, country: str | None = None, *, limit: int = 10) -> list[Place]:
    """Places whose name starts with the text (curated first), for type-ahead fields."""
    key = norm(text or "")
    if not key:
        return []
    idx = _names()
    a2 = country.strip().upper() if country else None
    out: list[Place] = []
    seen: set[str] = set()
    for p in _curated().places:
        fits = (a2 is None or p.country == a2) and any(norm(x).startswith(key) for x in (p.name, *p.aliases))
        if fits and str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    if len(out) < limit:
        keys: Iterable[tuple[str, list[int]]]
        if a2:
            keys = ((k, [ew]) for k, ew in zip(*_country_pool(a2), strict=True))
        else:
            keys = ((k, idx.exact.get(k)) for k in idx.exact.all_keys())
        for k, ews in keys:
            if not k.startswith(key):
                continue
            for cand in _candidates(ews, a2, None):
                if str(cand.place) not in seen:
                    seen.add(str(cand.place))
                    out.append(cand.place)
            if len(out) >= limit:
                break
    return out[:limit]


# --------------------------------------------------------------------------------------------------- metadata


def record_count() -> int:
    """Places known: UN/LOCODE locations, plus curated crossings without a code."""
    return _table().n_codes + sum(1 for p in _curated().places if not p.locode)


def counts() -> dict[str, int]:
    t = _table()
    frame = t.codes.frame
    return {
        "unlocode_locations": t.n_codes,
        "with_coordinates": int(frame.get_column("latitude").is_not_null().sum()),
        "airports": t.n_airports,
        "airports_linked_to_unlocode": sum(1 for a in t.airports if a.locode),
        "border_crossings": int((frame.get_column("function").str.slice(7, 1) == "B").sum()),
        "postal_exchange_offices": int((frame.get_column("function").str.slice(4, 1) == "5").sum()),
        "curated": len(_curated().places),
    }


def version() -> str:
    """The versions of the place data in use, e.g. "UN/LOCODE 2018-1, airportsdata 20250909, curated 2"."""
    try:
        ap = metadata.version("airportsdata")
    except metadata.PackageNotFoundError:  # pragma: no cover
        ap = "?"
    return f"{unlocode.load().version}, airportsdata {ap}, dragonnet curated places {TABLE_VERSION}"


def cache_clear() -> None:
    """Forget the loaded data (after changing DRAGONNET_UNLOCODE_FILE)."""
    unlocode.cache_clear()
    _table.cache_clear()
    _names.cache_clear()
    _country_pool.cache_clear()


def describe(res: PlaceResolution) -> dict[str, Any]:
    """A JSON-ready view of a resolution (CLI --json, API, web)."""
    p = res.place
    return {
        "text": res.text,
        "country": res.country,
        "status": res.status,
        "code": p.code if p else None,
        "locode": (p.locode or None) if p else None,
        "iata": p.iata if p else None,
        "icao": p.icao if p else None,
        "name": p.name if p else None,
        "place_country": p.country if p else None,
        "place_type": p.place_type if p else None,
        "latitude": p.latitude if p else None,
        "longitude": p.longitude if p else None,
        "matched_by": res.matched_by,
        "matched_text": res.matched_text,
        "reason": res.reason,
        "candidates": [str(c) for c in res.candidates],
        "suggestions": list(res.suggestions),
    }
