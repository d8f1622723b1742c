"""Publishing a day replaces that day's results atomically and leaves a run record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from quarterdeck.appdb import latest_as_of, make_engine, migrate, publish_snapshot, session
from quarterdeck.appdb.exports import published_table
from quarterdeck.appdb.models import AccountArrSeries, AccountSnapshot, PipelineRun
from quarterdeck.appdb.publish import ACCOUNT_COLUMNS, PublishError

DAY = date(2024, 6, 30)
STARTED = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)


def accounts_table(rows: list[tuple[Any, ...]]) -> pa.Table:
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
        "owner_name": ["Ana Lima"] * n,
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


def history_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Monthly ARR history from (account_id, month, ARR as a decimal string) triples."""
    return pa.table(
        {
            "account_id": pa.array([r[0] for r in rows], pa.string()),
            "month": pa.array([r[1] for r in rows], pa.date32()),
            "arr": pa.array([None if r[2] is None else Decimal(r[2]) for r in rows],
                            pa.decimal128(18, 2)),
        }
    )


def _publish(engine: Engine, as_of: date, accounts: pa.Table, history: pa.Table) -> int:
    return publish_snapshot(
        engine, as_of=as_of, accounts=accounts, arr_history=history, run_started_at=STARTED
    )


def _published(engine: Engine, as_of: date) -> dict[str, Decimal]:
    with session(engine) as db:
        rows = db.execute(
            select(AccountSnapshot.account_id, AccountSnapshot.arr).where(
                AccountSnapshot.as_of == as_of
            )
        )
        return {account_id: arr for account_id, arr in rows}


def test_publish_stores_accounts_and_history_with_exact_money(engine: Engine) -> None:
    accounts = accounts_table([("a1", "Acme", "1000.10"), ("a2", "Globex", "250.00")])
    history = history_table(
        [("a1", date(2024, 5, 1), "11000.00"), ("a1", date(2024, 6, 1), "12001.20")]
    )
    assert _publish(engine, DAY, accounts, history) == 2
    assert _published(engine, DAY) == {"a1": Decimal("12001.20"), "a2": Decimal("3000.00")}
    history = published_table(engine, "account_arr_history", DAY).to_pylist()
    assert [(r["account_id"], r["month"], r["arr"]) for r in history] == [
        ("a1", date(2024, 5, 1), Decimal("11000.00")),
        ("a1", date(2024, 6, 1), Decimal("12001.20"))]
    with session(engine) as db:  # one row per account and day, its months packed
        assert db.scalars(select(AccountArrSeries.account_id)).all() == ["a1"]
        run = db.scalars(select(PipelineRun)).one()
    assert (run.status, run.account_count, run.as_of) == ("succeeded", 2, DAY)
    assert run.started_at == STARTED
    assert latest_as_of(engine) == DAY


def test_republishing_a_day_replaces_it_and_leaves_other_days(engine: Engine) -> None:
    empty_history = history_table([])
    _publish(engine, date(2024, 6, 29), accounts_table([("a1", "Acme", "10")]), empty_history)
    _publish(
        engine, DAY, accounts_table([("a1", "Acme", "10"), ("a2", "Gone", "5")]), empty_history
    )
    _publish(engine, DAY, accounts_table([("a1", "Acme", "20")]), empty_history)
    assert _published(engine, DAY) == {"a1": Decimal("240.00")}
    assert _published(engine, date(2024, 6, 29)) == {"a1": Decimal("120.00")}


def test_failed_publish_leaves_the_previous_results_intact(engine: Engine) -> None:
    history = history_table([("a1", date(2024, 6, 1), "120.00")])
    _publish(engine, DAY, accounts_table([("a1", "Acme", "10")]), history)

    # The third account has no name: the database refuses it after the first two were written.
    bad = accounts_table([("a1", "Acme", "99"), ("a2", "Globex", "5"), ("a3", None, "1")])
    with pytest.raises(Exception, match="(?i)null"):
        _publish(engine, DAY, bad, history_table([]))

    assert _published(engine, DAY) == {"a1": Decimal("120.00")}
    with session(engine) as db:
        assert db.scalars(select(AccountArrSeries.months)).all() == ['[["2024-06-01","120.00"]]']
        statuses = db.scalars(select(PipelineRun.status).order_by(PipelineRun.id)).all()
    assert statuses == ["succeeded", "failed"]
    assert latest_as_of(engine) == DAY


def test_history_for_an_unpublished_account_is_refused(engine: Engine) -> None:
    history = history_table([("nobody", date(2024, 6, 1), "1.00")])
    with pytest.raises(PublishError, match="nobody"):
        _publish(engine, DAY, accounts_table([("a1", "Acme", "10")]), history)
    assert _published(engine, DAY) == {}
    with session(engine) as db:
        run = db.scalars(select(PipelineRun)).one()
    assert run.status == "failed" and "nobody" in (run.message or "")


def test_wrong_columns_name_what_is_missing_and_extra(engine: Engine) -> None:
    accounts = accounts_table([("a1", "Acme", "10")]).drop_columns(["tier"])
    accounts = accounts.append_column("colour", pa.array(["red"]))
    with pytest.raises(PublishError, match=r"missing columns \['tier'\].*\['colour'\]"):
        _publish(engine, DAY, accounts, history_table([]))


def test_latest_as_of_is_none_before_anything_is_published(engine: Engine) -> None:
    assert latest_as_of(engine) is None


