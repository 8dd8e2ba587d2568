"""CITES-listed taxa from the Species+ "Index of CITES Species", with synonyms, common names and CITES listing.

Data: data/cites-taxa.csv.gz, compacted by scripts/build_cites.py from the Species+ export of 2017-04-21
(UNEP (2017). The Species+ Website. Nairobi, Kenya. Compiled by UNEP-WCMC, Cambridge, UK.), plus curated
Chinese, Vietnamese and trade names in data/cites-common-names-regional.csv.

Replaceable: set DRAGONNET_CITES_FILE to a newer Species+ export (the raw CSV, gzipped or not, same columns)
or to a file compacted by scripts/build_cites.py. The version shown is then taken from the compacted file's
header, from DRAGONNET_CITES_VERSION, or from a date in the file name.

Any rank resolves: the classes, orders, families and genera above the Species+ records are taxa too ("Aves",
"Serpentes", "Elephantidae"; origin "hierarchy"). Group names, vernacular names the file lacks and taxa CITES
does not list come from data/taxon-vocabulary.csv; specimen and filler words from data/taxon-words.csv.

Resolution order (first hit wins): accepted name, synonym (answers the accepted taxon), curated regional,
trade, group or vernacular name, Species+ common name (en/es/fr), then the same after taking specimen and filler
words off ("pangolin scales" -> "pangolin" + specimen_hint "scales") or the plural ("Tortoises"), then a fuzzy
match over a bounded candidate set (a guess). lookup() never raises: an unknown name is "unverified".

Choices for ambiguous trade names (see data/cites-common-names-regional.csv for each row's note):
- "pangolin", "tê tê", "穿山甲" -> the genus Manis (all eight pangolins, Appendix I since CoP17; the 2017
  Species+ file has no Manidae row and treats Phataginus and Smutsia as synonyms of Manis).
- "ivory", "ngà voi", "象牙" -> the family Elephantidae (African Loxodonta or Asian Elephas: without a forensic
  ID the species is not known; both species are given as alternatives).
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
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import shipped
from dragonnet.reference._text import compact, has_cjk, norm, norm_expr
from dragonnet.reference.loaded import loaded_once

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
LISTED, INCLUDES_LISTED, NOT_LISTED, UNVERIFIED = "listed", "includes listed taxa", "not CITES-listed", "unverified"
EXACT, GUESS, UNRESOLVED = "exact", "guess", "unresolved"
RANKS = ("KINGDOM", "PHYLUM", "CLASS", "ORDER", "FAMILY", "GENUS")
FUZZY_ACCEPT = 88.0  # a fuzzy match at or above this score is answered; below, it only becomes a suggestion
MAX_ANNOTATION = 200


@dataclass(frozen=True)
class _Words:
    specimen: dict[str, str]  # normalised word -> specimen hint
    filler: frozenset[str]
    cjk_suffixes: tuple[str, ...]  # CJK specimen words, longest first (CJK text has no spaces to split on)


@cache
def _words() -> _Words:
    """data/taxon-words.csv: specimen words (-> the specimen hint) and filler words taken off a taxon name."""
    specimen: dict[str, str] = {}
    filler: set[str] = set()
    with shipped.package_file("taxon-words.csv").open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    for row in csv.DictReader(lines):
        key = norm(row["word"])
        if not key:
            continue
        if row["kind"].strip() == "specimen":
            specimen.setdefault(key, row["specimen_type"].strip())
        else:
            filler.add(key)
    suffixes = tuple(sorted((w for w in specimen if has_cjk(w)), key=len, reverse=True))
    return _Words(specimen, frozenset(filler), suffixes)


def specimen_words() -> dict[str, str]:
    """Specimen words (normalised) -> the specimen hint they give ("scales", "ivory", "eggs"...)."""
    return dict(_words().specimen)


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
    # "species+" (a record of the Species+ index), "hierarchy" (a class, order, family or genus that only appears
    # above listed records: its listing is theirs together) or "vocabulary" (a taxon CITES does not list, named in
    # data/taxon-vocabulary.csv so common names of unlisted animals still resolve).
    origin: str = field(default="species+", compare=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.listing or 'not listed'})"

    @property
    def cites_status(self) -> str:
        """LISTED, INCLUDES_LISTED (a higher taxon with listed members) or NOT_LISTED."""
        if self.origin == "hierarchy":
            return INCLUDES_LISTED
        if self.origin == "vocabulary" or not appendix(self):
            return NOT_LISTED
        return LISTED


@dataclass(frozen=True)
class TaxonMatch:
    taxon: Taxon
    matched_by: str  # "accepted" | "synonym" | "common_name" | "fuzzy"
    matched_text: str  # the name in the reference data that matched
    specimen_hint: str | None  # "scales" when the input was "pangolin scales"
    score: float  # 100 for exact matches
    alternatives: tuple[Taxon, ...] = ()  # other taxa the same words may mean (e.g. Elephas maximus for ivory)
    note: str | None = None  # why an ambiguous trade name points where it does
    guess_reason: str | None = None  # set when the match is a guess (a near spelling, a name several taxa share)

    @property
    def status(self) -> str:
        """EXACT or GUESS: a near spelling or a common name shared by taxa of different genera is a guess."""
        return GUESS if self.matched_by == "fuzzy" or self.guess_reason else EXACT

    @property
    def cites_status(self) -> str:
        return self.taxon.cites_status


@dataclass(frozen=True)
class _Curated:
    name: str
    lang: str
    taxon: str
    specimen_hint: str | None
    note: str
    source: str
    rank: str | None = None  # set for a taxon CITES does not list (the vocabulary names it)
    parent: str | None = None  # its higher taxon in the CITES data, if any


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
    higher: list[Taxon] = field(default_factory=list)  # taxa synthesised from the hierarchy columns
    vocabulary: list[Taxon] = field(default_factory=list)  # unlisted taxa named by the vocabulary


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
        if (meta := shipped.header_fields(first, COMPACT_MAGIC)) is not None:
            return list(csv.DictReader(fh)), meta.get("version")
        fh.seek(0)
        reader = csv.DictReader(fh)
        missing = {"TaxonId", "FullName", "RankName", "CurrentListing"} - set(reader.fieldnames or [])
        if missing:
            raise ReferenceLookupError(f"{path} is not a Species+ export (missing columns: {sorted(missing)})")
        return list(compact_rows(reader)), None


def write_compact(rows: Iterable[dict[str, str]], path: Path, *, version: str, source: str) -> int:
    """Write compacted rows as gzipped CSV with a one-line header; answers the number of rows written."""
    return shipped.write_compact(rows, path, magic=COMPACT_MAGIC, fields=COMPACT_FIELDS, version=version, source=source)


# --------------------------------------------------------------------------------------------------- loading


def data_file() -> Path:
    """The taxa file in use: DRAGONNET_CITES_FILE if set, else the shipped compacted file."""
    env = os.environ.get(ENV_FILE)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ReferenceLookupError(f"{ENV_FILE} points to a missing file: {path}")
        return path
    return shipped.package_file("cites-taxa.csv.gz")


def _version_for(path: Path, stated: str | None) -> str:
    if os.environ.get(ENV_VERSION):
        return os.environ[ENV_VERSION]
    if stated:
        return stated
    m = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    return f"Species+ {m.group(1)}" if m else f"Species+ ({path.name})"


def _norm_all(texts: list[str]) -> dict[str, str]:
    """norm() of many texts at once (Polars; the same keys as norm(), see _text.norm_expr)."""
    distinct = pl.Series("t", list(dict.fromkeys(texts)), dtype=pl.String)
    keys = pl.select(norm_expr(pl.lit(distinct))).to_series().to_list()
    return dict(zip(distinct.to_list(), keys, strict=True))


def _split(value: str) -> list[str]:
    return [v for v in value.split("|") if v] if value else []


@loaded_once
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
    keys = _norm_all(
        [t.name for t in taxa]
        + [r["accepted_name"] for r in syn_rows]
        + [r["name"] for r in syn_rows]
        + [n for t in taxa for names in t.common_names.values() for n in names]
    )
    for taxon in taxa:
        accepted.setdefault(keys[taxon.name], taxon)
    synonyms: dict[str, tuple[str, Taxon]] = {}
    for row in syn_rows:
        target = accepted.get(keys[row["accepted_name"]])
        key = keys[row["name"]]
        if target is not None and key not in accepted:
            synonyms.setdefault(key, (row["name"], target))
    common_idx: dict[str, tuple[str, list[Taxon]]] = {}
    for taxon in taxa:
        for names in taxon.common_names.values():
            for cname in names:
                key = keys[cname]
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
    _add_hierarchy(data)
    _load_curated(data)
    return data


def _joined_listing(listings: Iterable[str | None]) -> str | None:
    """The appendices of a group of taxa together: ["I", "II/NC", "I/II"] -> "I/II"."""
    found = {p for listing in listings if listing for p in listing.split("/")}
    parts = [a for a in ("I", "II", "III") if a in found]
    return "/".join(parts) or None


def _add_hierarchy(data: _Data) -> None:
    """Classes, orders, families and genera named above listed records but without a record of their own
    ("Aves", "Testudines", "Elephantidae"...): they resolve too, with the listings of their members together."""
    levels = (("KINGDOM", "kingdom"), ("PHYLUM", "phylum"), ("CLASS", "taxon_class"), ("ORDER", "order"),
              ("FAMILY", "family"), ("GENUS", "genus"))  # fmt: skip
    members: dict[tuple[str, str], list[Taxon]] = {}
    for taxon in data.taxa:
        for rank, attr in levels:
            value = getattr(taxon, attr) if attr != "phylum" else None
            if attr == "phylum":
                continue
            if value:
                members.setdefault((rank, value), []).append(taxon)
    for (rank, name), group in sorted(members.items()):
        key = norm(name)
        if key in data.accepted or key in data.synonyms:
            continue
        first = group[0]
        depth = [r for r, _ in levels].index(rank)
        above = {attr: getattr(first, attr) for r, attr in levels[:depth] if attr != "phylum"}
        taxon = Taxon(
            taxon_id=f"H:{name}",
            name=name,
            rank=rank,
            listing=_joined_listing(t.listing for t in group),
            kingdom=first.kingdom,
            taxon_class=above.get("taxon_class") if rank != "CLASS" else name,
            family=name if rank == "FAMILY" else (first.family if depth > 4 else None),
            order=name if rank == "ORDER" else above.get("order"),
            genus=name if rank == "GENUS" else None,
            origin="hierarchy",
        )
        data.higher.append(taxon)
        data.by_id[taxon.taxon_id] = taxon
        data.accepted[key] = taxon


def _lookup_scientific(data: _Data, name: str) -> Taxon | None:
    key = norm(name)
    taxon = data.accepted.get(key)
    if taxon is None and key in data.synonyms:
        taxon = data.synonyms[key][1]
    return taxon


VOCABULARY_FILES = ("cites-common-names-regional.csv", "taxon-vocabulary.csv")


def curated_rows() -> list[_Curated]:
    """The curated names: regional and trade names (cites-common-names-regional.csv), then group names,
    vernacular names Species+ lacks and unlisted taxa (taxon-vocabulary.csv)."""
    out: list[_Curated] = []
    for name in VOCABULARY_FILES:
        with shipped.package_file(name).open(encoding="utf-8", newline="") as fh:
            lines = [line for line in fh if not line.startswith("#")]
        for r in csv.DictReader(lines):
            if not (r.get("name") or "").strip():
                continue
            out.append(
                _Curated(
                    name=r["name"].strip(),
                    lang=r["lang"].strip(),
                    taxon=r["taxon"].strip(),
                    specimen_hint=(r.get("specimen_hint") or "").strip() or None,
                    note=(r.get("note") or "").strip(),
                    source=(r.get("source") or "").strip(),
                    rank=(r.get("rank") or "").strip() or None,
                    parent=(r.get("parent") or "").strip() or None,
                )
            )
    return out


def _unlisted(data: _Data, row: _Curated) -> Taxon:
    """A taxon CITES does not list, named by a vocabulary row with a rank (and a parent in the CITES data)."""
    known = data.accepted.get(norm(row.taxon))
    if known is not None:
        return known
    parent = _lookup_scientific(data, row.parent) if row.parent else None
    taxon = Taxon(
        taxon_id=f"V:{row.taxon}",
        name=row.taxon,
        rank=row.rank or "SPECIES",
        listing=None,
        kingdom=parent.kingdom if parent else "Animalia",
        taxon_class=parent.taxon_class if parent else None,
        family=(parent.name if parent and parent.rank == "FAMILY" else parent.family if parent else None),
        order=parent.order if parent else None,
        genus=row.taxon.split()[0] if (row.rank or "SPECIES") in ("SPECIES", "SUBSPECIES") else None,
        origin="vocabulary",
    )
    data.vocabulary.append(taxon)
    data.by_id[taxon.taxon_id] = taxon
    data.accepted[norm(taxon.name)] = taxon
    return taxon


def _load_curated(data: _Data) -> None:
    """Index curated names; a name listed on several rows points to its first row's taxon, others are alternatives."""
    grouped: dict[str, list[tuple[_Curated, Taxon]]] = {}
    for row in curated_rows():
        if row.rank:  # an unlisted taxon: created when the CITES data does not have it
            targets = [_unlisted(data, row)]
        else:
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
    _curated_common_names.cache_clear()


