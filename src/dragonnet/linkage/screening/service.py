"""The screening capability's door: `screen(session, actor, ...)` reads a list, checks the policy, matches the
list against what the actor may see, writes one audit entry and answers the hits. Web, API and CLI only parse,
call and render.

What a list is matched against (all through `linkage.extract`, so policy decides):
- the parties of the operation's cases whose nominal data the actor may see (`nominal_visibility`);
- the parties (importers, exporters, consignees) of the declarations the actor may read (`may_target`: the
  actor's own agency's batches, lodged during the operation's phases);
- the actor's own watchlist entries (names, passports, phones, e-mails; exact on the normalised value).

A record the actor may not see is not in the extract, so it gives no hit, no reference and no count. The list is
matched in the same run against the parties of the operation the actor may not see (`screening.notices`, the
hit / no-hit rule): a hit on one is a screening notice, "agency X holds a record matching row N of your list",
which its owner reveals only with its consent.

The audit entry (`screening.run` on the operation) holds counts, the file's SHA-256 and the ids of the
records shown as hits, never a name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.linkage import normalise
from dragonnet.linkage.calibration import operation_threshold
from dragonnet.linkage.extract import Extract, extract
from dragonnet.linkage.record_cache import cache_dir
from dragonnet.linkage.resolution import latest_run
from dragonnet.linkage.resolve import Backend, to_record
from dragonnet.linkage.screening import exports
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD, MatchRun, match_lists
from dragonnet.linkage.screening.notices import NoticeHit, hidden_reference, record_hits
from dragonnet.linkage.screening.reader import ListReport, ListRow, read_list
from dragonnet.operation.service import get_operation
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, PermissionDenied, audit_actor, may_screen
from dragonnet.progress import Progress, no_progress
from dragonnet.storage.messaging_models import WatchlistEntry
from dragonnet.tabular import ImportRejected

Source = Literal["case", "declaration", "watchlist"]
AUDITED_IDS_MAX = 500
KIND_WORDS = {"persons": "person", "person": "person", "companies": "company", "company": "company"}
WATCH_NAME_KINDS = {"person": "person", "company": "company"}


@dataclass(frozen=True)
class Hit:
    """One list row matched to one record the actor may open."""

    row: int
    listed_name: str
    source: Source
    matched_name: str
    reference: str  # what the record is: "case VN-CUS 2023-0042 (driver)", "declaration 12/DEC-7 (importer)"...
    link: str  # where the actor opens it
    match_probability: float | None  # None: an exact watchlist value (a watchlist is exact, not scored)
    agreed: dict[str, str]  # field -> exact | similar
    record_id: int  # the party id, a declaration party's id (negative, this run only) or the watchlist entry id

    def evidence(self) -> str:
        return ", ".join(f if how == "exact" else f"{f} (similar)" for f, how in self.agreed.items())

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "listed_name": self.listed_name, "source": self.source,
                "matched_name": self.matched_name, "reference": self.reference, "link": self.link,
                "match_probability": self.match_probability, "agreed": self.agreed}  # fmt: skip


@dataclass
class Screening:
    operation: str
    kind: str
    threshold: float
    report: ListReport
    run: MatchRun
    hits: list[Hit] = field(default_factory=list)
    notices: list[NoticeHit] = field(default_factory=list)  # hits on records the actor may not see
    case_parties: int = 0
    declaration_parties: int = 0
    watchlist_entries: int = 0

    @property
    def rows_with_hits(self) -> int:
        return len({h.row for h in self.hits})

    def summary(self) -> dict[str, Any]:
        c = self.run.counts
        return {
            "operation": self.operation, "kind": self.kind, "threshold": self.threshold,
            "file_format": self.report.file_format, "encoding": self.report.encoding,
            "rows_read": self.report.rows_read, "rows_screened": len(self.report.rows),
            "rows_quarantined": self.report.quarantined_rows, "rows_with_hits": self.rows_with_hits,
            "hits": len(self.hits), "notices": len(self.notices), "case_parties": self.case_parties,
            "declaration_parties": self.declaration_parties, "watchlist_entries": self.watchlist_entries,
            "pairs_compared": c.compared, "pairs_scored": c.scored, "pairs_above_threshold": c.above,
            "model": self.run.model_source, "trained_on": self.run.trained_on,
            "cached_records": self.run.cached_records, "seconds": round(self.run.seconds, 3),
        }  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "headers": [m.to_dict() for m in self.report.headers],
            "hits": [h.to_dict() for h in self.hits],
            "notices": [n.to_dict() for n in self.notices],
            "quarantined": [e.to_dict() for e in self.report.quarantined],
            "notes": [e.to_dict() for e in self.report.notes],
        }


def parse_kind(kind: str) -> str:
    found = KIND_WORDS.get(kind.strip().lower())
    if found is None:
        raise ImportRejected(f"unknown kind {kind!r}: use persons or companies")
    return found


# --- what the list is matched against -------------------------------------------------------------------------


def _case_reference(ex: Extract, party_id: int) -> tuple[str, str, str]:
    info = ex.parties[party_id]
    case = ex.cases[info.case_id]
    return info.party.name, f"case {case.agency} {case.case_ref} ({info.role})", f"/cases/{case.id}"


def _declaration_reference(ex: Extract, party_id: int) -> tuple[str, str, str]:
    info = ex.declaration_parties[party_id]
    decls = [ex.declarations[k] for k in info.declarations]
    first = decls[0]
    more = f" and {len(decls) - 1} more" if len(decls) > 1 else ""
    text = f"declaration {first.declaration_id} ({info.role}) lodged {first.date} at {first.office}{more}"
    return info.party.name, text, "/targeting"


def _watch_key(kind: str, value: str) -> tuple[str, str] | None:
    """A watchlist entry as (field, normalised value) compared with a list row's record, or None."""
    if kind in WATCH_NAME_KINDS:
        found = normalise.name_key(value, kind=WATCH_NAME_KINDS[kind])
        return (f"name:{WATCH_NAME_KINDS[kind]}", found) if found else None
    if kind == "passport":
        found = normalise.code(value)
        return ("id_number", found) if found else None
    if kind == "phone":
        found = normalise.e164(value, None)
        return ("phone", found) if found else None
    if kind == "email":
        found = normalise.email(value)
        return ("email", found) if found else None
    return None


