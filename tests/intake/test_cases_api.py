"""REST API /api/v1/cases: create, read, update with optimistic locking, cursor pagination, bulk, workflow,
access (foreign ids answer 404), CSRF on cookie writes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dragonnet.intake import forms
from dragonnet.storage.db import make_engine
from dragonnet.storage.intake_models import CaseStatusChange
from dragonnet.storage.models import AuditEvent, AuditStaged, Case, CaseIdentifier, CaseTransit, Item, Party
from intake.webcases import api_client, case_body
from web.seed import SLUG, Seeded

_WRITTEN = (Case, Item, CaseTransit, Party, CaseIdentifier, CaseStatusChange, AuditStaged, AuditEvent)


def test_create_read_normalised(app_client: TestClient, seeded_db: Seeded) -> None:
    th, headers = api_client(app_client, "th_reporter")
    created = th.post("/api/v1/cases", json=case_body("TH-API-1", parties=[
        {"role": "courier", "kind": "person", "name": "Somchai Test", "nationality": "Thailand",
         "birth_date": "1990-01-02", "phone": "081 234 5678"}]), headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["ETag"] == '"1"'
    assert body["status"] == "draft" and body["version"] == 1 and body["phase"] == 2
    assert body["transit_countries"] == ["VN", "KH"] and body["destination_country"] == "CN"
    drug, wild = body["items"]
    assert drug["substance_text"] == "ICE" and drug["substance"] == "methamphetamine"
    assert drug["quantity"] == 12.5 and drug["mass_kg"] == 12.5 and drug["quantity_text"] == "12,5"
    assert wild["taxon"] == "Manis" or wild["taxon"].startswith("Manis")
    assert wild["specimen_type"] == "scales"
    assert body["parties"][0]["nationality"] == "TH"
    read = th.get(f"/api/v1/cases/{body['id']}")
    assert read.status_code == 200 and read.json()["parties"][0]["name"] == "Somchai Test"


def test_a_report_that_fails_after_its_rows_are_written_leaves_nothing(
    app_client: TestClient, seeded_db: Seeded, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The create writes without a savepoint of its own: a failure after the case, its items, parties, status
    row and audit entry were sent (here in the watchlist hook, the last step) rolls back the whole request."""
    th, headers = api_client(app_client, "th_reporter")
    engine = make_engine(db_url)
    with engine.connect() as conn:
        before = {t: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in _WRITTEN}

    def fails(_session: object, _event: object) -> None:
        raise RuntimeError("the hook failed")

    monkeypatch.setattr(forms.hooks, "cases_written", fails)
    body = case_body("TH-API-FAILS", parties=[{"role": "courier", "kind": "person", "name": "Somchai Test",
                                                "phone": "081 234 5678"}])  # fmt: skip
    assert th.post("/api/v1/cases", json=body, headers=headers).status_code == 500
    with engine.connect() as conn:
        after = {t: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in _WRITTEN}
    engine.dispose()
    assert after == before


def test_validation_errors_by_field(app_client: TestClient, seeded_db: Seeded) -> None:
    th, headers = api_client(app_client, "th_reporter")
    bad = case_body("TH-API-BAD", seizure_date="2023-01-01", place_country="Thailandd", items=[
        {"commodity_class": "drug", "substance": "unobtainium", "quantity": "-3", "unit": "kg"},
        {"commodity_class": "wildlife", "quantity": "1", "unit": "bags"}])  # fmt: skip
    response = th.post("/api/v1/cases", json=bad, headers=headers)
    assert response.status_code == 422, response.text
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert {"place_country", "items[0].substance", "items[0].quantity", "items[1].unit", "items[1].taxon"} <= fields
    # Outside every phase (once the country is right).
    response = th.post("/api/v1/cases", json=case_body("TH-API-BAD", seizure_date="2023-01-01"), headers=headers)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["seizure_date"]
    # Mass assignment is refused by the schema.
    response = th.post("/api/v1/cases", json=case_body("TH-X", status="validated", version=7), headers=headers)
    assert response.status_code == 422


