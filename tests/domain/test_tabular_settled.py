"""tabular.settled_or_rule: the column-wise answer where settled, the rule once per distinct other value."""

from __future__ import annotations

import polars as pl

from dragonnet.tabular import printable_ascii, settled_or_rule


def test_the_rule_is_asked_once_per_distinct_unsettled_value_and_null_stays_null() -> None:
    asked: list[str] = []

    def rule(value: str) -> str:
        asked.append(value)
        return f"rule:{value}"

    values = pl.Series("v", ["abc", "Ünï", None, "Ünï", "x y", "ｆｕｌｌ"])
    out = settled_or_rule(values, printable_ascii("v"), pl.col("v").str.to_uppercase(), rule)
    assert out.name == "v"
    assert out.to_list() == ["ABC", "rule:Ünï", None, "rule:Ünï", "X Y", "rule:ｆｕｌｌ"]
    assert sorted(asked) == sorted(["ｆｕｌｌ", "Ünï"])
    assert settled_or_rule(pl.Series("v", ["a", "b"]), printable_ascii("v"), pl.col("v"), rule).to_list() == ["a", "b"]
    assert len(asked) == 2  # all settled: the rule is not called
