"""A migrated app database on every backend, and small Arrow tables to publish into it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import Engine

from quarterdeck.appdb import make_engine, migrate
from quarterdeck.appdb.publish import ACCOUNT_COLUMNS
from quarterdeck.testing.postgres import app_database_url

__all__ = ["app_database_url", "engine", "accounts_table", "history_table"]


@pytest.fixture
def engine(app_database_url: str) -> Iterator[Engine]:
    """A freshly migrated app database (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(app_database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def accounts_table(rows: list[tuple[str, str, str]]) -> pa.Table:
    """Accounts to publish from (account_id, name, monthly MRR as a decimal string) triples.

    Every other column gets a plain value; ARR is 12 × MRR.
    """
    n = len(rows)
    mrr = [Decimal(m) for _, _, m in rows]
    columns = {
        "account_id": [r[0] for r in rows],
        "name": [r[1] for r in rows],
        "domain": [None] * n,
        "segment": ["smb"] * n,
        "tier": ["standard"] * n,
        "region": ["emea"] * n,
        "country": ["FR"] * n,
        "industry": [None] * n,
        "owner_email": ["ana@example.com"] * n,
        "parent_account_id": [None] * n,
        "status": ["active"] * n,
        "mrr": pa.array(mrr, pa.decimal128(18, 2)),
        "arr": pa.array([m * 12 for m in mrr], pa.decimal128(18, 2)),
        "currency": ["EUR"] * n,
        "customer_since": [date(2022, 3, 1)] * n,
        "renewal_date": [date(2025, 3, 1)] * n,
        "events_30d": [10] * n,
        "active_users_30d": [2] * n,
        "open_tickets": [0] * n,
        "tickets_30d": [1] * n,
        "last_activity_at": pa.array([None] * n, pa.timestamp("us", tz="UTC")),
    }
    assert tuple(columns) == ACCOUNT_COLUMNS
    return pa.table(columns)


def history_table(rows: list[tuple[str, date, str]]) -> pa.Table:
    """Monthly ARR history from (account_id, month, ARR as a decimal string) triples."""
    return pa.table(
        {
            "account_id": pa.array([r[0] for r in rows], pa.string()),
            "month": pa.array([r[1] for r in rows], pa.date32()),
            "arr": pa.array([Decimal(r[2]) for r in rows], pa.decimal128(18, 2)),
        }
    )
