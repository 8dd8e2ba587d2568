"""The web application: pages, the JSON API under /api/v1, static assets, security headers, error mapping.

Run it with `uvicorn --factory dragonnet.app:create_app` (settings from DRAGONNET_* environment variables).
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse
from starlette.routing import Mount

from dragonnet import __version__
from dragonnet.api import admin as api_admin
from dragonnet.api import cases as api_cases
from dragonnet.api import curation as api_curation
from dragonnet.api import linkage as api_linkage
from dragonnet.api import messaging as api_messaging
from dragonnet.api import operations as api_operations
from dragonnet.api import reference as api_reference
from dragonnet.api import reports as api_reports
from dragonnet.api import screening as api_screening
from dragonnet.api import screening_encoded as api_screening_encoded
from dragonnet.api import targeting as api_targeting
from dragonnet.api import v1
from dragonnet.api.schemas import ErrorOut
from dragonnet.config import Settings, load_settings
from dragonnet.errors import (
    ConfigurationError,
    Conflict,
    DragonnetError,
    NotFound,
    ReferenceLookupError,
    StorageUnavailable,
    ValidationError,
)
from dragonnet.http.deps import CsrfRejected, LoginRequired, Unauthenticated, login_url
from dragonnet.http.security import SECURITY_HEADERS, SecurityHeadersMiddleware
from dragonnet.i18n import N_
from dragonnet.policy import audit
from dragonnet.policy.access import PermissionDenied
from dragonnet.storage.db import has_schema, make_engine, redact, session_factory
from dragonnet.web import admin as web_admin
from dragonnet.web import apidocs, language, login, pages
from dragonnet.web import cases as web_cases
from dragonnet.web import curation as web_curation
from dragonnet.web import linkage as web_linkage
from dragonnet.web import messaging as web_messaging
from dragonnet.web import reference as web_reference
from dragonnet.web import reports as web_reports
from dragonnet.web import screening as web_screening
from dragonnet.web import screening_encoded as web_screening_encoded
from dragonnet.web import setup as web_setup
from dragonnet.web import targeting as web_targeting
from dragonnet.web.templating import STATIC_DIR, render

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

ERROR_STATUS: tuple[tuple[type[DragonnetError], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (ReferenceLookupError, 422, "unresolved"),
    (ValidationError, 422, "invalid"),
    (Conflict, 409, "conflict"),
    (PermissionDenied, 403, "forbidden"),
    (StorageUnavailable, 507, "storage_unavailable"),
)

# Requests at work at once per process: no more than the worker threads (40) and below the connection pool
# (50), so a request never holds a connection while it waits for a thread (which starved the pool under
# load: benchmarks/load_test.py). Others wait, holding nothing, before they start.
ADMISSION_LIMIT = 40


class AdmissionLimit:
    """Pure ASGI middleware: at most `limit` requests in the application at once; static files and the
    event stream (which holds no connection between its polls) pass freely."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._gate: anyio.Semaphore | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/static/", "/messages/events")):
            await self.app(scope, receive, send)
            return
        if self._gate is None:  # created inside the running event loop
            self._gate = anyio.Semaphore(self.limit)
        async with self._gate:
            await self.app(scope, receive, send)


# Every API operation may answer these; documenting them once keeps the OpenAPI spec truthful.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not logged in, or the token is invalid"},
    403: {"model": ErrorOut, "description": "logged in, but this action is not allowed for you"},
    404: {"model": ErrorOut, "description": "no such record, or not visible to you"},
    409: {"model": ErrorOut, "description": "the record changed since you read it, or the action was done already"},
    422: {"model": ErrorOut, "description": "the input is invalid or matches no reference value"},
    503: {
        "model": ErrorOut,
        "description": "busy, or the database is unreachable for a moment: retry after the "
        "Retry-After header's seconds (nothing was changed unless a later read shows it)",
    },
}

