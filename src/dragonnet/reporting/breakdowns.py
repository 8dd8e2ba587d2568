"""The debrief breakdowns, computed by DuckDB over the Arrow extract (SQL, not Python loops).

`prepare()` registers the extract's Arrow tables in an in-memory DuckDB and materialises the counted cases
(`c`: the rule's phase assignment, the filters, the concealment category, the number of items) and their
items (`i`). Each breakdown is a small function registered with `@breakdown` (like datasette's facets): it
runs its SQL for the chosen phase and the phase before it (parameters `$cur`, `$prev`) and returns a
`Breakdown`. `compute()` runs the headline and every registered breakdown, in registration order (the order
of the report). Breakdowns from other capabilities come through `hooks.debrief_breakdowns`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb

from dragonnet.i18n import N_, translatable
from dragonnet.operation.service import percent_change
from dragonnet.policy import cellkey
from dragonnet.reporting import concealment
from dragonnet.reporting.extract import Extract
from dragonnet.reporting.figures import Breakdown, Column, Headline, UnresolvedName
from dragonnet.reporting.rules import CountingRule, DateBasis
from dragonnet.storage.scratch import scratch

ROUTE_LIMIT = 30
CONCEALMENT_TEXT_LIMIT = 15


@dataclass(frozen=True)
class Computed:
    headline: Headline
    breakdowns: tuple[Breakdown, ...]


def _connect(ext: Extract) -> duckdb.DuckDBPyConnection:
    con = scratch()
    con.register("x_cases", ext.cases)
    con.register("x_items", ext.items)
    con.register("x_transits", ext.transits)
    con.register("x_phases", ext.phases)
    return con


def _phase_join(rule: CountingRule) -> str:
    """How a case (x) is assigned to a phase (p) under the rule's date basis."""
    if rule.date_basis is DateBasis.SEIZURE:
        return "p.id = x.phase_id"
    return "CAST(x.reported_date AS DATE) BETWEEN p.start_date AND p.end_date"


