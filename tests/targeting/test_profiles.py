"""Profile compilation: every condition type against a tiny table, in DuckDB; validation errors."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from dragonnet.errors import ValidationError
from dragonnet.targeting.profiles import ProfileSet, parse_profiles
from dragonnet.targeting.sql import DUCKDB

ROWS = pa.table({
    "declaration_id": ["a", "b", "c", "d"],
    "declaration_date": pa.array([18000, 18100, 18200, 18300], pa.date32()),
    "hs_code": ["050790", "851712", None, "960190"],
    "origin_country": ["NG", "CN", "VN", "CD"],
    "loading_place": ["NGLOS", "CNSHA", None, "CDFIH"],
    "transit_places": ["ETADD;AEDXB", None, "MYPKG", "AE"],
    "goods_description": ["Dried VẢY TÊ TÊ", "mobile phones", "穿山甲 scales", None],
    "importer": ["I1", "I2", "I3", "I4"],
    "x_tax_rate": [8.0, 0.0, 5.0, None],
    "vpk": [1.0, 500.0, None, 3.0],
    "hs_p05": [2.0, 100.0, 1.0, 1.0],
    "hs_p50": [30.0, 500.0, 10.0, 20.0],
    "hs_p95": [90.0, 900.0, 20.0, 40.0],
    "imp_n": [3.0, 0.0, 2.0, 1.0],
    "imp_pos": [2.0, 0.0, 0.0, 1.0],
    "imp_flagged": [0, 0, 1, 0],
})  # fmt: skip


def fired(yaml_text: str) -> list[str]:
    profiles = parse_profiles(yaml_text)
    con = duckdb.connect()
    con.register("t", ROWS)
    sql = profiles.profiles[0].sql(DUCKDB)
    return [r[0] for r in con.execute(f"SELECT declaration_id FROM t WHERE {sql} ORDER BY 1").fetchall()]


def one(conditions: str, extra: str = "") -> str:
    return f"profiles:\n  - id: p\n    owner: TH-CUS\n{extra}    conditions:\n{conditions}"


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ("      - {field: hs_code, prefix: ['0507', '9601']}\n", ["a", "d"]),
        ("      - {field: hs_code, prefix: ['05', '9601.90']}\n", ["a", "d"]),  # a chapter; a subheading as written
        ("      - {field: origin_country, in: [CN, VN]}\n", ["b", "c"]),
        ("      - {field: origin_country, not_in: [CN, VN]}\n", ["a", "d"]),
        ("      - {field: x_tax_rate, gte: 8}\n", ["a"]),
        ("      - {field: x_tax_rate, between: [1, 6]}\n", ["c"]),
        ("      - {field: hs_code, is_null: true}\n", ["c"]),
        ('      - {field: hs_code, eq: "851712"}\n', ["b"]),
        ("      - value_per_kg: {below: p05}\n", ["a"]),
        ("      - value_per_kg: {ratio_below: 0.2}\n", ["a", "d"]),
        ("      - value_per_kg: {above: p95}\n", []),
        ("      - route: {origin_in: [NG, CD], transit_in: [AE]}\n", ["a", "d"]),
        ("      - route: {transit_in: [ETADD]}\n", ["a"]),
        ("      - route: {loading_in: [CN]}\n", ["b"]),
        ("      - text: {field: goods_description, any: ['vảy tê tê', '穿山甲']}\n", ["a", "c"]),
        ("      - text: {regex: 'mobile|phone'}\n", ["b"]),
        ("      - party_history: {party: importer, min_seizures: 1}\n", ["a", "d"]),
        ("      - party_history: {party: importer, min_rate: 0.5, min_inspections: 2}\n", ["a"]),
        ("      - party_history: {party: importer, seen_in_case: true}\n", ["c"]),
        ("      - party_history: {party: importer, watchlist: [I2, I4]}\n", ["b", "d"]),
    ],
)
def test_each_condition_type_compiles_to_sql(conditions: str, expected: list[str]) -> None:
    assert fired(one(conditions)) == expected


def test_all_any_and_validity_period() -> None:
    both = "      - {field: origin_country, eq: NG}\n      - {field: origin_country, eq: CN}\n"
    assert fired(one(both)) == []
    assert fired(one(both, "    match: any\n")) == ["a", "b"]
    # 18100 days = 2019-07-23, 18200 = 2019-10-31: only b and c lie in the period.
    period = "    valid_from: 2019-07-01\n    valid_to: 2019-11-30\n"
    assert fired(one("      - {field: hs_code, is_null: false}\n", period)) == ["b"]


def test_quotes_cannot_break_out_of_a_literal() -> None:
    assert fired(one("      - {field: importer, eq: \"I1' OR '1'='1\"}\n")) == []


def test_rule_score_and_masks() -> None:
    text = """
