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

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import ARRAY, String, any_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import PartyKind
from dragonnet.errors import ValidationError
from dragonnet.hooks import CasesWritten, hookimpl
from dragonnet.i18n import N_, with_values
from dragonnet.messaging import inbox
from dragonnet.messaging.identifiers import (
    NOMINAL_WATCH_KINDS,
    WatchKind,
    check_watch_value,
    normalise_watch_value,
    normalise_watch_values,
)
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
    # None: a case, whose visibility is asked of the policy for many cases of one owner at once.
    visible_to: Callable[[Actor, bool], bool] | None = None


class Watched(NamedTuple):
    """A watchlist entry of an active user, as plain values (no ORM object per entry)."""

    id: int
    user_id: int
    kind: str
    value: str


WatchIndex = dict[tuple[str, str], list[Watched]]  # (kind, normalised value) -> entries, in id order
WatchedKinds = dict[str, int]  # kind -> how many entries of active users watch it
_IN_CHUNK = 5_000  # values per IN list: under SQLite's bound-parameter limit; an API batch fits in one


def _watched_kinds(session: Session) -> WatchedKinds:
    """The kinds active users watch, with their number of entries: values of other kinds are not even
    normalised, and the count says which of the two reads of `_watched` is smaller."""
    query = select(WatchlistEntry.kind, func.count()).join(User).where(User.is_active.is_(True))
    return {kind: int(n) for kind, n in session.execute(query.group_by(WatchlistEntry.kind))}


def _watched(session: Session, wanted: Iterable[tuple[str, str]], kinds: WatchedKinds) -> WatchIndex:
    """The active users' entries whose (kind, normalised value) is among `wanted`, by one query per kind with
    the batch's distinct normalised values: a form's or an API batch's values read only their entries, never
    everyone's lists (on PostgreSQL `= ANY(array)`: one parameter, where 1,000 IN parameters cost ~10 ms; on
    SQLite IN lists of `_IN_CHUNK` values). A batch with more than `_IN_CHUNK` distinct values of a kind (a
    large import) reads that kind's entries whole if there are fewer of them than values (the same matches,
    fewer rows)."""
    by_kind: dict[str, set[str]] = {}
    for kind, value in wanted:
        by_kind.setdefault(kind, set()).add(value)
    columns = (WatchlistEntry.id, WatchlistEntry.user_id, WatchlistEntry.kind, WatchlistEntry.value,
               WatchlistEntry.normalised)  # fmt: skip
    index: WatchIndex = {}
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    for kind, values in sorted(by_kind.items()):
        of_kind = select(*columns).join(User).where(User.is_active.is_(True), WatchlistEntry.kind == kind)
        if len(values) > _IN_CHUNK and kinds.get(kind, 0) <= len(values):
            queries = [of_kind]
        elif on_postgresql:  # one array parameter, however many values
            wanted_values = bindparam("values", sorted(values), type_=ARRAY(String))
            queries = [of_kind.where(WatchlistEntry.normalised == any_(wanted_values))]
        else:
            ordered = sorted(values)
            queries = [of_kind.where(WatchlistEntry.normalised.in_(ordered[i : i + _IN_CHUNK]))
                       for i in range(0, len(ordered), _IN_CHUNK)]  # fmt: skip
        for query in queries:
            for entry_id, user_id, entry_kind, value, normalised in session.execute(query):
                if normalised in values:
                    index.setdefault((entry_kind, normalised), []).append(Watched(entry_id, user_id, entry_kind, value))
    for found in index.values():
        found.sort()
    return index


def check_records(session: Session, records: Iterable[WatchedRecord]) -> int:
    """Notify owners of matching entries (once per entry and record, only where they may see it).

    Each distinct identifier is normalised once and only the entries with those normalised values are loaded
    (one query per kind); the hits are then written together (`_write_hits`)."""
    records = list(records)
    kinds = _watched_kinds(session)
    if not kinds:
        return 0
    normalised = {
        (kind, value): normalise_watch_value(kind, value)
        for record in records
        for kind, value in record.identifiers
        if kind in kinds and value and value.strip()
    }
    wanted = ((kind, norm) for (kind, _), norm in normalised.items())
    return _check(session, records, normalised, _watched(session, wanted, kinds))


