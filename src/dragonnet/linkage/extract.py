"""The access-scoped extract every linkage result is computed from.

`extract(session, actor)` reads only what `actor` may see: cases through `case_visibility`, parties and
personal identifiers through the nominal rule (`visible_parties`, `visible_identifiers`), matches of the
privacy-preserving linkage only where the actor's agency is one of the two sides and both parties are in the
extract: the other side's owner agreed to share its case with its parties (`policy.matches`). Clusters and
networks are then built from this extract alone, so they cannot reveal a record the actor could not open.

`actor=None` is the operator's full extract (the CLI on the server, which has the database anyway);
`hub=True` is what the regional hub holds: every non-draft case and non-nominal identifier, no party at all,
and every match the hub computed from encodings.

With `declarations=True` the extract also holds the shipment declarations the actor may read (targeting's
rule: the importing agency's members who may target; the operator all; the hub none), their importers,
exporters and consignees as linkage records (source "declaration") and their container numbers and phones;
`declaration_links` then finds the cases and declarations that share an entity.
"""

# ruff: noqa: S608  (the declarations' SQL is assembled from this module's column names; values are bound)

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from sqlalchemy import ColumnElement, false, func, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.linkage import normalise
from dragonnet.linkage.resolve import PartyInput, connected_components
from dragonnet.policy.access import Actor, case_visibility, identifier_is_nominal, may_target, nominal_visibility
from dragonnet.storage.arrow import arrow_reader
from dragonnet.storage.linkage_models import PprlMatch
from dragonnet.storage.models import Agency, Case, CaseIdentifier, CaseTransit, Item, Party, Phase
from dragonnet.storage.scratch import scratch
from dragonnet.storage.targeting_models import TargetingBatch

# The reporting agency under its own alias: the policy's clauses correlate on `Agency` themselves.
ReportingAgency = aliased(Agency, name="reporting_agency")

LINK_IDENTIFIER_KINDS = ("container", "vessel", "vehicle", "phone", "email", "passport", "bank_account")


@dataclass(frozen=True)
class CaseInfo:
    id: int
    case_ref: str
    agency: str
    agency_country: str | None
    phase: int
    status: str
    seizure_date: dt.date
    place_country: str
    origin: str | None
    destination: str | None
    transits: tuple[str, ...]
    mode: str | None
    commodities: tuple[str, ...]
    products: tuple[str, ...]  # substances and taxa (normalised names)


@dataclass(frozen=True)
class PartyInfo:
    party: PartyInput
    case_id: int
    role: str


@dataclass(frozen=True)
class IdentifierInfo:
    case_id: int
    kind: str
    key: str  # the linkage key (E.164, ISO 6346 number, upper-case code)
    value: str  # as written
    party_id: int | None


@dataclass(frozen=True)
class MatchInfo:
    party_a: int
    party_b: int
    case_a: int
    case_b: int
    dice: float


@dataclass
class Extract:
    scope: str
    cases: dict[int, CaseInfo] = field(default_factory=dict)
    parties: dict[int, PartyInfo] = field(default_factory=dict)
    identifiers: list[IdentifierInfo] = field(default_factory=list)
    matches: list[MatchInfo] = field(default_factory=list)
    # Declarations and their linkage records (only when asked for: `extract(..., declarations=True)`).
    declarations: dict[str, DeclarationInfo] = field(default_factory=dict)
    declaration_parties: dict[int, DeclarationPartyInfo] = field(default_factory=dict)
    declaration_identifiers: list[DeclarationIdentifierInfo] = field(default_factory=list)
    # The cases as read, one Arrow row each (routes count from it); None for an extract built by hand.
    case_table: pa.Table | None = None


def _case_filter(actor: Actor | None, hub: bool) -> ColumnElement[bool]:
    if actor is not None:
        return case_visibility(actor)
    if hub:
        return Case.status != CaseStatus.DRAFT.value
    return true()


_TEXT_LIST = pa.list_(pa.string())
CASE_COLUMNS = (("id", pa.int64()), ("case_ref", pa.string()), ("agency", pa.string()),
                ("agency_country", pa.string()), ("phase", pa.int64()), ("status", pa.string()),
                ("seizure_date", pa.date32()), ("place_country", pa.string()), ("origin", pa.string()),
                ("destination", pa.string()), ("mode", pa.string()))  # fmt: skip
