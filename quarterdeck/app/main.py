"""The web app: pages and REST API over the app database, behind a sign-in.

`create_app` is what `quarterdeck serve` runs; tests call it directly.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from quarterdeck import __version__
from quarterdeck.app import api, health
from quarterdeck.app.api import book as book_api
from quarterdeck.app.api import definitions as definitions_api
from quarterdeck.app.api import leadership as leadership_api
from quarterdeck.app.api import renewals as renewals_api
from quarterdeck.app.api import reports as reports_api
from quarterdeck.app.auth import (
    SESSION_COOKIE,
    NotAuthenticated,
    cookie_secure_for,
    current_user,
)
from quarterdeck.app.consistent_reads import ConsistentReads
from quarterdeck.app.login_throttle import LoginPolicy
from quarterdeck.app.pages import (
    accounts,
    audit,
    book,
    definitions,
    leadership,
    login,
    quality,
    renewals,
    reports,
)
from quarterdeck.app.permissions import authorize, undeclared_routes
from quarterdeck.app.rendering import HERE, render
from quarterdeck.app.security_headers import SecurityHeaders
from quarterdeck.appdb.database import make_engine, migrate
from quarterdeck.errors import QuarterdeckError

__all__ = ["SESSION_COOKIE", "create_app"]


def create_app(
    database_url: str,
    *,
    secret_key: str | None = None,
    workspace_name: str = "Quarterdeck",
    secure_cookies: str = "auto",
    login_policy: LoginPolicy | None = None,
) -> FastAPI:
    """The Quarterdeck web app on the app database at `database_url` (migrated on start).

    `secret_key` signs the login form's CSRF token; pass the workspace's persistent key (a
    random one works for one process). Sessions live in the app database. `secure_cookies`
    is `auto` (Secure over HTTPS, including behind a trusted proxy that says so), `always`
    or `never`. Every route must be declared in `permissions.ROUTES`, or the app refuses to
    start.

    >>> app = create_app("sqlite:////srv/qd/data/app.db", secret_key=key)  # doctest: +SKIP
    """
    engine = make_engine(database_url)
    migrate(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title=f"{workspace_name} API",
        version=__version__,
        description="Customer success data published by the Quarterdeck pipeline. "
        "Authenticate with `Authorization: Bearer <token>` or a signed-in session.",
        lifespan=lifespan,
        # Every route passes `authorize`, which checks it against the one route table.
        dependencies=[Depends(authorize)],
        # A slash redirect would be an absolute URL built from the client's Host header.
        redirect_slashes=False,
        # The docs UIs load scripts from a CDN; the spec itself is served, behind sign-in,
        # at /api/openapi.json by the API router.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.workspace_name = workspace_name
    app.state.secret_key = secret_key or secrets.token_urlsafe(32)
    app.state.cookie_secure = cookie_secure_for(secure_cookies)
    app.state.login_policy = login_policy or LoginPolicy()
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ConsistentReads)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(health.router)
    app.include_router(login.router)
    app.include_router(book.router)
    app.include_router(accounts.router)
    app.include_router(quality.router)
    app.include_router(leadership.router)
    app.include_router(renewals.router)
    app.include_router(reports.router)
    app.include_router(audit.router)
    app.include_router(definitions.router)
    app.include_router(api.router)
    app.include_router(book_api.router, prefix="/api", dependencies=[Depends(current_user)])
    app.include_router(leadership_api.router, prefix="/api",
                       dependencies=[Depends(current_user)])
    app.include_router(renewals_api.router, prefix="/api", dependencies=[Depends(current_user)])
    app.include_router(reports_api.router, prefix="/api", dependencies=[Depends(current_user)])
    app.include_router(definitions_api.router, prefix="/api",
                       dependencies=[Depends(current_user)])
    if missing := undeclared_routes(app.routes):
        raise RuntimeError(f"routes without a permission in permissions.ROUTES: {missing}")
    _add_error_handlers(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "NotAuthenticated", "message": "Sign in or send a bearer token."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            name = "NotFound" if exc.status_code == 404 else "HTTPError"
            return JSONResponse(
                {"error": name, "message": exc.detail},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        # An error page reads the data-age warnings: off the event loop, like any page.
        return await run_in_threadpool(
            render,
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(f"{' '.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                          f"{e.get('msg', 'invalid')}" for e in exc.errors())
        if _is_api(request):
            # The shape of every API error (error, message), with FastAPI's `detail` list
            # kept so the documented 422 schema still holds.
            return JSONResponse({"error": "ValidationError", "message": f"{where}.",
                                 "detail": jsonable_encoder(exc.errors())}, status_code=422)
        return await run_in_threadpool(
            render, request, "error.html",
            {"status": 400, "message": f"This page cannot show that: {where}."}, 400)

    @app.exception_handler(QuarterdeckError)
    async def quarterdeck_error(request: Request, exc: QuarterdeckError) -> Response:
        if _is_api(request):
            return JSONResponse(exc.as_dict(), status_code=400)
        return await run_in_threadpool(render, request, "error.html",
                                       {"status": 400, "message": str(exc)}, 400)
