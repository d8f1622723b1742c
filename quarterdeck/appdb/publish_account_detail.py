"""Publishing what the account page shows beyond the snapshot (see `account_detail_models`).

The latest day wins: a publish for a day on or after the one kept replaces every table in one
transaction; a publish for an earlier day (re-running the past) changes nothing, since the
pages show the latest snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pyarrow as pa
from sqlalchemy import Engine, delete, func, select

from quarterdeck.appdb.account_detail_models import (
    AccountContact,
    AccountOpportunity,
    AccountSubscription,
    AccountUsageWeek,
    TimelineEntry,
)
from quarterdeck.appdb.data_versions import ACCOUNT_DETAIL, bump
from quarterdeck.appdb.publish import PublishError, insert_arrow

#: What a publish takes, by name, and where it goes.
TABLES = {
    "timeline": TimelineEntry,
    "contacts": AccountContact,
    "subscriptions": AccountSubscription,
    "opportunities": AccountOpportunity,
    "usage_weekly": AccountUsageWeek,
}


def _columns(model: type) -> list[str]:
    return [c.name for c in model.__table__.columns if c.name not in ("id", "as_of")]


def published_detail_as_of(engine: Engine) -> date | None:
    """The day whose account detail is kept, or None."""
    with engine.connect() as connection:
        return connection.scalar(select(func.max(TimelineEntry.as_of)))


def publish_account_detail(engine: Engine, *, as_of: date,
                           tables: Mapping[str, pa.Table]) -> bool:
    """Replace the kept account detail with `tables` (one per name of `TABLES`, with exactly
    the model's columns but id and as_of) when `as_of` is not earlier than the day kept;
    whether it did."""
    if set(tables) != set(TABLES):
        raise PublishError(f"account detail to publish: expected tables {sorted(TABLES)}, "
                           f"got {sorted(tables)}")
    for name, model in TABLES.items():
        expected, got = _columns(model), tables[name].column_names
        if sorted(expected) != sorted(got):
            raise PublishError(f"account detail {name} to publish: expected columns "
                               f"{expected}, got {got}")
    kept = published_detail_as_of(engine)
    if kept is not None and as_of < kept:
        return False
    with engine.begin() as connection:
        for name, model in TABLES.items():
            connection.execute(delete(model))
            insert_arrow(connection, model.__table__, tables[name].select(_columns(model)), as_of)
        bump(connection, ACCOUNT_DETAIL)
    return True
