"""An import tells watchlist owners of the cases it writes, in the same transaction, under the access policy."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.domain.identifiers import iso6346_check_digit
from dragonnet.intake import bulk, forms
from dragonnet.messaging import watchlists
from dragonnet.messaging.identifiers import (
    NOMINAL_WATCH_KINDS,
    WatchKind,
    normalise_watch_value,
    normalise_watch_values,
)
from dragonnet.policy.access import Actor, case_visibility, nominal_visibility
from dragonnet.policy.users import create_user
from dragonnet.storage.messaging_models import EmailOutbox, Notification, WatchlistEntry, WatchlistHit
from dragonnet.storage.models import AuditEvent, Case, CaseIdentifier, Operation, User

from .helpers import HEADER, csv_bytes, xlsx_bytes
from .test_importer import row, run

WATCHED = "MSCU1234566"


def _container(serial: int) -> str:
    """A valid container number (the import checks the ISO 6346 digit of anything written like one)."""
    code = f"TCLU{serial:06d}"
    return f"{code}{iso6346_check_digit(code)}"


def test_import_notifies_owners_who_may_see_the_case(session: Session, operation: Operation) -> None:
    vn = create_user(session, username="vn.watcher", password="watch-Pa55word-long", agency_code="VN-CUS",
                     roles=["national_coordinator"], enforce_policy=False)  # fmt: skip
    th = create_user(session, username="th.watcher", password="watch-Pa55word-long", agency_code="TH-CUS",
                     roles=["national_coordinator"], enforce_policy=False)  # fmt: skip
    for user in (vn, th):
        watchlists.add_entry(session, Actor.for_user(user), "container", "mscu 123456-6")
    watchlists.add_entry(session, Actor.for_user(vn), "container", "TGHU8720350")  # matches nothing
    session.commit()

    header = [*HEADER, "conveyance_ref", "sharing_level"]
    rows = [[*row(f"VN-{i}"), WATCHED if i % 2 else _container(i), "red" if i == 3 else "green"] for i in range(6)]
    report = run(session, csv_bytes(rows, header))
    assert report.ok and report.cases_created == 6, report.errors

    watched_cases = set(session.execute(select(Case.id).where(Case.conveyance_ref == WATCHED)).scalars())
    assert len(watched_cases) == 3

    def hit_cases(user_id: int) -> list[int]:
        return sorted(
            session.execute(
                select(WatchlistHit.record_id)
                .join(WatchlistEntry, WatchlistEntry.id == WatchlistHit.entry_id)
                .where(WatchlistHit.record_type == "case", WatchlistEntry.user_id == user_id)
            ).scalars()
        )

    def messages(user_id: int) -> list[str]:
        return sorted(
            session.execute(
                select(Notification.link).where(Notification.user_id == user_id, Notification.kind == "watchlist_hit")
            ).scalars()
        )

    for user in (vn, th):
        visible = sorted(
            session.execute(
                select(Case.id).where(Case.id.in_(watched_cases), case_visibility(Actor.for_user(user)))
            ).scalars()
        )
        assert hit_cases(user.id) == visible, user.username
        assert messages(user.id) == sorted(f"/cases/{cid}" for cid in visible)
    assert hit_cases(vn.id) == sorted(watched_cases)  # the owner's own agency sees all three

    # Re-importing the same file leaves the cases as they are and does not notify twice; nor does an update.
    before = (hit_cases(vn.id), hit_cases(th.id), messages(vn.id), messages(th.id))
    again = run(session, csv_bytes(rows, header))
    assert (again.cases_updated, again.cases_unchanged) == (0, 6)
    assert (hit_cases(vn.id), hit_cases(th.id), messages(vn.id), messages(th.id)) == before
    changed = [[*r[:-1], "amber" if r[-1] == "green" else r[-1]] for r in rows]
    again = run(session, csv_bytes(changed, header))
    assert again.cases_updated == 5
    assert (hit_cases(vn.id), hit_cases(th.id), messages(vn.id), messages(th.id)) == before


def test_import_matches_watched_parties_by_their_normalised_values(session: Session, operation: Operation) -> None:
    vn = create_user(session, username="vn.watcher", password="watch-Pa55word-long", agency_code="VN-CUS",
                     roles=["national_coordinator"], enforce_policy=False)  # fmt: skip
    actor = Actor.for_user(vn)
    watchlists.add_entry(session, actor, "person", "TRAN THI B")  # folded: matches "Trần Thị B"
    watchlists.add_entry(session, actor, "phone", "0912.345.678")
    watchlists.add_entry(session, actor, "email", "nobody@example.org")
    session.commit()
    parties: list[list[object]] = [
        ["case_ref", "reporting_agency", "role", "kind", "name", "phone", "email"],
        ["VN-1", "VN-CUS", "courier", "person", "Trần Thị B", "", "b@mail.vn"],
        ["VN-2", "VN-CUS", "consignee", "company", "Công ty B", "0912 345 678", ""],
        ["VN-3", "VN-CUS", "courier", "person", "Nguyễn Văn C", "", ""],
    ]
    report = run(session, xlsx_bytes({"items": [HEADER, row("VN-1"), row("VN-2"), row("VN-3")], "parties": parties}),
                 "c.xlsx")  # fmt: skip
    assert report.ok and report.parties_imported == 3, report.errors
    hits = session.execute(
        select(WatchlistEntry.kind, Case.case_ref)
        .join(WatchlistHit, WatchlistHit.entry_id == WatchlistEntry.id)
        .join(Case, Case.id == WatchlistHit.record_id)
        .order_by(Case.case_ref)
    ).all()
    assert [tuple(h) for h in hits] == [("person", "VN-1"), ("phone", "VN-2")]


# One value of every watchable kind, as an entry would spell it and as a file or form holds it.
_PLANTED = {
    "container": ("mscu 123456-6", WATCHED),
    "vessel": ("9074729", "IMO 9074729"),
    "vehicle": ("51a 12345", "51A-123.45"),
    "person": ("TRAN THI B", "Trần Thị B"),
    "company": ("cong ty mekong", "Công ty Mekong"),
    "phone": ("0912.345.678", "0912 345 678"),
    "email": ("B@Mail.VN", "b@mail.vn"),
    "passport": ("c1234567", "C 1234567"),
    "bank_account": ("VN12 3456 7890", "vn1234567890"),
}


def _visible_hits(session: Session, owners: list[User], holds: dict[str, set[int]]) -> set[tuple[str, str, int]]:
    """(owner, kind, case id) for each case holding a planted value of `kind` that the owner may see (its nominal
    part too for a nominal kind): the hits a check must write, each once."""
    expected = set()
    for user in owners:
        actor = Actor.for_user(user)
        for kind, case_ids in holds.items():
            for case_id in case_ids:
                conds = [Case.id == case_id, case_visibility(actor)]
                if kind in NOMINAL_WATCH_KINDS:
                    conds.append(nominal_visibility(actor))
                if session.execute(select(Case.id).where(*conds)).first() is not None:
                    expected.add((user.username, kind, case_id))
    return expected


@pytest.mark.parametrize(("in_chunk", "decoys"), [(5_000, 8), (1, 0)], ids=["in-lists", "whole-kinds"])
def test_every_kind_in_a_batch_notifies_each_owner_once(
    session: Session, operation: Operation, monkeypatch: pytest.MonkeyPatch, in_chunk: int, decoys: int
) -> None:
    """Values of every kind planted in one import (and a bank account added after): each owner is told once per
    entry and visible case (its nominal part too for a nominal kind), with one audit entry per hit; checking
    again tells nobody anything. Entries are read by the batch's values (more entries than values: decoys), or,
    past `_IN_CHUNK` values (lowered to 1 here), a kind's entries whole when there are fewer of them."""
    monkeypatch.setattr(watchlists, "_IN_CHUNK", in_chunk)
    owners = [
        create_user(
            session,
            username=f"{code.lower()}.watcher",
            password="watch-Pa55word-long",
            agency_code=f"{code}-CUS",
            roles=["national_coordinator"],
            enforce_policy=False,
        )
        for code in ("VN", "TH")
    ]
    for user in owners:
        for kind, (entry_value, _) in _PLANTED.items():
            watchlists.add_entry(session, Actor.for_user(user), kind, entry_value)
    session.add_all(
        WatchlistEntry(user_id=owners[1].id, kind=kind, value=f"decoy {n}", normalised=f"DECOY{n}")
        for kind in _PLANTED
        for n in range(decoys)
    )
    session.commit()

    levels = ["green", "amber", "red"]
    header = [*HEADER, "conveyance_ref", "sharing_level"]
    conveyances = [_PLANTED[k][1] for k in ("container", "vessel", "vehicle")]
    rows = [[*row(f"VN-{i}"), conveyances[i] if i < 3 else "", levels[i % 3]] for i in range(6)]
    planted_parties = [  # (case, kind, name, phone, email, id_number)
        (0, "person", _PLANTED["person"][1], "", "", ""),
        (1, "company", _PLANTED["company"][1], "", "", ""),
        (2, "person", "Nguyễn Văn C", _PLANTED["phone"][1], "", ""),
        (3, "person", "Lê Văn D", "", _PLANTED["email"][1], _PLANTED["passport"][1]),
        (4, "person", _PLANTED["person"][1], _PLANTED["phone"][1], "", ""),
        (4, "person", _PLANTED["person"][1], "", "", ""),  # the same person twice in one case: told once
    ]
    parties: list[list[object]] = [["case_ref", "reporting_agency", "role", "kind", "name", "phone", "email",
                                    "id_number"]]  # fmt: skip
    parties += [[f"VN-{c}", "VN-CUS", "courier", k, n, p, e, d] for c, k, n, p, e, d in planted_parties]
    report = run(session, xlsx_bytes({"items": [header, *rows], "parties": parties}), "c.xlsx")
    assert report.ok and report.cases_created == 6, report.errors
    case_ids: dict[str, int] = {r.case_ref: r.id for r in session.execute(select(Case.case_ref, Case.id))}
    bank_case = case_ids["VN-5"]
    session.add(CaseIdentifier(case_id=bank_case, kind="bank_account", value=_PLANTED["bank_account"][1],
                               normalised=_PLANTED["bank_account"][1].upper()))  # fmt: skip
    session.flush()
    told = watchlists.check_cases(session, case_ids.values())
    session.commit()

    holds = {  # kind -> cases holding its planted value
        "container": {0}, "vessel": {1}, "vehicle": {2}, "person": {0, 4}, "company": {1}, "phone": {2, 4},
        "email": {3}, "passport": {3}, "bank_account": {5},
    }  # fmt: skip
    expected = _visible_hits(session, owners, {k: {case_ids[f"VN-{i}"] for i in cases} for k, cases in holds.items()})
    assert {u for u, _, _ in expected} == {"vn.watcher", "th.watcher"}  # both told something, not everything
    assert len({(u, k) for u, k, _ in expected if u == "th.watcher"}) < len(_PLANTED)

    hits = session.execute(
        select(User.username, WatchlistEntry.kind, WatchlistHit.record_id, WatchlistHit.entry_id)
        .join(WatchlistEntry, WatchlistEntry.id == WatchlistHit.entry_id)
        .join(User, User.id == WatchlistEntry.user_id)
    ).all()
    assert sorted((u, k, c) for u, k, c, _ in hits) == sorted(expected)  # each exactly once
    notes = session.execute(
        select(User.username, Notification.object_id, Notification.subject)
        .join(User, User.id == Notification.user_id)
        .where(Notification.kind == "watchlist_hit")
    ).all()
    assert len(notes) == len(expected) == len(set(notes))
    assert {(u, c) for u, c, _ in notes} == {(u, c) for u, _, c in expected}
    audited = session.execute(
        select(AuditEvent.object_id, AuditEvent.detail).where(AuditEvent.action == "watchlist.hit")
    ).all()
    by_id = {e: u for u, _, _, e in hits}
    assert sorted((int(o), d["entry_id"], d["owner"]) for o, d in audited) == sorted(
        (c, e, by_id[e]) for u, _, c, e in hits
    )
    assert told == 1  # the bank account: the import told the rest
    assert watchlists.check_cases(session, case_ids.values()) == 0