def test_latest_as_of_ignores_an_older_backfill(engine: Engine) -> None:
    _publish(engine, DAY, accounts_table([("a1", "Acme", "10")]), history_table([]))
    _publish(engine, date(2024, 1, 31), accounts_table([("a1", "Acme", "10")]), history_table([]))
    assert latest_as_of(engine) == DAY


def test_float_money_columns_are_accepted(engine: Engine) -> None:
    accounts = accounts_table([("a1", "Acme", "10")])
    index = accounts.column_names.index("arr")
    accounts = accounts.set_column(index, "arr", pa.array([120.5], pa.float64()))
    _publish(engine, DAY, accounts, history_table([]))
    assert _published(engine, DAY) == {"a1": Decimal("120.50")}


def test_timestamps_without_a_zone_are_read_as_utc(engine: Engine) -> None:
    accounts = accounts_table([("a1", "Acme", "10")])
    index = accounts.column_names.index("last_activity_at")
    naive = pa.array([datetime(2024, 6, 29, 15, 30)], pa.timestamp("us"))
    _publish(engine, DAY, accounts.set_column(index, "last_activity_at", naive), history_table([]))
    with session(engine) as db:
        stored = db.scalars(select(AccountSnapshot.last_activity_at)).one()
    assert stored == datetime(2024, 6, 29, 15, 30, tzinfo=UTC)


def test_history_published_before_the_upgrade_is_packed_and_back(app_database_url) -> None:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from quarterdeck.appdb.database import MIGRATIONS

    engine = make_engine(app_database_url)
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    rows = [("a1", "2024-05-31", "1100.50"), ("a1", "2024-04-30", "0.00"),
            ("a1", "2024-06-30", "1200.00"), ("a2", "2024-06-30", "99999999.99")]
    old = sa.table("account_arr_history", sa.column("as_of", sa.Date()),
                   sa.column("account_id", sa.String()), sa.column("month", sa.Date()),
                   sa.column("arr", sa.Numeric(18, 2)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0015_account_detail_published")
        connection.execute(old.insert(), [
            {"as_of": DAY, "account_id": a, "month": date.fromisoformat(m), "arr": Decimal(v)}
            for a, m, v in rows])
    migrate(engine)
    expected = sorted((a, date.fromisoformat(m), Decimal(v)) for a, m, v in rows)
    got = published_table(engine, "account_arr_history", DAY).to_pylist()
    assert [(r["account_id"], r["month"], r["arr"]) for r in got] == expected
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015_account_detail_published")
        back = connection.execute(sa.select(old.c.account_id, old.c.month, old.c.arr)).all()
    assert sorted((a, m, Decimal(v).quantize(Decimal("0.01"))) for a, m, v in back) == expected
    engine.dispose()


def test_history_without_arr_is_refused_before_anything_is_written(engine: Engine) -> None:
    history = history_table([("a1", date(2024, 6, 1), None)])
    with pytest.raises(PublishError, match="1 rows without ARR, e.g. account_id 'a1'"):
        _publish(engine, DAY, accounts_table([("a1", "Acme", "10")]), history)
    assert latest_as_of(engine) is None


def test_history_with_an_arr_too_large_for_the_database_is_refused(engine: Engine) -> None:
    history = history_table([("a1", date(2024, 6, 1), "120.00")])
    history = history.set_column(2, "arr", pa.array([Decimal("12345678901234567.00")],
                                                    pa.decimal128(38, 2)))
    with pytest.raises(PublishError, match="ARR of 10\\^16 or more"):
        _publish(engine, DAY, accounts_table([("a1", "Acme", "10")]), history)
    assert latest_as_of(engine) is None


@given(days=st.lists(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
                     max_size=30))
@settings(max_examples=200, deadline=None)
def test_dates_turned_to_text_by_arrow_are_what_the_sqlite_driver_stores(days) -> None:
    """SQLite stores a date as its ISO text (the sqlite3 driver's adapter); the bulk path
    makes that text for a whole column in Arrow, and it must be the same text."""
    from quarterdeck.appdb.publish import driver_values

    for kind in (pa.date32(), pa.date64()):
        column = pa.array([*days, None], kind)
        assert driver_values(column, iso_dates=True) == [*(d.isoformat() for d in days), None]
        assert driver_values(column, iso_dates=False) == [*days, None]


def test_a_published_date_reads_back_the_same_through_sqlite_and_sqlalchemy(tmp_path) -> None:
    import sqlite3

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    far = [("a-1", "Early", "1.00"), ("a-2", "Late", "2.00")]
    accounts = accounts_table(far).set_column(
        ACCOUNT_COLUMNS.index("renewal_date"), "renewal_date",
        pa.array([date(999, 1, 2), date(9999, 12, 31)], pa.date32()))
    _publish(engine, DAY, accounts, history_table([("a-1", date(2024, 5, 1), "12.00")]))
    with session(engine) as db:
        read = dict(db.execute(select(AccountSnapshot.account_id,
                                       AccountSnapshot.renewal_date)).all())
    assert read == {"a-1": date(999, 1, 2), "a-2": date(9999, 12, 31)}
    engine.dispose()
    with sqlite3.connect(tmp_path / "app.db") as raw:
        stored = sorted(raw.execute("SELECT as_of, renewal_date, customer_since FROM "
                                    "account_snapshots"))
    assert stored == [("2024-06-30", "0999-01-02", "2022-03-01"),
                      ("2024-06-30", "9999-12-31", "2022-03-01")]
