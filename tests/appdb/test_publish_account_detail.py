"""Publishing the account detail day after day writes only what changed, and leaves the app
database holding exactly what a publish of every row would: on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pyarrow as pa
from sqlalchemy import Engine, select

from quarterdeck.appdb import account_detail_models as models
from quarterdeck.appdb.publish_account_detail import (
    TABLES,
    _columns,
    publish_account_detail,
    published_detail_as_of,
)
from quarterdeck.appdb.published_copy import PublishedCopy
from tests.app.conftest import detail_tables

DAY = date(2024, 6, 30)


def _published(engine: Engine) -> dict[str, Counter]:
    """Every detail table's rows as a multiset of their values (no id, no as_of)."""
    out = {}
    with engine.connect() as c:
        for name, model in TABLES.items():
            cols = [model.__table__.c[n] for n in _columns(model)]
            out[name] = Counter(tuple(r) for r in c.execute(select(*cols)).all())
    return out


def _ids(engine: Engine) -> set[int]:
    with engine.connect() as c:
        return set(c.scalars(select(models.TimelineEntry.id)))


def _next_day(tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The same accounts a day later: a new timeline entry, the current week's usage moved,
    a contact gone."""
    timeline = tables["timeline"]
    entry = timeline.slice(0, 1).to_pylist()[0] | {
        "occurred_at": datetime(2024, 7, 1, tzinfo=UTC), "kind": "call", "ref_id": "a9"}
    usage = tables["usage_weekly"].to_pylist()
    usage[-1] = usage[-1] | {"events": 260, "avg_daily_active_users": 4.0}
    return tables | {
        "timeline": pa.concat_tables([timeline, pa.Table.from_pylist([entry],
                                                                     schema=timeline.schema)]),
        "usage_weekly": pa.Table.from_pylist(usage, schema=tables["usage_weekly"].schema),
        "contacts": tables["contacts"].slice(0, 1),
    }


def test_a_day_later_writes_only_the_changes_and_equals_a_full_publish(engine, tmp_path):
    copy_dir = tmp_path / "copy"
    first = detail_tables("acme")
    assert publish_account_detail(engine, as_of=DAY, tables=first, copy_dir=copy_dir)
    before = _ids(engine)
    second = _next_day(first)
    assert publish_account_detail(engine, as_of=date(2024, 7, 1), tables=second,
                                  copy_dir=copy_dir)
    after = _ids(engine)
    assert before < after and len(after - before) == 1
    with engine.connect() as c:  # the five rows kept as written the day before, one added
        written = Counter(c.scalars(select(models.TimelineEntry.as_of)))
        weeks = dict(c.execute(select(models.AccountUsageWeek.week_start,
                                      models.AccountUsageWeek.as_of)).all())
    assert written == Counter({DAY: 5, date(2024, 7, 1): 1})
    assert weeks == {date(2024, 6, 17): DAY, date(2024, 6, 24): date(2024, 7, 1)}
    incremental = _published(engine)
    assert published_detail_as_of(engine) == date(2024, 7, 1)
    # The same day published in full, with no copy, holds the same rows.
    assert publish_account_detail(engine, as_of=date(2024, 7, 1), tables=second)
    assert _published(engine) == incremental
    assert incremental["contacts"] == Counter({next(iter(incremental["contacts"])): 1})


def test_without_a_matching_copy_every_row_is_written(engine, tmp_path):
    copy_dir = tmp_path / "copy"
    tables = detail_tables("acme")
    publish_account_detail(engine, as_of=DAY, tables=tables, copy_dir=copy_dir)
    with engine.begin() as c:  # a row the copy does not know: the copy no longer matches
        c.execute(models.AccountDetailPublished.__table__.update().values(token="other"))
    publish_account_detail(engine, as_of=DAY, tables=detail_tables("globex"), copy_dir=copy_dir)
    with engine.connect() as c:
        accounts = set(c.scalars(select(models.AccountContact.account_id)))
    assert accounts == {"globex"}
    assert PublishedCopy(copy_dir).token() == _token(engine)


def test_a_copy_cut_short_is_not_used(engine, tmp_path):
    copy_dir = tmp_path / "copy"
    publish_account_detail(engine, as_of=DAY, tables=detail_tables("acme"), copy_dir=copy_dir)
    (copy_dir / "timeline.parquet").unlink()
    publish_account_detail(engine, as_of=DAY, tables=_next_day(detail_tables("acme")),
                           copy_dir=copy_dir)
    assert _published(engine)["timeline"].total() == 6


def test_a_copy_of_other_columns_is_not_used(engine, tmp_path):
    import pyarrow.parquet as pq

    copy_dir = tmp_path / "copy"
    publish_account_detail(engine, as_of=DAY, tables=detail_tables("acme"), copy_dir=copy_dir)
    path = copy_dir / "contacts.parquet"  # as if kept before the table gained a column
    pq.write_table(pq.read_table(path).drop_columns(["title"]), path)
    assert publish_account_detail(engine, as_of=date(2024, 7, 1),
                                  tables=_next_day(detail_tables("acme")), copy_dir=copy_dir)
    with engine.connect() as c:
        written = set(c.scalars(select(models.TimelineEntry.as_of)))
    assert written == {date(2024, 7, 1)}  # every row written again


def test_an_earlier_day_changes_nothing(engine, tmp_path):
    copy_dir = tmp_path / "copy"
    publish_account_detail(engine, as_of=DAY, tables=detail_tables("acme"), copy_dir=copy_dir)
    token = _token(engine)
    assert not publish_account_detail(engine, as_of=date(2024, 6, 1),
                                      tables=detail_tables("globex"), copy_dir=copy_dir)
    assert _token(engine) == token == PublishedCopy(copy_dir).token()


def _token(engine: Engine) -> str:
    with engine.connect() as c:
        return c.scalar(select(models.AccountDetailPublished.token))


def test_detail_published_before_the_upgrade_keeps_its_day(app_database_url):
    from alembic import command
    from alembic.config import Config

    from quarterdeck.appdb import make_engine, migrate
    from quarterdeck.appdb.database import MIGRATIONS

    engine = make_engine(app_database_url)
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0014_milestones_reached")
        connection.execute(models.AccountUsageWeek.__table__.insert().values(
            as_of=DAY, account_id="acme", week_start=date(2024, 6, 24), events=3,
            avg_daily_active_users=1.0))
    migrate(engine)
    assert published_detail_as_of(engine) == DAY
    assert _token(engine) == "upgraded"  # matches no copy: the next publish writes every row
    engine.dispose()
