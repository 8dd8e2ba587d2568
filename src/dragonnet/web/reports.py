"""Pages of the reports capability: the dashboard, the debrief download and case-list exports.

Thin: parse the query, call `dragonnet.reporting`, render. Partner observers get the public summary only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.responses import HTMLResponse

from dragonnet import i18n
from dragonnet.domain.vocabulary import CommodityClass
from dragonnet.errors import ValidationError
from dragonnet.http.deps import DbSession, PageAuth
from dragonnet.i18n import lazy_gettext as _l
from dragonnet.operation import service as operations
from dragonnet.policy.access import case_visibility_rule
from dragonnet.reference import countries
from dragonnet.reporting import charts, render, rules, service
from dragonnet.reporting.exports import content_disposition, export_cases
from dragonnet.reporting.extract import allowed_scopes, scope_for
from dragonnet.web.templating import render as render_page
from dragonnet.web.templating import request_locale

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=64)]


def _language(text: str | None) -> str | None:
    """A shipped locale named by `?lang=`, or None; an unknown one is refused (not silently English)."""
    if not text:
        return None
    found = i18n.normalise(text)
    if found is None:
        raise ValidationError(f"unknown language {text!r}: use one of {', '.join(i18n.LOCALES)}")
    return found


def _phase(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


@router.get("/operations/{slug}/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, slug: str, db: DbSession, auth: PageAuth,
    phase: Text = None, rule: Text = None, commodity: Text = None, country: Text = None, scope: Text = None,
    lang: Text = None,
) -> Response:  # fmt: skip
    op = operations.get_operation(db, slug)
    chosen = _language(lang)
    if chosen:
        request.state.locale = chosen  # the page and its downloads in the language asked for
    locale = request_locale(request, auth, op.slug)
    the_rule = rules.preset(rule or rules.DEFAULT.key)
    filters = service.Filters.parse(commodity, country)
    result = service.debrief(db, slug, _phase(phase), actor=auth.actor, rule=the_rule, scope=scope, filters=filters)
    the_scope = scope_for(auth.actor, scope)
    # A view of the cases the reader may see counts fewer than the operation's figure: say of how many, with the
    # operation's own (public, aggregate) figure under the same rule and filters, read from the same service.
    overall = None
    if not result.suppressed:
        overall = service.debrief(db, slug, result.phase.number, actor=auth.actor, rule=the_rule, scope="public",
                                  filters=filters, headline_only=True).headline.cases  # fmt: skip
    member_countries = sorted(
        {a.country for _p, a in operations.participants(db, op) if a.country}, key=lambda c: countries.get(c).name
    )
    query = {"phase": str(result.phase.number), "rule": the_rule.key, "scope": the_scope.kind.value,
             "commodity": filters.commodity or "", "country": filters.country or "", "lang": chosen or ""}  # fmt: skip
    with i18n.use_locale(locale):  # the charts' titles, axes and country names are drawn in the page's language
        ctx = render.template_context(result, charts.debrief_charts(result))
    ctx.update(
        title=_l("%(operation)s – dashboard", operation=op.name),
        op=op,
        rule_presets=list(rules.PRESETS.values()),
        commodities=CommodityClass.values(),
        country_options=[(c, countries.get(c).name) for c in member_countries],
        scopes=[k.value for k in allowed_scopes(auth.actor)],
        query=query,
        query_string="&".join(f"{k}={v}" for k, v in query.items() if v),
        exports=not auth.actor.is_observer_only,
        overall_cases=overall,
        view_rule=case_visibility_rule(auth.actor),
        report_language=locale,
    )
    return render_page(request, "dashboard.html", ctx, auth=auth, operation_slug=op.slug, active="dashboard")


@router.get("/operations/{slug}/reports/debrief.{fmt}")
def debrief_download(
    request: Request, slug: str, fmt: str, db: DbSession, auth: PageAuth,
    phase: Text = None, rule: Text = None, commodity: Text = None, country: Text = None, scope: Text = None,
    lang: Text = None,
) -> Response:  # fmt: skip
    """The debrief file; HTML, PDF and XLSX in `lang` (else the reader's page language), JSON in English."""
    the_format = render.parse_format(fmt)
    result = service.debrief(
        db, slug, _phase(phase), actor=auth.actor, rule=rules.preset(rule or rules.DEFAULT.key), scope=scope,
        filters=service.Filters.parse(commodity, country), fmt=the_format.value,
    )  # fmt: skip
    return Response(
        render.render(result, the_format, _language(lang) or request_locale(request, auth, slug)),
        media_type=render.MEDIA_TYPES[the_format],
        headers={"Content-Disposition": content_disposition(render.filename(result, the_format))},
    )


@router.get("/operations/{slug}/reports/cases.{fmt}")
def cases_export(slug: str, fmt: str, db: DbSession, auth: PageAuth, phase: Text = None) -> Response:
    op = operations.get_operation(db, slug)
    content, media_type, name = export_cases(db, auth.actor, op, fmt, _phase(phase))
    return Response(content, media_type=media_type, headers={"Content-Disposition": content_disposition(name)})
