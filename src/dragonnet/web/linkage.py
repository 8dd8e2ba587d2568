"""Pages of the linkage capability: networks (table and graph), routes and trends, links to review, declarations
linked to cases.

Thin: every page reads through `dragonnet.linkage.service`, which starts from the viewer's access-scoped
extract. The graph itself is drawn by static/js/linkage.js from the JSON API (no inline script: CSP).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet.http.deps import CsrfRejected, DbSession, PageAuth
from dragonnet.http.security import tokens_match
from dragonnet.linkage import routes, service
from dragonnet.linkage.networks import Network
from dragonnet.operation.service import get_operation
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, Hidden, audit_actor
from dragonnet.reporting import charts
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


def record_entity_read(db: DbSession, actor: Actor, networks: list[Network], purpose: str) -> None:
    """Party names appear as entity labels: audit the read like any other nominal read."""
    parties = sorted({int(e.key.split(":", 1)[1]) for n in networks for e in n.entities if e.key.startswith("party:")})
    if parties:
        audit.record(db, audit_actor(actor), "nominal.read", "linkage_networks", None, parties=parties[:500],
                     purpose=purpose)  # fmt: skip


def record_declaration_read(
    db: DbSession, actor: Actor, rows: Sequence[service.CaseDeclarationLink], purpose: str
) -> None:
    """Declared and case parties' names, phones as evidence: audit the read like any other nominal read."""
    if rows:
        audit.record(db, audit_actor(actor), "nominal.read", "linkage_declaration_links", None,
                     parties=sorted({p for r in rows for p in r.case_parties})[:500],
                     declarations=sorted({r.declaration for r in rows})[:500], purpose=purpose)  # fmt: skip


# An evidence kind or nothing ("all" in the page's filter); an office as a UN/LOCODE-like code.
KindFilter = Annotated[
    str,
    Query(pattern="^(" + "|".join(service.EVIDENCE_KINDS) + ")?$", max_length=16,
          description="only links with this evidence: " + ", ".join(service.EVIDENCE_KINDS) + " (empty: all)"),
]  # fmt: skip
OfficeFilter = Annotated[
    str, Query(pattern="^[A-Za-z0-9]*$", max_length=16, description="only declarations lodged at this office")
]
DECLARATION_ROWS_SHOWN = 500


@router.get("/operations/{slug}/networks", response_class=HTMLResponse)
def networks_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth,
    min_countries: Annotated[int, Query(ge=1, le=30)] = 1,
) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    _ex, nets = service.networks_for(db, auth.actor, operation_id=op.id)
    shown = [n for n in nets if len(n.countries) >= min_countries][:200]
    record_entity_read(db, auth.actor, shown, "networks")
    return render(
        request, "linkage_networks.html",
        {"title": "Networks", "op": op, "networks": shown, "total": len(nets), "min_countries": min_countries,
         "run": service.latest_run(db)},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/networks/{number}", response_class=HTMLResponse)
def network_page(request: Request, slug: str, number: int, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    ex, nets = service.networks_for(db, auth.actor, operation_id=op.id)
    if not 1 <= number <= len(nets):
        raise Hidden(auth.actor, "network", number)
    network = nets[number - 1]
    record_entity_read(db, auth.actor, [network], "network graph")
    return render(
        request, "linkage_network.html",
        {"title": f"Network {number}", "op": op, "network": network,
         "cases": [ex.cases[c] for c in network.cases],
         "graph_url": f"/api/v1/operations/{op.slug}/networks/{number}/graph"},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/routes", response_class=HTMLResponse)
def routes_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth,
    phase: Annotated[int | None, Query(ge=1, le=50)] = None,
    compare: Annotated[int | None, Query(ge=1, le=50)] = None,
    commodity: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    ex = service.extract(db, auth.actor, operation_id=op.id)
    phases = sorted({c.phase for c in ex.cases.values()})
    current = phase if phase in phases else (phases[-1] if phases else None)
    other = compare if compare is not None else (current - 1 if current else None)
    commodity = commodity or None
    flows = routes.flows(ex, phase=current, commodity=commodity) if current else []
    changes = routes.trends(ex, other, current, commodity=commodity) if current and other in phases else []
    route_map = charts.route_map_of_legs(routes.legs(flows)) if flows else None
    return render(
        request, "routes_page.html",
        {"title": "Routes and trends", "op": op, "phases": phases, "phase": current, "compare": other,
         "route_map": route_map,
         "commodity": commodity or "", "flows": flows[:100], "changes": changes[:100], "alpha": routes.DEFAULT_ALPHA},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/declaration-links", response_class=HTMLResponse)
def declaration_links_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth, kind: KindFilter = "", office: OfficeFilter = ""
) -> Response:
    op = get_operation(db, slug)
    found = service.declaration_links_for(db, auth.actor, operation_id=op.id, kind=kind or None, office=office or None)
    shown = found.rows[:DECLARATION_ROWS_SHOWN]
    record_declaration_read(db, auth.actor, shown, "declaration links")
    return render(
        request, "linkage_declarations.html",
        {"title": "Declarations linked to cases", "op": op, "found": found, "rows": shown,
         "kinds": [(k, service.EVIDENCE_LABELS[k]) for k in service.EVIDENCE_KINDS], "kind": kind,
         "office": office.upper()},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/links", response_class=HTMLResponse)
def links_page(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    rows = service.review_links(db, auth.actor)
    notices = service.match_notices(db, auth.actor)
    party_ids = sorted({p.id for r in rows for p in (r.left, r.right)} | {n.party_id for n in notices})
    if party_ids:
        audit.record(db, audit_actor(auth.actor), "nominal.read", "linkage_links", None, parties=party_ids[:500],
                     purpose="link review")  # fmt: skip
    return render(
        request, "linkage_links.html",
        {"title": "Links to review", "op": op, "rows": rows, "notices": notices},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.post("/operations/{slug}/links/decide")
def decide(
    slug: str, db: DbSession, auth: PageAuth, left: Annotated[int, Form()], right: Annotated[int, Form()],
    decision: Annotated[str, Form(max_length=8)], csrf_token: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    service.decide(db, auth.actor, left, right, decision, note)
    return RedirectResponse(f"/operations/{op.slug}/links", status_code=303)
