"""Web import in steps: upload -> preview (mapping, dry-run error report) -> fix & re-upload or remap -> confirm.

The uploaded bytes are kept between the steps in `<data dir>/uploads/<random token>.upload`: the name is the
server's random token, never the user's file name; the `import_uploads` row binds it to the user who
uploaded it (another user asking for the token gets 404), and it is deleted at confirmation, at the next
upload of the same user, or when it expires (UPLOAD_TTL). The type is checked by content on upload (the
same reader as the import: magic bytes, zip-bomb limits), so a file that cannot be read is never kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import DragonnetError, NotFound
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS, ColumnMatch, propose_mapping
from dragonnet.intake.importer import ImportReport, import_cases
from dragonnet.intake.reader import read_bytes
from dragonnet.policy.access import Actor, audit_actor
from dragonnet.storage.intake_models import ImportUpload
from dragonnet.storage.models import Operation
from dragonnet.tabular import ImportRejected, RowError, safe_text

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_TTL = dt.timedelta(hours=2)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def upload_dir(data_dir: Path) -> Path:
    folder = Path(data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _path(data_dir: Path, token: str) -> Path:
    if not _TOKEN.match(token):
        raise NotFound("no such upload")
    return upload_dir(data_dir) / f"{token}.upload"


def _safe_name(filename: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name or "upload"
    return re.sub(r"[^\w.\- ]", "_", name)[:200]


def _discard(session: Session, data_dir: Path, upload: ImportUpload) -> None:
    _path(data_dir, upload.token).unlink(missing_ok=True)
    session.delete(upload)


def purge(session: Session, data_dir: Path, *, user_id: int | None = None) -> int:
    """Delete expired uploads (and, with `user_id`, every pending upload of that user). Returns how many."""
    now = dt.datetime.now(dt.UTC)
    query = select(ImportUpload).where(ImportUpload.expires_at < now)
    if user_id is not None:
        query = select(ImportUpload).where((ImportUpload.expires_at < now) | (ImportUpload.user_id == user_id))
    uploads = list(session.execute(query).scalars())
    for upload in uploads:
        _discard(session, data_dir, upload)
    session.flush()
    return len(uploads)


def stage(
    session: Session,
    actor: Actor,
    operation: Operation,
    data: bytes,
    filename: str,
    data_dir: Path,
    *,
    day_first: bool = False,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> ImportUpload:
    """Check the file by content (ImportRejected if unreadable) and keep it for the preview."""
    if actor.user_id is None or actor.agency_code is None:
        raise ImportRejected("log in first")
    name = _safe_name(filename)
    read_bytes(data, name, max_bytes=max_bytes)  # type and size by content; raises ImportRejected
    purge(session, data_dir, user_id=actor.user_id)
    token = secrets.token_hex(16)
    _path(data_dir, token).write_bytes(data)
    upload = ImportUpload(
        token=token, user_id=actor.user_id, operation_id=operation.id, agency_code=actor.agency_code, filename=name,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), mapping={}, day_first=day_first,
        expires_at=dt.datetime.now(dt.UTC) + UPLOAD_TTL,
    )  # fmt: skip
    session.add(upload)
    session.flush()
    return upload


def load(
    session: Session, actor: Actor, operation: Operation, token: str, data_dir: Path
) -> tuple[ImportUpload, bytes]:
    """The actor's own pending upload and its bytes; NotFound for anyone else's, expired or consumed ones."""
    path = _path(data_dir, token)
    upload = session.execute(select(ImportUpload).where(ImportUpload.token == token)).scalar_one_or_none()
    now = dt.datetime.now(dt.UTC)
    if (
        upload is None
        or upload.user_id != actor.user_id
        or upload.operation_id != operation.id
        or upload.consumed_at is not None
        or upload.expires_at < now
        or not path.is_file()
    ):
        raise NotFound("this upload no longer exists (it expired or was imported): upload the file again")
    return upload, path.read_bytes()


@dataclass
class Preview:
    upload: ImportUpload
    items_mapping: list[ColumnMatch]
    parties_mapping: list[ColumnMatch] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    report: ImportReport | None = None
    problem: str | None = None  # a whole-file problem (e.g. a mapping conflict)


def _mapping_for(upload: ImportUpload) -> dict[str, str | None]:
    return {str(k): (str(v) if v else None) for k, v in (upload.mapping or {}).items()}


def preview(session: Session, actor: Actor, operation: Operation, upload: ImportUpload, data: bytes) -> Preview:
    """The proposed header mapping (with confidence) and a dry run of the import under it."""
    raw = read_bytes(data, upload.filename)
    mapping = _mapping_for(upload)
    try:
        items_map = propose_mapping(raw.items.headers, "items", mapping)
        parties_map = None
        if raw.parties is not None:
            explicit = {h: c for h, c in mapping.items() if c is None or c in PARTY_COLUMNS}
            parties_map = propose_mapping(raw.parties.headers, "parties", explicit)
    except ImportRejected as exc:
        plain = propose_mapping(raw.items.headers, "items")
        return Preview(upload, [m for m in plain.matches if m.header], problem=exc.message)
    result = Preview(
        upload,
        [m for m in items_map.matches if m.header],
        [m for m in parties_map.matches if m.header] if parties_map else [],
        list(items_map.missing_required) + (list(parties_map.missing_required) if parties_map else []),
    )
    if result.missing:
        result.problem = f"required column(s) not mapped: {', '.join(result.missing)}"
        return result
    try:
        result.report = import_cases(
            session, operation_slug=operation.slug, agency_code=upload.agency_code, actor=audit_actor(actor),
            data=data, filename=upload.filename, dry_run=True, day_first=upload.day_first, mapping=mapping or None,
        )  # fmt: skip
    except DragonnetError as exc:
        result.problem = exc.message
    return result


def remap(session: Session, upload: ImportUpload, choices: Mapping[str, str | None], *, day_first: bool) -> None:
    """Store the user's header mapping (header -> column, None to ignore); unknown columns are refused."""
    allowed = set(ITEM_COLUMNS) | set(PARTY_COLUMNS)
    clean: dict[str, str | None] = {}
    for header, column in choices.items():
        if column and column not in allowed:
            raise ImportRejected(f"unknown column {column!r} for header {header!r}")
        clean[header[:200]] = column or None
    upload.mapping = clean
    upload.day_first = day_first
    session.flush()


