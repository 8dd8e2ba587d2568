"""Watchlists: identifiers of interest to a user. A new case (its parties and identifiers) or declaration
that matches an entry notifies the entry's owner, and only if the access policy lets the owner see the match
(the case through `case_visibility`; nominal identifiers and parties also through `nominal_visibility`).
A match the owner may not see leaves no trace they could notice.

Other capabilities call, after writing (in the same transaction):
- `check_cases(session, case_ids)` after creating or importing cases (parties and identifiers included);
- `check_parties(session, party_ids)` after adding parties to existing cases;
- `check_records(session, records)` for other records (e.g. declarations), giving each its identifiers and
  a visibility test for the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import PartyKind
from dragonnet.errors import ValidationError
from dragonnet.hooks import CasesWritten, hookimpl
from dragonnet.i18n import N_, with_values
from dragonnet.messaging import inbox
from dragonnet.messaging.identifiers import NOMINAL_WATCH_KINDS, WatchKind, check_watch_value, normalise_watch_value
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor, case_visibility, nominal_visibility
from dragonnet.storage.messaging_models import WatchlistEntry, WatchlistHit
from dragonnet.storage.models import Case, CaseIdentifier, Party, User

MAX_ENTRIES = 500
TOO_MANY_ENTRIES = with_values(N_("at most %(max)s watchlist entries per user"))  # translated on pages


def add_entry(session: Session, actor: Actor, kind: str, value: str, note: str = "") -> WatchlistEntry:
    if not actor.is_authenticated or actor.is_observer_only:
        raise Hidden(actor, "watchlist", "new")
    normalised = check_watch_value(kind, value)
    count = len(session.execute(select(WatchlistEntry.id).where(WatchlistEntry.user_id == actor.user_id)).all())
    if count >= MAX_ENTRIES:
        raise ValidationError(TOO_MANY_ENTRIES % {"max": MAX_ENTRIES})
    existing = session.execute(
        select(WatchlistEntry).where(
            WatchlistEntry.user_id == actor.user_id,
            WatchlistEntry.kind == kind,
            WatchlistEntry.normalised == normalised,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    entry = WatchlistEntry(user_id=actor.user_id, kind=kind, value=value.strip(), normalised=normalised,
                           note=note.strip()[:1000])  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(session, audit_actor(actor), "watchlist.add", "watchlist_entry", entry.id, kind=kind)
    return entry


def remove_entry(session: Session, actor: Actor, entry_id: int) -> None:
    entry = session.get(WatchlistEntry, entry_id)
    if entry is None or entry.user_id != actor.user_id:
        raise Hidden(actor, "watchlist_entry", entry_id)
    session.delete(entry)
    session.flush()
    audit.record(session, audit_actor(actor), "watchlist.remove", "watchlist_entry", entry_id)


def entries(session: Session, actor: Actor) -> list[WatchlistEntry]:
    return list(
        session.execute(
            select(WatchlistEntry).where(WatchlistEntry.user_id == actor.user_id).order_by(WatchlistEntry.id)
        ).scalars()
    )


def hits(session: Session, actor: Actor) -> list[tuple[WatchlistHit, WatchlistEntry]]:
    return [
        (h, e)
        for h, e in session.execute(
            select(WatchlistHit, WatchlistEntry)
            .join(WatchlistEntry, WatchlistEntry.id == WatchlistHit.entry_id)
            .where(WatchlistEntry.user_id == actor.user_id)
            .order_by(WatchlistHit.id.desc())
        ).all()
    ]


# --- matching ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchedRecord:
    """A record to compare with the watchlists: identifiers as (watch kind, raw value)."""

    record_type: str  # "case", "declaration", ...
    record_id: int
    label: str
    link: str
    sharing_level: str
    identifiers: Sequence[tuple[str, str]]
    # May this owner see the record? `nominal` asks for the nominal part (parties, phones, passports...).
    visible_to: Callable[[Actor, bool], bool]


def _watched(session: Session) -> dict[tuple[str, str], list[tuple[WatchlistEntry, User]]]:
    """Every active user's entries, keyed by (kind, normalised value): loaded once per check."""
    index: dict[tuple[str, str], list[tuple[WatchlistEntry, User]]] = {}
    for entry, owner in session.execute(
        select(WatchlistEntry, User).join(User).where(User.is_active.is_(True)).order_by(WatchlistEntry.id)
    ).all():
        index.setdefault((entry.kind, entry.normalised), []).append((entry, owner))
    return index


def check_records(session: Session, records: Iterable[WatchedRecord]) -> int:
    """Notify owners of matching entries (once per entry and record, only where they may see it).

    The entries are loaded once and each record's identifiers are looked up in memory (normalised once per
    distinct value), so a 10^5-case import costs a few dictionary lookups per identifier, not queries."""
    return _check(session, records, _watched(session))