def get(name: str) -> Taxon | None:
    """The taxon with this accepted name, synonym (answers the accepted taxon) or Species+ taxon id; else None."""
    d = _data()
    text = name.strip()
    if text.isdigit():
        return d.by_id.get(text)
    return _lookup_scientific(d, text)


# Common names by language: the curated regional names (Chinese, Vietnamese; a small file) and Species+ (French,
# Spanish; the full index). English pages keep the reference (scientific) name: it is the reference's language.
CURATED_NAME_LANGUAGES = ("zh", "vi")
SPECIES_PLUS_NAME_LANGUAGES = ("fr", "es")


@cache
def _curated_common_names() -> dict[tuple[str, str], str]:
    """(scientific name, lang) -> the first curated name of that language naming exactly that taxon (a name
    that points at alternatives, "ivory" -> Elephantidae or ..., is a trade name, not this taxon's name)."""
    out: dict[tuple[str, str], str] = {}
    for row in curated_rows():
        if row.lang and "|" not in row.taxon and not row.specimen_hint:
            out.setdefault((row.taxon, row.lang), row.name)
    return out


def common_name(taxon: Taxon | str, lang: str) -> str | None:
    """A common name of the taxon (its accepted scientific name) in `lang` ("zh_Hans" read as "zh") where the data
    has one: curated Chinese and Vietnamese names (read from the small curated file, without loading the index),
    Species+ French and Spanish names; None otherwise (English: the scientific name is the reference's; Thai,
    Khmer, Lao: the data has none)."""
    code = lang.split("_")[0].lower()
    name = taxon.name if isinstance(taxon, Taxon) else str(taxon).strip()
    if code in CURATED_NAME_LANGUAGES:
        return _curated_common_names().get((name, code))
    if code in SPECIES_PLUS_NAME_LANGUAGES:
        found = get(name) if not isinstance(taxon, Taxon) else taxon
        names = found.common_names.get(code) if found is not None else None
        return names[0] if names else None
    return None


