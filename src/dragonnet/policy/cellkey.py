"""Statistics that cannot be differenced: the cell-key method (consistent perturbation).

The small-cell rule alone (counts 1-4 shown as "<5") is undone by subtraction: a country's 59 cases minus its
57 drug cases, 0 precursor and 0 timber cases leaves its suppressed wildlife cases, 2. So every figure the
small-cell rule protects is first perturbed, the way national statistical offices publish census tables
(the Australian Bureau of Statistics' TableBuilder, the cell-key method of the European census 2021):

* every record has a key, and a cell's key is computed from the records it counts, with the site's secret
  (`CellKey`, the secret in `site_keys`): the same cell gets the same noise whichever table, filter, page,
  export or request it is reached through, so asking again or asking another way gives the same number;
* two different cells (59 cases and the 57 of them that are drug cases) get independent noise, so a
  difference of two answers is the hidden value plus noise, which the reader cannot take apart;
* then the small-cell rule applies to the perturbed count (1-4 shown as "<5").

How a cell's key is made from its records, whatever the SQL that counted them: a record falls in eight
fixed subsets (`subset_bits`, bits of a multiplicative hash of its id); the cell is counted once in full
and once within each subset, and the key is HMAC-SHA256(secret, those nine numbers). Equal record sets give
equal numbers whatever query counted them; a cell and the same cell minus a record always differ in the
full count. A sum (arrests, items) is sketched the same way from its own values.

The noise of a count n >= 1 (`noise_table`): 0 with weight 0.4, +-k with weight 0.3 x 0.65 x 0.35^(k-1), up to
+-20, never below 1 - n (a non-zero count is never shown as 0; 0 stays 0). 93% of the noise is within +-2,
99.7% within +-5 (variance 1.9); it reaches +-20 with probability 4e-10, so that no answer tells where the
noise of a cell must have ended (a bound reached often would pin values down).
Amounts (kg) get a relative noise of 5-10% either way, keyed on the records of the count they depend on.

Which figures are exact: the case count of a whole phase of the operation (every counted case of the phase,
no filter: the operation's published figures, e.g. 1,715 cases in phase V), given by `exact` sketches.
Totals and parts are separate cells; a part is never shown above its whole (`at_most`), and figures derived
from counts (changes, percentages) are computed from the figures shown. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import BigInteger, ColumnElement, cast, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dragonnet.storage.models import SiteKey

SMALL_CELL = 5  # counts 1..SMALL_CELL-1 are shown as "<5" (policy.access.SMALL_CELL_THRESHOLD)
SUBSETS = 8
HASH_MULTIPLIER = 2654435761  # Knuth's multiplicative hash (a prime near 2^32 / phi)
MAX_NOISE = 20
ZERO_WEIGHT = 0.4
DECAY = 0.35
AMOUNT_NOISE = (0.05, 0.10)  # relative noise of an amount: at least 5%, at most 10%, either way
PURPOSE = "cell-key"


# --- record keys: the subsets a record falls in --------------------------------------------------------------


def subset_bits(record_id: int) -> int:
    """The subsets (bits 0..SUBSETS-1) a record falls in: the top 8 bits of a 32-bit multiplicative hash."""
    return ((record_id * HASH_MULTIPLIER) % 4294967296) >> (32 - SUBSETS)


def subset_bits_sql(column: str) -> str:
    """`subset_bits` as a DuckDB expression over an integer column (a trusted column name)."""
    return f"((CAST({column} AS BIGINT) * {HASH_MULTIPLIER}) % 4294967296) // {2 ** (32 - SUBSETS)}"


def subset_bits_expr(column: ColumnElement[int]) -> ColumnElement[int]:
    """`subset_bits` as a SQLAlchemy expression (SQLite and PostgreSQL integer arithmetic)."""
    return ((cast(column, BigInteger) * HASH_MULTIPLIER) % 4294967296) // (2 ** (32 - SUBSETS))


# --- sketches: what a cell's key is computed from -------------------------------------------------------------


@dataclass(frozen=True)
class Sketch:
    """A cell's value, and its value within each of the SUBSETS subsets of records."""

    value: float
    parts: tuple[float, ...]

    def text(self) -> str:
        def fmt(v: float) -> str:
            return str(int(v)) if float(v).is_integer() else f"{v:.6f}"

        return ";".join([fmt(self.value), *(fmt(p) for p in self.parts)])


