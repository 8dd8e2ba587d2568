"""Which re-imported cases would not change: same case values, items, route and parties as stored.

A re-upload of a whole file is the everyday way of correcting one row: the other cases in it must stay as
they are (same version, still validated) and be reported as unchanged, not as updated. Both sides are
reduced to the same canonical text (the normalised values the import would write, and the stored ones) and
compared per case. Only cases the import would leave in the same status can be unchanged: a draft or a
withdrawn case is submitted by the import, which is a change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import CaseStatus, SharingLevel
from dragonnet.intake.extra import CASE_EXTRA, ITEM_EXTRA, PARTY_EXTRA, pack
from dragonnet.intake.reader import ROW
from dragonnet.storage.models import Case, CaseTransit, Item, Party

CASE_FIELDS = (
    "seizure_date", "place_locode", "place_name", "place_country", "place_type", "latitude", "longitude", "direction",
    "transport_mode", "conveyance_ref", "detection_method", "concealment", "origin_country", "destination_country",
    "phase_id", "arrests", "sharing_level",
)  # fmt: skip
ITEM_FIELDS = (
    "commodity_class", "substance_text", "substance", "substance_control", "taxon_text", "taxon", "cites_appendix",
    "taxon_status", "taxon_rank", "specimen_type", "quantity", "unit", "quantity_text", "mass_kg", "hs_code",
)  # fmt: skip
PARTY_FIELDS = ("role", "kind", "name", "nationality", "birth_date", "id_number", "phone", "email", "address")
# The statuses an import leaves as they are when the content does not change (it submits drafts and withdrawn
# cases, which is a change).
KEPT_STATUSES = frozenset({CaseStatus.SUBMITTED.value, CaseStatus.VALIDATED.value})
CHUNK = 5_000


def _value(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.9g}")  # the same double read back from either database
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()[:10]
    if isinstance(v, Mapping):
        return {str(k): _value(x) for k, x in sorted(v.items()) if x not in (None, "")} or None
    return v


def _canonical(case: Sequence[Any], items: Iterable[Sequence[Any]], transits: Sequence[str],
               parties: Iterable[Sequence[Any]]) -> str:  # fmt: skip
    return json.dumps(
        [[_value(v) for v in case], [[_value(v) for v in i] for i in items], list(transits),
         sorted(json.dumps([_value(v) for v in p], ensure_ascii=False, default=str) for p in parties)],
        ensure_ascii=False, default=str,
    )  # fmt: skip


def incoming(good: pl.DataFrame, good_cases: pl.DataFrame, parties: pl.DataFrame | None,
             refs: Sequence[str]) -> dict[str, str]:  # fmt: skip
    """case_ref -> canonical text of what the import would write for these refs."""
    wanted = pl.Series(list(refs), dtype=pl.String).implode()
    cases = good_cases.filter(pl.col("case_ref").is_in(wanted))
    item_rows: dict[str, list[list[Any]]] = defaultdict(list)
    for row in good.filter(pl.col("case_ref").is_in(wanted)).sort(ROW).to_dicts():
        item_rows[row["case_ref"]].append([row[f] for f in ITEM_FIELDS] + [row["description"], pack(row, ITEM_EXTRA)])
    party_rows: dict[str, list[list[Any]]] = defaultdict(list)
    if parties is not None:
        for row in parties.filter(pl.col("case_ref").is_in(wanted)).to_dicts():
            party_rows[row["case_ref"]].append([row[f] for f in PARTY_FIELDS] + [pack(row, PARTY_EXTRA)])
    out: dict[str, str] = {}
    for row in cases.to_dicts():
        level = row.get("sharing_level") or SharingLevel.AMBER.value
        as_written: dict[str, Any] = {**row, "arrests": row.get("arrests") or 0, "sharing_level": level}
        case = [as_written[f] for f in CASE_FIELDS] + [pack(as_written, CASE_EXTRA)]
        ref = row["case_ref"]
        out[ref] = _canonical(case, item_rows[ref], list(row["transit_countries"] or []), party_rows[ref])
    return out


def stored(session: Session, case_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """case id -> (status, canonical text of what is stored)."""
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(case_ids), CHUNK):
        ids = list(case_ids[start : start + CHUNK])
        items: dict[int, list[list[Any]]] = defaultdict(list)
        for row in session.execute(
            select(Item.case_id, *(getattr(Item, f) for f in ITEM_FIELDS), Item.goods_description, Item.extra)
            .where(Item.case_id.in_(ids))
            .order_by(Item.case_id, Item.position)
        ):
            items[row[0]].append(list(row[1:]))
        transits: dict[int, list[str]] = defaultdict(list)
        for case_id, country in session.execute(
            select(CaseTransit.case_id, CaseTransit.country)
            .where(CaseTransit.case_id.in_(ids))
            .order_by(CaseTransit.case_id, CaseTransit.position)
        ):
            transits[case_id].append(country)
        parties: dict[int, list[list[Any]]] = defaultdict(list)
        for row in session.execute(
            select(Party.case_id, *(getattr(Party, f) for f in PARTY_FIELDS), Party.extra).where(Party.case_id.in_(ids))
        ):
            parties[row[0]].append(list(row[1:]))
        for row in session.execute(
            select(Case.id, Case.status, *(getattr(Case, f) for f in CASE_FIELDS), Case.extra).where(Case.id.in_(ids))
        ):
            case_id, status = row[0], row[1]
            out[case_id] = (status, _canonical(list(row[2:]), items[case_id], transits[case_id], parties[case_id]))
    return out


def unchanged_refs(
    session: Session,
    existing: Mapping[str, tuple[int, str, int, int]],
    good: pl.DataFrame,
    good_cases: pl.DataFrame,
    parties: pl.DataFrame | None,
    to_update: Sequence[str],
) -> list[str]:
    """The refs among `to_update` whose stored case (in a status the import keeps) equals what would be written."""
    candidates = [r for r in to_update if existing[r][1] in KEPT_STATUSES]
    if not candidates:
        return []
    new = incoming(good, good_cases, parties, candidates)
    old = stored(session, [existing[r][0] for r in candidates])
    return [r for r in candidates if (found := old.get(existing[r][0])) is not None and found[1] == new.get(r)]


__all__ = ["unchanged_refs"]
