"""Privacy-preserving record linkage: Bloom-filter encodings matched at the hub, with keyed blocking.

What an agency sends. Each agency normalises its parties exactly as the clear-text linkage does (`to_record`:
Unicode folding, Hanzi to pinyin, honorifics and company legal forms dropped, phones in E.164, passports as
upper-case codes) and encodes each party as one 1,472-bit filter made of per-field blocks (`FIELD_LAYOUT`):

- name: the bigrams of every name token (each token padded on its own), as a set: name order does not matter
  ("NGUYEN Van Thang" = "Thang Nguyen Van") and a typo changes a few bigrams only;
- birth date: year, month, day and the whole date as tokens (a wrong day keeps most bits);
- passport / id number: bigrams; phone, e-mail, nationality: one token each;
- address: the bigrams of every address token (street name and number, town; the generic words "street",
  "road", "district"... dropped by `normalise.address`), as a set like the name, so word order and a typo
  cost a few bits; postcode: its bigrams (one wrong digit keeps most of the block).

Each token sets `k` bits of its field's block at positions h1 + i * h2 (mod block size), h1 and h2 two
keyed hashes (HMAC-SHA256 under keys derived from the operation's shared secret): the scheme of Schnell,
Bachteler and Reiher ("Privacy-preserving record linkage using Bloom filters", BMC Med. Inform. Decis. Mak.
9:41, 2009), one filter per field as in their field-level variant, written with hashlib and numpy (clkhash
and anonlink pin old dependencies). A field the agency does not have leaves its block empty, so the hub
tells "unknown" from "different" (one record-level filter could not: a phone on one side only lowered the
Dice coefficient of true pairs, which cost most of the recall before).

Beside the filter, each encoding carries keyed blocking keys (`BLOCKING_RULES`): HMAC-SHA256 (a third key)
of the same blocking values the clear-text linkage joins on (sorted name tokens; name prefix + birth year;
id number; phone; e-mail; birth date; address tokens + birth year), truncated to 128 bits. The hub compares only
pairs that share a key, so its cost grows with the blocks, not with the square of the records.

What the hub does (`hub_match`): the Fellegi-Sunter model of the clear-text linkage, with Splink on DuckDB,
where each comparison is the Dice coefficient 2|A∩B| / (|A| + |B|) of the two records' field blocks
(`bit_count` over DuckDB BIT values) cut into levels. u probabilities come from random pairs, m probabilities
from expectation maximisation on pairs blocked on names and on birth dates, the prior from near-certain
keys; with fewer than `MIN_TRAINING_RECORDS` encodings the shipped defaults are used. A pair is reported when
its match probability reaches the threshold; `Match.dice` is the Dice coefficient over the fields both
records have (what analysts see).

What the hub learns: no name, date or number. Without the key nobody can test a guessed value against a
filter or a blocking key. The hub does see which fields a party has, which parties share a blocking key and
how similar two parties' fields are; with the key (members only) frequency attacks on field filters are
possible in principle, so encodings are not published.
"""

# ruff: noqa: S608  (the SQL below is assembled from code-defined field and rule names only)

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dragonnet.linkage.resolve import PartyInput, to_record

FILTER_BITS = 1472
DEFAULT_THRESHOLD = 0.8  # match probability at which the hub reports a pair (benchmarks/linkage_accuracy.py)
MIN_TRAINING_RECORDS = 300  # below this, the hub scores with DEFAULT_MODEL instead of estimating its own
MIN_EM_PAIRS = 50  # pairs sharing a key below which that EM session is skipped
BLOCKING_KEY_BYTES = 16

# Field -> (bits of its block, bits set per token). The blocks fill FILTER_BITS in this order.
FIELD_LAYOUT: dict[str, tuple[int, int]] = {
    "name": (512, 10),
    "birth_date": (128, 12),
    "id_norm": (192, 10),
    "phone": (64, 12),
    "email": (64, 12),
    "nationality": (64, 8),
    "address": (384, 5),
    "postcode": (64, 10),
}
assert sum(bits for bits, _k in FIELD_LAYOUT.values()) == FILTER_BITS

# Field -> Dice thresholds of its comparison levels, best first (below the last: "different").
LEVELS: dict[str, tuple[float, ...]] = {
    "name": (0.99, 0.85, 0.7),
    "birth_date": (0.99, 0.7),
    "id_norm": (0.99, 0.8),
    "phone": (0.99,),
    "email": (0.99,),
    "nationality": (0.99,),
    "address": (0.95, 0.75, 0.5),
    "postcode": (0.99, 0.6),
}