def _matches(
    records: Iterable[WatchedRecord], normalised: dict[tuple[str, str], str], watched: WatchIndex
) -> list[tuple[WatchedRecord, Watched]]:
    """(record, entry) pairs in the order the hits are written: records in order, each record's entries in the
    order of its identifiers, an entry once per record."""
    pairs: list[tuple[WatchedRecord, Watched]] = []
    for record in records:
        seen: set[int] = set()
        for kind, value in record.identifiers:
            key = normalised.get((kind, value))
            if key is None:
                continue
            for entry in watched.get((kind, key), ()):
                if entry.id not in seen:
                    seen.add(entry.id)
                    pairs.append((record, entry))
    return pairs


def _check(
    session: Session, records: Iterable[WatchedRecord], normalised: dict[tuple[str, str], str], watched: WatchIndex
) -> int:
    if not watched:
        return 0
    pairs = _matches(records, normalised, watched)
    if not pairs:
        return 0
    owners = {
        u.id: u for u in session.execute(select(User).where(User.id.in_({e.user_id for _, e in pairs}))).scalars()
    }
    return _write_hits(session, owners, _visible(session, owners, pairs))


def _visible(
    session: Session, owners: dict[int, User], pairs: list[tuple[WatchedRecord, Watched]]
) -> list[tuple[WatchedRecord, Watched]]:
    """The pairs whose owner may see the record (its nominal part too for a nominal kind). Cases: per owner, one
    query over all their matched cases with the policy's own conditions; other records: their `visible_to`."""
    cases_of: dict[int, set[int]] = {}
    for record, entry in pairs:
        if record.visible_to is None:
            cases_of.setdefault(entry.user_id, set()).add(record.record_id)
    seen_cases: dict[int, dict[int, bool]] = {}  # owner -> visible case -> nominal part visible too
    for user_id, case_ids in cases_of.items():
        actor = Actor.for_user(owners[user_id])
        seen_cases[user_id] = {}
        ordered = sorted(case_ids)
        for start in range(0, len(ordered), _IN_CHUNK):
            query = select(Case.id, nominal_visibility(actor).label("nominal")).where(
                Case.id.in_(ordered[start : start + _IN_CHUNK]), case_visibility(actor)
            )
            seen_cases[user_id].update((case_id, bool(nominal)) for case_id, nominal in session.execute(query))
    visible: list[tuple[WatchedRecord, Watched]] = []
    for record, entry in pairs:
        nominal = entry.kind in NOMINAL_WATCH_KINDS
        if record.visible_to is not None:
            if record.visible_to(Actor.for_user(owners[entry.user_id]), nominal):
                visible.append((record, entry))
            continue
        case_nominal = seen_cases[entry.user_id].get(record.record_id)
        if case_nominal is not None and (case_nominal or not nominal):
            visible.append((record, entry))
    return visible


def _already_hit(session: Session, pairs: list[tuple[WatchedRecord, Watched]]) -> set[tuple[int, str, int]]:
    """(entry, record type, record id) of the pairs whose owner was told before: one query per record type."""
    found: set[tuple[int, str, int]] = set()
    by_type: dict[str, set[int]] = {}
    for record, _ in pairs:
        by_type.setdefault(record.record_type, set()).add(record.record_id)
    entry_ids = sorted({entry.id for _, entry in pairs})
    for record_type, ids in by_type.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), _IN_CHUNK):
            query = select(WatchlistHit.entry_id, WatchlistHit.record_id).where(
                WatchlistHit.record_type == record_type,
                WatchlistHit.record_id.in_(ordered[start : start + _IN_CHUNK]),
                WatchlistHit.entry_id.in_(entry_ids),
            )
            found.update((entry_id, record_type, record_id) for entry_id, record_id in session.execute(query))
    return found


