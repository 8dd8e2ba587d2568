"""Taxa at any rank, group names as vocabulary, vernacular names, and taxa CITES does not list."""

from __future__ import annotations

import pytest

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import cites


@pytest.mark.parametrize(
    ("text", "name", "rank"),
    [
        ("Aves", "Aves", "CLASS"),
        ("Testudines", "Testudines", "ORDER"),
        ("Serpentes", "Serpentes", "ORDER"),  # Species+ ranks the snakes as an order
        ("Elephantidae", "Elephantidae", "FAMILY"),
        ("Psittaciformes spp.", "Psittaciformes", "ORDER"),
        ("Manis spp.", "Manis", "GENUS"),
        ("Dalbergia spp", "Dalbergia", "GENUS"),
        ("Orchidaceae", "Orchidaceae", "FAMILY"),
    ],
)
def test_any_rank_resolves(text: str, name: str, rank: str) -> None:
    m = cites.resolve(text)
    assert (m.taxon.name, m.taxon.rank) == (name, rank)
    assert m.cites_status in (cites.LISTED, cites.INCLUDES_LISTED)
    assert m.taxon.listing  # a higher taxon carries its members' appendices together


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ivory", "Elephantidae"),
        ("rhino horn", "Rhinocerotidae"),
        ("pangolin scales", "Manis"),
        ("parrots", "Psittaciformes"),
        ("tortoises", "Testudinidae"),
        ("turtles", "Testudines"),
        ("snakes", "Serpentes"),
        ("birds", "Aves"),
        ("Reptiles", "Reptilia"),
        ("Finches", "Fringillidae"),
        ("toucan", "Ramphastidae"),
        ("Toucans", "Ramphastidae"),
        ("lizards", "Sauria"),
        ("Falcons", "Falconidae"),
        ("rùa", "Testudines"),
        ("vẹt", "Psittaciformes"),
        ("鹦鹉", "Psittaciformes"),
        ("rắn", "Serpentes"),
        ("鸟类", "Aves"),
    ],
)
def test_group_names_map_to_the_right_higher_taxon(text: str, name: str) -> None:
    assert cites.resolve(text).taxon.name == name


def test_ivory_is_never_only_african() -> None:
    m = cites.resolve("ivory")
    assert m.taxon.rank == "FAMILY" and {a.name for a in m.alternatives} == {"Loxodonta africana", "Elephas maximus"}
    assert m.specimen_hint == "ivory"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Ploughshare Tortoise", "Astrochelys yniphora"),
        ("Angonoka", "Astrochelys yniphora"),
        ("Indian Star Tortoises", "Geochelone elegans"),
        ("Pig-Nosed Turtles", "Carettochelys insculpta"),
        ("Nile Crocodiles", "Crocodylus niloticus"),
        ("Grey Parrots", "Psittacus erithacus"),
        ("Java Sparrows", "Lonchura oryzivora"),
        ("Saltwater Crocodiles", "Crocodylus porosus"),
        ("Goshawks", "Accipiter gentilis"),
        ("Peregrine Falcon eggs", "Falco peregrinus"),
    ],
)
def test_vernacular_names_of_cites_species(text: str, name: str) -> None:
    m = cites.resolve(text)
    assert m.taxon.name == name and m.status == cites.EXACT


def test_every_species_plus_english_name_resolves_to_its_taxon() -> None:
    taxa = [t for t in cites.all_taxa() if t.common_names.get("en")][::40]
    for t in taxa:
        for name in t.common_names["en"]:
            m = cites.resolve(name)
            assert m.taxon == t or t in m.alternatives or m.taxon.rank != "SPECIES", (name, t.name, m.taxon.name)


def test_plural_and_specimen_words() -> None:
    assert cites.resolve("Canaries").taxon.name == "Serinus canaria"
    eggs = cites.resolve("Pigeon eggs")
    assert eggs.taxon.name == "Columbidae" and eggs.specimen_hint == "eggs"
    assert cites.resolve("three Black-headed Pythons").taxon.name == "Aspidites melanocephalus"


def test_a_taxon_cites_does_not_list_resolves_with_that_status() -> None:
    res = cites.lookup("Chickens")
    assert res.status == cites.EXACT and res.cites_status == cites.NOT_LISTED
    assert res.taxon is not None and res.taxon.origin == "vocabulary" and res.taxon.family == "Phasianidae"
    corn = cites.lookup("Corn Snakes")
    assert corn.cites_status == cites.NOT_LISTED and corn.taxon is not None and corn.taxon.order == "Serpentes"


def test_an_unknown_taxon_is_unverified_not_an_error() -> None:
    res = cites.lookup("Xyzzy beast")
    assert res.status == cites.UNRESOLVED and res.cites_status == cites.UNVERIFIED and res.match is None
    assert "kept as written" in (res.reason or "")
    with pytest.raises(ReferenceLookupError):  # resolve() keeps raising for existing callers
        cites.resolve("Xyzzy beast")


def test_a_misspelling_is_a_guess_that_says_so() -> None:
    res = cites.lookup("Ploughshare Toirtoises")
    assert res.status == cites.GUESS and res.taxon is not None and res.taxon.name == "Astrochelys yniphora"
    assert "closest name" in (res.reason or "")


def test_lookup_many_resolves_each_distinct_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = cites.resolve

    def counting(text: str) -> cites.TaxonMatch:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(cites, "resolve", counting)
    out = cites.lookup_many(["ivory", "ivory", " ivory ", "Birds", None])
    assert [r.taxon.name if r.taxon else None for r in out] == ["Elephantidae"] * 3 + ["Aves", None]
    assert calls == ["ivory", "Birds"]


def test_vocabulary_targets_exist_in_the_shipped_data() -> None:
    for row in cites.curated_rows():
        if row.rank:  # a taxon CITES does not list: created from the row itself
            continue
        assert cites.get(row.taxon.split("|")[0]) is not None, row
