"""Alembic migrations of the app database, applied by `quarterdeck.appdb.migrate`."""
