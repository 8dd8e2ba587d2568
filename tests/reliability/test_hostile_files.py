"""S6: every file of the hostile corpus is rejected clearly or imported cleanly; none crashes, none leaves a
partial case, none writes outside its place or opens a network connection."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.intake import ImportRejected
from dragonnet.intake.importer import import_cases
from dragonnet.operation import service
from dragonnet.policy import audit
from dragonnet.storage.models import Case, Item

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "malicious"
FILES = sorted(p.name for p in CORPUS.iterdir())
ACTOR = audit.AuditActor(None, "test", "VN-CUS")
# What each file must come to: "rejected" (whole file refused) or "rows" (some rows rejected, rest clean).
EXPECTED = {
    "xxe_sharedstrings.xlsx": "any",
    "billion_laughs.xlsx": "any",
    "external_link.xlsx": "any",
    "zip_slip_symlink.xlsx": "any",
    "zip_bomb.xlsx": "rejected",
    "png_renamed.xlsx": "rejected",
    "windows_exe_renamed.csv": "rejected",
    "html_renamed.xlsx": "rejected",
    "nul_bytes.csv": "rejected",
    "truncated.xlsx": "rejected",
    "empty.csv": "rejected",
    "duplicate_headers.csv": "rejected",
    "header_only.csv": "clean",  # nothing to import is not an error: 0 cases
}


@pytest.fixture
def operation(session: Session) -> None:
    op = service.create_operation(
        session, slug="mekong-dragon", name="Mekong Dragon", description="", scope=["drug", "wildlife"],
        phases=[service.PhaseSpec(5, dt.date(2023, 4, 15), dt.date(2023, 11, 16), ("drug", "wildlife"))],
    )  # fmt: skip
    vn = service.add_agency(session, code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN")
    service.add_participant(session, op, vn, "member")
    session.commit()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network access during an import")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.execute(select(func.count()).select_from(Case)).scalar_one(),
        session.execute(select(func.count()).select_from(Item)).scalar_one(),
    )


@pytest.mark.parametrize("name", FILES)
def test_hostile_file(
    name: str, session: Session, operation: None, no_network: list[Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    # Files a hostile archive might try to delete or overwrite: our own in the working folder and in /tmp (other
    # processes' files in the shared /tmp come and go on their own, so they prove nothing either way).
    sentinels = [tmp_path / "sentinel.txt", Path(f"/tmp/dragonnet-sentinel-{os.getpid()}.txt")]
    for sentinel in sentinels:
        sentinel.write_text("keep me", encoding="utf-8")
    here_before = set(os.listdir(tmp_path))
    before_files = here_before | set(os.listdir("/tmp"))
    before = _counts(session)
    outcome: str
    try:
        report = import_cases(
            session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=ACTOR,
            file_path=CORPUS / name, today=dt.date(2024, 1, 1),
        )  # fmt: skip
        session.commit()
        outcome = "rows" if report.rows_rejected else "clean"
        after = _counts(session)
        # Every case that landed is whole: as many items as its rows in the file minus none rejected.
        assert after[0] - before[0] == report.cases_created + report.cases_updated - report.cases_updated
        for err in report.errors:
            assert err.reason and "\n" not in err.reason
    except ImportRejected as exc:
        session.rollback()
        outcome = "rejected"
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        assert _counts(session) == before
    print(f"figure: S6 {name}: {outcome}")
    expected = EXPECTED.get(name, "rows")
    if expected != "any":
        assert outcome == expected, (name, outcome)
    assert no_network == []
    assert not Path("/tmp/dragonnet-zip-slip.txt").exists()
    assert set(os.listdir(tmp_path)) >= here_before
    for sentinel in sentinels:  # nothing removed or overwritten
        assert sentinel.read_text(encoding="utf-8") == "keep me"
        if sentinel.parent != tmp_path:
            sentinel.unlink()
    new_tmp = (set(os.listdir(tmp_path)) | set(os.listdir("/tmp"))) - before_files
    assert not any("slip" in n or "passwd" in n for n in new_tmp)
    assert audit.verify(session).ok


def test_xxe_never_reads_local_files(session: Session, operation: None) -> None:
    try:
        report = import_cases(
            session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=ACTOR,
            file_path=CORPUS / "xxe_sharedstrings.xlsx", today=dt.date(2024, 1, 1),
        )  # fmt: skip
    except ImportRejected:
        return
    session.commit()
    texts = session.execute(select(Item.substance_text)).scalars().all()
    assert not any(t and "root:" in t for t in texts)
    assert report is not None


def test_formula_injection_is_stored_verbatim_not_evaluated(session: Session, operation: None) -> None:
    report = import_cases(
        session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=ACTOR,
        file_path=CORPUS / "formula_injection.csv", today=dt.date(2024, 1, 1),
    )  # fmt: skip
    session.commit()
    refs = set(session.execute(select(Case.case_ref)).scalars())
    # The case_ref that looks like a formula is either refused or kept as typed; never evaluated.
    assert refs <= {"=cmd|' /C calc'!A0", "M-2"}
    assert report.rows_total == 2


def test_million_row_csv_is_bounded(session: Session, operation: None, tmp_path: Path) -> None:
    """A file over the row limit is refused before any parsing work of its rows."""
    path = tmp_path / "big.csv"
    row = "R-{i},VN-CUS,2023-06-01,VN,drug,heroin,,2,kg\n"
    with path.open("w") as fh:
        fh.write("case_ref,reporting_agency,seizure_date,place_country,commodity_class,substance,taxon,quantity,unit\n")
        for i in range(1001):
            fh.write(row.format(i=i))
    with pytest.raises(ImportRejected, match=r"(?i)rows"):
        import_cases(
            session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=ACTOR, file_path=path,
            max_rows=1000,
        )  # fmt: skip
    assert _counts(session) == (0, 0)


def test_one_megabyte_cell_is_a_row_error(session: Session, operation: None, tmp_path: Path) -> None:
    path = tmp_path / "cell.csv"
    path.write_text(
        "case_ref,reporting_agency,seizure_date,place_country,commodity_class,substance,quantity,unit,concealment\n"
        f"C-1,VN-CUS,2023-06-01,VN,drug,heroin,2,kg,{'x' * 1_000_000}\n"
        "C-2,VN-CUS,2023-06-01,VN,drug,heroin,2,kg,in a suitcase\n"
    )
    report = import_cases(
        session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=ACTOR, file_path=path,
        today=dt.date(2024, 1, 1),
    )  # fmt: skip
    session.commit()
    assert report.rows_rejected == 1 and report.cases_created == 1
