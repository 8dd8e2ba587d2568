"""CITES-listed taxa from the Species+ "Index of CITES Species", with synonyms, common names and CITES listing.

Data: data/cites-taxa.csv.gz, compacted by scripts/build_cites.py from the Species+ export of 2017-04-21
(UNEP (2017). The Species+ Website. Nairobi, Kenya. Compiled by UNEP-WCMC, Cambridge, UK.), plus curated
Chinese, Vietnamese and trade names in data/cites-common-names-regional.csv.

Replaceable: set DRAGONNET_CITES_FILE to a newer Species+ export (the raw CSV, gzipped or not, same columns)
or to a file compacted by scripts/build_cites.py. The version shown is then taken from the compacted file's
header, from DRAGONNET_CITES_VERSION, or from a date in the file name.

Resolution order (first hit wins): accepted name, synonym (answers the accepted taxon), curated regional or
trade name, Species+ common name (en/es/fr), then the same after taking a specimen word off ("pangolin
scales" -> "pangolin" + specimen_hint "scales"), then a fuzzy match over a bounded candidate set.

Choices for ambiguous trade names (see data/cites-common-names-regional.csv for each row's note):
- "pangolin", "tê tê", "穿山甲" -> the genus Manis (all eight pangolins, Appendix I since CoP17; the 2017
  Species+ file has no Manidae row and treats Phataginus and Smutsia as synonyms of Manis).
- "ivory", "ngà voi", "象牙" -> Loxodonta africana (most ivory seized in the region is African elephant
  ivory; Elephas maximus is given as an alternative). The 2017 file has no Elephantidae row.
- "rhino horn", "sừng tê giác", "犀牛角" -> the family Rhinocerotidae.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference._text import compact, has_cjk, norm

ENV_FILE = "DRAGONNET_CITES_FILE"
ENV_VERSION = "DRAGONNET_CITES_VERSION"
DEFAULT_VERSION = "Species+ 2017-04-21"
ATTRIBUTION = "UNEP (2017). The Species+ Website. Nairobi, Kenya. Compiled by UNEP-WCMC, Cambridge, UK."
COMPACT_MAGIC = "#dragonnet-cites"
COMPACT_FIELDS = (
    "taxon_id",
    "status",  # A = accepted (a Species+ taxon record), S = synonym
    "name",
    "rank",
    "accepted_name",  # synonyms only
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "author",
    "listing",
    "annotation",
    "cites_accepted",  # Species+ "CitesAccepted": 1 when the name follows the CITES standard nomenclature
    "en",
    "es",
    "fr",
)
FUZZY_ACCEPT = 88.0  # a fuzzy match at or above this score is answered; below, it only becomes a suggestion
MAX_ANNOTATION = 200

# Specimen words (normalised) -> the exchange format's specimen_type.
SPECIMEN_WORDS: dict[str, str] = {
    **dict.fromkeys(["scale", "scales", "pangolin scale", "vay", "鳞片", "甲片", "鳞甲", "穿山甲片"], "scales"),
    **dict.fromkeys(["ivory", "tusk", "tusks", "nga", "象牙", "牙"], "ivory"),
    **dict.fromkeys(["horn", "horns", "sung", "角"], "horn"),
    **dict.fromkeys(["skin", "skins", "hide", "hides", "pelt", "pelts", "leather", "da", "皮"], "skin"),
    **dict.fromkeys(["meat", "bushmeat", "thit", "肉"], "meat"),
    **dict.fromkeys(["bone", "bones", "skeleton", "skull", "skulls", "xuong", "骨"], "bone"),
    **dict.fromkeys(
        ["wood", "timber", "log", "logs", "sawn", "sawnwood", "plank", "planks", "lumber", "go", "木", "木材", "原木"],
        "wood",
    ),
    **dict.fromkeys(["live", "living", "alive", "song", "活"], "live"),
    **dict.fromkeys(["dead", "carcass", "carcasses", "frozen", "body", "bodies"], "dead"),
    **dict.fromkeys(
        ["powder", "oil", "extract", "carving", "carvings", "product", "products", "medicine", "bot", "粉", "制品"],
        "derivative",
    ),
}
_FILLER = {
    "spp",
    "sp",
    "ssp",
    "species",
    "of",
    "the",
    "and",
    "raw",
    "worked",
    "unworked",
    "piece",
    "pieces",
    "pcs",
    "kg",
    "parts",
    "part",
    "cua",
    "con",
}
_CJK_SPECIMEN_SUFFIXES = sorted((w for w in SPECIMEN_WORDS if has_cjk(w)), key=len, reverse=True)


@dataclass(frozen=True)
class Taxon:
    taxon_id: str
    name: str
    rank: str  # SPECIES, SUBSPECIES, VARIETY, GENUS, SUBFAMILY, FAMILY, ORDER
    listing: str | None  # Species+ CurrentListing: "I", "II", "III", "I/II", "II/NC"...
    kingdom: str
    taxon_class: str | None
    family: str | None
    common_names: dict[str, list[str]] = field(default_factory=dict, compare=False)  # lang -> names
    order: str | None = field(default=None, compare=False)
    genus: str | None = field(default=None, compare=False)
    author: str | None = field(default=None, compare=False)
    annotation: str | None = field(default=None, compare=False)
    synonyms: tuple[str, ...] = field(default=(), compare=False)
    cites_standard_name: bool = field(default=True, compare=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.listing or 'not listed'})"


@dataclass(frozen=True)
class TaxonMatch:
    taxon: Taxon
    matched_by: str  # "accepted" | "synonym" | "common_name" | "fuzzy"
    matched_text: str  # the name in the reference data that matched
    specimen_hint: str | None  # "scales" when the input was "pangolin scales"
    score: float  # 100 for exact matches
    alternatives: tuple[Taxon, ...] = ()  # other taxa the same words may mean (e.g. Elephas maximus for ivory)
    note: str | None = None  # why an ambiguous trade name points where it does


@dataclass(frozen=True)
class _Curated:
    name: str
    lang: str
    taxon: str
    specimen_hint: str | None
    note: str
    source: str


@dataclass
class _Data:
    version: str
    source: str
    taxa: list[Taxon]
    by_id: dict[str, Taxon]
    accepted: dict[str, Taxon]  # norm key -> taxon
    synonyms: dict[str, tuple[str, Taxon]]  # norm key -> (synonym as written, accepted taxon)
    common: dict[str, tuple[str, list[Taxon]]]  # norm key -> (name as written, taxa)
    curated: dict[str, tuple[_Curated, Taxon, tuple[Taxon, ...]]]
    synonym_count: int
    curated_count: int
    synonym_rows: int = 0


# --------------------------------------------------------------------------------------------------- parsing

_SYN_START = re.compile(r"^[A-Z][a-z]+(?:\s+\([A-Z][a-z]+\))?\s+[a-z][a-z\-]+")
_PARTICLES = {
    "van",
    "von",
    "de",
    "da",
    "du",
    "del",
    "della",
    "der",
    "den",
    "la",
    "le",
    "ex",
    "et",
    "in",
    "d",
    "des",
    "dos",
    "zu",
    "y",
    "e",
    "f",
    "hort",
    "auct",
    "auctt",
    "non",
    "sensu",
    "nom",
    "emend",
}
_INFRA = {"var.", "subsp.", "ssp.", "f.", "forma", "var", "subsp"}


def split_synonyms(text: str) -> list[str]:
    """Names from Species+ "SynonymsWithAuthors" ("Astrea echinata Dana, 1846, Acanthastrea ... (Dana, 1846)").

    Authors hold commas too, so a comma-separated part starts a new synonym only when it looks like a
    binomial (a capitalised genus, an optional subgenus in brackets, a lower-case epithet).
    """
    parts = [p.strip() for p in text.replace("\n", ", ").split(",")]
    entries: list[str] = []
    for part in parts:
        if not part:
            continue
        if _SYN_START.match(part) or not entries:
            entries.append(part)
        else:
            entries[-1] += ", " + part
    names: list[str] = []
    for entry in entries:
        words = entry.split()
        if not words or not words[0][:1].isupper():
            continue
        name = [words[0]]
        i = 1
        if i < len(words) and words[i].startswith("(") and words[i].endswith(")") and words[i][1:2].isupper():
            i += 1  # a subgenus: not part of the name we index
        while i < len(words) and len(name) < 4:
            w = words[i]
            if w in _INFRA and i + 1 < len(words) and words[i + 1].islower():
                name += [w if w.endswith(".") else w + ".", words[i + 1]]
                i += 2
                continue
            if re.fullmatch(r"[a-z][a-z\-]+", w) and w not in _PARTICLES:
                name.append(w)
                i += 1
                continue
            break
        if len(name) >= 2:
            names.append(" ".join(name))
    return list(dict.fromkeys(names))


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def _short_annotation(row: dict[str, str]) -> str:
    parts = []
    for line in row.get("AnnotationEnglish", "").split("\n"):
        head, _, body = line.partition(":")
        body = _clean(re.sub(r"<[^>]+>", " ", body))
        if body:
            parts.append(f"{_clean(head)}: {body}")
    symbol = _clean(row.get("#AnnotationSymbol", ""))
    text = "; ".join(parts)
    if symbol:
        text = f"{symbol} {text}".strip()
    return text if len(text) <= MAX_ANNOTATION else symbol


def _names(value: str) -> list[str]:
    return [n for n in (_clean(x) for x in value.split(",")) if n]


def compact_rows(raw_rows: Iterable[dict[str, str]]) -> Iterator[dict[str, str]]:
    """Species+ export rows -> compacted rows (accepted taxa, then one row per synonym)."""
    synonym_rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for row in raw_rows:
        name = _clean(row["FullName"])
        seen.add(name)
        yield {
            "taxon_id": row["TaxonId"].strip(),
            "status": "A",
            "name": name,
            "rank": row["RankName"].strip(),
            "accepted_name": "",
            "kingdom": row["Kingdom"].strip(),
            "phylum": row.get("Phylum", "").strip(),
            "class": row["Class"].strip(),
            "order": row["Order"].strip(),
            "family": row["Family"].strip(),
            "genus": row["Genus"].strip(),
            "author": _clean(row.get("AuthorYear", "")),
            "listing": row["CurrentListing"].strip(),
            "annotation": _short_annotation(row),
            "cites_accepted": "1" if row.get("CitesAccepted", "").strip().lower() == "true" else "0",
            "en": "|".join(_names(row.get("EnglishNames", ""))),
            "es": "|".join(_names(row.get("SpanishNames", ""))),
            "fr": "|".join(_names(row.get("FrenchNames", ""))),
        }
        for syn in split_synonyms(row.get("SynonymsWithAuthors", "")):
            if syn != name:
                words = syn.split()
                rank = "SPECIES" if len(words) == 2 else ("VARIETY" if "var." in words else "SUBSPECIES")
                synonym_rows.append({"status": "S", "name": syn, "rank": rank, "accepted_name": name})
    for syn_row in synonym_rows:
        if syn_row["name"] not in seen:  # a name that is also an accepted taxon stays accepted
            yield {k: syn_row.get(k, "") for k in COMPACT_FIELDS}


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", newline="")


def read_rows(path: Path) -> tuple[list[dict[str, str]], str | None]:
    """Compacted rows from either file format, and the version its header states (compacted files only)."""
    with _open_text(path) as fh:
        first = fh.readline()
        if first.startswith(COMPACT_MAGIC):
            meta = dict(part.split("=", 1) for part in first.strip().split(";")[1:] if "=" in part)
            return list(csv.DictReader(fh)), meta.get("version")
        fh.seek(0)
        reader = csv.DictReader(fh)
        missing = {"TaxonId", "FullName", "RankName", "CurrentListing"} - set(reader.fieldnames or [])
        if missing:
            raise ReferenceLookupError(f"{path} is not a Species+ export (missing columns: {sorted(missing)})")
        return list(compact_rows(reader)), None


def write_compact(rows: Iterable[dict[str, str]], path: Path, *, version: str, source: str) -> int:
    """Write compacted rows as gzipped CSV with a one-line header; answers the number of rows written."""
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as text,
    ):
        text.write(f"{COMPACT_MAGIC};format=1;version={version};source={source}\n")
        writer = csv.DictWriter(text, fieldnames=list(COMPACT_FIELDS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    os.replace(tmp, path)
    return n


# --------------------------------------------------------------------------------------------------- loading


def _package_file(name: str) -> Path:
    return Path(str(resources.files("dragonnet.reference").joinpath("data").joinpath(name)))


def data_file() -> Path:
    """The taxa file in use: DRAGONNET_CITES_FILE if set, else the shipped compacted file."""
    env = os.environ.get(ENV_FILE)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ReferenceLookupError(f"{ENV_FILE} points to a missing file: {path}")
        return path
    return _package_file("cites-taxa.csv.gz")


def _version_for(path: Path, stated: str | None) -> str:
    if os.environ.get(ENV_VERSION):
        return os.environ[ENV_VERSION]
    if stated:
        return stated
    m = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    return f"Species+ {m.group(1)}" if m else f"Species+ ({path.name})"


def _split(value: str) -> list[str]:
    return [v for v in value.split("|") if v] if value else []


@cache
def _data() -> _Data:
    path = data_file()
    rows, stated = read_rows(path)
    taxa: list[Taxon] = []
    by_id: dict[str, Taxon] = {}
    accepted: dict[str, Taxon] = {}
    syn_rows: list[dict[str, str]] = []
    synonyms_of: dict[str, list[str]] = {}
    for row in rows:
        if row["status"] == "S":
            syn_rows.append(row)
            synonyms_of.setdefault(row["accepted_name"], []).append(row["name"])
    for row in rows:
        if row["status"] != "A":
            continue
        common = {lang: _split(row[lang]) for lang in ("en", "es", "fr") if row[lang]}
        taxon = Taxon(
            taxon_id=row["taxon_id"],
            name=row["name"],
            rank=row["rank"],
            listing=row["listing"] or None,
            kingdom=row["kingdom"],
            taxon_class=row["class"] or None,
            family=row["family"] or None,
            common_names=common,
            order=row["order"] or None,
            genus=row["genus"] or None,
            author=row["author"] or None,
            annotation=row["annotation"] or None,
            synonyms=tuple(synonyms_of.get(row["name"], ())),
            cites_standard_name=row["cites_accepted"] == "1",
        )
        taxa.append(taxon)
        by_id[taxon.taxon_id] = taxon
        accepted.setdefault(norm(taxon.name), taxon)
    synonyms: dict[str, tuple[str, Taxon]] = {}
    for row in syn_rows:
        target = accepted.get(norm(row["accepted_name"]))
        key = norm(row["name"])
        if target is not None and key not in accepted:
            synonyms.setdefault(key, (row["name"], target))
    common_idx: dict[str, tuple[str, list[Taxon]]] = {}
    for taxon in taxa:
        for names in taxon.common_names.values():
            for cname in names:
                key = norm(cname)
                entry = common_idx.setdefault(key, (cname, []))
                if taxon not in entry[1]:
                    entry[1].append(taxon)
    data = _Data(
        version=_version_for(path, stated),
        source=str(path),
        taxa=taxa,
        by_id=by_id,
        accepted=accepted,
        synonyms=synonyms,
        common=common_idx,
        curated={},
        synonym_count=len(synonyms),
        curated_count=0,
        synonym_rows=len(syn_rows),
    )
    _load_curated(data)
    return data


def _lookup_scientific(data: _Data, name: str) -> Taxon | None:
    key = norm(name)
    taxon = data.accepted.get(key)
    if taxon is None and key in data.synonyms:
        taxon = data.synonyms[key][1]
    return taxon


def curated_rows() -> list[_Curated]:
    """The curated regional/trade names shipped in data/cites-common-names-regional.csv."""
    with _package_file("cites-common-names-regional.csv").open(encoding="utf-8", newline="") as fh:
        return [
            _Curated(
                name=r["name"].strip(),
                lang=r["lang"].strip(),
                taxon=r["taxon"].strip(),
                specimen_hint=r["specimen_hint"].strip() or None,
                note=r["note"].strip(),
                source=r["source"].strip(),
            )
            for r in csv.DictReader(fh)
            if r["name"].strip() and not r["name"].startswith("#")
        ]


def _load_curated(data: _Data) -> None:
    """Index curated names; a name listed on several rows points to its first row's taxon, others are alternatives."""
    grouped: dict[str, list[tuple[_Curated, Taxon]]] = {}
    for row in curated_rows():
        targets = [t for t in (_lookup_scientific(data, x) for x in row.taxon.split("|")) if t is not None]
        if not targets:  # a replaced data file without this taxon: skip the row, never fail
            continue
        for t in targets:
            grouped.setdefault(norm(row.name), []).append((row, t))
    for key, entries in grouped.items():
        first_row, first_taxon = entries[0]
        alternatives = tuple(dict.fromkeys(t for _, t in entries[1:] if t != first_taxon))
        data.curated[key] = (first_row, first_taxon, alternatives)
        data.curated.setdefault(compact(key), (first_row, first_taxon, alternatives))
    data.curated_count = len(grouped)


