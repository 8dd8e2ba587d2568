"""Settings read from the environment (prefix DRAGONNET_). One place, so the docs can list them all."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("var")


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str
    session_hours: int
    secure_cookies: bool
    # A served worker prepares itself before its first request (`app.warm_up`); off where apps are built by the
    # hundred (tests), on for `load_settings`, the servers' settings.
    warm_start: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read settings; defaults give the embedded SQLite database under ./var."""
    data_dir = Path(os.environ.get("DRAGONNET_DATA_DIR", str(DEFAULT_DATA_DIR)))
    url = os.environ.get("DRAGONNET_DATABASE_URL") or f"sqlite:///{data_dir / 'dragonnet.db'}"
    secret = os.environ.get("DRAGONNET_SECRET_KEY") or _persistent_secret(data_dir)
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=secret,
        session_hours=int(os.environ.get("DRAGONNET_SESSION_HOURS", "8")),
        secure_cookies=os.environ.get("DRAGONNET_SECURE_COOKIES", "0") == "1",
        warm_start=os.environ.get("DRAGONNET_WARM_START", "1") == "1",
    )


def _persistent_secret(data_dir: Path) -> str:
    """A random key kept in the data directory so sessions survive restarts without a configured key."""
    path = data_dir / "secret.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
