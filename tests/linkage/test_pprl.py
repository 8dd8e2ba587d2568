from __future__ import annotations

import datetime as dt

from dragonnet.linkage.pprl import FILTER_BITS, encode_parties, match
from dragonnet.linkage.resolve import PartyInput

KEY = b"operation-shared-secret-0123456789"


def _p(pid: int, name: str, dob: dt.date | None = None, passport: str | None = None) -> PartyInput:
    return PartyInput(pid, "person", name, "VN", dob, passport)


def test_encodings_hide_names_and_depend_on_the_key() -> None:
    a = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2))], "VN-CUS", KEY)[0]
    b = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2))], "VN-CUS", KEY)[0]
    c = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2))], "VN-CUS", b"another-key-another-key!")[0]
    assert a.bits == b.bits and a.bits != c.bits
    assert len(a.bits) == FILTER_BITS // 8 and b"thang" not in a.bits.lower()


def test_hub_matches_variants_across_agencies_only() -> None:
    vn = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2), "C4185230"),
                         _p(2, "Trần Đức Long", dt.date(1977, 12, 1))], "VN-CUS", KEY)  # fmt: skip
    la = encode_parties([_p(11, "Thang Nguyen Van", dt.date(1986, 11, 2), "C 4185230"),
                         _p(12, "Bounmy Phommachanh", dt.date(1979, 5, 21))], "LA-CUS", KEY)  # fmt: skip
    same_agency = encode_parties([_p(3, "NGUYEN VAN THANG", dt.date(1986, 11, 2), "C4185230")], "VN-CUS", KEY)
    found = match([*vn, *la, *same_agency], threshold=0.9)
    pairs = {(m.a.ref, m.b.ref) for m in found}
    assert {tuple(sorted(p)) for p in pairs} == {("1", "11"), ("11", "3")}  # 1 and 3: same agency, not matched
    assert all(m.a.agency != m.b.agency for m in found)
    assert not any("12" in (m.a.ref, m.b.ref) or "2" in (m.a.ref, m.b.ref) for m in found)


def test_names_are_encoded_as_clear_text_linkage_normalises_them() -> None:
    """Diacritics, name order, upper case, honorifics and Hanzi give the same name block; a typo stays close."""
    from dragonnet.linkage.normalise import HAS_PINYIN
    from dragonnet.linkage.pprl import field_blocks, shared_dice

    same = ["Nguyễn Văn Thắng", "Thang Nguyen Van", "NGUYEN VAN THANG", "Mr. Nguyen Van Thang"]
    if HAS_PINYIN:
        same += ["陈伟强", "Weiqiang Chen"]
    encoded = encode_parties([_p(i, n) for i, n in enumerate(same)], "VN-CUS", KEY)
    names = [field_blocks(e.bits)["name"] for e in encoded]
    assert len(set(names[:4])) == 1
    if HAS_PINYIN:
        assert names[4] == names[5] != names[0]
    typo = encode_parties([_p(9, "Nguyen Van Thnag")], "VN-CUS", KEY)[0]
    assert 0.7 < shared_dice(typo.bits, encoded[0].bits) < 1.0


def test_a_field_known_to_one_side_only_is_unknown_not_different() -> None:
    """The record-level filter lost most true pairs this way: a phone on one side lowered their Dice."""
    from dragonnet.linkage.pprl import field_blocks, shared_dice

    dob = dt.date(1986, 11, 2)
    vn = encode_parties([PartyInput(1, "person", "Nguyễn Văn Thắng", "VN", dob, "C4185230", "0912 317 489")],
                        "VN-CUS", KEY)  # fmt: skip
    la = encode_parties([PartyInput(11, "person", "Thang Nguyen Van", None, dob)], "LA-CUS", KEY)
    blocks = field_blocks(la[0].bits)
    assert blocks["phone"] is None and blocks["id_norm"] is None and blocks["nationality"] is None
    assert shared_dice(vn[0].bits, la[0].bits) == 1.0  # name and birth date: the fields both have
    assert [(m.a.ref, m.b.ref) for m in match([*vn, *la])] == [("1", "11")]


def test_blocking_keys_are_keyed_and_shared_values_share_keys() -> None:
    dob = dt.date(1986, 11, 2)
    a = encode_parties([_p(1, "Nguyễn Văn Thắng", dob, "C4185230")], "VN-CUS", KEY)[0]
    b = encode_parties([_p(2, "THANG Nguyen Van", dob, "C 4185230")], "LA-CUS", KEY)[0]
    c = encode_parties([_p(1, "Nguyễn Văn Thắng", dob, "C4185230")], "VN-CUS", b"another-key-another-key!")[0]
    assert {k.split(":")[0] for k in a.blocks} == {"name", "name_prefix_year", "id_norm", "birth_date"}
    assert set(a.blocks) == set(b.blocks)
    assert not set(a.blocks) & set(c.blocks)
    assert all(len(k.split(":")[1]) == 32 and "nguyen" not in k and "1986" not in k for k in a.blocks)


