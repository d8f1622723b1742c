"""Alembic environment: runs migrations on the connection `migrate` hands over.

Developers can also point the `alembic` command at a database by setting `sqlalchemy.url`
in an ad-hoc alembic.ini with `script_location = quarterdeck.appdb:migrations`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from quarterdeck.appdb.database import make_engine
from quarterdeck.appdb.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate the connection given by `migrate`, or open one from `sqlalchemy.url`."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as new_connection:
        _run(new_connection)
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