TRANSIT_COLUMNS = (("case_id", pa.int64()), ("position", pa.int64()), ("country", pa.string()))
ITEM_COLUMNS = (("case_id", pa.int64()), ("commodity_class", pa.string()), ("product", pa.string()))
# One row per case: its transits in order, its commodity classes and products (substance or taxon), sorted.
_CASE_TABLE_SQL = """
    WITH tr AS (SELECT case_id, list(country ORDER BY position) AS transits FROM transits GROUP BY case_id),
         it AS (SELECT case_id, list_sort(list(DISTINCT commodity_class)) AS commodities,
                       list_sort(list(DISTINCT product) FILTER (WHERE product IS NOT NULL)) AS products
                FROM items GROUP BY case_id)
    SELECT c.*, coalesce(tr.transits, []::VARCHAR[]) AS transits,
           coalesce(it.commodities, []::VARCHAR[]) AS commodities, coalesce(it.products, []::VARCHAR[]) AS products
    FROM cases c LEFT JOIN tr ON tr.case_id = c.id LEFT JOIN it ON it.case_id = c.id
    ORDER BY c.id
"""


def _case_table(session: Session, where: list[ColumnElement[bool]]) -> pa.Table:
    """The visible cases as one Arrow table (`CASE_COLUMNS` and the lists `transits`, `commodities` and
    `products`): read with the policy filter in SQL by `storage.arrow` (ADBC), assembled by DuckDB."""
    visible = select(Case.id).where(*where).scalar_subquery()
    product = func.coalesce(func.nullif(Item.substance, ""), func.nullif(Item.taxon, ""))
    with arrow_reader(session) as reader:
        cases, transits, items = reader.fetch_many([
            (select(Case.id, Case.case_ref, ReportingAgency.code, ReportingAgency.country, Phase.number, Case.status,
                    Case.seizure_date, Case.place_country, Case.origin_country, Case.destination_country,
                    Case.transport_mode)
             .join(ReportingAgency, ReportingAgency.id == Case.reporting_agency_id)
             .join(Phase, Phase.id == Case.phase_id)
             .where(*where), CASE_COLUMNS),
            (select(CaseTransit.case_id, CaseTransit.position, CaseTransit.country)
             .where(CaseTransit.case_id.in_(visible)), TRANSIT_COLUMNS),
            (select(Item.case_id, Item.commodity_class, product).where(Item.case_id.in_(visible)), ITEM_COLUMNS),
        ])  # fmt: skip
    con = scratch()
    try:
        for name, table in (("cases", cases), ("transits", transits), ("items", items)):
            con.register(name, table)
        return con.sql(_CASE_TABLE_SQL).to_arrow_table()
    finally:
        con.close()


def extract(
    session: Session, actor: Actor | None, *, operation_id: int | None = None, hub: bool = False,
    declarations: bool = False,
) -> Extract:  # fmt: skip
    """What `actor` may see, in bulk (None: the operator's full extract; hub: no nominal data).

    `declarations`: also the declarations `actor` may read (see `add_declarations`), lodged during the
    operation's phases when `operation_id` is given."""
    scope = actor.agency_code or "?" if actor is not None else ("hub" if hub else "operator")
    out = Extract(scope=str(scope))
    where = [_case_filter(actor, hub)]
    if operation_id is not None:
        where.append(Case.operation_id == operation_id)

    out.case_table = _case_table(session, where)
    columns = {name: out.case_table.column(name).to_pylist() for name in out.case_table.column_names}
    for i, cid in enumerate(columns["id"]):
        out.cases[cid] = CaseInfo(
            id=cid, case_ref=columns["case_ref"][i], agency=columns["agency"][i],
            agency_country=columns["agency_country"][i], phase=columns["phase"][i], status=columns["status"][i],
            seizure_date=columns["seizure_date"][i], place_country=columns["place_country"][i],
            origin=columns["origin"][i], destination=columns["destination"][i], transits=tuple(columns["transits"][i]),
            mode=columns["mode"][i], commodities=tuple(columns["commodities"][i]),
            products=tuple(columns["products"][i]),
        )  # fmt: skip

    nominal_ok: ColumnElement[bool]
    if actor is not None:
        nominal_ok = nominal_visibility(actor)
    else:
        nominal_ok = false() if hub else true()
    if not hub:
        # Plain rows, not ORM objects: an operator's run reads every party of the operation.
        for p in session.execute(
            select(Party.id, Party.kind, Party.name, Party.nationality, Party.birth_date, Party.id_number, Party.phone,
                   Party.email, Case.place_country, Party.address, Party.case_id, Party.role)
            .join(Case, Case.id == Party.case_id).where(*where, nominal_ok)
        ):  # fmt: skip
            out.parties[p.id] = PartyInfo(PartyInput(*p[:10]), p.case_id, p.role)

    ident_ok = or_(not_(identifier_is_nominal()), nominal_ok)
    keys: dict[tuple[str, str, str | None, str | None], str | None] = {}  # each distinct value normalised once
    for cid, kind, value, normalised, party_id, place_country in session.execute(
        select(
            CaseIdentifier.case_id, CaseIdentifier.kind, CaseIdentifier.value, CaseIdentifier.normalised,
            CaseIdentifier.party_id, Case.place_country,
        )
        .join(Case, Case.id == CaseIdentifier.case_id)
        .where(*where, ident_ok, CaseIdentifier.kind.in_(LINK_IDENTIFIER_KINDS))
    ):  # fmt: skip
        at = (kind, value, place_country, normalised)
        if at not in keys:
            keys[at] = normalise.identifier(kind, value, place_country) or normalise.code(normalised)
        key = keys[at]
        if key:
            out.identifiers.append(IdentifierInfo(cid, kind, key, value, party_id))

    if actor is not None or hub:  # the operator links in clear text: encoded matches add nothing
        out.matches = _matches(session, actor, set(out.cases), set(out.parties))
    if declarations:
        window = None
        if operation_id is not None:
            first, last = session.execute(
                select(func.min(Phase.start_date), func.max(Phase.end_date)).where(Phase.operation_id == operation_id)
            ).one()
            window = (first, last) if first and last else None
        add_declarations(session, actor, out, hub=hub, window=window)
    return out


