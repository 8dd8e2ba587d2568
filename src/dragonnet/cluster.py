"""An existing Spark cluster and the shared folder the batch jobs (entity resolution, targeting) run through.

Below the capabilities (beside tabular): both jobs take the same master URL and working folder, write their
input there as Parquet, let the cluster's executors write their results beside it, and read them back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dragonnet.errors import ConfigurationError


@dataclass(frozen=True)
class SparkCluster:
    """An existing Spark cluster to run a batch job on, instead of a Spark inside this process.

    `master` is what `spark-submit --master` takes (spark://HOST:7077 for a standalone cluster, yarn,
    k8s://..., local[N]) or a Spark Connect URL (sc://HOST:15002). `workdir` is a directory this process and
    the cluster's executors both read and write: a path mounted at the same place on every machine, or an
    hdfs:// or s3a:// URI. Each run writes there under its own folder (`run_name`, default
    `<job>-<UTC time>-<random>`): the job's input and results as Parquet."""

    master: str
    workdir: str
    conf: Mapping[str, str] = field(default_factory=dict)
    run_name: str | None = None

    def session(self, app_name: str = "dragonnet-linkage") -> Any:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName(app_name)
        if self.master.startswith("sc://"):
            try:
                import grpc  # noqa: F401 - the Spark Connect client's transport
            except ImportError:
                raise ConfigurationError(
                    "a Spark Connect URL (sc://...) needs the Spark Connect client: pip install 'pyspark[connect]' "
                    "(grpcio, grpcio-status, googleapis-common-protos, zstandard); or use the cluster's master URL"
                ) from None
            builder = builder.remote(self.master)
        else:
            builder = builder.master(self.master).config("spark.ui.enabled", "false")
        builder = builder.config("spark.sql.session.timeZone", "UTC")
        for key, value in self.conf.items():
            builder = builder.config(key, value)
        if self.master.startswith("sc://"):
            return builder.getOrCreate()
        return get_or_create(builder, self.master)

    def run_dir(self, job: str = "linkage") -> str:
        return f"{self.workdir.rstrip('/')}/{self.run_name or new_run_name(job)}"


def get_or_create(builder: Any, master: str) -> Any:
    """`builder.getOrCreate()`, except that a session of this process bound to another master is stopped first.

    A JVM holds one SparkContext, and getOrCreate silently hands back the existing one with its master and its
    configuration: a job meant for a cluster would run in a local session left by an earlier job (or the reverse)."""
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    if active is not None and active.master != master:
        active.stop()
    return builder.getOrCreate()


def new_run_name(job: str = "linkage") -> str:
    return f"{job}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def parse_conf(items: list[str]) -> dict[str, str]:
    """KEY=VALUE settings given on a command line (--spark-conf)."""
    settings: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"--spark-conf takes KEY=VALUE, not {item!r}")
        settings[key.strip()] = value.strip()
    return settings


def _arrow_fs(uri: str) -> tuple[Any, str]:
    """The pyarrow filesystem and path of a Spark location (s3a:// is Spark's name for s3://)."""
    import pyarrow.fs as pafs

    if "://" not in uri:
        return pafs.LocalFileSystem(), uri
    return pafs.FileSystem.from_uri(uri.replace("s3a://", "s3://", 1))


def write_parquet(table: Any, uri: str) -> None:
    import pyarrow.parquet as pq

    fs, path = _arrow_fs(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    pq.write_table(table, path, filesystem=fs)


def copy_file(local: str, uri: str) -> None:
    """Copy a local file to the shared folder, streamed (declaration files may be gigabytes)."""
    import pyarrow.fs as pafs

    fs, path = _arrow_fs(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    pafs.copy_files(local, path, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)


def read_parquet(uri: str) -> Any:
    """A Parquet file or a folder of part files (as Spark writes them)."""
    import pyarrow.parquet as pq

    fs, path = _arrow_fs(uri)
    return pq.read_table(path, filesystem=fs)