# --------------------------------------------------------------------------------------------------- lookups


def version() -> str:
    """The reference version in use, e.g. "Species+ 2017-04-21"."""
    return _data().version


def all_taxa() -> list[Taxon]:
    return list(_data().taxa)


def record_count() -> int:
    """Rows of the taxa file: Species+ taxon records plus synonym rows (what scripts/build_cites.py reports)."""
    d = _data()
    return len(d.taxa) + d.synonym_rows


def counts() -> dict[str, int]:
    """{"taxa": ..., "synonyms": rows in the file, "synonyms_indexed": distinct synonym keys, "curated_names": ...}."""
    d = _data()
    return {
        "taxa": len(d.taxa),
        "synonyms": d.synonym_rows,
        "synonyms_indexed": d.synonym_count,
        "curated_names": d.curated_count,
    }


def cache_clear() -> None:
    """Forget the loaded data (after changing DRAGONNET_CITES_FILE)."""
    _data.cache_clear()
    _fuzzy_pool.cache_clear()


def get(name: str) -> Taxon | None:
    """The taxon with this accepted name, synonym (answers the accepted taxon) or Species+ taxon id; else None."""
    d = _data()
    text = name.strip()
    if text.isdigit():
        return d.by_id.get(text)
    return _lookup_scientific(d, text)