def _matches(
    session: Session, actor: Actor | None, visible_cases: set[int], visible_parties: set[int]
) -> list[MatchInfo]:
    """Encoded matches as links: every match between non-draft cases for the hub; for a user, the matches of its
    agency whose other side it may see with its parties (its owner agreed: `policy.matches`). A match whose
    other side is not revealed stays a notice (hit / no hit) and links nothing."""
    query = select(PprlMatch)
    if actor is not None:
        if actor.agency_id is None:
            return []
        query = query.where(or_(PprlMatch.agency_a_id == actor.agency_id, PprlMatch.agency_b_id == actor.agency_id))
    found = []
    for m in session.execute(query).scalars():
        if m.case_a_id not in visible_cases or m.case_b_id not in visible_cases:
            continue
        if actor is not None and (m.party_a_id not in visible_parties or m.party_b_id not in visible_parties):
            continue
        found.append(MatchInfo(m.party_a_id, m.party_b_id, m.case_a_id, m.case_b_id, m.dice))
    return found


# --- declarations as a linkage source ------------------------------------------------------------------------
#
# The targeting capability keeps shipment declarations in Parquet files, one per import batch; a batch belongs
# to the agency that imported it (`TargetingBatch.agency_id`), and only that agency's members who may target
# (policy.access.may_target: not partner observers) see its declarations. The same rule applies here:
# a user's extract holds the declarations of the user's own agency's batches, the operator's all of them, the
# hub's none (importers and exporters are names: nominal data stays with its owner).
#
# Their parties become linkage records beside the cases' parties (source "declaration"): the importer (role
# consignee), the exporter (consignor) and, where a batch has the optional column `x_consignee`, a consignee
# distinct from the importer; phones from the optional columns `x_importer_phone`, `x_exporter_phone` and
# `x_consignee_phone`. One record per distinct party (role, name, phone) over all its declarations, so millions
# of declarations from a few thousand traders give a few thousand records. The conveyance reference becomes a
# container identifier when it is an ISO 6346 number. Addresses are not taken: the declaration column set has
# none.

DECLARATION_SOURCE = "declaration"
# Declaration party columns -> role (as targeting.service opens a case from a declaration: importer -> consignee).
DECLARATION_PARTY_COLUMNS = {"importer": "consignee", "exporter": "consignor", "x_consignee": "consignee"}
DECLARATION_PHONE_COLUMNS = {"importer": "x_importer_phone", "exporter": "x_exporter_phone",
                             "x_consignee": "x_consignee_phone"}  # fmt: skip
# Modes whose consignees are mostly people (parcels, passengers' baggage).
PERSONAL_MODES = frozenset({"postal", "express_courier", "air_passenger", "pedestrian"})
_CODE_LIKE = re.compile(r"^(?=.*\d)\S+$")  # one token with a digit: a trader's code (KCS "Importer ID")


@dataclass(frozen=True)
class DeclarationInfo:
    key: str  # "<batch id>/<declaration id>": unique across batches
    declaration_id: str
    batch_id: int
    agency: str | None  # the importing agency (None: imported without one; the operator's only)
    office: str
    date: dt.date
    mode: str | None