def test_an_api_batch_tells_what_reading_its_cases_back_would(session: Session, operation: Operation) -> None:
    """The API's bulk create matches the frames it wrote, without reading its cases back: each owner is told once
    per entry and case they may see (its nominal part too for a nominal kind), and checking the same cases from
    the database afterwards finds nothing more to tell."""
    owners = [
        create_user(session, username=f"{code.lower()}.watcher", password="watch-Pa55word-long",
                    agency_code=f"{code}-CUS", roles=["national_coordinator"], enforce_policy=False)
        for code in ("VN", "TH")
    ]  # fmt: skip
    planted = ("container", "person", "company", "phone", "email", "passport")
    for user in owners:
        for kind in planted:
            watchlists.add_entry(session, Actor.for_user(user), kind, _PLANTED[kind][0])
    reporter = create_user(session, username="vn.reporter", password="watch-Pa55word-long", agency_code="VN-CUS",
                           roles=["reporter"], enforce_policy=False)  # fmt: skip
    session.commit()

    def case(n: int, level: str, conveyance: str | None, parties: list[dict[str, str]]) -> bulk.BulkCase:
        body = {"case_ref": f"API-{n}", "seizure_date": "2023-06-01", "place_country": "VN",
                "transport_mode": "sea_container", "sharing_level": level, "conveyance_ref": conveyance,
                "items": [{"commodity_class": "drug", "substance": "heroin", "quantity": "2", "unit": "kg"}],
                "parties": parties}  # fmt: skip
        return bulk.BulkCase(forms.CaseInput.from_mapping(body), submit=True)  # a draft is its agency's alone

    batch = [
        case(0, "green", WATCHED, []),
        case(1, "red", WATCHED, [{"role": "courier", "kind": "person", "name": _PLANTED["person"][1]}]),
        case(2, "amber", None, [{"role": "consignee", "kind": "company", "name": _PLANTED["company"][1],
                                 "phone": _PLANTED["phone"][1]}]),
        case(3, "green", None, [{"role": "courier", "kind": "person", "name": "Lê Văn D",
                                 "email": _PLANTED["email"][1], "id_number": _PLANTED["passport"][1]},
                                {"role": "courier", "kind": "person", "name": _PLANTED["person"][1],
                                 "phone": _PLANTED["phone"][1]}]),
        case(4, "amber", _container(7), [{"role": "courier", "kind": "person", "name": "Nguyễn Văn C"}]),
    ]  # fmt: skip
    outcomes = bulk.create_cases(session, Actor.for_user(reporter), operation, batch, today=dt.date(2023, 12, 1))
    session.commit()
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    ids = [o.case_id for o in outcomes]

    holds = {"container": {0, 1}, "person": {1, 3}, "company": {2}, "phone": {2, 3}, "email": {3}, "passport": {3}}
    expected = _visible_hits(session, owners, {k: {ids[i] for i in cases} for k, cases in holds.items()})
    assert {u for u, _, _ in expected} == {"vn.watcher", "th.watcher"}  # both told something, not everything
    told = session.execute(
        select(User.username, WatchlistEntry.kind, WatchlistHit.record_id)
        .join(WatchlistEntry, WatchlistEntry.id == WatchlistHit.entry_id)
        .join(User, User.id == WatchlistEntry.user_id)
    ).all()
    assert sorted(tuple(t) for t in told) == sorted(expected)  # each exactly once
    notes = session.execute(select(func.count()).select_from(Notification).where(Notification.kind == "watchlist_hit"))
    assert notes.scalar_one() == len(expected)
    assert watchlists.check_cases(session, [i for i in ids if i is not None]) == 0  # a read-back finds nothing more