def test_update_with_if_match_and_stale_version(app_client: TestClient, seeded_db: Seeded) -> None:
    th, headers = api_client(app_client, "th_reporter")
    case = th.post("/api/v1/cases", json=case_body("TH-API-2"), headers=headers).json()
    update = case_body("TH-API-2", conveyance_ref="TG 561")
    update.pop("operation")
    ok = th.put(f"/api/v1/cases/{case['id']}", json=update, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["conveyance_ref"] == "TG 561"
    stale = th.put(f"/api/v1/cases/{case['id']}", json={**update, "conveyance_ref": "XX"},
                   headers={**headers, "If-Match": '"1"'})  # fmt: skip
    assert stale.status_code == 409, stale.text
    assert th.get(f"/api/v1/cases/{case['id']}").json()["conveyance_ref"] == "TG 561"
    by_body = th.put(f"/api/v1/cases/{case['id']}", json={**update, "version": 2}, headers=headers)
    assert by_body.status_code == 200 and by_body.json()["version"] == 3
    missing = th.put(f"/api/v1/cases/{case['id']}", json=update, headers=headers)
    assert missing.status_code == 422


def test_cursor_pagination_and_filters(app_client: TestClient, seeded_db: Seeded) -> None:
    th, headers = api_client(app_client, "th_reporter")
    for n in range(5):
        body = case_body(f"TH-PAGE-{n}", items=[{"commodity_class": "timber", "taxon": "Dalbergia cochinchinensis",
                                                 "quantity": 3 + n, "unit": "m3"}])  # fmt: skip
        assert th.post("/api/v1/cases", json=body, headers=headers).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"operation": SLUG, "commodity": "timber", "limit": 2, "status": "draft"}
        if cursor:
            params["cursor"] = cursor
        page = th.get("/api/v1/cases", params=params).json()
        seen += [c["case_ref"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"TH-PAGE-{n}" for n in range(5)] and pages == 3
    assert th.get("/api/v1/cases", params={"operation": SLUG, "cursor": "nonsense!"}).status_code == 422
    text = th.get("/api/v1/cases", params={"operation": SLUG, "q": "page-3"}).json()
    assert [c["case_ref"] for c in text["items"]] == ["TH-PAGE-3"]
    # Another agency sees none of these drafts, nor TH's amber+strict case.
    vn, _ = api_client(app_client, "vn_reporter")
    listed = {c["case_ref"] for c in vn.get("/api/v1/cases", params={"operation": SLUG, "limit": 200}).json()["items"]}
    assert listed == {"TH-2", "TH-3", "VN-1"}


def test_bulk_create_is_atomic_per_case(app_client: TestClient, seeded_db: Seeded) -> None:
    th, headers = api_client(app_client, "th_reporter")
    cases = [case_body(f"TH-BULK-{n}") for n in range(3)]
    for c in cases:
        c.pop("operation")
    cases[1]["items"][1]["quantity"] = "a lot"
    response = th.post("/api/v1/cases/bulk", json={"operation": SLUG, "cases": cases}, headers=headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["created"] == 2 and out["rejected"] == 1
    assert out["results"][1]["ok"] is False and out["results"][1]["fields"][0]["field"] == "items[1].quantity"
    listed = {c["case_ref"] for c in th.get("/api/v1/cases", params={"operation": SLUG, "q": "bulk"}).json()["items"]}
    assert listed == {"TH-BULK-0", "TH-BULK-2"}


def test_bulk_create_one_pass_contract(app_client: TestClient, seeded_db: Seeded) -> None:
    th, headers = api_client(app_client, "th_reporter")
    cases = [case_body(f"TH-BULKC-{n}", submit=n == 0) for n in range(2)] + [case_body("TH-BULKC-0")]
    cases[1]["items"][0]["unit"] = "bags"
    for c in cases:
        c.pop("operation")
    out = th.post("/api/v1/cases/bulk", json={"operation": SLUG, "cases": cases}, headers=headers).json()
    assert [(r["index"], r["ok"], r["status"]) for r in out["results"]] == [(0, True, 201), (1, False, 422),
                                                                            (2, False, 422)]  # fmt: skip
    assert [f["field"] for f in out["results"][1]["fields"]] == ["items[0].unit"]
    assert out["results"][2]["fields"][0]["reason"] == "case_ref TH-BULKC-0 is already used by your agency"
    created = th.get(f"/api/v1/cases/{out['results'][0]['id']}").json()
    assert (created["status"], created["case_ref"], created["items"][0]["substance"]) == (
        "submitted", "TH-BULKC-0", "methamphetamine")  # fmt: skip
    # The batch limit is the schema's: one request carries at most bulk.MAX_CASES cases.
    from dragonnet.intake.bulk import MAX_CASES

    too_many = th.post("/api/v1/cases/bulk", json={"operation": SLUG, "cases": [cases[0]] * (MAX_CASES + 1)},
                       headers=headers)  # fmt: skip
    assert too_many.status_code == 422


def test_foreign_cases_answer_404(app_client: TestClient, seeded_db: Seeded) -> None:
    vn, headers = api_client(app_client, "vn_reporter")
    hidden = seeded_db.cases["TH-1"]  # amber+strict: TH only
    draft = seeded_db.cases["TH-4"]
    for case_id in (hidden, draft, 999_999):
        assert vn.get(f"/api/v1/cases/{case_id}").status_code == 404
        body = case_body("X")
        body.pop("operation")
        assert vn.put(f"/api/v1/cases/{case_id}", json={**body, "version": 1}, headers=headers).status_code == 404
        assert vn.post(f"/api/v1/cases/{case_id}/transitions", json={"action": "withdraw"},
                       headers=headers).status_code == 404  # fmt: skip
        assert vn.get(f"/cases/{case_id}").status_code == 404
        assert vn.get(f"/cases/{case_id}/edit").status_code == 404
    # A visible case of another agency: readable, not editable, its parties withheld.
    green = seeded_db.cases["TH-2"]
    read = vn.get(f"/api/v1/cases/{green}")
    assert read.status_code == 200 and read.json()["parties"] is None
    body = case_body("TH-2")
    body.pop("operation")
    refused = vn.put(f"/api/v1/cases/{green}", json={**body, "version": 1}, headers=headers)
    assert refused.status_code in (400, 403) and vn.get(f"/api/v1/cases/{green}").json()["version"] == 1


def test_cookie_writes_need_the_csrf_header(app_client: TestClient, seeded_db: Seeded) -> None:
    th, _headers = api_client(app_client, "th_reporter")
    assert th.post("/api/v1/cases", json=case_body("TH-CSRF")).status_code == 403


def test_workflow_transitions_and_permissions(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    th, headers = api_client(app_client, "th_reporter")
    case = th.post("/api/v1/cases", json=case_body("TH-WF"), headers=headers).json()
    cid = case["id"]

    def step(client: TestClient, hdrs: dict[str, str], action: str, **extra: object) -> tuple[int, dict]:
        r = client.post(f"/api/v1/cases/{cid}/transitions", json={"action": action, **extra}, headers=hdrs)
        return r.status_code, r.json()

    status, body = step(th, headers, "validate")
    assert status in (400, 403), body  # a reporter does not validate
    status, body = step(th, headers, "submit", version=1)
    assert status == 200 and body["status"] == "submitted" and body["version"] == 2
    status, body = step(th, headers, "submit")
    assert status == 422 and "cannot submit a case that is submitted" in body["error"]["message"]
    vn, vn_headers = api_client(app_client, "vn_reporter")
    assert step(vn, vn_headers, "validate")[0] in (400, 403)  # green, visible, but not VN's to validate
    coord, coord_headers = api_client(app_client, "th_coord")
    status, body = step(coord, coord_headers, "validate", version=1)
    assert status == 409  # stale page
    status, body = step(coord, coord_headers, "validate")
    assert status == 200 and body["status"] == "validated" and body["validated_at"]
    assert step(coord, coord_headers, "return", reason="x")[0] == 422
    status, body = step(th, headers, "withdraw")
    assert status == 200 and body["status"] == "withdrawn"
    history = th.get(f"/api/v1/cases/{cid}/history").json()
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        (None, "draft", "th_reporter"), ("draft", "submitted", "th_reporter"),
        ("submitted", "validated", "th_coord"), ("validated", "withdrawn", "th_reporter"),
    ]  # fmt: skip
    engine = make_engine(db_url)
    with engine.connect() as conn:
        actions = list(conn.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(cid))).scalars())
    engine.dispose()
    assert {"case.create", "case.submit", "case.validate", "case.withdraw"} <= set(actions)


