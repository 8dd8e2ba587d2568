"""Place resolution over the full UN/LOCODE list: codes, folding, guesses that say so, unresolved with why."""

from __future__ import annotations

import bz2
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import places, unlocode
from dragonnet.reference._text import norm, norm_expr

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "unlocode"


def test_jomo_kenyatta_and_dubai_airport_resolve_with_coordinates() -> None:
    # The two names of issue #18 that were kept as free text before.
    cases = [
        ("Jomo Kenyatta Airport", "Kenya", "KENBO"),
        ("Dubai Airport", "UAE", "AEDXB"),
        ("Jomo Kenyatta International Airport", "KE", "KENBO"),
        ("Dubai", None, "AEDXB"),
    ]
    for text, country, code in cases:
        res = places.lookup(text, country)
        assert res.status == places.EXACT and res.place is not None, res
        assert res.place.locode == code and res.place.latitude is not None
    assert places.lookup("Dubai Airport", "AE").place.iata == "DXB"  # type: ignore[union-attr]


def test_codes() -> None:
    assert places.lookup("JFK", "US").place.iata == "JFK"  # type: ignore[union-attr]
    assert places.lookup("VVNB").place.iata == "HAN"  # type: ignore[union-attr]  # ICAO
    assert places.lookup("VN HPH").matched_by == "locode"
    wrong = places.lookup("VNHPH", "TH")
    assert wrong.status == places.UNRESOLVED and "is in VN, not in TH" in (wrong.reason or "")
    abroad = places.lookup("BKK", "VN")
    assert abroad.place is None and "not in VN" in (abroad.reason or "")


def test_a_removed_code_reads_as_its_successor_as_a_guess() -> None:
    res = places.lookup("BRQCK")
    assert res.status == places.GUESS and res.place is not None and res.place.locode == "BRCFO"
    assert "removed" in (res.reason or "")
    assert places.get("BRQCK") == places.get("BRCFO")


def test_guesses_say_what_they_matched() -> None:
    words = places.lookup("Shahjalal Airport", "BD")
    assert words.status == places.GUESS and words.place is not None and words.place.locode == "BDDAC"
    assert words.matched_by == "words" and words.reason
    fuzzy = places.lookup("Murtala Mohammed Airport", "NG")
    assert fuzzy.status == places.GUESS and fuzzy.place is not None and fuzzy.place.iata == "LOS"
    assert "closest spelling" in (fuzzy.reason or "")
    country = places.lookup("Maya-Maya Airport", "ROC")
    assert country.status == places.GUESS and "not understood" in (country.reason or "")
    congo = places.lookup("Kavumu Airport", "Congo")
    assert congo.status == places.GUESS and congo.place is not None and congo.place.country == "CD"
    assert "Congo" in (congo.reason or "")


def test_unresolved_says_why_and_never_matches_abroad() -> None:
    res = places.lookup("Brussels Airport", "Netherlands")
    assert res.status == places.UNRESOLVED and res.place is None
    assert "BE" in (res.reason or "")
    assert places.lookup("Laem Chabang", "VN").place is None
    assert places.lookup("", "VN").reason == "empty place"
    with pytest.raises(ReferenceLookupError):
        places.resolve("Xyzzy Harbour", "VN")
    with pytest.raises(ReferenceLookupError, match="unknown country"):
        places.resolve("Hanoi", "Atlantis")


def test_type_words_pick_the_function() -> None:
    port = places.lookup("Port of Haiphong", "VN")
    assert port.place is not None and port.place.locode == "VNHPH" and port.place.place_type == "seaport"
    airport = places.lookup("Cat Bi Airport", "VN")
    assert airport.place is not None and airport.place.iata == "HPH" and airport.place.place_type == "airport"
    assert places.fold(norm("Sân bay quốc tế Nội Bài")) == ("noi bai", "airport")
    assert places.fold(norm("Cửa khẩu Móng Cái")) == ("mong cai", "land_border")


def test_border_crossings_and_postal_offices_by_function_flags() -> None:
    flagged = places.border_crossings("IN")  # UN/LOCODE 2018-1 flags no Vietnamese location with B
    assert all(p.country == "IN" for p in flagged) and sum("border" in p.functions for p in flagged) > 50
    borders = places.border_crossings("VN")
    assert borders and all(p.country == "VN" and p.place_type == "land_border" for p in borders)
    assert {p.name for p in borders} >= {"Huu Nghi", "Moc Bai"}
    postal = places.postal_offices("VN")
    assert postal and all("postal" in p.functions or p.place_type == "mail_centre" for p in postal)


