"""Publishing what the account page shows beyond the snapshot (see `account_detail_models`).

The latest day wins: a publish for a day on or after the one kept brings every table to the
new rows in one transaction; a publish for an earlier day (re-running the past) changes
nothing, since the pages show the latest snapshot.

Given the folder of the publisher's copy of what it published last (`PublishedCopy`), a
publish writes only the rows that changed (`row_changes`): at 20,000 accounts a day changes a
few tens of thousands of the million rows. Without a copy that matches the app database's
token, every row is written, as on the first publish.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Engine, Table, and_, bindparam, delete, insert, select

from quarterdeck.appdb.account_detail_models import (
    AccountContact,
    AccountDetailPublished,
    AccountOpportunity,
    AccountSubscription,
    AccountUsageWeek,
    TimelineEntry,
)
from quarterdeck.appdb.data_versions import ACCOUNT_DETAIL, bump
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.publish import PublishError, insert_arrow
from quarterdeck.appdb.published_copy import PublishedCopy
from quarterdeck.appdb.row_changes import RowChanges, row_changes

#: What a publish takes, by name, and where it goes.
TABLES = {
    "timeline": TimelineEntry,
    "contacts": AccountContact,
    "subscriptions": AccountSubscription,
    "opportunities": AccountOpportunity,
    "usage_weekly": AccountUsageWeek,
}
#: Deletes of changed rows per statement batch.
DELETE_BATCH = 5000


def _columns(model: type) -> list[str]:
    return [c.name for c in model.__table__.columns if c.name not in ("id", "as_of")]


def _key(model: type) -> tuple[str, ...]:
    return tuple(c.name for c in model.__table__.primary_key.columns)


def published_detail_as_of(engine: Engine) -> date | None:
    """The day whose account detail is kept, or None."""
    with engine.connect() as connection:
        return connection.scalar(select(AccountDetailPublished.as_of))


def publish_account_detail(engine: Engine, *, as_of: date, tables: Mapping[str, pa.Table],
                           copy_dir: Path | None = None) -> bool:
    """Bring the kept account detail to `tables` (one per name of `TABLES`, with exactly the
    model's columns but id and as_of) when `as_of` is not earlier than the day kept; whether
    it did. `copy_dir` holds the publisher's copy of its last publish (see the module)."""
    if set(tables) != set(TABLES):
        raise PublishError(f"account detail to publish: expected tables {sorted(TABLES)}, "
                           f"got {sorted(tables)}")
    for name, model in TABLES.items():
        expected, got = _columns(model), tables[name].column_names
        if sorted(expected) != sorted(got):
            raise PublishError(f"account detail {name} to publish: expected columns "
                               f"{expected}, got {got}")
    with engine.connect() as connection:
        kept = connection.execute(select(AccountDetailPublished.as_of,
                                         AccountDetailPublished.token)).first()
    if kept is not None and as_of < kept.as_of:
        return False
    copy = PublishedCopy(copy_dir) if copy_dir is not None else None
    previous = (copy.read(kept.token, TABLES) if copy is not None and kept is not None
                else None)
    if previous is not None and any(
            sorted(previous[name].column_names) != sorted({*_key(model), *_columns(model)})
            for name, model in TABLES.items()):
        previous = None  # a copy of other columns (tables changed since): write every row
    changes = {name: row_changes(None if previous is None else previous[name],
                                 tables[name].select(_columns(model)), key=_key(model))
               for name, model in TABLES.items()}
    token = uuid.uuid4().hex
    with engine.begin() as connection:
        for name, model in TABLES.items():
            if previous is None:
                connection.execute(delete(model))
            else:
                _delete_rows(connection, model.__table__, changes[name])
            insert_arrow(connection, model.__table__, changes[name].added, as_of)
        connection.execute(delete(AccountDetailPublished))
        connection.execute(insert(AccountDetailPublished).values(
            token=token, as_of=as_of, published_at=utcnow()))
        bump(connection, ACCOUNT_DETAIL)
    if copy is not None:
        try:
            copy.write({name: c.rows for name, c in changes.items()}, token=token)
        except OSError:
            copy.forget()  # published all the same; the next publish writes every row
    return True


def _delete_rows(connection: Connection, table: Table, changes: RowChanges) -> None:
    """Delete the published rows `changes` removes, by their key: ids in batches; a natural
    key (weekly usage: account and week) one row per statement, executed as one batch by the
    driver (SQLite and PostgreSQL have no portable IN over pairs of values)."""
    removed = changes.removed
    if not removed.num_rows:
        return
    if removed.column_names == ["id"]:
        ids = removed.column("id").to_pylist()
        for start in range(0, len(ids), DELETE_BATCH):
            connection.execute(delete(table).where(
                table.c.id.in_(ids[start:start + DELETE_BATCH])))
        return
    statement = delete(table).where(and_(*(table.c[k] == bindparam(f"key_{k}")
                                           for k in removed.column_names)))
    connection.execute(statement, [{f"key_{k}": v for k, v in row.items()}
                                   for row in removed.to_pylist()])
