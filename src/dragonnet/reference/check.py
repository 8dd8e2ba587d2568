"""Checking a list of terms against the reference data: what each resolves to, exactly or by a guess, or why not.

Officers check a list before an import (`dragonnet reference place --file ports.csv`, the upload on /reference,
POST /api/v1/reference/check). The file is a CSV with a `text` column and an optional `country` column (for
places), or plain text with one term per line; UTF-8, or Windows-1252 as spreadsheets export it. Each distinct
(term, country) is resolved once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dragonnet.errors import DragonnetError, ValidationError
from dragonnet.reference import cites, countries, goods, places, substances

KINDS = ("taxon", "place", "substance", "country", "hs")
EXACT, GUESS, UNRESOLVED = "exact", "guess", "unresolved"
MAX_BYTES = 5 * 1024 * 1024
MAX_TERMS = 20_000
_TEXT_HEADERS = ("text", "term", "name", "value")


@dataclass(frozen=True)
class TermResult:
    line: int  # line of the file (1 = first line; the header counts)
    text: str
    country: str | None
    status: str  # EXACT | GUESS | UNRESOLVED
    resolved_to: str | None  # one line: what the term reads as
    code: str | None  # the reference key: UN/LOCODE, alpha-2, taxon name, substance name, HS code
    reason: str | None  # why a guess is a guess, or why nothing resolved
    suggestions: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)  # the kind's own fields (coordinates, CITES status...)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "country": self.country,
            "status": self.status,
            "resolved_to": self.resolved_to,
            "code": self.code,
            "reason": self.reason,
            "suggestions": list(self.suggestions),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CheckReport:
    kind: str
    results: list[TermResult]

    @property
    def counts(self) -> dict[str, int]:
        out = {EXACT: 0, GUESS: 0, UNRESOLVED: 0}
        for r in self.results:
            out[r.status] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "terms": len(self.results),
            "counts": self.counts,
            "results": [r.as_dict() for r in self.results],
        }


@dataclass(frozen=True)
class Term:
    line: int
    text: str
    country: str | None = None


# --------------------------------------------------------------------------------------------------- reading


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_terms(data: bytes) -> list[Term]:
    """Terms from a CSV with a `text` column (and optional `country`), or from one term per line."""
    if len(data) > MAX_BYTES:
        raise ValidationError(f"file too large ({len(data):,} bytes; at most {MAX_BYTES:,})")
    text = _decode(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ValidationError("the file holds no term")
    first = lines[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    header = [h.strip().lower() for h in next(csv.reader([first], delimiter=delimiter))]
    text_col = next((h for h in _TEXT_HEADERS if h in header), None)
    terms: list[Term] = []
    if text_col is not None:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        next(reader)
        t_i = header.index(text_col)
        c_i = header.index("country") if "country" in header else None
        for n, row in enumerate(reader, start=2):
            value = row[t_i].strip() if t_i < len(row) else ""
            if not value:
                continue
            country = row[c_i].strip() if c_i is not None and c_i < len(row) and row[c_i].strip() else None
            terms.append(Term(n, value, country))
    else:
        terms = [Term(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip()]
    if not terms:
        raise ValidationError("the file holds no term (a CSV needs a `text` column)")
    if len(terms) > MAX_TERMS:
        raise ValidationError(f"too many terms ({len(terms):,}; at most {MAX_TERMS:,} per file)")
    return terms


# --------------------------------------------------------------------------------------------------- resolving


def _place(terms: Sequence[Term]) -> list[TermResult]:
    found = places.lookup_many([t.text for t in terms], [t.country for t in terms])
    out = []
    for t, r in zip(terms, found, strict=True):
        p = r.place
        out.append(
            TermResult(
                t.line,
                t.text,
                t.country,
                r.status,
                str(p) if p else None,
                p.code if p else None,
                r.reason,
                r.suggestions,
                places.describe(r),
            )
        )
    return out


def _taxon(terms: Sequence[Term]) -> list[TermResult]:
    found = cites.lookup_many([t.text for t in terms])
    out = []
    for t, r in zip(terms, found, strict=True):
        tx = r.taxon
        shown = (
            f"{tx.name} ({tx.rank.lower()}, {r.cites_status}" + (f" {tx.listing})" if tx.listing else ")")
            if tx
            else None
        )
        reason = r.reason if tx else f"{r.reason} (status: {r.cites_status})"
        out.append(
            TermResult(
                t.line, t.text, None, r.status, shown, tx.name if tx else None, reason, r.suggestions, cites.describe(r)
            )
        )
    return out


def _hs(terms: Sequence[Term]) -> list[TermResult]:
    found = goods.lookup_many([t.text for t in terms])
    return [
        TermResult(
            t.line,
            t.text,
            None,
            r.status,
            str(r.code) if r.code else None,
            r.code.formatted if r.code else None,
            r.reason,
            r.suggestions,
            goods.describe(r),
        )
        for t, r in zip(terms, found, strict=True)
    ]


def _one_by_one(terms: Sequence[Term], fn: Callable[[str], TermResult]) -> list[TermResult]:
    memo: dict[str, TermResult] = {}
    out = []
    for t in terms:
        if t.text not in memo:
            memo[t.text] = fn(t.text)
        r = memo[t.text]
        out.append(
            TermResult(t.line, t.text, t.country, r.status, r.resolved_to, r.code, r.reason, r.suggestions, r.detail)
        )
    return out


def _substance_one(text: str) -> TermResult:
    try:
        m = substances.resolve(text)
    except DragonnetError as exc:
        return TermResult(0, text, None, UNRESOLVED, None, None, exc.message, tuple(exc.suggestions))
    s = m.substance
    guess = m.matched_by == "fuzzy"
    reason = f"read as {m.matched_text!r}, the closest name ({m.score:.0f}%)" if guess else None
    detail = {
        "substance": s.name,
        "class": s.commodity_class,
        "control": s.control,
        "matched_by": m.matched_by,
        "matched_text": m.matched_text,
    }
    return TermResult(0, text, None, GUESS if guess else EXACT, str(s), s.name, reason, (), detail)


def _country_one(text: str) -> TermResult:
    try:
        c = countries.resolve(text)
    except DragonnetError as exc:
        return TermResult(0, text, None, UNRESOLVED, None, None, exc.message, tuple(exc.suggestions))
    detail = {"alpha2": c.alpha2, "alpha3": c.alpha3, "name": c.name, "common_name": c.common_name}
    return TermResult(0, text, None, EXACT, f"{c.common_name or c.name} ({c.alpha2})", c.alpha2, None, (), detail)


def check_terms(kind: str, terms: Sequence[Term]) -> CheckReport:
    """Resolve every term as `kind` (taxon, place, substance, country, hs)."""
    if kind == "place":
        results = _place(terms)
    elif kind == "taxon":
        results = _taxon(terms)
    elif kind == "hs":
        results = _hs(terms)
    elif kind == "substance":
        results = _one_by_one(terms, _substance_one)
    elif kind == "country":
        results = _one_by_one(terms, _country_one)
    else:
        raise ValidationError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return CheckReport(kind, results)


def check_file(kind: str, data: bytes) -> CheckReport:
    """read_terms() then check_terms(): the one door of the CLI, the API and the web page."""
    if kind not in KINDS:
        raise ValidationError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return check_terms(kind, read_terms(data))


REPORT_COLUMNS = ("line", "text", "country", "status", "resolved_to", "code", "reason", "suggestions")


def report_csv(report: CheckReport) -> str:
    """The report as CSV (cells that a spreadsheet would read as a formula are quoted with a leading ')."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for r in report.results:
        row = [
            r.line,
            r.text,
            r.country or "",
            r.status,
            r.resolved_to or "",
            r.code or "",
            r.reason or "",
            "; ".join(r.suggestions),
        ]
        writer.writerow([_safe(v) for v in row])
    return buf.getvalue()


def _safe(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
