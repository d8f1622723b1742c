"""Who is asking: a signed session cookie for people, a bearer token for programs.

Every route but /login, /healthz and static files depends on `current_user`. When nobody is
signed in, pages redirect to the login form and the API answers 401 in JSON.
"""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from quarterdeck.appdb.models import User
from quarterdeck.appdb.users import get_user, user_for_token

SESSION_USER_KEY = "user_id"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="API token",
    description="An API token: `Authorization: Bearer qd_…`. A signed-in browser session "
    "works too.",
)


class NotAuthenticated(Exception):
    """Nobody valid is signed in; the app turns this into a redirect or a 401."""


def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
) -> User:
    """The user making the request, from the bearer token if one is sent, else the session."""
    engine = request.app.state.engine
    user: User | None
    if credentials is not None:
        # A wrong token is refused even with a valid session: the caller meant the token.
        user = user_for_token(engine, credentials.credentials)
    else:
        user_id = request.session.get(SESSION_USER_KEY)
        user = get_user(engine, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise NotAuthenticated
    request.state.user = user
    return user


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for `user` (anything kept from before signing in is dropped)."""
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id


def sign_out(request: Request) -> None:
    """End the session."""
    request.session.clear()


def safe_next(target: str | None, default: str = "/accounts") -> str:
    """Where to go after signing in: only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
