"""The end-to-end scenario: Viet Nam customs raises an alert on a container routed Nigeria -> Malaysia -> Viet Nam;
Malaysia's contact point receives it (inbox + server-sent event), acknowledges, reports "seizure made"; the linked
case exists; the audit log holds every step; an agency off the route (Thailand) and a partner observer below the
sharing level never see it (pages and API answer 404)."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from dragonnet.policy import audit
from dragonnet.storage.messaging_models import AlertCase
from dragonnet.storage.models import AuditEvent, Case, CaseIdentifier, CaseTransit
from messaging.conftest import SCENARIO_ALERT, World, api_headers
from web.webtest import csrf_token


def _sse(client: TestClient, after: int = 0) -> list[dict[str, object]]:
    response = client.get(f"/messages/events?timeout=0&after={after}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if lines.get("event") == "message":
            events.append(json.loads(lines["data"]))
    return events


def test_alert_scenario_end_to_end(world: World, login_as: Callable[[str], TestClient]) -> None:
    vn = login_as("vn_reporter")
    my = login_as("my_cp")
    th = login_as("th_reporter")
    observer = login_as("observer")
    ng = login_as("ng_officer")

    # Malaysia's live feed starts before the alert exists.
    assert _sse(my) == []

    # 1. Viet Nam raises the alert; recipients come from the route.
    created = vn.post("/api/v1/alerts", json=SCENARIO_ALERT, headers=api_headers(vn))
    assert created.status_code == 201, created.text
    alert = created.json()
    alert_id = alert["id"]
    assert alert["route"] == ["NG", "MY", "VN"]
    recipients = {r["agency"]: r["reason"] for r in alert["recipients"]}
    # Malaysia (on the route, a member) and the regional office; not Nigeria (not in the operation),
    # not Viet Nam (the sender), not Thailand (off the route), not the observer.
    assert recipients == {"MY-CUS": "route", "RILO": "regional"}
    assert alert["identifiers"][0] == {"kind": "container", "value": "MSCU 123456-6"}

    # 2. Malaysia receives it: inbox and a server-sent event.
    events = _sse(my)
    assert [e["link"] for e in events] == [f"/alerts/{alert_id}"]
    assert events[0]["sharing_level"] == "amber" and events[0]["kind"] == "alert"
    box = my.get("/api/v1/inbox").json()
    assert box["unread"] == 1 and box["messages"][0]["link"] == f"/alerts/{alert_id}"
    page = my.get("/inbox")
    assert page.status_code == 200 and f'href="/alerts/{alert_id}"' in page.text

    # 3. Malaysia acknowledges (through the page form), then answers "seizure made".
    detail = my.get(f"/alerts/{alert_id}")
    assert detail.status_code == 200 and 'id="acknowledge"' in detail.text
    ack = my.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf_token(detail.text)})
    assert ack.status_code == 303
    answered = my.post(
        f"/api/v1/alerts/{alert_id}/result",
        json={"result": "seizure_made", "note": "1.2 t of scales behind frozen fish", "seizure_date": "2024-06-15"},
        headers=api_headers(my),
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    case_id = body["case_id"]
    assert body["case_url"] == f"/cases/{case_id}"
    mine = next(r for r in body["alert"]["recipients"] if r["agency"] == "MY-CUS")
    assert mine["acknowledged_at"] and mine["result"] == "seizure_made"
    # Answering twice is refused.
    again = my.post(f"/api/v1/alerts/{alert_id}/result", json={"result": "not_found"}, headers=api_headers(my))
    assert again.status_code == 409

    # 4. The linked case exists, pre-filled from the alert, as a draft of Malaysia's.
    with world.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert case.reporting_agency_id == world.seeded.agencies["MY-CUS"]
        assert (case.status, case.case_ref, case.sharing_level) == ("draft", f"ALERT-{alert_id}", "amber")
        assert (case.origin_country, case.destination_country, case.place_country) == ("NG", "VN", "MY")
        assert [t.country for t in s.execute(select(CaseTransit).where(CaseTransit.case_id == case_id)).scalars()] == [
            "MY"
        ]
        assert case.conveyance_ref == "MSCU 123456-6" and case.transport_mode == "sea_container"
        assert case.phase.number == 2
        idents = {
            (i.kind, i.normalised)
            for i in s.execute(select(CaseIdentifier).where(CaseIdentifier.case_id == case_id)).scalars()
        }
        assert ("container", "MSCU1234566") in idents and ("vessel", "9074729") in idents
        link = s.execute(select(AlertCase).where(AlertCase.alert_id == alert_id)).scalar_one()
        assert link.case_id == case_id

    # The sender hears of both steps; it sees that a case was opened, not the draft itself.
    vn_msgs = [m["subject"] for m in vn.get("/api/v1/inbox").json()["messages"]]
    assert any("acknowledged by MY-CUS" in m for m in vn_msgs)
    assert any("seizure made" in m for m in vn_msgs)
    vn_view = vn.get(f"/api/v1/alerts/{alert_id}").json()
    draft = "a draft of MY-CUS: only MY-CUS sees it until it is submitted"
    assert vn_view["cases"] == [{"case_id": None, "agency": "MY-CUS", "url": None, "restricted": draft}]
    my_view = my.get(f"/api/v1/alerts/{alert_id}").json()
    assert my_view["cases"] == [{"case_id": case_id, "agency": "MY-CUS", "url": f"/cases/{case_id}",
                                 "restricted": None}]  # fmt: skip

    # 5. The audit log holds every step, and the chain verifies.
    with world.session() as s:
        actions = [
            (e.action, e.actor_username)
            for e in s.execute(
                select(AuditEvent)
                .where(AuditEvent.action.in_(["alert.raise", "alert.acknowledge", "alert.result", "case.create"]))
                .order_by(AuditEvent.seq)
            ).scalars()
        ]
        assert actions == [
            ("alert.raise", "vn_reporter"),
            ("alert.acknowledge", "my_cp"),
            ("case.create", "my_cp"),
            ("alert.result", "my_cp"),
        ]
        assert audit.verify(s).ok

    # 6. Off the route and below the sharing level: nothing, 404 everywhere.
    for outsider in (th, observer, ng):
        assert outsider.get(f"/api/v1/alerts/{alert_id}").status_code == 404
        assert outsider.get(f"/alerts/{alert_id}").status_code == 404
        assert all(a["id"] != alert_id for a in outsider.get("/api/v1/alerts").json())
        assert SCENARIO_ALERT["title"] not in outsider.get("/alerts").text
        assert outsider.get("/api/v1/inbox").json()["messages"] == []
        assert _sse(outsider) == []
        headers = api_headers(outsider)
        assert outsider.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers).status_code == 404
        result = outsider.post(f"/api/v1/alerts/{alert_id}/result", json={"result": "not_found"}, headers=headers)
        assert result.status_code == 404
        assert (
            outsider.get(f"/cases/{case_id}").status_code == 404 or outsider.get(f"/cases/{case_id}").status_code == 303
        )
    # A missing alert answers exactly like a hidden one (no existence oracle).
    missing, hidden = th.get("/api/v1/alerts/999999"), th.get(f"/api/v1/alerts/{alert_id}")
    assert (missing.status_code, missing.json()["error"]["code"]) == (
        hidden.status_code,
        hidden.json()["error"]["code"],
    )
    assert hidden.json()["error"]["message"] == f"no alert {alert_id}"
    with world.session() as s:
        denials = s.execute(select(AuditEvent).where(AuditEvent.action == "access.denied")).scalars().all()
        assert any(d.object_type == "alert" and d.object_id == str(alert_id) for d in denials)


def test_recipient_adjustment_and_overdue(world: World, login_as: Callable[[str], TestClient]) -> None:
    vn = login_as("vn_reporter")
    th = login_as("th_reporter")
    payload = {**SCENARIO_ALERT, "add_agencies": ["TH-CUS"], "remove_agencies": ["RILO"], "sharing_level": "red"}
    alert = vn.post("/api/v1/alerts", json=payload, headers=api_headers(vn)).json()
    assert {r["agency"] for r in alert["recipients"]} == {"MY-CUS", "TH-CUS"}
    assert th.get(f"/api/v1/alerts/{alert['id']}").status_code == 200
    # The regional analyst, left out of a RED alert, does not see it.
    analyst = login_as("rilo_analyst")
    assert analyst.get(f"/api/v1/alerts/{alert['id']}").status_code == 404
    # Removing Thailand withdraws the alert from it (inbox included).
    changed = vn.post(f"/api/v1/alerts/{alert['id']}/recipients", json={"remove": ["TH-CUS"]}, headers=api_headers(vn))
    assert changed.status_code == 200
    assert th.get(f"/api/v1/alerts/{alert['id']}").status_code == 404
    assert th.get("/api/v1/inbox").json()["messages"] == []
    # On the alert page the sender ticks agencies to add (no codes to type): Thailand is offered, and back.
    page = vn.get(f"/alerts/{alert['id']}").text
    assert 'name="add" value="TH-CUS"' in page and 'name="add" value="MY-CUS"' not in page
    assert 'name="remove" value="MY-CUS"' in page  # not acknowledged yet: may be removed
    ticked = vn.post(f"/alerts/{alert['id']}/recipients", data={"csrf_token": csrf_token(page), "add": ["TH-CUS"]})
    assert ticked.status_code == 303 and th.get(f"/api/v1/alerts/{alert['id']}").status_code == 200
    vn.post(f"/alerts/{alert['id']}/recipients", data={"csrf_token": csrf_token(page), "remove": ["TH-CUS"]})
    assert th.get(f"/api/v1/alerts/{alert['id']}").status_code == 404
    # A recipient may not change recipients (it sees the alert: 403, not 404).
    my = login_as("my_cp")
    refused = my.post(f"/api/v1/alerts/{alert['id']}/recipients", json={"add": ["TH-CUS"]}, headers=api_headers(my))
    assert refused.status_code == 403
    # Answering before acknowledging is refused with a clear message.
    early = my.post(f"/api/v1/alerts/{alert['id']}/result", json={"result": "not_found"}, headers=api_headers(my))
    assert early.status_code == 422 and "acknowledge" in early.json()["error"]["message"]
    # Overdue: an immediate alert not acknowledged within 2 h.
    import datetime as dt

    from dragonnet.storage.messaging_models import AlertRecipient

    with world.session() as s:
        rec = s.execute(select(AlertRecipient).where(AlertRecipient.alert_id == alert["id"])).scalar_one()
        rec.added_at = rec.added_at - dt.timedelta(hours=3)
        s.commit()
    overdue = vn.get("/api/v1/alerts/overdue").json()
    assert [(o["alert_id"], o["agency"]) for o in overdue] == [(alert["id"], "MY-CUS")]
    assert "Overdue acknowledgements" in vn.get("/alerts").text
    assert vn.get(f"/api/v1/alerts/{alert['id']}").json()["recipients"][0]["overdue"] is True


def test_invalid_alerts_are_refused_clearly(world: World, login_as: Callable[[str], TestClient]) -> None:
    vn = login_as("vn_reporter")
    headers = api_headers(vn)
    bad_container = {**SCENARIO_ALERT, "identifiers": [{"kind": "container", "value": "MSCU1234567"}]}
    r = vn.post("/api/v1/alerts", json=bad_container, headers=headers)
    assert r.status_code == 422 and "ISO 6346" in r.json()["error"]["message"]
    r = vn.post("/api/v1/alerts", json={**SCENARIO_ALERT, "origin": "Atlantis"}, headers=headers)
    assert r.status_code == 422
    r = vn.post("/api/v1/alerts", json={**SCENARIO_ALERT, "sharing_level": "purple"}, headers=headers)
    assert r.status_code == 422
    # Observers may not raise alerts; nothing was written.
    observer = login_as("observer")
    r = observer.post("/api/v1/alerts", json=SCENARIO_ALERT, headers=api_headers(observer))
    assert r.status_code == 403
    assert vn.get("/api/v1/alerts").json() == []
    # The page form shows the error and keeps the input.
    form = vn.get("/alerts/new")
    page = vn.post(
        "/alerts",
        data={
            "csrf_token": csrf_token(form.text),
            "operation": SCENARIO_ALERT["operation"],
            "title": "<b>x</b>",
            "origin": "Atlantis",
            "destination": "VN",
        },
    )
    assert page.status_code == 422 and "unknown country" in page.text and "&lt;b&gt;x&lt;/b&gt;" in page.text
    # Without the CSRF token the form is refused.
    assert vn.post("/alerts", data={"title": "x"}).status_code == 403
