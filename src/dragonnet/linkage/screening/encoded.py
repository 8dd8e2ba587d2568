"""Privacy-preserving screening: a list is encoded where it is, and only its encodings reach the hub.

At the sender (a national instance, an agency without the hub's database): `encode_list` reads the list with the
clear screening's reader (same columns, synonyms and per-row checks) and encodes every row as the hub's
privacy-preserving linkage encodes a party (`pprl.encode_parties`: field-level Bloom filters and keyed blocking
keys under the operation's shared linkage key). The encoded file holds, per row, its number, kind, filter and
blocking keys; of the rows that could not be encoded, their number, the column and the reason with every value
taken out. No name, date, number or address leaves the sender; a key fingerprint (an HMAC of a fixed text under
the key, which tells nothing about the key) lets the hub say "encoded with another key" instead of finding nothing.

At the hub: `screen_encoded` is the door (policy, extract, audit). It encodes the reference records the actor may
see (case parties under the nominal rule, the actor's agency's declared parties, as the clear screening's
extract) with the same key, and `match_encoded` scores list x reference pairs sharing a keyed blocking key with
the hub's Fellegi-Sunter model over per-field Dice coefficients (`pprl.hub_match`). `match_encoded` returns
(row, party_id, evidence, probability) tuples, so other flows (hit/no-hit notices) can reuse it. The actor's
watchlist is matched through keyed blocking keys (the same HMAC of the watched name, document, phone or e-mail).

Records the actor may not see follow the hit / no-hit rule as in the clear screening (`screening.notices`): the
hub encodes the hidden eligible parties (`policy.matches.screening_hidden_parties`) in the same run, so that the
run's time does not depend on what is hidden, and a hit on one becomes a screening notice, "agency X holds a record
matching row N of your list". There are no clear values to keep with it: the notice keeps the row's number, its
kind and the digests of the list and of the row's encodings (`notices.encoded_row_data`); the same encodings keep
the same notice number when the list is screened again.

Nothing else of the list is stored: the audit entry holds counts, the file's SHA-256 and the ids of records shown
and of the notices.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.linkage import normalise, pprl
from dragonnet.linkage.extract import extract
from dragonnet.linkage.screening import exports
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD
from dragonnet.linkage.screening.notices import (
    HiddenReference,
    NoticeHit,
    SubmittedRow,
    encoded_row_data,
    encoded_row_key,
    hidden_reference,
    record_notices,
)
from dragonnet.linkage.screening.reader import KINDS, MAX_ROWS, ListReport, read_list
from dragonnet.linkage.screening.service import (
    Source,
    _case_reference,
    _declaration_reference,
    audit_run,
    parse_kind,
    threshold_for,
)
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import Actor, PermissionDenied, may_screen
from dragonnet.progress import Progress, no_progress
from dragonnet.storage.messaging_models import WatchlistEntry
from dragonnet.storage.models import Operation
from dragonnet.tabular import MAX_BYTES, ImportRejected, RowError

FORMAT = "dragonnet-screening-encoded"
VERSION = 1
LIST_SIDE, REFERENCE_SIDE = "list", "reference"  # the "agencies" of the two sides at the hub: pairs across only
HIDDEN_REF = "hidden:"  # the refs of hidden reference records at the hub (matched, counted nowhere)
FIELD_LABELS = {"id_norm": "id_number"}  # the encodings' field names as the clear screening's evidence names them
_BLOCK = re.compile(r"^([a-z_]+):([0-9a-f]{32})$")
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\d{4}-\d{2}-\d{2}")  # quoted values and dates in a row problem's reason


def key_fingerprint(secret: bytes) -> str:
    """What the hub compares to tell a list encoded under another key (an HMAC: the key cannot be read back)."""
    return hmac.new(secret, b"dragonnet-pprl-key-check", hashlib.sha256).hexdigest()[:16]


def layout() -> dict[str, Any]:
    """The encoding's layout: a file encoded under another layout cannot be compared and is refused."""
    return {
        "filter_bits": pprl.FILTER_BITS,
        "fields": [[name, bits, k] for name, (bits, k) in pprl.FIELD_LAYOUT.items()],
        "blocking": list(pprl.BLOCKING_RULES),
    }