def _check(
    session: Session,
    records: Iterable[WatchedRecord],
    watched: dict[tuple[str, str], list[tuple[WatchlistEntry, User]]],
) -> int:
    if not watched:
        return 0
    normalised: dict[tuple[str, str], str] = {}
    notified = 0
    for record in records:
        matches: list[tuple[WatchlistEntry, User]] = []
        for kind, value in record.identifiers:
            if not value or not value.strip():
                continue
            key = (kind, value)
            if key not in normalised:
                normalised[key] = normalise_watch_value(kind, value)
            matches.extend(watched.get((kind, normalised[key]), ()))
        seen: set[int] = set()
        for entry, owner in matches:
            if entry.id in seen:
                continue
            seen.add(entry.id)
            notified += _notify(session, record, entry, owner)
    return notified


def _notify(session: Session, record: WatchedRecord, entry: WatchlistEntry, owner: User) -> int:
    actor = Actor.for_user(owner)
    if not record.visible_to(actor, entry.kind in NOMINAL_WATCH_KINDS):
        return 0
    already = session.execute(
        select(WatchlistHit.id).where(
            WatchlistHit.entry_id == entry.id,
            WatchlistHit.record_type == record.record_type,
            WatchlistHit.record_id == record.record_id,
        )
    ).first()
    if already:
        return 0
    try:
        with session.begin_nested():
            session.add(WatchlistHit(entry_id=entry.id, record_type=record.record_type, record_id=record.record_id))
    except IntegrityError:
        return 0
    inbox.notify_user(
        session, owner, kind="watchlist_hit",
        subject=f"Watchlist: {entry.kind} {entry.value!r} appears in {record.label}", link=record.link,
        level=record.sharing_level, object_type=record.record_type, object_id=record.record_id,
    )  # fmt: skip
    audit.record(session, audit.SYSTEM, "watchlist.hit", record.record_type, record.record_id,
                 entry_id=entry.id, owner=owner.username)  # fmt: skip
    return 1


def _case_visible(session: Session, case_id: int) -> Callable[[Actor, bool], bool]:
    def visible(actor: Actor, nominal: bool) -> bool:
        conds = [Case.id == case_id, case_visibility(actor)]
        if nominal:
            conds.append(nominal_visibility(actor))
        return session.execute(select(Case.id).where(*conds)).first() is not None

    return visible


_IDENTIFIER_KINDS = [k.value for k in WatchKind]
_CHUNK = 5_000
_VALUES_SCHEMA = pl.Schema({"case_id": pl.Int64, "kind": pl.String, "value": pl.String})


def case_watch_values(
    cases: pl.DataFrame, parties: pl.DataFrame | None = None, identifiers: pl.DataFrame | None = None
) -> pl.DataFrame:
    """What of a case is compared with the watchlists, as (case_id, kind, value) rows: the conveyance as a
    container, vessel or vehicle; each party's name (person or company), phone, e-mail and document number;
    identifiers of a watchable kind. `cases` has case_id and conveyance_ref; `parties` has case_id, kind,
    name, phone, email and id_number; `identifiers` has case_id, kind and value. The one definition, used on
    cases read back from the database and on an import's frames before they are written."""
    conveyance = pl.col("conveyance_ref")
    parts = [
        cases.filter(conveyance.is_not_null() & (conveyance != "")).select(
            pl.col("case_id").cast(pl.Int64), pl.lit(kind.value).alias("kind"), conveyance.alias("value")
        )
        for kind in (WatchKind.CONTAINER, WatchKind.VESSEL, WatchKind.VEHICLE)
    ]
    if parties is not None:
        name_kind = (
            pl.when(pl.col("kind") == PartyKind.COMPANY.value)
            .then(pl.lit(WatchKind.COMPANY.value))
            .otherwise(pl.lit(WatchKind.PERSON.value))
        )
        parts.append(
            parties.select(pl.col("case_id").cast(pl.Int64), name_kind.alias("kind"), pl.col("name").alias("value"))
        )
        for column, kind in (("phone", WatchKind.PHONE), ("email", WatchKind.EMAIL), ("id_number", WatchKind.PASSPORT)):
            parts.append(
                parties.select(
                    pl.col("case_id").cast(pl.Int64), pl.lit(kind.value).alias("kind"), pl.col(column).alias("value")
                )
            )
    if identifiers is not None:
        parts.append(
            identifiers.filter(pl.col("kind").is_in(_IDENTIFIER_KINDS)).select(
                pl.col("case_id").cast(pl.Int64), pl.col("kind"), pl.col("value")
            )
        )
    values = pl.concat([p.cast(_VALUES_SCHEMA) for p in parts])
    return values.filter(pl.col("value").is_not_null() & (pl.col("value").str.strip_chars() != ""))


