"""Jinja2 templates (autoescaped) and the one render helper every page uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from starlette.responses import HTMLResponse

from dragonnet import __version__, i18n
from dragonnet.domain.phases import roman
from dragonnet.http.deps import Authenticated
from dragonnet.messaging import inbox
from dragonnet.policy.access import may_calibrate
from dragonnet.policy.messaging import is_member
from dragonnet.reference import cites, goods, substances
from dragonnet.storage.db import reader, session_factory
from dragonnet.storage.models import Operation
from dragonnet.web.nav import navigation

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html", "xml"), default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
i18n.install(_env)
_env.filters["roman"] = roman
_env.globals["may_calibrate"] = may_calibrate  # the linkage subnav shows the threshold page to whom may see it
# A vocabulary value shown by its label, in the page's language (the labels are msgids: babel.cfg).
_env.filters["label"] = lambda value: i18n.translate(str(value).replace("_", " ").capitalize())
# Reference names in the reader's language where the data has them (the reference name stays beside).
_env.filters["taxon_common_name"] = lambda name: cites.common_name(str(name), i18n.current_locale()) or ""
_env.filters["substance_name"] = lambda name: substances.local_name(str(name), i18n.current_locale()) or ""
# A sentence's first letter in upper case, the rest as it is (Jinja's `capitalize` lowers "TLP:AMBER", "TH-CUS").
_env.filters["capfirst"] = lambda value: (text := str(value))[:1].upper() + text[1:]


def hs_description(code: Any) -> str:
    """A declared HS code's description in HS 2022 (a national line: its subheading's), or "" when not in it."""
    digits = goods.normalise_code(str(code)) if code else None
    found = goods.get(digits[:6]) if digits and len(digits) in (2, 4, 6, 8, 10, 12) else None
    return found.description if found is not None else ""


_env.filters["hs_description"] = hs_description


def _iso(value: Any, *, with_time: bool) -> str:
    """The machine-readable value of a date or timestamp (a naive timestamp is UTC: what the server stores)."""
    if isinstance(value, str):
        return value
    if with_time and isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


_TIME = Markup('<time datetime="{}">{}</time>')  # .format() escapes both values


def date_tag(value: Any, form: str = "medium") -> Markup:
    """A date as `<time datetime="ISO">` around the locale's form ("" for none): people read the one, tests,
    scripts and screen readers the other."""
    if value is None or value == "":
        return Markup("")
    return _TIME.format(_iso(value, with_time=False), i18n.format_date(value, form))


def datetime_tag(value: Any, form: str = "cell") -> Markup:
    """A timestamp as `<time datetime="ISO">` around the locale's form, in UTC (the page says UTC once)."""
    if value is None or value == "":
        return Markup("")
    return _TIME.format(_iso(value, with_time=True), i18n.format_datetime(value, form))


_env.filters["date_tag"] = date_tag
_env.filters["datetime_tag"] = datetime_tag
templates = Jinja2Templates(env=_env)


def _badges(request: Request, auth: Authenticated) -> dict[str, int]:
    """The menu's counts: the inbox's unread messages (read in a short session of its own)."""
    if not is_member(auth.actor):
        return {}
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        return {}
    # A read-only session of its own: on SQLite it takes no write lock (the request's session may hold it).
    with session_factory(reader(engine))() as session:
        return {"inbox": inbox.unread_count(session, auth.actor)}


LANGUAGE_COOKIE = "dragonnet_lang"


def language_choices() -> list[tuple[str, str]]:
    """The shipped languages as (code, name in that language), for the switcher and the settings."""
    return [(code, i18n.language_name(code)) for code in i18n.LOCALES]


def _operation_language(request: Request, slug: str | None) -> str | None:
    engine = getattr(request.app.state, "engine", None)
    if slug is None or engine is None:
        return None
    with session_factory(reader(engine))() as session:
        return session.scalar(select(Operation.default_language).where(Operation.slug == slug))


def _here(request: Request) -> str:
    """Where the language switcher returns to: this page (a page answering a POST: its form's page, if ours)."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc in ("", request.url.netloc) and referer.path.startswith("/")
    return referer.path + (f"?{referer.query}" if referer.query else "") if same_site else "/"


def request_locale(request: Request, auth: Authenticated | None, operation_slug: str | None = None) -> str:
    """The locale a page is rendered in: the user's setting, else the switcher's cookie, else the browser's
    Accept-Language, else the operation's default language, else English (dragonnet.i18n.select_locale)."""
    chosen = getattr(request.state, "locale", None)  # a page that was asked for a language (?lang=)
    if isinstance(chosen, str) and i18n.normalise(chosen):
        return i18n.normalise(chosen) or i18n.DEFAULT_LOCALE
    user_setting = auth.language if auth else None
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    accept = request.headers.get("accept-language")
    found = i18n.normalise(user_setting) or i18n.normalise(cookie) or i18n.negotiate(accept)
    if found:
        return found
    return i18n.select_locale(operation_default=_operation_language(request, operation_slug))


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    auth: Authenticated | None = None,
    operation_slug: str | None = None,
    active: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with the layout's context: the user, their navigation and the logout CSRF token."""
    if auth is None:
        found = getattr(request.state, "auth", None)
        auth = found if isinstance(found, Authenticated) else None
    locale = request_locale(request, auth, operation_slug)
    ctx: dict[str, Any] = {
        "languages": language_choices(),
        "here": _here(request),
        "app_version": __version__,  # not "version": a page's own context may use that name (a case's version)
        "auth": auth,
        "viewer": auth,
        "nav": navigation(auth.actor, operation_slug, _badges(request, auth)) if auth else [],
        "active": active,
        "csrf_token": auth.csrf_token if auth and auth.csrf_token else "",
        "title": "",
    }
    ctx.update(context or {})
    with i18n.use_locale(locale):
        response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Content-Language"] = locale.replace("_", "-")
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
