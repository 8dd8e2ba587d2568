"""Hypothesis-driven fuzzing of the parsers and normalisers (S7): only declared errors, never a crash.

`DRAGONNET_FUZZ_EXAMPLES` raises the example count for a longer run (the nightly budget); the default
keeps `make test` quick.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import signal
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dragonnet.domain.quantity import make_quantity, parse_number, parse_unit
from dragonnet.errors import DragonnetError, ReferenceLookupError, ValidationError
from dragonnet.intake import ImportRejected
from dragonnet.intake.importer import import_cases
from dragonnet.operation import service
from dragonnet.policy import audit
from dragonnet.reference import cites, countries, places, substances
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Case

EXAMPLES = int(os.environ.get("DRAGONNET_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COLUMNS = [
    "case_ref", "reporting_agency", "seizure_date", "place_country", "commodity_class", "substance", "taxon",
    "quantity", "unit", "transport_mode", "transit_countries", "arrests", "sharing_level", "description",
]  # fmt: skip
NASTY = st.sampled_from(
    ["", " ", "=1+1", "@A1", "-", "1,5", "1.250,5", "NaN", "inf", "-0", "0", "1e400", "2023-02-30", "30/12/2023",
     "VN", "Viet Nam", "越南", "drug", "wildlife", "heroin", "ya ba", "Manis javanica", "pangolin scales", "kg", "viên",
     "\u202e", "\x00", "\ufeff", "a\nb", '"', "'; DROP TABLE cases; --", "<script>alert(1)</script>", "{{7*7}}",
     "VN-CUS", "TH-CUS", "red", "amber+strict", "9" * 50, "💊"]
)  # fmt: skip
CELL = st.one_of(NASTY, st.text(max_size=40))

# "No hang, bounded memory": every example must finish within HANG_SECONDS and grow the process's resident
# memory by less than RSS_GROWTH_MB over what it was when this module loaded (generous bounds: they catch a
# loop that never ends or an input that expands without limit, not slowness).
HANG_SECONDS = 30
RSS_GROWTH_MB = 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


_BASELINE_MB = _rss_mb()


class Hang(Exception):
    pass


@contextlib.contextmanager
def bounded(seconds: int = HANG_SECONDS) -> Iterator[None]:
    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"an example ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    grown = _rss_mb() - _BASELINE_MB
    assert grown < RSS_GROWTH_MB, f"resident memory grew by {grown:.0f} MB"


def test_the_bounds_catch_a_hang_and_a_blow_up() -> None:
    import time

    with pytest.raises(Hang), bounded(seconds=1):
        time.sleep(3)
    hog = None
    with pytest.raises(AssertionError, match="resident memory grew"), bounded():
        hog = bytearray((RSS_GROWTH_MB + 64) * 2**20)
        hog[::_PAGE] = b"x" * len(hog[::_PAGE])  # touch every page so it is resident
    del hog


@given(st.text(max_size=60))
@settings(max_examples=EXAMPLES * 3, deadline=None)
def test_reference_resolvers_raise_only_lookup_errors(text: str) -> None:
    for resolve in (countries.resolve, cites.resolve, substances.resolve, places.resolve):
        try:
            with bounded():
                resolve(text)
        except ReferenceLookupError as exc:
            assert "\n" not in str(exc)


@given(st.text(max_size=30), st.text(max_size=12))
@settings(max_examples=EXAMPLES * 3, deadline=None)
def test_quantity_parsers_raise_only_validation_errors(number: str, unit: str) -> None:
    for call in (lambda: parse_number(number), lambda: parse_unit(unit), lambda: make_quantity(number, unit)):
        with contextlib.suppress(ValidationError), bounded():
            call()


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    upgrade(engine)
    with Session(engine) as s:
        op = service.create_operation(
            s, slug="mekong-dragon", name="Mekong Dragon", description="", scope=["drug", "wildlife"],
            phases=[service.PhaseSpec(5, dt.date(2023, 4, 15), dt.date(2023, 11, 16), ("drug", "wildlife"))],
        )  # fmt: skip
        vn = service.add_agency(s, code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN")
        service.add_participant(s, op, vn, "member")
        s.commit()
    return engine


@given(st.lists(st.lists(CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=8))
@FUZZ
def test_importer_never_crashes_nor_half_writes(fuzz_engine: Engine, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", "surrogatepass")
    with Session(fuzz_engine) as session:
        before = session.execute(select(func.count()).select_from(Case)).scalar_one()
        try:
            with bounded():
                report = import_cases(
                    session, operation_slug="mekong-dragon", agency_code="VN-CUS",
                    actor=audit.AuditActor(None, "fuzz", "VN-CUS"), data=data, filename="fuzz.csv",
                    today=dt.date(2024, 1, 1),
                )  # fmt: skip
                session.commit()
        except ImportRejected:
            session.rollback()
            assert session.execute(select(func.count()).select_from(Case)).scalar_one() == before
            return
        except DragonnetError as exc:  # pragma: no cover - a declared error that is not an import rejection
            pytest.fail(f"undeclared error class {type(exc).__name__}: {exc}")
        # No case without items, whatever landed.
        empty = session.execute(select(func.count()).select_from(Case).where(~Case.items.any())).scalar_one()
        assert empty == 0
        assert report.rows_total <= len(rows)
