"""The language switcher (every page, the login page too) and the language setting of "My account".

POST /language sets the language and returns to the page the form was on. A logged-in user's choice is
their setting (`dragonnet.policy.users.set_language`, audited; the form carries the session's CSRF token);
a visitor who is not logged in gets a cookie only, which is harmless to forge (it changes nothing but the
language of that visitor's own pages), so that form needs no token. An empty choice goes back to the
browser's Accept-Language. No JavaScript: a select and a button.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dragonnet import i18n
from dragonnet.config import Settings
from dragonnet.errors import ValidationError
from dragonnet.http.deps import AppSettings, CsrfRejected, DbSession, authenticate_request, safe_next
from dragonnet.http.security import tokens_match
from dragonnet.policy import users
from dragonnet.policy.access import audit_actor
from dragonnet.web.templating import LANGUAGE_COOKIE

router = APIRouter(include_in_schema=False)
COOKIE_DAYS = 365


def _with_cookie(response: Response, settings: Settings, locale: str | None) -> Response:
    if locale:
        response.set_cookie(LANGUAGE_COOKIE, locale, max_age=COOKIE_DAYS * 86400, httponly=True, samesite="lax",
                            secure=settings.secure_cookies, path="/")  # fmt: skip
    else:
        response.delete_cookie(LANGUAGE_COOKIE, path="/")
    return response


@router.post("/language")
def choose_language(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    language: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    wanted = i18n.normalise(language) if language else None
    if language and wanted is None:
        raise ValidationError(f"unknown language {language!r}: use one of {', '.join(i18n.LOCALES)}")
    auth = authenticate_request(request, db)
    if auth is not None and auth.method == "cookie":
        if not tokens_match(auth.csrf_token, csrf_token):
            raise CsrfRejected()
        users.set_language(db, auth.user, wanted, by=audit_actor(auth.actor))
    return _with_cookie(RedirectResponse(safe_next(next), status_code=303), settings, wanted)
