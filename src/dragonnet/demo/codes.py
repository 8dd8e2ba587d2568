"""Plausible identifiers with correct check digits: containers (ISO 6346), air waybills, postal items (UPU S10),
phone numbers valid under libphonenumber, passports and vehicle plates; plus the normalised forms stored in
`case_identifiers.normalised`."""

from __future__ import annotations

import random
import re
import string
import unicodedata

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from dragonnet.domain.identifiers import container_problem, iso6346_sum

# --- ISO 6346 container numbers --------------------------------------------------------------------------


def is_valid_container(number: str) -> bool:
    return container_problem(number) is None  # the one rule of the forms, the API and the import


def container_number(rng: random.Random, owner: str) -> str:
    """A container number with a correct check digit (serials whose sum gives 10 are skipped, as ISO advises)."""
    while True:
        serial = f"{rng.randrange(10**6):06d}"
        total = iso6346_sum(owner + serial)
        if total % 11 != 10:
            return f"{owner}{serial}{total % 11}"


def container_variant(number: str, rng: random.Random) -> str:
    """The same container as officers write it: "MSCU1234565", "MSCU 123456 5", "MSCU 123456-5"."""
    style = rng.randrange(3)
    if style == 0:
        return number
    if style == 1:
        return f"{number[:4]} {number[4:10]} {number[10]}"
    return f"{number[:4]} {number[4:10]}-{number[10]}"


# --- air waybills and postal items ------------------------------------------------------------------------


def awb_number(rng: random.Random, prefix: str) -> str:
    """IATA air waybill: airline prefix, 7-digit serial and its modulus-7 check digit."""
    serial = rng.randrange(10**6, 10**7)
    return f"{prefix}-{serial}{serial % 7}"


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_number(rng: random.Random, country: str, service: str = "RR") -> str:
    """UPU S10 postal item identifier, e.g. RR123456785VN, with its modulus-11 check digit."""
    digits = f"{rng.randrange(10**8):08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, _S10_WEIGHTS, strict=True)) % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return f"{service}{digits}{check}{country}"


def is_valid_s10(code: str) -> bool:
    m = re.fullmatch(r"[A-Z]{2}(\d{8})(\d)[A-Z]{2}", code)
    if not m:
        return False
    check = 11 - sum(int(d) * w for d, w in zip(m.group(1), _S10_WEIGHTS, strict=True)) % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return check == int(m.group(2))


# --- phones -----------------------------------------------------------------------------------------------


def mobile_number(rng: random.Random, region: str) -> PhoneNumber | None:
    """A random mobile number of `region` that libphonenumber considers valid (None if it has no metadata)."""
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if example is None:
        return None
    nsn = phonenumbers.national_significant_number(example)
    keep = min(3, max(1, len(nsn) - 5))
    for _ in range(200):
        candidate = nsn[:keep] + "".join(rng.choice(string.digits) for _ in range(len(nsn) - keep))
        number = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == region:
            return number
    return example


def phone_text(number: PhoneNumber, style: str) -> str:
    """The number as written: "e164" (+84912345678), "intl" (+84 91 234 56 78) or "local" (091 234 56 78)."""
    if style == "local":
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if style == "intl":
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# --- names, plates, passports ------------------------------------------------------------------------------


def ascii_fold(text: str) -> str:
    """ "Nguyễn Văn Đức" -> "Nguyen Van Duc" (what a form without diacritics gets)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def normalise_identifier(kind: str, value: str) -> str:
    """The comparable form of an identifier: phones in E.164, codes upper-case without separators."""
    if kind == "phone":
        return value  # callers pass the E.164 form they generated
    if kind == "email":
        return value.strip().lower()
    if kind == "vessel":
        return re.sub(r"^(MV|M/V|MT)\s+", "", value.strip().upper())
    return re.sub(r"[^0-9A-Z\u4e00-\u9fff]", "", value.upper())


_PASSPORT_FORMATS: dict[str, str] = {
    "VN": "C#######", "CN": "E########", "TH": "AA#######", "LA": "P#######", "KH": "N0#######",
    "MM": "MA######", "MY": "A########", "ID": "B#######", "PH": "P#######A", "NG": "A########",
    "KE": "AK#######", "ZA": "A########", "IN": "K#######", "BD": "BN#######", "AU": "PA#######",
    "NZ": "LA######", "KR": "M########", "BR": "FZ######", "HK": "K########", "SG": "E#######K",
    "TW": "3########", "MZ": "13AB#####", "TZ": "AB######", "LK": "N#######", "NP": "09######",
    "PE": "1########", "CO": "AS######", "MN": "E#######",
}  # fmt: skip


def passport_number(rng: random.Random, country: str) -> str:
    fmt = _PASSPORT_FORMATS.get(country, "AB#######")
    return "".join(rng.choice(string.digits) if ch == "#" else ch for ch in fmt)


# Registration plate patterns: "#" a digit, "@" a letter, "{a|b}" one of the alternatives.
_PLATES: dict[str, str] = {
    "VN": "{29C|30H|14C|12C|24C|37C|51D|15C|99C}-###.##", "CN": "{桂A|桂F|云A|云K|粤B|粤A|滇A}#####",
    "LA": "{VT|LPB|BK|SVK} ####", "TH": "{70|71|กท|ชร} ####", "KH": "{PP 2A|SR 2B|BB 3C}-####",
    "MY": "{W|J|P|B}@@ ####", "SG": "S@@ ####@", "MM": "{SHN 2K|YGN 8B|MDY 3F}-####", "IN": "{MH|TN|WB|MN} ## @@ ####",
    "BD": "DHAKA METRO-GA ##-####", "NP": "{Ba|Na|Ko} # Pa ####", "MN": "####УБ@", "HK": "@@ ####",
    "AU": "@@@-###", "NZ": "@@@###", "KR": "##{가|나|다|라} ####", "ID": "B #### @@@", "PH": "@@@ ####",
    "LK": "WP @@@-####", "NG": "{LAG|KJA|APP} ###@@", "KE": "KC@ ###@",
}  # fmt: skip


def vehicle_plate(rng: random.Random, country: str) -> str:
    pattern = _PLATES.get(country, "@@ ####")
    pattern = re.sub(r"\{([^}]*)\}", lambda m: rng.choice(m.group(1).split("|")), pattern)
    return "".join(
        rng.choice(string.digits) if ch == "#" else rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if ch == "@" else ch
        for ch in pattern
    )
