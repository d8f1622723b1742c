"""Connecting to the app database and bringing its schema up to date.

SQLite (the default, one file) and PostgreSQL behave the same through this module:
`make_engine` sets SQLite up for a web server reading while the pipeline writes (WAL, foreign
keys, real transactions), and `migrate` applies the Alembic migrations shipped in the package.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from quarterdeck.owner_only import private_file, private_folder

# SQLite stores Numeric(18, 2) as REAL; money never needs more than 15 significant digits
# here, so the conversion SQLAlchemy warns about is exact to the cent.
warnings.filterwarnings(
    "ignore", message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal objects natively"
)

MIGRATIONS = "quarterdeck.appdb:migrations"
#: SQLite connections kept open per process (a connection to a local file costs little).
WEB_CONNECTIONS = 20


def make_engine(url: str) -> Engine:
    """Open the app database at a SQLAlchemy URL.

    >>> make_engine("sqlite:////srv/quarterdeck/data/app.db")  # doctest: +SKIP

    For SQLite the parent folder is created, and every connection uses WAL (readers never wait
    for the pipeline), enforces foreign keys and waits up to 10 s for a lock.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    kwargs: dict[str, Any] = {}
    database = parsed.database
    in_memory = not database or database == ":memory:"
    if in_memory:
        # Each new connection to ":memory:" is a new empty database; share one.
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        # Password hashes and sessions live here: readable by the owner only.
        private_folder(Path(database).parent)
        private_file(Path(database))
        # Keep a connection for each request the web app serves at once (its worker threads):
        # beyond the pool, each request would open the file and set it up anew, then close it.
        kwargs.update(pool_size=WEB_CONNECTIONS, max_overflow=WEB_CONNECTIONS)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
        # DDL and multi-statement publishes are truly atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def migrate(url_or_engine: str | Engine) -> None:
    """Bring the schema to the newest migrations (`alembic upgrade heads`); safe to repeat.

    Migrations of independent tables may branch from one revision; every head is applied.
    """
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    if isinstance(url_or_engine, str):
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The migration(s) the database is at (heads joined by "+", sorted), or None when it has
    never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) if heads else None


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A unit of work: commits when the block ends, rolls back if it raises.

    Loaded objects stay readable after the block (they are not expired on commit).
    """
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as db, db.begin():
        yield db
