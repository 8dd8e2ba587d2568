"""dragonnet served by uvicorn in a thread on a free loopback port, for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from dbtemplates import TEMPLATES
from dragonnet.app import create_app
from web.webtest import settings_for


@contextmanager
def serve(db_url: str, folder: Path) -> Iterator[str]:
    """Serve the (migrated, seeded) database at `db_url`; yields the base URL, stops the server after."""
    app = create_app(settings_for(db_url, folder))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # A short graceful shutdown: open event streams would otherwise hold the server for their timeout.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_seeded(folder: Path) -> Iterator[str]:
    """A fresh SQLite database in `folder`, migrated and seeded (tests/web/seed.py), served; yields the base URL.
    The database is a copy of the worker's seeded template (tests/dbtemplates.py)."""
    url, _seeded = TEMPLATES.clone("seeded", "sqlite", folder)
    with serve(url, folder) as base:
        yield base
