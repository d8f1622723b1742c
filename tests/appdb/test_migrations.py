"""The shipped migrations build the schema of the models, from empty, and can be re-run."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from quarterdeck.appdb import make_engine, migrate
from quarterdeck.appdb.database import current_revision
from quarterdeck.appdb.models import Base

TABLES = {
    "users",
    "api_tokens",
    "pipeline_runs",
    "account_snapshots",
    "account_arr_series",
    "audit_log",
}


def test_migrate_creates_every_table_from_an_empty_database(app_database_url: str) -> None:
    engine = make_engine(app_database_url)
    assert current_revision(engine) is None
    migrate(app_database_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert current_revision(engine) is not None
    engine.dispose()


def test_migrate_twice_changes_nothing(app_database_url: str) -> None:
    engine = make_engine(app_database_url)
    migrate(engine)
    revision = current_revision(engine)
    migrate(engine)
    assert current_revision(engine) == revision
    engine.dispose()


def test_migrations_match_the_models(app_database_url: str) -> None:
    engine = make_engine(app_database_url)
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_sqlite_uses_wal_and_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'app.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