def confirm(
    session: Session, actor: Actor, operation: Operation, upload: ImportUpload, data: bytes, data_dir: Path,
    *, all_or_nothing: bool = False,
) -> ImportReport:  # fmt: skip
    """Import the kept file for real, then delete it."""
    report = import_cases(
        session, operation_slug=operation.slug, agency_code=upload.agency_code, actor=audit_actor(actor), data=data,
        filename=upload.filename, day_first=upload.day_first, mapping=_mapping_for(upload) or None,
        all_or_nothing=all_or_nothing,
    )  # fmt: skip
    _discard(session, data_dir, upload)
    session.flush()
    return report


# --- the error report as CSV ----------------------------------------------------------------------------------


def errors_csv(errors: list[RowError], warnings: list[RowError] | None = None) -> bytes:
    """The report as CSV: rejected rows (severity "error"), then values accepted by a guess ("warning": the
    suggestion is the value that will be stored)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["sheet", "row", "column", "value", "reason", "suggestion", "severity"])
    for severity, rows in (("error", errors), ("warning", warnings or [])):
        for e in rows:
            writer.writerow([safe_text(v) for v in (e.sheet, e.row, e.column, e.value, e.reason, e.suggestion)]
                            + [severity])  # fmt: skip
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


__all__ = ["MAX_UPLOAD_BYTES", "Preview", "confirm", "errors_csv", "load", "preview", "purge", "remap", "stage"]
