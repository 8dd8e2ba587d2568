"""Case intake: importing the exchange format (CSV / XLSX) into cases, atomically.

reader (bytes -> raw string table) -> headers (foreign headers -> exchange-format columns) -> normalise
(vectorised validation and reference lookups) -> importer (cases grouped, written in one transaction).
"""

from __future__ import annotations

from dragonnet.tabular import ImportRejected, RowError

__all__ = ["ImportRejected", "RowError"]
