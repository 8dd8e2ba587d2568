"""Foreign headers map to exchange-format columns, with a confidence the user confirms."""

from __future__ import annotations

import pytest

from dragonnet.intake.headers import ITEM_COLUMNS, propose_mapping, require
from dragonnet.tabular import ImportRejected


def test_contract_names_map_exactly() -> None:
    mapping = propose_mapping(list(ITEM_COLUMNS))
    assert all(m.how == "exact" and m.confidence == 1.0 for m in mapping.matches)
    assert not mapping.missing_required


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("ngày bắt giữ", "seizure_date"), ("Số vụ", "case_ref"), ("mã vụ việc", "case_ref"), ("số lượng", "quantity"),
        ("Đơn vị", "unit"), ("tang vật", "commodity_class"), ("loại hàng", "commodity_class"),
        ("查获日期", "seizure_date"), ("数量", "quantity"), ("单位", "unit"), ("案件编号", "case_ref"),
        ("Date de saisie", "seizure_date"), ("Quantité", "quantity"), ("Fecha de incautación", "seizure_date"),
        ("Case No.", "case_ref"), ("Seizure Date", "seizure_date"), ("QTY", "quantity"), ("Species", "taxon"),
    ],
)  # fmt: skip
def test_synonyms_in_several_languages(header: str, column: str) -> None:
    mapping = propose_mapping([header])
    assert mapping.matches[0].column == column
    assert mapping.matches[0].how in {"exact", "synonym"}


def test_fuzzy_match_has_lower_confidence() -> None:
    match = propose_mapping(["seizure_dat", "quantitty"]).matches
    assert [m.column for m in match] == ["seizure_date", "quantity"]
    assert all(m.how == "fuzzy" and 0.85 <= m.confidence < 1 for m in match)


def test_unknown_header_stays_unmapped() -> None:
    assert propose_mapping(["officer's mood"]).matches[0].column is None


def test_duplicate_headers_are_an_error() -> None:
    with pytest.raises(ImportRejected, match="duplicate header 'Quantity'"):
        propose_mapping(["case_ref", "quantity", "Quantity "])


def test_two_headers_for_one_column_need_an_explicit_choice() -> None:
    with pytest.raises(ImportRejected, match="both map to column 'quantity'"):
        propose_mapping(["số lượng", "数量"])
    mapping = propose_mapping(["số lượng", "数量"], explicit={"数量": None})
    assert mapping.columns == {0: "quantity"}


def test_explicit_mapping_overrides() -> None:
    mapping = propose_mapping(["Ref", "Kilos"], explicit={"Kilos": "quantity", "ref": "case_ref"})
    assert mapping.columns == {0: "case_ref", 1: "quantity"}
    assert {m.how for m in mapping.matches} == {"explicit"}
    with pytest.raises(ImportRejected, match="unknown column 'weight'"):
        propose_mapping(["Kilos"], explicit={"Kilos": "weight"})


def test_missing_required_columns_are_named() -> None:
    mapping = propose_mapping(["case_ref", "quantity", "unit"])
    with pytest.raises(ImportRejected, match=r"required column.*reporting_agency, seizure_date, place_country"):
        require(mapping)


def test_mapping_json_for_a_ui() -> None:
    shown = propose_mapping(["Số vụ", "x"]).to_json()
    assert shown[0] == {"header": "Số vụ", "column": "case_ref", "confidence": 0.95, "how": "synonym"}
    assert shown[1]["column"] is None
