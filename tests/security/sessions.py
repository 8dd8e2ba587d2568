"""Log actors in without the password round-trip (Argon2 is slow on purpose): open server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select

from dragonnet.policy.users import open_session
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import User


@dataclass(frozen=True)
class Login:
    username: str
    cookie: str
    csrf: str


def open_sessions(db_url: str, usernames: list[str]) -> dict[str, Login]:
    engine = make_engine(db_url)
    out: dict[str, Login] = {}
    try:
        with session_scope(engine) as s:
            for name in usernames:
                user = s.execute(select(User).where(User.username == name)).scalar_one()
                token, ws = open_session(s, user, 8)
                out[name] = Login(name, token, ws.csrf_token)
    finally:
        engine.dispose()
    return out


def use(client: TestClient, login: Login | None) -> None:
    client.cookies.clear()
    if login is not None:
        client.cookies.set("dragonnet_session", login.cookie, domain="testserver.local", path="/")
