"""Who may do what: every route of the web app and its API, and the permission it needs.

One table, `ROUTES`, declares a permission for each method and path; `authorize` runs before
every route and checks it. A route missing from the table is refused and stops the app from
starting, and the permission tests are generated from the app's routes × roles, so no route
can be added unchecked.

Roles, from most to least powerful:
- admin: users, settings and the audit log, and everything ops can;
- ops: definitions and data, and everything a manager can, for every account;
- manager: changes on their team's accounts (accounts owned by anyone whose `manager_email` in
  the team file is theirs, and their own);
- csm: sees every account, changes only what they own;
- viewer: reads only.
Which accounts a change may touch is `may_change_account`; routes that change an account call it.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from quarterdeck.app.auth import NotAuthenticated, bearer, current_user
from quarterdeck.app.csrf import SAFE_METHODS, check_csrf
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import AccountSnapshot, User
from quarterdeck.appdb.operations_models import TeamMember

ROLES: tuple[str, ...] = ("admin", "ops", "manager", "csm", "viewer")

#: Anyone, signed in or not.
PUBLIC = "public"
#: Each permission and the roles that have it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "signed_in": frozenset(ROLES),
    "read": frozenset(ROLES),
    "manage_own_tokens": frozenset(ROLES),
    # Alerts, tasks, notes and renewal categories: of accounts the user may change.
    "act_on_accounts": frozenset({"admin", "ops", "manager", "csm"}),
    "manage_team": frozenset({"admin", "ops", "manager"}),
    "edit_definitions": frozenset({"admin", "ops"}),
    # The workspace's definitions as loaded, with their problems (no secrets in it).
    "read_definitions": frozenset({"admin", "ops", "manager"}),
    "manage_data": frozenset({"admin", "ops"}),
    "manage_users": frozenset({"admin"}),
    "manage_settings": frozenset({"admin"}),
    "read_audit": frozenset({"admin"}),
}

#: (method, path as the router declares it) → permission. Every route is here.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): "signed_in",
    ("GET", "/"): "read",
    ("GET", "/accounts"): "read",
    ("GET", "/accounts/{account_id:path}"): "read",
    ("GET", "/quality"): "read",
    ("GET", "/leadership"): "read",
    ("GET", "/admin/audit"): "read_audit",
    ("GET", "/settings/definitions"): "read_definitions",
    ("GET", "/api/definitions"): "read_definitions",
    ("GET", "/api/openapi.json"): "read",
    ("GET", "/api/accounts"): "read",
    ("GET", "/api/accounts/{account_id:path}"): "read",
    ("GET", "/api/account_detail/{account_id:path}"): "read",
    ("GET", "/api/qbr_decks"): "read",
    ("GET", "/qbr-decks/{deck_id}"): "read",
    ("GET", "/api/quality"): "read",
    ("GET", "/api/leadership"): "read",
    # The book: reading is everyone's; a change is checked again against what the user may
    # change (their own alerts, tasks and accounts; a manager their team's).
    ("GET", "/operations"): "read",
    ("POST", "/alerts/{alert_id}/acknowledge"): "act_on_accounts",
    ("POST", "/alerts/{alert_id}/resolve"): "act_on_accounts",
    ("POST", "/tasks/{task_id}/close"): "act_on_accounts",
    ("POST", "/notes"): "act_on_accounts",
    ("GET", "/api/home"): "read",
    ("GET", "/api/alerts"): "read",
    ("POST", "/api/alerts/{alert_id}/acknowledge"): "act_on_accounts",
    ("POST", "/api/alerts/{alert_id}/resolve"): "act_on_accounts",
    ("GET", "/api/tasks"): "read",
    ("POST", "/api/tasks/{task_id}/close"): "act_on_accounts",
    ("POST", "/api/notes"): "act_on_accounts",
    ("GET", "/api/book/{account_id:path}"): "read",
    ("POST", "/api/playbooks/{name}/start"): "act_on_accounts",
    ("GET", "/api/ops"): "read",
    # Renewals: reading is everyone's; a call is checked again against the account's owner.
    ("GET", "/renewals"): "read",
    ("POST", "/renewals/{renewal_id:path}/category"): "act_on_accounts",
    ("GET", "/api/renewals"): "read",
    ("GET", "/api/renewals/periods"): "read",
    ("POST", "/api/renewals/{renewal_id:path}/category"): "act_on_accounts",
    ("GET", "/reports"): "read",
    ("GET", "/reports/{report_id}"): "read",
    ("GET", "/reports/{report_id}.{fmt}"): "read",
    ("GET", "/api/reports"): "read",
    ("GET", "/api/reports/{report_id}"): "read",
    ("GET", "/api/tokens"): "manage_own_tokens",
    ("POST", "/api/tokens"): "manage_own_tokens",
    ("DELETE", "/api/tokens/{token_id}"): "manage_own_tokens",
}


class Forbidden(HTTPException):
    """The signed-in user's role, or the token's scope, does not allow this."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message)