def _watchlist_hits(session: Session, actor: Actor, rows: list[ListRow]) -> tuple[int, list[Hit]]:
    """Rows whose name, document, phone or e-mail is on the actor's own watchlist (exact, normalised)."""
    entries = list(session.execute(select(WatchlistEntry).where(WatchlistEntry.user_id == actor.user_id)).scalars())
    watched: dict[tuple[str, str], list[WatchlistEntry]] = {}
    for entry in entries:
        found = _watch_key(entry.kind, entry.value)
        if found is not None:
            watched.setdefault(found, []).append(entry)
    hits: list[Hit] = []
    if not watched:
        return len(entries), hits
    for row in rows:
        record = to_record(row.party)
        keys = {
            (f"name:{row.party.kind}", record["name_key"]): "name",
            ("id_number", record["id_norm"]): "id_number",
            ("phone", record["phone"]): "phone",
            ("email", record["email"]): "email",
        }
        for watch_key, field_name in keys.items():
            for entry in watched.get(watch_key, ()):
                hits.append(Hit(row.row, row.name, "watchlist", entry.value, f"your watchlist: {entry.kind}",
                                "/watchlist", None, {field_name: "exact"}, entry.id))  # fmt: skip
    return len(entries), hits


def threshold_for(session: Session, operation_id: int) -> float:
    """The match probability of a hit when the screener gives none: the operation's adopted threshold
    (`linkage.calibration`), else DEFAULT_THRESHOLD. The clear and the encoded screening and their pages."""
    return operation_threshold(session, operation_id) or DEFAULT_THRESHOLD


# --- the door ---------------------------------------------------------------------------------------------------


