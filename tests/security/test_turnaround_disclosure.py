"""Message statistics (`/messages/stats`, its API and CLI, the debrief's turnaround) follow the sharing level of
the alerts counted and the small-count rule, on both backends.

Twelve RED alerts from Viet Nam to Laos are added to the canary world: a Thai member must not count them in
Laos' row. The expected figures are written out from the world's messaging oracle (which alerts a reader may
see) and the cell key: the reader's own agency exactly, every other agency perturbed then "<5".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet import hooks
from dragonnet.cli.messaging import messaging_app
from dragonnet.messaging import alerts, stats
from dragonnet.policy import cellkey
from dragonnet.policy.access import Hidden
from dragonnet.storage.db import make_engine
from dragonnet.storage.messaging_models import Alert, AlertRecipient
from dragonnet.storage.models import Agency, Operation
from security.sessions import open_sessions, use
from security.world import MessageFact, World, actor_of

RED_ALERTS = 12
READERS = ("th_reporter", "vn_coord", "la_reporter", "analyst")  # members (admins and observers: Hidden)


@pytest.fixture
def red(db_url: str, world: World) -> Iterator[World]:
    """The world with RED_ALERTS more RED alerts from VN-CUS to LA-CUS, half of them acknowledged."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        op = session.execute(select(Operation)).scalars().first()
        assert op is not None
        sender, la = actor_of(session, "vn_reporter"), actor_of(session, "la_reporter")
        for n in range(RED_ALERTS):
            alert = alerts.raise_alert(session, sender, alerts.AlertInput(
                operation_id=op.id, subject_kind="shipment", title=f"red {n}", origin="VN", destination="LA",
                sharing_level="red", identifiers=[("flight", f"QV{n:03d}")],
            ))  # fmt: skip
            if n % 2:
                alerts.acknowledge(session, la, alert.id)
            world.messages.append(MessageFact("alert", alert.id, "VN-CUS", frozenset(r.agency.code for r in
                                                                                     alert.recipients), "red", False,
                                              f"RED{n}", None))  # fmt: skip
        session.commit()
    engine.dispose()
    yield world


def _expected(session: Session, world: World, who: str) -> dict[str, tuple[int | None, int | None]]:
    """Agency -> (alerts received, acknowledged) as `who` must be shown them."""
    visible = {m.id for m in world.messages if m.kind == "alert" and world.sees_message(who, m)}
    pairs: dict[str, dict[str, list[int]]] = {}
    for rec, code in session.execute(
        select(AlertRecipient, Agency.code).join(Agency, Agency.id == AlertRecipient.agency_id)
    ).all():
        if rec.alert_id in visible:
            counted = pairs.setdefault(code, {"received": [], "acknowledged": []})
            counted["received"].append(rec.id)
            if rec.acknowledged_at is not None:
                counted["acknowledged"].append(rec.id)
    key = cellkey.cell_key(session)
    out: dict[str, tuple[int | None, int | None]] = {}
    for code, counted in pairs.items():
        if code == world.user_agency[who]:
            out[code] = (len(counted["received"]), len(counted["acknowledged"]))
            continue
        sk = cellkey.sketches((m, rid, 1.0) for m, ids in counted.items() for rid in ids)
        received = key.count(sk["received"])
        acked = key.count(sk["acknowledged"]) if "acknowledged" in sk else 0
        out[code] = (cellkey.shown(received), cellkey.shown(cellkey.at_most(acked, received)))
    return out


