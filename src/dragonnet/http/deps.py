"""Request-scoped dependencies shared by the pages and the JSON API.

- `get_db`: one SQLAlchemy session per request, committed when the handler succeeds and rolled back when
  it raises (function scope: the commit happens before the response is sent, so a client never sees a
  success whose data was not written). When the error is a refusal carrying an audit note (the policy's
  404 Hidden and 403 PermissionDenied, a rejected API token), the note is recorded in a fresh transaction
  after the rollback, so every denial is in the audit log; PermissionDenied is answered 403.
- `authenticate_request`: the one place that turns a request into a user: the session cookie, or on
  API paths an API token (`Authorization: Bearer dn_...`). A bearer header that is not a valid token
  authenticates nobody (no fallback to the cookie).
- `page_auth` / `api_auth` (and `page_actor` / `api_actor`): the same check, answering a redirect to the
  login page or a 401 JSON error when nobody is logged in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from dragonnet.config import Settings
from dragonnet.http.security import tokens_match
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, PermissionDenied
from dragonnet.policy.tokens import resolve_token_grant
from dragonnet.policy.users import resolve_session
from dragonnet.storage.models import User

SESSION_COOKIE = "dragonnet_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a logged-in user: answered by a redirect to /login?next=..."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Unauthenticated(Exception):
    """An API call without valid credentials: answered by 401 JSON."""

    def __init__(self, denial: audit.AuditNote | None = None) -> None:
        super().__init__("unauthenticated")
        self.denial = denial


class CsrfRejected(Exception):
    """A state-changing request without the right CSRF token: answered by 403."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Ending a request's transaction runs on its own thread limiter: if it queued behind the endpoints for the
# shared worker threads, requests holding connections would wait for threads held by requests waiting for
# connections (a deadlock under load, seen in benchmarks/load_test.py).
_TEARDOWN = anyio.CapacityLimiter(100)


def _finish(session: Session, exc: BaseException | None) -> None:
    try:
        if exc is None:
            session.commit()
            return
        session.rollback()
        note = getattr(exc, "denial", None)
        if isinstance(note, audit.AuditNote):
            audit.record_note(session, note)
            session.commit()
    finally:
        session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
    except BaseException as exc:
        await anyio.to_thread.run_sync(_finish, session, exc, limiter=_TEARDOWN)
        if isinstance(exc, PermissionDenied):
            raise StarletteHTTPException(403, exc.message) from exc
        raise
    await anyio.to_thread.run_sync(_finish, session, None, limiter=_TEARDOWN)


DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def client_address(request: Request) -> str | None:
    """The peer address. Behind a reverse proxy, run uvicorn with --proxy-headers so this is the client's."""
    return request.client.host if request.client else None


@dataclass(frozen=True)
class Authenticated:
    """Who made the request and how.

    Plain values are copied out of the ORM rows (display name, CSRF token) so that an error page can
    still show them after the request's transaction was rolled back and the rows expired. An API token's
    user row is read only if a route asks for `user` (most API requests need only the actor).
    """

    actor: Actor
    display_name: str
    csrf_token: str | None  # the session's token for cookie logins; None for API tokens
    session_token: str | None
    method: str  # "cookie" or "token"
    token_scope: str | None = None  # "read" or "write" for API tokens
    language: str | None = None  # the locale the user chose (pages only: the API stays English)
    loaded_user: User | None = field(default=None, repr=False)
    load_user: Callable[[], User] | None = field(default=None, repr=False, compare=False)

    @property
    def user(self) -> User:
        """The user's row (read on first use for API tokens, in the request's session)."""
        if self.loaded_user is None:
            assert self.load_user is not None, "an Authenticated without its user"
            object.__setattr__(self, "loaded_user", self.load_user())
        assert self.loaded_user is not None
        return self.loaded_user


def authenticate_request(request: Request, db: Session) -> Authenticated | None:
    """The request's user, or None. The single place where credentials are read."""
    cached = getattr(request.state, "auth", None)
    if isinstance(cached, Authenticated):
        return cached
    header = request.headers.get("authorization")
    if header is not None and request.url.path.startswith(API_PATH):
        return _token_auth(request, db, header)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = resolve_session(db, token)
    if found is None:
        return None
    user, web_session = found
    auth = Authenticated(
        loaded_user=user,
        actor=Actor.for_user(user, client_address(request)),
        display_name=user.display_name,
        csrf_token=web_session.csrf_token,
        session_token=token,
        method="cookie",
        language=user.language,
    )
    request.state.auth = auth
    return auth


API_PATH = "/api/"


def _token_auth(request: Request, db: Session, header: str) -> Authenticated | None:
    scheme, _, raw = header.partition(" ")
    address = client_address(request)
    found = resolve_token_grant(db, raw.strip(), address) if scheme.lower() == "bearer" else None
    if found is None:
        prefix = audit.clean_text(raw.strip()[:10])
        request.state.auth_denial = audit.AuditNote(
            audit.AuditActor(None, None, None, client_address(request)),
            "auth.token_failed",
            "api_token",
            None,
            {"prefix": prefix, "path": request.url.path[:200]},
        )
        return None
    user_id = found.user_id
    auth = Authenticated(
        actor=found.actor,
        display_name=found.display_name,
        csrf_token=None,
        session_token=None,
        method="token",
        token_scope=found.scope,
        load_user=lambda: db.execute(select(User).where(User.id == user_id)
                                     .options(joinedload(User.agency))).scalar_one(),
    )  # fmt: skip
    request.state.auth = auth
    return auth


def _next_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def page_auth(request: Request, db: DbSession) -> Authenticated:
    auth = authenticate_request(request, db)
    if auth is None:
        raise LoginRequired(_next_path(request))
    return auth


def api_auth(request: Request, db: DbSession) -> Authenticated:
    auth = authenticate_request(request, db)
    if auth is None:
        raise Unauthenticated(getattr(request.state, "auth_denial", None))
    if auth.method == "token" and request.method not in SAFE_METHODS and auth.token_scope != "write":  # noqa: S105
        raise PermissionDenied(auth.actor, "api_token", None, "this API token may only read: use a write token")
    # A cookie is sent by the browser on its own: state-changing API calls made with it must also
    # prove they come from our pages (header set by our JavaScript). Token calls need no such proof.
    cookie_write = auth.method == "cookie" and request.method not in SAFE_METHODS
    if cookie_write and not tokens_match(auth.csrf_token, request.headers.get(CSRF_HEADER)):
        raise CsrfRejected()
    return auth


# Async: they only pick a field, and a sync dependency would cost each request a hop to a worker thread.
async def page_actor(auth: Annotated[Authenticated, Depends(page_auth)]) -> Actor:
    return auth.actor


async def api_actor(auth: Annotated[Authenticated, Depends(api_auth)]) -> Actor:
    return auth.actor


PageAuth = Annotated[Authenticated, Depends(page_auth)]
ApiAuth = Annotated[Authenticated, Depends(api_auth)]
PageActor = Annotated[Actor, Depends(page_actor)]
ApiActor = Annotated[Actor, Depends(api_actor)]


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (other hosts, schemes, //) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


def login_url(next_path: str) -> str:
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='/')}"