def prepare(
    ext: Extract, rule: CountingRule, *, commodity: str | None = None, country: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding `c` (counted cases with their phase) and `i` (their counted items).

    Both carry `ck_bits`, the record subsets of their case (policy.cellkey), for `compute_in_subsets`."""
    con = _connect(ext)
    phase_join = _phase_join(rule)
    where: list[str] = []
    params: dict[str, Any] = {}
    item_class = ""
    if commodity:
        where.append("EXISTS (SELECT 1 FROM x_items f WHERE f.case_id = x.id AND f.commodity_class = $commodity)")
        item_class = "AND it.commodity_class = $commodity"
        params["commodity"] = commodity
    if country:
        where.append("x.agency_country = $country")
        params["country"] = country
    where_sql = ("WHERE " + " AND ".join(where)) if where else ""
    con.execute(
        f"""
        CREATE TEMP TABLE c AS
        SELECT x.*, p.number AS phase, {concealment.sql_case("x.concealment")} AS conceal_cat,
               (SELECT count(*) FROM x_items it WHERE it.case_id = x.id {item_class}) AS n_items,
               {cellkey.subset_bits_sql("x.id")} AS ck_bits
        FROM x_cases x JOIN x_phases p ON {phase_join}
        {where_sql}
        """,  # noqa: S608 - only trusted SQL fragments are interpolated; values are parameters
        params,
    )
    con.execute(
        f"""
        CREATE TEMP TABLE i AS
        SELECT it.*, c.phase, c.agency_country, c.ck_bits
        FROM x_items it JOIN c ON c.id = it.case_id
        {"WHERE it.commodity_class = $commodity" if commodity else ""}
        """,  # noqa: S608
        {"commodity": commodity} if commodity else {},
    )
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    used = {k: v for k, v in params.items() if f"${k}" in sql}  # DuckDB refuses unused parameters
    return [tuple(r) for r in con.execute(sql, used).fetchall()]


CASE_DIM_COLUMNS = (
    Column("cases", N_("Cases"), "count", part_of="cases"),
    Column("previous_cases", N_("Cases, previous phase"), "count", part_of="previous_cases"),
    Column("change", N_("Change"), "change", ("cases", "previous_cases")),
    Column("change_pct", N_("Change %"), "pct", ("cases", "previous_cases")),
    Column("seizures", N_("Seized items"), "count", part_of="seizures"),
    Column("arrests", N_("Arrests"), "count", part_of="arrests"),
)


def _with_change(rows: list[tuple[Any, ...]], keys: int) -> tuple[tuple[Any, ...], ...]:
    """Rows of (key..., cases, previous, more...) with the change and change % inserted after `previous`."""
    out = []
    for row in rows:
        head, (cases, previous, *rest) = row[:keys], row[keys:]
        out.append((*head, cases, previous, cases - previous, percent_change(previous, cases), *rest))
    return tuple(out)


def _case_dim(
    con: duckdb.DuckDBPyConnection,
    key: str,
    label: str,
    title: str,
    expr: str,
    kind: str,
    p: dict[str, Any],
    *,
    public: bool = False,
    note: str = "",
) -> Breakdown:
    rows = _rows(
        con,
        f"""
        SELECT {expr} AS k,
               count(*) FILTER (WHERE phase = $cur) AS cases,
               count(*) FILTER (WHERE phase = $prev) AS previous_cases,
               coalesce(sum(n_items) FILTER (WHERE phase = $cur), 0) AS seizures,
               coalesce(sum(arrests) FILTER (WHERE phase = $cur), 0) AS arrests
        FROM c WHERE phase IN ($cur, $prev)
        GROUP BY 1 ORDER BY cases DESC, previous_cases DESC, k NULLS LAST
        """,  # noqa: S608
        p,
    )
    return Breakdown(key, title, (Column("key", label, kind), *CASE_DIM_COLUMNS), _with_change(rows, 1), note, public)


# --- the registry -----------------------------------------------------------------------------------------

Params = dict[str, Any]  # $cur and $prev: the phase and the previous phase (-1 when there is none)
BreakdownFunction = Callable[[duckdb.DuckDBPyConnection, Params], Breakdown]
BREAKDOWNS: dict[str, BreakdownFunction] = {}


def breakdown(key: str) -> Callable[[BreakdownFunction], BreakdownFunction]:
    """Register a breakdown under `key` (the key of the Breakdown it returns); the report keeps this order."""

    def register(fn: BreakdownFunction) -> BreakdownFunction:
        if key in BREAKDOWNS:
            raise ValueError(f"breakdown {key!r} is registered twice")
        BREAKDOWNS[key] = fn
        return fn

    return register


def compute(
    con: duckdb.DuckDBPyConnection, phase_number: int, previous_number: int | None, *, headline_only: bool = False
) -> Computed:
    """The headline and every breakdown of the debrief of `phase_number` (and the change against
    `previous_number`); with `headline_only`, no breakdown."""
    p: Params = {"cur": phase_number, "prev": previous_number if previous_number is not None else -1}
    return Computed(headline(con, p, has_previous=previous_number is not None),
                    () if headline_only else tuple(fn(con, p) for fn in BREAKDOWNS.values()))  # fmt: skip


@contextmanager
def _within_subsets(con: duckdb.DuckDBPyConnection) -> Iterator[Callable[[int], None]]:
    """While open, `c` and `i` can be narrowed to the cases of one record subset (policy.cellkey)."""
    con.execute("ALTER TABLE c RENAME TO c_all")
    con.execute("ALTER TABLE i RENAME TO i_all")

    def narrow(j: int) -> None:
        for table in ("c", "i"):
            con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {table}_all "  # noqa: S608
                        f"WHERE (ck_bits >> {int(j)}) & 1 = 1")  # fmt: skip

    try:
        yield narrow
    finally:
        con.execute("DROP VIEW IF EXISTS c")
        con.execute("DROP VIEW IF EXISTS i")
        con.execute("ALTER TABLE c_all RENAME TO c")
        con.execute("ALTER TABLE i_all RENAME TO i")


def compute_in_subsets(
    con: duckdb.DuckDBPyConnection, phase_number: int, previous_number: int | None, keys: Sequence[str]
) -> list[Computed]:
    """The headline and the breakdowns `keys` once within each record subset: with the full figures, the
    sketches that give every cell its key (policy.cellkey), whatever SQL a breakdown counts with."""
    p: Params = {"cur": phase_number, "prev": previous_number if previous_number is not None else -1}
    out = []
    with _within_subsets(con) as narrow:
        for j in range(cellkey.SUBSETS):
            narrow(j)
            out.append(Computed(headline(con, p, has_previous=previous_number is not None),
                                tuple(BREAKDOWNS[k](con, p) for k in keys)))  # fmt: skip
    return out


def phase_case_sketches(con: duckdb.DuckDBPyConnection, rule: CountingRule) -> dict[int, cellkey.Sketch]:
    """Each phase's whole set of counted cases (no filter), as sketches: the operation's published figures."""
    subsets = ", ".join(
        f"count(*) FILTER (WHERE ({cellkey.subset_bits_sql('x.id')} >> {j}) & 1 = 1)" for j in range(cellkey.SUBSETS)
    )
    rows = con.execute(
        f"SELECT p.number, count(*), {subsets} FROM x_cases x JOIN x_phases p ON {_phase_join(rule)} GROUP BY 1"  # noqa: S608
    ).fetchall()
    return {int(r[0]): cellkey.from_subsets(int(r[1]), [int(v) for v in r[2:]]) for r in rows}


def headline(con: duckdb.DuckDBPyConnection, p: Params, *, has_previous: bool) -> Headline:
    hl = con.execute(
        """
        SELECT count(*) FILTER (WHERE phase = $cur), count(*) FILTER (WHERE phase = $prev),
               coalesce(sum(n_items) FILTER (WHERE phase = $cur), 0),
               coalesce(sum(arrests) FILTER (WHERE phase = $cur), 0),
               count(DISTINCT agency_country) FILTER (WHERE phase = $cur),
               count(DISTINCT agency_id) FILTER (WHERE phase = $cur)
        FROM c WHERE phase IN ($cur, $prev)
        """,
        p,
    ).fetchone()
    assert hl is not None
    cases, prev_cases, seizures, arrests, n_countries, n_agencies = (int(v) for v in hl)
    has_prev = has_previous
    return Headline(
        cases=cases,
        previous_cases=prev_cases if has_prev else None,
        change_abs=cases - prev_cases if has_prev else None,
        change_pct=percent_change(prev_cases, cases) if has_prev else None,
        seizures=seizures,
        arrests=arrests,
        countries=n_countries,
        agencies=n_agencies,
    )


# --- the breakdowns, in the report's order --------------------------------------------------------------


@breakdown("by_phase")
def by_phase(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    phase_rows = _rows(
        con,
        """
        WITH cc AS (SELECT phase, count(*) AS n, coalesce(sum(n_items), 0) AS s, coalesce(sum(arrests), 0) AS a
                    FROM c GROUP BY phase)
        SELECT ph.number, ph.name, coalesce(cc.n, 0), coalesce(cc.s, 0), coalesce(cc.a, 0)
        FROM x_phases ph LEFT JOIN cc ON cc.phase = ph.number WHERE ph.number <= $cur ORDER BY ph.number
        """,
        {"cur": p["cur"]},  # a phase's debrief stops at that phase, as it was published at its end
    )
    by_phase_rows = []
    previous: int | None = None
    for number, name, n, s, a in phase_rows:
        change = None if previous is None else n - previous
        by_phase_rows.append((number, name, n, change, percent_change(previous, n), s, a))
        previous = n
    return Breakdown(
        "by_phase",
        N_("Cases by phase"),
        (
            Column("phase", N_("Phase"), "int"),
            Column("name", N_("Name")),
            Column("cases", N_("Cases"), "count"),
            Column("change", N_("Change on previous phase"), "change", ("cases",)),
            Column("change_pct", N_("Change %"), "pct", ("cases",)),
            Column("seizures", N_("Seized items"), "count"),
            Column("arrests", N_("Arrests"), "count"),
        ),
        tuple(by_phase_rows),
        public=True,
    )


@breakdown("by_country")
def by_country(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    return _case_dim(
        con,
        "by_country",
        N_("Country"),
        N_("Cases by reporting country"),
        "agency_country",
        "country",
        p,
        public=True,
        note=N_("by the country of the reporting agency"),
    )


@breakdown("by_seizure_country")
def by_seizure_country(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    return _case_dim(
        con,
        "by_seizure_country",
        N_("Country of seizure"),
        N_("Cases by country of seizure"),
        "place_country",
        "country",
        p,
        public=True,
    )


@breakdown("by_agency")
def by_agency(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    agency_rows = _rows(
        con,
        """
        SELECT agency_code, agency_country,
               count(*) FILTER (WHERE phase = $cur) AS cases, count(*) FILTER (WHERE phase = $prev) AS prev,
               coalesce(sum(n_items) FILTER (WHERE phase = $cur), 0),
               coalesce(sum(arrests) FILTER (WHERE phase = $cur), 0)
        FROM c WHERE phase IN ($cur, $prev)
        GROUP BY 1, 2 ORDER BY cases DESC, prev DESC, agency_code
        """,
        p,
    )
    return Breakdown(
        "by_agency",
        N_("Cases by reporting agency"),
        (Column("agency", N_("Agency")), Column("country", N_("Country"), "country"), *CASE_DIM_COLUMNS),
        _with_change(agency_rows, 2),
    )


@breakdown("by_commodity_class")
def by_commodity_class(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    class_rows = _rows(
        con,
        """
        SELECT commodity_class,
               count(DISTINCT case_id) FILTER (WHERE phase = $cur) AS cases,
               count(DISTINCT case_id) FILTER (WHERE phase = $prev) AS prev,
               count(*) FILTER (WHERE phase = $cur) AS seizures,
               coalesce(sum(mass_kg) FILTER (WHERE phase = $cur), 0) AS kg
        FROM i WHERE phase IN ($cur, $prev)
        GROUP BY 1 ORDER BY cases DESC, commodity_class
        """,
        p,
    )
    return Breakdown(
        "by_commodity_class",
        N_("Cases by commodity class"),
        (
            Column("commodity_class", N_("Commodity class"), "code"),
            Column("cases", N_("Cases"), "count", part_of="cases"),
            Column("previous_cases", N_("Cases, previous phase"), "count", part_of="previous_cases"),
            Column("change", N_("Change"), "change", ("cases", "previous_cases")),
            Column("change_pct", N_("Change %"), "pct", ("cases", "previous_cases")),
            Column("seizures", N_("Seized items"), "count", part_of="seizures"),
            Column("mass_kg", N_("Mass (kg)"), "amount", ("cases",)),
        ),
        tuple((k, n, pv, n - pv, percent_change(pv, n), s, kg) for k, n, pv, s, kg in class_rows),
        note=N_("a case counts once under each commodity class it holds items of"),
        public=True,
    )


@breakdown("by_substance_taxon")
def by_substance_taxon(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    subject_rows = _rows(
        con,
        """
        SELECT commodity_class,
               coalesce(substance, taxon) AS name,
               CASE WHEN coalesce(substance, taxon) IS NULL THEN coalesce(substance_text, taxon_text, '?') END
                   AS written,
               string_agg(DISTINCT cites_appendix, '/' ORDER BY cites_appendix) AS cites,
               count(DISTINCT case_id) AS cases, count(*) AS seizures,
               sum(mass_kg) AS kg,
               sum(quantity) FILTER (WHERE unit = 'pieces') AS pieces,
               sum(quantity) FILTER (WHERE unit = 'tablets') AS tablets,
               sum(CASE unit WHEN 'l' THEN quantity WHEN 'ml' THEN quantity / 1000.0 END) AS litres,
               sum(quantity) FILTER (WHERE unit = 'm3') AS m3
        FROM i WHERE phase = $cur
        GROUP BY 1, 2, 3 ORDER BY 1, cases DESC, coalesce(name, '(unresolved) ' || written)
        """,
        p,
    )
    # An unresolved substance or taxon is a code and the text as written; its label is made where it is shown.
    subject_rows = [(r[0], r[1] if r[1] is not None else UnresolvedName(r[2]), *r[3:]) for r in subject_rows]
    return Breakdown(
        "by_substance_taxon",
        N_("Cases by substance or taxon"),
        (
            Column("commodity_class", N_("Class"), "code"),
            Column("name", N_("Substance or taxon"), "subject"),
            Column("cites_appendix", N_("CITES appendix")),
            Column("cases", N_("Cases"), "count"),
            Column("seizures", N_("Seized items"), "count"),
            Column("mass_kg", N_("Mass (kg)"), "amount", ("cases",)),
            Column("pieces", N_("Pieces"), "amount", ("cases",)),
            Column("tablets", N_("Tablets"), "amount", ("cases",)),
            Column("litres", N_("Litres"), "amount", ("cases",)),
            Column("m3", N_("m³"), "amount", ("cases",)),
        ),
        tuple(subject_rows),
        note=N_("mass units summed as kg; pieces, tablets, litres and m³ kept apart (no invented conversions)"),
    )


@breakdown("quantities")
def quantities(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    quantity_rows = _rows(
        con,
        """
        SELECT commodity_class,
               CASE WHEN mass_kg IS NOT NULL THEN 'kg' WHEN unit IN ('l', 'ml') THEN 'l' ELSE unit END AS u,
               count(DISTINCT case_id) AS cases, count(*) AS seizures,
               sum(CASE WHEN mass_kg IS NOT NULL THEN mass_kg WHEN unit = 'ml' THEN quantity / 1000.0
                        ELSE quantity END) AS total
        FROM i WHERE phase = $cur
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        p,
    )
    return Breakdown(
        "quantities",
        N_("Quantities seized by unit"),
        (
            Column("commodity_class", N_("Class"), "code"),
            Column("unit", N_("Unit")),
            Column("cases", N_("Cases"), "count"),
            Column("seizures", N_("Seized items"), "count"),
            Column("total", N_("Total"), "amount", ("cases",)),
        ),
        tuple(quantity_rows),
        note=N_(
            "kg: every mass unit converted (g, t); l: litres and ml; pieces, tablets, m³ as reported; (not stated): "
            "seized items with no quantity recorded, counted as cases and left out of the totals"
        ),
    )