@dataclass(frozen=True)
class EncodedRow:
    row: int  # the row number in the sender's file
    kind: str
    bits: bytes
    blocks: tuple[str, ...]


@dataclass
class EncodedList:
    """What the sender sends: encodings, and the numbers of the rows not encoded (reasons without values)."""

    kind: str
    key_check: str
    rows: list[EncodedRow]
    rows_read: int
    quarantined: list[RowError] = field(default_factory=list)
    notes: list[RowError] = field(default_factory=list)

    @property
    def quarantined_rows(self) -> int:
        return len({e.row for e in self.quarantined})

    def to_json(self) -> dict[str, Any]:
        def problems(errors: list[RowError]) -> list[dict[str, Any]]:
            return [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]

        return {
            "format": FORMAT, "version": VERSION, "layout": layout(), "key_check": self.key_check,
            "kind": self.kind, "rows_read": self.rows_read,
            "rows": [{"row": r.row, "kind": r.kind, "bits": base64.b64encode(r.bits).decode("ascii"),
                      "blocks": list(r.blocks)} for r in self.rows],
            "quarantined": problems(self.quarantined), "notes": problems(self.notes),
        }  # fmt: skip

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode("ascii")


# --- at the sender ----------------------------------------------------------------------------------------------


def _without_values(e: RowError) -> RowError:
    reason = _VALUES.sub("…", e.reason)
    if e.value:
        reason = reason.replace(e.value, "…")
    return RowError(e.row, e.column, None, reason, sheet=e.sheet)


def encode_list(data: bytes, filename: str, secret: bytes, *, kind: str = "persons") -> tuple[EncodedList, ListReport]:
    """Read and encode a list to screen. Returns the encoded list (what is sent) and the reader's full report
    (rows, values and reasons: what the sender keeps and shows locally)."""
    party_kind = parse_kind(kind)
    report = read_list(data, filename, kind=party_kind)
    encodings = pprl.encode_parties([r.party for r in report.rows], LIST_SIDE, secret)
    rows = [EncodedRow(int(e.ref), e.kind, e.bits, e.blocks) for e in encodings]
    encoded = EncodedList(party_kind, key_fingerprint(secret), rows, report.rows_read,
                          [_without_values(e) for e in report.quarantined],
                          [_without_values(e) for e in report.notes])  # fmt: skip
    return encoded, report


# --- reading an encoded file at the hub -------------------------------------------------------------------------


def looks_encoded(data: bytes) -> bool:
    """Whether a file claims to be an encoded list (then it is read as one, and refused if it is not valid)."""
    return data.lstrip()[:1] == b"{" and FORMAT.encode() in data[:4096]


def _problems(raw: object, name: str, what: str) -> list[RowError]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ImportRejected(f"{name}: {what} must be a list")
    out = []
    for entry in raw:
        if not (isinstance(entry, dict) and isinstance(entry.get("row"), int) and isinstance(entry.get("column"), str)
                and isinstance(entry.get("reason"), str)):  # fmt: skip
            raise ImportRejected(f"{name}: each of {what} needs a row number, a column and a reason")
        out.append(RowError(entry["row"], entry["column"][:64], None, entry["reason"][:300], sheet="list"))
    return out


