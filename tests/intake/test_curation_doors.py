"""The curation loop through its three doors (web page, API, CLI) over tests/web/seed.py's operation: the same
queue, the same rules (404 for whoever does not review values), mappings made through one door seen by the
others, the case's history, the mapping file."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dragonnet.cli.main import app as cli_app
from web.seed import SLUG, Seeded
from web.webtest import csrf_token

from .webcases import api_client, case_body

runner = CliRunner()
BASE = f"/api/v1/operations/{SLUG}/curation"


def cli(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, [*args, "--database-url", db_url])
    return result.exit_code, result.stdout, result.stderr


def _report(client: TestClient, headers: dict[str, str], ref: str, taxon: str, place: str | None = None) -> int:
    body = case_body(ref, items=[{"commodity_class": "wildlife", "taxon": taxon, "quantity": "unknown", "unit": ""}])
    if place:
        body.update(place_locode=None, place_name=place)
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_the_queue_through_the_api_web_and_cli(app_client: TestClient, seeded_db: Seeded, db_url: str) -> None:
    reporter, rh = api_client(app_client, "th_reporter")
    case_id = _report(reporter, rh, "TH-CUR-1", "Aldabra Troiteses", place="Suvarnabhumi Airprot")
    case = reporter.get(f"/api/v1/cases/{case_id}").json()
    item = case["items"][0]
    assert (item["taxon"], item["taxon_status"], item["quantity"], item["unit"]) == (None, "unverified", None, None)
    assert case["place_locode"] == "THBKK"  # the misspelt airport was read by a guess, and is queued
    # a reporter has no curation: 404 through every door
    assert reporter.get(BASE + "/values").status_code == 404
    assert reporter.get(f"/operations/{SLUG}/curation").status_code == 404
    code, _out, err = cli(db_url, "curation", "list", "--operation", SLUG, "--as", "th_reporter")
    assert code == 1 and err.startswith("error:")

    coord, ch = api_client(app_client, "th_coord")
    values = coord.get(BASE + "/values").json()
    assert {(v["kind"], v["text"], v["status"]) for v in values} == {
        ("taxon", "Aldabra Troiteses", "unresolved"), ("place", "Suvarnabhumi Airprot", "guess")}  # fmt: skip
    code, out, _ = cli(db_url, "curation", "list", "--operation", SLUG, "--as", "th_coord", "--json")
    assert code == 0 and {v["id"] for v in json.loads(out)} == {v["id"] for v in values}
    page = coord.get(f"/operations/{SLUG}/curation")
    assert page.status_code == 200 and "Aldabra Troiteses" in page.text and 'data-nav="curation"' in page.text

    # map through the web page: applied to the case, shown in its history
    taxon = next(v for v in values if v["kind"] == "taxon")
    response = coord.post(f"/operations/{SLUG}/curation/map", data={
        "csrf_token": csrf_token(page.text), "value_id": taxon["id"], "target": "Aldabrachelys gigantea",
        "decision": "map"})  # fmt: skip
    assert response.status_code == 303 and "1%20case" in response.headers["location"]
    mapped = reporter.get(f"/api/v1/cases/{case_id}").json()["items"][0]
    assert (mapped["taxon"], mapped["taxon_status"], mapped["taxon_rank"]) == (
        "Aldabrachelys gigantea",
        "listed",
        "SPECIES",
    )
    case_page = reporter.get(f"/cases/{case_id}")
    assert 'id="corrections"' in case_page.text and "Aldabrachelys gigantea" in case_page.text
    assert "quantity unknown" in case_page.text  # the values to check

    # confirm the place guess through the API; the CLI sees both mappings
    place = next(v for v in values if v["kind"] == "place")
    applied = coord.post(BASE + "/mappings", json={"value_id": place["id"], "target": "BKK"}, headers=ch)
    assert applied.status_code == 200, applied.text
    assert applied.json()["mapping"]["target"] == "THBKK" and applied.json()["cases"] == 0  # the guess was right
    code, out, _ = cli(db_url, "curation", "mappings", "--operation", SLUG, "--as", "th_coord", "--json")
    assert code == 0 and {m["text"] for m in json.loads(out)} == {"Aldabra Troiteses", "Suvarnabhumi Airprot"}
    assert coord.get(BASE + "/values").json() == []
    # a wrong target is one clear error; a coordinator maps for its own agency only
    bad = coord.post(BASE + "/mappings", json={"kind": "taxon", "text": "x", "target": "Nonsensus"}, headers=ch)
    assert bad.status_code == 422 and "not a taxon" in bad.text
    other = coord.post(BASE + "/mappings", json={"kind": "taxon", "text": "x", "target": "Aves",
                                                  "agency": "VN-CUS"}, headers=ch)  # fmt: skip
    assert other.status_code == 403


def test_the_mapping_file_through_each_door(
    app_client: TestClient, seeded_db: Seeded, db_url: str, tmp_path: Path
) -> None:
    analyst, ah = api_client(app_client, "analyst")
    made = analyst.post(BASE + "/mappings", json={"kind": "taxon", "text": "Birds of paradise",
                                                  "target": "Paradisaeidae"}, headers=ah)  # fmt: skip
    assert made.status_code == 200 and made.json()["mapping"]["agency"] == ""
    exported = analyst.get(BASE + "/mappings/file", params={"format": "yaml"})
    assert exported.status_code == 200 and "Paradisaeidae" in exported.text
    web_export = analyst.get(f"/operations/{SLUG}/curation/export", params={"format": "yaml"})
    code, cli_export, _ = cli(db_url, "curation", "export", "--operation", SLUG, "--as", "analyst", "--format", "yaml")
    strip = lambda text: text.split("\n", 1)[1]  # noqa: E731 - the first line is the export's time
    assert code == 0 and strip(cli_export) == strip(exported.text) == strip(web_export.text)
    # a file with a bad row: nothing imported, every bad row named (API and CLI alike)
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,text,target\ntaxon,Parrots,Psittaciformes\nplace,Nowhere,ZZZZZ\n", encoding="utf-8")
    response = analyst.post(BASE + "/mappings/file", files={"file": ("bad.csv", bad.read_bytes())}, headers=ah)
    assert response.status_code == 200 and response.json()["ok"] is False
    assert [e["row"] for e in response.json()["errors"]] == [3]
    code, _out, err = cli(db_url, "curation", "import", str(bad), "--operation", SLUG, "--as", "analyst")
    assert code == 1 and "row 3" in err and "error: nothing imported" in err
    assert {m["text"] for m in analyst.get(BASE + "/mappings").json()} == {"Birds of paradise"}
    good = tmp_path / "good.csv"
    good.write_text("kind,text,target\ntaxon,Parrots,Psittaciformes\n", encoding="utf-8")
    code, out, _ = cli(db_url, "curation", "import", str(good), "--operation", SLUG, "--as", "analyst")
    assert code == 0 and "1 mapping(s) imported" in out
    page = analyst.get(f"/operations/{SLUG}/curation")
    assert "Psittaciformes" in page.text and "Paradisaeidae" in page.text
