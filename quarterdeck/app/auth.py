"""Who is asking: a server-side session for people, a bearer token for programs.

The browser keeps only a random session id in an HttpOnly cookie; the session itself lives
in the app database, so signing out ends it for good. When nobody valid is signed in, pages
redirect to the login form and the API answers 401 in JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from quarterdeck.appdb.models import User
from quarterdeck.appdb.sessions import (
    ABSOLUTE_TIMEOUT,
    end_session,
    find_session,
    start_session,
)
from quarterdeck.appdb.users import token_grant

SESSION_COOKIE = "quarterdeck_session"
#: What `secure_cookies` may be: `auto` marks cookies Secure when the request came over HTTPS
#: (directly, or through a trusted proxy that says so), `always` and `never` decide alone.
SECURE_COOKIE_MODES = ("auto", "always", "never")

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="API token",
    description="An API token: `Authorization: Bearer qd_…`. A signed-in browser session "
    "works too.",
)


class NotAuthenticated(Exception):
    """Nobody valid is signed in; the app turns this into a redirect or a 401."""


def cookie_secure_for(mode: str) -> Callable[[Request], bool]:
    """The rule deciding whether a response's cookies are marked Secure."""
    if mode not in SECURE_COOKIE_MODES:
        raise ValueError(f"secure_cookies {mode!r} is not one of {', '.join(SECURE_COOKIE_MODES)}")

    def secure(request: Request) -> bool:
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    return secure


def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
) -> User:
    """The user making the request, from the bearer token if one is sent, else the session.

    Found once per request: `request.state.user`, with `request.state.token_scope` set for a
    token and `request.state.auth_session` for a session.
    """
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    engine = request.app.state.engine
    user: User | None = None
    if credentials is not None:
        # A wrong token is refused even with a valid session: the caller meant the token.
        grant = token_grant(engine, credentials.credentials)
        if grant is not None:
            user = grant.user
            request.state.token_scope = grant.scope
    elif session_id := request.cookies.get(SESSION_COOKIE):
        active = find_session(engine, session_id)
        if active is not None:
            user = active.user
            request.state.auth_session = active
    if user is None:
        raise NotAuthenticated
    request.state.user = user
    return user


def sign_in(request: Request, response: Response, user: User) -> None:
    """Start a fresh server-side session for `user` (ending the one the browser had)."""
    engine = request.app.state.engine
    if old := request.cookies.get(SESSION_COOKIE):
        end_session(engine, old)
    client = request.client.host if request.client else None
    session_id = start_session(engine, user.id, client)
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True, samesite="lax", secure=request.app.state.cookie_secure(request), path="/",
    )


def sign_out(request: Request, response: Response) -> None:
    """End the session on the server and drop the cookie."""
    if session_id := request.cookies.get(SESSION_COOKIE):
        end_session(request.app.state.engine, session_id)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.app.state.cookie_secure(request))


def safe_next(target: str | None, default: str = "/accounts") -> str:
    """Where to go after signing in: only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