# The blocking rules (clear-text linkage: resolve.splink_settings) and whether a rule also requires the same kind.
BLOCKING_RULES: dict[str, bool] = {
    "name": True,
    "name_prefix_year": True,
    "id_norm": False,
    "phone": False,
    "email": False,
    "birth_date": True,
    "address": True,
}

# m and u per level (best level first, "different" last), used when there is too little to train on: u from
# random pairs and m from the true pairs of the labelled benchmark set (benchmarks/linkage_accuracy.py), with
# m of "different" raised for birth date, id number, phone and e-mail (the set has no errors in those fields).
DEFAULT_MODEL: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "name": ((0.73, 0.17, 0.08, 0.02), (0.0015, 0.001, 0.01, 0.9875)),
    "birth_date": ((0.95, 0.03, 0.02), (0.0005, 0.0005, 0.999)),
    "id_norm": ((0.95, 0.03, 0.02), (0.0004, 0.0001, 0.9995)),
    "phone": ((0.95, 0.05), (0.0015, 0.9985)),
    "email": ((0.95, 0.05), (0.001, 0.999)),
    "nationality": ((0.98, 0.02), (0.34, 0.66)),
    "address": ((0.6, 0.2, 0.12, 0.08), (0.0005, 0.002, 0.03, 0.9675)),
    "postcode": ((0.85, 0.1, 0.05), (0.004, 0.03, 0.966)),
}
DEFAULT_PRIOR = 1e-4  # probability that two random records match, when not estimated


@dataclass(frozen=True)
class Encoding:
    ref: str  # opaque to the hub: the sending agency maps it back to its party
    agency: str
    kind: str
    bits: bytes  # FILTER_BITS / 8 bytes: the field blocks of FIELD_LAYOUT, in order
    blocks: tuple[str, ...] = ()  # keyed blocking keys, "<rule>:<hex>" (BLOCKING_RULES)


@dataclass(frozen=True)
class Match:
    a: Encoding
    b: Encoding
    dice: float  # Dice coefficient over the fields both records have
    probability: float  # the hub's match probability (the threshold applies to it)


@dataclass
class HubResult:
    """What one matching at the hub found, and what it cost."""

    matches: list[Match]
    compared: int  # pairs scored (sharing a blocking key; all eligible pairs without blocking)
    eligible: int  # pairs the hub would score without blocking (same kind; other agency unless same_agency)
    trained: tuple[str, ...]  # estimated on these encodings ("u", "prior", "m:name-blocked"...), else DEFAULT_MODEL
    model: dict[str, Any] = field(default_factory=dict)


# --- encoding (at each agency) ------------------------------------------------------------------------------


def derive_keys(secret: bytes) -> tuple[bytes, bytes]:
    """Two hash keys from the operation's shared secret."""
    return (hmac.new(secret, b"dragonnet-clk-h1", hashlib.sha256).digest(),
            hmac.new(secret, b"dragonnet-clk-h2", hashlib.sha256).digest())  # fmt: skip


def blocking_key(secret: bytes) -> bytes:
    """The key of the blocking keys (a third key: a blocking key says nothing about the filter's hashes)."""
    return hmac.new(secret, b"dragonnet-pprl-blocking", hashlib.sha256).digest()


