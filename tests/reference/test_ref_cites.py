from __future__ import annotations

import csv
import gzip
import time
from importlib import resources
from pathlib import Path

import pytest

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import cites

# As reported by scripts/build_cites.py for the Species+ export of 2017-04-21.
EXPECTED_TAXA = 38079
EXPECTED_SYNONYMS = 32345


@pytest.fixture(scope="module", autouse=True)
def _loaded() -> None:
    cites.version()  # load once for the module (its time is measured in benchmarks/, not asserted here)


def test_shipped_file_counts_and_size() -> None:
    c = cites.counts()
    assert c["taxa"] == EXPECTED_TAXA
    assert c["synonyms"] == EXPECTED_SYNONYMS
    assert cites.record_count() == EXPECTED_TAXA + EXPECTED_SYNONYMS
    path = Path(str(resources.files("dragonnet.reference").joinpath("data").joinpath("cites-taxa.csv.gz")))
    assert path.stat().st_size < 1_500_000
    assert cites.version() == "Species+ 2017-04-21"


def test_manis_javanica_is_appendix_i() -> None:
    m = cites.resolve("Manis javanica")
    assert m.matched_by == "accepted" and m.score == 100
    t = m.taxon
    assert (t.taxon_id, t.name, t.rank, t.listing) == ("5034", "Manis javanica", "SPECIES", "I")
    assert (t.kingdom, t.taxon_class, t.family) == ("Animalia", "Mammalia", "Manidae")
    assert "Sunda Pangolin" in t.common_names["en"]
    assert cites.appendix(t) == "I"


def test_typo_is_fuzzy() -> None:
    m = cites.resolve("Manis javanicus")
    assert (m.taxon.name, m.matched_by) == ("Manis javanica", "fuzzy")
    assert 85 <= m.score < 100


def test_synonym_answers_accepted_taxon() -> None:
    m = cites.resolve("Phataginus tricuspis")
    assert (m.taxon.name, m.matched_by, m.matched_text) == ("Manis tricuspis", "synonym", "Phataginus tricuspis")
    assert cites.resolve("Loxodonta cyclotis").taxon.name == "Loxodonta africana"
    assert cites.resolve("Buceros vigil").taxon.name == "Rhinoplax vigil"


def test_pangolin_scales() -> None:
    m = cites.resolve("pangolin scales")
    assert m.taxon.name == "Manis" and m.taxon.rank == "GENUS"
    assert m.specimen_hint == "scales" and m.matched_by == "common_name"
    for text in ("tê tê", "穿山甲", "vảy tê tê", "穿山甲鳞片", "Pangolins"):
        assert cites.resolve(text).taxon.name == "Manis", text
    assert cites.resolve("vảy tê tê").specimen_hint == "scales"
    assert cites.resolve("穿山甲鳞片").specimen_hint == "scales"


@pytest.mark.parametrize("text", ["ivory", "ngà voi", "象牙", "elephant tusks"])
def test_ivory(text: str) -> None:
    m = cites.resolve(text)
    # Ivory without a forensic ID is elephant ivory: the family (African or Asian), never one species.
    assert (m.taxon.name, m.taxon.rank, m.taxon.listing) == ("Elephantidae", "FAMILY", "I/II")
    assert m.specimen_hint == "ivory"
    assert [a.name for a in m.alternatives] == ["Loxodonta africana", "Elephas maximus"]
    assert m.status == cites.EXACT and m.cites_status == cites.INCLUDES_LISTED


@pytest.mark.parametrize("text", ["rhino horn", "sừng tê giác", "犀牛角"])
def test_rhino_horn(text: str) -> None:
    m = cites.resolve(text)
    assert (m.taxon.name, m.taxon.rank, m.specimen_hint) == ("Rhinocerotidae", "FAMILY", "horn")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("tiger", "Panthera tigris"),
        ("hổ", "Panthera tigris"),
        ("老虎", "Panthera tigris"),
        ("Siamese rosewood", "Dalbergia cochinchinensis"),
        ("gỗ trắc", "Dalbergia cochinchinensis"),
        ("红酸枝", "Dalbergia cochinchinensis"),
        ("Dalbergia oliveri", "Dalbergia oliveri"),
        ("red sandalwood", "Pterocarpus santalinus"),
        ("紫檀", "Pterocarpus santalinus"),
        ("agarwood", "Aquilaria"),
        ("trầm hương", "Aquilaria"),
        ("沉香", "Aquilaria"),
        ("helmeted hornbill", "Rhinoplax vigil"),
        ("golden coin turtle", "Cuora trifasciata"),
        ("shark fin", "Carcharhinus falciformis"),
        ("sea cucumber", "Isostichopus fuscus"),
        ("totoaba", "Totoaba macdonaldi"),
        ("Malayan Pangolin", "Manis javanica"),
        ("tê tê Java", "Manis javanica"),
        ("中华穿山甲", "Manis pentadactyla"),
        ("Manis culionensis", "Manis culionensis"),
        ("Manis crassicaudata", "Manis crassicaudata"),
        ("Smutsia gigantea", "Manis gigantea"),
    ],
)
def test_names_in_several_languages(text: str, name: str) -> None:
    assert cites.resolve(text).taxon.name == name