def test_lookup_many_resolves_each_distinct_pair_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []
    real = places.lookup

    def counting(text: str, country: str | None = None) -> places.PlaceResolution:
        calls.append((text, country))
        return real(text, country)

    monkeypatch.setattr(places, "lookup", counting)
    out = places.lookup_many(["Hanoi", "Hanoi", "HAN", "Hanoi"], ["VN", "VN", None, "VN"])
    assert len(out) == 4 and len(calls) == 2
    frame = pl.DataFrame({"p": ["Hanoi", "Hanoi", None], "c": ["VN", "VN", "VN"]})
    joined = places.lookup_frame(frame, "p", "c")
    assert joined.get_column("place_locode").to_list() == ["VNHAN", "VNHAN", None]
    assert joined.height == 3


def test_norm_expr_agrees_with_norm() -> None:
    names = places._table().codes.frame.get_column("name").to_list()[::7]
    names += ["Côte d'Ivoire", "Đà Nẵng", "Straße", "  Hải  Phòng ", "上海浦东机场", "O.R. Tambo"]
    keys = pl.select(norm_expr(pl.lit(pl.Series(names)))).to_series().to_list()
    assert keys == [norm(n) for n in names]


def _raw_rows() -> Iterator[list[str]]:
    yield ["", "VN", "", ".VIET NAM", ".VIET NAM", "", "", "", "", "", "", ""]
    yield ["", "VN", "ZZA", "Cảng Thử", "Cang Thu", "HP", "1-3-----", "AI", "2401", "", "2052N 10641E", ""]
    yield ["", "VN", "ZZB", "Cửa khẩu Thử", "Cua khau Thu", "", "--3----B", "AI", "2401", "", "", ""]
    yield ["X", "VN", "ZZC", "Old Thu", "Old Thu", "", "1-------", "XX", "2401", "", "", "USE VN ZZA"]
    yield ["=", "VN", "", "Thu Port = Cang Thu", "Thu Port = Cang Thu", "", "", "", "", "", "", ""]


def test_a_newer_unlocode_file_replaces_the_shipped_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(_raw_rows())
    path = tmp_path / "2024-1 UNLOCODE CodeListPart1.csv"
    path.write_bytes(buf.getvalue().encode("latin-1", errors="replace"))  # UNECE's own files are Latin-1
    monkeypatch.setenv(unlocode.ENV_FILE, str(path))
    places.cache_clear()
    try:
        assert places.version().startswith("UN/LOCODE 2024-1")
        assert places.counts()["unlocode_locations"] == 3
        res = places.lookup("Thu Port", "VN")  # an alias from the "=" row
        assert res.place is not None and res.place.locode == "VNZZA"
        assert res.place.latitude == pytest.approx(20.8667, abs=0.001)
        assert places.get("VNZZC") == places.get("VNZZA")
        assert [p.locode for p in places.border_crossings("VN") if p.locode == "VNZZB"] == ["VNZZB"]
        assert places.get("VNHPH") is not None  # curated places stay
    finally:
        monkeypatch.delenv(unlocode.ENV_FILE)
        places.cache_clear()
    assert places.counts()["unlocode_locations"] == 109_871


def test_missing_replacement_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(unlocode.ENV_FILE, str(tmp_path / "nope.csv"))
    places.cache_clear()
    try:
        with pytest.raises(ReferenceLookupError, match="points to a missing file"):
            places.get("VNHPH")
    finally:
        monkeypatch.delenv(unlocode.ENV_FILE)
        places.cache_clear()


def test_coordinates_parse() -> None:
    assert unlocode.parse_coordinates("1305N 10053E") == (13.0833, 100.8833)
    assert unlocode.parse_coordinates("0604S 01121W") == (-6.0667, -11.35)
    assert unlocode.parse_coordinates("") is None
    assert unlocode.functions_of("1-3-5--B") == ("port", "road", "postal", "border")


@pytest.mark.skipif(not (SHARED / "unlocode-code-list-2018-1.csv.bz2").is_file(), reason="shared data not here")
def test_shipped_table_is_the_compacted_shared_list() -> None:
    with bz2.open(SHARED / "unlocode-code-list-2018-1.csv.bz2", "rt", encoding="utf-8") as fh:
        located = {(r[1], r[2]) for r in csv.reader(fh) if len(r) > 2 and r[2]}
    assert len(located) == places.counts()["unlocode_locations"]
