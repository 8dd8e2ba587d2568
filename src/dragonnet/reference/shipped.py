"""The reference data files the package ships (built by `scripts/build_*.py` from `../shared/data/`): where they
are, and the compacted form of the large ones: gzipped CSV whose first line names the dataset, the format, the
version of the source and its file (`#dragonnet-cites;format=1;version=...;source=...`), so that a file built
from another release, or another dataset, is known for what it is."""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path


def package_file(name: str) -> Path:
    """A file of `dragonnet/reference/data/`."""
    return Path(str(resources.files("dragonnet.reference").joinpath("data").joinpath(name)))


def write_compact(
    rows: Iterable[dict[str, str]], path: Path, *, magic: str, fields: Sequence[str], version: str, source: str
) -> int:
    """Write rows as gzipped CSV under a one-line header (reproducible: no file name or time in the gzip header);
    written to a temporary file and renamed, so a failed build leaves the old file. Answers the rows written."""
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as text,
    ):
        text.write(f"{magic};format=1;version={version};source={source}\n")
        writer = csv.DictWriter(text, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    os.replace(tmp, path)
    return n


def header_fields(first_line: str, magic: str) -> dict[str, str] | None:
    """The key=value parts of a compacted file's first line, or None when it is not `magic`'s."""
    if not first_line.startswith(magic):
        return None
    return dict(part.split("=", 1) for part in first_line.strip().split(";")[1:] if "=" in part)