def screen(
    session: Session,
    actor: Actor,
    *,
    operation: str,
    data: bytes,
    filename: str,
    kind: str = "persons",
    threshold: float | None = None,
    backend: Backend = "duckdb",
    spark: Any = None,
    progress: Progress = no_progress,
    data_dir: Path | None = None,
) -> Screening:
    """Screen the list in `data` (CSV or XLSX) against what `actor` may see in `operation`.

    `data_dir`: the data directory, where the parties' records normalised by the last `linkage run` are kept
    (`record_cache`); without it every reference record is normalised here.

    `threshold`: None takes the operation's adopted threshold (`linkage.calibration`), else DEFAULT_THRESHOLD.
    Raises PermissionDenied for a partner observer, NotFound for an unknown operation, ImportRejected for a file
    that cannot be read (bad rows are quarantined in the report, not rejected)."""
    if not may_screen(actor):
        raise PermissionDenied(actor, "screening", operation, "only members of an agency may screen lists")
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ImportRejected(f"threshold must be between 0 and 1, not {threshold}")
    party_kind = parse_kind(kind)
    op = get_operation(session, operation)
    if threshold is None:
        threshold = threshold_for(session, op.id)
    progress(0, None, "reading the list")
    report = read_list(data, filename, kind=party_kind)
    ex = extract(session, actor, operation_id=op.id, declarations=True)
    hidden = hidden_reference(session, actor, op.id, party_kind)
    cases = [i.party for i in ex.parties.values() if i.party.kind == party_kind]
    declared = [i.party for i in ex.declaration_parties.values() if i.party.kind == party_kind]
    stored = latest_run(session)  # the operator's model, estimated on every party, when there is one
    model = stored.model if stored is not None and stored.model else None
    run = match_lists([r.party for r in report.rows], [*cases, *declared], threshold=threshold, backend=backend,
                      spark=spark, progress=progress, model=model, hidden=list(hidden.parties.values()),
                      record_cache=None if data_dir is None else cache_dir(data_dir))  # fmt: skip
    result = Screening(op.slug, party_kind, threshold, report, run, case_parties=len(cases),
                       declaration_parties=len(declared))  # fmt: skip
    names = {r.row: r.name for r in report.rows}
    for m in run.matches:
        source: Source = "case" if m.reference in ex.parties else "declaration"
        matched, reference, link = (_case_reference if source == "case" else _declaration_reference)(ex, m.reference)
        result.hits.append(Hit(m.row, names[m.row], source, matched, reference, link, m.probability, m.agreed,
                               m.reference))  # fmt: skip
    result.notices = record_hits(session, actor, operation=op, list_name=filename, rows=report.rows,
                                 found=run.hidden_matches, hidden=hidden)  # fmt: skip
    result.watchlist_entries, watch = _watchlist_hits(session, actor, report.rows)
    result.hits = sorted(
        [*result.hits, *watch], key=lambda h: (h.row, h.source != "watchlist", -(h.match_probability or 1.0))
    )
    audit_run(session, actor, op.id, result, data)
    return result


class AuditedScreening(Protocol):
    """What `audit_run` reads of a screening, clear (`Screening`) or encoded (`encoded.EncodedScreening`)."""

    @property
    def hits(self) -> Sequence[Any]: ...  # each with `source` and `record_id`

    @property
    def notices(self) -> Sequence[NoticeHit]: ...

    def summary(self) -> dict[str, Any]: ...


def audit_run(session: Session, actor: Actor, operation_id: int, result: AuditedScreening, data: bytes) -> None:
    """One `screening.run` entry for either screening: counts (the encoded one's summary says
    `privacy_preserving`), the file's digest and the ids of the records shown; never a name."""
    ids: dict[str, list[int]] = {
        "parties": sorted({h.record_id for h in result.hits if h.source == "case"}),
        "watchlist_entries": sorted({h.record_id for h in result.hits if h.source == "watchlist"}),
        "screening_notices": sorted({n.notice_id for n in result.notices}),
    }
    detail: dict[str, Any] = {
        k: v for k, v in result.summary().items() if k not in ("operation", "encoding", "seconds")
    }
    detail["declaration_hits"] = sum(1 for h in result.hits if h.source == "declaration")
    detail["file_sha256"] = hashlib.sha256(data).hexdigest()
    for name, values in ids.items():
        detail[name] = values[:AUDITED_IDS_MAX]
        if len(values) > AUDITED_IDS_MAX:
            detail[f"{name}_more"] = len(values) - AUDITED_IDS_MAX
    audit.record(session, audit_actor(actor), "screening.run", "operation", operation_id, **detail)


# --- exports ----------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("row", "listed_name", "source", "matched_name", "reference", "match_probability", "evidence",
                  "link")  # fmt: skip


def export(result: Screening, fmt: str) -> bytes:
    """The hits (then the notices of each row) as CSV, XLSX (hits, rows not screened, summary) or JSON."""
    rows = [[h.row, h.listed_name, h.source, h.matched_name, h.reference, exports.probability(h.match_probability),
             h.evidence(), h.link] for h in result.hits]  # fmt: skip
    rows += [[n.row, n.listed_name, "notice", "", exports.notice_reference(n), None, "", n.link]
             for n in result.notices]  # fmt: skip
    problems = exports.problem_rows(result.report.quarantined, result.report.notes)
    return exports.write(result, fmt, columns=EXPORT_COLUMNS, rows=rows, problems=problems)
