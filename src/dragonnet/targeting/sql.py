"""The two SQL dialects the targeting queries are written once for: DuckDB and Spark SQL.

Only what differs is here (string literals, day numbers, exact quantiles, regular expressions); everything
else the queries use (CASE, COALESCE, LN, instr, lower, window frames over an integer day) means the same
in both, so the same query gives the same numbers on one machine and on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str

    def string(self, value: str) -> str:
        if self.name == "spark":
            # Spark SQL string literals treat the backslash as an escape character.
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    def day_number(self, column: str) -> str:
        """Days since 1970-01-01 as an integer (window frames are written over it)."""
        if self.name == "spark":
            return f"datediff({column}, DATE '1970-01-01')"
        return f"date_diff('day', DATE '1970-01-01', {column})"

    def quantile(self, expr: str, q: float) -> str:
        """Exact quantile with linear interpolation (the same definition in both engines)."""
        if self.name == "spark":
            return f"percentile({expr}, {q!r})"
        return f"quantile_cont({expr}, {q!r})"

    def regex(self, expr: str, pattern: str) -> str:
        if self.name == "spark":
            return f"({expr} RLIKE {self.string(pattern)})"
        return f"regexp_matches({expr}, {self.string(pattern)})"

    def date(self, value: str) -> str:
        return f"DATE '{value}'"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


def number(value: float) -> str:
    """A numeric literal that both engines read as DOUBLE."""
    return f"CAST({float(value)!r} AS DOUBLE)"
