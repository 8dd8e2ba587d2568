from __future__ import annotations

import csv
from importlib import resources

import pytest

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import places


@pytest.mark.parametrize("code", ["VNHPH", "VN HPH", "vnhph", "vn-hph", " VNhph "])
def test_locode_normalisation(code: str) -> None:
    place = places.get(code)
    assert place is not None
    assert (place.locode, place.name, place.country, place.place_type) == ("VNHPH", "Hai Phong", "VN", "seaport")


def test_get_unknown_and_malformed() -> None:
    assert places.get("VNZZZ") is None
    assert places.get("not a code") is None
    assert places.normalise_locode("VNHP") is None


@pytest.mark.parametrize(
    ("text", "locode"),
    [
        ("Hai Phong", "VNHPH"),
        ("Haiphong", "VNHPH"),
        ("Hải Phòng", "VNHPH"),
        ("Noi Bai", "VNHAN"),
        ("HAN", "VNHAN"),
        ("Hanoi", "VNHAN"),
        ("Tan Son Nhat", "VNSGN"),
        ("Cat Lai", "VNCLI"),
        ("Da Nang", "VNDAD"),
        ("Shanghai", "CNSHA"),
        ("Yantian", "CNYTN"),
        ("Shenzhen Yantian", "CNYTN"),
        ("Nansha", "CNNSA"),
        ("Xiamen", "CNXMN"),
        ("Ningbo", "CNNGB"),
        ("Hong Kong", "HKHKG"),
        ("HKG", "HKHKG"),
        ("Laem Chabang", "THLCH"),
        ("Suvarnabhumi", "THBKK"),
        ("Port Klang", "MYPKG"),
        ("Tanjung Pelepas", "MYTPP"),
        ("Singapore", "SGSIN"),
        ("Changi", "SGSIN"),
        ("Tanjung Priok", "IDTPP"),
        ("Manila", "PHMNL"),
        ("Sihanoukville", "KHKOS"),
        ("Colombo", "LKCMB"),
        ("Chittagong", "BDCGP"),
        ("Nhava Sheva", "INNSA"),
        ("Jebel Ali", "AEJEA"),
        ("Apapa", "NGAPP"),
        ("Mombasa", "KEMBA"),
        ("Dar es Salaam", "TZDAR"),
        ("Maputo", "MZMPM"),
        ("Lao Cai", "VNLCA"),
        ("Dongxing", "CNDOX"),
        ("Youyiguan", "CNYYG"),
        ("Bavet", "KHBVT"),
        ("Mohan", "CNMHN"),
        ("Wagah", "PKWGH"),
    ],
)
def test_resolve(text: str, locode: str) -> None:
    assert places.resolve(text).locode == locode


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Mong Cai", "VN"),
        ("Huu Nghi", "VN"),
        ("Moc Bai", "VN"),
        ("Boten", "LA"),
        ("Tachileik", "MM"),
        ("Mae Sai", "TH"),
        ("Hekou", "CN"),
    ],
)
def test_land_borders_resolve_by_name(text: str, country: str) -> None:
    place = places.resolve(text)
    assert place.place_type == "land_border"
    assert place.country == country
    assert place.latitude is not None


def test_country_narrows_names() -> None:
    assert places.resolve("Padang Besar", country="TH").country == "TH"
    assert places.resolve("Padang Besar", country="Malaysia").country == "MY"
    with pytest.raises(ReferenceLookupError, match="in VN"):
        places.resolve("Laem Chabang", country="VN")


def test_airport_coordinates_come_from_airportsdata() -> None:
    han = places.get("VNHAN")
    assert han is not None and han.iata == "HAN" and han.place_type == "airport"
    assert han.latitude == pytest.approx(21.22, abs=0.05) and han.longitude == pytest.approx(105.81, abs=0.05)


def test_unknown_place_suggests() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        places.resolve("Haipong")
    assert exc.value.message == "unknown place 'Haipong'"
    assert exc.value.suggestions[0] == "Hai Phong (VNHPH)"


def test_is_valid_locode_uses_the_full_code_list() -> None:
    assert places.is_valid_locode("VNHPH")  # curated
    assert places.is_valid_locode("vn tot")  # the code list only (Cai Mep)
    assert not places.is_valid_locode("VNZZZ")
    cai_mep = places.get("VNTOT")
    assert cai_mep is not None and cai_mep.source == "unlocode" and cai_mep.place_type == "seaport"
    assert cai_mep.functions == ("port",) and cai_mep.subdivision == "43"
    assert cai_mep.latitude == pytest.approx(10.38, abs=0.01)


def test_table_shape() -> None:
    counts = places.counts()
    assert counts["unlocode_locations"] == 109_871  # 110,017 rows of the 2018-1 list; bilingual duplicates merged
    assert counts["with_coordinates"] > 83_000
    assert counts["airports"] > 20_000 and counts["airports_linked_to_unlocode"] > 5_000
    assert counts["border_crossings"] > 400 and counts["postal_exchange_offices"] > 700
    curated = places.curated_places()
    assert {p.place_type for p in curated} <= set(places.PLACE_TYPES)
    codes = [p.locode for p in curated if p.locode]
    assert len(codes) == len(set(codes))
    members = {"CN", "HK", "MO", "VN", "LA", "KH", "TH", "MM", "MY", "SG", "ID", "PH", "BD", "IN", "NP", "LK", "MN",
               "KR", "JP", "AU", "NZ"}  # fmt: skip
    assert members <= {p.country for p in curated}
    for p in curated:
        assert p.latitude is not None and -90 <= p.latitude <= 90
        assert p.longitude is not None and -180 <= p.longitude <= 180
        assert not p.locode or p.locode.startswith(p.country)
    vn = places.for_country("vn")
    assert {p.locode for p in vn} >= {"VNHPH", "VNHAN", "VNSGN", "VNCLI"}
    assert vn[0].source != "unlocode"  # curated first
    assert len(vn) > 200


def test_csv_columns() -> None:
    path = resources.files("dragonnet.reference").joinpath("data").joinpath("places.csv")
    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[:8] == ["locode", "name", "country", "place_type", "latitude", "longitude", "iata", "source"]
