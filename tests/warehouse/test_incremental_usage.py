"""Usage by day built incrementally equals a full build, day after day, with late events, users
moving between accounts, users created later, and the cases that must rebuild in full.

Each step loads files through the CLI (as a company does each day), builds `account_usage_daily`
as the pipeline does, and compares the table with `account_usage_daily` computed from scratch.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from quarterdeck.warehouse.account_daily import account_usage_daily
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect
from quarterdeck.warehouse.incremental import table_exists
from quarterdeck.warehouse.incremental_usage import STATE, build_usage_daily
from tests.cli_runner import qd, write_csv

EVENTS = "event_id,timestamp,event,account_id,user_id"
USERS = "user_id,account_id,created_at"


def _events(prefix: str, rows: list[tuple[str, str, str]]) -> list[str]:
    """(timestamp, account_id, user_id) → event rows with ids prefix-1, prefix-2, …"""
    return [f"{prefix}-{i},{ts},click,{account},{user}"
            for i, (ts, account, user) in enumerate(rows, 1)]


def _build_and_compare(ws: Path, as_of: date):
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tables = canonical_tables(con)
        build = build_usage_daily(con, tables, as_of=as_of, landing_dir=ws / "data" / "landing")
        got = con.to_pyarrow(con.table("account_usage_daily")).to_pylist()
        full = con.to_pyarrow(account_usage_daily(tables["events"], tables["users"],
                                                  as_of=as_of)).to_pylist()
        key = lambda r: (r["account_id"], r["date"])  # noqa: E731
        assert sorted(got, key=key) == sorted(full, key=key)
        return build, {key(r): r for r in got}
    finally:
        con.disconnect()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    qd("init", root)
    day1 = tmp_path / "day1"
    write_csv(day1, "accounts", "account_id,name", ["a1,Alpha", "a2,Beta"])
    write_csv(day1, "users", USERS, ["u1,a1,2024-01-01T00:00:00", "u2,a1,2024-01-01T00:00:00",
                                  "u3,a2,2024-06-05T08:00:00"])
    write_csv(day1, "events", EVENTS, _events("e1", [
        ("2024-06-01T09:00:00", "", "u1"), ("2024-06-01T10:00:00", "", "u2"),
        ("2024-06-02T09:00:00", "a2", ""), ("2024-06-03T09:00:00", "", "u3"),
        ("2024-06-03T11:00:00", "", "u1"), ("2024-06-04T09:00:00", "", "u2")]))
    qd("load", day1, "--workspace", root)
    return root


def test_day_after_day_with_late_events_equals_a_full_build(ws: Path, tmp_path: Path):
    build, rows = _build_and_compare(ws, date(2024, 6, 3))
    assert build.mode == "full" and build.reason == "first build"
    assert rows[("a1", date(2024, 6, 1))]["active_users"] == 2
    # u3 is created on 2024-06-05: on 06-03 its event belongs to no account yet
    assert ("a2", date(2024, 6, 3)) not in rows

    day2 = tmp_path / "day2"
    write_csv(day2, "events", EVENTS, _events("e2", [
        ("2024-06-05T09:00:00", "", "u1"),
        ("2024-06-01T23:00:00", "", "u1"),  # late: a day already built
        ("2024-06-09T09:00:00", "", "u1")]))  # after the day asked for: not counted yet
    qd("load", day2, "--workspace", ws)
    build, rows = _build_and_compare(ws, date(2024, 6, 5))
    assert build.mode == "incremental"
    # 06-04 and 06-05 are new; 06-01 has a late event; 06-03 has u3's event, now known
    assert build.days == 4, build
    assert rows[("a1", date(2024, 6, 1))]["events"] == 3
    assert rows[("a2", date(2024, 6, 3))]["active_users"] == 1

    build, rows = _build_and_compare(ws, date(2024, 6, 9))
    assert build.mode == "incremental" and build.days == 4  # 06-06 … 06-09
    assert rows[("a1", date(2024, 6, 9))]["events"] == 1


def test_a_user_moving_to_another_account_moves_their_past_usage(ws: Path, tmp_path: Path):
    _build_and_compare(ws, date(2024, 6, 4))
    day2 = tmp_path / "day2"
    write_csv(day2, "users", USERS, ["u1,a1,2024-01-01T00:00:00", "u2,a2,2024-01-01T00:00:00",
                                  "u3,a2,2024-06-05T08:00:00"])
    qd("load", day2, "--workspace", ws)
    build, rows = _build_and_compare(ws, date(2024, 6, 4))
    assert build.mode == "incremental" and build.days == 2  # u2's days: 06-01 and 06-04
    assert rows[("a1", date(2024, 6, 1))]["active_users"] == 1
    assert rows[("a2", date(2024, 6, 1))]["active_users"] == 1


def test_what_cannot_be_done_incrementally_is_rebuilt_in_full_and_says_why(ws: Path,
                                                                            tmp_path: Path):
    _build_and_compare(ws, date(2024, 6, 4))
    build, _ = _build_and_compare(ws, date(2024, 6, 2))
    assert (build.mode, build.reason) == (
        "full", "an earlier day (2024-06-02) than the last build (2024-06-04)")
    resend = tmp_path / "resend"  # the same event id again, on another day
    write_csv(resend, "events", EVENTS, ["e1-1,2024-06-02T12:00:00,click,,u1"])
    qd("load", resend, "--workspace", ws)
    build, rows = _build_and_compare(ws, date(2024, 6, 4))
    assert (build.mode, build.reason) == ("full", "a later load replaced event rows")
    assert rows[("a1", date(2024, 6, 1))]["active_users"] == 1


def test_a_crash_in_a_full_build_leaves_no_state_behind(ws: Path, monkeypatch):
    _build_and_compare(ws, date(2024, 6, 3))
    import quarterdeck.warehouse.incremental_usage as inc

    def fail(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inc, "account_usage_daily", fail)
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        with pytest.raises(RuntimeError):
            build_usage_daily(con, canonical_tables(con), as_of=date(2024, 6, 1),
                              landing_dir=ws / "data" / "landing")
        assert not table_exists(con.con, STATE)
    finally:
        con.disconnect()
    monkeypatch.undo()
    build, _ = _build_and_compare(ws, date(2024, 6, 4))
    assert build.reason == "first build"


def test_a_build_without_the_landing_area_forgets_the_state(ws: Path):
    """A build that cannot record what it read (no landing area) must not leave the state
    of an earlier build beside a table it replaced: the next build would trust it."""
    _build_and_compare(ws, date(2024, 6, 4))
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        build = build_usage_daily(con, canonical_tables(con), as_of=date(2024, 6, 2),
                                  landing_dir=None)
        assert build.mode == "full"
    finally:
        con.disconnect()
    build, rows = _build_and_compare(ws, date(2024, 6, 5))
    assert (build.mode, build.reason) == ("full", "first build")
    assert rows[("a1", date(2024, 6, 4))]["events"] == 1