profiles:
  - {id: a, owner: X, weight: 1.5, conditions: [{field: origin_country, eq: NG}]}
  - {id: b, owner: X, weight: 0.5, conditions: [{field: imp_pos, gte: 1}]}
"""
    profiles = parse_profiles(text.replace("imp_pos", "x_tax_rate"))
    con = duckdb.connect()
    con.register("t", ROWS)
    rows = con.execute(
        f"SELECT {profiles.rule_score_sql(DUCKDB)}, {profiles.mask_sql(DUCKDB)[0]} FROM t ORDER BY declaration_id"
    ).fetchall()
    assert rows == [(2.0, 3), (0.0, 0), (0.5, 2), (0.0, 0)]
    assert [p.id for p in profiles.fired([3])] == ["a", "b"]


def test_sharing_decides_who_may_use_a_profile() -> None:
    text = """
profiles:
  - {id: g, owner: TH, sharing: green, conditions: [{field: hs_code, is_null: true}]}
  - {id: a, owner: TH, sharing: amber, share_with: [VN], conditions: [{field: hs_code, is_null: true}]}
  - {id: s, owner: TH, sharing: amber+strict, conditions: [{field: hs_code, is_null: true}]}
"""
    profiles = parse_profiles(text)
    ids = lambda ps: [p.id for p in ps.profiles]  # noqa: E731
    assert ids(profiles.for_agency("TH")) == ["g", "a", "s"]
    assert ids(profiles.for_agency("VN")) == ["g", "a"]
    assert ids(profiles.for_agency("KH")) == ["g"]


@pytest.mark.parametrize(
    "bad",
    [
        one("      - {field: nope, eq: 1}\n"),
        one("      - {field: hs_code, like: 1}\n"),
        one("      - value_per_kg: {below: p42}\n"),
        one("      - party_history: {party: someone, min_seizures: 1}\n"),
        one("      - text: {field: goods_description}\n"),
        one("      - {field: hs_code, eq: 1}\n", "    weight: -1\n"),
        "profiles:\n  - id: p\n    conditions: [{field: hs_code, eq: 1}]\n",
        "profiles: [",
        one("      - {field: hs_code, in: [1, [2, 3]]}\n"),  # nested values
        one("      - text: {any: ['" + "x" * 1001 + "']}\n"),  # a term longer than any description needs
        "big: &b [1, 2]\nprofiles:\n  - {id: p, owner: X, conditions: [{field: hs_code, in: *b}]}\n",  # an alias
        one("      - {field: hs_code, eq: 1}\n", "    mandatory: 'yes'\n"),
        one("      - {field: hs_code, eq: 1}\n", "    valid_from: 2025-01-01\n    valid_to: 2024-01-01\n"),
        one("      - {field: hs_code, prefix: ['0599']}\n"),  # no such heading in HS 2022: would never fire
        one("      - {field: hs_code, prefix: ['0507', '5']}\n"),
        one("      - {field: hs_code, prefix: ['ivory']}\n"),
    ],
)
def test_invalid_profiles_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        parse_profiles(bad)


def test_the_yaml_format_round_trips() -> None:
    from dragonnet.targeting.profiles import dump_profiles

    text = one(
        "      - {field: hs_code, prefix: ['0507']}\n      - text: {any: [vảy]}\n",
        "    mandatory: true\n    responsible: th.analyst\n    review_by: 2025-06-30\n    valid_to: 2025-12-31\n",
    )
    first = parse_profiles(text)
    again = parse_profiles(dump_profiles(first))
    assert again == first and again.profiles[0].mandatory and again.profiles[0].review_by.isoformat() == "2025-06-30"
    assert again.profiles[0].fingerprint == first.profiles[0].fingerprint


def test_shipped_profiles_load() -> None:
    from dragonnet.targeting.profiles import builtin_profiles

    for name in ("default", "kcs"):
        assert isinstance(builtin_profiles(name), ProfileSet)
        assert builtin_profiles(name).profiles
