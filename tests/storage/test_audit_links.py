"""`audit_chain._links` (the batch encoder that chains `record_many`'s entries and the append round's) gives each
entry exactly `_entry_hash`'s hash, the definition `verify` recomputes: the same sorted compact JSON, whatever the
values (odd characters, nulls, nested and unsorted details, values JSON does not know) and however the shared
parts (time, actor, action, object type) change from one entry to the next."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from typing import Any

from dragonnet.storage.audit_chain import GENESIS, AuditActor, _entry_hash, _links

ODD_TEXT = ["", "plain", 'quote " and \\ backslash', "tab\tnew\nline\r", "ünïcödé 中文 ✓", "\x00\x1f\x7f", "emoji 🐉",
            "</script>", "\u2028\u2029"]  # fmt: skip


def _reference(seq: int, prev: str, rows: list[tuple[Any, ...]]) -> list[tuple[int, str, str]]:
    links = []
    for at, user_id, username, agency, address, action, object_type, object_id, detail in rows:
        seq += 1
        digest = _entry_hash(prev, seq, at, AuditActor(user_id, username, agency, address), action, object_type,
                             object_id, detail)  # fmt: skip
        links.append((seq, prev, digest))
        prev = digest
    return links


def _detail(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for _ in range(rng.randint(0, 6)):
        key = rng.choice([*ODD_TEXT, "z", "a", "Z", "10", "9", "case_ref", "bulk"])
        pick = rng.randrange(9)
        if pick == 0 and depth < 2:
            detail[key] = _detail(rng, depth + 1)
        elif pick == 1:
            detail[key] = [rng.choice(ODD_TEXT), rng.randint(-5, 5), None, rng.random() * 1e6]
        elif pick == 2:
            detail[key] = rng.choice([True, False, None])
        elif pick == 3:
            detail[key] = rng.choice([0, -1, 2**63, 1.5, 1e-7, float("inf")])
        elif pick == 4:  # not JSON: encoded by `default=str`, as `_entry_hash` does
            detail[key] = rng.choice([decimal.Decimal("1.10"), dt.date(2026, 12, 6)])
        else:
            detail[key] = rng.choice(ODD_TEXT)
    return detail


def test_links_are_the_entry_hashes_of_a_bulk_batch() -> None:
    at = dt.datetime(2026, 12, 6, 20, 0, 0, 123456, tzinfo=dt.UTC)
    rows = [(at, 7, "bulk.reporter", "VN-CUS", None, "case.create", "case", str(100 + n),
             {"case_ref": f"B-{n:07d}", "status": "draft", "items": 2, "parties": 0, "warnings": 0, "bulk": True})
            for n in range(300)]  # fmt: skip
    assert _links(0, GENESIS, rows) == _reference(0, GENESIS, rows)
    assert _links(41, "f" * 64, rows) == _reference(41, "f" * 64, rows)


def test_links_are_the_entry_hashes_of_odd_entries() -> None:
    rng = random.Random(2026)
    zones = [dt.UTC, dt.timezone(dt.timedelta(hours=7)), dt.timezone(dt.timedelta(hours=-3, minutes=-30))]
    base = dt.datetime(2026, 12, 6, 23, 59, 59, 999999, tzinfo=dt.UTC)
    rows: list[tuple[Any, ...]] = []
    for n in range(600):
        if n and rng.random() < 0.6:  # the shared parts as the entry before, then changing one at a time
            previous = list(rows[-1])
            previous[rng.randrange(7)] = rng.choice([None, *ODD_TEXT[:4]]) if rng.random() < 0.3 else previous[0]
            if not isinstance(previous[0], dt.datetime):
                previous[0] = base
            rows.append((*previous[:7], rng.choice([None, str(n), *ODD_TEXT]), _detail(rng)))
            continue
        at = (base + dt.timedelta(microseconds=rng.randint(0, 10**9))).astimezone(rng.choice(zones))
        user_id = rng.choice([None, 0, 1, 2**40, True, False, 1.0])
        actor = (rng.choice([None, *ODD_TEXT]), rng.choice([None, "VN-CUS", *ODD_TEXT]),
                 rng.choice([None, "127.0.0.1", "::1", *ODD_TEXT]))  # fmt: skip
        action, object_type = rng.choice(["case.create", *ODD_TEXT]), rng.choice([None, "case", *ODD_TEXT])
        rows.append((at, user_id, *actor, action, object_type, rng.choice([None, str(n), *ODD_TEXT]), _detail(rng)))
    equal_but_encoded_apart = [(base, user_id, "u", None, None, "a", None, None, {}) for user_id in (1, True, 1.0, 1)]
    assert _links(0, GENESIS, equal_but_encoded_apart) == _reference(0, GENESIS, equal_but_encoded_apart)
    assert _links(0, GENESIS, rows) == _reference(0, GENESIS, rows)
    for start in (1, 17, 599):
        assert _links(start, "a" * 64, rows[start:]) == _reference(start, "a" * 64, rows[start:])
