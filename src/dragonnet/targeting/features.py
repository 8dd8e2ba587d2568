"""History tables and the feature/scoring query, written once for DuckDB and Spark SQL.

Inputs (views/tables the engine registers first):
- `decl`: declarations to score or to train on (column set of `declarations`), `outcome` = the known
  inspection result (from the file or recorded by an officer; NULL when not inspected);
- `hist`: the history (every stored declaration with its known outcome);
- `flagged_parties(party)`: parties seen in seizure cases or on a watchlist (may be empty).

History tables built from `hist` (`history_sql`):
- `hs_ranges(hs, p05, p25, p50, p75, p95, n)`: value per kg quantiles per HS6 and per HS4 (`hs` is 6 or 4
  characters), as exact order statistics (row number floor(q(n-1))+1), so both engines give identical values;
- `party_stats(role, party, n, pos)`: inspections and seizures per importer, declarant, exporter and HS6.

Party history features are target-encoded from counts of *earlier* outcomes only. At training time
(`mode="train"`) the counts come from a window over strictly earlier days of the same data
(RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING over the day number); at scoring time from
`party_stats`, i.e. the outcomes known before the declarations being scored. Outcomes of the same day
or later never enter a row's features.
"""

# ruff: noqa: S608  (SQL is assembled from validated identifiers and escaped literals, see targeting.sql)

from __future__ import annotations

from dataclasses import dataclass

from dragonnet.targeting.profiles import MASK_BITS, PARTY_ROLES, QUANTILES, ProfileSet
from dragonnet.targeting.sql import Dialect

HISTORY_ROLES = {**{v: k for k, v in PARTY_ROLES.items()}, "hs": "hs6"}  # prefix -> column
MIN_RANGE_ROWS = 5
NUMERIC_RAW = ("declared_value", "gross_weight_kg", "quantity", "vpk", "hs_p50",
               *(f"{r}_{k}" for r in HISTORY_ROLES for k in ("n", "pos")), "rule_score")  # fmt: skip
CATEGORICAL_RAW = {
    "c_hs2": "substr(hs_code, 1, 2)",
    "c_hs4": "substr(hs_code, 1, 4)",
    "c_origin": "origin_country",
    "c_loading": "substr(loading_place, 1, 2)",
    "c_mode": "mode",
    "c_office": "office_locode",
    "c_currency": "currency",
}


@dataclass(frozen=True)
class Extras:
    """The optional x_ columns used as features: numeric and text (categorical)."""

    numeric: tuple[str, ...] = ()
    text: tuple[str, ...] = ()


def _quantile_cols(d: Dialect) -> str:
    cols = []
    for q in QUANTILES:
        frac = int(q[1:]) / 100
        cols.append(f"MAX(CASE WHEN rn = 1 + CAST(FLOOR({frac!r} * (n - 1)) AS BIGINT) THEN vpk END) AS {q}")
    return ", ".join(cols)


def history_sql(d: Dialect) -> dict[str, str]:
    """CREATE-able SELECTs of the history tables, over the view `hist`."""
    vpk = "CASE WHEN gross_weight_kg > 0 AND declared_value > 0 THEN declared_value / gross_weight_kg END"
    ranges = []
    for width in (6, 4):
        ranges.append(
            f"SELECT hs, {_quantile_cols(d)}, MAX(n) AS n FROM ("
            f" SELECT hs, vpk, ROW_NUMBER() OVER (PARTITION BY hs ORDER BY vpk) AS rn,"
            f" COUNT(*) OVER (PARTITION BY hs) AS n FROM ("
            f"  SELECT substr(hs_code, 1, {width}) AS hs, {vpk} AS vpk FROM hist"
            f"  WHERE hs_code IS NOT NULL AND length(hs_code) >= {width}) v WHERE vpk IS NOT NULL) t"
            f" GROUP BY hs HAVING MAX(n) >= {MIN_RANGE_ROWS}"
        )
    stats = []
    for role, column in HISTORY_ROLES.items():
        expr = "substr(hs_code, 1, 6)" if column == "hs6" else column
        stats.append(
            f"SELECT '{role}' AS role, {expr} AS party, COUNT(*) AS n, SUM(outcome) AS pos FROM hist"
            f" WHERE outcome IS NOT NULL AND {expr} IS NOT NULL GROUP BY {expr}"
        )
    return {"hs_ranges": " UNION ALL ".join(ranges), "party_stats": " UNION ALL ".join(stats)}