@dataclass(frozen=True)
class DeclarationPartyInfo:
    party: PartyInput  # party_id: negative, unique within the extract (case parties have positive ids)
    role: str
    declarations: tuple[str, ...]  # DeclarationInfo keys where this party appears in this role
    source: str = DECLARATION_SOURCE


@dataclass(frozen=True)
class DeclarationIdentifierInfo:
    declaration: str  # DeclarationInfo key
    kind: str  # container | phone
    key: str
    value: str
    source: str = DECLARATION_SOURCE


@dataclass(frozen=True)
class DeclarationLink:
    """A case and a declaration that share an entity: a resolved party, a company name or an identifier."""

    case_id: int
    declaration: str
    kind: str  # "party", "company_name", "container", "phone"
    entity: str  # "party:<lowest id of the cluster>", "company:<normalised name>" or "<kind>:<key>"


def declaration_party_kind(name: str, mode: str | None) -> str:
    """Declarations do not say person or company: codes and names with a legal form are companies; names on
    parcels and passengers' goods are people; other names are companies (formal declarations are traders')."""
    if _CODE_LIKE.match(name.strip()):
        return "company"
    tokens = normalise.name_tokens(name, kind="person")
    if tokens and normalise.strip_company_forms(tokens) != tokens:
        return "company"
    return "person" if mode in PERSONAL_MODES else "company"


def _parquet_relation(paths: Sequence[str]) -> str:
    """The batches' files as one DuckDB relation, with the file each row comes from (`filename`)."""
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{listed}], union_by_name=true, filename=true)"


def visible_batches(session: Session, actor: Actor | None, *, hub: bool = False) -> list[tuple[int, str | None, str]]:
    """(batch id, agency code, Parquet path) of the declaration batches `actor` may read."""
    if hub:
        return []
    query = select(TargetingBatch.id, Agency.code, TargetingBatch.path).outerjoin(
        Agency, Agency.id == TargetingBatch.agency_id
    )
    if actor is not None:
        if not may_target(actor):
            return []
        query = query.where(TargetingBatch.agency_id == actor.agency_id)
    return [(int(b), code, str(path)) for b, code, path in session.execute(query.order_by(TargetingBatch.id))]


def add_declarations(
    session: Session, actor: Actor | None, ex: Extract, *, hub: bool = False,
    window: tuple[dt.date, dt.date] | None = None,
) -> Extract:  # fmt: skip
    """Add the declarations `actor` may read (lodged within `window` when given) to `ex`, with their parties
    and container identifiers as linkage records. Batches whose file is gone are skipped."""
    batches = [(b, code, path) for b, code, path in visible_batches(session, actor, hub=hub) if Path(path).exists()]
    if not batches:
        return ex

    con = scratch()
    try:
        con.register("batches_in", pa.table({"batch_id": [b for b, _c, _p in batches],
                                              "agency": [c for _b, c, _p in batches],
                                              "filename": [p for _b, _c, p in batches]}))  # fmt: skip
        relation = _parquet_relation([p for _b, _c, p in batches])
        present = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
        col = {c: (c if c in present else f"CAST(NULL AS VARCHAR) AS {c}") for c in
               ("mode", "conveyance_ref", "origin_country", "loading_place", *DECLARATION_PARTY_COLUMNS,
                *DECLARATION_PHONE_COLUMNS.values())}  # fmt: skip
        where = "WHERE declaration_date BETWEEN $first AND $last" if window else ""
        con.execute(
            # One row per declaration and conveyance (a declaration has a row per declared item).
            f"CREATE TEMP TABLE d AS SELECT DISTINCT b.batch_id, b.agency, CAST(b.batch_id AS VARCHAR) || '/' || "
            f"CAST(x.declaration_id AS VARCHAR) AS key, CAST(x.declaration_id AS VARCHAR) AS declaration_id, "
            f"x.office_locode AS office, x.declaration_date AS day, {', '.join(col.values())} "
            f"FROM (SELECT * FROM {relation}) x JOIN batches_in b ON b.filename = x.filename {where}",
            {"first": window[0], "last": window[1]} if window else {},
        )
        for key, did, batch_id, agency, office, day, mode in con.execute(
            "SELECT DISTINCT key, declaration_id, batch_id, agency, office, day, mode FROM d ORDER BY batch_id, key"
        ).fetchall():
            ex.declarations[key] = DeclarationInfo(key, did, int(batch_id), agency, str(office), day, mode)
        # One record per distinct (party column, name, phone, personal mode or not), with its declarations.
        parts = " UNION ALL ".join(
            f"SELECT '{column}' AS source_column, trim(CAST({column} AS VARCHAR)) AS name, "
            f"CAST({DECLARATION_PHONE_COLUMNS[column]} AS VARCHAR) AS phone, "
            f"coalesce(list_contains($personal, mode), false) AS personal, key, "
            f"upper(substr(office, 1, 2)) AS office_country, "
            f"upper(substr(coalesce(origin_country, loading_place), 1, 2)) AS origin FROM d "
            f"WHERE {column} IS NOT NULL AND trim(CAST({column} AS VARCHAR)) <> ''"
            for column in DECLARATION_PARTY_COLUMNS
        )
        rows = con.execute(
            "SELECT source_column, name, phone, personal, min(office_country), min(origin), "
            f"list(DISTINCT key ORDER BY key) FROM ({parts}) GROUP BY source_column, name, phone, personal "
            "ORDER BY 1, 2, 3, 4",
            {"personal": sorted(PERSONAL_MODES)},
        ).fetchall()
        conveyances = con.execute(
            "SELECT DISTINCT key, conveyance_ref FROM d WHERE conveyance_ref IS NOT NULL ORDER BY key, conveyance_ref"
        ).fetchall()
    finally:
        con.close()
    next_id = -1 - len(ex.declaration_parties)
    for column, name, phone, personal, office_country, origin, keys in rows:
        kind = declaration_party_kind(name, "postal" if personal else None)  # any personal mode
        region = office_country if DECLARATION_PARTY_COLUMNS[column] == "consignee" else origin
        party = PartyInput(next_id, kind, name, None, None, name if _CODE_LIKE.match(name) else None, phone,
                           None, region or None)  # fmt: skip
        ex.declaration_parties[next_id] = DeclarationPartyInfo(party, DECLARATION_PARTY_COLUMNS[column], tuple(keys))
        e164 = normalise.e164(phone, region or None) if phone else None
        if e164:
            ex.declaration_identifiers += [DeclarationIdentifierInfo(k, "phone", e164, phone) for k in keys]
        next_id -= 1
    for key, ref in conveyances:
        found = normalise.container(str(ref))
        if found is not None:
            ex.declaration_identifiers.append(DeclarationIdentifierInfo(key, "container", found.number, str(ref)))
    return ex


