"""A migrated app database on every backend (PostgreSQL when configured, see testing/postgres)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from quarterdeck.appdb import make_engine, migrate
from quarterdeck.testing.postgres import app_database_url

__all__ = ["app_database_url", "engine"]


@pytest.fixture
def engine(app_database_url: str) -> Iterator[Engine]:
    """A freshly migrated app database (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(app_database_url)
    migrate(engine)
    yield engine
    engine.dispose()
