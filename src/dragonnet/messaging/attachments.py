"""Attachments: type checked by content, stored content-addressed outside the database, served only
through the access policy of the alert or bulletin they belong to.

- Accepted: JPEG, PNG, PDF and plain UTF-8 text, recognised by their bytes (magic numbers), never by the
  name or the browser's claimed type. HTML, SVG, XML and everything else are refused.
- Size: at most DRAGONNET_ATTACHMENT_MAX_BYTES (default 10 MiB), counted while reading.
- Storage: `<data dir>/attachments/ab/cd/<sha256>`, written to a temporary file in the same folder tree,
  fsynced, then renamed into place: a full disk or a crash never leaves a half-written blob under its name.
- Names: only the last path component is kept, control characters removed, the extension made to match the
  content; the name is only ever sent in `Content-Disposition: attachment`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.errors import StorageUnavailable, ValidationError
from dragonnet.i18n import N_, with_values
from dragonnet.storage.messaging_models import Attachment

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024
MAX_PER_RECORD = 20
# Error messages with values: English for the API and the CLI, translated on pages (dragonnet.i18n.with_values).
TOO_LARGE = with_values(N_("the file is larger than the limit of %(limit)s bytes"))
TOO_MANY = with_values(N_("at most %(max)s attachments per message"))

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "text/plain": ".txt"}
_MARKUP = re.compile(rb"<\s*(!doctype|html|script|svg|\?xml|body|iframe|object|embed|meta|head)\b", re.IGNORECASE)
_ALLOWED_CONTROL = {0x09, 0x0A, 0x0C, 0x0D}


class StorageFull(StorageUnavailable):
    """The server could not store the file (disk full or not writable); nothing was stored."""


def max_bytes() -> int:
    return int(os.environ.get("DRAGONNET_ATTACHMENT_MAX_BYTES", str(DEFAULT_MAX_BYTES)))


def sniff(head: bytes, *, whole: bytes | None = None) -> str | None:
    """The media type recognised from the content, or None (refused)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    data = whole if whole is not None else head
    return "text/plain" if _is_plain_text(data) else None


def _is_plain_text(data: bytes) -> bool:
    if not data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any((ord(c) < 0x20 and ord(c) not in _ALLOWED_CONTROL) or ord(c) == 0x7F for c in text):
        return False
    # Markup is not plain text, whatever the name says: a browser could be talked into rendering it.
    return not (text.lstrip("\ufeff \t\r\n").startswith("<") or _MARKUP.search(data))


def safe_filename(name: str | None, media_type: str) -> str:
    """A harmless display name: last path component, no control characters, extension matching the content."""
    raw = (name or "").replace("\\", "/").split("/")[-1]
    raw = unicodedata.normalize("NFC", raw)
    cleaned = "".join(c for c in raw if unicodedata.category(c)[0] != "C" and c not in '"<>|:*?')
    cleaned = cleaned.strip().lstrip(".").strip()[:120] or "attachment"
    ext = EXTENSIONS[media_type]
    if not cleaned.lower().endswith(ext) and not (media_type == "image/jpeg" and cleaned.lower().endswith(".jpeg")):
        cleaned += ext
    return cleaned


def blob_path(data_dir: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a sha256")
    return data_dir / "attachments" / sha256[:2] / sha256[2:4] / sha256


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    media_type: str


def store(data_dir: Path, stream: BinaryIO, *, limit: int | None = None) -> StoredBlob:
    """Read `stream`, check size and type, store it by its sha256. ValidationError or StorageFull if not."""
    limit = limit if limit is not None else max_bytes()
    root = data_dir / "attachments"
    tmp_dir = root / "tmp"
    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    except OSError as exc:
        raise StorageFull(f"the server cannot store files right now ({_reason(exc)}); nothing was stored") from None
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ValidationError(TOO_LARGE % {"limit": f"{limit:,}"})
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ValidationError("the file is empty")
        whole = tmp.read_bytes() if not head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"%PDF-")) else None
        media_type = sniff(head, whole=whole)
        if media_type is None:
            raise ValidationError("only JPEG, PNG, PDF and plain-text files are accepted (checked by content)")
        sha = digest.hexdigest()
        final = blob_path(data_dir, sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
        return StoredBlob(sha, size, media_type)
    except OSError as exc:
        raise StorageFull(f"the server could not store the file ({_reason(exc)}); nothing was stored") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disk full"
    if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
        return "storage not writable"
    return "storage error"


def add(
    session: Session,
    data_dir: Path,
    stream: BinaryIO,
    filename: str | None,
    *,
    agency_id: int,
    user_id: int | None,
    alert_id: int | None = None,
    bulletin_id: int | None = None,
) -> Attachment:
    """Store a file and record it on an alert or a bulletin (the caller has checked the actor may)."""
    count_query = select(Attachment.id).where(
        Attachment.alert_id == alert_id if alert_id is not None else Attachment.bulletin_id == bulletin_id
    )
    if len(session.execute(count_query).all()) >= MAX_PER_RECORD:
        raise ValidationError(TOO_MANY % {"max": MAX_PER_RECORD})
    blob = store(data_dir, stream)
    att = Attachment(
        sha256=blob.sha256, size=blob.size, media_type=blob.media_type,
        filename=safe_filename(filename, blob.media_type), alert_id=alert_id, bulletin_id=bulletin_id,
        agency_id=agency_id, uploaded_by_id=user_id,
    )  # fmt: skip
    session.add(att)
    session.flush()
    return att


def open_blob(data_dir: Path, att: Attachment) -> Path:
    path = blob_path(data_dir, att.sha256)
    if not path.is_file():
        raise StorageFull("the stored file is missing on the server; ask an administrator")
    return path


def orphans(session: Session, data_dir: Path) -> list[Path]:
    """Stored blobs no attachment row refers to (left by a rolled-back upload), and stale temporary files."""
    root = data_dir / "attachments"
    if not root.exists():
        return []
    known = set(session.execute(select(Attachment.sha256).distinct()).scalars())
    found: list[Path] = []
    for path in root.glob("??/??/*"):
        if path.is_file() and path.name not in known:
            found.append(path)
    found.extend(p for p in (root / "tmp").glob("upload-*") if p.is_file())
    return sorted(found)


def remove_orphans(paths: Iterable[Path]) -> int:
    n = 0
    for path in paths:
        path.unlink(missing_ok=True)
        n += 1
    return n
