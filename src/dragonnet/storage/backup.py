"""Portable backup and restore: every table, stored files and the audit chain, checked by hashes.

A backup is one `.tar.gz` holding `manifest.json` (schema revision, per-table row counts and sha256 of the
rows in primary-key order, the audit head, stored files with their sha256), one gzip'd JSON-lines file per
table, and the stored files (attachments, models) under `files/`. It is backend-neutral: a SQLite backup
restores into PostgreSQL and back. Restore refuses a database that holds data, rebuilds the schema at the
backup's revision, loads tables parent-first, then recomputes every hash and verifies the audit chain: a
restore that does not reproduce the backup exactly fails loudly.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Column, Date, DateTime, Engine, Table, func, select, text
from sqlalchemy.orm import Session

from dragonnet.errors import DragonnetError
from dragonnet.storage.audit_chain import verify
from dragonnet.storage.migrate import current_revision, reset_database, upgrade
from dragonnet.storage.schema import metadata

FORMAT = "dragonnet-backup/1"
BATCH = 5000
# Stored files live under the data directory in these folders; the secret key and SQLite files do not
# belong in a backup of records (the database travels as tables).
FILE_ROOTS = ("attachments", "files", "models")


class BackupError(DragonnetError):
    """A backup could not be written, or a restore would not reproduce it exactly."""


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _decode_datetime(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _self_references(table: Table) -> list[str]:
    """Columns referring to the same table (e.g. a merged case's twin): loaded after all rows exist."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _is_datetime(column: Column[Any]) -> bool:
    return isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl", None), DateTime)


def _rows(conn: Any, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(stream_results=True).execute(select(table).order_by(*order))
    for row in result.mappings():
        yield {key: _encode(value) for key, value in row.items()}


def _line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def table_digests(engine: Engine) -> dict[str, dict[str, Any]]:
    """Row count and sha256 of every table's rows in primary-key order (backend-neutral encoding)."""
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for table in _tables():
            digest = hashlib.sha256()
            count = 0
            for row in _rows(conn, table):
                digest.update(_line(row))
                count += 1
            out[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    return out


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stored_files(data_dir: Path) -> dict[str, str]:
    """Relative path -> sha256 of every stored file under the data directory's file roots."""
    found: dict[str, str] = {}
    for root in FILE_ROOTS:
        base = data_dir / root
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(data_dir).as_posix()] = _file_digest(path)
    return found


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    tables: int
    rows: int
    files: int
    audit_entries: int


def backup(engine: Engine, data_dir: Path, out: Path) -> BackupSummary:
    """Write a consistent backup of the database and stored files to `out` (.tar.gz)."""
    revision = current_revision(engine)
    if revision is None:
        raise BackupError("the database has no dragonnet schema: nothing to back up")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    manifest: dict[str, Any] = {"format": FORMAT, "revision": revision, "dialect": engine.dialect.name,
                                "created_at": dt.datetime.now(dt.UTC).isoformat(), "tables": {}}  # fmt: skip
    total = 0
    with tarfile.open(tmp, "w:gz") as tar, engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # One snapshot for every table, so the backup is consistent while the app keeps writing.
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        for table in _tables():
            digest = hashlib.sha256()
            buffer = io.BytesIO()
            count = 0
            with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
                for row in _rows(conn, table):
                    line = _line(row)
                    digest.update(line)
                    gz.write(line)
                    count += 1
            _add_bytes(tar, f"tables/{table.name}.jsonl.gz", buffer.getvalue())
            manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
            total += count
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        manifest["audit_head"] = {"seq": head[0], "hash": head[1]} if head else None
        files = stored_files(data_dir)
        for rel in files:
            tar.add(data_dir / rel, arcname=f"files/{rel}", recursive=False)
        manifest["files"] = files
        _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
    os.replace(tmp, out)
    audit_entries = manifest["tables"].get("audit_events", {}).get("rows", 0)
    return BackupSummary(out, revision, len(manifest["tables"]), total, len(files), audit_entries)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"refusing backup member outside the archive root: {name!r}")
    return path


@dataclass(frozen=True)
class RestoreSummary:
    revision: str
    rows: int
    files: int
    audit_entries: int


def _has_data(engine: Engine) -> bool:
    if current_revision(engine) is None:
        return False
    with Session(engine) as session:
        for name in ("agencies", "cases", "users", "audit_events"):
            table = metadata.tables[name]
            if session.execute(select(func.count()).select_from(table)).scalar_one():
                return True
    return False


def restore(engine: Engine, data_dir: Path, archive: Path, *, force: bool = False) -> RestoreSummary:
    """Restore a backup into an empty database (or, with `force`, after wiping it) and verify it."""
    if not archive.is_file():
        raise BackupError(f"no backup file at {archive}")
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - closed by the with-block below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} is not a dragonnet backup: {exc}") from None
    with tar:
        members = {m.name: m for m in tar.getmembers()}
        for m in members.values():
            _safe_member(m.name)
            if not (m.isfile() or m.isdir()):
                raise BackupError(f"refusing backup member that is not a plain file: {m.name!r}")
        manifest = _read_json(tar, members, "manifest.json")
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} is not a {FORMAT} archive")
        if _has_data(engine) and not force:
            raise BackupError("the database holds data already: restore needs an empty database (or --force)")
        reset_database(engine)
        upgrade(engine, manifest["revision"])
        with engine.begin() as conn:
            # The migrations seed some rows (the audit head, the site's cell key): the backup's rows replace them.
            conn.execute(metadata.tables["audit_head"].delete())
            for table in reversed(_tables()):
                if table.name in manifest["tables"]:
                    conn.execute(table.delete())
            for table in _tables():
                entry = manifest["tables"].get(table.name)
                if entry is None:
                    continue
                member = members.get(f"tables/{table.name}.jsonl.gz")
                if member is None:
                    raise BackupError(f"backup lacks the rows of table {table.name}")
                fh = tar.extractfile(member)
                assert fh is not None
                batch: list[dict[str, Any]] = []
                deferred: list[dict[str, Any]] = []
                self_refs = _self_references(table)
                datetime_cols = {c.name for c in table.columns if _is_datetime(c)}
                date_cols = {c.name for c in table.columns if isinstance(c.type, Date)}
                with gzip.GzipFile(fileobj=fh) as gz:
                    for raw in gz:
                        row = json.loads(raw)
                        for name in datetime_cols & row.keys():
                            row[name] = _decode_datetime(row[name])
                        for name in date_cols & row.keys():
                            row[name] = None if row[name] is None else dt.date.fromisoformat(row[name])
                        later = {name: row[name] for name in self_refs if row.get(name) is not None}
                        if later:
                            # Columns with an on-update default keep their backed-up value.
                            kept = {c.name: row[c.name] for c in table.columns if c.onupdate is not None}
                            deferred.append({"_pk": row["id"], **later, **kept})
                            row.update(dict.fromkeys(later))
                        batch.append(row)
                        if len(batch) >= BATCH:
                            conn.execute(table.insert(), batch)
                            batch = []
                if batch:
                    conn.execute(table.insert(), batch)
                for ref in deferred:
                    values = {k: v for k, v in ref.items() if k != "_pk"}
                    conn.execute(table.update().where(table.c.id == ref["_pk"]).values(**values))
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn)
            _advance_staged_audit_ids(conn)
        files = manifest.get("files", {})
        _restore_files(tar, members, data_dir, files)
    # Prove the restore: every table hash, every file hash, the audit chain.
    digests = table_digests(engine)
    for name, entry in manifest["tables"].items():
        if digests.get(name) != entry:
            raise BackupError(f"restored table {name} differs from the backup ({digests.get(name)} != {entry})")
    restored_files = stored_files(data_dir)
    for rel, sha in files.items():
        if restored_files.get(rel) != sha:
            raise BackupError(f"restored file {rel} differs from the backup")
    with Session(engine) as session:
        result = verify(session)
    if not result.ok:
        raise BackupError(f"the restored audit chain does not verify: {result.problem}")
    rows = sum(int(e["rows"]) for e in manifest["tables"].values())
    return RestoreSummary(manifest["revision"], rows, len(files), result.entries)


