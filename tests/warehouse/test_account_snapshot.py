"""The snapshot's active users of the last 30 days count exactly the users with an event in the
30 days ending on the as-of day, from its first midnight to its last second."""

from __future__ import annotations

from datetime import date

import ibis

from quarterdeck.testing.worlds import load_world, world
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.account_snapshot import account_snapshot

AS_OF = date(2024, 6, 30)  # the window is 2024-06-01 … 2024-06-30


def test_active_users_count_the_window_to_the_second():
    data = world(
        accounts=[{"account_id": "a", "name": "A", "created_at": "2024-01-01"}],
        users=[{"user_id": u, "account_id": "a", "created_at": "2024-01-01"}
               for u in ("before", "first", "last", "after", "own")],
        events=[
            {"event_id": "1", "timestamp": "2024-05-31T23:59:59", "event": "x",
             "user_id": "before"},
            {"event_id": "2", "timestamp": "2024-06-01T00:00:00", "event": "x",
             "user_id": "first"},
            {"event_id": "3", "timestamp": "2024-06-30T23:59:59", "event": "x",
             "user_id": "last"},
            {"event_id": "4", "timestamp": "2024-07-01T00:00:00", "event": "x",
             "user_id": "after"},
            {"event_id": "5", "timestamp": "2024-06-15T12:00:00", "event": "x",
             "user_id": "own", "account_id": "a"},
            {"event_id": "6", "timestamp": "2024-06-15T13:00:00", "event": "x",
             "account_id": "a"},  # no user: no active user
        ],
    )
    con = ibis.duckdb.connect()
    tables = load_world(con, data)
    daily = account_daily(tables, as_of=AS_OF, base_currency="USD")
    [row] = con.to_pyarrow(account_snapshot(tables, daily, as_of=AS_OF, base_currency="USD",
                                            tiers=[("any", 0.0)])).to_pylist()
    assert row["active_users_30d"] == 3  # first, last, own


def test_a_user_created_after_the_day_is_not_yet_active():
    """Point in time: an event without its own account counts through its user only once the
    user is known; the kept recent usage counts the same as the events."""
    from datetime import timedelta

    from quarterdeck.health.recent_usage import build_recent_usage, kept_active_users
    from quarterdeck.warehouse.account_snapshot import active_users_30d
    from quarterdeck.warehouse.incremental_usage import UsageBuild

    data = world(
        accounts=[{"account_id": "a", "name": "A", "created_at": "2024-01-01"}],
        users=[{"user_id": "early", "account_id": "a", "created_at": "2024-01-01"},
               {"user_id": "late", "account_id": "a", "created_at": "2024-07-02T09:00:00"}],
        events=[{"event_id": str(i), "timestamp": "2024-06-15T12:00:00", "event": "x",
                 "user_id": u} for i, u in enumerate(("early", "late"))],
    )
    con = ibis.duckdb.connect()
    tables = load_world(con, data)
    later = date(2024, 7, 5)
    recent = build_recent_usage(con, tables, as_of=later,
                                usage_build=UsageBuild("full", 0, "first build"))
    for day, users in ((AS_OF, 1), (date(2024, 7, 1), 1), (date(2024, 7, 2), 2), (later, 2)):
        first = day - timedelta(days=29)
        [row] = con.to_pyarrow(active_users_30d(tables, first, day)).to_pylist()
        [kept] = con.to_pyarrow(kept_active_users(recent, first, day)).to_pylist()
        assert row["active_users_30d"] == kept["active_users_30d"] == users, day
