"""Security headers on every response, and the CSRF tokens of forms.

The headers are added by a pure ASGI middleware, so they also cover static files, redirects, error pages
and the JSON API. Pages carry `Cache-Control: no-store` so that, after logout, the back button cannot show
a page from the browser's cache (and the back/forward cache does not keep it either).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

STATIC_PREFIX = "/static/"


class SecurityHeadersMiddleware:
    """Add SECURITY_HEADERS (replacing any set by a handler) and no-store caching outside /static."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower().encode("latin-1") for k in SECURITY_HEADERS}
                if not cacheable:
                    names.add(b"cache-control")
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- CSRF ---------------------------------------------------------------------------------------------------

LOGIN_CSRF_COOKIE = "dragonnet_login_csrf"


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def new_login_nonce() -> str:
    return secrets.token_urlsafe(32)


def login_form_token(secret_key: str, nonce: str) -> str:
    """The login form's token: an HMAC of the cookie's nonce (a signed double-submit cookie).

    Binding the form value to the server's key means a cookie planted by a sibling site is useless
    without also knowing the key.
    """
    return hmac.new(secret_key.encode("utf-8"), f"login:{nonce}".encode(), hashlib.sha256).hexdigest()
