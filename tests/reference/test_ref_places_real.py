"""Places as officers write them: ports, airports and border posts of the operation's countries (and the places
its cases come from), with and without "Airport", in local spellings and scripts, as IATA/ICAO codes.

tests/reference/data/officer_places.csv: text, country, expected (a UN/LOCODE, an IATA code, or the name of a
curated crossing without a code). Every row must resolve to it within its country; with a wrong country it must
never resolve to a place elsewhere.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dragonnet.reference import places

DATA = Path(__file__).with_name("data") / "officer_places.csv"
ROWS = list(csv.DictReader(DATA.open(encoding="utf-8")))
# Far from every row's own country and never written for it (see data/country-confusions.csv).
WRONG = {"BR": "NO", "NO": "BR"}

# Airports of the operation's countries by IATA code: every way of writing each must come back to it.
MEMBER_AIRPORTS = [
    "HAN", "SGN", "DAD", "CXR", "PQC", "HPH", "VII", "HUI", "PEK", "PKX", "PVG", "SHA", "CAN", "SZX", "KMG", "NNG",
    "CTU", "CKG", "XMN", "HGH", "HKG", "MFM", "VTE", "LPQ", "KTI", "SAI", "BKK", "DMK", "CNX", "HKT", "RGN", "MDL",
    "NPT", "KUL", "PEN", "BKI", "KCH", "SIN", "CGK", "DPS", "SUB", "KNO", "MNL", "CEB", "CRK", "DAC", "CGP", "DEL",
    "BOM", "BLR", "MAA", "CCU", "KTM", "CMB", "UBN", "ICN", "GMP", "PUS", "NRT", "HND", "KIX", "SYD", "MEL", "BNE",
    "PER", "AKL", "CHC",
]  # fmt: skip


def _matches(place: places.Place | None, expected: str) -> bool:
    if place is None:
        return False
    return expected in (place.locode, place.iata, place.name)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['text']}|{r['country']}" for r in ROWS])
def test_officer_spelling_resolves_to_the_right_code(row: dict[str, str]) -> None:
    res = places.lookup(row["text"], row["country"])
    assert _matches(res.place, row["expected"]), (res.place, res.status, res.reason)
    assert res.place is not None and res.place.country in (row["country"], "HK", "MO")
    assert res.status in (places.EXACT, places.GUESS)
    if res.status == places.GUESS:
        assert res.reason  # every guess says what it matched


def test_the_list_is_a_few_hundred_rows_over_the_operation() -> None:
    assert len(ROWS) >= 250
    countries = {r["country"] for r in ROWS}
    assert {"VN", "CN", "HK", "LA", "KH", "TH", "MM", "MY", "SG", "ID", "PH", "BD", "IN", "NP", "LK", "MN", "KR",
            "AU", "NZ"} <= countries  # fmt: skip


@pytest.mark.parametrize("row", ROWS[::3], ids=[f"{r['text']}|{r['country']}" for r in ROWS[::3]])
def test_a_wrong_country_never_matches_a_place_elsewhere(row: dict[str, str]) -> None:
    wrong = "BR" if row["country"] != "BR" else "NO"
    res = places.lookup(row["text"], wrong)
    assert res.place is None or res.place.country == wrong, (row, res.place)
    if res.place is None:
        assert res.status == places.UNRESOLVED and res.reason


@pytest.mark.parametrize("iata", MEMBER_AIRPORTS)
def test_member_airports_by_code_name_and_short_name(iata: str) -> None:
    airport = places.by_iata(iata)
    assert airport is not None, iata
    assert airport.latitude is not None and airport.longitude is not None
    short = " ".join(w for w in airport.name.split() if w.lower() not in {"international", "airport"})
    for text in (iata, iata.lower(), airport.icao or iata, airport.name, f"{short} Airport", f"{short} Intl Airport"):
        res = places.lookup(text, airport.country)
        assert res.place is not None and res.place.iata == iata, (text, res.place, res.reason)
