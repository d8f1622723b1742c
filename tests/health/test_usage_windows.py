"""The usage facts of a grid of dates, computed per user, kind and day, equal those computed
per point, on random worlds: users created between the dates, after them or never dated;
events with their own account, through a user, or both; users with no account."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis.expr.datatypes as dt
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.health.feature_table import points_for
from quarterdeck.health.usage_windows import USAGE_COLUMNS, grid_usage, point_usage
from quarterdeck.testing.worlds import load_world, world
from quarterdeck.warehouse.account_daily import account_usage_daily
from quarterdeck.warehouse.connection import connect

T = date(2024, 6, 30)
ACCOUNTS = ["a", "b", "c"]
USERS = ["u1", "u2", "u3"]
KEY = [("account_id", "ascending"), ("as_of", "ascending")]

LOOKBACKS = [0, 1, 7, 30, 45]  # the dates of a grid: T and days before it
# Moments on and around the windows' edges (days before the end of one of the dates), so that
# events fall on the boundaries the facts depend on, and users are created about then.
EDGES = [0, 1, 6, 7, 8, 13, 14, 15, 27, 28, 29, 30, 31, 36, 37, 38, 59, 60, 61, 66, 67, 68]
END = datetime(T.year, T.month, T.day) + timedelta(days=1)


def _moment(days: list[int], seconds: list[int]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda lookback, before, second: (
            END - timedelta(days=lookback + before, seconds=second)).isoformat(),
        st.sampled_from(LOOKBACKS), st.sampled_from(days), st.sampled_from(seconds))


moment = _moment(EDGES, [-1, 0, 1, 43200])
user = st.fixed_dictionaries({"account_id": st.sampled_from([*ACCOUNTS, None]),
                              "created_at": st.one_of(st.none(), _moment([0], [-1, 0, 1]))})
event = st.fixed_dictionaries({
    "account_id": st.sampled_from([*ACCOUNTS, None]),
    "user_id": st.sampled_from([*USERS, "stranger", None]),
    "event": st.sampled_from(["login", "export", "report"]),
    "timestamp": moment,
})
lookbacks = st.lists(st.sampled_from(LOOKBACKS), min_size=1, max_size=3, unique=True)


def _world(users: list[dict], events: list[dict]) -> dict:
    events = [e if e["account_id"] or e["user_id"] else {**e, "user_id": "u1"} for e in events]
    return world(
        accounts=[{"account_id": a, "name": a, "created_at": "2023-01-01"} for a in ACCOUNTS],
        users=[{"user_id": u, **row} for u, row in zip(USERS, users, strict=True)],
        events=[{"event_id": f"e{i}", **e} for i, e in enumerate(events)])


@settings(max_examples=40, deadline=None)
@given(st.lists(user, min_size=len(USERS), max_size=len(USERS)),
       st.lists(event, min_size=1, max_size=60), lookbacks)
def test_grid_usage_equals_the_facts_of_each_point(users, events, lookbacks):
    con = connect("duckdb://")
    tables = load_world(con, _world(users, events))
    dates = sorted(T - timedelta(days=n) for n in lookbacks)
    usage = con.create_table("account_usage_daily", account_usage_daily(
        tables["events"], tables["users"], as_of=dates[-1]))
    accounts = usage.select("account_id").distinct()
    grid = points_for(accounts, dates)
    alone = point_usage(tables, grid.select("account_id", as_of=grid.as_of.cast(dt.date)), usage)
    columns = ["account_id", "as_of", *USAGE_COLUMNS, "last_event_date"]
    expected = con.to_pyarrow(alone).select(columns).sort_by(KEY).to_pylist()
    # The accounts named, or every account of the usage (None): the same rows.
    for accounts_given in (accounts, None):
        together = grid_usage(tables, accounts_given, dates, usage)
        assert con.to_pyarrow(together).select(columns).sort_by(KEY).to_pylist() == expected
    con.disconnect()


def test_a_point_has_facts_when_an_event_is_within_the_reach_of_its_end():
    """The reach: 67 days before the end of T (midnight after it). `a` has one event just
    inside it, `b` one just outside: `a` has a row of zero counts, `b` none (both have a
    last day with usage)."""
    con = connect("duckdb://")
    inside, outside = END - timedelta(days=67), END - timedelta(days=67, seconds=1)
    tables = load_world(con, world(
        accounts=[{"account_id": a, "name": a, "created_at": "2023-01-01"} for a in "ab"],
        events=[{"event_id": "in", "account_id": "a", "event": "login",
                 "timestamp": inside.isoformat()},
                {"event_id": "out", "account_id": "b", "event": "login",
                 "timestamp": outside.isoformat()}]))
    usage = con.create_table("account_usage_daily", account_usage_daily(
        tables["events"], tables["users"], as_of=T))
    accounts = usage.select("account_id").distinct()
    grid = points_for(accounts, [T])
    alone = point_usage(tables, grid.select("account_id", as_of=grid.as_of.cast(dt.date)), usage)
    for facts in (alone, grid_usage(tables, accounts, [T], usage)):
        rows = {r["account_id"]: r for r in con.to_pyarrow(facts).to_pylist()}
        assert rows["a"]["events_30d"] == 0 and rows["a"]["active_users_30d"] == 0
        assert rows["a"]["last_event_date"] == inside.date()
        assert rows["b"]["events_30d"] is None
        assert rows["b"]["last_event_date"] == outside.date()
    # Only the accounts asked for, though the events reach others.
    only_b = grid_usage(tables, accounts.filter(accounts.account_id == "b"), [T], usage)
    assert {r["account_id"] for r in con.to_pyarrow(only_b).to_pylist()} == {"b"}
    con.disconnect()
