from __future__ import annotations

import datetime as dt

from dragonnet.linkage.pprl import encode_parties, match
from dragonnet.linkage.resolve import PartyInput

KEY = b"operation-shared-secret-0123456789"


def _p(pid: int, name: str, dob: dt.date | None = None, passport: str | None = None) -> PartyInput:
    return PartyInput(pid, "person", name, "VN", dob, passport)


def test_encodings_hide_names_and_depend_on_the_key() -> None:
    a = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2))], "VN-CUS", KEY)[0]
    b = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2))], "VN-CUS", KEY)[0]
    c = encode_parties([_p(1, "Nguyễn Văn Thắng", dt.date(1986, 11, 2))], "VN-CUS", b"another-key-another-key!")[0]
    assert a.bits == b.bits and a.bits != c.bits
    assert len(a.bits) == 128 and b"thang" not in a.bits.lower()


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