HTTP_TITLES = {
    400: N_("Bad request"),
    401: N_("Not logged in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    422: N_("Cannot accept this input"),
    503: N_("Busy"),
    507: N_("Cannot store this now"),
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application over `settings` (default: the environment). Refuses a database without schema."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    if not has_schema(engine):
        engine.dispose()
        raise ConfigurationError(
            f"database {redact(settings.database_url)} has no dragonnet schema: "
            "create it first with the schema upgrade (dragonnet.storage.migrate.upgrade)"
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Audit entries committed by a server that stopped before chaining them are chained now.
        await anyio.to_thread.run_sync(audit.append_staged, engine)
        if settings.switch_interval is not None:
            sys.setswitchinterval(settings.switch_interval)
        if settings.warm_start:
            await anyio.to_thread.run_sync(warm_up, app)
        yield
        engine.dispose()

    app = FastAPI(
        title="dragonnet",
        version=__version__,
        description="The shared platform of a joint customs and law-enforcement operation.",
        openapi_url=apidocs.OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)

    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AdmissionLimit, limit=ADMISSION_LIMIT)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in ROUTER_MODULES:
        api = module.router.prefix.startswith("/api")
        app.include_router(module.router, responses=API_ERRORS if api else None)
    _install_error_handlers(app)
    return app


# Each capability contributes one page router (web/) and one API router (api/); order matters only for
# overlapping paths, which there are none of, and for speed: a request is matched against the routes in order
# (one regular expression each), so the API's routes, the ones clients call in bulk, come first.
ROUTER_MODULES = (
    v1, api_cases, api_admin, api_operations, api_reports, api_messaging, api_targeting, api_linkage,
    api_reference, api_curation, api_screening, api_screening_encoded,
    login, language, pages, web_cases, web_admin, web_setup, web_reports, web_messaging, web_targeting, web_linkage,
    apidocs, web_reference, web_curation, web_screening, web_screening_encoded,
)  # fmt: skip


def warm_up(app: FastAPI) -> None:
    """Do before the first request what would otherwise fall on the first requests of each worker.

    FastAPI builds a router's route state (dependencies, parameter models) on the first request that reaches it:
    0.3-0.6 s, paid by one unlucky request per router and worker. The reference tables load on first use
    (`reference.datasets` loads each). Then every object alive is frozen out of the garbage collector's sight:
    they live as long as the worker, and left tracked (0.5-0.8 M after the imports) every full collection
    walked them all, a 0.4-0.9 s pause of whichever request set it off, which decided the p99 of writes."""
    from dragonnet import reference

    for _route in iter_route_contexts(app.routes):
        pass
    reference.datasets()
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    name: str | None
    is_mount: bool
    in_api: bool


def route_table(app: FastAPI) -> list[RouteInfo]:
    """Every route of `app`, flattened (FastAPI keeps included routers as nested entries in `app.routes`).

    For tests that must visit every route (security headers, the cross-agency read matrix) and for docs.
    """
    out: list[RouteInfo] = []
    for ctx in iter_route_contexts(app.routes):
        path = ctx.path
        if path is None:
            continue
        is_mount = isinstance(ctx.original_route, Mount)
        methods = frozenset(ctx.methods or ()) if not is_mount else frozenset({"GET"})
        out.append(RouteInfo(path, methods, ctx.name, is_mount, path.startswith(API_PREFIX)))
    return out


# --- errors -------------------------------------------------------------------------------------------------


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) and request.url.path != apidocs.DOCS_URL


def database_unavailable(exc: OperationalError) -> bool:
    """A lost or refused connection (PostgreSQL restarting, network) or a database that stayed locked (SQLite's
    busy timeout): worth a retry. Not a missing table or a broken query."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if type(orig).__module__.startswith("psycopg"):
        # psycopg raises OperationalError for connection failures, server shutdown and cancelled statements
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def _error(
    request: Request,
    status: int,
    code: str,
    message: str,
    suggestions: list[str] | None = None,
    headers: dict[str, str] | None = None,
    explanation: str = "",
) -> Response:
    if _is_api(request):
        body = {"error": {"code": code, "message": message, "suggestions": suggestions or []}}
        return JSONResponse(body, status_code=status, headers=headers)
    return render(
        request,
        "error.html",
        {
            "title": HTTP_TITLES.get(status, N_("Error")),
            "status": status,
            "message": message,
            "suggestions": suggestions or [],
            "explanation": explanation,  # a hidden record: the rule that decides what the reader sees
        },
        status_code=status,
    )


def _install_error_handlers(app: FastAPI) -> None:
    async def dragonnet_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DragonnetError)
        for klass, status, code in ERROR_STATUS:
            if isinstance(exc, klass):
                explanation = str(getattr(exc, "explanation", "") or "")
                return _error(request, status, code, exc.message, exc.suggestions, explanation=explanation)
        if isinstance(exc, ConfigurationError):
            log.error("configuration error: %s", exc)
            return _error(request, 500, "configuration", "the server is not configured correctly")
        return _error(request, 400, "invalid", exc.message, exc.suggestions)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = exc.next_path if request.method in ("GET", "HEAD") else "/"
        return RedirectResponse(login_url(target), status_code=303)

    async def unauthenticated(request: Request, exc: Exception) -> Response:
        return _error(
            request, 401, "unauthenticated", "log in first", headers={"WWW-Authenticate": 'Bearer realm="dragonnet"'}
        )

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        return _error(
            request,
            403,
            "csrf",
            "This form has expired or was not sent from a dragonnet page. Go back, reload the page and try again.",
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else HTTP_TITLES.get(status, "error")
        if status == 404:
            message = "There is nothing at this address."
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            status, "http_error"
        )
        return _error(request, status, code, message, headers=dict(exc.headers) if exc.headers else None)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems: list[str] = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
        return _error(request, 422, "invalid", "; ".join(problems) or "invalid request")

    async def id_out_of_range(request: Request, exc: Exception) -> Response:
        # SQLite cannot even bind an integer beyond 64 bits (PostgreSQL simply finds no row): an id that
        # cannot be stored names no record, so it is answered like any unknown id.
        return _error(request, 404, "not_found", "There is nothing at this address.")

    async def busy(request: Request, exc: Exception) -> Response:
        # Every database connection stayed busy for the pool's timeout: say so and when to retry (503),
        # rather than an internal error.
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        return _error(request, 503, "busy", "The server is busy. Try again in a moment.", headers={"Retry-After": "2"})

    async def database_error(request: Request, exc: Exception) -> Response:
        # The database went away (restart, failover, network) or stayed locked: the request did not complete
        # and may be retried. Say so (503 + Retry-After) in one log line instead of an internal error with a
        # traceback per request; any other operational error is a real fault.
        if isinstance(exc, OperationalError) and database_unavailable(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                        str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__)  # fmt: skip
            return _error(request, 503, "database_unavailable", "The database is not reachable just now. "
                          "Try again in a moment.", headers={"Retry-After": "5"})  # fmt: skip
        return await server_error(request, exc)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Runs outside the middleware stack: set the security headers here. Never show the exception.
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
        if _is_api(request):
            body: dict[str, Any] = {
                "error": {"code": "server_error", "message": "internal error (logged)", "suggestions": []}
            }
            return JSONResponse(body, status_code=500, headers=headers)
        return HTMLResponse(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Error - dragonnet</title>"
            '<link rel=stylesheet href="/static/css/app.css"></head><body><main class="narrow">'
            '<h1>Something went wrong</h1><p>The error was logged. <a href="/">Back to the start page</a>.</p>'
            "</main></body></html>",
            status_code=500,
            headers=headers,
        )

    app.add_exception_handler(DragonnetError, dragonnet_error)
    app.add_exception_handler(OverflowError, id_out_of_range)
    app.add_exception_handler(PoolTimeout, busy)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Unauthenticated, unauthenticated)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)
