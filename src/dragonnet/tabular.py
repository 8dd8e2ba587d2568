"""Reading spreadsheets people send, and writing cells they open: what every import and export of a file shares.

The limits and checks that keep a hostile file harmless (size, zip bombs, NUL bytes), the guess of a CSV's
encoding, the text of a workbook cell as the officer sees it, and the errors of an import: a whole file
rejected, or one cell of one row. Each capability reads its own columns on top of this. On the way out, one
rule for every CSV and XLSX dragonnet writes (cases, reports, audit log, error reports, screening hits): a text
cell a spreadsheet would evaluate as a formula gets a leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from dragonnet.errors import DragonnetError

MAX_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 100.0
HEADER_SCAN_ROWS = 30
XLSX_MAGIC = b"PK\x03\x04"


class ImportRejected(DragonnetError):
    """The file as a whole cannot be imported (format, size, encoding, headers). One message per file."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row. `row` is the 1-based row number in the source sheet (0: the file as a whole)."""

    row: int
    column: str
    value: str | None
    reason: str
    suggestion: str | None = None
    sheet: str = "items"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.sheet} row {self.row}, {self.column}"
        hint = f" (did you mean: {self.suggestion}?)" if self.suggestion else ""
        return f"{where}: {self.reason}{hint}"


# --- text files -------------------------------------------------------------------------------------------


def _gb_ratio(data: bytes) -> float:
    """The share of high bytes that form GB2312 double-byte pairs: near 1 for Chinese text, low for cp1252."""
    high = sum(1 for b in data if b >= 0x80)
    if not high:
        return 0.0
    pairs = len(re.findall(rb"[\xa1-\xf7][\xa1-\xfe]", data))
    return 2 * pairs / high


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def first_lines(text: str, count: int, prefix: int = 1 << 16) -> list[str]:
    """`text.splitlines()[:count]` without splitting the whole text (a 10^5-row file is 10^5 strings): the lines of
    a prefix that holds more than `count` line starts, grown until it does. Lines that start before the prefix's
    last line start end inside it, so they are the whole text's (a CR LF cut after its CR starts no line)."""
    size = max(prefix, 1)
    while size < len(text):
        lines = text[:size].splitlines()
        if len(lines) > count:
            return lines[:count]
        size *= 4
    return text.splitlines()[:count]