def appendix(taxon: Taxon | str) -> str | None:
    """The CITES Appendices the taxon is listed in ("I", "II", "III", "I/II"), "NC" parts removed; None if none."""
    t = get(taxon) if isinstance(taxon, str) else taxon
    if t is None or not t.listing:
        return None
    parts = [p for p in t.listing.split("/") if p in {"I", "II", "III"}]
    return "/".join(parts) or None


def _pick(taxa: list[Taxon], data: _Data) -> tuple[Taxon, tuple[Taxon, ...], str | None]:
    """One taxon for a common name several taxa share: the lowest rank they all belong to (genus, family, order),
    else the first of them, as a guess."""
    if len(taxa) == 1:
        return taxa[0], (), None
    for attr in ("genus", "family", "order"):
        values = {getattr(t, attr) for t in taxa}
        if len(values) == 1:
            value = next(iter(values))
            g = data.accepted.get(norm(value)) if value else None
            if g is not None:
                return g, tuple(taxa), None
    return taxa[0], tuple(taxa[1:]), f"{len(taxa)} taxa share this common name; took the first"


def _exact(data: _Data, key: str, hint: str | None) -> TaxonMatch | None:
    if not key:
        return None
    for k in dict.fromkeys((key, compact(key))):
        taxon = data.accepted.get(k)
        if (
            taxon is not None
            and k == key
            and not (taxon.origin == "hierarchy" and (k in data.curated or k in data.common))
        ):
            # (a common name beats a genus only known from the hierarchy: "totoaba" is the fish, not its genus)
            return TaxonMatch(taxon, "accepted", taxon.name, hint, 100.0)
        if k == key and k in data.synonyms:
            written, target = data.synonyms[k]
            return TaxonMatch(target, "synonym", written, hint, 100.0)
        if k in data.curated:
            row, target, alts = data.curated[k]
            return TaxonMatch(target, "common_name", row.name, hint or row.specimen_hint, 100.0, alts, row.note or None)
        if k == key and k in data.common:
            written, taxa = data.common[k]
            target, alts, why = _pick(taxa, data)
            return TaxonMatch(target, "common_name", written, hint, 100.0, alts, guess_reason=why)
    return None