@breakdown("by_transport_mode")
def by_transport_mode(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    return _case_dim(
        con,
        "by_transport_mode",
        N_("Mode of transport"),
        N_("Cases by mode of transport"),
        "transport_mode",
        "code",
        p,
        public=True,
    )


@breakdown("by_place_type")
def by_place_type(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    return _case_dim(con, "by_place_type", N_("Place type"), N_("Cases by place type"), "place_type", "code", p)


@breakdown("by_detection_method")
def by_detection_method(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    return _case_dim(
        con,
        "by_detection_method",
        N_("Detection method"),
        N_("Cases by detection method"),
        "detection_method",
        "code",
        p,
    )


@breakdown("by_concealment")
def by_concealment(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    return _case_dim(
        con,
        "by_concealment",
        N_("Concealment"),
        N_("Cases by concealment category"),
        "conceal_cat",
        "concealment",
        p,
        note=N_("category derived from the concealment text by keyword rules"),
    )


@breakdown("concealment_texts")
def concealment_texts(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    texts = _rows(
        con,
        f"""
        SELECT concealment, conceal_cat, count(*) AS cases FROM c
        WHERE phase = $cur AND concealment IS NOT NULL AND trim(concealment) <> ''
        GROUP BY 1, 2 ORDER BY cases DESC, concealment LIMIT {CONCEALMENT_TEXT_LIMIT}
        """,  # noqa: S608
        p,
    )
    return Breakdown(
        "concealment_texts",
        N_("Most frequent concealment texts"),
        (
            Column("text", N_("Concealment as reported")),
            Column("category", N_("Category"), "concealment"),
            Column("cases", N_("Cases"), "count"),
        ),
        tuple(texts),
        note=translatable("the %(n)s most frequent texts of the phase", n=CONCEALMENT_TEXT_LIMIT),
    )


_TRANSIT_CTE = """
    t AS (SELECT case_id, string_agg(country, ' > ' ORDER BY position) AS path,
                 list(country ORDER BY position) AS tl
          FROM x_transits GROUP BY case_id)
"""


@breakdown("routes")
def routes(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    route_rows = _rows(
        con,
        f"""
        WITH {_TRANSIT_CTE}
        SELECT c.origin_country, coalesce(t.path, '') AS transit, c.destination_country, count(*) AS cases
        FROM c LEFT JOIN t ON t.case_id = c.id WHERE c.phase = $cur
        GROUP BY 1, 2, 3 ORDER BY cases DESC, 1 NULLS LAST, 2, 3 NULLS LAST LIMIT {ROUTE_LIMIT}
        """,  # noqa: S608
        p,
    )
    return Breakdown(
        "routes",
        N_("Most frequent routes"),
        (
            Column("origin", N_("Origin"), "country"),
            Column("transit", N_("Transit")),
            Column("destination", N_("Destination"), "country"),
            Column("cases", N_("Cases"), "count"),
        ),
        tuple(route_rows),
        note=translatable("the %(n)s most frequent origin > transit > destination routes of the phase", n=ROUTE_LIMIT),
    )


@breakdown("route_legs")
def route_legs(con: duckdb.DuckDBPyConnection, p: Params) -> Breakdown:
    leg_rows = _rows(
        con,
        f"""
        WITH {_TRANSIT_CTE},
        s AS (SELECT c.id, list_filter(list_concat([c.origin_country], coalesce(t.tl, []::VARCHAR[]),
                                                   [c.destination_country]), lambda x: x IS NOT NULL) AS s
              FROM c LEFT JOIN t ON t.case_id = c.id WHERE c.phase = $cur),
        legs AS (SELECT id, unnest(list_zip(s[1:len(s) - 1], s[2:len(s)])) AS leg FROM s WHERE len(s) >= 2)
        SELECT leg[1] AS a, leg[2] AS b, count(DISTINCT id) AS cases FROM legs
        WHERE leg[1] <> leg[2] GROUP BY 1, 2 ORDER BY cases DESC, a, b
        """,  # noqa: S608
        p,
    )
    return Breakdown(
        "route_legs",
        N_("Flows between countries (route legs)"),
        (
            Column("from", N_("From"), "country"),
            Column("to", N_("To"), "country"),
            Column("cases", N_("Cases"), "count"),
        ),
        tuple(leg_rows),
        note=N_("each leg of origin > transit > destination; a case counts once per leg"),
    )
