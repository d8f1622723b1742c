"""Running the app-database tests on SQLite and, when a server is available, on PostgreSQL.

Set `QUARTERDECK_TEST_POSTGRES_URL` (e.g. `postgresql+psycopg://postgres@127.0.0.1:5432/test`)
and every test using the `app_database_url` fixture runs twice: once on a SQLite file, once on
a throwaway PostgreSQL database created on that server and dropped afterwards. Without the
variable the PostgreSQL run is skipped and says why.

Use it from a conftest.py: `from quarterdeck.testing.postgres import app_database_url`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

POSTGRES_URL_VARIABLE = "QUARTERDECK_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")
#: Fixture params over both backends; the PostgreSQL one carries the `postgres` mark so
#: `-m "not postgres"` deselects it.
BACKEND_PARAMS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """Create an empty database `qd_<random>` on the server of `server_url`; drop it on exit.

    Yields the URL of the new database. The database named in `server_url` is only used to
    connect; it is never modified.
    """
    url = make_url(server_url)
    name = f"qd_{secrets.token_hex(6)}"
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                # FORCE ends connections a failing test left open (PostgreSQL 13+).
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def database_url_for(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty app database URL on `backend` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        pytest.skip(f"PostgreSQL run needs {POSTGRES_URL_VARIABLE} set to a server URL")
    with throwaway_database(server_url) as url:
        yield url


@pytest.fixture(params=BACKEND_PARAMS)
def app_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty app database, once per backend (not migrated yet)."""
    with database_url_for(request.param, tmp_path) as url:
        yield url