def test_the_hub_compares_only_pairs_sharing_a_blocking_key() -> None:
    from dragonnet.linkage.pprl import hub_match

    dob = dt.date(1986, 11, 2)
    # One person, but the two records share no blocking value (name typo, no birth date on one side, no id).
    a = encode_parties([_p(1, "Nguyen Van Thang", dob)], "VN-CUS", KEY)
    b = encode_parties([_p(2, "Nguyen Van Thanng")], "LA-CUS", KEY)
    others = encode_parties([_p(10 + i, f"Tran Duc Long{'x' * i}", dt.date(1970 + i, 1, 1)) for i in range(5)],
                            "TH-CUS", KEY)  # fmt: skip
    blocked = hub_match([*a, *b, *others])
    assert blocked.compared == 0 and blocked.eligible == 1 + 5 + 5 and not blocked.matches
    full = hub_match([*a, *b, *others], blocking=False)
    assert full.compared == full.eligible == 11


def test_hub_on_a_labelled_set_trains_blocks_and_links() -> None:
    """About 400 records: the hub estimates its own model, compares a small share of the pairs and links well."""
    from dragonnet.linkage.evaluation import clusters_from_pairs, labelled_people, pairwise_scores
    from dragonnet.linkage.pprl import hub_match

    data = labelled_people(200, seed=11)
    encoded = []
    for agency in sorted(set(data.agency.values())):
        encoded += encode_parties([p for p in data.parties if data.agency[p.party_id] == agency], agency, KEY)
    result = hub_match(encoded, same_agency=True)
    assert result.trained == ("u", "prior", "m:name-blocked", "m:birth_date-blocked")
    assert result.compared < 0.02 * result.eligible
    clusters = clusters_from_pairs([p.party_id for p in data.parties],
                                   [(int(m.a.ref), int(m.b.ref)) for m in result.matches])  # fmt: skip
    scores = pairwise_scores(data.truth, clusters)
    assert scores.precision >= 0.95 and scores.recall >= 0.75, scores
    cross = hub_match(encoded)
    assert all(m.a.agency != m.b.agency for m in cross.matches)
    assert cross.eligible < result.eligible and cross.compared <= result.compared


def _addressed(pid: int, name: str, address: str | None, postcode: str | None = None) -> PartyInput:
    return PartyInput(pid, "person", name, "VN", dt.date(1986, 11, 2), address=address, postcode=postcode)


def test_addresses_are_encoded_in_their_own_blocks() -> None:
    """Street tokens and town in any order, with a typo, stay close; the postcode has its own block; a party
    without an address leaves both blocks empty (unknown, not different)."""
    from dragonnet.linkage.pprl import field_blocks, field_dice

    a, b, typo, other, none = encode_parties([
        _addressed(1, "Nguyễn Văn Thắng", "12 Hàng Bạc Street, Hoàn Kiếm, Hà Nội 100000"),
        _addressed(2, "Thang Nguyen Van", "Hoan Kiem, 12 Hang Bac, Ha Noi", "100000"),
        _addressed(3, "Thang Nguyen Van", "12 Hang Bak, Hoan Kiem, Ha Noi", "100001"),
        _addressed(4, "Thang Nguyen Van", "7 Le Loi, Quan 1, Ho Chi Minh", "700000"),
        _addressed(5, "Thang Nguyen Van", None),
    ], "VN-CUS", KEY)  # fmt: skip
    assert field_dice(a.bits, b.bits)["address"] == 1.0 and field_dice(a.bits, b.bits)["postcode"] == 1.0
    assert 0.75 < field_dice(a.bits, typo.bits)["address"] < 1.0 and 0.5 < field_dice(a.bits, typo.bits)["postcode"] < 1
    assert field_dice(a.bits, other.bits)["address"] < 0.5
    assert field_blocks(none.bits)["address"] is None and field_blocks(none.bits)["postcode"] is None
    assert "address" not in field_dice(a.bits, none.bits)
    assert b"hang" not in a.bits.lower() and b"100000" not in a.bits
    assert {k.split(":")[0] for k in a.blocks} >= {"address"} and not {k.split(":")[0] for k in none.blocks} & {
        "address"
    }


def test_the_address_weighs_in_the_hubs_match_probability() -> None:
    """Same name and birth date: the same address raises the match probability, another one lowers it."""
    from dragonnet.linkage.pprl import hub_match

    vn = encode_parties([_addressed(1, "Nguyễn Văn Thắng", "12 Hang Bac, Hoan Kiem, Ha Noi", "100000")], "VN-CUS", KEY)
    same = encode_parties([_addressed(11, "Thang Nguyen Van", "12 Hàng Bạc, Hoàn Kiếm, Hà Nội", "100000")],
                          "LA-CUS", KEY)  # fmt: skip
    moved = encode_parties([_addressed(11, "Thang Nguyen Van", "7 Le Loi, Quan 1, Ho Chi Minh", "700000")],
                           "LA-CUS", KEY)  # fmt: skip
    unknown = encode_parties([_addressed(11, "Thang Nguyen Van", None)], "LA-CUS", KEY)
    p = {label: hub_match([*vn, *other], threshold=0.01).matches[0].probability
         for label, other in (("same", same), ("moved", moved), ("unknown", unknown))}  # fmt: skip
    assert p["same"] > p["unknown"] > p["moved"]