def _party_expr(role: str) -> str:
    return "hs6" if role == "hs" else HISTORY_ROLES[role]


def scoring_sql(d: Dialect, profiles: ProfileSet, extras: Extras, *, mode: str = "score") -> str:
    """The query over `decl` giving, per declaration: ids, label, rule score and masks, raw model inputs."""
    day = d.day_number("declaration_date")
    base = (
        f"SELECT *, {day} AS day_num, substr(hs_code, 1, 6) AS hs6, substr(hs_code, 1, 4) AS hs4_,"
        " CASE WHEN gross_weight_kg > 0 AND declared_value > 0 THEN declared_value / gross_weight_kg END AS vpk"
        " FROM decl"
    )
    party_cols = []
    joins = []
    for role in HISTORY_ROLES:
        col = _party_expr(role)
        if mode == "train":
            frame = f"PARTITION BY {col} ORDER BY day_num RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
            n = f"SUM(CASE WHEN outcome IS NOT NULL THEN 1 ELSE 0 END) OVER ({frame})"
            pos = f"SUM(COALESCE(outcome, 0)) OVER ({frame})"
            party_cols.append(f"CAST(CASE WHEN b.{col} IS NULL THEN 0 ELSE COALESCE({n}, 0) END AS DOUBLE) AS {role}_n")
            party_cols.append(
                f"CAST(CASE WHEN b.{col} IS NULL THEN 0 ELSE COALESCE({pos}, 0) END AS DOUBLE) AS {role}_pos"
            )
        else:
            joins.append(f"LEFT JOIN party_stats s_{role} ON s_{role}.role = '{role}' AND s_{role}.party = b.{col}")
            party_cols.append(f"CAST(COALESCE(s_{role}.n, 0) AS DOUBLE) AS {role}_n")
            party_cols.append(f"CAST(COALESCE(s_{role}.pos, 0) AS DOUBLE) AS {role}_pos")
    flags = []
    for role in PARTY_ROLES.values():
        col = HISTORY_ROLES[role]
        joins.append(f"LEFT JOIN flagged_parties f_{role} ON f_{role}.party = b.{col}")
        flags.append(f"CASE WHEN f_{role}.party IS NULL THEN 0 ELSE 1 END AS {role}_flagged")
    ranges = [f"COALESCE(r6.{q}, r4.{q}) AS hs_{q}" for q in QUANTILES]
    joined = (
        f"SELECT b.*, {', '.join(ranges)}, {', '.join(party_cols)}, {', '.join(flags)} FROM ({base}) b"
        " LEFT JOIN hs_ranges r6 ON r6.hs = b.hs6 LEFT JOIN hs_ranges r4 ON r4.hs = b.hs4_ " + " ".join(joins)
    )
    masks = [f"{m} AS mask_{i}" for i, m in enumerate(profiles.mask_sql(d))]
    extra_cols = [*extras.numeric, *extras.text]
    out = [
        "declaration_id",
        "declaration_date",
        "office_locode",
        "outcome AS label",
        f"{profiles.rule_score_sql(d)} AS rule_score",
        *masks,
        *[c for c in NUMERIC_RAW if c != "rule_score"],
        *[f"{expr} AS {name}" for name, expr in CATEGORICAL_RAW.items()],
        *extra_cols,
    ]
    return f"SELECT {', '.join(out)} FROM ({joined}) j"


def mask_count(profiles: ProfileSet) -> int:
    return -(-len(profiles.profiles) // MASK_BITS)