def _singulars(word: str) -> list[str]:
    """English singulars to try for a last word: "finches" -> finch, "canaries" -> canary, "tortoises" -> tortoise."""
    out: list[str] = []
    if len(word) > 4 and word.endswith("ies"):
        out.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses", "oes")):
        out.append(word[:-2])
    return out


def _strip_specimen(key: str) -> list[tuple[str, str | None]]:
    """Readings of the input without its specimen and filler words: [(remaining key, hint)], most specific first."""
    words_data = _words()
    readings: list[tuple[str, str | None]] = []
    words = key.split()
    hint: str | None = None
    kept: list[str] = []
    skip = 0
    for i, w in enumerate(words):
        if skip:
            skip -= 1
            continue
        two = " ".join(words[i : i + 2])
        if len(words) > 2 and two in words_data.specimen:
            hint = hint or words_data.specimen[two]
            skip = 1
            continue
        if w in words_data.specimen and len(words) > 1:
            hint = hint or words_data.specimen[w]
            continue
        if w in words_data.filler or w.isdigit():
            continue
        kept.append(w)
    if kept and kept != words:
        readings.append((" ".join(kept), hint))
    # plural -> singular on the last word ("pangolins", "rhinos", "finches", "canaries")
    base = kept or words
    if base:
        for singular in _singulars(base[-1]):
            readings.append((" ".join([*base[:-1], singular]), hint))
    if has_cjk(key) and " " not in key:
        for suffix in words_data.cjk_suffixes:
            if key.endswith(suffix) and len(key) > len(suffix):
                readings.append((key[: -len(suffix)], words_data.specimen[suffix]))
            if key.startswith(suffix) and len(key) > len(suffix):
                readings.append((key[len(suffix) :], words_data.specimen[suffix]))
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
    t, alts, _why = _pick(taxa, data)
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
    readings = _strip_specimen(key)
    if readings:
        hint = readings[0][1]
    scored = sorted({hit for k in dict.fromkeys([*(r for r, _ in readings), key]) for hit in _fuzzy(data, k)},
                    key=lambda x: -x[2])  # fmt: skip
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