def sketches(records: Iterable[tuple[Hashable, int, float]]) -> dict[Hashable, Sketch]:
    """(cell, record id, weight) triples -> each cell's sketch (weight 1 for a count)."""
    acc: dict[Hashable, list[float]] = {}
    for cell, record_id, weight in records:
        row = acc.setdefault(cell, [0.0] * (SUBSETS + 1))
        row[0] += weight
        bits = subset_bits(record_id)
        for j in range(SUBSETS):
            if bits >> j & 1:
                row[j + 1] += weight
    return {cell: Sketch(v[0], tuple(v[1:])) for cell, v in acc.items()}


def from_subsets(value: float, by_subset: Sequence[float]) -> Sketch:
    if len(by_subset) != SUBSETS:
        raise ValueError(f"a sketch has {SUBSETS} subset values, not {len(by_subset)}")
    return Sketch(value, tuple(by_subset))


# --- the noise ----------------------------------------------------------------------------------------------


def _weight(e: int) -> float:
    if e == 0:
        return ZERO_WEIGHT
    return (1 - ZERO_WEIGHT) / 2 * (1 - DECAY) * DECAY ** (abs(e) - 1)


@cache
def noise_table(n: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The noises a count n >= 1 may get and their cumulative probabilities (the "p-table")."""
    low = max(1 - n, -MAX_NOISE)
    values = tuple(range(low, MAX_NOISE + 1))
    weights = [_weight(e) for e in values]
    total = sum(weights)
    cumulative, running = [], 0.0
    for w in weights:
        running += w / total
        cumulative.append(running)
    cumulative[-1] = 1.0
    return values, tuple(cumulative)


def noise_for(n: int, u: float) -> int:
    """The noise of count `n` for a cell whose key is `u` in [0, 1)."""
    if n <= 0:
        return 0
    values, cumulative = noise_table(min(n, MAX_NOISE + 1))
    return values[min(bisect_right(cumulative, u), len(values) - 1)]


@dataclass(frozen=True)
class CellKey:
    """The site's perturbation: the same sketch always gets the same noise."""

    secret: bytes

    def uniform(self, label: str, sketch: Sketch) -> float:
        digest = hmac.new(self.secret, f"{label}|{sketch.text()}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def count(self, sketch: Sketch, exact: frozenset[Sketch] = frozenset()) -> int:
        """The perturbed count of a cell (0 stays 0; a sketch in `exact` is published as it is)."""
        n = round(sketch.value)
        if n <= 0 or sketch in exact:
            return n
        return n + noise_for(n, self.uniform("count", sketch))

    def amount(self, value: float, sketch: Sketch, measure: str) -> float:
        """An amount (e.g. kg) with a relative noise of 5-10% either way, keyed on `sketch` (its records)."""
        if value == 0:
            return value
        u = self.uniform(f"amount:{measure}", sketch)
        sign = 1.0 if u < 0.5 else -1.0
        low, high = AMOUNT_NOISE
        return value * (1.0 + sign * (low + (high - low) * ((u * 2.0) % 1.0)))


def shown(perturbed: int | None) -> int | None:
    """The small-cell rule on a perturbed count: 1..SMALL_CELL-1 are withheld (None, shown "<5")."""
    if perturbed is None or perturbed == 0 or perturbed >= SMALL_CELL:
        return perturbed
    return None


def at_most(value: int | None, whole: int | None) -> int | None:
    """A part is never shown above its whole."""
    if value is None or whole is None:
        return value
    return min(value, whole)


# --- the secret -----------------------------------------------------------------------------------------------


def cell_key(session: Session) -> CellKey:
    """The site's cell key (created by migration 0015; made here if a database lacks it)."""
    found = session.execute(select(SiteKey.secret).where(SiteKey.purpose == PURPOSE)).scalar_one_or_none()
    if found is None:
        try:
            with session.begin_nested():
                session.add(SiteKey(purpose=PURPOSE, secret=secrets.token_hex(32)))
        except IntegrityError:  # another process made it first
            pass
        found = session.execute(select(SiteKey.secret).where(SiteKey.purpose == PURPOSE)).scalar_one()
    return CellKey(bytes.fromhex(found))
