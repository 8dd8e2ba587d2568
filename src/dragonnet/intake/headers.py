"""Map a spreadsheet's headers to the exchange-format columns (../shared/design/exchange-format.md).

The exact column names always map. Foreign headers map by the synonyms of the exchange-format file
(`domain/data/exchange_format.yaml`: English variants, French, Spanish, Vietnamese, Chinese, Thai) and then by fuzzy
matching; each proposal carries a confidence so a UI can show the
mapping for confirmation. An explicit mapping (header -> column, or header -> None to ignore it) overrides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

from dragonnet.domain.exchange import FORMAT, SheetKind, key, synonym_index
from dragonnet.tabular import ImportRejected

ITEM_COLUMNS: tuple[str, ...] = FORMAT.names("items")
ITEM_REQUIRED: tuple[str, ...] = FORMAT.required("items")
PARTY_COLUMNS: tuple[str, ...] = FORMAT.names("parties")
PARTY_REQUIRED: tuple[str, ...] = FORMAT.required("parties")

FUZZY_CUTOFF = 85.0  # below this a header stays unmapped (the user maps it by hand)

_INDEXES: dict[str, dict[str, str]] = {
    "items": synonym_index(FORMAT, "items"),
    "parties": synonym_index(FORMAT, "parties"),
}


def columns_for(kind: SheetKind) -> tuple[str, ...]:
    return ITEM_COLUMNS if kind == "items" else PARTY_COLUMNS


def required_for(kind: SheetKind) -> tuple[str, ...]:
    return ITEM_REQUIRED if kind == "items" else PARTY_REQUIRED


@dataclass(frozen=True)
class ColumnMatch:
    """One header of the file and the column it is proposed to fill (None: ignored)."""

    index: int
    header: str
    column: str | None
    confidence: float  # 1.0 exact or explicit, 0.95 synonym, the fuzzy score / 100 otherwise
    how: Literal["exact", "synonym", "fuzzy", "explicit", "unmapped"]


@dataclass(frozen=True)
class HeaderMapping:
    kind: SheetKind
    matches: tuple[ColumnMatch, ...]
    missing_required: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> dict[int, str]:
        """Source column index -> exchange-format column, for the mapped headers."""
        return {m.index: m.column for m in self.matches if m.column is not None}

    def as_dict(self) -> dict[str, str | None]:
        """header -> column (None for ignored headers): what a UI shows and what can be passed back."""
        return {m.header: m.column for m in self.matches if m.header}

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"header": m.header, "column": m.column, "confidence": round(m.confidence, 3), "how": m.how}
            for m in self.matches
            if m.header
        ]


def match_header(header: str, kind: SheetKind = "items") -> tuple[str | None, float, str]:
    """The column a header most likely means: (column, confidence, how)."""
    index = _INDEXES[kind]
    k = key(header)
    if not k:
        return None, 0.0, "unmapped"
    if k in index:
        exact = k in {key(c) for c in columns_for(kind)}
        return index[k], 1.0 if exact else 0.95, "exact" if exact else "synonym"
    if len(k) < 4:
        return None, 0.0, "unmapped"
    found = process.extractOne(k, list(index), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if found is None:
        return None, 0.0, "unmapped"
    return index[found[0]], float(found[1]) / 100.0, "fuzzy"


def count_known(cells: Iterable[object], kind: SheetKind = "items") -> int:
    """How many distinct columns a candidate header row names (exact or synonym only): finds the header row."""
    index = _INDEXES[kind]
    found = {index.get(key(str(c))) for c in cells if c is not None and str(c).strip()}
    found.discard(None)
    return len(found)


def propose_mapping(
    headers: Sequence[str], kind: SheetKind = "items", explicit: Mapping[str, str | None] | None = None
) -> HeaderMapping:
    """Propose a column for every header; `explicit` (header -> column or None) overrides the proposal.

    Raises ImportRejected for duplicate headers, two headers claiming one column, an explicit mapping to an
    unknown column, or required columns left unmapped (named in the message).
    """
    columns = columns_for(kind)
    explicit_keys = {key(h): c for h, c in (explicit or {}).items()}
    seen: dict[str, int] = {}
    matches: list[ColumnMatch] = []
    for i, raw in enumerate(headers):
        header = (raw or "").strip()
        if not header:
            matches.append(ColumnMatch(i, "", None, 0.0, "unmapped"))
            continue
        k = key(header)
        if k in seen:
            raise ImportRejected(f"{kind}: duplicate header {header!r} (columns {seen[k] + 1} and {i + 1})")
        seen[k] = i
        if k in explicit_keys:
            target = explicit_keys[k] or None
            if target is not None and target not in columns:
                raise ImportRejected(f"{kind}: the mapping names an unknown column {target!r} for {header!r}")
            matches.append(ColumnMatch(i, header, target, 1.0, "explicit" if target else "unmapped"))
            continue
        column, confidence, how = match_header(header, kind)
        matches.append(ColumnMatch(i, header, column, confidence, how))  # type: ignore[arg-type]
    # Two headers for one column: the explicit or better one keeps it when it is clearly better; else reject.
    by_column: dict[str, list[ColumnMatch]] = {}
    for m in matches:
        if m.column is not None:
            by_column.setdefault(m.column, []).append(m)
    final = list(matches)
    for column, claims in by_column.items():
        if len(claims) == 1:
            continue
        ranked = sorted(claims, key=lambda m: (m.how == "explicit", m.confidence), reverse=True)
        best, second = ranked[0], ranked[1]
        if best.how != "explicit" and best.confidence - second.confidence < 0.05:
            names = " and ".join(repr(m.header) for m in claims)
            raise ImportRejected(f"{kind}: headers {names} both map to column {column!r}; map one of them explicitly")
        for loser in ranked[1:]:
            final[loser.index] = ColumnMatch(loser.index, loser.header, None, 0.0, "unmapped")
    mapped = {m.column for m in final if m.column is not None}
    missing = tuple(c for c in required_for(kind) if c not in mapped)
    return HeaderMapping(kind, tuple(final), missing)


def require(mapping: HeaderMapping) -> None:
    """Reject the file when required columns are unmapped."""
    if mapping.missing_required:
        raise ImportRejected(
            f"{mapping.kind}: required column(s) missing: {', '.join(mapping.missing_required)}"
            " (map them explicitly if the file names them differently)"
        )
