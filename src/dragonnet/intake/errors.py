"""Errors of an import: a whole file rejected, or one cell of one row."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dragonnet.errors import DragonnetError


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