@dataclass(frozen=True)
class TaxonResolution:
    """What a written taxon resolved to, and its CITES status; an unknown name is "unverified", not an error."""

    text: str
    status: str  # EXACT | GUESS | UNRESOLVED
    cites_status: str  # LISTED | INCLUDES_LISTED | NOT_LISTED | UNVERIFIED
    match: TaxonMatch | None = None
    reason: str | None = None  # why a guess is a guess, or why nothing resolved
    suggestions: tuple[str, ...] = ()

    @property
    def taxon(self) -> Taxon | None:
        return self.match.taxon if self.match else None

    @property
    def resolved(self) -> bool:
        return self.match is not None


def lookup(text: str | None) -> TaxonResolution:
    """resolve() that never raises: exact, a guess (and why), or unresolved with the status "unverified"."""
    raw = (text or "").strip()
    if not raw:
        return TaxonResolution(text or "", UNRESOLVED, UNVERIFIED, reason="empty taxon name")
    try:
        m = resolve(raw)
    except ReferenceLookupError as exc:
        return TaxonResolution(
            raw,
            UNRESOLVED,
            UNVERIFIED,
            reason=f"{exc.message}: not in the CITES data ({version()}) nor its vocabulary; kept as written",
            suggestions=tuple(exc.suggestions),
        )
    reason = m.guess_reason
    if m.matched_by == "fuzzy":
        reason = f"read as {m.matched_text!r}, the closest name ({m.score:.0f}%)"
    return TaxonResolution(raw, m.status, m.cites_status, m, reason)


def lookup_many(texts: Iterable[str | None]) -> list[TaxonResolution]:
    """lookup() over a column: each distinct text is resolved once, answers in input order."""
    memo: dict[str, TaxonResolution] = {}
    out: list[TaxonResolution] = []
    for text in texts:
        k = (text or "").strip()
        res = memo.get(k)
        if res is None:
            res = memo[k] = lookup(k)
        out.append(res)
    return out


def higher_taxa() -> list[Taxon]:
    """Classes, orders, families and genera that only appear above listed records (see Taxon.origin)."""
    return list(_data().higher)


def describe(res: TaxonResolution) -> dict[str, object]:
    """A JSON-ready view of a resolution (CLI --json, API, web)."""
    m = res.match
    t = m.taxon if m else None
    return {
        "text": res.text,
        "status": res.status,
        "cites_status": res.cites_status,
        "taxon": t.name if t else None,
        "rank": t.rank if t else None,
        "cites_listing": (t.listing if t else None),
        "family": t.family if t else None,
        "order": t.order if t else None,
        "class": t.taxon_class if t else None,
        "matched_by": m.matched_by if m else None,
        "matched_text": m.matched_text if m else None,
        "specimen_hint": m.specimen_hint if m else None,
        "alternatives": [a.name for a in m.alternatives] if m else [],
        "note": m.note if m else None,
        "reason": res.reason,
        "suggestions": list(res.suggestions),
        "reference": version(),
    }
