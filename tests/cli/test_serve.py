"""`dragonnet serve`: one process, or several workers on one listening socket.

A listening socket bound before the workers start (uvicorn's `--workers`) must still give each connection
TCP_NODELAY: without it every keep-alive request after a connection's first waits ~40 ms on the client's
delayed ACK (Nagle's algorithm holds the response's second segment). uvicorn before 0.55 bound it so
(Kludex/uvicorn#3149); the first test fails on such a version.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from dragonnet.cli.main import app


def test_a_socket_bound_for_workers_gives_its_connections_tcp_nodelay() -> None:
    async def accepted_nodelay() -> int:
        listener = uvicorn.Config(app="dragonnet.app:create_app", host="127.0.0.1", port=0).bind_socket()
        found: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                found.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(found, 10)
        finally:
            writer.close()
            server.close()

    # On a thread of its own: a browser test before this one may have left an event loop running on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, accepted_nodelay()).result(timeout=30) != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_with_workers_answers_on_kept_connections(tmp_path: Path) -> None:
    """`--workers 2` starts two worker processes on one port, which answer request after request on a kept
    connection; without a configured key, one is made in the data directory."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    assert CliRunner().invoke(app, ["init", "--database-url", url]).exit_code == 0
    data_dir, port = tmp_path / "data", _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DRAGONNET_SECRET_KEY"}
    env |= {"DRAGONNET_DATA_DIR": str(data_dir), "DRAGONNET_WARM_START": "0"}
    cmd = [sys.executable, "-m", "dragonnet.cli.main", "serve", "--database-url", url, "--port", str(port),
           "--workers", "2"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        connection = _connected(port, proc, log)
        for _ in range(5):  # one kept connection, request after request
            connection.request("GET", "/api/v1/health")
            response = connection.getresponse()
            assert (response.status, response.getheader("connection")) == (200, None)
            assert b'"status":"ok"' in response.read().replace(b" ", b"")
        connection.close()
        assert (data_dir / "secret.key").read_text().strip()
        assert ", 2 workers" in log.read_text()
        assert len(_children(proc.pid)) >= 2  # the two workers (and uvicorn's own helper process, if it starts one)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, read from /proc (no procps needed on a slim machine)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while being read
        if ppid == pid:
            children.append(int(stat.parent.name))
    return children


def _connected(port: int, proc: subprocess.Popen[bytes], log: Path) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/api/v1/health")
            connection.getresponse().read()
            return connection
        except OSError:
            connection.close()
        time.sleep(0.2)
    raise AssertionError("the server did not answer within 90 s")