def _matching(values: pl.DataFrame, watched: dict[tuple[str, str], list[tuple[WatchlistEntry, User]]]) -> pl.DataFrame:
    """The rows of `values` whose normalised value is watched. Only watched kinds are normalised, each distinct
    (kind, value) once, with the same function the entries were normalised with."""
    kinds = sorted({kind for kind, _ in watched})
    distinct = values.filter(pl.col("kind").is_in(kinds)).select("kind", "value").unique()
    keys = set(watched)
    hit = [(kind, value) for kind, value in distinct.iter_rows() if (kind, normalise_watch_value(kind, value)) in keys]
    found = pl.DataFrame(hit, schema={"kind": pl.String, "value": pl.String}, orient="row")
    return values.join(found, on=["kind", "value"], how="semi")


def _read_frames(session: Session, chunk: Sequence[int]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    def frame(stmt: Any, schema: dict[str, Any]) -> pl.DataFrame:
        return pl.DataFrame([tuple(r) for r in session.execute(stmt)], schema=schema, orient="row")

    cases = frame(select(Case.id, Case.conveyance_ref).where(Case.id.in_(chunk)),
                  {"case_id": pl.Int64, "conveyance_ref": pl.String})  # fmt: skip
    parties = frame(
        select(Party.case_id, Party.kind, Party.name, Party.phone, Party.email, Party.id_number).where(
            Party.case_id.in_(chunk)
        ),
        {"case_id": pl.Int64, "kind": pl.String, "name": pl.String, "phone": pl.String, "email": pl.String,
         "id_number": pl.String},
    )  # fmt: skip
    identifiers = frame(
        select(CaseIdentifier.case_id, CaseIdentifier.kind, CaseIdentifier.value).where(
            CaseIdentifier.case_id.in_(chunk)
        ),
        _VALUES_SCHEMA,
    )
    return cases, parties, identifiers


def _records(session: Session, values: pl.DataFrame) -> Iterator[WatchedRecord]:
    by_case: dict[int, list[tuple[str, str]]] = {}
    for case_id, kind, value in values.iter_rows():
        by_case.setdefault(case_id, []).append((kind, value))
    if not by_case:
        return
    for case_id, case_ref, sharing_level in session.execute(
        select(Case.id, Case.case_ref, Case.sharing_level).where(Case.id.in_(list(by_case))).order_by(Case.id)
    ):
        yield WatchedRecord("case", case_id, f"case {case_ref}", f"/cases/{case_id}", sharing_level,
                            by_case[case_id], _case_visible(session, case_id))  # fmt: skip


def check_cases(session: Session, case_ids: Iterable[int]) -> int:
    """Call after writing cases (with their parties and identifiers); returns the notifications made.

    Each chunk of cases is read back as frames and matched against the entries in bulk; only the cases with
    a watched value become records to check one by one (visibility, once per entry and record)."""
    return _check_case_ids(session, case_ids, _watched(session))


def _check_case_ids(
    session: Session, case_ids: Iterable[int], watched: dict[tuple[str, str], list[tuple[WatchlistEntry, User]]]
) -> int:
    if not watched:  # nobody watches anything: no need to read the cases back
        return 0
    ids = sorted(set(case_ids))
    notified = 0
    for start in range(0, len(ids), _CHUNK):
        values = case_watch_values(*_read_frames(session, ids[start : start + _CHUNK]))
        notified += _check(session, _records(session, _matching(values, watched)), watched)
    return notified


def check_written_cases(session: Session, cases: pl.DataFrame, parties: pl.DataFrame | None = None) -> int:
    """`check_cases` for cases just written from frames (an import): the frames are matched in bulk and only the
    cases with a watched value are read back and checked, so a large import does not read itself back."""
    watched = _watched(session)
    if not watched:
        return 0
    candidates = _matching(case_watch_values(cases, parties), watched)
    return _check_case_ids(session, candidates.get_column("case_id").unique().to_list(), watched)


@hookimpl
def cases_written(session: Session, written: CasesWritten) -> int:
    """The watchlists' answer to `hooks.cases_written`: check what intake wrote, in its transaction."""
    if written.cases is not None:
        return check_written_cases(session, written.cases, written.parties)
    return check_cases(session, written.case_ids)


def check_parties(session: Session, party_ids: Iterable[int]) -> int:
    """Call after adding parties to cases."""
    ids = sorted(set(party_ids))
    case_ids: list[int] = list(session.execute(select(Party.case_id).where(Party.id.in_(ids))).scalars()) if ids else []
    return check_cases(session, case_ids)