def test_hits_queue_an_email_per_notification(
    session: Session, operation: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With e-mail on, each watchlist notification written in bulk gets its owner's e-mail, linked to it."""
    monkeypatch.setenv("DRAGONNET_SMTP_HOST", "127.0.0.1")
    vn = create_user(session, username="vn.watcher", password="watch-Pa55word-long", agency_code="VN-CUS",
                     roles=["national_coordinator"], email="watcher@example.org", enforce_policy=False)  # fmt: skip
    watchlists.add_entry(session, Actor.for_user(vn), "container", "mscu 123456-6")
    session.commit()
    header = [*HEADER, "conveyance_ref"]
    report = run(session, csv_bytes([[*row(f"VN-{i}"), WATCHED] for i in range(3)], header))
    assert report.ok and report.cases_created == 3, report.errors
    notes = session.execute(
        select(Notification.id, Notification.link).where(Notification.kind == "watchlist_hit").order_by(Notification.id)
    ).all()
    mails = session.execute(select(EmailOutbox.notification_id, EmailOutbox.to_address, EmailOutbox.body)).all()
    assert len(notes) == 3
    assert sorted(m[0] for m in mails) == [n.id for n in notes]
    assert {m[1] for m in mails} == {"watcher@example.org"}
    links = dict(notes)
    assert all(links[note_id] in body for note_id, _, body in mails)


def test_a_hit_written_meanwhile_is_skipped_not_doubled(
    session: Session, operation: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hits recorded by a concurrent transaction after this one looked (simulated: the look finds nothing) make
    the bulk insert fail on the unique key; the row-by-row fallback then writes only the new one."""
    vn = create_user(session, username="vn.watcher", password="watch-Pa55word-long", agency_code="VN-CUS",
                     roles=["national_coordinator"], enforce_policy=False)  # fmt: skip
    watchlists.add_entry(session, Actor.for_user(vn), "container", "mscu 123456-6")
    session.commit()
    report = run(session, csv_bytes([[*row(f"VN-{i}"), WATCHED] for i in range(3)], [*HEADER, "conveyance_ref"]))
    assert report.ok and report.cases_created == 3, report.errors
    first = session.execute(select(WatchlistHit).order_by(WatchlistHit.record_id)).scalars().first()
    assert first is not None
    session.delete(first)
    session.commit()
    monkeypatch.setattr(watchlists, "_already_hit", lambda session, pairs: set())
    assert watchlists.check_cases(session, session.execute(select(Case.id)).scalars().all()) == 1
    session.commit()
    assert session.execute(select(WatchlistHit.record_id)).scalars().all().count(first.record_id) == 1
    assert len(session.execute(select(Notification.id).where(Notification.kind == "watchlist_hit")).all()) == 4


_SAMPLES = ["mscu 123456-6", "IMO 9074729", "imo9074729", " 51A-123.45 ", "ＭＳＣＵ１２３４５６６", "ß-straße 1",
            "ı i İ", "c\u00a01234567", "", "vn12 3456\t7890", "ﬁ-1"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
            st.text(),
            st.sampled_from(_SAMPLES),
        ),
        max_size=12,
    )
)
def test_column_wise_normalisation_equals_the_function(values: list[str]) -> None:
    """An import's values are normalised column-wise where they can be: always to what the function gives."""
    series = pl.Series(list(dict.fromkeys([*values, *_SAMPLES])), dtype=pl.String)
    for kind in WatchKind:
        expected = [normalise_watch_value(kind, v) for v in series.to_list()]
        assert normalise_watch_values(kind, series).to_list() == expected, kind


@given(st.sets(st.sampled_from([k.value for k in WatchKind]), max_size=4))
@settings(max_examples=40, deadline=None)
def test_watch_values_of_some_kinds_are_those_kinds_of_all(kinds: set[str]) -> None:
    """`case_watch_values(..., kinds=...)`, which the hook calls with the watched kinds: exactly the rows of
    those kinds that the whole computation gives (no frame built for the others, nothing of theirs lost)."""
    cases = pl.DataFrame({"case_id": [1, 2, 3], "conveyance_ref": [WATCHED, "", None]})
    parties = pl.DataFrame(
        {"case_id": [1, 2, 3], "kind": ["person", "company", "person"], "name": ["Tran Van A", "Sao Mai Co", " "],
         "phone": ["+84 90 123 4567", None, "0901234567"], "email": [None, "ops@saomai.vn", ""],
         "id_number": ["B1234567", None, None]},
    )  # fmt: skip
    identifiers = pl.DataFrame({"case_id": [1, 3, 3], "kind": ["container", "phone", "imei"],
                                "value": [WATCHED, "0901234567", "356938035643809"]})  # fmt: skip
    everything = watchlists.case_watch_values(cases, parties, identifiers)
    some = watchlists.case_watch_values(cases, parties, identifiers, kinds=kinds)
    expected = everything.filter(pl.col("kind").is_in(sorted(kinds)))
    assert some.sort(pl.all()).equals(expected.sort(pl.all()))
    assert set(everything.get_column("kind")) >= {"container", "vessel", "person", "company", "phone", "email"}
