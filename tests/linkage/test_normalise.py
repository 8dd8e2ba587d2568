from __future__ import annotations

import random
import re

import phonenumbers
import pytest

from dragonnet.demo.codes import mobile_number, phone_text
from dragonnet.linkage import normalise
from dragonnet.linkage.evaluation import labelled_people


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


# --- the plain-number fast path of `e164` gives what libphonenumber's own parse gives ---------------------------

_REGIONS = ("VN", "CN", "TH", "LA", "KH", "MM", "MY", "SG", "HK", "US", "GB", "IT", "AR", "BR", "MX", "RU", "DE",
            "FR", "IN", "AU", "JP", "KR", "NG", "ZA", "AE", None)  # fmt: skip


def _library(phone: str, region: str | None) -> tuple[phonenumbers.PhoneNumber | None, str | None]:
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None, None
    valid = phonenumbers.is_valid_number(parsed)
    return parsed, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if valid else None


def _plain_cases() -> list[tuple[str, str | None]]:
    """Generated people's phones (national and international), demo mobiles of every region in the three ways
    they are written, and random digit strings (leading zeros, international prefixes, country codes first)."""
    rng = random.Random(16)
    cases: list[tuple[str, str | None]] = []
    for p in labelled_people(400, seed=3).parties:
        if p.phone:
            cases.append((re.sub(r"[\s\-.()]", "", p.phone), p.nationality or p.region))
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = mobile_number(rng, region)
        if number is None:
            continue
        for style in ("e164", "intl", "local"):
            text = re.sub(r"[\s\-.()]", "", phone_text(number, style))
            cases += [(text, region), (text, rng.choice(_REGIONS))]
    for _ in range(3000):
        head = rng.choice(["+", "", "0", "00", "011", "+0", "84", "86", "1", "39", "+39", "+1", "+7", "8"])
        digits = head + "".join(rng.choice("0123456789") for _ in range(rng.randrange(3, 16)))
        cases.append((digits, rng.choice(_REGIONS)))
    return cases


def test_plain_numbers_parse_as_libphonenumber_parses_them() -> None:
    cases = _plain_cases()
    fast = 0
    for phone, region in cases:
        parsed, expected = _library(phone, region)
        ours = normalise._parse_plain(phone, region)
        if ours is not None:
            fast += 1
            assert ours == parsed, (phone, region)
        assert normalise._e164.__wrapped__(phone, region) == expected, (phone, region)
    assert fast > len(cases) / 2  # the fast path is the common one, not a path never taken


def _numbers_of_every_region() -> list[phonenumbers.PhoneNumber]:
    """Every region's example number of each type, then each with a digit changed, dropped or added, then random
    national numbers of each of the region's lengths (mostly invalid): the validity check's edges."""
    rng = random.Random(16)
    out: list[phonenumbers.PhoneNumber] = []
    kinds = [getattr(phonenumbers.PhoneNumberType, name) for name in ("FIXED_LINE", "MOBILE", "TOLL_FREE",
             "PREMIUM_RATE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL")]  # fmt: skip
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        code = phonenumbers.country_code_for_region(region)
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            digits = str(example.national_number)
            at = rng.randrange(len(digits))
            for variant in (digits, digits[:at] + rng.choice("0123456789") + digits[at + 1 :], digits[:-1],
                            digits + rng.choice("0123456789")):  # fmt: skip
                number = phonenumbers.PhoneNumber(country_code=code, national_number=int(variant))
                number.italian_leading_zero = example.italian_leading_zero
                out.append(number)
        for length in range(4, 14):
            national = int("".join(rng.choice("0123456789") for _ in range(length)))
            out.append(phonenumbers.PhoneNumber(country_code=code, national_number=national))
    out.append(phonenumbers.PhoneNumber(country_code=999, national_number=12345678))  # no such country code
    out.append(phonenumbers.PhoneNumber(country_code=800, national_number=12345678))  # non-geographic
    return out


def test_the_validity_check_is_libphonenumbers() -> None:
    """`_is_valid` (patterns compiled once, one match each) says what `phonenumbers.is_valid_number` says."""
    numbers = _numbers_of_every_region()
    numbers += [parsed for parsed, _e164 in (_library(*case) for case in _plain_cases()) if parsed is not None]
    verdicts = [normalise._is_valid(n) for n in numbers]
    assert verdicts == [phonenumbers.is_valid_number(n) for n in numbers]
    assert 0.2 * len(numbers) < sum(verdicts) < 0.8 * len(numbers)  # both answers well represented


def test_plain_fast_path_is_taken_for_the_usual_shapes() -> None:
    assert normalise._parse_plain("+84912317489", None) is not None
    assert normalise._parse_plain("0912317489", "VN") is not None
    assert normalise._parse_plain("+84 912 317 489", None) is None  # spaced: libphonenumber's parse reads it
    assert normalise.e164("+84 912 317 489", None) == normalise.e164("0912317489", "VN") == "+84912317489"


def test_folding_ascii_text_only_lowers_it() -> None:
    """`fold`'s shortcut for ASCII text gives what the full fold (decompose, drop marks, lower) gives."""
    import unicodedata

    def full(text: str) -> str:
        text = unicodedata.normalize("NFKD", text.translate(normalise._EXTRA_FOLD))
        return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()

    rng = random.Random(16)
    texts = ["", "Nguyen Van THANG", "O'Brien-Smith Co., Ltd.", "\t\x00~ABC 123", "Nguyễn Văn Thắng", "ĐỖ ßtraße"]
    texts += ["".join(chr(rng.randrange(128)) for _ in range(rng.randrange(12))) for _ in range(2000)]
    texts += [p.name for p in labelled_people(200, seed=5).parties]
    assert [normalise.fold(t) for t in texts] == [full(t) for t in texts]