def appendix(taxon: Taxon | str) -> str | None:
    """The CITES Appendices the taxon is listed in ("I", "II", "III", "I/II"), "NC" parts removed; None if none."""
    t = get(taxon) if isinstance(taxon, str) else taxon
    if t is None or not t.listing:
        return None
    parts = [p for p in t.listing.split("/") if p in {"I", "II", "III"}]
    return "/".join(parts) or None


def _pick(taxa: list[Taxon], data: _Data) -> tuple[Taxon, tuple[Taxon, ...]]:
    """One taxon for a common name several taxa share: their common genus when they all belong to one."""
    if len(taxa) == 1:
        return taxa[0], ()
    genera = {t.genus for t in taxa}
    if len(genera) == 1:
        genus = next(iter(genera))
        g = data.accepted.get(norm(genus)) if genus else None
        if g is not None:
            return g, tuple(taxa)
    return taxa[0], tuple(taxa[1:])


def _exact(data: _Data, key: str, hint: str | None) -> TaxonMatch | None:
    if not key:
        return None
    for k in dict.fromkeys((key, compact(key))):
        taxon = data.accepted.get(k)
        if taxon is not None and k == key:
            return TaxonMatch(taxon, "accepted", taxon.name, hint, 100.0)
        if k == key and k in data.synonyms:
            written, target = data.synonyms[k]
            return TaxonMatch(target, "synonym", written, hint, 100.0)
        if k in data.curated:
            row, target, alts = data.curated[k]
            return TaxonMatch(target, "common_name", row.name, hint or row.specimen_hint, 100.0, alts, row.note or None)
        if k == key and k in data.common:
            written, taxa = data.common[k]
            target, alts = _pick(taxa, data)
            return TaxonMatch(target, "common_name", written, hint, 100.0, alts)
    return None