def _insert_hits(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the hits in one statement; the rows that went in. A concurrent transaction that recorded one of
    them first (the unique constraint) only costs the slow path, row by row, skipping what it wrote."""
    try:
        with session.begin_nested():
            session.execute(insert(WatchlistHit), rows)
        return rows
    except IntegrityError:
        written = []
        for row in rows:
            try:
                with session.begin_nested():
                    session.execute(insert(WatchlistHit), [row])
                written.append(row)
            except IntegrityError:
                continue
        return written


def _write_hits(session: Session, owners: dict[int, User], pairs: list[tuple[WatchedRecord, Watched]]) -> int:
    """Record the new hits, notify their owners and audit each hit, all in bulk (same rows, same order as one
    by one: a hit, its notification and its audit entry per pair)."""
    if not pairs:
        return 0
    already = _already_hit(session, pairs)
    new = [(r, e) for r, e in pairs if (e.id, r.record_type, r.record_id) not in already]
    if not new:
        return 0
    rows = [{"entry_id": e.id, "record_type": r.record_type, "record_id": r.record_id} for r, e in new]
    written = {(row["entry_id"], row["record_type"], row["record_id"]) for row in _insert_hits(session, rows)}
    new = [(r, e) for r, e in new if (e.id, r.record_type, r.record_id) in written]
    inbox.notify_users(
        session,
        [
            inbox.UserNotice(
                owners[e.user_id],
                kind="watchlist_hit",
                subject=f"Watchlist: {e.kind} {e.value!r} appears in {r.label}",
                link=r.link,
                level=r.sharing_level,
                object_type=r.record_type,
                object_id=r.record_id,
            )
            for r, e in new
        ],
    )
    audit.record_many(
        session,
        audit.SYSTEM,
        [
            ("watchlist.hit", r.record_type, r.record_id, {"entry_id": e.id, "owner": owners[e.user_id].username})
            for r, e in new
        ],
    )
    return len(new)


_IDENTIFIER_KINDS = [k.value for k in WatchKind]
_NAME_KINDS = (WatchKind.COMPANY.value, WatchKind.PERSON.value)  # a party's name is watched as one of these
_CHUNK = 5_000
_VALUES_SCHEMA = pl.Schema({"case_id": pl.Int64, "kind": pl.String, "value": pl.String})


def case_watch_values(
    cases: pl.DataFrame, parties: pl.DataFrame | None = None, identifiers: pl.DataFrame | None = None,
    kinds: Collection[str] | None = None,
) -> pl.DataFrame:  # fmt: skip
    """What of a case is compared with the watchlists, as (case_id, kind, value) rows: the conveyance as a
    container, vessel or vehicle; each party's name (person or company), phone, e-mail and document number;
    identifiers of a watchable kind. `cases` has case_id and conveyance_ref; `parties` has case_id, kind,
    name, phone, email and id_number; `identifiers` has case_id, kind and value. The one definition, used on
    cases read back from the database and on an import's frames before they are written. With `kinds`, only the
    values of those kinds (the watched ones: a batch builds no frame for a kind nobody watches)."""

    def wanted(kind: str) -> bool:
        return kinds is None or kind in kinds

    conveyance = pl.col("conveyance_ref")
    parts = [
        cases.filter(conveyance.is_not_null() & (conveyance != "")).select(
            pl.col("case_id").cast(pl.Int64), pl.lit(kind.value).alias("kind"), conveyance.alias("value")
        )
        for kind in (WatchKind.CONTAINER, WatchKind.VESSEL, WatchKind.VEHICLE)
        if wanted(kind.value)
    ]
    if parties is not None:
        name_kinds = [k for k in _NAME_KINDS if wanted(k)]
        if name_kinds:
            name_kind = (
                pl.when(pl.col("kind") == PartyKind.COMPANY.value)
                .then(pl.lit(WatchKind.COMPANY.value))
                .otherwise(pl.lit(WatchKind.PERSON.value))
            )
            case_id = pl.col("case_id").cast(pl.Int64)
            names = parties.select(case_id, name_kind.alias("kind"), pl.col("name").alias("value"))
            if len(name_kinds) < len(_NAME_KINDS):  # one of the two: its names only
                names = names.filter(pl.col("kind").is_in(name_kinds))
            parts.append(names)
        for column, kind in (("phone", WatchKind.PHONE), ("email", WatchKind.EMAIL), ("id_number", WatchKind.PASSPORT)):
            if not wanted(kind.value):
                continue
            parts.append(
                parties.select(
                    pl.col("case_id").cast(pl.Int64), pl.lit(kind.value).alias("kind"), pl.col(column).alias("value")
                )
            )
    identifier_kinds = [k for k in _IDENTIFIER_KINDS if wanted(k)]
    if identifiers is not None and identifier_kinds:
        parts.append(
            identifiers.filter(pl.col("kind").is_in(identifier_kinds)).select(
                pl.col("case_id").cast(pl.Int64), pl.col("kind"), pl.col("value")
            )
        )
    if not parts:
        return pl.DataFrame(schema=_VALUES_SCHEMA)
    values = pl.concat([p.cast(_VALUES_SCHEMA) for p in parts])
    return values.filter(pl.col("value").is_not_null() & (pl.col("value").str.strip_chars() != ""))


def _lookup(
    session: Session, values: pl.DataFrame, kinds: WatchedKinds
) -> tuple[dict[tuple[str, str], str], WatchIndex, pl.DataFrame]:
    """Normalise each distinct (kind, value) of a watched kind once (with the function the entries were
    normalised with, column-wise where it can be), load the entries holding those normalised values, and keep
    the rows of `values` that match one: (normalised values of those rows, entries, matching rows)."""
    distinct = values.filter(pl.col("kind").is_in(list(kinds))).select("kind", "value").unique()
    table = pl.concat(
        [
            group.with_columns(normalise_watch_values(str(kind), group.get_column("value")).alias("normalised"))
            for (kind,), group in distinct.group_by("kind")
        ],
        how="vertical",
    ) if not distinct.is_empty() else distinct.with_columns(pl.lit("").alias("normalised"))  # fmt: skip
    watched = _watched(session, table.select("kind", "normalised").iter_rows(), kinds)
    keys = pl.DataFrame(list(watched), schema={"kind": pl.String, "normalised": pl.String}, orient="row")
    found = table.join(keys, on=["kind", "normalised"], how="semi")
    normalised = {(kind, value): norm for kind, value, norm in found.iter_rows()}
    return normalised, watched, values.join(found.select("kind", "value"), on=["kind", "value"], how="semi")


def _read_frames(session: Session, chunk: Sequence[int]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    def frame(stmt: Any, schema: dict[str, Any]) -> pl.DataFrame:
        return pl.DataFrame([tuple(r) for r in session.execute(stmt)], schema=schema, orient="row")

    cases = frame(select(Case.id, Case.conveyance_ref).where(Case.id.in_(chunk)),
                  {"case_id": pl.Int64, "conveyance_ref": pl.String})  # fmt: skip
    parties = frame(
        select(Party.case_id, Party.kind, Party.name, Party.phone, Party.email, Party.id_number).where(
            Party.case_id.in_(chunk)
        ),
        {
            "case_id": pl.Int64,
            "kind": pl.String,
            "name": pl.String,
            "phone": pl.String,
            "email": pl.String,
            "id_number": pl.String,
        },
    )
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
                            by_case[case_id])  # fmt: skip


def check_cases(session: Session, case_ids: Iterable[int]) -> int:
    """Call after writing cases (with their parties and identifiers); returns the notifications made.

    Each chunk of cases is read back as frames and matched in bulk against the entries holding its normalised
    values; the hits are checked and written together (`_check`)."""
    kinds = _watched_kinds(session)
    return _check_case_ids(session, case_ids, kinds) if kinds else 0  # nobody watches: no need to read back


def _check_case_ids(session: Session, case_ids: Iterable[int], kinds: WatchedKinds) -> int:
    ids = sorted(set(case_ids))
    notified = 0
    for start in range(0, len(ids), _CHUNK):
        values = case_watch_values(*_read_frames(session, ids[start : start + _CHUNK]), kinds=kinds)
        normalised, watched, matching = _lookup(session, values, kinds)
        if watched:
            notified += _check(session, _records(session, matching), normalised, watched)
    return notified


def check_written_cases(session: Session, cases: pl.DataFrame, parties: pl.DataFrame | None = None) -> int:
    """`check_cases` for cases just written from frames (an import, an API batch): the frames hold everything of
    those cases that is watched (the writer derives their identifiers from the parties), so they are matched in
    bulk and nothing is read back but the matching cases' ref and sharing level (`_records`)."""
    kinds = _watched_kinds(session)
    if not kinds:
        return 0
    normalised, watched, matching = _lookup(session, case_watch_values(cases, parties, kinds=kinds), kinds)
    return _check(session, _records(session, matching), normalised, watched)  # a generator: read only on a match


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
