"""Setting up an operation from zero on the command line: every bad input answers one `error:` line, exit 1,
and changes nothing (duplicate codes, overlapping phases, unknown countries, a second first administrator, a
roster row naming an unknown agency, a phase move that would orphan cases); bulk validation and the API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.cli.main import app
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import Agency, AuditEvent, Case, Phase, User

runner = CliRunner()
PASSWORD = "Setup-passphrase-2024"
CASES = "case_ref,reporting_agency,seizure_date,place_country,commodity_class,substance,quantity,unit,sharing_level\n"


def run(url: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database-url", url], input=input)
    return result.exit_code, result.stdout, result.stderr


def state(url: str) -> tuple[int, ...]:
    engine = make_engine(url)
    with Session(engine) as s:
        counts = tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                       for m in (Agency, User, Phase, Case, AuditEvent))  # fmt: skip
    engine.dispose()
    return counts


def refused(url: str, *args: str, message: str, input: str | None = None) -> None:
    before = state(url)
    code, out, err = run(url, *args, input=input)
    assert code == 1, (args, out, err)
    assert err.startswith(f"error: {message}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert state(url) == before


def test_from_zero_with_every_refusal(db_url: str, tmp_path: Path) -> None:
    ok = lambda *args, input=None: run(db_url, *args, input=input)  # noqa: E731
    assert ok("bootstrap", "admin", "--agency", "RILO-AP", "--agency-name", "RILO Asia/Pacific", "--kind",
              "regional_office", "--password-stdin", input=PASSWORD + "\n")[0] == 0  # fmt: skip
    refused(db_url, "bootstrap", "eve", "--agency", "EVE", "--password-stdin", input=PASSWORD + "\n",
            message="an administrator exists already")  # fmt: skip

    assert ok("agencies", "add", "TH-CUS", "--name", "Thai Customs", "--country", "TH", "--kind", "customs")[0] == 0
    refused(db_url, "agencies", "add", "th-cus", "--name", "Again", "--country", "TH", "--kind", "customs",
            message="agency TH-CUS exists already")  # fmt: skip
    refused(db_url, "agencies", "add", "XX-CUS", "--name", "Nowhere", "--country", "Atlantis", "--kind", "customs",
            message="unknown country 'Atlantis'")  # fmt: skip
    refused(db_url, "agencies", "add", "LA-BG", "--name", "Lao border", "--country", "LA", "--kind", "army",
            message="unknown agency kind 'army'")  # fmt: skip
    assert ok("agencies", "add", "LA-BG", "--name", "Lao border", "--country", "LA", "--kind", "border")[0] == 0

    assert ok("operations", "create", "air-2015", "--name", "Air 2015", "--scope", "drug")[0] == 0
    refused(db_url, "operations", "create", "air-2015", "--name", "Again", message="operation 'air-2015' exists")
    assert ok("operations", "phase", "air-2015", "--name", "Phase I", "--start", "2015-01-01", "--end",
              "2015-06-30")[0] == 0  # fmt: skip
    refused(db_url, "operations", "phase", "air-2015", "--name", "Phase II", "--start", "2015-06-30", "--end",
            "2015-12-31", message="Phase II (2015-06-30..2015-12-31) would overlap Phase I")  # fmt: skip
    refused(db_url, "operations", "join", "air-2015", "ZZ-NONE", message="unknown agency 'ZZ-NONE'")
    assert ok("operations", "join", "air-2015", "TH-CUS", "--role", "member")[0] == 0
    assert ok("operations", "join", "air-2015", "RILO-AP", "--role", "lead")[0] == 0

    roster = tmp_path / "roster.csv"
    roster.write_text("agency_code,username,roles\nTH-CUS,th.coord,national_coordinator\nZZ-NONE,zz.user,reporter\n")
    before = state(db_url)
    code, out, err = run(db_url, "roster", "import", str(roster))
    assert code == 2 and "row 3, agency_code: unknown agency ZZ-NONE" in err
    assert err.strip().splitlines()[-1].startswith("error: roster.csv: 1 problem(s) in 1 row(s); nothing was imported")
    assert state(db_url) == before  # th.coord (a good row) was not created either
    roster.write_text(
        "agency_code,username,roles\nTH-CUS,th.coord,national_coordinator\nRILO-AP,rilo,regional_analyst\n"
    )
    assert run(db_url, "roster", "import", str(roster))[0] == 0
    assert "changed: nothing" in run(db_url, "roster", "import", str(roster))[1]  # idempotent

    spreadsheet = tmp_path / "th.csv"
    spreadsheet.write_text(CASES + "".join(f"TH-{n},TH-CUS,2015-0{n}-10,TH,drug,heroin,{n},kg,green\n"
                                           for n in range(1, 5)))  # fmt: skip
    code, out, err = run(db_url, "import", "cases", str(spreadsheet), "--operation", "air-2015", "--agency", "TH-CUS",
                         "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["case_refs"] == ["TH-1", "TH-2", "TH-3", "TH-4"]
    # Phase I holds TH-1..TH-4 (January to April): it may not shrink so as to orphan them.
    refused(db_url, "operations", "phase", "air-2015", "--name", "Phase I", "--start", "2015-03-01", "--end",
            "2015-06-30", message="Phase I holds 2 case(s) dated outside 2015-03-01..2015-06-30")  # fmt: skip
    refused(db_url, "cases", "validate", "--operation", "air-2015", "--agency", "TH-CUS", "--all-submitted", "--as",
            "rilo-nobody", message="unknown or disabled user 'rilo-nobody'")  # fmt: skip
    refs = tmp_path / "refs.txt"
    refs.write_text("TH-1\nTH-9\n")
    refused(db_url, "cases", "validate", "--operation", "air-2015", "--agency", "TH-CUS", "--refs", str(refs), "--as",
            "th.coord", message="no case TH-9 of TH-CUS")  # fmt: skip
    refs.write_text("TH-1\nTH-2\n")
    code, out, err = run(db_url, "cases", "validate", "--operation", "air-2015", "--agency", "TH-CUS", "--refs",
                         str(refs), "--as", "th.coord")  # fmt: skip
    assert code == 0 and "validated 2 case(s)" in out, err
    code, out, _ = run(db_url, "cases", "validate", "--operation", "air-2015", "--agency", "TH-CUS", "--all-submitted",
                       "--as", "rilo", "--json")  # fmt: skip
    assert json.loads(out)["validated_refs"] == ["TH-3", "TH-4"]
    code, out, _ = run(db_url, "operations", "show", "air-2015", "--json")
    assert json.loads(out)["phases"][0]["validated_cases"] is None  # 4 validated: a small cell, suppressed


def test_api_setup(db_url: str, tmp_path: Path) -> None:
    from dragonnet.app import create_app
    from dragonnet.config import Settings
    from dragonnet.policy.admin import setup_token

    settings = Settings(database_url=db_url, data_dir=tmp_path, secret_key="api-setup-secret", session_hours=8,
                        secure_cookies=False)  # fmt: skip
    body = {"username": "root", "password": PASSWORD, "agency_code": "RILO-AP", "agency_name": "RILO",
            "agency_kind": "regional_office"}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/setup", json={**body, "setup_token": "wrong"}).status_code == 404
        r = client.post("/api/v1/setup", json={**body, "setup_token": setup_token("api-setup-secret")})
        assert r.status_code == 201, r.text
        again = client.post("/api/v1/setup", json={**body, "username": "root2",
                                                   "setup_token": setup_token("api-setup-secret")})  # fmt: skip
        assert again.status_code == 409 and "exists already" in again.json()["error"]["message"]
        assert client.get("/setup", params={"token": setup_token("api-setup-secret")}).status_code == 404
