"""The normalisation's shortcuts give exactly what its general path gives.

`normalise_items` and `normalise_parties` take shortcuts for what a request's few cases look like (most columns
blank, one row per case, no error): a column without any value skips its lookup, its text checks and its review,
a frame of one row reads its lookups' values and places their results beside it without a join, a frame whose
cases have one row each skips the case-level windows, and the error checks of one frame are asked in one query. Each
test runs generated frames (good, bad and blank cells, cases over several rows) both ways and compares every
frame the normalisation returns, row for row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dragonnet.intake import normalise
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS
from dragonnet.intake.normalise import Normalised, normalise_items, normalise_parties

TODAY = dt.date(2024, 1, 15)

# Per column: values that read, values that do not, values read by a guess, and blanks (None).
ITEM_VALUES: dict[str, list[str | None]] = {
    "reporting_agency": ["VN-CUS", "vn-cus", "TH-CUS", None],
    "seizure_date": ["2023-06-01", "01/06/2023", "2023-02-30", "2099-01-01", "1800-01-01", "18-Jan-09", "soon", None],
    "place_locode": ["VNHPH", "VN HPH", "THBKK", "ZZZZZ", "vnsgn", None, None],
    "place_name": ["Hai Phong", "Cat Lai", "Nowhere Town", None, None],
    "place_country": ["VN", "Viet Nam", "Thailand", "XX", "vietnam", None],
    "place_type": ["seaport", "Airport", "sea port", "harbour", None, None],
    "direction": ["import", "EXPORT", "inbound", None, None],
    "transport_mode": ["sea_container", "air cargo", "by camel", None],
    "conveyance_ref": ["MSCU1234565", "MSCU1234566", "msku 123456-5", "VN-123", "ÄBCU1234565", None, None],
    "detection_method": ["scanner", "dog", "x-ray", None, None],
    "concealment": ["in fish\r\ncartons", "bad\x01byte", "x" * 5000, "false bottom", None],
    "commodity_class": ["drug", "precursor", "wildlife", "timber", "drugs", "rocks", None],
    "substance": ["heroin", "ya ba", "methamphetamine", "heroine", "ephedrine", "zzz unknown", None],
    "taxon": ["Pangolin", "Manis javanica", "Dalbergia cochinchinensis", "Manis javanicaa", "Unknown beast", None],
    "specimen_type": ["scales", "ivory", "live", "whatever", None, None],
    "quantity": ["12", "1,5", "1.000,5", "-3", "0", "unknown", "không rõ", "lots", "1e9", "NaN", None],
    "unit": ["kg", "tablets", "g", "pieces", "furlongs", None],
    "hs_code": ["2939.71", "293971", "9999.99", "29", "abc", None, None],
    "origin_country": ["MM", "Myanmar", "Burma", "Atlantis", None, None],
    "transit_countries": ["LA; TH", "LA, TH", "LA; Atlantis", "Laos", None, None],
    "destination_country": ["AU", "Australia", "Oz", None, None],
    "arrests": ["0", "2", "two", "-1", None, None],
    "sharing_level": ["green", "AMBER", "tlp:red", "purple", None],
    "description": ["a note", "=cmd|' /C calc'!A0", None],
}
PARTY_VALUES: dict[str, list[str | None]] = {
    "reporting_agency": ["VN-CUS", "TH-CUS", None],
    "role": ["courier", "Driver", "boss", None],
    "kind": ["person", "company", "robot", None],
    "name": ["Nguyen Van A", "Trần Thị B", "ACME Logistics", None],
    "nationality": ["VN", "Thai", "Atlantis", None],
    "birth_date": ["1980-01-02", "02/01/1980", "2099-01-01", "x", None],
    "id_number": ["B1234567", None],
    "phone": ["+84 912 345 678", "0912345678", "12", "phone", None],
    "email": ["a@example.com", "A@Example.COM", "not-an-email", None],
    "address": ["1 Street", "line\x02two", None],
}


def _frame(rows: list[dict[str, str | None]], columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns} | {"_row": list(range(2, len(rows) + 2))},
        schema={**dict.fromkeys(columns, pl.String), "_row": pl.Int64},
    )


@st.composite
def item_frames(draw: st.DrawFn) -> pl.DataFrame:
    """1-8 rows of 1-4 cases: some columns blank throughout, others mixed; a case's rows may differ."""
    blank = draw(st.sets(st.sampled_from(sorted(ITEM_VALUES))))
    n = draw(st.integers(1, 8))
    cases = draw(st.integers(1, 4))
    rows = []
    for _ in range(n):
        ref = draw(st.sampled_from([f"C{i}" for i in range(cases)] + [None]) if n > 1 else st.just("C0"))
        row: dict[str, str | None] = {"case_ref": ref}
        for column, values in ITEM_VALUES.items():
            row[column] = None if column in blank else draw(st.sampled_from(values))
        rows.append(row)
    return _frame(rows, ITEM_COLUMNS)


