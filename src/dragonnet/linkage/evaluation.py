"""A labelled set of person records with realistic errors, and pairwise precision / recall / F1.

`labelled_people(n, seed)` is deterministic (only `random.Random(seed)`): each of n people appears in 1-4
records, written the way officers of different countries write them: diacritics dropped, family name first or
last, upper case, Hanzi or pinyin for Chinese names, one-character typos, missing birth date / passport /
phone, phones in national or international format, passports with a space.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dragonnet.linkage.resolve import PartyInput, connected_components

VN_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
VN_MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Ngọc", "Xuân", "Công"]
VN_GIVEN = ["Thắng", "Long", "Hương", "Cường", "Lan", "Hải", "Nam", "Bình", "Tuấn", "Mai", "Sơn", "Phúc", "Hùng",
            "Dũng", "Linh", "Trang", "Quân", "Hiếu", "Khoa", "Vinh"]  # fmt: skip
CN_FAMILY = [
    ("陈", "Chen"),
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("黄", "Huang"),
    ("周", "Zhou"),
]
CN_GIVEN = [("伟强", "Weiqiang"), ("俊杰", "Junjie"), ("志明", "Zhiming"), ("建华", "Jianhua"), ("晓东", "Xiaodong"),
            ("国平", "Guoping"), ("海涛", "Haitao"), ("丽娟", "Lijuan")]  # fmt: skip
TH_GIVEN = ["Somchai", "Somsak", "Kittisak", "Anan", "Prasert", "Wichai", "Suda", "Malee"]
TH_FAMILY = ["Wongsawat", "Saelim", "Srisuk", "Chaiyaporn", "Boonmee", "Thongchai", "Rattanakorn"]
EN_GIVEN = ["Emeka", "Mohammed", "Tan", "Aung", "Irfan", "Kofi", "Abdul", "Rahul"]
EN_FAMILY = ["Okonkwo", "Shaikh", "Chee Keong", "Ko Ko", "Mensah", "Rahman", "Sharma", "Kumar"]
_FOLD = str.maketrans("ăâđêôơưĂÂĐÊÔƠƯ", "aadeoouAADEOOU")


@dataclass(frozen=True)
class Labelled:
    parties: list[PartyInput]
    truth: dict[int, int]  # party id -> person
    agency: dict[int, str]  # party id -> the agency that holds the record


def _ascii(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c))


def _typo(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:])
    op = rng.randrange(3)
    if op == 0:
        return text[:i] + text[i + 1 :]
    if op == 1 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("aeiounrst") + text[i + 1 :]


def labelled_people(n: int = 2000, seed: int = 7) -> Labelled:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    agencies = ["VN-CUS", "LA-CUS", "TH-CUS", "CN-GACC", "MY-RMCD", "HK-C&ED"]
    parties: list[PartyInput] = []
    truth: dict[int, int] = {}
    holder: dict[int, str] = {}
    pid = 0
    for person in range(n):
        culture = rng.choices(["vn", "cn", "th", "other"], weights=[5, 2, 2, 1])[0]
        dob = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(17000))
        passport = f"{rng.choice('BCEKP')}{rng.randrange(10**7, 10**8)}"
        phone_digits = f"9{rng.randrange(10**7, 10**8)}"
        if culture == "vn":
            fam, mid, giv = rng.choice(VN_FAMILY), rng.choice(VN_MIDDLE), rng.choice(VN_GIVEN)
            forms = [f"{fam} {mid} {giv}", _ascii(f"{fam} {mid} {giv}"), _ascii(f"{fam} {mid} {giv}").upper(),
                     _ascii(f"{giv} {fam} {mid}")]  # fmt: skip
            nat, cc = "VN", "84"
        elif culture == "cn":
            (fh, fp), (gh, gp) = rng.choice(CN_FAMILY), rng.choice(CN_GIVEN)
            forms = [fh + gh, f"{fp} {gp}", f"{fp.upper()} {gp}", f"{gp} {fp}"]
            nat, cc = "CN", "86"
            phone_digits = f"13{rng.randrange(10**8, 10**9)}"
        elif culture == "th":
            g, f = rng.choice(TH_GIVEN), rng.choice(TH_FAMILY)
            forms = [f"{g} {f}", f"{f.upper()} {g}", f"Mr. {g} {f}", f"{g} {f}"]
            nat, cc = "TH", "66"
            phone_digits = f"8{rng.randrange(10**7, 10**8)}"
        else:
            g, f = rng.choice(EN_GIVEN), rng.choice(EN_FAMILY)
            forms = [f"{g} {f}", f"{f.upper()} {g}", f"{g} {f}", f"{g} {f}"]
            nat, cc = "MY", "60"
            phone_digits = f"12{rng.randrange(10**6, 10**7)}"
        for _ in range(rng.choices([1, 2, 3, 4], weights=[4, 3, 2, 1])[0]):
            pid += 1
            name = rng.choice(forms)
            if rng.random() < 0.15:
                name = _typo(rng, name)
            phone = None
            if rng.random() < 0.5:
                phone = f"+{cc} {phone_digits}" if rng.random() < 0.5 else f"0{phone_digits}"
            parties.append(PartyInput(
                pid, "person", name, nat if rng.random() < 0.85 else None,
                dob if rng.random() < 0.8 else None,
                (passport if rng.random() < 0.7 else passport[:1] + " " + passport[1:]) if rng.random() < 0.5 else None,
                phone, None, nat,
            ))  # fmt: skip
            truth[pid] = person
            holder[pid] = rng.choice(agencies)
    return Labelled(parties, truth, holder)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    found_pairs: int


def same_group_pairs(groups: Mapping[int, int]) -> set[tuple[int, int]]:
    """Pairs (low id, high id) of records in one group (truth: one person; clusters: one entity)."""
    by: dict[int, list[int]] = {}
    for pid, g in groups.items():
        by.setdefault(g, []).append(pid)
    out: set[tuple[int, int]] = set()
    for members in by.values():
        members.sort()
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return out


def pairwise_scores(truth: Mapping[int, int], clusters: Mapping[int, int]) -> Scores:
    """Precision, recall and F1 over pairs of records placed in one cluster."""
    true_pairs, found = same_group_pairs(truth), same_group_pairs(clusters)
    tp = len(true_pairs & found)
    p = tp / len(found) if found else 1.0
    r = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Scores(p, r, f1, len(true_pairs), len(found))


def clusters_from_pairs(ids: Iterable[int], pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    return connected_components(sorted(ids), pairs)