def _read_json(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> dict[str, Any]:
    member = members.get(name)
    if member is None:
        raise BackupError(f"backup lacks {name}")
    fh = tar.extractfile(member)
    assert fh is not None
    data: dict[str, Any] = json.loads(fh.read())
    return data


def _restore_files(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], data_dir: Path, files: dict[str, str]
) -> None:
    for rel in files:
        target_rel = _safe_member(rel)
        if target_rel.parts[0] not in FILE_ROOTS:
            raise BackupError(f"refusing to restore a file outside the stored-file roots: {rel!r}")
        member = members.get(f"files/{rel}")
        if member is None:
            raise BackupError(f"backup lacks the stored file {rel}")
        target = data_dir.joinpath(*target_rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        fh = tar.extractfile(member)
        assert fh is not None
        # Write next to the target, then rename: a crash never leaves a half-written file in place.
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
            shutil.copyfileobj(fh, out)
        os.replace(out.name, target)


def _advance_staged_audit_ids(conn: Any) -> None:
    """Staged audit entries get ids above every id ever staged, chained ones included (their `staged_id`
    is unique), not only above the rows left in `audit_staged`."""
    ever_staged = text(
        "SELECT max(v) FROM (SELECT max(staged_id) AS v FROM audit_events UNION ALL SELECT max(id) FROM audit_staged) t"
    )
    top = conn.execute(ever_staged).scalar() or 0
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_staged', 'id'), :v, false)"), {"v": top + 1})
    else:
        conn.execute(text("DELETE FROM sqlite_sequence WHERE name = 'audit_staged'"))
        conn.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES ('audit_staged', :v)"), {"v": top})


def _reset_sequences(conn: Any) -> None:
    """After explicit-id inserts, move each serial sequence past the largest id."""
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id":
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if seq:
            top = conn.execute(select(func.max(table.c.id))).scalar() or 0
            conn.execute(text("SELECT setval(:s, :v, false)"), {"s": seq, "v": top + 1})
