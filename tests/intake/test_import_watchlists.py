"""An import tells watchlist owners of the cases it writes, in the same transaction, under the access policy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.domain.identifiers import iso6346_check_digit
from dragonnet.messaging import watchlists
from dragonnet.policy.access import Actor, case_visibility
from dragonnet.policy.users import create_user
from dragonnet.storage.messaging_models import Notification, WatchlistEntry, WatchlistHit
from dragonnet.storage.models import Case, Operation

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
