"""Counted once: planted duplicate pairs across agencies are found with their evidence, decoys are not;
merge keeps both reports, records who merged, and the merged case is not counted again; dismissals stick."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from dragonnet.storage.db import make_engine
from dragonnet.storage.intake_models import CaseMerge
from dragonnet.storage.models import AuditEvent
from intake.webcases import api_client, case_body
from web.seed import SLUG, Seeded


def _case(client: TestClient, headers: dict[str, str], ref: str, **over: Any) -> int:
    body = case_body(ref, submit=True, parties=[], **over)
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _meth(qty: float) -> list[dict[str, Any]]:
    return [{"commodity_class": "drug", "substance": "methamphetamine", "quantity": qty, "unit": "kg"}]


def _plant(app_client: TestClient) -> dict[str, int]:
    th, th_h = api_client(app_client, "th_reporter")
    vn, vn_h = api_client(app_client, "vn_reporter")
    ids = {
        # a controlled delivery: seized in TH bound for VN, and reported by VN (origin TH), same container
        "th_cd": _case(th, th_h, "TH-CD", place_country="TH", place_locode=None, destination_country="VN",
                       conveyance_ref="MSKU 123456-5", seizure_date="2024-06-10", items=_meth(100)),
        "vn_cd": _case(vn, vn_h, "VN-CD", place_country="VN", place_locode=None, origin_country="TH",
                       destination_country=None, transit_countries=None, conveyance_ref="msku1234565",
                       seizure_date="2024-06-11", items=_meth(104)),
        # decoys: same day and container but 50% more; and a far date
        "vn_more": _case(vn, vn_h, "VN-MORE", place_country="VN", place_locode=None, origin_country="TH",
                         transit_countries=None, conveyance_ref="MSKU1234565", seizure_date="2024-06-10",
                         items=_meth(150)),
        "vn_late": _case(vn, vn_h, "VN-LATE", place_country="VN", place_locode=None, origin_country="TH",
                         transit_countries=None, conveyance_ref="MSKU1234565", seizure_date="2024-06-20",
                         items=_meth(100)),
        # same seizure reported twice without a link (found only with all=1)
        "th_pl": _case(th, th_h, "TH-PL", place_country="TH", place_locode=None, destination_country="VN",
                       conveyance_ref=None, seizure_date="2024-06-15", items=_meth(7)),
        "vn_pl": _case(vn, vn_h, "VN-PL", place_country="VN", place_locode=None, origin_country="TH",
                       destination_country=None, transit_countries=None, conveyance_ref=None,
                       seizure_date="2024-06-16", items=_meth(7.2)),
    }  # fmt: skip
    return ids


def test_detect_merge_count_once(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    ids = _plant(app_client)
    analyst, a_h = api_client(app_client, "analyst")
    found = analyst.get(f"/api/v1/operations/{SLUG}/duplicates")
    assert found.status_code == 200, found.text
    pairs = [(c["a"]["id"], c["b"]["id"]) for c in found.json()]
    assert pairs == [(ids["th_cd"], ids["vn_cd"])]
    evidence = " | ".join(found.json()[0]["evidence"])
    assert "same conveyance reference" in evidence and "1 day(s) apart" in evidence
    wide = analyst.get(f"/api/v1/operations/{SLUG}/duplicates", params={"all": True}).json()
    assert {(c["a"]["id"], c["b"]["id"]) for c in wide} == {(ids["th_cd"], ids["vn_cd"]), (ids["th_pl"], ids["vn_pl"])}
    # national coordinator of TH sees the TH pair; reporters have no such page
    coord, _ = api_client(app_client, "th_coord")
    assert len(coord.get(f"/api/v1/operations/{SLUG}/duplicates").json()) == 1
    vn, _ = api_client(app_client, "vn_reporter")
    assert vn.get(f"/api/v1/operations/{SLUG}/duplicates").status_code == 404
    assert vn.get(f"/operations/{SLUG}/validate").status_code == 404

    # validate both, then count: merging removes one from every figure
    for cid in (ids["th_cd"], ids["vn_cd"]):
        r = analyst.post(f"/api/v1/cases/{cid}/transitions", json={"action": "validate"}, headers=a_h)
        assert r.status_code == 200, r.text

    def phase2_total() -> int:
        return int(analyst.get(f"/api/v1/operations/{SLUG}").json()["phases"][1]["cases"])

    before = phase2_total()
    merged = analyst.post("/api/v1/cases/merge", json={"keep_id": ids["th_cd"], "duplicate_id": ids["vn_cd"],
                                                       "reason": "same container, controlled delivery"},
                          headers=a_h)  # fmt: skip
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged" and merged.json()["merged_into_id"] == ids["th_cd"]
    assert phase2_total() == before - 1
    assert analyst.get(f"/api/v1/operations/{SLUG}/duplicates").json() == []
    again = analyst.post("/api/v1/cases/merge", json={"keep_id": ids["th_cd"], "duplicate_id": ids["vn_cd"],
                                                      "reason": "again"}, headers=a_h)  # fmt: skip
    assert again.status_code == 422
    # both reports are kept; who merged is recorded
    assert analyst.get(f"/api/v1/cases/{ids['vn_cd']}").status_code == 200
    engine = make_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(select(CaseMerge.merged_by_username, CaseMerge.reason)).one()
        audit = conn.execute(select(AuditEvent.id).where(AuditEvent.action == "case.merge")).all()
    engine.dispose()
    assert row.merged_by_username == "analyst" and len(audit) == 1
    page = analyst.get(f"/cases/{ids['th_cd']}").text
    assert "merged into case" in page
    # dismissal of the unlinked pair is respected next time
    r = analyst.post("/api/v1/cases/duplicates/dismiss", json={"case_ids": [ids["vn_pl"], ids["th_pl"]],
                                                               "reason": "two boats"}, headers=a_h)  # fmt: skip
    assert r.status_code == 204
    assert analyst.get(f"/api/v1/operations/{SLUG}/duplicates", params={"all": True}).json() == []


def test_validate_page_lists_candidates(app_client: TestClient, seeded_db: Seeded) -> None:
    ids = _plant(app_client)
    coord, _ = api_client(app_client, "th_coord")
    page = coord.get(f"/operations/{SLUG}/validate")
    assert page.status_code == 200
    assert f'data-pair="{ids["th_cd"]}-{ids["vn_cd"]}"' in page.text
    pending = set(re.findall(r'<tr data-case-id="(\d+)"', page.text))
    assert str(ids["th_cd"]) in pending and str(ids["vn_cd"]) not in pending  # VN cases are not TH's to validate