def _row(entry: object, index: int, name: str, kind: str) -> EncodedRow:
    where = f"{name}: encoded row {index + 1}"
    if not isinstance(entry, dict) or not isinstance(entry.get("row"), int) or entry["row"] < 1:
        raise ImportRejected(f"{where}: needs a row number")
    row_kind = entry.get("kind", kind)
    if row_kind not in KINDS:
        raise ImportRejected(f"{where}: kind must be person or company")
    try:
        bits = base64.b64decode(str(entry.get("bits", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ImportRejected(f"{where}: its filter is not base64") from None
    if len(bits) != pprl.FILTER_BITS // 8:
        raise ImportRejected(f"{where}: its filter has {len(bits) * 8} bits, not {pprl.FILTER_BITS}")
    blocks = entry.get("blocks", [])
    if not isinstance(blocks, list):
        raise ImportRejected(f"{where}: blocks must be a list")
    for block in blocks:
        found = _BLOCK.match(block) if isinstance(block, str) else None
        if found is None or found[1] not in pprl.BLOCKING_RULES:
            raise ImportRejected(f"{where}: {str(block)[:40]!r} is not a keyed blocking key")
    return EncodedRow(entry["row"], row_kind, bits, tuple(blocks))


def load_encoded(data: bytes, name: str) -> EncodedList:
    """An encoded list as `encode_list` writes it, checked; ImportRejected (one message) for anything else."""
    if len(data) > MAX_BYTES:
        raise ImportRejected(f"{name}: {len(data) / 1e6:.0f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit")
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportRejected(
            f"{name}: not an encoded list (not JSON); encode a list with `dragonnet screen encode`"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ImportRejected(f"{name}: not an encoded list (no format {FORMAT!r}); encode it with "
                             "`dragonnet screen encode`")  # fmt: skip
    if raw.get("version") != VERSION or raw.get("layout") != layout():
        raise ImportRejected(
            f"{name}: encoded by another version of dragonnet (format version {raw.get('version')!r}, another "
            "filter layout); encode the list again with this one"
        )
    kind, key_check = raw.get("kind"), raw.get("key_check")
    if kind not in KINDS:
        raise ImportRejected(f"{name}: kind must be person or company")
    if not isinstance(key_check, str) or not re.fullmatch(r"[0-9a-f]{16}", key_check):
        raise ImportRejected(f"{name}: no key fingerprint (key_check)")
    rows_raw = raw.get("rows")
    if not isinstance(rows_raw, list):
        raise ImportRejected(f"{name}: rows must be a list")
    if len(rows_raw) > MAX_ROWS:
        raise ImportRejected(f"{name}: {len(rows_raw)} rows, over the {MAX_ROWS} limit")
    rows = [_row(entry, i, name, kind) for i, entry in enumerate(rows_raw)]
    numbers = [r.row for r in rows]
    if len(set(numbers)) != len(numbers):
        raise ImportRejected(f"{name}: a row number appears twice")
    quarantined = _problems(raw.get("quarantined"), name, "quarantined")
    rows_read = raw.get("rows_read")
    if not isinstance(rows_read, int) or rows_read < len(rows):
        raise ImportRejected(f"{name}: rows_read must count at least the encoded rows")
    return EncodedList(kind, key_check, rows, rows_read, quarantined, _problems(raw.get("notes"), name, "notes"))


# --- matching at the hub ------------------------------------------------------------------------------------------


class EncodedMatch(NamedTuple):
    """A list row matched to a reference record: per-field Dice coefficients and the match probability."""

    row: int
    party_id: int
    evidence: dict[str, float]  # field -> Dice coefficient of its blocks (fields both sides have)
    probability: float


@dataclass
class EncodedRun:
    list_records: int
    reference_records: int
    threshold: float
    compared: int = 0  # pairs sharing a keyed blocking key: each compared field by field, and scored
    matches: list[EncodedMatch] = field(default_factory=list)
    hidden_matches: list[EncodedMatch] = field(default_factory=list)  # on `hidden` references: no evidence kept
    model_source: str = "default"  # "estimated" on the list and the reference's encodings, else shipped defaults
    seconds: float = 0.0


def _side(encodings: Sequence[pprl.Encoding], side: str, prefix: str = "") -> list[pprl.Encoding]:
    return [pprl.Encoding(f"{prefix}{e.ref}", side, e.kind, e.bits, e.blocks) for e in encodings]


def match_encoded(
    rows: Sequence[pprl.Encoding], reference: Sequence[pprl.Encoding], *, threshold: float = DEFAULT_THRESHOLD,
    seed: int = 7, hidden: Sequence[pprl.Encoding] = (),
) -> EncodedRun:  # fmt: skip
    """Score every (list row, reference record) pair of one kind sharing a keyed blocking key; keep those at
    `threshold`. Refs are the callers' (row numbers, party ids as text). The model is estimated on both sides'
    encodings when they are enough (`pprl.MIN_TRAINING_RECORDS`), else the hub's shipped defaults. `hidden`:
    reference records matched alike but left out of the counter and of `matches` (their hits are in
    `hidden_matches`, without evidence)."""
    started = time.perf_counter()
    run = EncodedRun(len(rows), len(reference), threshold)
    if rows and (reference or hidden):
        shown = [*_side(rows, LIST_SIDE), *_side(reference, REFERENCE_SIDE)]
        found = pprl.hub_match([*shown, *_side(hidden, REFERENCE_SIDE, HIDDEN_REF)], threshold=threshold,
                               seed=seed, count_below=len(shown))  # fmt: skip
        run.compared = found.compared
        run.model_source = "estimated" if found.trained else "default"
        for m in found.matches:
            listed, ref = (m.a, m.b) if m.a.agency == LIST_SIDE else (m.b, m.a)
            if ref.ref.startswith(HIDDEN_REF):  # nothing about a hidden record is kept but the pair
                run.hidden_matches.append(EncodedMatch(int(listed.ref), int(ref.ref[len(HIDDEN_REF):]), {},
                                                       m.probability))  # fmt: skip
                continue
            evidence = {FIELD_LABELS.get(f, f): round(d, 4) for f, d in pprl.field_dice(listed.bits, ref.bits).items()}
            run.matches.append(EncodedMatch(int(listed.ref), int(ref.ref), evidence, m.probability))
        run.matches.sort(key=lambda m: (m.row, -m.probability, m.party_id))
        run.hidden_matches.sort(key=lambda m: (m.row, m.party_id))
    run.seconds = time.perf_counter() - started
    return run


def agreement(evidence: dict[str, float]) -> dict[str, str]:
    """Per field: exact (Dice >= 0.99), similar (at or above the field's lowest comparison level) or different."""
    out = {}
    for label, dice in evidence.items():
        name = next((f for f, shown in FIELD_LABELS.items() if shown == label), label)
        lowest = pprl.LEVELS.get(name, (0.99,))[-1]
        out[label] = "exact" if dice >= 0.99 else ("similar" if dice >= lowest else "different")
    return out


# --- the door -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedHit:
    """One encoded row matched to one record the actor may open. The hub never knows the listed name."""

    row: int
    source: Source
    matched_name: str
    reference: str
    link: str
    match_probability: float | None  # None: a watchlist value (equal keyed blocking key)
    similarity: dict[str, float]  # field -> Dice coefficient (1.0 for a watchlist value)
    record_id: int

    @property
    def agreed(self) -> dict[str, str]:
        return agreement(self.similarity)

    def evidence(self) -> str:
        return ", ".join(f"{f} {d:.2f}" for f, d in self.similarity.items())

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "source": self.source, "matched_name": self.matched_name,
                "reference": self.reference, "link": self.link, "match_probability": self.match_probability,
                "similarity": self.similarity, "agreed": self.agreed}  # fmt: skip


@dataclass
class EncodedScreening:
    operation: str
    kind: str
    threshold: float
    encoded: EncodedList
    run: EncodedRun
    hits: list[EncodedHit] = field(default_factory=list)
    notices: list[NoticeHit] = field(default_factory=list)  # hits on records the actor may not see
    case_parties: int = 0
    declaration_parties: int = 0
    watchlist_entries: int = 0

    @property
    def rows_with_hits(self) -> int:
        return len({h.row for h in self.hits})

    def summary(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "privacy_preserving": True, "kind": self.kind, "threshold": self.threshold,
            "rows_read": self.encoded.rows_read, "rows_screened": len(self.encoded.rows),
            "rows_quarantined": self.encoded.quarantined_rows, "rows_with_hits": self.rows_with_hits,
            "hits": len(self.hits), "notices": len(self.notices), "case_parties": self.case_parties,
            "declaration_parties": self.declaration_parties, "watchlist_entries": self.watchlist_entries,
            "pairs_compared": self.run.compared, "pairs_scored": self.run.compared,
            "pairs_above_threshold": len(self.run.matches), "model": self.run.model_source,
            "seconds": round(self.run.seconds, 3),
        }  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "hits": [h.to_dict() for h in self.hits],
            "notices": [n.to_dict() for n in self.notices],
            "quarantined": [{"row": e.row, "column": e.column, "reason": e.reason} for e in self.encoded.quarantined],
            "notes": [{"row": e.row, "column": e.column, "reason": e.reason} for e in self.encoded.notes],
        }


def _watch_block(kind: str, value: str, key: bytes) -> str | None:
    """A watchlist entry as the keyed blocking key a list row with the same value carries."""
    if kind in ("person", "company"):
        name_key = normalise.name_key(value, kind=kind)
        return pprl.keyed_block("name", name_key, kind, key) if name_key else None
    if kind == "passport":
        rule, found = "id_norm", normalise.code(value)
    elif kind == "phone":
        rule, found = "phone", normalise.e164(value, None)
    elif kind == "email":
        rule, found = "email", normalise.email(value)
    else:
        return None
    return pprl.keyed_block(rule, found, None, key) if found else None


def _watchlist_hits(
    session: Session, actor: Actor, rows: list[EncodedRow], secret: bytes
) -> tuple[int, list[EncodedHit]]:
    entries = list(session.execute(select(WatchlistEntry).where(WatchlistEntry.user_id == actor.user_id)).scalars())
    key = pprl.blocking_key(secret)
    watched: dict[str, list[WatchlistEntry]] = {}
    for entry in entries:
        block = _watch_block(entry.kind, entry.value, key)
        if block is not None:
            watched.setdefault(block, []).append(entry)
    hits = []
    for row in rows:
        for block in row.blocks:
            for entry in watched.get(block, ()):
                label = FIELD_LABELS.get(block.split(":", 1)[0], block.split(":", 1)[0])
                hits.append(EncodedHit(row.row, "watchlist", entry.value, f"your watchlist: {entry.kind}", "/watchlist",
                                       None, {label: 1.0}, entry.id))  # fmt: skip
    return len(entries), hits


def screen_encoded(
    session: Session,
    actor: Actor,
    *,
    operation: str,
    data: bytes,
    filename: str,
    secret: bytes,
    threshold: float | None = None,
    progress: Progress = no_progress,
) -> EncodedScreening:
    """Screen an encoded list (`encode_list`) against what `actor` may see in `operation`, at the hub.

    `secret`: the operation's linkage key, which the list must have been encoded with. Raises PermissionDenied
    for a partner observer, NotFound for an unknown operation, ImportRejected for a file that is not a valid
    encoded list or was encoded under another key. `threshold`: None takes the operation's adopted threshold
    (`linkage.calibration`), else DEFAULT_THRESHOLD, as the clear screening does."""
    if not may_screen(actor):
        raise PermissionDenied(actor, "screening", operation, "only members of an agency may screen lists")
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ImportRejected(f"threshold must be between 0 and 1, not {threshold}")
    op = get_operation(session, operation)
    if threshold is None:
        threshold = threshold_for(session, op.id)
    progress(0, 3, "reading the encoded list")
    encoded = load_encoded(data, filename)
    if not hmac.compare_digest(encoded.key_check, key_fingerprint(secret)):
        raise ImportRejected(f"{filename}: encoded under another key than this operation's linkage key; encode it "
                             "again with the operation's shared key (--key-file)")  # fmt: skip
    ex = extract(session, actor, operation_id=op.id, declarations=True)
    hidden = hidden_reference(session, actor, op.id, encoded.kind)
    cases = [i.party for i in ex.parties.values() if i.party.kind == encoded.kind]
    declared = [i.party for i in ex.declaration_parties.values() if i.party.kind == encoded.kind]
    progress(1, 3, "encoding the operation's parties and matching")
    reference = pprl.encode_parties([*cases, *declared], REFERENCE_SIDE, secret)
    hidden_encodings = pprl.encode_parties(hidden.parties.values(), REFERENCE_SIDE, secret)
    rows = [pprl.Encoding(str(r.row), LIST_SIDE, r.kind, r.bits, r.blocks) for r in encoded.rows]
    run = match_encoded(rows, reference, threshold=threshold, hidden=hidden_encodings)
    result = EncodedScreening(op.slug, encoded.kind, threshold, encoded, run, case_parties=len(cases),
                              declaration_parties=len(declared))  # fmt: skip
    progress(2, 3, "collecting hits")
    for m in run.matches:
        source: Source = "case" if m.party_id in ex.parties else "declaration"
        matched, reference_text, link = (_case_reference if source == "case" else _declaration_reference)(
            ex, m.party_id
        )
        result.hits.append(EncodedHit(m.row, source, matched, reference_text, link, m.probability, m.evidence,
                                      m.party_id))  # fmt: skip
    result.notices = _notices(session, actor, op, filename, encoded, run, hidden, data)
    result.watchlist_entries, watch = _watchlist_hits(session, actor, encoded.rows, secret)
    result.hits = sorted(
        [*result.hits, *watch], key=lambda h: (h.row, h.source != "watchlist", -(h.match_probability or 1.0))
    )
    audit_run(session, actor, op.id, result, data)
    progress(3, 3, "done")
    return result


def _notices(
    session: Session, actor: Actor, op: Operation, filename: str, encoded: EncodedList, run: EncodedRun,
    hidden: HiddenReference, data: bytes,
) -> list[NoticeHit]:  # fmt: skip
    """The screening notices of the hits on hidden records, each keeping what there is of its row: its number,
    kind and the digests of the list and of its encodings (no clear value reached the hub)."""
    if not run.hidden_matches:
        return []
    list_sha256 = hashlib.sha256(data).hexdigest()
    by_row = {r.row: r for r in encoded.rows}
    submitted = {}
    for n in {m.row for m in run.hidden_matches}:
        row = by_row[n]
        key = encoded_row_key(row.kind, row.bits, row.blocks)
        submitted[n] = SubmittedRow("", encoded_row_data(n, row.kind, list_sha256, key), key)
    return record_notices(session, actor, operation=op, list_name=filename, rows=submitted,
                          found=[(m.row, m.party_id) for m in run.hidden_matches], hidden=hidden)  # fmt: skip


# --- exports ------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("row", "source", "matched_name", "reference", "match_probability", "similarity", "link")


def export(result: EncodedScreening, fmt: str) -> bytes:
    """The hits (then the notices of each row) as CSV, XLSX (hits, rows not encoded, summary) or JSON; the hub
    has no listed name and no value of a row not encoded, only its number and the reason."""
    rows = [[h.row, h.source, h.matched_name, h.reference, exports.probability(h.match_probability), h.evidence(),
             h.link] for h in result.hits]  # fmt: skip
    rows += [[n.row, "notice", "", exports.notice_reference(n), None, "", n.link] for n in result.notices]
    problems = exports.problem_rows(result.encoded.quarantined, result.encoded.notes)
    return exports.write(result, fmt, columns=EXPORT_COLUMNS, rows=rows, problems=problems)