def _strip_specimen(key: str) -> list[tuple[str, str | None]]:
    """Readings of the input without its specimen word(s): [(remaining key, hint)], most specific first."""
    readings: list[tuple[str, str | None]] = []
    words = key.split()
    hint: str | None = None
    kept: list[str] = []
    for i, w in enumerate(words):
        two = " ".join(words[i : i + 2])
        if w in SPECIMEN_WORDS and (len(words) > 1):
            hint = hint or SPECIMEN_WORDS[w]
            continue
        if two in SPECIMEN_WORDS and len(words) > 2:
            hint = hint or SPECIMEN_WORDS[two]
            continue
        if w in _FILLER:
            continue
        kept.append(w)
    if kept and kept != words:
        readings.append((" ".join(kept), hint))
    # plural -> singular on the last word ("pangolins", "rhinos", "tigers")
    base = kept or words
    if base and len(base[-1]) > 3 and base[-1].endswith("s"):
        readings.append((" ".join([*base[:-1], base[-1][:-1]]), hint))
    if has_cjk(key) and " " not in key:
        for suffix in _CJK_SPECIMEN_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                readings.append((key[: -len(suffix)], SPECIMEN_WORDS[suffix]))
            if key.startswith(suffix) and len(key) > len(suffix):
                readings.append((key[len(suffix) :], SPECIMEN_WORDS[suffix]))
    return readings


