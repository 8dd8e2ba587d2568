"""The HS 2022 nomenclature: codes with or without dots, descriptions, parents."""

from __future__ import annotations

import pytest

from dragonnet.reference import goods


@pytest.mark.parametrize("text", ["0507.10", "050710", "05 07 10", "0507-10", " 0507.10 "])
def test_a_subheading_in_any_writing(text: str) -> None:
    res = goods.lookup(text)
    assert res.status == goods.EXACT and res.code is not None
    assert (res.code.code, res.code.level, res.code.formatted) == ("050710", 6, "0507.10")
    assert "ivory" in res.code.description.lower()
    assert [p.code for p in goods.parents(res.code)] == ["05", "0507"]


def test_chapter_heading_and_counts() -> None:
    assert goods.get("44").kind == "chapter"  # type: ignore[union-attr]
    heading = goods.get("44.03")
    assert heading is not None and heading.kind == "heading" and heading.parent == "44"
    assert heading.section == "IX"
    assert goods.record_count() == 6936
    assert len(goods.chapters()) == 96
    assert {c.code for c in goods.children("0507")} == {"050710", "050790"}


def test_national_lines_and_wrong_codes() -> None:
    national = goods.lookup("2939.45.00")
    assert national.status == goods.GUESS and national.code is not None and national.code.code == "293945"
    assert "national tariff line" in (national.reason or "")
    gone = goods.lookup("2939.71.00")  # a subheading of HS 2017, not of HS 2022
    assert gone.status == goods.UNRESOLVED and "not in HS 2022" in (gone.reason or "")
    assert goods.lookup("0599").status == goods.UNRESOLVED
    assert goods.lookup("").reason == "empty HS code"
    words = goods.lookup("ivory")
    assert words.status == goods.UNRESOLVED and any("0507" in s for s in words.suggestions)


def test_search_by_description() -> None:
    found = goods.search("live animals", levels=(2,))
    assert found and found[0].code == "01"