def linkage_parties(ex: Extract) -> list[PartyInput]:
    """Every linkage record of the extract: the cases' parties, then the declarations' (negative ids)."""
    return [p.party for p in ex.parties.values()] + [p.party for p in ex.declaration_parties.values()]


def declaration_links(
    ex: Extract, party_links: Iterable[tuple[int, int]] = (), *, company_names: bool = True
) -> list[DeclarationLink]:
    """Cases and declarations of the extract that share an entity: a resolved party (the clusters of
    `party_links` over the extract's case and declaration parties), a container number or a phone; and, with
    `company_names`, a company whose normalised name (legal form dropped) is the same on both sides (kind
    "company_name": a lead for the analyst, weaker than a resolved party; today's Splink model does not link
    companies on their name alone)."""
    out: set[DeclarationLink] = set()
    ids = sorted([*ex.parties, *ex.declaration_parties])
    known = set(ids)
    clusters = connected_components(ids, [(a, b) for a, b in party_links if a in known and b in known])
    case_side: dict[int, set[int]] = {}
    for pid, info in ex.parties.items():
        case_side.setdefault(clusters[pid], set()).add(info.case_id)
    for pid, dinfo in ex.declaration_parties.items():
        root = clusters[pid]
        for case_id in case_side.get(root, ()):
            out.update(DeclarationLink(case_id, key, "party", f"party:{root}") for key in dinfo.declarations)
    if company_names:
        by_name: dict[str, set[int]] = {}
        for info in ex.parties.values():
            name = normalise.name_key(info.party.name, kind="company") if info.party.kind == "company" else None
            if name:
                by_name.setdefault(name, set()).add(info.case_id)
        for dinfo in ex.declaration_parties.values():
            if dinfo.party.kind != "company":
                continue
            name = normalise.name_key(dinfo.party.name, kind="company")
            for case_id in by_name.get(name or "", ()):
                out.update(
                    DeclarationLink(case_id, key, "company_name", f"company:{name}") for key in dinfo.declarations
                )
    by_key: dict[tuple[str, str], set[int]] = {}
    for ident in ex.identifiers:
        if ident.kind in ("container", "phone"):
            by_key.setdefault((ident.kind, ident.key), set()).add(ident.case_id)
    for dident in ex.declaration_identifiers:
        for case_id in by_key.get((dident.kind, dident.key), ()):
            out.add(DeclarationLink(case_id, dident.declaration, dident.kind, f"{dident.kind}:{dident.key}"))
    return sorted(out, key=lambda link: (link.case_id, link.declaration, link.kind, link.entity))
