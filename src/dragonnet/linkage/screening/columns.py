"""The columns of a list to screen and the headers that name them, read from one data file
(`linkage/data/screening_columns.yaml`), and the mapping of a file's headers to those columns.

A header maps exactly (the column's own name), by a synonym (the file's words, plus the case exchange format's
words for the parties column it names), or by fuzzy matching above a cutoff; each mapping says how it was
made, so a fuzzy guess is shown as a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from rapidfuzz import fuzz, process

from dragonnet.datafiles import load_yaml
from dragonnet.domain.exchange import FORMAT, LANGUAGES, key
from dragonnet.errors import ValidationError
from dragonnet.tabular import ImportRejected

COLUMNS_FILE = Path(__file__).parent.parent / "data" / "screening_columns.yaml"
FUZZY_CUTOFF = 88.0
NAME_COLUMNS = ("name", "family_name", "given_name")


@dataclass(frozen=True)
class ScreeningColumn:
    name: str
    description: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class HeaderMatch:
    index: int
    header: str
    column: str | None
    how: Literal["exact", "synonym", "fuzzy", "unmapped"]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "column": self.column, "how": self.how, "confidence": round(self.confidence, 3)}


def _fail(message: str) -> ValidationError:
    return ValidationError(f"screening columns {COLUMNS_FILE.name}: {message}")


def load_columns(path: Path = COLUMNS_FILE) -> tuple[ScreeningColumn, ...]:
    """The columns of the data file, each with its synonyms (checked: languages, parties columns, clashes)."""
    raw = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("version") != 1 or not isinstance(raw.get("columns"), list):
        raise _fail("expected version: 1 and a list of columns")
    out: list[ScreeningColumn] = []
    for entry in raw["columns"]:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise _fail(f"a column without a name: {entry!r}")
        words: list[str] = [name, name.replace("_", " ")]
        parties = entry.get("parties")
        if parties is not None:
            try:
                words += FORMAT.column("parties", parties).synonyms
            except KeyError:
                raise _fail(f"{name}: unknown parties column {parties!r}") from None
        for lang, synonyms in (entry.get("headers") or {}).items():
            if lang not in LANGUAGES or not isinstance(synonyms, list) or not all(isinstance(w, str) for w in synonyms):
                raise _fail(f"{name}.{lang}: expected a language ({', '.join(LANGUAGES)}) with a list of words")
            words += synonyms
        out.append(ScreeningColumn(name, str(entry.get("description", "")), tuple(dict.fromkeys(words))))
    seen: dict[str, str] = {}
    for column in out:
        for word in column.synonyms:
            k = key(word)
            if seen.setdefault(k, column.name) != column.name:
                raise _fail(f"header {word!r} names both {seen[k]} and {column.name}")
    return tuple(out)


@lru_cache(maxsize=1)
def columns() -> tuple[ScreeningColumn, ...]:
    return load_columns()


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    return {key(word): c.name for c in columns() for word in c.synonyms}


def column_names() -> tuple[str, ...]:
    return tuple(c.name for c in columns())


def match_header(header: str) -> tuple[str | None, str, float]:
    k = key(header)
    if not k:
        return None, "unmapped", 0.0
    index = _index()
    if k in index:
        exact = index[k] == k.replace(" ", "_")
        return index[k], "exact" if exact else "synonym", 1.0 if exact else 0.95
    if len(k) < 4:
        return None, "unmapped", 0.0
    found = process.extractOne(k, list(index), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if found is None:
        return None, "unmapped", 0.0
    return index[found[0]], "fuzzy", float(found[1]) / 100.0


def count_known(cells: Iterable[object]) -> int:
    """How many distinct columns a candidate header row names exactly or by a synonym (finds the header row)."""
    index = _index()
    return len({index[k] for c in cells if c is not None and (k := key(str(c))) in index})


def map_headers(headers: Sequence[str]) -> list[HeaderMatch]:
    """Each header's column; two headers for one column keep the better (a tie rejects the file)."""
    matches = []
    for i, raw in enumerate(headers):
        column, how, confidence = match_header(raw or "")
        matches.append(HeaderMatch(i, (raw or "").strip(), column, how, confidence))  # type: ignore[arg-type]
    by_column: dict[str, list[HeaderMatch]] = {}
    for m in matches:
        if m.column is not None:
            by_column.setdefault(m.column, []).append(m)
    for column, claims in by_column.items():
        if len(claims) < 2:
            continue
        ranked = sorted(claims, key=lambda m: m.confidence, reverse=True)
        if ranked[0].confidence - ranked[1].confidence < 0.05:
            names = " and ".join(repr(m.header) for m in claims)
            raise ImportRejected(f"headers {names} both name the column {column!r}; rename one of them")
        for loser in ranked[1:]:
            matches[loser.index] = HeaderMatch(loser.index, loser.header, None, "unmapped", 0.0)
    if not any(m.column in NAME_COLUMNS for m in matches):
        raise ImportRejected(
            "no name column: a list to screen needs a column of names (e.g. 'name', 'passenger name', 'surname' and "
            "'given names', 'company name')"
        )
    return matches
