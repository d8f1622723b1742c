"""The usage facts from the kept recent usage equal those from the events: on random worlds
(users created between the dates, events on the windows' edges, with their own account or a
user's), and day after day as a company loads its files, with late events, a user moving to
another account, a user created later, and the cases that rebuild the kept tables in full."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_usage_windows import KEY, LOOKBACKS, USERS, T, _world, event, lookbacks, user

from quarterdeck.health.recent_usage import (
    BLOCK,
    DAYS,
    KEPT_DAYS,
    KINDS,
    STATE,
    build_recent_usage,
    day_number,
    kept_active_users,
    kept_grid_usage,
    recent_rows,
)
from quarterdeck.health.recent_usage import (
    USERS as USER_DAYS,
)
from quarterdeck.health.usage_windows import USAGE_COLUMNS, grid_usage
from quarterdeck.testing.worlds import load_world
from quarterdeck.warehouse.account_daily import account_usage_daily
from quarterdeck.warehouse.account_snapshot import active_users_30d
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect
from quarterdeck.warehouse.incremental import table_exists
from quarterdeck.warehouse.incremental_usage import UsageBuild, build_usage_daily
from tests.cli_runner import qd, write_csv

COLUMNS = ["account_id", "as_of", *USAGE_COLUMNS, "last_event_date"]
FIRST = UsageBuild("full", 0, "first build")


def _facts(con, expr) -> list[dict]:
    return con.to_pyarrow(expr).select(COLUMNS).sort_by(KEY).to_pylist()


@settings(max_examples=30, deadline=None)
@given(st.lists(user, min_size=len(USERS), max_size=len(USERS)),
       st.lists(event, min_size=1, max_size=60), lookbacks)
def test_the_kept_usage_gives_the_facts_of_the_events(users, events, lookbacks):
    con = connect("duckdb://")
    tables = load_world(con, _world(users, events))
    dates = sorted(T - timedelta(days=n) for n in lookbacks)
    usage = con.create_table("account_usage_daily", account_usage_daily(
        tables["events"], tables["users"], as_of=T))
    accounts = usage.select("account_id").distinct()
    recent = build_recent_usage(con, tables, as_of=T, usage_build=FIRST)
    assert recent is not None and recent.holds(dates[0] - timedelta(days=67), dates[-1])
    expected = _facts(con, grid_usage(tables, accounts, dates, usage))
    assert _facts(con, kept_grid_usage(recent, accounts, dates, usage)) == expected
    # Every account of the usage (None), as the run asks: the same rows.
    assert _facts(con, kept_grid_usage(recent, None, dates, usage)) == expected
    con.disconnect()


@settings(max_examples=20, deadline=None)
@given(st.lists(user, min_size=len(USERS), max_size=len(USERS)),
       st.lists(event, min_size=1, max_size=60), lookbacks)
def test_the_kept_usage_counts_the_active_users_the_snapshot_counts(users, events, lookbacks):
    """The account snapshot's active users of 30 days, counted from the kept users' days,
    equal those counted from the events, and the usage facts' `active_users_30d` (the users
    known at the end of the day)."""
    con = connect("duckdb://")
    tables = load_world(con, _world(users, events))
    usage = con.create_table("account_usage_daily", account_usage_daily(
        tables["events"], tables["users"], as_of=T))
    recent = build_recent_usage(con, tables, as_of=T, usage_build=FIRST)
    assert recent is not None
    for last in sorted(T - timedelta(days=n) for n in lookbacks):
        first = last - timedelta(days=29)
        kept = con.to_pyarrow(kept_active_users(recent, first, last)).sort_by("account_id")
        counted = con.to_pyarrow(active_users_30d(tables, first, last)).sort_by("account_id")
        assert kept.to_pylist() == counted.to_pylist()
        facts = con.to_pyarrow(grid_usage(tables, usage.select("account_id").distinct(),
                                          [last], usage)).to_pylist()
        assert {(r["account_id"], r["active_users_30d"]) for r in kept.to_pylist()} == {
            (r["account_id"], r["active_users_30d"]) for r in facts if r["active_users_30d"]}
    con.disconnect()


@settings(max_examples=15, deadline=None)
@given(st.lists(user, min_size=len(USERS), max_size=len(USERS)),
       st.lists(user, min_size=len(USERS), max_size=len(USERS)),
       st.lists(st.tuples(event, st.booleans()), min_size=1, max_size=50),
       st.integers(min_value=0, max_value=40))
def test_a_kept_usage_brought_up_to_date_equals_one_kept_afresh(before_users, users, events,
                                                                  days_later):
    """Kept `days_later` days before T from the events loaded by then (the others are late)
    and the users as they were, then brought to T as a run does (the new days, the days of
    late events, every day of a user who changed): the same tables and facts as kept afresh."""
    con = connect("duckdb://")
    world = _world(users, [e for e, _ in events])
    tables = load_world(con, world)
    old = _world(before_users, [e for e, _ in events])["users"]
    then = {**tables, "users": con.create_table("users_then", old),
            "events": tables["events"].filter(tables["events"].event_id.isin(
                [f"e{i}" for i, (_, early) in enumerate(events) if early] or ["none"]))}
    before = T - timedelta(days=days_later)
    build_recent_usage(con, then, as_of=before, usage_build=FIRST)
    now = {r["user_id"]: r for r in tables["users"].to_pyarrow().to_pylist()}
    changed = {r["user_id"] for r in old.to_pylist() if now[r["user_id"]] != r}
    rows = tables["events"].to_pyarrow().to_pylist()
    touched = {before + timedelta(days=n + 1) for n in range(days_later)}
    touched |= {r["timestamp"].date() for (r, (_, early)) in zip(rows, events, strict=True)
                if not early or r["user_id"] in changed}
    recent = build_recent_usage(con, tables, as_of=T, usage_build=UsageBuild(
        "incremental", len(touched), "", since=before,
        touched=tuple(sorted(d for d in touched if d <= T))))
    assert recent.mode == "incremental"
    afresh = recent_rows(tables, recent.first_day, T)
    for name in (DAYS, USER_DAYS, KINDS):
        assert _kept_days(_sorted(con, name), recent.first_day) == _kept_days(
            _sorted(con, afresh[name]), recent.first_day), name
    usage = con.create_table("account_usage_daily", account_usage_daily(
        tables["events"], tables["users"], as_of=T))
    accounts = usage.select("account_id").distinct()
    dates = [T - timedelta(days=30), T - timedelta(days=7), T]
    assert _facts(con, kept_grid_usage(recent, accounts, dates, usage)) \
        == _facts(con, grid_usage(tables, accounts, dates, usage))
    con.disconnect()


def test_the_kept_span_covers_every_lookback_of_the_property_test():
    assert max(LOOKBACKS) + 67 <= KEPT_DAYS


# Day after day through the CLI, as a company loads its files.

EVENTS = "event_id,timestamp,event,account_id,user_id"
USER_ROWS = "user_id,account_id,created_at"
DATES = (7, 30)  # a run asks for its day and the same days before


def _events(prefix: str, rows: list[tuple[str, str, str, str]]) -> list[str]:
    """(timestamp, kind, account_id, user_id) → event rows with ids prefix-1, prefix-2, …"""
    return [f"{prefix}-{i},{ts},{kind},{account},{who}"
            for i, (ts, kind, account, who) in enumerate(rows, 1)]


def _build(ws: Path, as_of: date):
    """Build the usage by day and the kept usage as a run does; check the kept tables equal a
    full build's and the facts equal those from the events; return the kept usage and the
    facts."""
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tables = canonical_tables(con)
        build = build_usage_daily(con, tables, as_of=as_of, landing_dir=ws / "data" / "landing")
        recent = build_recent_usage(con, tables, as_of=as_of, usage_build=build)
        assert recent is not None
        kept = {name: _sorted(con, name) for name in (DAYS, USER_DAYS, KINDS)}
        usage = con.table("account_usage_daily")
        accounts = usage.select("account_id").distinct()
        dates = [as_of, *(as_of - timedelta(days=n) for n in DATES)]
        facts = _facts(con, kept_grid_usage(recent, accounts, dates, usage))
        assert facts == _facts(con, grid_usage(tables, accounts, dates, usage))
        afresh = recent_rows(tables, recent.first_day, as_of)
        for name, rows in kept.items():  # the days kept, the same rows as from the events
            assert _kept_days(rows, recent.first_day) == _kept_days(
                _sorted(con, afresh[name]), recent.first_day), name
        return recent, {(r["account_id"], r["as_of"]): r for r in facts}
    finally:
        con.disconnect()


def _sorted(con, table) -> list[dict]:
    rows = con.to_pyarrow(con.table(table) if isinstance(table, str) else table).to_pylist()
    return sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))


def _kept_days(rows: list[dict], first: date) -> list[dict]:
    """Rows with the days before `first` left out (a mask keeps its block's earlier days)."""
    out = []
    for r in rows:
        if "day" in r:
            if r["day"] >= first:
                out.append(r)
            continue
        start = day_number(first) - r["block"] * BLOCK
        days = r["days"] & ~((1 << start) - 1) if start > 0 else r["days"]
        if days:
            out.append({**r, "days": days})
    return out


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    qd("init", root)
    day1 = tmp_path / "day1"
    write_csv(day1, "accounts", "account_id,name", ["a1,Alpha", "a2,Beta"])
    write_csv(day1, "users", USER_ROWS, ["u1,a1,2024-01-01T00:00:00",
                                         "u2,a1,2024-01-01T00:00:00",
                                         "u3,a2,2024-06-05T08:00:00"])
    write_csv(day1, "events", EVENTS, _events("e1", [
        ("2024-04-20T09:00:00", "login", "", "u1"), ("2024-05-30T10:00:00", "export", "", "u2"),
        ("2024-06-01T09:00:00", "login", "", "u1"), ("2024-06-01T10:00:00", "report", "", "u2"),
        ("2024-06-02T09:00:00", "login", "a2", ""), ("2024-06-03T09:00:00", "login", "", "u3"),
        ("2024-06-03T11:00:00", "export", "", "u1"), ("2024-06-04T09:00:00", "login", "", "u2")]))
    qd("load", day1, "--workspace", root)
    return root


def test_day_after_day_the_kept_usage_follows_the_events(ws: Path, tmp_path: Path):
    recent, facts = _build(ws, date(2024, 6, 3))
    assert recent.mode == "full" and recent.first_day == date(2024, 6, 3) - timedelta(
        days=KEPT_DAYS - 1)
    assert recent.describe() == f"recent usage: kept afresh ({KEPT_DAYS} days)"
    # u3 is created on 2024-06-05: on 06-03 its event is no one's yet
    assert facts[("a1", date(2024, 6, 3))]["active_users_7d"] == 2
    assert ("a2", date(2024, 6, 3)) in facts  # its own event on 06-02

    day2 = tmp_path / "day2"
    write_csv(day2, "events", EVENTS, _events("e2", [
        ("2024-06-05T09:00:00", "report", "", "u1"),
        ("2024-06-01T23:00:00", "admin", "", "u2"),  # late: a day already kept
        ("2024-06-09T09:00:00", "login", "", "u1")]))  # after the day asked for
    qd("load", day2, "--workspace", ws)
    recent, facts = _build(ws, date(2024, 6, 5))
    assert recent.mode == "incremental"
    assert recent.recomputed == 4  # 06-04 and 06-05 new, 06-01 late, 06-03 u3's, now known
    assert recent.describe() == "recent usage: incremental (4 days recomputed)"
    assert facts[("a1", date(2024, 6, 5))]["event_kinds_30d"] == 4
    assert facts[("a2", date(2024, 6, 5))]["active_users_7d"] == 1

    # u2 moves to a2: its past days move with it
    day3 = tmp_path / "day3"
    write_csv(day3, "users", USER_ROWS, ["u1,a1,2024-01-01T00:00:00",
                                         "u2,a2,2024-01-01T00:00:00",
                                         "u3,a2,2024-06-05T08:00:00"])
    qd("load", day3, "--workspace", ws)
    recent, facts = _build(ws, date(2024, 6, 9))
    assert recent.mode == "incremental"
    assert facts[("a1", date(2024, 6, 9))]["active_users_30d"] == 1
    assert facts[("a2", date(2024, 6, 9))]["active_users_30d"] == 2


def test_a_day_past_the_kept_span_drops_the_days_before_it(ws: Path):
    _build(ws, date(2024, 6, 4))
    recent, facts = _build(ws, date(2024, 6, 4) + timedelta(days=KEPT_DAYS - 20))
    # the new days, and 06-03: u3, created on 06-05, is known now
    assert recent.mode == "incremental" and recent.recomputed == KEPT_DAYS - 20 + 1
    recent, facts = _build(ws, date(2024, 6, 4) + timedelta(days=KEPT_DAYS + 70))
    assert recent.mode == "incremental"
    # no event in any reach: the accounts have their last day with usage, no window facts
    assert facts and all(r["events_30d"] is None and r["last_event_date"] == date(2024, 6, 4)
                         for r in facts.values() if r["account_id"] == "a1")
    assert recent.first_day == recent.as_of - timedelta(days=KEPT_DAYS - 1)


def test_what_the_usage_rebuilds_in_full_the_kept_usage_rebuilds_too(ws: Path, tmp_path: Path):
    _build(ws, date(2024, 6, 4))
    recent, _ = _build(ws, date(2024, 6, 2))  # an earlier day
    assert recent.mode == "full"
    resend = tmp_path / "resend"  # the same event id again, on another day
    write_csv(resend, "events", EVENTS, ["e1-3,2024-06-02T12:00:00,login,,u1"])
    qd("load", resend, "--workspace", ws)
    recent, facts = _build(ws, date(2024, 6, 4))
    assert recent.mode == "full"
    assert facts[("a1", date(2024, 6, 4))]["active_days_30d"] == 5  # 06-02 now has one


def test_a_crash_while_the_kept_usage_changes_leaves_no_state_behind(ws: Path, monkeypatch):
    _build(ws, date(2024, 6, 3))
    import quarterdeck.health.recent_usage as recent_usage

    def fail(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(recent_usage, "_update", fail)
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tables = canonical_tables(con)
        build = build_usage_daily(con, tables, as_of=date(2024, 6, 4),
                                  landing_dir=ws / "data" / "landing")
        with pytest.raises(RuntimeError):
            build_recent_usage(con, tables, as_of=date(2024, 6, 4), usage_build=build)
        assert not table_exists(con.con, STATE)
    finally:
        con.disconnect()
    monkeypatch.undo()
    recent, _ = _build(ws, date(2024, 6, 5))
    assert recent.mode == "full"


def test_no_kept_usage_without_a_landing_area():
    con = connect("duckdb://")
    tables = load_world(con, _world([{"account_id": "a", "created_at": None}] * 3, [
        {"account_id": "a", "user_id": "u1", "event": "login", "timestamp": "2024-06-30T09:00"}]))
    build = UsageBuild("full", 0, "not a DuckDB warehouse with a landing area", kept=False)
    assert build_recent_usage(con, tables, as_of=T, usage_build=build) is None
    con.disconnect()
