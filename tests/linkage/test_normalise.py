from __future__ import annotations

import pytest

from dragonnet.linkage import normalise


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nguyễn Văn Thắng", "Thang Nguyen Van"),
        ("NGUYEN VAN THANG", "Nguyễn Văn Thắng"),
        ("WONGSAWAT Somchai", "Mr. Somchai Wongsawat"),
        ("U Aung Ko Ko", "AUNG KO KO"),
        ("Đỗ Mạnh Cường", "Cuong Do Manh"),
    ],
)
def test_person_names_fold_scripts_order_and_honorifics(a: str, b: str) -> None:
    assert normalise.name_key(a) == normalise.name_key(b)


def test_different_people_keep_different_keys() -> None:
    assert normalise.name_key("Nguyen Van Thang") != normalise.name_key("Nguyen Van Thanh")


@pytest.mark.skipif(not normalise.HAS_PINYIN, reason="pypinyin not installed")
def test_hanzi_become_pinyin_with_the_given_name_joined() -> None:
    assert normalise.name_key("陈伟强") == normalise.name_key("Chen Weiqiang") == normalise.name_key("Weiqiang Chen")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Công ty TNHH Thương mại Hoàng Phát", "Cong ty TNHH TM Hoang Phat"),
        ("Sinar Jaya Trading Sdn Bhd", "SINAR JAYA TRADING SDN. BHD."),
        ("Southern Cross Asian Grocery Pty Ltd", "SOUTHERN CROSS ASIAN GROCERY PTY. LTD."),
        ("Wing Fat Fresh Fruit Trading Co., Ltd", "WING FAT FRESH FRUIT TRADING COMPANY LIMITED"),
    ],
)
def test_company_legal_forms_are_dropped(a: str, b: str) -> None:
    assert normalise.name_key(a, kind="company") == normalise.name_key(b, kind="company")


def test_phones_to_e164_with_the_region() -> None:
    assert normalise.e164("131 6250 0826", "CN") == "+8613162500826"
    assert normalise.e164("+86 131 6250 0826", None) == "+8613162500826"
    assert normalise.e164("0912 317 489", "VN") == "+84912317489"
    assert normalise.e164("12345", "VN") is None
    assert normalise.e164("not a phone", "VN") is None


def test_container_check_digit() -> None:
    good = normalise.container("SITU 167671-7")
    assert good is not None and good.number == "SITU1676717" and good.valid
    bad = normalise.container("situ1676718")
    assert bad is not None and not bad.valid
    assert normalise.container("ABC123") is None
    assert normalise.iso6346_check_digit("CSQU305438") == 3  # the standard's own example


def test_codes_keep_any_script_and_drop_separators() -> None:
    assert normalise.code("E 61830275") == "E61830275"
    assert normalise.code("ชร 0100") != normalise.code("กข 0100")
