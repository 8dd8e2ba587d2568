"""Controlled drugs and precursors (UN 1961, 1971 and 1988 Conventions) with street and trade names.

Data: data/substances.yaml, curated by the dragonnet developers from the INCB Yellow List (1961), Green List
(1971) and Red List (1988, Tables I and II), following their 2023 editions. Ketamine, kratom, khat and tramadol
are drugs controlled nationally but not under the UN conventions: their `control` says so.

    >>> resolve("ice").substance.name
    'methamphetamine'
    >>> resolve("ketamine HCl").matched_by
    'salt'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz, process

from dragonnet.datafiles import load_yaml
from dragonnet.errors import ReferenceLookupError
from dragonnet.reference._text import compact, norm

NATIONAL = "national (not under the UN conventions)"
FUZZY_ACCEPT = 88.0

# Salt and form words after a substance name: "X hydrochloride", "X HCl", "X base".
_SALT_WORDS = {
    "hydrochloride", "hcl", "hydrochloric", "chlorhydrate", "clorhidrato", "sulfate", "sulphate", "base",
    "freebase", "free", "citrate", "tartrate", "bitartrate", "phosphate", "hydrobromide", "hbr", "maleate",
    "mesylate", "fumarate", "salt", "salts", "monohydrate", "dihydrochloride", "hemisulfate", "muoi",
}  # fmt: skip
_FORM_WORDS = {
    "tablet", "tablets", "tab", "tabs", "pill", "pills", "powder", "liquid", "capsule", "capsules", "crystals",
    "vien", "bot", "solution", "pure", "raw", "street",
}  # fmt: skip


@dataclass(frozen=True)
class Substance:
    name: str
    commodity_class: str  # "drug" | "precursor"
    control: str  # "1961 Schedule I", "1971 Schedule II", "1988 Table I", "national (not under the UN conventions)"
    synonyms: tuple[str, ...]
    note: str | None = field(default=None, compare=False)
    names: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # lang -> name (data: `names`)

    @property
    def internationally_controlled(self) -> bool:
        return self.control.startswith(("1961", "1971", "1988"))

    def __str__(self) -> str:
        return f"{self.name} ({self.control})"


@dataclass(frozen=True)
class SubstanceMatch:
    substance: Substance
    matched_by: str  # "name" | "synonym" | "salt" | "fuzzy"
    matched_text: str
    score: float


@dataclass(frozen=True)
class _Data:
    version: str
    edition: str
    substances: list[Substance]
    keys: dict[str, tuple[Substance, str, str]]  # norm key -> (substance, "name"|"synonym", text as written)


def _data_text() -> str:
    return resources.files("dragonnet.reference").joinpath("data").joinpath("substances.yaml").read_text("utf-8")


@cache
def _data() -> _Data:
    raw: dict[str, Any] = load_yaml(_data_text())
    substances: list[Substance] = []
    keys: dict[str, tuple[Substance, str, str]] = {}
    for entry in raw["substances"]:
        sub = Substance(
            name=str(entry["name"]),
            commodity_class=str(entry["class"]),
            control=str(entry["control"]),
            synonyms=tuple(str(s) for s in entry.get("synonyms") or ()),
            note=entry.get("note"),
            names={str(k): str(v) for k, v in (entry.get("names") or {}).items()},
        )
        substances.append(sub)
    # Names first (a name always wins over another substance's synonym), then synonyms.
    for sub in substances:
        for k in dict.fromkeys((norm(sub.name), compact(norm(sub.name)))):
            keys.setdefault(k, (sub, "name", sub.name))
    for sub in substances:
        for syn in sub.synonyms:
            for k in dict.fromkeys((norm(syn), compact(norm(syn)))):
                if k:
                    keys.setdefault(k, (sub, "synonym", syn))
    return _Data(str(raw.get("version", "")), str(raw.get("edition", "")), substances, keys)


def local_name(name: str, lang: str) -> str | None:
    """The substance's name in `lang` ("zh_Hans" read as "zh") where the data has one (`names`), else None."""
    found = get(name)
    return found.names.get(lang.split("_")[0].lower()) if found is not None else None


def version() -> str:
    """e.g. "INCB Yellow/Green/Red Lists, 2023 editions (dragonnet curation 1)"."""
    return _data().version


def all_substances() -> list[Substance]:
    return list(_data().substances)


def record_count() -> int:
    return len(_data().substances)


def get(name: str) -> Substance | None:
    """The substance with this canonical name or synonym (exact after normalisation), else None."""
    hit = _exact(name)
    return hit[0] if hit else None


def _exact(text: str) -> tuple[Substance, str, str] | None:
    keys = _data().keys
    key = norm(text)
    return keys.get(key) or keys.get(compact(key)) if key else None


def _strip_salt(key: str) -> tuple[str, bool] | None:
    """ "ketamine hcl" -> ("ketamine", True); "methamphetamine tablets" -> ("methamphetamine", False)."""
    words = key.split()
    salt = False
    while len(words) > 1 and (words[-1] in _SALT_WORDS or words[-1] in _FORM_WORDS):
        salt = salt or words[-1] in _SALT_WORDS
        words.pop()
    while len(words) > 1 and words[0] in _FORM_WORDS:  # "viên hồng phiến", "bột ketamine"
        words.pop(0)
    stripped = " ".join(words)
    return (stripped, salt) if stripped != key else None


def resolve(text: str) -> SubstanceMatch:
    """A substance from its name, a synonym or street name (any language), a salt form, or a near spelling.

    Salt forms ("X hydrochloride", "X HCl", "X sulfate", "X base") answer the parent with matched_by "salt".
    Raises ReferenceLookupError with suggestions when nothing fits.
    """
    raw = text.strip()
    key = norm(raw)
    if not key:
        raise ReferenceLookupError("empty substance name")
    hit = _exact(raw)
    if hit is not None:
        sub, how, written = hit
        return SubstanceMatch(sub, how, written, 100.0)
    stripped = _strip_salt(key)
    if stripped is not None:
        base, salt = stripped
        hit = _exact(base)
        if hit is not None:
            sub, how, written = hit
            return SubstanceMatch(sub, "salt" if salt else how, written, 100.0)
    target = stripped[0] if stripped else key
    data = _data()
    labels = list(data.keys)
    found = process.extract(target, labels, scorer=fuzz.WRatio, limit=12, score_cutoff=55)
    ranked = sorted(((labels[i], min(s, fuzz.ratio(target, labels[i]) + 5)) for _, s, i in found), key=lambda x: -x[1])
    if ranked and len(target) >= 4 and ranked[0][1] >= FUZZY_ACCEPT:
        sub, _how, written = data.keys[ranked[0][0]]
        return SubstanceMatch(sub, "fuzzy", written, float(ranked[0][1]))
    suggestions: list[str] = []
    seen: set[str] = set()
    for label, _ in ranked:
        sub, _how, written = data.keys[label]
        if sub.name in seen:
            continue
        seen.add(sub.name)
        suggestions.append(written if written == sub.name else f"{written} ({sub.name})")
    raise ReferenceLookupError(f"unknown substance {raw!r}", suggestions=suggestions[:5])


def try_resolve(text: str | None) -> SubstanceMatch | None:
    if not text or not text.strip():
        return None
    try:
        return resolve(text)
    except ReferenceLookupError:
        return None


def by_control(prefix: str) -> list[Substance]:
    """Substances whose control starts with prefix: by_control("1988 Table I") (Table II excluded)."""
    pat = re.compile(re.escape(prefix) + r"(?![IV])")
    return [s for s in _data().substances if pat.match(s.control)]
