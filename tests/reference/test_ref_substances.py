from __future__ import annotations

import pytest

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference import substances


@pytest.mark.parametrize(
    ("text", "name"),
    [
        *[
            (t, "methamphetamine")
            for t in [
                "methamphetamine",
                "ice",
                "ICE",
                "crystal meth",
                "shabu",
                "ya ba",
                "yaba",
                "yama",
                "hồng phiến",
                "ma túy đá",
                "冰毒",
                "麻古",
            ]
        ],
        *[(t, "heroin") for t in ["heroin", "smack", "số 4", "海洛因", "diacetylmorphine"]],
        *[(t, "cannabis") for t in ["cannabis", "marijuana", "ganja", "weed", "cần sa", "大麻"]],
        *[(t, "ketamine") for t in ["ketamine", "K", "special K", "khay", "氯胺酮"]],
        *[(t, "MDMA") for t in ["MDMA", "ecstasy", "thuốc lắc", "摇头丸", "molly"]],
        *[(t, "cocaine") for t in ["cocaine", "coke"]],
        ("hashish", "cannabis resin"),
        ("P2P", "1-phenyl-2-propanone"),
        ("phenylacetone", "1-phenyl-2-propanone"),
        ("PMK", "3,4-MDP-2-P"),
        ("PMK glycidate", "3,4-MDP-2-P methyl glycidate"),
        ("APAAN", "APAAN"),
        ("APAA", "APAA"),
        ("MAPA", "MAPA"),
        ("phenylpropanolamine", "norephedrine"),
        ("NPP", "NPP"),
        ("ANPP", "ANPP"),
        ("4-AP", "4-AP"),
        ("1-boc-4-AP", "1-boc-4-AP"),
        ("norfentanyl", "norfentanyl"),
        ("MEK", "methyl ethyl ketone"),
        ("sulfuric acid", "sulphuric acid"),
        ("kratom", "kratom"),
        ("ketum", "kratom"),
        ("khat", "khat"),
        ("captagon", "fenetylline"),
        ("Erimin 5", "nimetazepam"),
    ],
)
def test_resolve_names_and_street_names(text: str, name: str) -> None:
    assert substances.resolve(text).substance.name == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("methamphetamine HCl", "methamphetamine"),
        ("methamphetamine hydrochloride", "methamphetamine"),
        ("ketamine HCl", "ketamine"),
        ("cocaine HCl", "cocaine"),
        ("cocaine base", "cocaine"),
        ("morphine sulfate", "morphine"),
        ("ephedrine sulphate", "ephedrine"),
        ("pseudoephedrine hydrochloride", "pseudoephedrine"),
    ],
)
def test_salt_forms_resolve_to_the_parent(text: str, name: str) -> None:
    m = substances.resolve(text)
    assert (m.substance.name, m.matched_by, m.score) == (name, "salt", 100.0)


@pytest.mark.parametrize(
    ("name", "control", "klass"),
    [
        ("heroin", "1961 Schedule I and IV", "drug"),
        ("cocaine", "1961 Schedule I", "drug"),
        ("coca leaf", "1961 Schedule I", "drug"),
        ("cannabis", "1961 Schedule I", "drug"),
        ("opium", "1961 Schedule I", "drug"),
        ("fentanyl", "1961 Schedule I", "drug"),
        ("codeine", "1961 Schedule II", "drug"),
        ("methamphetamine", "1971 Schedule II", "drug"),
        ("amphetamine", "1971 Schedule II", "drug"),
        ("MDMA", "1971 Schedule I", "drug"),
        ("LSD", "1971 Schedule I", "drug"),
        ("mephedrone", "1971 Schedule II", "drug"),
        ("alprazolam", "1971 Schedule IV", "drug"),
        ("diazepam", "1971 Schedule IV", "drug"),
        ("ketamine", substances.NATIONAL, "drug"),
        ("kratom", substances.NATIONAL, "drug"),
        ("ephedrine", "1988 Table I", "precursor"),
        ("acetic anhydride", "1988 Table I", "precursor"),
        ("potassium permanganate", "1988 Table I", "precursor"),
        ("phenylacetic acid", "1988 Table I", "precursor"),
        ("acetone", "1988 Table II", "precursor"),
        ("toluene", "1988 Table II", "precursor"),
    ],
)
def test_control(name: str, control: str, klass: str) -> None:
    sub = substances.resolve(name).substance
    assert (sub.control, sub.commodity_class) == (control, klass)
    assert sub.internationally_controlled == (control != substances.NATIONAL)


def test_ketamine_is_flagged_not_internationally_scheduled() -> None:
    k = substances.resolve("ketamine").substance
    assert not k.internationally_controlled
    assert k.note and "Not internationally scheduled" in k.note


def test_fuzzy() -> None:
    m = substances.resolve("metamphetamine")
    assert (m.substance.name, m.matched_by) == ("methamphetamine", "fuzzy")
    assert 85 <= m.score < 100


def test_generic_words_are_not_substances() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        substances.resolve("white powder")
    assert exc.value.message == "unknown substance 'white powder'"


def test_unknown_substance_suggests() -> None:
    with pytest.raises(ReferenceLookupError) as exc:
        substances.resolve("ketamne powdr")
    assert exc.value.suggestions[0] == "ketamine"
    assert substances.resolve("ketamne").matched_by == "fuzzy"


def test_tables() -> None:
    table1 = {s.name for s in substances.by_control("1988 Table I")}
    table2 = {s.name for s in substances.by_control("1988 Table II")}
    assert {"ephedrine", "pseudoephedrine", "safrole", "APAAN", "NPP"} <= table1
    assert {"acetone", "ethyl ether", "hydrochloric acid", "piperidine", "anthranilic acid"} <= table2
    assert not table1 & table2
    names = [s.name for s in substances.all_substances()]
    assert len(names) == len(set(names)) >= 150


def test_no_synonym_claims_two_substances() -> None:
    seen: dict[str, str] = {}
    from dragonnet.reference._text import norm

    for s in substances.all_substances():
        for text in (s.name, *s.synonyms):
            key = norm(text)
            assert seen.setdefault(key, s.name) == s.name, (text, seen[key], s.name)


def test_version() -> None:
    assert "2023" in substances.version()