def test_specimen_words_are_taken_off() -> None:
    m = cites.resolve("Pterocarpus santalinus logs")
    assert (m.taxon.name, m.matched_by, m.specimen_hint) == ("Pterocarpus santalinus", "accepted", "wood")
    assert cites.resolve("tiger bones").specimen_hint == "bone"
    assert cites.resolve("Manis spp.").taxon.name == "Manis"


def test_shared_common_name_answers_the_genus() -> None:
    m = cites.resolve("Indochinese Box Turtle")
    assert m.taxon.name == "Cuora"
    assert {a.name for a in m.alternatives} == {"Cuora bourreti", "Cuora galbinifrons", "Cuora picturata"}


def test_unknown_taxon() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        cites.resolve("xyzzy")
    assert exc.value.message == "unknown taxon 'xyzzy'"


def test_unknown_taxon_suggests() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        cites.resolve("Manis xyz")
    assert exc.value.message == "unknown taxon 'Manis xyz'"
    assert any(s.startswith("Manis") for s in exc.value.suggestions)


def test_get_and_appendix() -> None:
    assert cites.get("Loxodonta africana") is not None
    assert cites.get("4521") == cites.get("Loxodonta africana")
    assert cites.get("Phataginus tricuspis") == cites.get("Manis tricuspis")
    assert cites.get("pangolin") is None  # get() is for scientific names and ids only
    assert cites.appendix("Loxodonta africana") == "I/II"
    assert cites.appendix("Isostichopus fuscus") == "III"


def test_lookups_are_fast() -> None:
    t0 = time.perf_counter()
    for _ in range(200):
        cites.resolve("Manis javanica")
        cites.resolve("pangolin scales")
    assert time.perf_counter() - t0 < 0.5
    t0 = time.perf_counter()
    cites.resolve("Panthera tigirs")
    assert time.perf_counter() - t0 < 0.5


def test_split_synonyms() -> None:
    text = (
        "Astrea echinata Dana, 1846, Acanthastrea irregularis Quelch, 1886, Prionastrea echinata (Dana, 1846), "
        "Acanthastrea spinosa Milne Edwards & Haime, 1848"
    )
    assert cites.split_synonyms(text) == [
        "Astrea echinata",
        "Acanthastrea irregularis",
        "Prionastrea echinata",
        "Acanthastrea spinosa",
    ]
    assert cites.split_synonyms("Antipathes undulata van Pesch, 1914") == ["Antipathes undulata"]
    assert cites.split_synonyms("Schomburgkia thomsoniana var. atropurpurea Rolfe") == [
        "Schomburgkia thomsoniana var. atropurpurea"
    ]


RAW_COLUMNS = [
    "TaxonId",
    "Kingdom",
    "Phylum",
    "Class",
    "Order",
    "Family",
    "Genus",
    "Species",
    "Subspecies",
    "FullName",
    "AuthorYear",
    "RankName",
    "CurrentListing",
    "FullAnnotationEnglish",
    "AnnotationEnglish",
    "AnnotationSpanish",
    "AnnotationFrench",
    "#AnnotationSymbol",
    "#Annotation",
    "SynonymsWithAuthors",
    "EnglishNames",
    "SpanishNames",
    "FrenchNames",
    "CitesAccepted",
]


def test_replaceable_by_a_raw_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "index-of-cites-species-2031-01-02.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=RAW_COLUMNS)
        w.writeheader()
        w.writerow(
            {
                "TaxonId": "99",
                "Kingdom": "Animalia",
                "Class": "Mammalia",
                "Order": "Pholidota",
                "Family": "Manidae",
                "Genus": "Phataginus",
                "FullName": "Phataginus tricuspis",
                "RankName": "SPECIES",
                "CurrentListing": "I",
                "AnnotationEnglish": "Appendix I: \n",
                "SynonymsWithAuthors": "Manis tricuspis Rafinesque, 1821",
                "EnglishNames": "White-bellied Pangolin,\nTree Pangolin",
                "CitesAccepted": "true",
            }
        )
    monkeypatch.setenv(cites.ENV_FILE, str(path))
    cites.cache_clear()
    try:
        assert cites.version() == "Species+ 2031-01-02"
        assert cites.counts()["taxa"] == 1
        m = cites.resolve("Manis tricuspis")
        assert (m.taxon.name, m.matched_by) == ("Phataginus tricuspis", "synonym")
        assert cites.resolve("tree pangolin").taxon.name == "Phataginus tricuspis"
        # the curated "white-bellied pangolin" row points at Manis tricuspis: resolved through the synonym
        assert cites.resolve("白腹长尾穿山甲").taxon.name == "Phataginus tricuspis"
        # and a compacted copy of it loads the same
        out = tmp_path / "compact.csv.gz"
        rows, _ = cites.read_rows(path)
        assert cites.write_compact(rows, out, version="Species+ test", source="t") == 2
        monkeypatch.setenv(cites.ENV_FILE, str(out))
        cites.cache_clear()
        assert cites.version() == "Species+ test"
        assert cites.get("Manis tricuspis") == cites.get("99")
    finally:
        monkeypatch.delenv(cites.ENV_FILE)
        cites.cache_clear()
    assert cites.counts()["taxa"] == EXPECTED_TAXA


def test_missing_replacement_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cites.ENV_FILE, str(tmp_path / "nope.csv"))
    cites.cache_clear()
    try:
        with pytest.raises(ReferenceLookupError, match="DRAGONNET_CITES_FILE"):
            cites.version()
    finally:
        monkeypatch.delenv(cites.ENV_FILE)
        cites.cache_clear()
