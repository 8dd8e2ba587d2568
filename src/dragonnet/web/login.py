"""Login and logout pages.

Login: a form protected by a signed double-submit cookie (there is no session yet); the password check,
throttling, lock-out and audit are `dragonnet.policy.users.authenticate`. A successful login closes the
session the browser came with, if any, and opens a new one (a fresh id at each login: no fixation).
If the user has a TOTP second factor, a right password opens a short-lived login challenge instead (a random
id in an HttpOnly cookie scoped to /login) and the page asks for the code; POST /login/totp finishes the
login (wrong codes count toward lock-out, see dragonnet.policy.users.complete_totp_login).
Logout: POST with the session's CSRF token; the server-side session is deleted, so the old cookie is dead
even if someone kept a copy.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from dragonnet.config import Settings
from dragonnet.http.deps import (
    SESSION_COOKIE,
    AppSettings,
    CsrfRejected,
    DbSession,
    authenticate_request,
    client_address,
    safe_next,
)
from dragonnet.http.security import LOGIN_CSRF_COOKIE, login_form_token, new_login_nonce, tokens_match
from dragonnet.i18n import N_
from dragonnet.policy import audit, mfa
from dragonnet.policy.users import authenticate, close_session, complete_totp_login, open_session
from dragonnet.storage.models import User
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)

INVALID = N_("Invalid username or password.")
INVALID_CODE = N_("That code is not right (or was used already). Enter the current code of your authenticator.")
EXPIRED = N_("This login has expired. Enter your username and password again.")
MFA_COOKIE = "dragonnet_mfa"
LOCKED = N_("This account is locked after too many failed attempts: try again later.")
MAX_FIELD = 256


def _login_page(
    request: Request,
    settings: Settings,
    *,
    error: str | None,
    username: str,
    next_path: str,
    status_code: int,
    step: str = "password",
) -> HTMLResponse:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_nonce()
    response = render(
        request,
        "login.html",
        {
            "title": N_("Log in"),
            "step": step,
            "error": error,
            "username": username,
            "next": next_path,
            "login_csrf": login_form_token(settings.secret_key, nonce),
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, db: DbSession, settings: AppSettings, next: str | None = None) -> Response:
    if authenticate_request(request, db) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, settings, error=None, username="", next_path=safe_next(next), status_code=200)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    expected = login_form_token(settings.secret_key, nonce) if nonce else None
    if not tokens_match(expected, csrf_token):
        raise CsrfRejected()
    username = username.strip()[:64]
    next_path = safe_next(next)
    if not username or not password or len(password) > MAX_FIELD:
        return _login_page(request, settings, error=INVALID, username=username, next_path=next_path, status_code=401)
    address = client_address(request)
    result = authenticate(db, username, password, address)
    if result.user is None:
        # Locked, disabled, unknown or wrong: one answer, so the page does not tell which names exist.
        return _login_page(request, settings, error=INVALID, username=username, next_path=next_path, status_code=401)
    if result.needs_totp:
        challenge = mfa.open_challenge(db, result.user, next_path)
        page = _login_page(
            request, settings, error=None, username=username, next_path=next_path, status_code=200, step="totp"
        )
        page.set_cookie(MFA_COOKIE, challenge, max_age=int(mfa.CHALLENGE_TTL.total_seconds()), httponly=True,
                        samesite="strict", secure=settings.secure_cookies, path="/login")  # fmt: skip
        return page
    return _start_session(request, db, settings, result.user, next_path)


@router.post("/login/totp", response_class=HTMLResponse)
def login_totp(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    code: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    expected = login_form_token(settings.secret_key, nonce) if nonce else None
    if not tokens_match(expected, csrf_token):
        raise CsrfRejected()
    challenge = mfa.find_challenge(db, request.cookies.get(MFA_COOKIE) or "")
    user = db.get(User, challenge.user_id) if challenge else None
    if challenge is None or user is None:
        response = _login_page(request, settings, error=EXPIRED, username="", next_path="/", status_code=401)
        response.delete_cookie(MFA_COOKIE, path="/login")
        return response
    challenge.attempts += 1
    result = complete_totp_login(db, user, code[:16], client_address(request))
    if result.user is None:
        locked = result.reason in ("locked", "disabled")
        response = _login_page(
            request, settings, error=LOCKED if locked else INVALID_CODE, username=user.username,
            next_path=challenge.next_path, status_code=401, step="password" if locked else "totp",
        )  # fmt: skip
        if locked:
            mfa.close_challenges(db, user.id)
            response.delete_cookie(MFA_COOKIE, path="/login")
        return response
    next_path = safe_next(challenge.next_path)
    mfa.close_challenges(db, user.id)
    done = _start_session(request, db, settings, result.user, next_path)
    done.delete_cookie(MFA_COOKIE, path="/login")
    return done


def _start_session(request: Request, db: Session, settings: Settings, user: User, next_path: str) -> Response:
    """Rotate: whatever session this browser had ends here; the new one gets a fresh random id."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        close_session(db, old)
    token, _ = open_session(db, user, settings.session_hours, client_address(request))
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, csrf_token: Annotated[str, Form()] = "") -> Response:
    auth = authenticate_request(request, db)
    if auth is None or auth.session_token is None:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    if not tokens_match(auth.csrf_token, csrf_token):
        raise CsrfRejected()
    close_session(db, auth.session_token)
    user = auth.user
    who = audit.AuditActor(user.id, user.username, user.agency.code, client_address(request))
    audit.record(db, who, "auth.logout", "user", user.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    # Ask the browser to drop whatever it kept of our pages (honoured by Chromium and Firefox on HTTPS).
    if request.url.scheme == "https":
        response.headers["Clear-Site-Data"] = '"cache"'
    return response
