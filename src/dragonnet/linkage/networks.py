"""Networks: cases connected through shared entities (resolved parties, containers, vehicles, phones...).

Pure functions over an access-scoped `Extract`: nodes are cases and entities; an entity seen in two cases or
more connects them; networks are the connected components of cases; an entity's centrality is the number of
the network's cases it touches (its degree in the case-entity graph), ties broken by kind and label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dragonnet.linkage.extract import Extract
from dragonnet.linkage.resolve import connected_components

ENTITY_KIND_LABELS = {
    "person": "Person", "company": "Company", "container": "Container", "vessel": "Vessel", "vehicle": "Vehicle",
    "phone": "Phone", "email": "E-mail", "passport": "Passport", "bank_account": "Bank account",
    "encoded_match": "Encoded match",
}  # fmt: skip


# Conveyances that carry many unrelated shipments (a vessel calls with thousands of containers): shown on a
# case, never a link between cases.
NON_LINKING_KINDS = frozenset({"vessel"})


@dataclass(frozen=True)
class Entity:
    key: str  # stable within one result: "party:<lowest party id>", "container:<number>", "match:<a>-<b>"
    kind: str
    label: str
    cases: tuple[int, ...]

    @property
    def kind_label(self) -> str:
        return ENTITY_KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Network:
    id: int  # 1-based rank: the largest network first
    cases: list[int]
    entities: list[Entity]
    agencies: list[str]
    countries: list[str]  # countries of the reporting agencies
    place_countries: list[str]
    commodities: list[str]
    products: list[str]
    phases: list[int]
    central: list[Entity] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.cases)


def party_entities(ex: Extract, links: Iterable[tuple[int, int]]) -> list[Entity]:
    """Resolved persons and companies: the clusters of `links`, restricted to parties in the extract."""
    ids = sorted(ex.parties)
    visible = set(ids)
    kept = [(a, b) for a, b in links if a in visible and b in visible]
    clusters = connected_components(ids, kept)
    members: dict[int, list[int]] = {}
    for pid, root in clusters.items():
        members.setdefault(root, []).append(pid)
    out = []
    for root, pids in members.items():
        names = Counter(ex.parties[p].party.name for p in pids)
        label = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        cases = tuple(sorted({ex.parties[p].case_id for p in pids}))
        out.append(Entity(f"party:{root}", ex.parties[root].party.kind, label, cases))
    return out


def identifier_entities(ex: Extract) -> list[Entity]:
    grouped: dict[tuple[str, str], set[int]] = {}
    shown: dict[tuple[str, str], str] = {}
    for ident in ex.identifiers:
        grouped.setdefault((ident.kind, ident.key), set()).add(ident.case_id)
        shown.setdefault((ident.kind, ident.key), ident.key)
    return [Entity(f"{k}:{v}", k, shown[(k, v)], tuple(sorted(c))) for (k, v), c in grouped.items()]


def match_entities(ex: Extract) -> list[Entity]:
    """Encoded matches: the hub found that two cases hold one party; neither name is known here."""
    return [
        Entity(f"match:{m.party_a}-{m.party_b}", "encoded_match", f"encoded match (Dice {m.dice:.2f})",
               tuple(sorted({m.case_a, m.case_b})))
        for m in ex.matches
    ]  # fmt: skip


def build_networks(ex: Extract, party_links: Iterable[tuple[int, int]] = (), *, min_cases: int = 2) -> list[Network]:
    """The networks of the extract: components of cases linked by entities seen in two cases or more."""
    entities = [
        e
        for e in (*party_entities(ex, party_links), *identifier_entities(ex), *match_entities(ex))
        if len(e.cases) >= 2 and e.kind not in NON_LINKING_KINDS and all(c in ex.cases for c in e.cases)
    ]
    edges = [(e.cases[0], c) for e in entities for c in e.cases[1:]]
    components = connected_components(sorted(ex.cases), edges)
    groups: dict[int, list[int]] = {}
    for cid, root in components.items():
        groups.setdefault(root, []).append(cid)
    by_root: dict[int, list[Entity]] = {}
    for e in entities:
        by_root.setdefault(components[e.cases[0]], []).append(e)

    networks: list[Network] = []
    for root, cids in groups.items():
        if len(cids) < min_cases:
            continue
        cases = [ex.cases[c] for c in sorted(cids)]
        ents = sorted(by_root.get(root, []), key=_centrality)
        networks.append(
            Network(
                id=0, cases=sorted(cids), entities=ents,
                agencies=sorted({c.agency for c in cases}),
                countries=sorted({c.agency_country for c in cases if c.agency_country}),
                place_countries=sorted({c.place_country for c in cases}),
                commodities=sorted({k for c in cases for k in c.commodities}),
                products=sorted({k for c in cases for k in c.products}),
                phases=sorted({c.phase for c in cases}),
                central=ents[:5],
            )
        )  # fmt: skip
    networks.sort(key=lambda n: (-n.size, n.cases[0]))
    for i, n in enumerate(networks, start=1):
        n.id = i
    return networks


def _centrality(e: Entity) -> tuple[int, str, str]:
    return (-len(e.cases), e.kind, e.label)


def graph_elements(ex: Extract, network: Network) -> list[dict[str, Any]]:
    """Cytoscape.js elements of one network: case nodes, entity nodes and case-entity edges."""
    elements: list[dict[str, Any]] = []
    for cid in network.cases:
        c = ex.cases[cid]
        elements.append(
            {"group": "nodes", "data": {
                "id": f"case-{cid}", "type": "case", "label": f"{c.agency} {c.case_ref}", "case_id": cid,
                "country": c.agency_country or "", "phase": c.phase, "commodities": ", ".join(c.commodities),
            }}
        )  # fmt: skip
    for i, e in enumerate(network.entities):
        nid = f"entity-{i}"
        elements.append(
            {"group": "nodes", "data": {"id": nid, "type": e.kind, "label": e.label, "kind": e.kind_label,
                                        "degree": len(e.cases)}}
        )  # fmt: skip
        for cid in e.cases:
            elements.append({"group": "edges", "data": {"id": f"{nid}-{cid}", "source": nid, "target": f"case-{cid}"}})
    return elements


def summary_rows(networks: Sequence[Network]) -> list[dict[str, Any]]:
    """One row per network, for tables and JSON."""
    return [
        {
            "network": n.id, "cases": n.size, "countries": n.countries, "agencies": n.agencies,
            "commodities": n.commodities, "products": n.products, "phases": n.phases,
            "central": [{"kind": e.kind, "label": e.label, "cases": len(e.cases)} for e in n.central],
        }
        for n in networks
    ]  # fmt: skip
