"""Watchlists notify only what the owner may see; bulletins follow their sharing level; turnaround medians."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dragonnet.domain.identifiers import is_valid_container
from dragonnet.messaging import stats
from dragonnet.messaging.identifiers import check_watch_value, is_valid_awb, is_valid_imo
from dragonnet.policy.access import Actor, Hidden
from dragonnet.storage.messaging_models import Alert, AlertRecipient, WatchlistHit
from dragonnet.storage.models import Operation, User
from messaging.conftest import SCENARIO_ALERT, World, api_headers
from web.seed import SLUG


@pytest.mark.parametrize("code", ["CSQU3054383", "MSCU1234566", "msku 123456-6"])
def test_valid_containers(code: str) -> None:
    assert is_valid_container(code) == (code != "msku 123456-6")


def test_check_digits() -> None:
    assert is_valid_imo("IMO 9074729") and not is_valid_imo("IMO 9074728")
    assert is_valid_awb("020-12345675") and not is_valid_awb("020-12345670")
    assert check_watch_value("phone", "+84 (912) 345-678") == "+84912345678"


def _seize(world: World, login_as: Callable[[str], TestClient], level: str = "amber") -> tuple[int, int]:
    vn, my = login_as("vn_reporter"), login_as("my_cp")
    alert = vn.post("/api/v1/alerts", json={**SCENARIO_ALERT, "sharing_level": level}, headers=api_headers(vn)).json()
    h = api_headers(my)
    assert my.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=h).status_code == 200
    r = my.post(
        f"/api/v1/alerts/{alert['id']}/result", json={"result": "seizure_made", "seizure_date": "2024-06-15"}, headers=h
    )
    assert r.status_code == 200, r.text
    return alert["id"], r.json()["case_id"]


def test_watchlist_hit_only_where_the_owner_may_see(world: World, login_as: Callable[[str], TestClient]) -> None:
    coord, vn = login_as("my_coord"), login_as("vn_reporter")
    for client in (coord, vn):
        r = client.post(
            "/api/v1/watchlist", json={"kind": "container", "value": "MSCU1234566"}, headers=api_headers(client)
        )
        assert r.status_code == 201, r.text
    _alert_id, case_id = _seize(world, login_as)
    # Malaysia's coordinator sees Malaysia's draft case: told (once). Viet Nam may not see the draft: silence.
    hits = [m for m in coord.get("/api/v1/inbox").json()["messages"] if m["kind"] == "watchlist_hit"]
    assert [h["link"] for h in hits] == [f"/cases/{case_id}"]
    assert not [m for m in vn.get("/api/v1/inbox").json()["messages"] if m["kind"] == "watchlist_hit"]
    with world.session() as s:
        assert len(s.execute(select(WatchlistHit)).scalars().all()) == 1
        # Checking again (e.g. after an edit) does not notify twice.
        from dragonnet.messaging import watchlists

        assert watchlists.check_cases(s, [case_id]) == 0
    # Watchlist entries are private: another user's entry id answers 404.
    entry_id = coord.get("/api/v1/watchlist").json()[0]["id"]
    assert vn.delete(f"/api/v1/watchlist/{entry_id}", headers=api_headers(vn)).status_code == 404
    bad = vn.post("/api/v1/watchlist", json={"kind": "container", "value": "MSCU1234567"}, headers=api_headers(vn))
    assert bad.status_code == 422


def test_bulletins_follow_their_sharing_level(world: World, login_as: Callable[[str], TestClient]) -> None:
    vn, th, my, observer = (login_as(u) for u in ("vn_reporter", "th_reporter", "my_cp", "observer"))
    h = api_headers(vn)
    green = vn.post(
        "/api/v1/bulletins",
        json={"operation": SLUG, "title": "Trend", "body": "B", "sharing_level": "green", "to_all": True},
        headers=h,
    ).json()
    amber = vn.post(
        "/api/v1/bulletins",
        json={
            "operation": SLUG,
            "title": "MO",
            "body": "B",
            "sharing_level": "amber",
            "to_all": False,
            "agencies": ["MY-CUS"],
        },
        headers=h,
    ).json()
    refused = vn.post(
        "/api/v1/bulletins",
        json={"operation": SLUG, "title": "x", "body": "B", "sharing_level": "red", "to_all": True},
        headers=h,
    )
    assert refused.status_code == 422
    assert th.get(f"/api/v1/bulletins/{green['id']}").status_code == 200
    assert th.get(f"/api/v1/bulletins/{amber['id']}").status_code == 404
    assert my.get(f"/api/v1/bulletins/{amber['id']}").status_code == 200
    assert observer.get(f"/api/v1/bulletins/{green['id']}").status_code == 404
    assert th.get(f"/bulletins/{amber['id']}").status_code == 404
    att = vn.post(
        f"/api/v1/bulletins/{amber['id']}/attachments",
        files={"file": ("mo.txt", b"plain note", "text/plain")},
        headers=h,
    ).json()
    assert my.get(att["url"]).status_code == 200 and th.get(att["url"]).status_code == 404


def test_turnaround_medians(world: World, login_as: Callable[[str], TestClient]) -> None:
    _seize(world, login_as)
    _seize(world, login_as)
    with world.session() as s:
        recs = s.execute(select(AlertRecipient).order_by(AlertRecipient.id)).scalars().all()
        my_recs = [r for r in recs if r.acknowledged_at is not None]
        for rec, (ack_min, answer_min) in zip(my_recs, [(10, 60), (30, 180)], strict=True):
            rec.acknowledged_at = rec.added_at + dt.timedelta(minutes=ack_min)
            rec.answered_at = rec.added_at + dt.timedelta(minutes=answer_min)
        s.commit()
        rows = {r.agency_code: r for r in stats.turnaround(s, None, world.seeded.operation_id)}
        # The service checks membership itself: every door gets the same answer for an observer.
        observer = Actor.for_user(s.execute(select(User).where(User.username == "observer")).scalar_one())
        with pytest.raises(Hidden):
            stats.turnaround(s, observer, world.seeded.operation_id)
    assert rows["MY-CUS"].received == 2 and rows["MY-CUS"].seizures == 2
    assert rows["MY-CUS"].median_ack == dt.timedelta(minutes=20)
    assert rows["MY-CUS"].median_answer == dt.timedelta(minutes=120)
    assert rows["RILO"].acknowledged == 0 and rows["RILO"].median_ack is None
    my = login_as("my_cp")
    report = my.get(f"/api/v1/operations/{SLUG}/alert-turnaround").json()
    assert {a["agency"]: a["median_ack_seconds"] for a in report["agencies"]}["MY-CUS"] == 1200
    page = my.get("/messages/stats")
    assert page.status_code == 200 and "20 min" in page.text and "2 h 00 min" in page.text
    assert login_as("observer").get(f"/api/v1/operations/{SLUG}/alert-turnaround").status_code == 404


def test_turnaround_is_in_the_debrief_report(world: World, login_as: Callable[[str], TestClient]) -> None:
    """The operation's reports carry the alert-to-result turnaround per agency (not the public summary)."""
    from dragonnet.reporting.service import debrief

    _seize(world, login_as)
    with world.session() as s:
        rec = s.execute(select(AlertRecipient).where(AlertRecipient.acknowledged_at.is_not(None))).scalars().first()
        assert rec is not None
        alert = s.get(Alert, rec.alert_id)
        assert alert is not None
        operation = s.get(Operation, alert.operation_id)
        assert operation is not None
        phase = operation.phases[-1]
        # As if raised during the phase: the report counts alerts raised within the phase's period.
        alert.created_at = dt.datetime.combine(phase.start_date, dt.time(9), dt.UTC)
        rec.added_at = alert.created_at
        rec.acknowledged_at = rec.added_at + dt.timedelta(minutes=90)
        rec.answered_at = rec.added_at + dt.timedelta(minutes=150)
        s.commit()
        report = debrief(s, SLUG, phase.number, actor=None)
        table = report.breakdown("alert_turnaround")
        assert table.lookup("agency", "MY-CUS", "median_ack_h") == 1.5
        assert table.lookup("agency", "MY-CUS", "median_answer_h") == 2.5
        assert "alert_turnaround" not in {b.key for b in debrief(s, SLUG, phase.number, actor=None,
                                                                  scope="public").breakdowns}  # fmt: skip
