from __future__ import annotations

import pytest

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import countries


@pytest.mark.parametrize(
    ("text", "alpha2"),
    [
        ("VN", "VN"),
        ("vn", "VN"),
        ("VNM", "VN"),
        ("704", "VN"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("  viet   NAM ", "VN"),
        ("Việt Nam", "VN"),
        ("越南", "VN"),
        ("Laos", "LA"),
        ("Lao PDR", "LA"),
        ("Lao People's Democratic Republic", "LA"),
        ("老挝", "LA"),
        ("Lào", "LA"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("Hàn Quốc", "KR"),
        ("North Korea", "KP"),
        ("Hong Kong", "HK"),
        ("Hong Kong SAR", "HK"),
        ("Hong Kong, China", "HK"),
        ("香港", "HK"),
        ("Chinese mainland", "CN"),
        ("Mainland China", "CN"),
        ("China", "CN"),
        ("中国", "CN"),
        ("Trung Quốc", "CN"),
        ("Chine", "CN"),
        ("Burma", "MM"),
        ("Myanmar", "MM"),
        ("Macau", "MO"),
        ("Macao", "MO"),
        ("澳门", "MO"),
        ("Taiwan", "TW"),
        ("UAE", "AE"),
        ("UK", "GB"),
        ("USA", "US"),
        ("Russia", "RU"),
        ("Côte d'Ivoire", "CI"),
        ("cote d ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("DRC", "CD"),
        ("Thái Lan", "TH"),
        ("Alemania", "DE"),
        ("Turkey", "TR"),
    ],
)
def test_resolve(text: str, alpha2: str) -> None:
    assert countries.resolve(text).alpha2 == alpha2


def test_country_fields() -> None:
    vn = countries.get("VN")
    assert (vn.alpha2, vn.alpha3, vn.name, vn.common_name) == ("VN", "VNM", "Viet Nam", "Vietnam")
    assert countries.get("la").common_name == "Laos"
    assert countries.get("KR").common_name == "South Korea"
    assert countries.get("HK") != countries.get("CN")


def test_names_in_five_languages() -> None:
    n = countries.names("VN")
    assert n == {"en": "Viet Nam", "zh": "越南", "vi": "Việt Nam", "fr": "Viêt Nam", "es": "Vietnam"}
    assert countries.names("CN")["zh"] == "中国"


def test_all_countries() -> None:
    all_ = countries.all_countries()
    assert len(all_) == 249
    assert [c.alpha2 for c in all_] == sorted(c.alpha2 for c in all_)


def test_unknown_country_names_the_input() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        countries.resolve("Atlantis")
    assert exc.value.message == "unknown country 'Atlantis'"


def test_typo_suggests() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        countries.resolve("Vietnm")
    assert exc.value.suggestions[0] == "Vietnam (VN)"
    assert "Vietnam (VN)" in str(exc.value)


def test_get_unknown_code() -> None:
    with pytest.raises(ReferenceLookupError, match="unknown country code 'XX'"):
        countries.get("XX")


def test_try_resolve() -> None:
    assert countries.try_resolve("") is None
    assert countries.try_resolve("Atlantis") is None
    assert countries.try_resolve("Cambodia") == countries.get("KH")


@pytest.mark.parametrize(("text", "alpha2"), [("MY", "MY"), ("my", "MY"), ("BI", "BI"), ("Mỹ", "US"), ("Bỉ", "BE"),
                                              ("MYS", "MY"), ("USA", "US")])  # fmt: skip
def test_codes_win_over_names_that_fold_to_the_same_letters(text: str, alpha2: str) -> None:
    assert countries.resolve(text).alpha2 == alpha2