def decode(data: bytes, name: str = "file", score: Callable[[list[str]], int] | None = None) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), else GB18030 or cp1252.

    Between GB18030 and cp1252 (both decode most bytes), the one whose header row scores higher wins
    (`score`: how many cells of a row name known columns; the caller's format knows its headers); on a
    tie, GB18030 only when the high bytes look like GB2312 pairs. latin-1 is the last resort.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8-sig", data)]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [("utf-16", data)]
    else:
        utf16 = _utf16_without_bom(data[:4096])
        candidates = [(utf16, data)] if utf16 else []
    for encoding, raw in candidates:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            raise ImportRejected(f"{name}: the file says it is {encoding} but is not valid {encoding}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    decoded: dict[str, str] = {}
    for encoding in ("gb18030", "cp1252"):
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if not decoded:
        return data.decode("latin-1"), "latin-1"
    if len(decoded) == 1:
        encoding = next(iter(decoded))
        return decoded[encoding], encoding

    def header_score(text: str) -> int:
        if score is None:
            return 0
        rows = list(csv.reader(io.StringIO("\n".join(first_lines(text, HEADER_SCAN_ROWS)))))
        return max((score(r) for r in rows), default=0)

    gb, cp = header_score(decoded["gb18030"]), header_score(decoded["cp1252"])
    if gb > cp or (gb == cp and _gb_ratio(data[: 1 << 20]) >= 0.9):
        return decoded["gb18030"], "gb18030"
    return decoded["cp1252"], "cp1252"


# --- workbooks ---------------------------------------------------------------------------------------------


def check_zip(data: bytes, name: str) -> None:
    """Reject a workbook that is not a zip with [Content_Types].xml, or that looks like a zip bomb."""
    if not data.startswith(XLSX_MAGIC):
        raise ImportRejected(f"{name}: not an XLSX workbook (the content is not a zip file)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise ImportRejected(f"{name}: not an XLSX workbook (no [Content_Types].xml)")
            total = sum(i.file_size for i in infos)
            compressed = sum(i.compress_size for i in infos)
            if total > MAX_UNCOMPRESSED:
                raise ImportRejected(
                    f"{name}: rejected, the workbook would expand to {total / 1e6:.0f} MB "
                    f"(limit {MAX_UNCOMPRESSED / 1e6:.0f} MB)"
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > MAX_RATIO and info.file_size > 1_000_000:
                    raise ImportRejected(
                        f"{name}: rejected, member {info.filename!r} has a compression ratio of {ratio:.0f} "
                        f"(limit {MAX_RATIO:.0f}); it looks like a zip bomb"
                    )
            if compressed and total / compressed > MAX_RATIO and total > 1_000_000:
                raise ImportRejected(
                    f"{name}: rejected, compression ratio {total / compressed:.0f} (limit {MAX_RATIO:.0f}); "
                    "it looks like a zip bomb"
                )
    except zipfile.BadZipFile:
        raise ImportRejected(f"{name}: not an XLSX workbook (a damaged zip file)") from None


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def neutralise(value: Any) -> Any:
    """A cell value a spreadsheet will not evaluate: text starting with = + - @ tab CR gets a leading '.
    Numbers, booleans and None stay typed (XLSX keeps them as numbers); dates become ISO text."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return neutralise(str(value))


def safe_text(value: object) -> str:
    """`neutralise` for a text-only cell (a CSV writer's): None is the empty string, anything else its text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_text(value: Any) -> str | None:
    """A calamine cell value as the text the officer sees (dates ISO, whole floats without '.0')."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value)
    text = str(value)
    return text if text.strip() else None


# --- a Python rule over a column, settled column-wise where Polars means the same ------------------------------

PRINTABLE_ASCII = r"^[\x20-\x7E]*$"  # where upper case, NFKC and separators mean the same in Polars as in Python


def drop_columns(frame: pl.DataFrame, names: Iterable[str], *, strict: bool = True) -> pl.DataFrame:
    """`frame.drop(names)` as a selection of the other columns: no query (a frame operation is one, whose fixed
    cost a request's one-case frame pays in full)."""
    gone = set(names)
    if strict and not gone <= set(frame.columns):
        raise pl.exceptions.ColumnNotFoundError(sorted(gone - set(frame.columns)))
    return frame[[c for c in frame.columns if c not in gone]]


def printable_ascii(column: str) -> pl.Expr:
    """True where the text is printable ASCII only (the part a Polars expression can settle like Python)."""
    return pl.col(column).str.contains(PRINTABLE_ASCII)


def settled_or_rule(
    values: pl.Series, settled: pl.Expr, answer: pl.Expr, rule: Callable[[str], Any], dtype: Any = None
) -> pl.Series:
    """`rule` over a column, with the Python called as little as possible: where `settled` holds (an expression
    over the column named as `values`, usually `printable_ascii` and more) the answer is `answer`, computed
    column-wise; every other value goes through `rule` itself, once per distinct value. Null stays null. Each
    user keeps a property test that the column-wise answer is the rule's."""
    name = values.name
    dtype = dtype or values.dtype
    flags = values.to_frame().select(settled.fill_null(False).alias("settled"), answer.cast(dtype).alias("answer"))
    others = values.filter(~flags.get_column("settled")).drop_nulls().unique()
    if others.is_empty():
        return flags.get_column("answer").alias(name)
    slow = {v: rule(v) for v in others.to_list()}
    by_rule = values.replace_strict(slow, default=None, return_dtype=dtype)
    return (
        pl.select(
            pl.when(pl.lit(flags.get_column("settled")))
            .then(pl.lit(flags.get_column("answer")))
            .otherwise(pl.lit(by_rule))
        )
        .to_series()
        .alias(name)
    )
