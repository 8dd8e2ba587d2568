"""Pages of the linkage capability: networks (table and graph), routes and trends, links to review and match
notices (with the requests that reveal their other side), declarations linked to cases.

Thin: every page reads through `dragonnet.linkage.service`, which starts from the viewer's access-scoped
extract. The graph itself is drawn by static/js/linkage.js from the JSON API (no inline script: CSP).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from dragonnet.errors import ValidationError
from dragonnet.http.deps import CsrfRejected, DbSession, PageAuth
from dragonnet.http.params import KindFilter, OfficeFilter
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_, translate
from dragonnet.i18n import lazy_gettext as _l
from dragonnet.linkage import routes, service
from dragonnet.operation.service import get_operation
from dragonnet.policy.access import may_adopt_threshold
from dragonnet.reporting import charts
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)


NETWORKS_SHOWN = 200
DECLARATION_ROWS_SHOWN = 500


@router.get("/operations/{slug}/networks", response_class=HTMLResponse)
def networks_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth,
    min_countries: Annotated[int, Query(ge=1, le=30)] = 1,
) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    read = service.read_networks(
        db, auth.actor, operation_id=op.id, min_countries=min_countries, limit=NETWORKS_SHOWN, purpose="networks"
    )
    return render(
        request, "linkage_networks.html",
        {"title": N_("Networks"), "op": op, "networks": read.networks, "total": read.total,
         "min_countries": min_countries, "run": service.latest_run(db)},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/networks/{number}", response_class=HTMLResponse)
def network_page(request: Request, slug: str, number: int, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    ex, network = service.read_network(db, auth.actor, operation_id=op.id, number=number, purpose="network graph")
    return render(
        request, "linkage_network.html",
        {"title": _l("Network %(number)s", number=number), "op": op, "network": network,
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
        {"title": N_("Routes and trends"), "op": op, "phases": phases, "phase": current, "compare": other,
         "route_map": route_map,
         "commodity": commodity or "", "flows": flows[:100], "changes": changes[:100], "alpha": routes.DEFAULT_ALPHA},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/declaration-links", response_class=HTMLResponse)
def declaration_links_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth, kind: KindFilter = "", office: OfficeFilter = ""
) -> Response:
    op = get_operation(db, slug)
    found, shown = service.read_declaration_links(
        db,
        auth.actor,
        operation_id=op.id,
        kind=kind or None,
        office=office or None,
        limit=DECLARATION_ROWS_SHOWN,
        purpose="declaration links",
    )
    return render(
        request, "linkage_declarations.html",
        {"title": N_("Declarations linked to cases"), "op": op, "found": found, "rows": shown,
         "kinds": [(k, service.EVIDENCE_LABELS[k]) for k in service.EVIDENCE_KINDS], "kind": kind,
         "office": office.upper()},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/links", response_class=HTMLResponse)
def links_page(request: Request, slug: str, db: DbSession, auth: PageAuth) -> Response:
    op = get_operation(db, slug)
    rows, notices = service.read_link_review(db, auth.actor, purpose="link review")
    screening = service.read_screening_notices(db, auth.actor, purpose="link review")
    return render(
        request, "linkage_links.html",
        {"title": N_("Links to review"), "op": op, "rows": rows, "notices": notices,
         "screening_notices": screening},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.get("/operations/{slug}/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(
    request: Request, slug: str, notice_id: int, db: DbSession, auth: PageAuth,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:  # fmt: skip
    op = get_operation(db, slug)
    notice = service.read_notice(db, auth.actor, notice_id, purpose="match notice")
    return render(
        request, "linkage_notice.html",
        {"title": _l("Match notice %(id)s", id=notice.id), "op": op, "n": notice, "error": error,
         "reason_min": service.REASON_MIN, "reason_max": service.REASON_MAX},
        auth=auth, operation_slug=op.slug, active="networks",
    )  # fmt: skip


@router.post("/operations/{slug}/notices/{notice_id}/request")
def notice_request(
    slug: str, notice_id: int, db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    try:
        service.request_disclosure(db, auth.actor, notice_id, reason)
    except ValidationError as exc:
        db.rollback()
        return RedirectResponse(f"/operations/{op.slug}/notices/{notice_id}?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"/operations/{op.slug}/notices/{notice_id}", status_code=303)


@router.post("/operations/{slug}/requests/{request_id}/decide")
def request_decide(
    slug: str, request_id: int, db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()],
    decision: Annotated[str, Form(max_length=8)] = "", reason: Annotated[str, Form(max_length=4000)] = "",
    notice: Annotated[int, Form()] = 0, screening_notice: Annotated[int, Form()] = 0,
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    back = f"/operations/{op.slug}/links"  # where an error is shown: the notice the form was on, if any
    if notice > 0:
        back = f"/operations/{op.slug}/notices/{notice}"
    elif screening_notice > 0:
        back = f"/operations/{op.slug}/screening/notices/{screening_notice}"
    try:
        done = service.decide_request(db, auth.actor, request_id, decision, reason)
    except ValidationError as exc:
        db.rollback()
        return RedirectResponse(f"{back}{'&' if '?' in back else '?'}error={quote(str(exc))}", status_code=303)
    if done.notice_id is not None:
        back = f"/operations/{op.slug}/notices/{done.notice_id}"
    elif done.screening_notice_id is not None:
        back = f"/operations/{op.slug}/screening/notices/{done.screening_notice_id}"
    return RedirectResponse(back, status_code=303)


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


# --- calibrated threshold ---------------------------------------------------------------------------------------

RULE_LABELS = {"best_f1": N_("best F1"), "precision_target": N_("precision target"), "chosen": N_("chosen")}
PRECISION = N_("precision")
RECALL = N_("recall")
F1 = N_("F1")


def _curve_chart(view: service.ThresholdView) -> charts.Chart | None:
    """Precision, recall and F1 against the threshold (lines), the suggestion and the adopted threshold as rules."""
    points = view.calibration.points
    if not points:
        return None
    series = ((PRECISION, "precision"), (RECALL, "recall"), (F1, "f1"))
    values = [{"threshold": p.threshold, "measure": translate(label), "value": getattr(p, field)}
              for p in points for label, field in series]  # fmt: skip
    marks = []
    best = view.calibration.best_f1()
    if best is not None:
        marks.append({"at": best.threshold, "what": translate(N_("suggested (best F1)"))})
    if view.current is not None:
        marks.append({"at": view.current.threshold, "what": translate(N_("adopted"))})
    threshold_title = translate(N_("threshold (match probability)"))
    layers: list[dict[str, Any]] = [{
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "interpolate": "step-after"},
        "encoding": {
            "x": {"field": "threshold", "type": "quantitative", "title": threshold_title,
                  "scale": {"domain": [view.calibration.floor, 1]}},
            "y": {"field": "value", "type": "quantitative", "title": None, "scale": {"domain": [0, 1]}},
            "color": {"field": "measure", "type": "nominal", "title": None,
                      "scale": {"range": [charts.COLOR, "#d1495b", charts.PREVIOUS_COLOR]}},
        },
    }]  # fmt: skip
    if marks:
        layers.append({
            "data": {"values": marks},
            "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#444"},
            "encoding": {"x": {"field": "at", "type": "quantitative"}},
        })  # fmt: skip
    title = translate(N_("Precision and recall of the analysts' decisions by threshold"))
    svg = charts.render_svg({"width": 460, "height": 240, "layer": layers})
    alt = f"{title}: " + "; ".join(
        f"{p.threshold:.3f}: {translate(PRECISION)} {p.precision:.3f}, {translate(RECALL)} {p.recall:.3f}"
        for p in points[:40]
    )
    return charts.Chart("threshold-curve", title, svg, alt)


def _threshold_page(
    request: Request, db: DbSession, auth: PageAuth, slug: str, *, target: float | None, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    view = service.read_threshold(db, auth.actor, operation=slug, precision_target=target)
    op = get_operation(db, slug)
    return render(
        request, "linkage_threshold.html",
        {"title": N_("Match threshold"), "op": op, "view": view, "cal": view.calibration,
         "best": view.calibration.best_f1(), "chart": _curve_chart(view), "target": target, "error": error,
         "may_adopt": may_adopt_threshold(auth.actor), "min_decisions": service.MIN_DECISIONS,
         "points": view.calibration.points[:THRESHOLD_ROWS_SHOWN], "rule_labels": RULE_LABELS},
        auth=auth, operation_slug=op.slug, active="networks", status_code=status_code,
    )  # fmt: skip


THRESHOLD_ROWS_SHOWN = 100


@router.get("/operations/{slug}/threshold", response_class=HTMLResponse)
def threshold_page(
    request: Request, slug: str, db: DbSession, auth: PageAuth,
    target: Annotated[float | None, Query(gt=0, le=1)] = None,
) -> Response:  # fmt: skip
    return _threshold_page(request, db, auth, slug, target=target)


@router.post("/operations/{slug}/threshold", response_class=HTMLResponse)
def threshold_adopt(
    request: Request, slug: str, db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()],
    rule: Annotated[str, Form(pattern="^(best_f1|precision_target|chosen)$")] = "best_f1",
    precision_target: Annotated[float | None, Form(gt=0, le=1)] = None,
    threshold: Annotated[float | None, Form(gt=0, lt=1)] = None,
) -> Response:  # fmt: skip
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    op = get_operation(db, slug)
    try:
        service.adopt_threshold(db, auth.actor, operation=op.slug, rule=rule, precision_target=precision_target,
                                threshold=threshold)  # fmt: skip
    except ValidationError as exc:
        db.rollback()
        return _threshold_page(request, db, auth, op.slug, target=precision_target, error=exc.message, status_code=422)
    back = f"/operations/{op.slug}/threshold" + (f"?target={precision_target:g}" if precision_target else "")
    return RedirectResponse(back, status_code=303)
