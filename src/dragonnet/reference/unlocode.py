"""The UN/LOCODE code list: reading UNECE's CSV, compacting it, and loading the compacted table.

UNECE publishes the list as CSV without a header, in the columns
`Change, Country, Location, Name, NameWoDiacritics, Subdivision, Function, Status, Date, IATA, Coordinates,
Remarks` (Function: 8 characters, 1 port, 2 rail, 3 road, 4 airport, 5 postal exchange office, 6 multimodal,
7 fixed transport, B border crossing; Coordinates like `1305N 10053E`). `scripts/build_places.py` compacts it
into `data/unlocode.csv.gz`: one row per code (names a code is listed under twice become aliases; the list's
"=" reference rows, e.g. "Vienna = Wien", become aliases too), coordinates in decimal degrees, a one-line
header stating the edition.

Replaceable: DRAGONNET_UNLOCODE_FILE names a newer edition in the same columns (UNECE's CSV, plain, gzip or
bzip2, UTF-8 or Latin-1; several files, such as UNECE's CodeListPart1..3, separated by the path separator) or
a file compacted by the build script. The version shown is the compacted header's, else
DRAGONNET_UNLOCODE_VERSION, else the edition in the file name ("2024-1").
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import shipped
from dragonnet.reference.loaded import loaded_once

ENV_FILE = "DRAGONNET_UNLOCODE_FILE"
ENV_VERSION = "DRAGONNET_UNLOCODE_VERSION"
COMPACT_MAGIC = "#dragonnet-unlocode"
ATTRIBUTION = "UN/LOCODE (UNECE), via OpenTravelData (CC-BY 4.0)"
RAW_COLUMNS = (
    "change",
    "country",
    "location",
    "name",
    "name_ascii",
    "subdivision",
    "function",
    "status",
    "date",
    "iata",
    "coordinates",
    "remarks",
)
COMPACT_FIELDS = (
    "locode",
    "country",
    "name",
    "name_ascii",
    "subdivision",
    "function",
    "status",
    "iata",
    "latitude",
    "longitude",
    "aliases",
    "replaced_by",
)
# Positions of the Function string -> the function's name.
FUNCTIONS: dict[int, str] = {
    0: "port",
    1: "rail",
    2: "road",
    3: "airport",
    4: "postal",
    5: "multimodal",
    6: "fixed_transport",
    7: "border",
}
_COORD = re.compile(r"^\s*(\d{2})(\d{2})([NS])\s+(\d{3})(\d{2})([EW])\s*$")
_REPLACED = re.compile(r"\bUSE\s+([A-Z]{2})\s?([A-Z2-9]{3})\b")
_EDITION = re.compile(r"(\d{4}-\d)")


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """ "1305N 10053E" -> (13.0833, 100.8833); None when empty or malformed."""
    m = _COORD.match(text or "")
    if not m:
        return None
    lat = int(m.group(1)) + int(m.group(2)) / 60
    lon = int(m.group(4)) + int(m.group(5)) / 60
    if m.group(3) == "S":
        lat = -lat
    if m.group(6) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 4), round(lon, 4)


def functions_of(code: str) -> tuple[str, ...]:
    """ "1-3-5--B" -> ("port", "road", "postal", "border")."""
    out = []
    for i, name in FUNCTIONS.items():
        if i < len(code) and code[i] not in "-0 ":
            out.append(name)
    return tuple(out)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # UNECE's own downloads are ISO 8859-1


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:3] == b"BZh":
        return bz2.decompress(raw)
    return raw


@dataclass
class _Location:
    country: str
    location: str
    names: list[str]
    name_ascii: str
    subdivision: str
    function: str
    status: str
    iata: str
    coords: tuple[float, float] | None
    replaced_by: str


def compact_rows(raw_rows: Iterable[list[str]]) -> Iterator[dict[str, str]]:
    """UNECE rows -> one compacted row per code, in the list's order.

    A code listed twice (bilingual names: "Brussel (Bruxelles)" and "Bruxelles (Brussel)") keeps its first row;
    the other names become aliases. Reference rows ("Vienna = Wien") add the left name as an alias of every
    location of that country named like the right one. Rows marked X (to be removed) are kept with
    `replaced_by` when their remark says "USE XX YYY", so an old code still answers its successor.
    """
    locations: dict[str, _Location] = {}
    references: list[tuple[str, str, str]] = []  # (country, alias, target name)
    for row in raw_rows:
        if len(row) < 11:
            continue
        row = [c.strip() for c in row] + [""] * (12 - len(row))
        change, country, location, name, name_ascii = row[0], row[1].upper(), row[2].upper(), row[3], row[4]
        if not country or not name:
            continue
        if not location:
            if change == "=" and "=" in name:
                alias, _, target = (p.strip() for p in name.partition("="))
                if alias and target:
                    references.append((country, alias, target))
            continue  # a country heading row (".VIET NAM") or a malformed row
        code = country + location
        m = _REPLACED.search(row[11]) if change.upper() == "X" else None
        existing = locations.get(code)
        if existing is not None:
            if name not in existing.names:
                existing.names.append(name)
            continue
        locations[code] = _Location(
            country=country,
            location=location,
            names=[name],
            name_ascii=name_ascii if name_ascii != name else "",
            subdivision=row[5],
            function=row[6],
            status=row[7],
            iata=row[9] if row[9] and row[9] != location else "",
            coords=parse_coordinates(row[10]),
            replaced_by=(m.group(1) + m.group(2)) if m else "",
        )
    by_name: dict[tuple[str, str], list[_Location]] = {}
    for loc in locations.values():
        by_name.setdefault((loc.country, loc.names[0].casefold()), []).append(loc)
        if loc.name_ascii:
            by_name.setdefault((loc.country, loc.name_ascii.casefold()), []).append(loc)
    for country, alias, target in references:
        for loc in by_name.get((country, target.casefold()), []):
            if alias not in loc.names:
                loc.names.append(alias)
    for code, loc in locations.items():
        yield {
            "locode": code,
            "country": loc.country,
            "name": loc.names[0],
            "name_ascii": loc.name_ascii,
            "subdivision": loc.subdivision,
            "function": loc.function,
            "status": loc.status,
            "iata": loc.iata,
            "latitude": f"{loc.coords[0]:.4f}" if loc.coords else "",
            "longitude": f"{loc.coords[1]:.4f}" if loc.coords else "",
            "aliases": "|".join(loc.names[1:]),
            "replaced_by": loc.replaced_by,
        }


def read_raw(paths: Iterable[Path]) -> list[dict[str, str]]:
    """Compacted rows from one or more UNECE CSV files (the parts of one edition, in order)."""
    raw_rows: list[list[str]] = []
    for path in paths:
        reader = csv.reader(io.StringIO(_decode(_read_bytes(path)), newline=""))
        for row in reader:
            if row and row[0].strip().lower() == "change" and len(row) > 2 and row[1].strip().lower() == "country":
                continue  # a header some mirrors add
            raw_rows.append(row)
    rows = list(compact_rows(raw_rows))
    if not rows:
        raise ReferenceLookupError(
            f"no UN/LOCODE location in {', '.join(str(p) for p in paths)} (expected UNECE's 12 columns: "
            + ", ".join(RAW_COLUMNS)
            + ")"
        )
    return rows


def write_compact(rows: Iterable[dict[str, str]], path: Path, *, version: str, source: str) -> int:
    """Write compacted rows as gzipped CSV with a one-line header; answers the number of rows written."""
    return shipped.write_compact(rows, path, magic=COMPACT_MAGIC, fields=COMPACT_FIELDS, version=version, source=source)


# --------------------------------------------------------------------------------------------------- loading


def data_files() -> list[Path]:
    """The code list in use: DRAGONNET_UNLOCODE_FILE (one or more paths) if set, else the shipped file."""
    env = os.environ.get(ENV_FILE)
    if not env:
        return [shipped.package_file("unlocode.csv.gz")]
    paths = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    for path in paths:
        if not path.is_file():
            raise ReferenceLookupError(f"{ENV_FILE} points to a missing file: {path}")
    return paths


@dataclass(frozen=True)
class CodeList:
    version: str
    source: str
    frame: pl.DataFrame  # COMPACT_FIELDS; latitude/longitude as Float64


_SCHEMA = dict.fromkeys(COMPACT_FIELDS, pl.String)


def _frame(rows: list[dict[str, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=_SCHEMA)
    return _typed(frame)


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        [pl.col(c).fill_null("") for c in COMPACT_FIELDS if c not in ("latitude", "longitude")]
        + [pl.col("latitude").cast(pl.Float64, strict=False), pl.col("longitude").cast(pl.Float64, strict=False)]
    )


def _compact_header(path: Path) -> dict[str, str] | None:
    with (
        gzip.open(path, "rt", encoding="utf-8")
        if _read_head(path)[:2] == b"\x1f\x8b"
        else path.open(encoding="utf-8") as fh
    ):
        first = fh.readline()
    return shipped.header_fields(first, COMPACT_MAGIC)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4)


def _version_for(paths: list[Path], stated: str | None) -> str:
    if os.environ.get(ENV_VERSION):
        return os.environ[ENV_VERSION]
    if stated:
        return stated
    m = _EDITION.search(paths[0].name)
    return f"UN/LOCODE {m.group(1)}" if m else f"UN/LOCODE ({paths[0].name})"


@loaded_once
def load() -> CodeList:
    """The code list in use (cached per process; cache_clear() after changing DRAGONNET_UNLOCODE_FILE)."""
    paths = data_files()
    meta = _compact_header(paths[0]) if len(paths) == 1 else None
    if meta is not None:
        frame = pl.read_csv(_read_bytes(paths[0]), skip_rows=1, schema=_SCHEMA, has_header=True)
        frame = _typed(frame)
        return CodeList(_version_for(paths, meta.get("version")), meta.get("source", str(paths[0])), frame)
    frame = _frame(read_raw(paths))
    return CodeList(_version_for(paths, None), os.pathsep.join(str(p) for p in paths), frame)


@cache
def subdivisions() -> dict[tuple[str, str], str]:
    """ISO 3166-2 subdivision names as UNECE lists them: {("VN", "SG"): "Hồ Chí Minh", ...}."""
    path = shipped.package_file("unlocode-subdivisions.csv.gz")
    out: dict[tuple[str, str], str] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[(row["country"], row["code"])] = row["name"]
    return out


def cache_clear() -> None:
    load.cache_clear()
