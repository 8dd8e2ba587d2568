"""The operator guide's walk-through cannot rot: every command of "From zero to a first debrief" runs, in
order, on an empty database (SQLite and PostgreSQL), and the debrief's counts must equal an independent count
of the example spreadsheets (read here with the csv module, not with dragonnet)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.storage.db import make_engine
from dragonnet.storage.intake_models import CaseStatusChange
from dragonnet.storage.models import AuditEvent, Case

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "operator-guide.md"
EXAMPLES = REPO / "docs" / "examples" / "routes-2009-2012"
SECTION = "## From zero to a first debrief"
NOT_RUN = "<!-- not run"
PHASES = {1: (dt.date(2009, 1, 1), dt.date(2010, 12, 31)), 2: (dt.date(2011, 1, 1), dt.date(2012, 12, 31))}


def guide_blocks() -> list[str]:
    """The runnable ```sh blocks of the walk-through, in order (those after a "not run" comment are skipped)."""
    text = GUIDE.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else None]
    blocks = []
    for m in re.finditer(r"(?P<before>[^\n]*)\n```sh\n(?P<body>.*?)\n```", section, re.DOTALL):
        if not m["before"].strip().startswith(NOT_RUN):
            blocks.append(m["body"])
    return blocks


def spreadsheet_counts() -> tuple[Counter[int], Counter[tuple[int, str]]]:
    """Cases per phase, and per (phase, agency), counted straight from the example CSV files."""
    per_phase: Counter[int] = Counter()
    per_agency: Counter[tuple[int, str]] = Counter()
    for path in sorted(EXAMPLES.glob("*.csv")):
        if path.name == "roster.csv":
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            cases = {(r["reporting_agency"], r["case_ref"]): dt.date.fromisoformat(r["seizure_date"])
                     for r in csv.DictReader(fh)}  # fmt: skip
        for (agency, _ref), day in cases.items():
            phase = next(n for n, (a, b) in PHASES.items() if a <= day <= b)
            per_phase[phase] += 1
            per_agency[(phase, agency)] += 1
    return per_phase, per_agency


def test_the_guide_has_the_whole_walk_through() -> None:
    joined = "\n".join(guide_blocks())
    for step in ("dragonnet init", "dragonnet bootstrap", "operations create", "operations phase", "roster import",
                 "import cases", "curation map", "cases validate", "report debrief"):  # fmt: skip
        assert step in joined, step


@pytest.mark.slow
def test_walk_through_on_an_empty_database(empty_db_url: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "docs").mkdir(parents=True)
    # The guide's paths, relative to the clone: the examples (copied, so reports land here) and the venv.
    (work / "docs" / "examples").mkdir()
    subprocess.run(["cp", "-r", str(EXAMPLES), str(work / "docs" / "examples")], check=True)
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {**os.environ, "DRAGONNET_DATABASE_URL": empty_db_url, "DRAGONNET_DATA_DIR": str(tmp_path / "var"),
           "DRAGONNET_SECRET_KEY": "guide-test-secret"}  # fmt: skip
    for n, block in enumerate(guide_blocks(), start=1):
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, f"block {n} failed:\n{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"

    per_phase, per_agency = spreadsheet_counts()
    assert sum(per_phase.values()) == 90 and len({a for _p, a in per_agency}) == 4
    for number in PHASES:
        debrief = json.loads((work / f"debrief-phase-{number}.json").read_text())
        assert debrief["headline"]["cases"] == per_phase[number]
        assert debrief["headline"]["reporting_agencies"] == len({a for p, a in per_agency if p == number})
        by_agency = {row["agency"]: row["cases"] for row in debrief["breakdowns"]["by_agency"]["rows"]}
        assert by_agency == {a: n for (p, a), n in per_agency.items() if p == number}
    assert (work / "debrief-phase-2.xlsx").read_bytes().startswith(b"PK")
    passwords = list(csv.DictReader((work / "first-passwords.csv").open()))
    assert len(passwords) == 6 and all(len(p["first_password"]) >= 12 for p in passwords)

    # Every validation is in the cases' history and in the audit log.
    engine = make_engine(empty_db_url)
    with Session(engine) as s:
        validated = s.execute(select(func.count()).select_from(Case).where(Case.status == "validated")).scalar_one()
        history = s.execute(select(func.count()).select_from(CaseStatusChange)
                            .where(CaseStatusChange.to_status == "validated")).scalar_one()  # fmt: skip
        audited = s.execute(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "case.validate")).scalar_one()  # fmt: skip
    engine.dispose()
    assert validated == history == audited == 90
