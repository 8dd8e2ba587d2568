"""The screening engine without a database: pairs only between list and reference, honest counters, evidence."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

from dragonnet.linkage import normalise
from dragonnet.linkage.resolve import PartyInput, address_fields, record_schema, records_table, to_record
from dragonnet.linkage.screening.matching import agreement, agreements, match_lists


def _people(n: int, start: int) -> list[PartyInput]:
    """Filler people as a case database holds them: each person reported twice, spelt differently (name order,
    case, diacritics, a document missing), so the model has matches and non-matches to learn from."""
    given = ["An", "Bình", "Chi", "Dũng", "Giang", "Hải", "Khánh", "Lan", "Minh", "Nga", "Phúc", "Quang", "Sơn"]
    family = ["Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
    streets = ["Lê Lợi", "Trần Hưng Đạo", "Hai Bà Trưng", "Nguyễn Trãi", "Lý Thường Kiệt", "Điện Biên Phủ"]
    out: list[PartyInput] = []
    for i in range(n):
        f, g1, g2 = family[i % 12], given[(i // 12) % 13], given[(i * 5 + 3) % 13]
        born = dt.date(1950 + (i * 7) % 50, 1 + (i * 5) % 12, 1 + (i * 11) % 28)
        address = f"{1 + i % 90} {streets[i % 6]}, phường {1 + i % 14}, Hà Nội {100000 + 1000 * (i % 9)}"
        out.append(PartyInput(start + 2 * i, "person", f"{f} {g1} {g2}", "VN", born, f"B{1000000 + i}",
                              address=address))  # fmt: skip
        out.append(PartyInput(start + 2 * i + 1, "person", f"{g2} {f.upper()} {g1}", "VN", born,
                              None if i % 2 else f"B{1000000 + i}", address=address if i % 3 else None))  # fmt: skip
    return out


def test_list_rows_find_their_reference_records_and_counters_add_up() -> None:
    reference = [
        PartyInput(1, "person", "Nguyễn Văn Thắng", "VN", dt.date(1986, 11, 2), "C4185230"),
        PartyInput(2, "person", "CHEN Wei Qiang", "CN", dt.date(1975, 6, 18), "E61830275"),
        PartyInput(3, "person", "Somchai Wongsawat", "TH", dt.date(1978, 3, 14), "AA4821937",
                   address="12 Sukhumvit Soi 4, Bangkok 10110"),
        *_people(300, 100),
    ]  # fmt: skip
    rows = [
        PartyInput(2, "person", "Thang Nguyen Van", "VN", dt.date(1986, 11, 2)),  # ids may overlap the reference's
        PartyInput(3, "person", "陈伟强", "CN", dt.date(1975, 6, 18)),
        PartyInput(4, "person", "WONGSAWAT Somchai", None, None, address="Sukhumvit Soi 4 No. 12, Bangkok 10110"),
        PartyInput(5, "person", "Nobody Known", "FR", dt.date(2001, 1, 1)),
    ]
    run = match_lists(rows, reference, threshold=0.9)
    found = {(m.row, m.reference) for m in run.matches}
    assert {(2, 1), (3, 2), (4, 3)} <= found
    assert not any(m.row == 5 for m in run.matches)
    assert run.counts.compared == run.counts.scored >= run.counts.above == len(run.matches)
    # A list of 4 against 603 records: blocking compares far fewer than all 2,412 pairs, and never list x list.
    assert run.counts.compared < len(rows) * len(reference)
    by_row = {m.row: m for m in run.matches if (m.row, m.reference) in {(2, 1), (4, 3)}}
    assert by_row[2].agreed["name"] == "exact" and by_row[2].agreed["birth_date"] == "exact"
    assert by_row[4].agreed["address"] == "exact" and by_row[4].agreed["postcode"] == "exact"


def test_an_empty_side_compares_nothing() -> None:
    run = match_lists([], _people(10, 1))
    assert (run.counts.compared, run.matches) == (0, [])
    run = match_lists(_people(3, 1), [])
    assert (run.counts.compared, run.matches) == (0, [])


def test_addresses_are_tokens_and_a_postcode() -> None:
    a = normalise.address("4/18 Railway Parade, Cabramatta NSW 2166")
    assert a.postcode == "2166" and "parade" not in a.tokens and "railway" in a.tokens
    b = normalise.address("Số 12 đường Lê Lợi, phường Bến Nghé, quận 1, TP Hồ Chí Minh 700000")
    assert b.postcode == "700000" and {"le", "loi", "ben", "nghe", "ho", "chi", "minh"} <= set(b.tokens)
    assert not {"duong", "phuong", "quan", "so", "tp"} & set(b.tokens)
    assert normalise.address(None).tokens == ()
    # the postcode given apart wins over the one read from the address
    assert address_fields("1 Main St 2000", "3000")["postcode"] == "3000"


def test_evidence_says_exact_or_similar() -> None:
    left = to_record(PartyInput(1, "person", "Tan Chee Keong", "MY", dt.date(1982, 8, 9), "A31552789",
                                email="tck.logistics88@gmail.com"))  # fmt: skip
    right = to_record(PartyInput(2, "person", "Tan Chee Kiong", "MY", dt.date(1982, 8, 9), "A31552780",
                                 email="TCK.logistics88@gmail.com"))  # fmt: skip
    assert agreement(left, right) == {"name": "similar", "birth_date": "exact", "id_number": "similar",
                                      "email": "exact", "nationality": "exact"}  # fmt: skip


def _edge_record(rng: random.Random, uid: int) -> dict[str, object]:
    """A record whose fields collide often: short texts over two letters (so distances sit at, under and over each
    cutoff), None and empty texts, token lists with duplicates, empty or None."""

    def text() -> str | None:
        return rng.choice([None, "", *("".join(rng.choices("ab", k=rng.randint(1, 4))) for _ in range(3))])

    def tokens() -> list[str] | None:
        return rng.choice([None, [], [rng.choice("xyz") for _ in range(rng.randint(1, 4))]])

    return {"unique_id": uid, "kind": "person", "name_key": text(), "name_concat": text(), "name_tokens": tokens(),
            "name_prefix": None, "birth_date": text(), "birth_year": None, "id_norm": text(), "phone": text(),
            "email": text(), "nationality": text(), "address_tokens": tokens(), "address_key": text(),
            "postcode": text()}  # fmt: skip


def test_the_evidence_computed_column_wise_is_agreement_pair_by_pair() -> None:
    """`agreements` (every hit's evidence at once, in Polars and rapidfuzz) gives what `agreement` gives on each
    pair: on edge records (None, empty texts and token lists, duplicated tokens, a record with itself, distances
    exactly at each cutoff and one over) and on normalised generated people."""
    rng = random.Random(16)
    edge = [_edge_record(rng, i) for i in range(400)]
    edge += [{**edge[0], "unique_id": 400, "name_key": "k", "name_concat": "abcdef"},
             {**edge[0], "unique_id": 401, "name_key": "k", "name_concat": "abcxyz"},  # same key, concat 3 apart
             {**edge[0], "unique_id": 402, "name_concat": "abcdxy", "birth_date": "1980-01-02"},  # 2 apart
             {**edge[0], "unique_id": 403, "birth_date": "1980-01-03", "id_norm": "A1"}]  # fmt: skip
    table = pa.Table.from_pylist(edge, schema=record_schema())
    pairs = [(rng.randrange(404), rng.randrange(404)) for _ in range(3000)] + [(i, i) for i in range(404)]
    pairs += [(400, 401), (400, 402), (402, 403), (401, 403)]
    assert agreements(table, [a for a, _ in pairs], [b for _, b in pairs]) == [
        agreement(edge[a], edge[b]) for a, b in pairs
    ]
    people = records_table([*_people(150, 0), *_people(150, 1000)])
    records = people.to_pylist()
    pairs = [(rng.randrange(len(records)), rng.randrange(len(records))) for _ in range(2000)]
    pairs += [(i, i + 1) for i in range(0, len(records) - 1, 2)]  # each person's two spellings
    found = agreements(people, [a for a, _ in pairs], [b for _, b in pairs])
    assert found == [agreement(records[a], records[b]) for a, b in pairs]
    assert [list(d) for d in found] == [list(agreement(records[a], records[b])) for a, b in pairs]  # same order
    assert agreements(people, [], []) == []


def test_a_reference_without_any_duplicate_still_screens() -> None:
    """Every reference record distinct (no near-certain pair to estimate the prior from, too few pairs for EM):
    the settings' prior and Splink's starting values stand, and the screening answers."""
    reference = [p for p in _people(40, 1) if p.party_id % 2 == 0]  # one spelling of each person only
    rows = [PartyInput(1, "person", "Nobody Known", "FR", dt.date(2001, 1, 1))]
    run = match_lists(rows, reference)
    assert run.matches == [] and run.counts.above == 0


@pytest.mark.slow
def test_a_long_list_teaches_the_model_on_its_pairs_with_the_reference() -> None:
    """600 list rows (300 people of the reference, spelt as the reference's first record) against 1,400 records:
    enough pairs between the two for EM, so the model is estimated on them (not on the reference's pairs with
    itself) and finds each row's two reference records."""
    reference = _people(700, 100)
    rows = [p for p in _people(300, 10_000) if p.party_id % 2 == 0]
    rows += [PartyInput(20_000 + i, "person", f"Nobody {i}", "FR", dt.date(2001, 1, 1 + i % 28)) for i in range(300)]
    run = match_lists(rows, reference, threshold=0.9)
    assert (run.model_source, run.trained_on) == ("estimated", "between")
    assert run.model is not None and run.model["link_type"] == "dedupe_only"
    found = {(m.row, m.reference) for m in run.matches}
    expected = {(10_000 + 2 * i, 100 + 2 * i + k) for i in range(300) for k in (0, 1)}
    assert len(found & expected) >= 0.95 * len(expected)
    assert not any(m.row >= 20_000 for m in run.matches)
    # A level no random pair agreed on keeps a weight (u: at most one in the pairs sampled), not none.
    levels = [level for c in run.model["comparisons"] for level in c["comparison_levels"]]
    assert all(level.get("u_probability") is not None for level in levels if level.get("m_probability") is not None)


def test_a_short_list_is_not_enough_to_teach_the_model_between() -> None:
    """Two rows against 2,000 records give EM too few pairs between them: the model is then estimated on list and
    reference together (`train`), whose reference duplicates teach it (counted only here: no training)."""
    from dragonnet.linkage.resolve import _db_api, register
    from dragonnet.linkage.screening.matching import _numbered_records, _tables, _train_between

    reference = _people(1000, 100)
    known = reference[10]
    rows = [PartyInput(2, "person", "Thang Nguyen Van", "VN", dt.date(1986, 11, 2)),
            PartyInput(3, "person", known.name, "VN", known.birth_date, known.id_number)]  # fmt: skip
    records, _cached = _numbered_records(rows, reference, None)
    _union, left, right = _tables(records, len(rows))
    db_api = _db_api("duckdb")
    assert _train_between(register(db_api, left), register(db_api, right), 7) is None


@pytest.mark.slow
def test_spark_gives_the_same_hits_as_duckdb() -> None:
    reference = [
        PartyInput(1, "person", "Nguyễn Văn Thắng", "VN", dt.date(1986, 11, 2), "C4185230"),
        *_people(300, 100),
    ]
    rows = [PartyInput(7, "person", "Thang Nguyen Van", "VN", dt.date(1986, 11, 2)), *_people(5, 5000)[::2]]
    duck = match_lists(rows, reference)
    spark = match_lists(rows, reference, backend="spark")
    assert duck.counts == spark.counts
    assert [(m.row, m.reference, round(m.probability, 6)) for m in duck.matches] == [
        (m.row, m.reference, round(m.probability, 6)) for m in spark.matches
    ]
    assert (7, 1) in {(m.row, m.reference) for m in duck.matches}


def test_hidden_references_are_matched_but_counted_nowhere() -> None:
    """Records the screener may not see are matched in the same run (their hits come back apart, without the
    agreeing fields) and leave every counter as it is without them."""
    from dragonnet.linkage.resolve import default_model

    visible = _people(40, 100)
    hidden = [PartyInput(9001, "person", "Nguyễn Văn Thắng", "VN", dt.date(1986, 11, 2), "C4185230"),
              *_people(40, 5000)]  # fmt: skip
    rows = [PartyInput(2, "person", "Thang Nguyen Van", "VN", dt.date(1986, 11, 2), "C4185230"),
            PartyInput(3, "person", visible[0].name, "VN", visible[0].birth_date, visible[0].id_number)]  # fmt: skip
    model = default_model()
    alone = match_lists(rows, visible, threshold=0.9, model=model)
    both = match_lists(rows, visible, threshold=0.9, model=model, hidden=hidden)
    assert both.counts == alone.counts and both.reference_records == alone.reference_records == len(visible)
    assert [(m.row, m.reference) for m in both.matches] == [(m.row, m.reference) for m in alone.matches]
    assert any(m.row == 3 for m in both.matches)
    assert [(m.row, m.reference, m.agreed) for m in both.hidden_matches if m.reference == 9001] == [(2, 9001, {})]
    assert all(m.reference >= 5000 for m in both.hidden_matches)
