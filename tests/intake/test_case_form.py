"""The web form: create with per-field errors, drafts, edit, and optimistic locking (exactly one of two
concurrent editors wins; the other gets the conflict page and nothing is overwritten)."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import Conflict
from dragonnet.intake import forms
from dragonnet.policy.access import Actor
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import Case, User
from intake.webcases import api_client
from web.seed import SLUG, Seeded
from web.webtest import csrf_token

FORM = {
    "case_ref": "TH-FORM-1", "seizure_date": "2024-06-07", "sharing_level": "amber", "place_country": "TH",
    "place_locode": "THBKK", "transport_mode": "air_cargo", "transit_countries": "MY; SG",
    "item-0-commodity_class": "drug", "item-0-substance": "ya ba", "item-0-quantity": "20000",
    "item-0-unit": "tablets", "item-1-commodity_class": "", "item-1-quantity": "",
    "party-0-name": "", "description": "<b>seized</b> at cargo terminal",
}  # fmt: skip


def _post_form(client: TestClient, url: str, form: dict[str, str], page_url: str) -> object:
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={**form, "csrf_token": token})


def test_form_create_errors_then_draft_then_edit(app_client: TestClient, seeded_db: Seeded) -> None:
    th, _ = api_client(app_client, "th_reporter")
    page = th.get(f"/operations/{SLUG}/report")
    assert page.status_code == 200 and 'data-lookup="species"' in page.text
    bad = {**FORM, "item-0-quantity": "lots", "place_country": "Thailnd"}
    response = _post_form(th, f"/operations/{SLUG}/report", bad, f"/operations/{SLUG}/report")
    assert response.status_code == 422
    assert 'data-error-for="items[0].quantity"' in response.text and 'data-error-for="place_country"' in response.text
    assert 'value="lots"' in response.text  # what the officer typed is kept
    response = _post_form(th, f"/operations/{SLUG}/report", FORM, f"/operations/{SLUG}/report")
    assert response.status_code == 303, response.text
    case_url = response.headers["location"].split("?")[0]  # the page after a save: /cases/N?saved=...
    case_page = th.get(case_url)
    assert "Draft" in case_page.text and "methamphetamine" in case_page.text
    assert "<b>seized</b>" not in case_page.text  # escaped
    edit = th.get(case_url + "/edit")
    assert 'name="version" value="1"' in edit.text and 'value="ya ba"' in edit.text
    form = {**FORM, "version": "1", "item-0-quantity": "21000", "submit": "1"}
    response = _post_form(th, case_url + "/edit", form, case_url + "/edit")
    assert response.status_code == 303
    after = th.get(case_url).text
    assert "21000 tablets" in after and "Submitted" in after


def test_two_officers_edit_the_same_case_one_wins(app_client: TestClient, seeded_db: Seeded) -> None:
    first, _ = api_client(app_client, "th_reporter")
    second, _ = api_client(app_client, "th_coord")
    created = _post_form(first, f"/operations/{SLUG}/report", FORM, f"/operations/{SLUG}/report")
    case_url = created.headers["location"].split("?")[0]
    page_a, page_b = first.get(case_url + "/edit").text, second.get(case_url + "/edit").text
    assert 'name="version" value="1"' in page_a and 'name="version" value="1"' in page_b
    a = first.post(case_url + "/edit", data={**FORM, "version": "1", "conveyance_ref": "FIRST",
                                             "csrf_token": csrf_token(page_a)})  # fmt: skip
    b = second.post(case_url + "/edit", data={**FORM, "version": "1", "conveyance_ref": "SECOND",
                                              "csrf_token": csrf_token(page_b)})  # fmt: skip
    assert a.status_code == 303 and b.status_code == 409
    assert "Someone else changed this case" in b.text and "not saved" in b.text
    final = first.get(case_url).text
    assert "FIRST" in final and "SECOND" not in final
    assert re.search(r'id="case-version">2<', final)


def test_concurrent_saves_exactly_one_winner(db_url: str, seeded_db: Seeded) -> None:
    """P threads save the same version at once: one wins, P-1 get Conflict, no update is lost."""
    engine = make_engine(db_url)
    with Session(engine) as s:
        user = s.execute(select(User).where(User.username == "th_reporter")).scalar_one()
        actor = Actor.for_user(user)
        from dragonnet.operation.service import get_operation

        case = forms.create_case(s, actor, get_operation(s, SLUG), forms.CaseInput.from_form(FORM))
        s.commit()
        case_id = case.id
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def save(n: int) -> None:
        with Session(engine) as s:
            try:
                barrier.wait()
                forms.update_case(s, actor, case_id, forms.CaseInput.from_form({**FORM, "conveyance_ref": f"T{n}"}),
                                  version=1)  # fmt: skip
                s.commit()
                outcomes.append(f"won:{n}")
            except Conflict:
                s.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 3, outcomes
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and case.version == 2 and case.conveyance_ref == "T" + winners[0].split(":")[1]
    engine.dispose()


def test_page_forms_need_the_csrf_token(app_client: TestClient, seeded_db: Seeded) -> None:
    th, _ = api_client(app_client, "th_reporter")
    response = th.post(f"/operations/{SLUG}/report", data={**FORM, "csrf_token": "forged"})
    assert response.status_code == 403


def test_case_list_filters_and_visibility(app_client: TestClient, seeded_db: Seeded) -> None:
    vn, _ = api_client(app_client, "vn_reporter")
    page = vn.get(f"/operations/{SLUG}/cases")
    assert page.status_code == 200
    shown = set(re.findall(r'data-case-id="(\d+)"', page.text))
    assert shown == {str(seeded_db.cases[r]) for r in ("TH-2", "TH-3", "VN-1")}
    filtered = vn.get(f"/operations/{SLUG}/cases", params={"commodity": "precursor", "country": "Viet Nam"})
    assert set(re.findall(r'data-case-id="(\d+)"', filtered.text)) == {str(seeded_db.cases["VN-1"])}
    assert set(re.findall(r'data-case-id="(\d+)"', vn.get(f"/operations/{SLUG}/cases?phase=1").text)) == {
        str(seeded_db.cases["TH-2"])
    }
    assert "filter-error" in vn.get(f"/operations/{SLUG}/cases?country=Atlantis").text