@st.composite
def one_row_item_frames(draw: st.DrawFn) -> pl.DataFrame:
    """One row (a request's one-item case): the one-row shortcuts' frames."""
    blank = draw(st.sets(st.sampled_from(sorted(ITEM_VALUES))))
    row = {"case_ref": "C0"} | {c: None if c in blank else draw(st.sampled_from(v)) for c, v in ITEM_VALUES.items()}
    return _frame([row], ITEM_COLUMNS)


@st.composite
def party_frames(draw: st.DrawFn) -> pl.DataFrame:
    blank = draw(st.sets(st.sampled_from(sorted(PARTY_VALUES))))
    rows = [
        {"case_ref": draw(st.sampled_from(["C0", "C1", None]))}
        | {c: None if c in blank else draw(st.sampled_from(v)) for c, v in PARTY_VALUES.items()}
        for _ in range(draw(st.integers(1, 5)))
    ]
    return _frame(rows, PARTY_COLUMNS)


@contextmanager
def general_path() -> Iterator[None]:
    """The normalisation with every shortcut off: each lookup run, the case-level windows always computed, and
    each error check filtered on its own."""
    saved = (normalise._all_null, normalise._no_nulls, normalise._one_row, normalise._one_row_per_case,
             normalise.ErrorSink._matching_checks)  # fmt: skip
    normalise._all_null = lambda frame, column: False  # type: ignore[assignment]
    normalise._no_nulls = lambda frame, column: False  # type: ignore[assignment]
    normalise._one_row = lambda frame: False  # type: ignore[assignment]
    normalise._one_row_per_case = lambda frame: False  # type: ignore[assignment]
    normalise.ErrorSink._matching_checks = lambda self: {id(e) for e in self.frames}  # type: ignore[method-assign]
    try:
        yield
    finally:
        (normalise._all_null, normalise._no_nulls, normalise._one_row, normalise._one_row_per_case,
         normalise.ErrorSink._matching_checks) = saved  # fmt: skip


def assert_same(run: Callable[[], Normalised]) -> None:
    fast = run()
    with general_path():
        general = run()
    for name in ("frame", "errors", "warnings", "review"):
        a, b = getattr(fast, name), getattr(general, name)
        assert a.schema == b.schema, name
        assert a.equals(b), (name, a, b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=item_frames(), day_first=st.booleans())
def test_items_shortcuts_give_the_general_result(frame: pl.DataFrame, day_first: bool) -> None:
    assert_same(lambda: normalise_items(frame, day_first=day_first, today=TODAY))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=one_row_item_frames(), day_first=st.booleans())
def test_one_row_shortcuts_give_the_general_result(frame: pl.DataFrame, day_first: bool) -> None:
    assert_same(lambda: normalise_items(frame, day_first=day_first, today=TODAY))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=party_frames())
def test_parties_shortcuts_give_the_general_result(frame: pl.DataFrame) -> None:
    assert_same(lambda: normalise_parties(frame, today=TODAY, default_region="VN"))


@pytest.mark.parametrize("rows", [0, 1, 3, normalise.SHARED_HEIGHT_MAX + 1])
def test_blank_and_empty_frames(rows: int) -> None:
    """Every column blank, a frame without rows, and one taller than the shared constant columns: the shortcuts'
    edges."""
    frame = _frame([{"case_ref": f"C{i}"} for i in range(rows)], ITEM_COLUMNS)
    assert_same(lambda: normalise_items(frame, today=TODAY))
    parties = _frame([{"case_ref": f"C{i}"} for i in range(rows)], PARTY_COLUMNS)
    assert_same(lambda: normalise_parties(parties, today=TODAY))


def test_the_general_path_is_what_the_test_compares_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison can fail: a shortcut that drops an error is caught."""
    frame = _frame([{"case_ref": "C0", "arrests": "two", "reporting_agency": "VN-CUS"}], ITEM_COLUMNS)

    def forgetful(self: Any) -> set[int]:
        return set()

    monkeypatch.setattr(normalise.ErrorSink, "_matching_checks", forgetful)
    with pytest.raises(AssertionError):
        assert_same(lambda: normalise_items(frame, today=TODAY))
