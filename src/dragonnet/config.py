"""Settings read from the environment (prefix DRAGONNET_). One place, so the docs can list them all."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("var")


class InvalidSetting(ValueError):
    """A setting in the environment that cannot be read; the message names the variable and what it takes."""


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
    # How long a thread holding the interpreter keeps it while another waits (`sys.setswitchinterval`), set by
    # a served worker at start; None leaves the interpreter's own (5 ms). A request that waits on the database
    # (or a Polars query) gives the interpreter up, and waits up to this long to get it back from a thread that
    # computes: a report (16 statements, 10 Polars queries) pays it ~26 times, a list ~4 times
    # (docs/benchmarks.md, thirteenth session).
    switch_interval: float | None = None

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
        session_hours=_session_hours(os.environ.get("DRAGONNET_SESSION_HOURS", "8")),
        secure_cookies=os.environ.get("DRAGONNET_SECURE_COOKIES", "0") == "1",
        warm_start=os.environ.get("DRAGONNET_WARM_START", "1") == "1",
        switch_interval=_switch_interval(os.environ.get("DRAGONNET_SWITCH_INTERVAL_MS", "1")),
    )


def _switch_interval(text: str) -> float:
    """`DRAGONNET_SWITCH_INTERVAL_MS` in seconds: a number of milliseconds from 0.1 to 100."""
    try:
        ms = float(text)
    except ValueError:
        ms = float("nan")
    if not 0.1 <= ms <= 100:  # also refuses nan and inf
        raise InvalidSetting(
            f"DRAGONNET_SWITCH_INTERVAL_MS={text!r}: give a number of milliseconds from 0.1 to 100 (default 1)"
        )
    return ms / 1000


def _session_hours(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 24 * 30:
        raise InvalidSetting(
            f"DRAGONNET_SESSION_HOURS={text!r}: give a whole number of hours from 1 to 720 (default 8)"
        )
    return int(text)


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
