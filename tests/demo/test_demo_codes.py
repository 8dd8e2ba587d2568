"""Identifiers with check digits and valid phone numbers."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from dragonnet.demo import codes
from dragonnet.domain.identifiers import iso6346_check_digit


def test_container_numbers() -> None:
    assert iso6346_check_digit("CSQU305438") == 3  # the standard's example, CSQU 305438 3
    assert codes.is_valid_container("CSQU3054383")
    assert not codes.is_valid_container("CSQU3054384")
    rng = random.Random(1)
    for _ in range(200):
        number = codes.container_number(rng, "MSCU")
        assert codes.is_valid_container(number)
        assert codes.is_valid_container(codes.container_variant(number, rng))


def test_air_waybill_and_postal_items() -> None:
    rng = random.Random(2)
    awb = codes.awb_number(rng, "157")
    serial = awb.split("-")[1]
    assert len(serial) == 8 and int(serial[:7]) % 7 == int(serial[7])
    for _ in range(100):
        assert codes.is_valid_s10(codes.s10_number(rng, "VN"))
    assert codes.is_valid_s10("RR473124829GB")  # the UPU S10 example


@pytest.mark.parametrize("region", ["VN", "CN", "HK", "TH", "LA", "KH", "MM", "MY", "ID", "NG", "AU", "IN", "MZ"])
def test_mobile_numbers_are_valid_in_every_format(region: str) -> None:
    rng = random.Random(region)
    for _ in range(20):
        number = codes.mobile_number(rng, region)
        assert number is not None
        for style in ("e164", "intl", "local"):
            parsed = phonenumbers.parse(codes.phone_text(number, style), region)
            assert phonenumbers.is_valid_number(parsed)
            assert codes.e164(parsed) == codes.e164(number)


def test_ascii_fold_and_normalise() -> None:
    assert codes.ascii_fold("Nguyễn Văn Đức") == "Nguyen Van Duc"
    assert codes.normalise_identifier("container", "MSCU 123456-5") == "MSCU1234565"
    assert codes.normalise_identifier("vessel", "MV Jade Horizon") == "JADE HORIZON"
    assert codes.normalise_identifier("email", " A.B@Gmail.com ") == "a.b@gmail.com"
