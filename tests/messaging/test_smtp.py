"""E-mail delivery through a local SMTP server (aiosmtpd on loopback): restricted content stays in dragonnet."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from messaging.conftest import SCENARIO_ALERT, World, api_headers
from web.seed import SLUG


class Collect:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        data: bytes = envelope.content  # type: ignore[attr-defined]
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(data)))  # type: ignore[attr-defined]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collect]:
    handler = Collect()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DRAGONNET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRAGONNET_SMTP_PORT", str(port))
    monkeypatch.setenv("DRAGONNET_SMTP_FROM", "alerts@dragonnet.example")
    monkeypatch.setenv("DRAGONNET_BASE_URL", "https://dragonnet.example")
    yield handler
    controller.stop()


def test_alert_and_answers_are_mailed_with_their_sharing_level(
    smtp: Collect, world: World, login_as: Callable[[str], TestClient]
) -> None:
    vn, _my = login_as("vn_reporter"), login_as("my_cp")
    alert = vn.post("/api/v1/alerts", json=SCENARIO_ALERT, headers=api_headers(vn)).json()
    by_rcpt = {r[0]: m for rcpts, m in smtp.messages for r in [rcpts]}
    # Malaysia's contact point and the regional analyst have addresses; the observer and Thailand get nothing.
    assert set(by_rcpt) == {"my.cp@customs.example", "analyst@rilo.example"}
    mail = by_rcpt["my.cp@customs.example"]
    assert mail["From"] == "alerts@dragonnet.example"
    assert mail["X-TLP"] == "TLP:AMBER"
    assert mail["Subject"].startswith("[TLP:AMBER]")
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"https://dragonnet.example/alerts/{alert['id']}" in body
    # AMBER content does not travel by e-mail: no title, no identifiers.
    assert SCENARIO_ALERT["title"] not in body + mail["Subject"] and "MSCU" not in body

    # A GREEN bulletin's subject may travel.
    smtp.messages.clear()
    r = vn.post(
        "/api/v1/bulletins",
        json={
            "operation": SLUG,
            "title": "Scales hidden in frozen fish",
            "body": "MO note",
            "sharing_level": "green",
            "to_all": True,
        },
        headers=api_headers(vn),
    )
    assert r.status_code == 201, r.text
    subjects = {m["Subject"] for _, m in smtp.messages}
    assert "[TLP:GREEN] Bulletin: Scales hidden in frozen fish" in subjects


def test_smtp_down_keeps_the_mail_for_later(
    world: World, login_as: Callable[[str], TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from dragonnet.storage.messaging_models import EmailOutbox

    monkeypatch.setenv("DRAGONNET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRAGONNET_SMTP_PORT", str(_free_port()))
    vn = login_as("vn_reporter")
    r = vn.post("/api/v1/alerts", json=SCENARIO_ALERT, headers=api_headers(vn))
    assert r.status_code == 201  # the alert lands even though the mail server is down
    with world.session() as s:
        rows = s.execute(select(EmailOutbox)).scalars().all()
        assert rows and all(row.sent_at is None and row.attempts == 1 and row.last_error for row in rows)
