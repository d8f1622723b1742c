"""Serving a workspace's web app: its app database and a secret key kept in the workspace."""

from __future__ import annotations

import gc
import os
import secrets

from fastapi import FastAPI

from quarterdeck.workspace.workspace import Workspace

SECRET_FILE = "secret_key"


def secret_key(ws: Workspace) -> str:
    """The workspace's secret key (it keys the login form's CSRF token), created once
    (readable by its owner only)."""
    path = ws.data_dir / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def prepare(ws: Workspace) -> None:
    """What serving needs done once, before any server process starts: the app database
    migrated and the secret key created (two processes creating either at once would race)."""
    from quarterdeck.appdb.database import make_engine, migrate

    engine = make_engine(ws.app_database_url)
    migrate(engine)
    engine.dispose()
    secret_key(ws)


def build_app(ws: Workspace) -> FastAPI:
    """The web app of `ws`, its workspace prepared first (see `prepare`)."""
    prepare(ws)
    return _web_app(ws)


def _web_app(ws: Workspace) -> FastAPI:
    from quarterdeck.app import create_app
    from quarterdeck.appdb.users import unknown_email_hash

    unknown_email_hash()  # made before the first sign-in, which then takes as long as any

    app = create_app(ws.app_database_url, secret_key=secret_key(ws),
                     workspace_name=ws.settings.name,
                     secure_cookies=ws.settings.server.secure_cookies)
    # Starting a playbook by hand needs the workspace's definitions of it.
    app.state.playbooks = ws.book.playbooks
    # The definitions page reads the files afresh from here on each visit.
    app.state.workspace_root = ws.root
    return app


def app_from_environment() -> FastAPI:
    """The app each server process builds when several serve, for the workspace named in
    `$QUARTERDECK_WORKSPACE`; the serving command set it and ran `prepare` before starting
    the processes."""
    from quarterdeck.workspace.workspace import open_workspace

    app = _web_app(open_workspace())
    settle_memory()
    return app


def settle_memory() -> None:
    """Before serving: collect what start-up left behind and keep everything still alive (the
    app's modules, routes, templates and database metadata, which live as long as the
    process) out of the garbage collector's full passes. Each full pass stops every request
    while it walks every object; with start-up's objects left in, it took up to 0.3 s.

    The page templates are compiled first (the account page's takes 0.14 s): otherwise the
    first people after a start each wait while every request that arrives at once compiles
    the same template."""
    from quarterdeck.app.rendering import templates

    for name in templates.env.list_templates(filter_func=lambda n: n.endswith(".html")):
        templates.env.get_template(name)
    gc.collect()
    gc.freeze()