def test_nominal_read_is_audited(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    th, headers = api_client(app_client, "th_reporter")
    body = case_body("TH-NOM", parties=[{"name": "Nominal Person", "role": "courier"}])
    cid = th.post("/api/v1/cases", json=body, headers=headers).json()["id"]
    page = th.get(f"/cases/{cid}")
    assert page.status_code == 200 and "Nominal Person" in page.text
    engine = make_engine(db_url)
    with engine.connect() as conn:
        reads = conn.execute(
            select(AuditEvent.actor_username).where(
                AuditEvent.action == "case.read_nominal", AuditEvent.object_id == str(cid)
            )
        ).all()
    engine.dispose()
    assert len(reads) >= 2  # the API answer to the create and the case page


def test_lookups(app_client: TestClient, seeded_db: Seeded) -> None:
    th, _ = api_client(app_client, "th_reporter")
    countries = th.get("/api/v1/lookups/countries", params={"q": "viet"}).json()
    assert any(s["value"] == "VN" for s in countries)
    species = th.get("/api/v1/lookups/species", params={"q": "Manis jav"}).json()
    assert any(s["value"] == "Manis javanica" for s in species)
    assert th.get("/api/v1/lookups/substances", params={"q": "methamph"}).json()
    assert th.get("/api/v1/lookups/places", params={"q": "VNHPH"}).json()[0]["value"] == "VNHPH"
    assert th.get("/api/v1/lookups/secrets", params={"q": "x"}).status_code == 404
