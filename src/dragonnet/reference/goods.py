"""Goods: the Harmonized System 2022 nomenclature (96 chapters, 1,228 headings, 5,612 subheadings).

Data: data/hs2022.csv.gz, built by scripts/build_goods.py from the datasets/harmonized-system files (UN Comtrade,
ODC-PDDL 1.0). A code is 2 (chapter), 4 (heading) or 6 (subheading) digits, written with or without dots or
spaces ("0507.10", "05 07 10", "050710"). A national tariff line (8 or 10 digits) is read at its 6-digit
subheading, as a guess that says so.

    >>> get("0507.10").description[:30]
    'Animal products; ivory, unwork'
    >>> [p.code for p in parents("050710")]
    ['05', '0507']
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapidfuzz import fuzz, process

from dragonnet.reference import shipped
from dragonnet.reference._text import norm

EXACT, GUESS, UNRESOLVED = "exact", "guess", "unresolved"
LEVELS = {2: "chapter", 4: "heading", 6: "subheading"}
_SEPARATORS = re.compile(r"[\s.\-/]")
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class HsCode:
    code: str  # digits only: "05", "0507", "050710"
    level: int  # 2, 4 or 6
    description: str
    parent: str | None  # the code one level up; None for a chapter
    section: str  # Roman numeral, "I".."XXI"
    section_name: str

    @property
    def formatted(self) -> str:
        """As written in tariffs: "05", "0507", "0507.10"."""
        return self.code if self.level < 6 else f"{self.code[:4]}.{self.code[4:]}"

    @property
    def kind(self) -> str:
        return LEVELS[self.level]

    @property
    def chapter(self) -> str:
        return self.code[:2]

    def __str__(self) -> str:
        return f"{self.formatted} {self.description}"


@dataclass(frozen=True)
class GoodsResolution:
    text: str
    status: str  # EXACT | GUESS | UNRESOLVED
    code: HsCode | None = None
    reason: str | None = None
    suggestions: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.code is not None


@dataclass(frozen=True)
class _Data:
    version: str
    codes: dict[str, HsCode]


@cache
def _data() -> _Data:
    with gzip.open(shipped.package_file("hs2022.csv.gz"), "rt", encoding="utf-8", newline="") as fh:
        header = fh.readline()
        meta = dict(part.split("=", 1) for part in header.strip().split(";")[1:] if "=" in part)
        codes = {
            r["code"]: HsCode(
                r["code"], int(r["level"]), r["description"], r["parent"] or None, r["section"], r["section_name"]
            )
            for r in csv.DictReader(fh)
        }
    return _Data(meta.get("version", "HS 2022"), codes)


def normalise_code(text: str) -> str | None:
    """ "0507.10", "05 07 10", "050710" -> "050710"; None when the text is not digits with separators."""
    digits = _SEPARATORS.sub("", (text or "").strip())
    return digits if digits and _DIGITS.match(digits) else None


def get(code: str) -> HsCode | None:
    """The chapter, heading or subheading with this code (dots and spaces allowed), or None."""
    digits = normalise_code(code)
    return _data().codes.get(digits) if digits else None


def parents(code: str | HsCode) -> list[HsCode]:
    """The chapter and heading above a code, chapter first ([] for a chapter)."""
    hs = get(code) if isinstance(code, str) else code
    out: list[HsCode] = []
    while hs is not None and hs.parent:
        hs = _data().codes.get(hs.parent)
        if hs is not None:
            out.insert(0, hs)
    return out


def children(code: str) -> list[HsCode]:
    """The headings of a chapter, or the subheadings of a heading."""
    digits = normalise_code(code) or ""
    return [c for c in _data().codes.values() if c.parent == digits]


def all_codes() -> list[HsCode]:
    """Every chapter, heading and subheading, in code order (a chapter before its headings)."""
    return sorted(_data().codes.values(), key=lambda c: c.code)


def chapters() -> list[HsCode]:
    return [c for c in _data().codes.values() if c.level == 2]


def lookup(text: str | None) -> GoodsResolution:
    """Check a written HS code: exact (2, 4 or 6 digits in the nomenclature), a guess (a national 8- or 10-digit
    line read at its subheading; an odd-length code read at its heading), or unresolved with why."""
    raw = (text or "").strip()
    if not raw:
        return GoodsResolution(text or "", UNRESOLVED, reason="empty HS code")
    digits = normalise_code(raw)
    if digits is None:
        return _by_description(raw)
    codes = _data().codes
    if len(digits) in LEVELS:
        hs = codes.get(digits)
        if hs is not None:
            return GoodsResolution(raw, EXACT, hs)
        near = parents(digits[: len(digits) - 2]) if len(digits) > 2 else []
        upper = codes.get(digits[: len(digits) - 2]) if len(digits) > 2 else None
        shown = tuple(str(c) for c in ([*near, upper] if upper else near))
        return GoodsResolution(
            raw, UNRESOLVED, reason=f"{raw} is not an HS 2022 {LEVELS[len(digits)]}", suggestions=shown
        )
    if len(digits) in (8, 10, 12):
        if digits[:6] in codes:
            return GoodsResolution(
                raw,
                GUESS,
                codes[digits[:6]],
                reason=f"a national tariff line: checked at its HS subheading {digits[:4]}.{digits[4:6]}",
            )
        heading = codes.get(digits[:4])
        return GoodsResolution(
            raw,
            UNRESOLVED,
            reason=f"{raw}: subheading {digits[:4]}.{digits[4:6]} is not in HS 2022",
            suggestions=(str(heading),) if heading else (),
        )
    if len(digits) in (3, 5) and digits[: len(digits) - 1] in codes:
        hs = codes[digits[: len(digits) - 1]]
        return GoodsResolution(raw, GUESS, hs, reason=f"{len(digits)} digits: read as the {hs.kind} {hs.formatted}")
    return GoodsResolution(raw, UNRESOLVED, reason=f"{raw!r} is not an HS code (2, 4 or 6 digits)")


def _by_description(text: str) -> GoodsResolution:
    """Text that is not a code: suggest headings and subheadings whose description is closest (never an answer)."""
    found = search(text, limit=5)
    return GoodsResolution(
        text,
        UNRESOLVED,
        reason=f"{text!r} is not an HS code (2, 4 or 6 digits)",
        suggestions=tuple(str(c) for c in found),
    )


@cache
def _descriptions() -> tuple[list[str], list[HsCode]]:
    codes = list(_data().codes.values())
    return [norm(c.description) for c in codes], codes


def search(text: str, *, limit: int = 10, levels: tuple[int, ...] = (2, 4, 6)) -> list[HsCode]:
    """Codes whose description matches the words (for picking chapters and headings by name)."""
    key = norm(text or "")
    if not key:
        return []
    keys, codes = _descriptions()
    found = process.extract(key, keys, scorer=fuzz.token_set_ratio, limit=limit * 5, score_cutoff=60)
    out = [codes[i] for _k, _s, i in sorted(found, key=lambda f: (-f[1], len(codes[f[2]].code)))]
    return [c for c in out if c.level in levels][:limit]


def lookup_many(texts: list[str | None]) -> list[GoodsResolution]:
    """lookup() over a column: each distinct text is checked once, answers in input order."""
    memo: dict[str, GoodsResolution] = {}
    out: list[GoodsResolution] = []
    for text in texts:
        k = (text or "").strip()
        if k not in memo:
            memo[k] = lookup(k)
        out.append(memo[k])
    return out


def describe(res: GoodsResolution) -> dict[str, Any]:
    hs = res.code
    return {
        "text": res.text,
        "status": res.status,
        "code": hs.formatted if hs else None,
        "level": hs.kind if hs else None,
        "description": hs.description if hs else None,
        "parents": [f"{p.formatted} {p.description}" for p in parents(hs)] if hs else [],
        "section": f"{hs.section} {hs.section_name}" if hs else None,
        "reason": res.reason,
        "suggestions": list(res.suggestions),
    }


def record_count() -> int:
    return len(_data().codes)


def version() -> str:
    return _data().version
