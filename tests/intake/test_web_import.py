"""The web import: upload -> preview (mapping with confidence, dry-run errors) -> error CSV -> fix and re-upload
-> confirm; uploads are owner-bound and deleted after confirmation; templates; files rejected by content."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi.testclient import TestClient

from intake.helpers import csv_bytes
from intake.webcases import api_client
from web.seed import SLUG, Seeded
from web.webtest import csrf_token

HEADER = ["Case number", "reporting_agency", "Date of seizure", "country", "commodity", "substance", "taxon",
          "quantity", "unit", "description"]  # fmt: skip
GOOD = [
    ["TH-IMP-1", "TH-CUS", "2024-06-03", "Thailand", "drug", "ICE", "", "2,5", "kg", "in fish"],
    ["TH-IMP-2", "TH-CUS", "2024-06-04", "TH", "wildlife", "", "pangolin scales", "40", "kg", '=HYPERLINK("x")'],
    ["TH-IMP-3", "TH-CUS", "2024-06-05", "TH", "wildlife", "", "Manis javanika", "3", "kg", ""],
]
BAD = [GOOD[0], ["TH-IMP-2", "TH-CUS", "2024-06-04", "TH", "wildlife", "", "Manis javanicaa zz", "-4", "kg", ""]]


def _upload(client: TestClient, name: str, data: bytes) -> object:
    token = csrf_token(client.get(f"/operations/{SLUG}/import").text)
    return client.post(f"/operations/{SLUG}/import", data={"csrf_token": token}, files={"file": (name, data)})


def test_upload_preview_fix_confirm(app_client: TestClient, seeded_db: Seeded, tmp_path: Path) -> None:
    th, _ = api_client(app_client, "th_reporter")
    response = _upload(th, "../../etc/seizures.csv", csv_bytes(BAD, HEADER))
    assert response.status_code == 303, response.text
    preview_url = response.headers["location"]
    token = preview_url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    kept = list((tmp_path / "uploads").iterdir())
    assert [p.name for p in kept] == [f"{token}.upload"]  # stored under the random id, never the user's name
    page = th.get(preview_url)
    assert page.status_code == 200
    assert 'data-header="Case number"' in page.text and "95%" in page.text  # a synonym, with its confidence
    assert "2 row(s)" in page.text and 'id="error-table"' in page.text
    assert "quantity must be a positive number" in page.text
    report = th.get(preview_url + "/errors.csv")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["sheet", "row", "column", "value", "reason", "suggestion", "severity"]
    # the unknown taxon no longer rejects its row: a warning (kept as written, "unverified"); -4 kg does
    assert {(r[2], r[6]) for r in rows[1:]} == {("quantity", "error"), ("taxon", "warning")}
    assert rows[-1][:4] == ["items", "3", "quantity", "'-4"] or any(r[3] == "'-4" for r in rows[1:])
    # another user cannot open or confirm this upload
    other, _ = api_client(app_client, "th_coord")
    assert other.get(preview_url).status_code == 404
    # fix and upload again: the old upload is gone, the new one checks clean
    response = _upload(th, "seizures.csv", csv_bytes(GOOD, HEADER))
    new_url = response.headers["location"]
    assert th.get(preview_url).status_code == 404
    page = th.get(new_url)
    assert "0 row(s) rejected" in page.text
    # the misspelt taxon is accepted, and shown as a reading to check with the name that will be stored
    assert 'id="warning-table"' in page.text and "Manis javanika" in page.text and "the closest name" in page.text
    guessed = list(csv.reader(io.StringIO(th.get(new_url + "/errors.csv").content.decode("utf-8-sig"))))
    assert [(r[1], r[2], r[3], r[5], r[6]) for r in guessed[1:]] == [
        ("4", "taxon", "Manis javanika", "Manis javanica", "warning")
    ]
    assert "read as 'Manis javanica', the closest name" in guessed[1][4]
    confirm = th.post(new_url + "/confirm", data={"csrf_token": csrf_token(page.text)})
    assert confirm.status_code == 200, confirm.text
    assert "3 new, 0 updated and 0 unchanged case(s)" in confirm.text
    assert list((tmp_path / "uploads").iterdir()) == []
    assert th.get(new_url).status_code == 404
    cases = th.get("/api/v1/cases", params={"operation": SLUG, "q": "TH-IMP"}).json()["items"]
    assert sorted(c["case_ref"] for c in cases) == ["TH-IMP-1", "TH-IMP-2", "TH-IMP-3"]
    assert {c["status"] for c in cases} == {"submitted"}


def test_remap_headers(app_client: TestClient, seeded_db: Seeded) -> None:
    th, _ = api_client(app_client, "th_reporter")
    header = [*HEADER[:7], "amount seized", "unit", "description"]
    url = _upload(th, "odd.csv", csv_bytes(GOOD, header)).headers["location"]
    page = th.get(url)
    assert "required column(s) not mapped: quantity" in page.text
    form = {"csrf_token": csrf_token(page.text)}
    for index, head in enumerate(header):
        form[f"header-i{index}"] = head
    form["column-i7"] = "quantity"
    for index, col in enumerate(["case_ref", "reporting_agency", "seizure_date", "place_country", "commodity_class",
                                 "substance", "taxon"]):  # fmt: skip
        form[f"column-i{index}"] = col
    form["column-i8"], form["column-i9"] = "unit", "description"
    assert th.post(url + "/mapping", data=form).status_code == 303
    page = th.get(url)
    assert "0 row(s) rejected" in page.text and "explicit" in page.text


def test_rejected_files_and_templates(app_client: TestClient, seeded_db: Seeded, tmp_path: Path) -> None:
    th, _ = api_client(app_client, "th_reporter")
    disguised = _upload(th, "cases.xlsx", csv_bytes(GOOD, HEADER))
    assert disguised.status_code == 422 and "not an XLSX workbook" in disguised.text
    assert _upload(th, "cases.exe", b"MZ\x90\x00").status_code == 422
    assert not (tmp_path / "uploads").exists() or list((tmp_path / "uploads").iterdir()) == []
    xlsx = th.get(f"/operations/{SLUG}/import/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK\x03\x04")
    template = th.get(f"/operations/{SLUG}/import/template.csv")
    assert template.text.startswith("case_ref,reporting_agency,seizure_date")
    # In a language: ?lang=, else the page's (here the browser's Accept-Language); the file name says which.
    vi = th.get(f"/operations/{SLUG}/import/template.csv?lang=vi")
    assert vi.text.startswith("số vụ,cơ quan,ngày bắt giữ")
    assert "cases-template-vi.csv" in vi.headers["content-disposition"]
    zh = th.get(f"/operations/{SLUG}/import/template.xlsx", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "cases-template-zh_Hans.xlsx" in zh.headers["content-disposition"]
    assert th.get(f"/operations/{SLUG}/import/template.csv?lang=xx").status_code == 422
    assert th.get(f"/operations/{SLUG}/import/../../etc/passwd").status_code == 404
    assert th.get(f"/operations/{SLUG}/import/{'0' * 32}").status_code == 404
