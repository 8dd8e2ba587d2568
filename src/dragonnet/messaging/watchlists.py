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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import PartyKind
from dragonnet.errors import ValidationError
from dragonnet.messaging import inbox
from dragonnet.messaging.identifiers import NOMINAL_WATCH_KINDS, WatchKind, check_watch_value, normalise_watch_value
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor, case_visibility, nominal_visibility
from dragonnet.storage.messaging_models import WatchlistEntry, WatchlistHit
from dragonnet.storage.models import Case, CaseIdentifier, Party, User

MAX_ENTRIES = 500


def add_entry(session: Session, actor: Actor, kind: str, value: str, note: str = "") -> WatchlistEntry:
    if not actor.is_authenticated or actor.is_observer_only:
        raise Hidden(actor, "watchlist", "new")
    normalised = check_watch_value(kind, value)
    count = len(session.execute(select(WatchlistEntry.id).where(WatchlistEntry.user_id == actor.user_id)).all())
    if count >= MAX_ENTRIES:
        raise ValidationError(f"at most {MAX_ENTRIES} watchlist entries per user")
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


def check_records(session: Session, records: Iterable[WatchedRecord]) -> int:
    """Notify owners of matching entries (once per entry and record, only where they may see it)."""
    notified = 0
    for record in records:
        wanted = {(k, normalise_watch_value(k, v)) for k, v in record.identifiers if v and v.strip()}
        if not wanted:
            continue
        conds = [and_(WatchlistEntry.kind == k, WatchlistEntry.normalised == n) for k, n in wanted]

        matches = session.execute(
            select(WatchlistEntry, User).join(User).where(or_(*conds), User.is_active.is_(True))
        ).all()
        for entry, owner in matches:
            actor = Actor.for_user(owner)
            if not record.visible_to(actor, entry.kind in NOMINAL_WATCH_KINDS):
                continue
            already = session.execute(
                select(WatchlistHit.id).where(
                    WatchlistHit.entry_id == entry.id,
                    WatchlistHit.record_type == record.record_type,
                    WatchlistHit.record_id == record.record_id,
                )
            ).first()
            if already:
                continue
            try:
                with session.begin_nested():
                    session.add(WatchlistHit(entry_id=entry.id, record_type=record.record_type,
                                             record_id=record.record_id))  # fmt: skip
            except IntegrityError:
                continue
            inbox.notify_user(
                session, owner, kind="watchlist_hit",
                subject=f"Watchlist: {entry.kind} {entry.value!r} appears in {record.label}", link=record.link,
                level=record.sharing_level, object_type=record.record_type, object_id=record.record_id,
            )  # fmt: skip
            audit.record(session, audit.SYSTEM, "watchlist.hit", record.record_type, record.record_id,
                         entry_id=entry.id, owner=owner.username)  # fmt: skip
            notified += 1
    return notified


def _case_visible(session: Session, case_id: int) -> Callable[[Actor, bool], bool]:
    def visible(actor: Actor, nominal: bool) -> bool:
        conds = [Case.id == case_id, case_visibility(actor)]
        if nominal:
            conds.append(nominal_visibility(actor))
        return session.execute(select(Case.id).where(*conds)).first() is not None

    return visible


_IDENTIFIER_KINDS = {k.value for k in WatchKind}


def case_records(session: Session, case_ids: Iterable[int]) -> list[WatchedRecord]:
    ids = sorted(set(case_ids))
    if not ids:
        return []
    out = []
    for case in session.execute(select(Case).where(Case.id.in_(ids))).scalars():
        idents: list[tuple[str, str]] = []
        for ci in session.execute(select(CaseIdentifier).where(CaseIdentifier.case_id == case.id)).scalars():
            if ci.kind in _IDENTIFIER_KINDS:
                idents.append((ci.kind, ci.value))
        for party in session.execute(select(Party).where(Party.case_id == case.id)).scalars():
            kind = WatchKind.COMPANY if party.kind == PartyKind.COMPANY.value else WatchKind.PERSON
            idents.append((kind.value, party.name))
            if party.phone:
                idents.append((WatchKind.PHONE.value, party.phone))
            if party.email:
                idents.append((WatchKind.EMAIL.value, party.email))
            if party.id_number:
                idents.append((WatchKind.PASSPORT.value, party.id_number))
        if case.conveyance_ref:
            idents += [(WatchKind.CONTAINER.value, case.conveyance_ref), (WatchKind.VESSEL.value, case.conveyance_ref),
                       (WatchKind.VEHICLE.value, case.conveyance_ref)]  # fmt: skip
        out.append(
            WatchedRecord(
                "case",
                case.id,
                f"case {case.case_ref}",
                f"/cases/{case.id}",
                case.sharing_level,
                idents,
                _case_visible(session, case.id),
            )
        )
    return out


def check_cases(session: Session, case_ids: Iterable[int]) -> int:
    """Call after writing cases (with their parties and identifiers); returns the notifications made."""
    return check_records(session, case_records(session, case_ids))


def check_parties(session: Session, party_ids: Iterable[int]) -> int:
    """Call after adding parties to cases."""
    ids = sorted(set(party_ids))
    case_ids: list[int] = list(session.execute(select(Party.case_id).where(Party.id.in_(ids))).scalars()) if ids else []
    return check_cases(session, case_ids)