def has_permission(role: str, permission: str) -> bool:
    """Whether a role has a permission (`public` is everyone's)."""
    return permission == PUBLIC or role in PERMISSIONS[permission]


def app_routes(routes: Iterable[BaseRoute]) -> list[tuple[APIRoute, str, str]]:
    """Every (route, method, full path) of an app, routers included under their prefixes."""
    try:  # FastAPI ≥ 0.160 keeps included routers whole and resolves them on the way in
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI copies routes with full paths
        flat = [(route, route.path) for route in routes]
    else:
        flat = [(c.original_route, c.path) for c in iter_route_contexts(list(routes))]
    return sorted(((route, method, path) for route, path in flat
                   if isinstance(route, APIRoute) for method in route.methods),
                  key=lambda r: (r[2], r[1]))


def undeclared_routes(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """The (method, path) of every route of the app missing from `ROUTES`."""
    return [(method, path) for _, method, path in app_routes(routes)
            if (method, path) not in ROUTES]


def _permission_of(request: Request) -> str | None:
    """The permission declared for the route this request reached, by its full path."""
    key = (id(request.scope.get("route")), request.method)
    known: dict[tuple[int, str], str | None] = getattr(request.app.state, "route_permissions",
                                                       {})
    if key not in known:  # first request, or a route added since: map every route again
        known = {}
        for route, method, path in app_routes(request.app.routes):
            permission = ROUTES.get((method, path))
            # One route object mounted under two paths must need the same permission on both.
            if known.get((id(route), method), permission) != permission:
                permission = None
            known[(id(route), method)] = permission
        request.app.state.route_permissions = known
    return known.get(key)


async def authorize(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
) -> None:
    """Check the request against `ROUTES`: who is asking, whether their role has the route's
    permission, and for a change, a write token or this app's CSRF token."""
    permission = _permission_of(request)
    if permission is None:
        raise Forbidden("This route declares no permission, so nobody may use it.")
    changes = request.method not in SAFE_METHODS
    if permission == PUBLIC:
        if changes:
            try:  # a signed-in browser's forms carry its session's token
                await run_in_threadpool(current_user, request, credentials)
            except NotAuthenticated:
                pass
            await check_csrf(request, before_sign_in=True)
        return
    # current_user may hit the database (session or token lookup): keep it off the loop.
    user = await run_in_threadpool(current_user, request, credentials)
    if not has_permission(user.role, permission):
        raise Forbidden(f"A {user.role} may not do this ({permission.replace('_', ' ')}).")
    if changes:
        scope = getattr(request.state, "token_scope", None)
        if scope is None:
            await check_csrf(request)
        elif scope != "write":
            raise Forbidden("This API token may only read; create a write token to change data.")


def may_change_account(user: User, owner_email: str | None, owner_manager: str | None) -> bool:
    """Whether `user` may change things on an account owned by `owner_email`, whose manager
    in the team file is `owner_manager`.

    >>> may_change_account(csm, "ana@example.com", "mo@example.com")  # doctest: +SKIP
    True  # when csm is Ana
    """
    if user.role in ("admin", "ops"):
        return True
    if user.role == "viewer" or owner_email is None:
        return False
    if owner_email.lower() == user.email:
        return user.role in ("csm", "manager")
    return user.role == "manager" and (owner_manager or "").lower() == user.email


def may_change_account_id(engine: Engine, user: User, account_id: str) -> bool:
    """`may_change_account` for an account by id: its owner in the latest snapshot, and that
    owner's manager in the team file. An account never published can be changed by admin and
    ops only.

    >>> may_change_account_id(engine, ana, "acme")  # doctest: +SKIP
    True
    """
    with session(engine) as db:
        owner = db.scalar(select(AccountSnapshot.owner_email)
                          .where(AccountSnapshot.account_id == account_id)
                          .order_by(AccountSnapshot.as_of.desc()).limit(1))
        manager = db.scalar(select(TeamMember.manager_email).where(
            TeamMember.email == owner)) if owner else None
    return may_change_account(user, owner, manager)
