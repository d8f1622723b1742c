"""Every route of the app is checked against the one route table, for every role.

The matrix below is generated from the app's own routes: a route added without a permission
in `permissions.ROUTES` fails `test_every_route_declares_a_permission`, and its row here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from quarterdeck.app import create_app
from quarterdeck.app.auth import SESSION_COOKIE
from quarterdeck.app.permissions import (
    PERMISSIONS,
    PUBLIC,
    ROLES,
    ROUTES,
    app_routes,
    has_permission,
    may_change_account,
    may_change_account_id,
    undeclared_routes,
)
from quarterdeck.appdb import add_user, session
from quarterdeck.appdb.models import User
from quarterdeck.appdb.sessions import find_session, start_session
from tests.app.conftest import AS_OF, accounts_table, history_table

# The app's routes, read from an app over an empty in-memory database at collection time.
_ROUTES_APP = create_app("sqlite://", secret_key="routes")
APP_ROUTES = [(method, path) for _, method, path in app_routes(_ROUTES_APP.routes)]
_ROUTES_APP.state.engine.dispose()
EXAMPLE = {"{account_id:path}": "acme", "{token_id}": "999999"}
RUN_AT = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
ROLE_USERS = {role: f"{role}-perm@example.com" for role in ROLES}


def _url(path: str) -> str:
    for name, value in EXAMPLE.items():
        path = path.replace(name, value)
    return path


def test_every_route_declares_a_permission() -> None:
    assert undeclared_routes(_ROUTES_APP.routes) == []
    assert {permission for permission in ROUTES.values()} <= {PUBLIC, *PERMISSIONS}


def test_the_table_names_no_route_the_app_does_not_have() -> None:
    assert set(ROUTES) == set(APP_ROUTES)


def test_an_undeclared_route_is_found_and_refused(app: FastAPI) -> None:
    extra = FastAPI()

    @extra.get("/secret-report")
    def secret_report() -> dict[str, str]:
        return {"leak": "yes"}

    assert undeclared_routes(extra.routes) == [("GET", "/secret-report")]
    app.add_api_route("/secret-report", secret_report, methods=["GET"])
    try:
        client = TestClient(app)
        _sign_in_as(app, client, "admin")
        response = client.get("/secret-report")
        assert response.status_code == 403 and "leak" not in response.text
    finally:
        app.router.routes[:] = [r for r in app.router.routes
                                if getattr(r, "path", None) != "/secret-report"]


@pytest.fixture(scope="module")
def role_users(app: FastAPI) -> Iterator[dict[str, int]]:
    """One user of each role."""
    engine = app.state.engine
    ids = {}
    for role, email in ROLE_USERS.items():
        with session(engine) as db:
            found = db.scalar(select(User).where(User.email == email))
        user = found or add_user(engine, email, role.title(), role, "permission tests")
        ids[role] = user.id
    yield ids


def _sign_in_as(app: FastAPI, client: TestClient, role: str) -> str:
    """Sign the client in as the role's user without the (slow) password check; the CSRF
    token of the session."""
    with session(app.state.engine) as db:
        user_id = db.scalar(select(User.id).where(User.email == ROLE_USERS[role]))
    if user_id is None:
        user_id = add_user(app.state.engine, ROLE_USERS[role], role, role, "permission tests").id
    session_id = start_session(app.state.engine, user_id)
    client.cookies.set(SESSION_COOKIE, session_id)
    found = find_session(app.state.engine, session_id)
    assert found is not None
    return found.csrf_token


def _call(client: TestClient, method: str, path: str, csrf: str | None,
          role: str = "viewer") -> int:
    """The status of the call; a redirect anywhere but the login form counts as 200."""
    data = {"csrf_token": csrf} if csrf else {}
    if path == "/login":
        # Right credentials: failed sign-ins would count towards the address's lockout.
        data |= {"email": ROLE_USERS[role], "password": "permission tests"}
    response = client.request(method, _url(path), data=data or None, follow_redirects=False)
    if response.status_code == 303 and not response.headers["location"].startswith("/login?"):
        return 200
    return response.status_code


@pytest.mark.parametrize(("method", "path"), APP_ROUTES)
@pytest.mark.parametrize("role", ROLES)
def test_route_allows_exactly_the_roles_of_its_permission(
    app: FastAPI, role_users: dict[str, int], role: str, method: str, path: str
) -> None:
    permission = ROUTES[(method, path)]
    client = TestClient(app)
    if path == "/login" and method == "GET":
        return  # a signed-in user is sent on from the login form: covered in test_auth
    csrf = _sign_in_as(app, client, role)
    if path == "/login":  # a public form: its token comes with the form, before sign-in
        client = TestClient(app)
        from quarterdeck.testing.web_client import csrf_of

        csrf = csrf_of(client)
    status = _call(client, method, path, csrf, role)
    if has_permission(role, permission):
        assert status not in (401, 403), f"{role} refused {method} {path}: {status}"
    else:
        assert status == 403, f"{role} allowed {method} {path} ({permission}): {status}"


@pytest.mark.parametrize(("method", "path"), APP_ROUTES)
def test_route_needs_a_signed_in_user_unless_public(
    app: FastAPI, role_users: dict[str, int], method: str, path: str
) -> None:
    client = TestClient(app)
    csrf = None
    if method == "POST":
        from quarterdeck.testing.web_client import csrf_of

        csrf = csrf_of(client)
    status = _call(client, method, path, csrf)
    if ROUTES[(method, path)] == PUBLIC:
        assert status not in (401, 403)
    else:
        assert status in (303, 401)


def test_a_csm_changes_only_their_own_accounts() -> None:
    ana = User(email="ana@example.com", role="csm")
    assert may_change_account(ana, "ana@example.com", "mo@example.com")
    assert not may_change_account(ana, "ben@example.com", "mo@example.com")
    assert not may_change_account(ana, None, None)


def test_a_manager_changes_their_teams_accounts_only() -> None:
    mo = User(email="mo@example.com", role="manager")
    assert may_change_account(mo, "ana@example.com", "mo@example.com")
    assert may_change_account(mo, "mo@example.com", None)
    assert not may_change_account(mo, "zoe@example.com", "kim@example.com")


def test_ops_and_admin_change_any_account_and_a_viewer_none() -> None:
    for role in ("ops", "admin"):
        assert may_change_account(User(email="x@example.com", role=role), "z@example.com", None)
    viewer = User(email="v@example.com", role="viewer")
    assert not may_change_account(viewer, "v@example.com", None)


def test_only_admins_read_the_audit_log_and_manage_users() -> None:
    assert [r for r in ROLES if has_permission(r, "read_audit")] == ["admin"]
    assert [r for r in ROLES if has_permission(r, "manage_users")] == ["admin"]
    assert [r for r in ROLES if has_permission(r, "edit_definitions")] == ["admin", "ops"]
    assert [r for r in ROLES if has_permission(r, "manage_team")] == ["admin", "ops", "manager"]


def test_who_may_change_a_published_account_follows_its_owner_and_their_manager(
    tmp_path: Path,
) -> None:
    from quarterdeck.appdb import make_engine, migrate, publish_snapshot
    from quarterdeck.appdb.operations_models import TeamMember

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    publish_snapshot(engine, as_of=AS_OF, accounts=accounts_table(),
                     arr_history=history_table(), run_started_at=RUN_AT)
    with session(engine) as db:
        db.add(TeamMember(email="ana@example.com", name="Ana", role="csm",
                          manager_email="mo@example.com"))
    ana, ben = User(email="ana@example.com", role="csm"), User(email="ben@example.com", role="csm")
    mo, kim = User(email="mo@example.com", role="manager"), User(email="kim@example.com",
                                                                  role="manager")
    assert may_change_account_id(engine, ana, "acme")
    assert not may_change_account_id(engine, ben, "acme")
    assert may_change_account_id(engine, mo, "acme") and not may_change_account_id(engine, kim,
                                                                                    "acme")
    assert not may_change_account_id(engine, ana, "hooli")  # no owner
    assert not may_change_account_id(engine, ana, "never-published")
    assert may_change_account_id(engine, User(email="o@example.com", role="ops"), "hooli")
    engine.dispose()
