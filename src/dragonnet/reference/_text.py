"""Text normalisation shared by the reference lookups: one key per spelling, whatever the case, accents or spaces."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import polars as pl
from rapidfuzz import fuzz, process

# Letters NFKD does not decompose into a base letter plus a combining mark.
_FOLD_PAIRS = {"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss", "æ": "ae", "œ": "oe"}
_FOLD = str.maketrans(_FOLD_PAIRS)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def norm(text: str) -> str:
    """Case-, accent-, punctuation- and whitespace-insensitive key: "Côte d'Ivoire " -> "cote d ivoire"."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


def norm_expr(expr: pl.Expr) -> pl.Expr:
    """norm() as a Polars expression, for keying whole columns at once (tests check both agree on the lists)."""
    folded = expr.str.normalize("NFKC").str.replace_many(list(_FOLD_PAIRS), list(_FOLD_PAIRS.values()))
    folded = folded.str.to_lowercase().str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    folded = folded.str.replace_all(r"[^\w]+", " ").str.replace_all("_", " ")
    return folded.str.replace_all(r" {2,}", " ").str.strip_chars(" ")


def compact(key: str) -> str:
    """The key without spaces, so "haiphong" meets "hai phong"."""
    return key.replace(" ", "")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def suggest(query: str, choices: Iterable[str], *, limit: int = 5, cutoff: float = 60.0) -> list[str]:
    """Did-you-mean candidates for an unresolved input, best first, distinct."""
    q = norm(query)
    if not q:
        return []
    pool = list(dict.fromkeys(choices))
    keys = [norm(c) for c in pool]
    found = process.extract(q, keys, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=cutoff)
    out: list[str] = []
    for _key, _score, idx in found:
        name = pool[idx]
        if name not in out:
            out.append(name)
        if len(out) == limit:
            break
    return out
