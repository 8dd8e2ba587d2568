"""Backup and restore round trips: every table, every stored file and the audit chain come back exactly."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from dragonnet.demo import build_demo
from dragonnet.policy import audit
from dragonnet.storage.backup import BackupError, backup, restore, stored_files, table_digests
from dragonnet.storage.db import make_engine


def _fill(engine: Engine, data_dir: Path) -> None:
    with Session(engine) as session:
        build_demo(session, seed=11)
        session.commit()
    files = data_dir / "attachments" / "ab" / "cd"
    files.mkdir(parents=True)
    (files / "abcdef").write_bytes(b"\x89PNG\r\n\x1a\n fake photo bytes")
    (data_dir / "secret.key").write_text("not part of a backup")


@pytest.mark.slow
def test_round_trip_restores_everything_exactly(engine: Engine, tmp_path: Path, empty_db_url: str) -> None:
    source_dir, target_dir = tmp_path / "source", tmp_path / "target"
    _fill(engine, source_dir)
    summary = backup(engine, source_dir, tmp_path / "b.tar.gz")
    assert summary.rows > 20000 and summary.files == 1 and summary.audit_entries > 50
    target = make_engine(empty_db_url)
    restored = restore(target, target_dir, tmp_path / "b.tar.gz")
    assert restored.rows == summary.rows and restored.audit_entries == summary.audit_entries
    assert table_digests(target) == table_digests(engine)
    assert stored_files(target_dir) == stored_files(source_dir)
    assert not (target_dir / "secret.key").exists()
    # The restored database keeps working: new ids do not collide, the chain goes on.
    with Session(target) as session:
        audit.record(session, audit.SYSTEM, "restore.check")
        session.commit()
        assert audit.verify(session).ok
    with pytest.raises(BackupError, match="holds data already"):
        restore(target, target_dir, tmp_path / "b.tar.gz")
    target.dispose()


def test_restore_refuses_a_tampered_or_foreign_archive(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no backup file"):
        restore(engine, tmp_path, tmp_path / "missing.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(BackupError, match="not a dragonnet backup"):
        restore(engine, tmp_path, tmp_path / "junk.tar.gz")
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        payload = tmp_path / "p"
        payload.write_text("x")
        tar.add(payload, arcname="../../escape")
    with pytest.raises(BackupError, match="outside the archive root"):
        restore(engine, tmp_path, evil)
    assert not (tmp_path.parent / "escape").exists()


def test_restore_detects_a_changed_row(engine: Engine, tmp_path: Path, empty_db_url: str) -> None:
    with Session(engine) as session:
        audit.record(session, audit.SYSTEM, "one")
        audit.record(session, audit.SYSTEM, "two")
        session.commit()
    backup(engine, tmp_path, tmp_path / "b.tar.gz")
    # Rewrite the archive with one audit row changed but the manifest kept.
    import gzip
    import io

    with tarfile.open(tmp_path / "b.tar.gz", "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    rows = gzip.decompress(members["tables/audit_events.jsonl.gz"]).replace(b'"one"', b'"0ne"')
    members["tables/audit_events.jsonl.gz"] = gzip.compress(rows)
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = make_engine(empty_db_url)
    with pytest.raises(BackupError, match="audit_events differs"):
        restore(target, tmp_path / "t", tmp_path / "t.tar.gz")
    target.dispose()


def test_backup_of_an_uninitialised_database_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    with pytest.raises(BackupError, match="no dragonnet schema"):
        backup(engine, tmp_path, tmp_path / "b.tar.gz")
