"""The mapping file operations share: CSV (a header row) or YAML (`mappings:`), the same fields either way.

    kind,text,country,target,not_listed,agency,note
    taxon,Birds,,Aves,,,group name of the ROUTES records
    place,Kotoka Airprot,GH,GHACC,,,
    taxon,Chinese Hwameis,,,true,,a songbird CITES does not list

`kind` is taxon, place, substance, country or hs_code; `text` the value as written; `country` the context of a
place (ISO code or name; empty: any country); `target` the reference entry (a UN/LOCODE or IATA/ICAO code, a
taxon's accepted name, a substance, an ISO country code, an HS code), empty when `not_listed` is true; `agency`
the agency the mapping is for (empty: the whole operation). Written CSV cells are safe against formula injection;
YAML is read without aliases.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from dragonnet.errors import ValidationError
from dragonnet.tabular import ImportRejected, decode, safe_text

FIELDS = ("kind", "text", "country", "target", "not_listed", "agency", "note")
FORMATS = ("csv", "yaml")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
_TRUE = {"1", "true", "yes", "y", "x", "not listed", "not_listed"}


@dataclass(frozen=True)
class FileRow:
    line: int  # the row's line (CSV) or its position in the list (YAML), for the per-row report
    kind: str
    text: str
    country: str
    target: str
    not_listed: bool
    agency: str
    note: str


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in _TRUE


def _row(line: int, raw: dict[str, Any]) -> FileRow:
    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    target = text("target")
    if target.startswith("'") and target[1:2] in ("=", "+", "-", "@"):
        target = target[1:]  # a cell neutralised by our own export
    return FileRow(line, text("kind").lower(), text("text"), text("country"), target,
                   _flag(raw.get("not_listed")), text("agency").upper(), text("note"))  # fmt: skip


class _NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader refusing aliases: a small file may not expand into a huge one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ValidationError("YAML aliases (*name) are not accepted in a mapping file")
        return super().compose_node(parent, index)


def read(data: bytes, filename: str) -> list[FileRow]:
    """The rows of a mapping file (CSV or YAML by its extension); ImportRejected when the file as a whole is wrong."""
    if len(data) > MAX_BYTES:
        raise ImportRejected(f"{filename}: over the {MAX_BYTES // (1024 * 1024)} MB limit of a mapping file")
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        rows = _read_yaml(data, filename)
    elif name.endswith((".csv", ".txt")):
        rows = _read_csv(data, filename)
    else:
        raise ImportRejected(f"{filename}: a mapping file is .csv or .yaml")
    if len(rows) > MAX_ROWS:
        raise ImportRejected(f"{filename}: more than {MAX_ROWS} mappings")
    return rows


def _read_csv(data: bytes, filename: str) -> list[FileRow]:
    text, _encoding = decode(data, filename)
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [f for f in ("kind", "text") if f not in headers]
    if missing:
        raise ImportRejected(f"{filename}: missing column(s) {', '.join(missing)}; the columns are {', '.join(FIELDS)}")
    reader.fieldnames = headers
    return [_row(n, r) for n, r in enumerate(reader, start=2) if any((v or "").strip() for v in r.values() if v)]


def _read_yaml(data: bytes, filename: str) -> list[FileRow]:
    text, _encoding = decode(data, filename)
    loader = _NoAliasLoader(text)
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ImportRejected(f"{filename}: not YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        raise ImportRejected(f"{filename}: {exc.message}") from None
    finally:
        loader.dispose()
    entries = doc.get("mappings") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise ImportRejected(f"{filename}: expected `mappings:` with a list of mappings")
    rows = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ImportRejected(f"{filename}: mapping {n} is not a mapping of fields ({', '.join(FIELDS)})")
        rows.append(_row(n, entry))
    return rows


def write(rows: Iterable[dict[str, Any]], fmt: str, *, header: str = "") -> str:
    """The mapping file of `rows` (dicts with FIELDS) as CSV or YAML."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; use csv or yaml")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow([safe_text("true" if f == "not_listed" and r.get(f) else r.get(f) or "") for f in FIELDS])
        return out.getvalue()
    entries = []
    for r in rows:
        entry = {f: r[f] for f in FIELDS if r.get(f) not in (None, "", False)}
        entries.append(entry)
    body = yaml.safe_dump({"mappings": entries}, allow_unicode=True, sort_keys=False, width=120)
    return (f"# {header}\n" if header else "") + body


__all__ = ["FIELDS", "FORMATS", "FileRow", "read", "write"]
