"""Privacy-preserving record linkage: Bloom-filter encodings (CLKs) matched by Dice similarity at the hub.

The scheme is Schnell, Bachteler and Reiher's cryptographic long-term key ("Privacy-preserving record linkage
using Bloom filters", BMC Med. Inform. Decis. Mak. 9:41, 2009), as clkhash implements it: each field is cut into
q-grams (bigrams, padded) or kept as one token; each token sets `k` bits of one `L`-bit filter at positions
h1 + i * h2 (mod L), with h1 and h2 two keyed hashes (here HMAC-SHA256 under two keys derived from the
operation's shared secret). clkhash/anonlink were not used (they pin old dependencies); this is the same
encoding written with hashlib and numpy.

Each agency encodes its own parties (`encode_parties`) and sends the hub only `Encoding`s: an opaque
reference it can resolve itself, the party kind and the filter bits. The hub (`match`) compares encodings
of different agencies and reports pairs whose Dice coefficient 2|A∩B| / (|A| + |B|) reaches the threshold.
Without the key nobody can test a guessed name against a filter; with it, frequency attacks on filters are
still possible in principle, so the key is shared among the operation's members only and encodings are not
published.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dragonnet.linkage.resolve import PartyInput, to_record

FILTER_BITS = 1024
DEFAULT_THRESHOLD = 0.92

# Field -> (tokenisation, bits per token). Names weigh most; dates and identifiers add exact-token evidence.
FIELD_SPEC: dict[str, tuple[str, int]] = {
    "name": ("bigram", 15),
    "birth_date": ("parts", 20),
    "id_norm": ("bigram", 10),
    "phone": ("token", 30),
    "email": ("token", 30),
    "nationality": ("token", 5),
}


@dataclass(frozen=True)
class Encoding:
    ref: str  # opaque to the hub: the sending agency maps it back to its party
    agency: str
    kind: str
    bits: bytes  # FILTER_BITS / 8 bytes


@dataclass(frozen=True)
class Match:
    a: Encoding
    b: Encoding
    dice: float


def derive_keys(secret: bytes) -> tuple[bytes, bytes]:
    """Two hash keys from the operation's shared secret."""
    return (hmac.new(secret, b"dragonnet-clk-h1", hashlib.sha256).digest(),
            hmac.new(secret, b"dragonnet-clk-h2", hashlib.sha256).digest())  # fmt: skip


def bigrams(text: str) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def tokens(record: dict[str, object]) -> list[tuple[str, int]]:
    """(token, k) pairs of a normalised record; tokens are prefixed with their field (one filter per record)."""
    out: list[tuple[str, int]] = []
    for fieldname, (how, k) in FIELD_SPEC.items():
        value = record.get("name_key") if fieldname == "name" else record.get(fieldname)
        if value is None or value == "":
            continue
        text = str(value)
        if how == "bigram":
            out += [(f"{fieldname}:{g}", k) for g in bigrams(text)]
        elif how == "parts":
            out += [(f"{fieldname}:{i}:{part}", k) for i, part in enumerate(text.split("-"))]
        else:
            out.append((f"{fieldname}:{text}", k))
    return out


def encode_record(record: dict[str, object], keys: tuple[bytes, bytes], bits: int = FILTER_BITS) -> np.ndarray:
    """The CLK of one normalised record, as a 0/1 uint8 vector of length `bits`."""
    filt = np.zeros(bits, dtype=np.uint8)
    k1, k2 = keys
    for token, k in tokens(record):
        data = token.encode("utf-8")
        h1 = int.from_bytes(hmac.new(k1, data, hashlib.sha256).digest()[:8], "big")
        h2 = int.from_bytes(hmac.new(k2, data, hashlib.sha256).digest()[:8], "big")
        idx = [(h1 + i * h2) % bits for i in range(k)]
        filt[idx] = 1
    return filt


def encode_parties(
    parties: Iterable[PartyInput], agency: str, secret: bytes, *, ref_prefix: str = ""
) -> list[Encoding]:
    """What an agency sends to the hub: one encoding per party, no clear-text field."""
    keys = derive_keys(secret)
    return [
        Encoding(f"{ref_prefix}{p.party_id}", agency, p.kind, np.packbits(encode_record(to_record(p), keys)).tobytes())
        for p in parties
    ]


def _matrix(encodings: Sequence[Encoding]) -> np.ndarray:
    packed = np.frombuffer(b"".join(e.bits for e in encodings), dtype=np.uint8).reshape(len(encodings), -1)
    return np.unpackbits(packed, axis=1).astype(np.float32)


def match(
    encodings: Sequence[Encoding], *, threshold: float = DEFAULT_THRESHOLD, block: int = 2048, same_agency: bool = False
) -> list[Match]:
    """All pairs of encodings (same kind; different agencies unless `same_agency`) with Dice >= threshold."""
    out: list[Match] = []
    by_kind: dict[str, list[Encoding]] = {}
    for e in encodings:
        by_kind.setdefault(e.kind, []).append(e)
    for group in by_kind.values():
        m = _matrix(group)
        pop = m.sum(axis=1)
        agencies = np.array([e.agency for e in group])
        n = len(group)
        for start in range(0, n, block):
            stop = min(start + block, n)
            inter = m[start:stop] @ m.T
            denom = pop[start:stop, None] + pop[None, :]
            dice = np.divide(2 * inter, denom, out=np.zeros_like(inter), where=denom > 0)
            rows, cols = np.nonzero(dice >= threshold)
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                i = start + r
                if c <= i:
                    continue
                if not same_agency and agencies[i] == agencies[c]:
                    continue
                out.append(Match(group[i], group[c], float(dice[r, c])))
    out.sort(key=lambda x: (-x.dice, x.a.ref, x.b.ref))
    return out