@cache
def _fuzzy_pool() -> dict[str, list[tuple[str, str]]]:
    """Candidates for fuzzy matching, bucketed by first character: {"m": [(key, kind), ...]}."""
    d = _data()
    pool: dict[str, list[tuple[str, str]]] = {}
    for key in d.accepted:
        pool.setdefault(key[:1], []).append((key, "accepted"))
    for key in d.synonyms:
        pool.setdefault(key[:1], []).append((key, "synonym"))
    for key in d.curated:
        pool.setdefault(key[:1], []).append((key, "curated"))
    for key in d.common:
        pool.setdefault(key[:1], []).append((key, "common"))
    return pool


def _fuzzy(data: _Data, key: str, limit: int = 5) -> list[tuple[str, str, float]]:
    """Best (key, kind, score) candidates. The pool is bounded: keys sharing the first letter, then the genus."""
    if not key:
        return []
    candidates = _fuzzy_pool().get(key[:1], [])
    keys = [k for k, _ in candidates]
    found = process.extract(key, keys, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60)
    # WRatio favours partial matches of short keys; rank by plain ratio among the good ones.
    ranked = sorted(
        ((keys[i], candidates[i][1], min(s, fuzz.ratio(key, keys[i]) + 5)) for _, s, i in found),
        key=lambda x: -x[2],
    )
    return ranked[:limit]


