"""One door per capability: the web, the API and the CLI give the same user the same records and leave the
same audit entries, because each door only parses, calls the capability's service and renders.

The world is the declarations world of tests/linkage (over tests/web/seed.py): cases with parties and
identifiers of several agencies, declarations, a targeting list. Each capability's protected read goes
through the three doors as `th_reporter`; the audit entries each door wrote are compared (action, object,
actor, detail). Doors that do not exist are said: the CLI has no case page (it exports case lists).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.app import create_app
from dragonnet.cli.main import app as cli_app
from dragonnet.storage.models import AuditEvent, Case
from linkage.test_declaration_links import TH_PAIRS, World, build_world
from web.seed import SLUG
from web.webtest import logged_in, settings_for

USER = "th_reporter"
runner = CliRunner()
Entry = tuple[str, str | None, str | None, str | None, str]


@pytest.fixture
def doors(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    with Session(engine, expire_on_commit=False) as session:
        built = build_world(session, tmp_path)
    with TestClient(
        create_app(settings_for(db_url, tmp_path)), follow_redirects=False, raise_server_exceptions=False
    ) as client:
        logged_in(client, USER)
        yield client, built


def _last_seq(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one())


def _entries_during(engine: Engine, action: Callable[[], Any]) -> tuple[Any, list[Entry]]:
    """Run `action`; return its result and the audit entries it wrote (login and session entries left out)."""
    before = _last_seq(engine)
    result = action()
    with Session(engine) as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)).scalars()
        entries = [
            (e.action, e.object_type, e.object_id, e.actor_username, json.dumps(e.detail, sort_keys=True))
            for e in rows
            if not e.action.startswith(("auth.", "session."))
        ]
    return result, entries


def _cli(*args: str) -> str:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _three_doors(
    engine: Engine, web: Callable[[], Any], api: Callable[[], Any], cli: Callable[[], Any]
) -> dict[str, tuple[Any, list[Entry]]]:
    return {door: _entries_during(engine, call) for door, call in (("web", web), ("api", api), ("cli", cli))}


def test_linkage_networks_through_each_door(doors: tuple[TestClient, World], engine: Engine, db_url: str) -> None:
    client, _world = doors
    seen = _three_doors(
        engine,
        web=lambda: client.get(f"/operations/{SLUG}/networks").text,
        api=lambda: client.get(f"/api/v1/operations/{SLUG}/networks").json(),
        cli=lambda: json.loads(
            _cli("linkage", "networks", "--as", USER, "--json", "--limit", "1000", "--database-url", db_url)
        ),
    )
    api_rows, cli_rows = seen["api"][0], seen["cli"][0]
    assert api_rows == cli_rows and api_rows  # the same networks, the same central entities
    for row in api_rows:  # and the page shows each of them
        for central in row["central"]:
            assert central["label"] in seen["web"][0] or central["label"].replace("'", "&#39;") in seen["web"][0]
    entries = {door: e for door, (_r, e) in seen.items()}
    assert entries["web"] == entries["api"] == entries["cli"]
    (action, object_type, _oid, actor, detail) = entries["web"][0]
    assert (action, object_type, actor) == ("nominal.read", "linkage_networks", USER)
    assert json.loads(detail)["purpose"] == "networks" and json.loads(detail)["parties"]


def test_declaration_links_through_each_door(doors: tuple[TestClient, World], engine: Engine, db_url: str) -> None:
    client, world = doors
    seen = _three_doors(
        engine,
        web=lambda: client.get(f"/operations/{SLUG}/declaration-links").text,
        api=lambda: client.get(f"/api/v1/linkage/declaration-links?operation={SLUG}").json()["links"],
        cli=lambda: json.loads(
            _cli("linkage", "declarations", "--operation", SLUG, "--as", USER, "--json", "--database-url", db_url)
        ),
    )
    pairs = {door: {(r["case_ref"], r["declaration_id"]) for r in seen[door][0]} for door in ("api", "cli")}
    assert pairs["api"] == pairs["cli"] == TH_PAIRS
    page = seen["web"][0]
    for case_ref, declaration_id in TH_PAIRS:
        assert f'href="/cases/{world.cases[case_ref]}"' in page and f">{declaration_id}<" in page
    entries = {door: e for door, (_r, e) in seen.items()}
    assert entries["web"] == entries["api"] == entries["cli"]
    assert [e[:2] for e in entries["web"]] == [("nominal.read", "linkage_declaration_links")]


def test_case_export_through_each_door(
    doors: tuple[TestClient, World], engine: Engine, db_url: str, tmp_path: Path
) -> None:
    client, _world = doors
    out = tmp_path / "cases.csv"
    seen = _three_doors(
        engine,
        web=lambda: client.get(f"/operations/{SLUG}/reports/cases.csv").content,
        api=lambda: client.get(f"/api/v1/operations/{SLUG}/reports/cases.csv").content,
        cli=lambda: (
            _cli("report", "cases", "--operation", SLUG, "--as", USER, "--out", str(out), "--database-url", db_url),
            out.read_bytes(),
        )[1],
    )
    rows = {door: list(csv.reader(io.StringIO(r.decode("utf-8")))) for door, (r, _e) in seen.items()}
    assert rows["web"] == rows["api"] == rows["cli"] and len(rows["web"]) > 1
    entries = {door: e for door, (_r, e) in seen.items()}
    assert entries["web"] == entries["api"] == entries["cli"]
    assert [e[:2] for e in entries["web"]] == [("cases.export", "operation")]


def test_alert_turnaround_through_each_door(doors: tuple[TestClient, World], engine: Engine, db_url: str) -> None:
    client, _world = doors
    seen = _three_doors(
        engine,
        web=lambda: client.get(f"/messages/stats?operation={SLUG}"),
        api=lambda: client.get(f"/api/v1/operations/{SLUG}/alert-turnaround"),
        cli=lambda: json.loads(_cli("messages", "turnaround", SLUG, "--as", USER, "--json", "--database-url", db_url)),
    )
    web, api, cli = (seen[d][0] for d in ("web", "api", "cli"))
    assert web.status_code == 200 and api.status_code == 200
    assert api.json()["counting_rule"] == cli["counting_rule"] and "Counting rule" in web.text
    assert [a["agency"] for a in api.json()["agencies"]] == [a["agency"] for a in cli["agencies"]]
    assert seen["web"][1] == seen["api"][1] == seen["cli"][1] == []  # an aggregate: no record, no entry


def test_a_case_with_its_parties_through_each_door(doors: tuple[TestClient, World], engine: Engine) -> None:
    """The case page, the edit form and the API all audit the names they show (case.read_nominal); the CLI has
    no case page (it exports case lists without nominal columns, above)."""
    client, world = doors
    case_id = world.cases["TH-2"]
    with Session(engine) as s:
        assert s.get(Case, case_id) is not None
    reads = {
        door: _entries_during(engine, lambda url=url: client.get(url))
        for door, url in (
            ("page", f"/cases/{case_id}"),
            ("edit form", f"/cases/{case_id}/edit"),
            ("api", f"/api/v1/cases/{case_id}"),
        )
    }
    names = {json.dumps(sorted(json.loads(e[4])["parties"])) for _r, entries in reads.values() for e in entries}
    for door, (response, entries) in reads.items():
        assert response.status_code == 200, door
        assert [(e[0], e[1], e[2], e[3]) for e in entries] == [("case.read_nominal", "case", str(case_id), USER)]
    assert len(names) == 1  # the same parties, whichever door showed them


def test_debrief_through_each_door(doors: tuple[TestClient, World], engine: Engine, db_url: str) -> None:
    client, _world = doors

    def figures(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "generated_at"}

    seen = _three_doors(
        engine,
        web=lambda: client.get(f"/operations/{SLUG}/reports/debrief.json").json(),
        api=lambda: client.get(f"/api/v1/operations/{SLUG}/reports/debrief").json(),
        cli=lambda: json.loads(
            _cli("report", "debrief", "--operation", SLUG, "--as", USER, "--format", "json", "--database-url", db_url)
        ),
    )
    bodies = {door: figures(body) for door, (body, _e) in seen.items()}
    assert bodies["web"] == bodies["api"] == bodies["cli"] and bodies["web"]["breakdowns"]
    assert "alert_turnaround" in bodies["web"]["breakdowns"]  # contributed through the hook
    entries = {door: e for door, (_r, e) in seen.items()}
    assert entries["web"] == entries["api"] == entries["cli"]
    assert [e[:4] for e in entries["web"]] == [("report.generate", "operation", SLUG, USER)]


def test_a_targeting_list_through_each_door(doors: tuple[TestClient, World], engine: Engine) -> None:
    """The page and the API show the same ranked declarations; the CLI builds lists and has no reading command
    (targeting's doors are issue #21's)."""
    client, world = doors
    (page, page_entries), (api, api_entries) = (
        _entries_during(engine, lambda: client.get(f"/targeting/lists/{world.th_list}")),
        _entries_during(engine, lambda: client.get(f"/api/v1/targeting/lists/{world.th_list}")),
    )
    assert page.status_code == 200 and api.status_code == 200
    hits = api.json()["hits"]
    assert hits and all(f'id="hit-{h["id"]}"' in page.text for h in hits)
    assert page_entries == api_entries


def test_screening_a_list_through_each_door(
    doors: tuple[TestClient, World], engine: Engine, db_url: str, tmp_path: Path
) -> None:
    client, world = doors
    data = (
        b'Company name,Registration No.\n"Golden Ocean Trading Co., Ltd",IMP-0042\nHOANG PHAT COMPANY LIMITED,\n,X9\n'
    )
    listed = tmp_path / "consignees.csv"
    listed.write_bytes(data)
    csrf = client.get(f"/operations/{SLUG}/screening").text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"kind": "companies", "threshold": "0.5"}
    seen = _three_doors(
        engine,
        web=lambda: client.post(f"/operations/{SLUG}/screening", files={"file": ("consignees.csv", data)},
                                data={**form, "csrf_token": csrf, "output": "json"}).json(),
        api=lambda: client.post(f"/api/v1/operations/{SLUG}/screening", files={"file": ("consignees.csv", data)},
                                data=form, headers={"X-CSRF-Token": csrf}).json(),
        cli=lambda: json.loads(_cli("screen", str(listed), "--operation", SLUG, "--as", USER, "--kind", "companies",
                                    "--threshold", "0.5", "--json", "--database-url", db_url)),
    )  # fmt: skip
    hits = {door: [(h["row"], h["source"], h["link"], h["agreed"]) for h in body["hits"]] for door, (body, _e) in
            seen.items()}  # fmt: skip
    assert hits["web"] == hits["api"] == hits["cli"]
    assert f"/cases/{world.cases['TH-2']}" in {link for _r, _s, link, _a in hits["api"]}  # Golden Ocean Trading
    for body, _e in seen.values():
        assert (body["rows_read"], body["rows_quarantined"]) == (3, 1)
    entries = {door: e for door, (_r, e) in seen.items()}
    assert entries["web"] == entries["api"] == entries["cli"]
    assert [e[:2] for e in entries["web"]] == [("screening.run", "operation")]


def test_screening_an_encoded_list_through_each_door(
    doors: tuple[TestClient, World], engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Privacy-preserving screening (issue #16): the same encoded list gives the same hits and audit entry."""
    from dragonnet.linkage.screening.encoded import encode_list

    client, world = doors
    key = b"operation-shared-secret-0123456789"
    monkeypatch.setenv("DRAGONNET_LINKAGE_KEY", key.hex())
    (tmp_path / "key").write_bytes(key)
    listed = b'Company name,Registration No.\n"Golden Ocean Trading Co., Ltd",IMP-0042\nHOANG PHAT COMPANY LIMITED,\n'
    data = encode_list(listed, "consignees.csv", key, kind="companies")[0].dumps()
    encoded = tmp_path / "consignees.encoded.json"
    encoded.write_bytes(data)
    page = f"/operations/{SLUG}/screening/encoded"
    csrf = client.get(page).text.split('name="csrf_token" value="')[1].split('"')[0]
    files = {"file": ("consignees.encoded.json", data)}
    seen = _three_doors(
        engine,
        web=lambda: client.post(page, files=files, data={"csrf_token": csrf, "threshold": "0.5",
                                                          "output": "json"}).json(),
        api=lambda: client.post(f"/api/v1{page}", files=files, data={"threshold": "0.5"},
                                headers={"X-CSRF-Token": csrf}).json(),
        cli=lambda: json.loads(_cli("screen", str(encoded), "--operation", SLUG, "--as", USER, "--threshold", "0.5",
                                    "--key-file", str(tmp_path / "key"), "--json", "--database-url", db_url)),
    )  # fmt: skip
    hits = {door: [(h["row"], h["source"], h["link"], h["similarity"]) for h in body["hits"]] for door, (body, _e) in
            seen.items()}  # fmt: skip
    assert hits["web"] == hits["api"] == hits["cli"]
    assert f"/cases/{world.cases['TH-2']}" in {link for _r, _s, link, _a in hits["api"]}  # Golden Ocean Trading
    entries = {door: e for door, (_r, e) in seen.items()}
    assert entries["web"] == entries["api"] == entries["cli"]
    assert [e[:2] for e in entries["web"]] == [("screening.run", "operation")]
