"""A real Spark standalone cluster on loopback for tests: one master and N workers, each its own JVM started
with the pyspark distribution's `spark-class`, as an operator starts them on separate machines.

    with standalone_cluster(workers=2) as cluster:
        SparkSession.builder.master(cluster.master_url)...   # or any job that takes --spark-master

Shared by the capabilities with Spark jobs (linkage, targeting). Everything listens on 127.0.0.1 only;
the processes are stopped (by their own ids) when the block ends. Needs Java (CI installs
openjdk-17-jre-headless).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 90


@dataclass(frozen=True)
class StandaloneCluster:
    master_url: str  # spark://127.0.0.1:PORT
    ui_url: str  # the master's web UI (its /json lists workers and applications)
    workers: int
    work_dir: Path  # each worker keeps its executors' folders under work_dir/worker-N/app-.../EXECUTOR

    def state(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as answer:
            data: dict[str, object] = json.loads(answer.read())
        return data

    def executor_dirs(self) -> list[Path]:
        """The executors the workers launched (one folder per application and executor)."""
        return sorted(p for p in self.work_dir.glob("worker-*/app-*/*") if p.is_dir())


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: object, what: str, procs: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a Spark daemon exited while waiting for {what}; logs in {logs}")
        try:
            if predicate():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}; logs in {logs}")


@contextmanager
def standalone_cluster(workers: int = 2, cores: int = 1, memory: str = "768m") -> Iterator[StandaloneCluster]:
    """Start a master and `workers` workers (each offering `cores` cores and `memory`), wait until every worker
    has registered, and stop them all afterwards."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("Spark needs Java: apt-get install openjdk-17-jre-headless")
    home = spark_home()
    base = Path(tempfile.mkdtemp(prefix="dragonnet-spark-"))
    env = {
        **os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_DAEMON_MEMORY": "256m",
        "PYSPARK_PYTHON": sys.executable, "SPARK_LOG_DIR": str(base / "logs"), "SPARK_NO_DAEMONIZE": "1",
    }  # fmt: skip
    spark_class = str(home / "bin" / "spark-class")
    port, ui = _free_port(), _free_port()
    master_url, ui_url = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}"
    procs: list[subprocess.Popen[bytes]] = []
    logs = base / "logs"
    logs.mkdir()

    def start(name: str, *args: str) -> None:
        log = (logs / f"{name}.log").open("wb")
        procs.append(subprocess.Popen([spark_class, *args], env=env, stdout=log, stderr=subprocess.STDOUT))

    cluster = StandaloneCluster(master_url, ui_url, workers, base)
    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
              "--webui-port", str(ui))  # fmt: skip
        _wait(lambda: cluster.state().get("status") == "ALIVE", "the master", procs, logs)
        for n in range(workers):
            work = base / f"worker-{n}"
            work.mkdir()
            start(f"worker-{n}", "org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1",
                  "--port", str(_free_port()), "--webui-port", str(_free_port()), "--cores", str(cores),
                  "--memory", memory, "--work-dir", str(work))  # fmt: skip
        _wait(lambda: int(cluster.state().get("aliveworkers", 0)) == workers,  # type: ignore[call-overload]
              f"{workers} workers to register", procs, logs)  # fmt: skip
        yield cluster
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