def test_members_count_only_the_alerts_they_may_see(red: World, db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        op_id = session.execute(select(Operation.id)).scalar_one()
        reds = session.execute(select(Alert.id).where(Alert.title.like("red %"))).scalars().all()
        assert len(reds) == RED_ALERTS
        for who in READERS:
            rows = {r.agency_code: r for r in stats.turnaround(session, actor_of(session, who), op_id)}
            expected = _expected(session, red, who)
            assert {code: (r.received, r.acknowledged) for code, r in rows.items()} == expected, who
            assert all(r.exact == (code == red.user_agency[who]) for code, r in rows.items())
        # Laos counts its own RED alerts exactly; Thailand sees no more of them than before they were sent.
        la = {r.agency_code: r for r in stats.turnaround(session, actor_of(session, "la_reporter"), op_id)}
        assert la["LA-CUS"].received is not None and la["LA-CUS"].received >= RED_ALERTS
        th = {r.agency_code: r for r in stats.turnaround(session, actor_of(session, "th_reporter"), op_id)}
        # The alerts Thailand may see that reach Laos are fewer than 5 and exclude the RED ones: shown "<5", or as
        # the site's random cell key perturbs that small cell (the oracle's figure, which never counts RED alerts).
        assert th["LA-CUS"].received == _expected(session, red, "th_reporter")["LA-CUS"][0]
        # The operator counts every alert, exactly.
        operator = {r.agency_code: r for r in stats.turnaround(session, None, op_id)}
        assert operator["LA-CUS"].received == la["LA-CUS"].received and operator["LA-CUS"].exact
        with pytest.raises(Hidden):
            stats.turnaround(session, actor_of(session, "observer"), op_id)
        # The debrief's turnaround (hook) gives the reader the same figures for a period holding every alert.
        today = dt.datetime.now(dt.UTC).date()
        reader = actor_of(session, "th_reporter")
        tables = hooks.debrief_breakdowns(session, op_id, today - dt.timedelta(days=1), today, reader)
        table = next(t for t in tables if t.key == "alert_turnaround")
        assert {row[0]: (row[1], row[2]) for row in table.rows} == {c: (r.received, r.acknowledged) for c, r in
                                                                   th.items()}  # fmt: skip
        assert hooks.debrief_breakdowns(session, op_id, today, today, actor_of(session, "observer")) == []
    engine.dispose()


def test_page_api_and_cli_show_the_same_protected_figures(red: World, client: TestClient, db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        expected = _expected(session, red, "th_reporter")
    engine.dispose()
    login = open_sessions(db_url, ["th_reporter"])["th_reporter"]
    use(client, login)
    api = client.get(f"/api/v1/operations/{red.slug}/alert-turnaround").json()
    assert {a["agency"]: (a["received"], a["acknowledged"]) for a in api["agencies"]} == expected
    assert {a["agency"]: a["exact"] for a in api["agencies"]}["TH-CUS"]
    page = client.get(f"/messages/stats?operation={red.slug}")
    assert page.status_code == 200 and 'id="turnaround-protection"' in page.text
    la_row = re.search(r'<tr data-agency="LA-CUS"[^>]*>.*?</tr>', page.text, re.S)
    la_received = expected["LA-CUS"][0]  # "<5", unless the site's cell key perturbed the small cell up to 5 or more
    assert la_row and f'class="num received">{"&lt;5" if la_received is None else la_received}<' in la_row.group(0)
    out = CliRunner().invoke(messaging_app, ["turnaround", red.slug, "--as", "th_reporter", "--json",
                                             "--database-url", db_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert {a["agency"]: (a["received"], a["acknowledged"]) for a in json.loads(out.output)["agencies"]} == expected
    text = CliRunner().invoke(messaging_app, ["turnaround", red.slug, "--as", "th_reporter", "--database-url", db_url])
    shown = "<5" if la_received is None else str(la_received)
    assert text.exit_code == 0 and re.search(rf"LA-CUS\s+received\s+{re.escape(shown)}\b", text.output)


# Alerts from Viet Nam to Laos per day over ten past days (GREEN: every member counts them); days of 1-4
# alerts are small cells for a Thai reader, and wider windows are not.
DAILY = (3, 0, 2, 6, 1, 4, 0, 7, 2, 1)
FIRST_DAY = dt.date(2024, 3, 1)


def test_date_windows_cannot_be_differenced(world: World, db_url: str) -> None:
    """S19 for message statistics: a Thai member asks Laos' alerts received for every date window of ten days
    (55 windows); every window is the sum of two adjacent ones. From the perturbed figures the interval attack
    recovers no "<5" value; from the same figures with plain suppression (the self-test) it recovers some."""
    from security.differencing import Attack

    engine = make_engine(db_url)
    with Session(engine) as session:
        op_id = session.execute(select(Operation.id)).scalar_one()
        sender = actor_of(session, "vn_reporter")
        for day, n in enumerate(DAILY):
            when = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(9), dt.UTC)
            for k in range(n):
                alert = alerts.raise_alert(session, sender, alerts.AlertInput(
                    operation_id=op_id, subject_kind="shipment", title=f"day {day} #{k}", origin="VN",
                    destination="LA", sharing_level="green", identifiers=[("flight", f"QD{day}{k:02d}")],
                ))  # fmt: skip
                alert.created_at = when
        session.flush()
        th = actor_of(session, "th_reporter")
        days = range(len(DAILY))
        perturbed, plain = Attack(cellkey.MAX_NOISE), Attack(0)
        truth: dict[tuple[int, int], int] = {}
        for i in days:
            for j in days[i:]:
                since, until = FIRST_DAY + dt.timedelta(days=i), FIRST_DAY + dt.timedelta(days=j)
                shown = {r.agency_code: r for r in stats.turnaround(session, th, op_id, since=since, until=until)}
                exact = {r.agency_code: r for r in stats.turnaround(session, None, op_id, since=since, until=until)}
                truth[(i, j)] = exact["LA-CUS"].received if "LA-CUS" in exact else 0
                assert truth[(i, j)] == sum(DAILY[i : j + 1])
                perturbed.observe((i, j), shown["LA-CUS"].received if "LA-CUS" in shown else 0)
                plain.observe((i, j), cellkey.shown(truth[(i, j)]))
        for attack in (perturbed, plain):
            attack.equations = [((i, j), ((i, k), (k + 1, j))) for i in days for j in days[i:] for k in range(i, j)]
        session.rollback()
    engine.dispose()
    assert perturbed.suppressed
    assert perturbed.recovered() == {}
    solved = perturbed.solve()
    assert all(solved[v][0] <= truth[v] <= solved[v][1] for v in perturbed.intervals)
    recovered = plain.recovered()
    assert recovered and all(truth[v] == value for v, value in recovered.items())
    print(f"\nS19 (message statistics): 55 windows, {len(perturbed.equations)} sums, perturbed: "
          f"{len(perturbed.suppressed)} '<5', 0 recovered; plain suppression: {len(plain.suppressed)} '<5', "
          f"{len(recovered)} recovered")  # fmt: skip
