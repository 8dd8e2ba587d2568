"""Attachments: type by content (JPEG, PNG, PDF, plain text only), size limit, content-addressed storage with
atomic writes, harmless names, served only through the access policy and always as a download."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dragonnet.errors import ValidationError
from dragonnet.messaging import attachments
from messaging.conftest import SCENARIO_ALERT, World, api_headers

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
TEXT = "Seizure report: 1.2 t of pangolin scales, Port Klang.\nĐã thu giữ.\n".encode()

REFUSED = {
    "html": b"<!doctype html><html><script>window.__xss=1</script></html>",
    "html_late": b"report\n\n<script>alert(1)</script>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "svg_bom": b"\xef\xbb\xbf  <?xml version='1.0'?><svg/>",
    "gif": b"GIF89a" + b"\x00" * 20,
    "zip": b"PK\x03\x04" + b"\x00" * 30,
    "elf": b"\x7fELF" + b"\x00" * 30,
    "binary": bytes(range(256)),
    "latin1": "caf\xe9".encode("latin-1"),
    "nul": b"text\x00with a NUL",
}


@pytest.mark.parametrize(
    ("data", "media_type"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (PDF, "application/pdf"), (TEXT, "text/plain")]
)
def test_accepted_types_by_content(tmp_path: Path, data: bytes, media_type: str) -> None:
    blob = attachments.store(tmp_path, io.BytesIO(data))
    assert blob.media_type == media_type
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert attachments.blob_path(tmp_path, blob.sha256).read_bytes() == data


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_everything_else_is_refused_and_nothing_stored(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError, match="only JPEG, PNG, PDF and plain-text"):
        attachments.store(tmp_path, io.BytesIO(REFUSED[name]))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_size_limit_and_empty(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="larger than the limit"):
        attachments.store(tmp_path, io.BytesIO(b"a" * 2000), limit=1000)
    with pytest.raises(ValidationError, match="empty"):
        attachments.store(tmp_path, io.BytesIO(b""))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_same_content_stored_once(tmp_path: Path) -> None:
    a = attachments.store(tmp_path, io.BytesIO(PNG))
    b = attachments.store(tmp_path, io.BytesIO(PNG))
    assert a == b
    assert len([p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]) == 1


def test_disk_full_is_a_clear_error_and_nothing_half_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(attachments.StorageFull, match=r"disk full.*nothing was stored"):
        attachments.store(tmp_path, io.BytesIO(PNG))
    monkeypatch.setattr(os, "replace", real_replace)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("given", "media_type", "expected"),
    [
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("..\\..\\windows\\win.ini", "text/plain", "win.ini.txt"),
        ("/abs/path/photo.png", "image/png", "photo.png"),
        ("report.html", "text/plain", "report.html.txt"),
        ("evil\r\nX-Header: 1.pdf", "application/pdf", "evilX-Header 1.pdf"),
        ('a"b<c>.jpg', "image/jpeg", "abc.jpg"),
        ("...", "image/png", "attachment.png"),
        ("", "application/pdf", "attachment.pdf"),
        (".bashrc", "text/plain", "bashrc.txt"),
    ],
)
def test_path_traversal_names_are_harmless(given: str, media_type: str, expected: str) -> None:
    assert attachments.safe_filename(given, media_type) == expected


def _alert(client: TestClient) -> int:
    response = client.post("/api/v1/alerts", json=SCENARIO_ALERT, headers=api_headers(client))
    assert response.status_code == 201, response.text
    alert_id: int = response.json()["id"]
    return alert_id


def test_upload_and_download_through_the_policy(world: World, login_as: Callable[[str], TestClient]) -> None:
    vn, my, th = login_as("vn_reporter"), login_as("my_cp"), login_as("th_reporter")
    alert_id = _alert(vn)
    url = f"/api/v1/alerts/{alert_id}/attachments"
    up = my.post(url, files={"file": ("../../../tmp/seizure.png", PNG, "text/html")}, headers=api_headers(my))
    assert up.status_code == 201, up.text
    att = up.json()
    assert att["media_type"] == "image/png" and att["filename"] == "seizure.png"
    # Stored under the data dir by sha256, nowhere else.
    stored = attachments.blob_path(world.data_dir, att["sha256"])
    assert stored.read_bytes() == PNG
    assert not Path("/tmp/seizure.png").exists()
    for client in (vn, my):
        for path in (att["url"], f"/attachments/{att['id']}"):
            got = client.get(path)
            assert got.status_code == 200 and got.content == PNG
            assert got.headers["content-disposition"].startswith("attachment;")
            assert got.headers["x-content-type-options"] == "nosniff"
            assert got.headers["content-type"] == "image/png"
    # A text file that claims to be HTML is served as plain text, as a download.
    text = my.post(url, files={"file": ("note.html", TEXT, "text/html")}, headers=api_headers(my)).json()
    got = vn.get(text["url"])
    assert (
        got.headers["content-type"] == "text/plain; charset=utf-8"
        and "note.html.txt" in got.headers["content-disposition"]
    )
    # HTML is refused whatever its name.
    bad = my.post(url, files={"file": ("photo.jpg", REFUSED["html"], "image/jpeg")}, headers=api_headers(my))
    assert bad.status_code == 422
    # Off the route: 404 for the attachment as for the alert, and no upload either.
    assert th.get(att["url"]).status_code == 404
    assert th.get(f"/attachments/{att['id']}").status_code == 404
    assert th.post(url, files={"file": ("x.png", PNG, "image/png")}, headers=api_headers(th)).status_code == 404
    assert vn.get("/api/v1/attachments/999999").status_code == 404


def test_oversized_upload_refused(
    world: World, login_as: Callable[[str], TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRAGONNET_ATTACHMENT_MAX_BYTES", "1000")
    vn = login_as("vn_reporter")
    alert_id = _alert(vn)
    big = b"a" * 5000
    r = vn.post(
        f"/api/v1/alerts/{alert_id}/attachments",
        files={"file": ("big.txt", big, "text/plain")},
        headers=api_headers(vn),
    )
    assert r.status_code == 422 and "limit" in r.json()["error"]["message"]
    assert (
        not (world.data_dir / "attachments").exists()
        or [p for p in (world.data_dir / "attachments").rglob("*") if p.is_file()] == []
    )