def bigrams(text: str) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def field_tokens(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """The tokens of each field of a normalised record (`to_record`); absent fields are left out."""
    out: dict[str, list[str]] = {}
    names = record.get("name_tokens") or []
    if names:
        out["name"] = sorted({g for token in names for g in bigrams(str(token))})
    if record.get("birth_date"):
        date = str(record["birth_date"])
        out["birth_date"] = [f"{label}{part}" for label, part in zip("ymd", date.split("-"), strict=False)]
        out["birth_date"].append(f"date{date}")
    if record.get("id_norm"):
        out["id_norm"] = bigrams(str(record["id_norm"]))
    for name in ("phone", "email", "nationality"):
        if record.get(name):
            out[name] = [str(record[name])]
    addresses = street_tokens(record)
    if addresses:
        out["address"] = sorted({g for token in addresses for g in bigrams(str(token))})
    if record.get("postcode"):
        out["postcode"] = bigrams(str(record["postcode"]))
    return out


def street_tokens(record: Mapping[str, Any]) -> list[str]:
    """The address tokens without the postcode (it has its own block, whether written in the address or apart)."""
    postcode = record.get("postcode")
    return [str(t) for t in record.get("address_tokens") or () if t != postcode]


def _positions(keys: tuple[bytes, bytes], name: str, token: str) -> list[int]:
    """The bits one token sets in its field's block."""
    size, k = FIELD_LAYOUT[name]
    data = f"{name}:{token}".encode()
    h1 = int.from_bytes(hmac.new(keys[0], data, hashlib.sha256).digest()[:8], "big")
    h2 = int.from_bytes(hmac.new(keys[1], data, hashlib.sha256).digest()[:8], "big")
    return [(h1 + i * h2) % size for i in range(k)]


def encode_record(
    record: Mapping[str, Any], keys: tuple[bytes, bytes], cache: dict[tuple[str, str], list[int]] | None = None
) -> np.ndarray:
    """The filter of one normalised record, as a 0/1 uint8 vector of FILTER_BITS (field blocks in order).

    `cache`: positions of tokens already hashed (bigrams, dates and countries recur), for one batch only."""
    tokens = field_tokens(record)
    seen = {} if cache is None else cache
    blocks = []
    for name, (size, _k) in FIELD_LAYOUT.items():
        block = np.zeros(size, dtype=np.uint8)
        for token in tokens.get(name, ()):
            positions = seen.get((name, token))
            if positions is None:
                positions = seen[(name, token)] = _positions(keys, name, token)
            block[positions] = 1
        blocks.append(block)
    return np.concatenate(blocks)


def blocking_values(record: Mapping[str, Any]) -> dict[str, str]:
    """The clear-text blocking values of a record (never sent: only their keyed hashes are)."""
    out: dict[str, str] = {}
    if record.get("name_key"):
        out["name"] = str(record["name_key"])
    if record.get("name_prefix") and record.get("birth_year"):
        out["name_prefix_year"] = f"{record['name_prefix']}|{record['birth_year']}"
    for name in ("id_norm", "phone", "email", "birth_date"):
        if record.get(name):
            out[name] = str(record[name])
    addresses = street_tokens(record)
    if addresses:  # the same address, and for a person the same birth year
        out["address"] = f"{' '.join(addresses)}|{record.get('birth_year') or ''}"
    return out


def blocking_keys(record: Mapping[str, Any], key: bytes) -> tuple[str, ...]:
    """Keyed blocking keys "<rule>:<hex>"; rules that compare within a kind include the kind in the hash."""
    return tuple(keyed_block(rule, value, record.get("kind"), key) for rule, value in blocking_values(record).items())


def keyed_block(rule: str, value: str, kind: object, key: bytes) -> str:
    """The keyed blocking key "<rule>:<hex>" of one clear-text blocking value (scoped by kind where the rule is)."""
    scoped = f"{kind}|{value}" if BLOCKING_RULES[rule] else value
    digest = hmac.new(key, f"{rule}|{scoped}".encode(), hashlib.sha256).digest()[:BLOCKING_KEY_BYTES]
    return f"{rule}:{digest.hex()}"


def encode_parties(
    parties: Iterable[PartyInput], agency: str, secret: bytes, *, ref_prefix: str = ""
) -> list[Encoding]:
    """What an agency sends to the hub: one encoding per party, no clear-text field."""
    keys, bkey = derive_keys(secret), blocking_key(secret)
    cache: dict[tuple[str, str], list[int]] = {}  # dropped with this call: no value outlives the batch
    out = []
    for p in parties:
        record = to_record(p)
        bits = np.packbits(encode_record(record, keys, cache)).tobytes()
        out.append(Encoding(f"{ref_prefix}{p.party_id}", agency, p.kind, bits, blocking_keys(record, bkey)))
    return out


# --- matching (at the hub) ----------------------------------------------------------------------------------


def _offsets() -> dict[str, tuple[int, int]]:
    out, start = {}, 0
    for name, (size, _k) in FIELD_LAYOUT.items():
        out[name] = (start // 8, (start + size) // 8)
        start += size
    return out


def field_blocks(bits: bytes) -> dict[str, bytes | None]:
    """The packed block of each field, None where the field is empty (unknown to the sender)."""
    return {name: (bits[a:b] if any(bits[a:b]) else None) for name, (a, b) in _offsets().items()}


def shared_dice(a: bytes, b: bytes) -> float:
    """Dice coefficient of two encodings over the fields both have."""
    x, y = np.frombuffer(a, dtype=np.uint8), np.frombuffer(b, dtype=np.uint8)
    inter = total = 0
    for lo, hi in _offsets().values():
        bx, by = np.unpackbits(x[lo:hi]), np.unpackbits(y[lo:hi])
        if bx.any() and by.any():
            inter += int(bx @ by)
            total += int(bx.sum() + by.sum())
    return 2 * inter / total if total else 0.0


def field_dice(a: bytes, b: bytes) -> dict[str, float]:
    """The Dice coefficient of each field both encodings have (the per-field evidence of a match)."""
    x, y = np.frombuffer(a, dtype=np.uint8), np.frombuffer(b, dtype=np.uint8)
    out = {}
    for name, (lo, hi) in _offsets().items():
        bx, by = np.unpackbits(x[lo:hi]), np.unpackbits(y[lo:hi])
        if bx.any() and by.any():
            out[name] = 2 * int(bx @ by) / int(bx.sum() + by.sum())
    return out


def _dice_sql(name: str) -> str:
    return f"(2.0 * bit_count({name}_l & {name}_r) / (bit_count({name}_l) + bit_count({name}_r)))"


def splink_settings(*, same_agency: bool, blocking: bool = True) -> Any:
    """The hub's Splink model: Dice levels per field block starting from DEFAULT_MODEL; blocking on the keyed
    blocking keys (all pairs of one kind without `blocking`)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator
    from splink.blocking_rule_library import CustomRule

    comparisons: list[Any] = []
    for name, cuts in LEVELS.items():
        m, u = DEFAULT_MODEL[name]
        levels: list[Any] = [cll.NullLevel(name)]
        for i, cut in enumerate(cuts):
            level = cll.CustomLevel(f"{_dice_sql(name)} >= {cut}", label_for_charts=f"Dice >= {cut}")
            levels.append(level.configure(m_probability=m[i], u_probability=u[i]))
        levels.append(cll.ElseLevel().configure(m_probability=m[-1], u_probability=u[-1]))
        comparisons.append(cl.CustomComparison(levels, output_column_name=name))
    other_agency = "" if same_agency else " AND l.agency <> r.agency"
    rules: list[Any]
    if blocking:
        rules = [
            CustomRule(f"l.bk_{rule} = r.bk_{rule}" + (" AND l.kind = r.kind" if by_kind else "") + other_agency)
            for rule, by_kind in BLOCKING_RULES.items()
        ]
    else:
        rules = [CustomRule("l.kind = r.kind" + other_agency)]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        probability_two_random_records_match=DEFAULT_PRIOR,
    )


def _load(con: Any, encodings: Sequence[Encoding]) -> None:
    """The encodings as a DuckDB table: one BIT column per field block, one column per blocking rule."""
    import pyarrow as pa

    blocks = [field_blocks(e.bits) for e in encodings]
    keys = [dict(k.split(":", 1) for k in e.blocks) for e in encodings]
    columns: dict[str, Any] = {
        "unique_id": pa.array(range(len(encodings)), pa.int64()),
        "agency": pa.array([e.agency for e in encodings], pa.string()),
        "kind": pa.array([e.kind for e in encodings], pa.string()),
    }
    for name in FIELD_LAYOUT:
        columns[f"raw_{name}"] = pa.array([b[name] for b in blocks], pa.binary())
    for rule in BLOCKING_RULES:
        columns[f"bk_{rule}"] = pa.array([k.get(rule) for k in keys], pa.string())
    con.register("encodings_in", pa.table(columns))
    bits = ", ".join(f"CAST(raw_{name} AS BIT) AS {name}" for name in FIELD_LAYOUT)
    keycols = ", ".join(f"bk_{rule}" for rule in BLOCKING_RULES)
    con.execute(f"CREATE TABLE encodings AS SELECT unique_id, agency, kind, {bits}, {keycols} FROM encodings_in")
    con.unregister("encodings_in")


def _eligible(encodings: Sequence[Encoding], same_agency: bool) -> int:
    by_kind: dict[str, dict[str, int]] = {}
    for e in encodings:
        per = by_kind.setdefault(e.kind, {})
        per[e.agency] = per.get(e.agency, 0) + 1
    total = 0
    for per in by_kind.values():
        n = sum(per.values())
        total += n * (n - 1) // 2
        if not same_agency:
            total -= sum(c * (c - 1) // 2 for c in per.values())
    return total


def _pairs_sharing(con: Any, *columns: str) -> int:
    """How many pairs of encodings agree on all `columns` (none of them empty)."""
    cols = ", ".join(columns)
    known = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    rows = con.execute(
        f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM encodings WHERE {known} "
        f"GROUP BY {cols})"
    ).fetchall()
    return int(rows[0][0])


def _train(con: Any, linker: Any, seed: int) -> tuple[str, ...]:
    """Estimate what these encodings allow: u from random pairs; the prior from near-certain keys; m by
    expectation maximisation on pairs sharing a name key (all but the name) and a birth date (all but the birth
    date). A step without enough pairs keeps DEFAULT_MODEL's values (Splink cannot estimate from nothing)."""
    from splink.blocking_rule_library import CustomRule

    done = ["u"]
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    if _pairs_sharing(con, "kind", "bk_id_norm") and _pairs_sharing(con, "bk_name", "bk_birth_date"):
        linker.training.estimate_probability_two_random_records_match(
            [CustomRule("l.bk_id_norm = r.bk_id_norm AND l.kind = r.kind"),
             CustomRule("l.bk_name = r.bk_name AND l.bk_birth_date = r.bk_birth_date")],
            recall=0.7,
        )  # fmt: skip
        done.append("prior")
    for rule in ("name", "birth_date"):
        if _pairs_sharing(con, f"bk_{rule}") >= MIN_EM_PAIRS:
            linker.training.estimate_parameters_using_expectation_maximisation(
                CustomRule(f"l.bk_{rule} = r.bk_{rule}"), estimate_without_term_frequencies=True
            )
            done.append(f"m:{rule}-blocked")
    return tuple(done)


def hub_match(
    encodings: Sequence[Encoding],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    same_agency: bool = False,
    blocking: bool = True,
    train: bool | None = None,
    seed: int = 7,
    count_below: int | None = None,
) -> HubResult:
    """Score the pairs of encodings that share a blocking key (all pairs without `blocking`) and keep those at
    `threshold`; pairs are of one kind and of different agencies unless `same_agency`. `train`: estimate the
    model on these encodings (default: when there are at least MIN_TRAINING_RECORDS). `count_below`: `compared`
    counts only the pairs of the first `count_below` encodings (the others are matched but counted nowhere)."""
    eligible = _eligible(encodings, same_agency)
    if eligible == 0:
        return HubResult([], 0, 0, ())
    import duckdb
    from splink import DuckDBAPI, Linker

    if train is None:
        train = len(encodings) >= MIN_TRAINING_RECORDS
    con = duckdb.connect(":memory:")
    try:
        _load(con, encodings)
        settings = splink_settings(same_agency=same_agency, blocking=blocking)
        linker = Linker(DuckDBAPI(connection=con).register("encodings"), settings, log_level=logging.ERROR)
        trained = _train(con, linker, seed) if train else ()
        predictions = linker.inference.predict()
        table = predictions.physical_name
        below = len(encodings) if count_below is None else int(count_below)
        compared = int(con.execute(
            f"SELECT count(*) FROM {table} WHERE unique_id_l < ? AND unique_id_r < ?", [below, below]
        ).fetchall()[0][0])  # fmt: skip
        found = con.execute(
            f"SELECT unique_id_l, unique_id_r, match_probability FROM {table} WHERE match_probability >= ? "
            "ORDER BY unique_id_l, unique_id_r",
            [threshold],
        ).fetchall()
        model = linker.misc.save_model_to_json()
    finally:
        con.close()
    matches = []
    for left, right, probability in found:
        a, b = encodings[int(left)], encodings[int(right)]
        matches.append(Match(a, b, shared_dice(a.bits, b.bits), float(probability)))
    matches.sort(key=lambda m: (-m.probability, -m.dice, m.a.ref, m.b.ref))
    return HubResult(matches, compared, eligible, trained, model)


def match(
    encodings: Sequence[Encoding], *, threshold: float = DEFAULT_THRESHOLD, same_agency: bool = False
) -> list[Match]:
    """Pairs of encodings (same kind; different agencies unless `same_agency`) the hub reports as matches."""
    return hub_match(encodings, threshold=threshold, same_agency=same_agency).matches
