"""Cross-site request forgery: no other site can make a signed-in browser change anything.

Two checks on every state-changing request made with a browser (bearer-token calls carry no
cookie and need neither):
- the Origin header, when the browser sends one, must be this site's own;
- the request carries this app's CSRF token, as the form field `csrf_token` or the
  `X-CSRF-Token` header. A signed-in session has its own random token, kept on the server;
  before sign-in (the login form) the token is an HMAC of a random cookie, so only a page
  served by this app can know it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.responses import Response

CSRF_COOKIE = "quarterdeck_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(HTTPException):
    """A state-changing request that did not come from this app's own pages."""

    def __init__(self, reason: str) -> None:
        super().__init__(403, f"Request refused: {reason}. Reload the page and try again.")


def csrf_token(request: Request) -> str:
    """The token the forms of this page must carry (templates call it)."""
    active = getattr(request.state, "auth_session", None)
    if active is not None:
        return active.csrf_token
    return _signed(request, _anonymous_seed(request))


def keep_anonymous_seed(request: Request, response: Response) -> None:
    """Give a not-signed-in browser the cookie its login-form token is derived from."""
    seed = _anonymous_seed(request)
    if request.cookies.get(CSRF_COOKIE) != seed:
        response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="strict",
                            secure=request.app.state.cookie_secure(request), path="/")


async def check_csrf(request: Request, *, before_sign_in: bool = False) -> None:
    """Refuse a state-changing browser request from another origin or without this app's
    token (raises `CsrfRejected`). `before_sign_in` (the login form) also takes the token a
    not-signed-in page gave, as a second tab may still show one."""
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = {csrf_token(request)}
    if before_sign_in:
        expected.add(_signed(request, _anonymous_seed(request)))
    if not sent or not any(hmac.compare_digest(sent.encode(), e.encode()) for e in expected):
        raise CsrfRejected("the form's security token is missing or out of date")


def check_origin(request: Request) -> None:
    """A browser names the page a request comes from in Origin; it must be this site.

    The site is compared with the Host the browser itself sent, which another site cannot set.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    # The scheme is not compared: behind a TLS proxy the app may see http while the browser
    # says https, and another site cannot share this host either way.
    if origin == "null" or parts.netloc.lower() != host.lower():
        raise CsrfRejected(f"it came from another site ({origin[:100]})")


def _anonymous_seed(request: Request) -> str:
    seed = getattr(request.state, "csrf_seed", None)
    if seed is None:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        seed = cookie if 20 <= len(cookie) <= 100 else secrets.token_urlsafe(32)
        request.state.csrf_seed = seed
    return seed


def _signed(request: Request, seed: str) -> str:
    key = request.app.state.secret_key.encode()
    return hmac.new(key, f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()