def _taxon_for(data: _Data, key: str, kind: str) -> tuple[Taxon, str, tuple[Taxon, ...], str | None]:
    if kind == "accepted":
        t = data.accepted[key]
        return t, t.name, (), None
    if kind == "synonym":
        written, t = data.synonyms[key]
        return t, written, (), None
    if kind == "curated":
        row, t, alts = data.curated[key]
        return t, row.name, alts, row.note or None
    written, taxa = data.common[key]
    t, alts = _pick(taxa, data)
    return t, written, alts, None


def resolve(text: str) -> TaxonMatch:
    """A CITES taxon from a scientific name, synonym, common or trade name (en/es/fr/zh/vi), typo-tolerant.

    Raises ReferenceLookupError("unknown taxon 'xyz'", suggestions=[...]) when nothing fits.
    """
    data = _data()
    raw = text.strip()
    key = norm(raw)
    if not key:
        raise ReferenceLookupError("empty taxon name")
    match = _exact(data, key, None)
    if match is not None:
        return match
    for reading, hint in _strip_specimen(key):
        match = _exact(data, reading, hint)
        if match is not None:
            return match
    hint = None
    best_key = key
    readings = _strip_specimen(key)
    if readings:
        best_key, hint = readings[0]
    scored = _fuzzy(data, best_key)
    if best_key != key:
        scored = sorted([*scored, *_fuzzy(data, key)], key=lambda x: -x[2])
    if scored and scored[0][2] >= FUZZY_ACCEPT:
        k, kind, score = scored[0]
        taxon, written, alts, note = _taxon_for(data, k, kind)
        return TaxonMatch(taxon, "fuzzy", written, hint, float(score), alts, note)
    suggestions: list[str] = []
    for k, kind, _ in scored:
        written = _taxon_for(data, k, kind)[1]
        if written not in suggestions:
            suggestions.append(written)
    raise ReferenceLookupError(f"unknown taxon {raw!r}", suggestions=suggestions[:5])


def try_resolve(text: str | None) -> TaxonMatch | None:
    if not text or not text.strip():
        return None
    try:
        return resolve(text)
    except ReferenceLookupError:
        return None
