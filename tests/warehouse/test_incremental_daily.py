"""`account_daily` built incrementally equals a full build, day after day: late events, a
backdated subscription row, a cancellation ending a row on a day already built, a new exchange
rate under running rows, tickets solved later, an account created with a backdated date, an
account known only by name, and the cases that must rebuild in full.

Each step loads files through the CLI (as a company does each day), builds the daily tables as
the pipeline does, and compares `account_daily` with the table computed from scratch.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from quarterdeck.pipeline import build_daily_tables
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect
from tests.cli_runner import qd, write_csv

ACCOUNTS = "account_id,name,created_at"
SUBS = ("subscription_id,account_id,plan,quantity,unit_price,currency,interval_months,"
        "start_date,end_date,canceled_at")
RATES = "date,currency,rate_to_base"
TICKETS = "ticket_id,account_id,created_at,solved_at,priority"
EVENTS = "event_id,timestamp,event,account_id,user_id"
USERS = "user_id,account_id,created_at"
SURVEYS = "response_id,account_id,kind,score,responded_at"
ACTIVITIES = "activity_id,account_id,kind,occurred_at"


def _build_and_compare(ws: Path, as_of: date):
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tables = canonical_tables(con)
        _, _, build = build_daily_tables(con, tables, as_of=as_of, base_currency="USD",
                                         landing_dir=ws / "data" / "landing")
        got = con.to_pyarrow(con.table("account_daily")).to_pylist()
        full = con.to_pyarrow(account_daily(tables, as_of=as_of,
                                            base_currency="USD")).to_pylist()
        key = lambda r: (r["account_id"], r["date"])  # noqa: E731
        assert len(got) == len({key(r) for r in got}), "a day listed twice"
        assert sorted(got, key=key) == sorted(full, key=key)
        return build, {key(r): r for r in got}
    finally:
        con.disconnect()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    qd("init", root)
    day1 = tmp_path / "day1"
    write_csv(day1, "accounts", ACCOUNTS, [
        "a1,Alpha,2024-01-01T00:00:00", "a2,Beta,2024-03-01T00:00:00",
        "a3,Gamma,",  # nothing known: its first day is the day asked for
        *(f"a{i},{name},2024-02-01T00:00:00"
          for i, name in [(5, "Epsilon Labs"), (6, "Zeta Freight"), (7, "Eta Bank"),
                          (8, "Theta Foods"), (9, "Iota Mining")])])
    write_csv(day1, "subscriptions", SUBS, [
        "s1,a1,pro,10,12,USD,1,2024-01-10,,",
        "s2,a2,pro,1,1200,EUR,12,2024-05-30,,",
        # cancelled on 06-05, ending the row on 06-01: a day already built on 06-04
        "s5,a5,pro,1,100,USD,1,2024-03-01,2024-06-01,2024-06-05T08:00:00"])
    write_csv(day1, "fx_rates", RATES, ["2024-01-01,EUR,1.10"])
    write_csv(day1, "tickets", TICKETS, ["t1,a7,2024-05-30T10:00:00,,urgent",
                                      "t2,a2,2024-06-02T10:00:00,,normal"])
    write_csv(day1, "users", USERS, ["u1,a1,2024-01-01T00:00:00", "u8,a8,2024-01-01T00:00:00"])
    write_csv(day1, "events", EVENTS, [
        "e1,2024-06-01T09:00:00,click,,u1", "e2,2024-06-02T09:00:00,click,,u8",
        "e3,2024-06-03T09:00:00,click,a1,"])
    write_csv(day1, "surveys", SURVEYS, ["r1,a1,nps,9,2024-06-02T12:00:00"])
    write_csv(day1, "activities", ACTIVITIES, ["m1,a2,meeting,2024-06-01T15:00:00"])
    qd("load", day1, "--workspace", root)
    return root


def test_day_after_day_with_late_and_backdated_rows_equals_a_full_build(ws: Path,
                                                                        tmp_path: Path):
    build, rows = _build_and_compare(ws, date(2024, 6, 3))
    assert (build.mode, build.reason) == ("full", "first build")
    assert rows[("a3", date(2024, 6, 3))]["mrr"] == Decimal("0.00")
    assert rows[("a2", date(2024, 6, 3))]["mrr"] == Decimal("110.00")

    build, rows = _build_and_compare(ws, date(2024, 6, 4))  # nothing loaded: one new day
    assert build.mode == "incremental", build
    assert build.accounts == 1  # a3 moves: its first day is the day asked for
    assert ("a3", date(2024, 6, 3)) not in rows
    assert rows[("a5", date(2024, 6, 2))]["mrr"] == Decimal("100.00")  # not cancelled yet

    # Each account changes in one way only, so that each kind of change is needed.
    day2 = tmp_path / "day2"
    write_csv(day2, "accounts", ACCOUNTS, ["a4,Delta,2024-05-15T00:00:00"])  # backdated
    write_csv(day2, "subscriptions", SUBS, ["s4,a1,seats,5,10,USD,1,2024-05-20,,"])  # backdated
    write_csv(day2, "fx_rates", RATES, ["2024-05-25,EUR,1.20"])  # under s2 (from 2024-05-30)
    write_csv(day2, "tickets", TICKETS, ["t1,a7,2024-05-30T10:00:00,2024-06-04T10:00:00,urgent",
                                      "t3,a2,2024-06-05T10:00:00,,normal"])
    write_csv(day2, "events", EVENTS, ["e4,2024-06-01T23:00:00,click,,u8",  # late
                                    "e5,2024-06-05T09:00:00,click,,u1"])
    write_csv(day2, "surveys", SURVEYS, ["r2,a6,nps,3,2024-05-31T12:00:00"])  # late
    write_csv(day2, "activities", ACTIVITIES, ["m2,a9,call,2024-06-02T15:00:00",  # late
                                            "m3,a1,call,2024-06-05T15:00:00"])
    qd("load", day2, "--workspace", ws)
    build, rows = _build_and_compare(ws, date(2024, 6, 5))
    assert build.mode == "incremental", build
    assert build.accounts == 9  # a1, a2, a5 to a9 changed; a3 moves; a4 is new
    assert rows[("a1", date(2024, 5, 25))]["mrr"] == Decimal("170.00")
    assert rows[("a2", date(2024, 6, 1))]["mrr"] == Decimal("120.00")  # the new rate
    assert rows[("a5", date(2024, 6, 1))]["mrr"] == Decimal("0.00")  # ended
    assert rows[("a6", date(2024, 5, 31))]["survey_responses"] == 1
    assert rows[("a7", date(2024, 6, 3))]["urgent_open_tickets"] == 1
    assert rows[("a7", date(2024, 6, 4))]["urgent_open_tickets"] == 0
    assert rows[("a8", date(2024, 6, 1))]["events"] == 1
    assert rows[("a9", date(2024, 6, 2))]["activities"] == 1
    assert rows[("a4", date(2024, 5, 15))]["mrr"] == Decimal("0.00")

    build, _ = _build_and_compare(ws, date(2024, 6, 5))  # the same day again
    assert (build.mode, build.accounts) == ("incremental", 0), build
    assert build.reason == "0 new days, 0 accounts recomputed from an earlier day"

    day3 = tmp_path / "day3"
    write_csv(day3, "users", USERS, ["u8,a1,2024-01-01T00:00:00"])  # u8's past moves to a1
    qd("load", day3, "--workspace", ws)
    build, rows = _build_and_compare(ws, date(2024, 6, 7))
    assert build.mode == "incremental", build
    assert rows[("a1", date(2024, 6, 2))]["events"] == 1


def test_what_cannot_be_done_incrementally_is_rebuilt_in_full_and_says_why(ws: Path,
                                                                            tmp_path: Path):
    _build_and_compare(ws, date(2024, 6, 4))
    build, _ = _build_and_compare(ws, date(2024, 6, 2))
    assert (build.mode, build.reason) == (
        "full", "an earlier day (2024-06-02) than the last build (2024-06-04)")
    resend = tmp_path / "resend"  # the same event id again, on another day: usage in full
    write_csv(resend, "events", EVENTS, ["e1,2024-06-03T12:00:00,click,,u1"])
    qd("load", resend, "--workspace", ws)
    build, _ = _build_and_compare(ws, date(2024, 6, 4))
    assert (build.mode, build.reason) == (
        "full", "usage by day was built in full or from another day")
    build, _ = _build_and_compare(ws, date(2024, 6, 5))
    assert build.mode == "incremental"


def test_a_crash_leaves_a_full_build_next_time(ws: Path, monkeypatch):
    _build_and_compare(ws, date(2024, 6, 3))
    import quarterdeck.warehouse.incremental_daily as inc

    def fail(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inc, "account_daily", fail)
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        with pytest.raises(RuntimeError):
            build_daily_tables(con, canonical_tables(con), as_of=date(2024, 6, 4),
                               base_currency="USD", landing_dir=ws / "data" / "landing")
    finally:
        con.disconnect()
    monkeypatch.undo()
    build, _ = _build_and_compare(ws, date(2024, 6, 4))
    assert (build.mode, build.reason) == ("full", "first build")


def test_a_company_without_product_events_builds_incrementally_too(tmp_path: Path):
    root = tmp_path / "ws"
    qd("init", root)
    files = tmp_path / "billing"
    write_csv(files, "accounts", ACCOUNTS, ["a1,Alpha,2024-01-01T00:00:00"])
    write_csv(files, "subscriptions", SUBS, ["s1,a1,pro,10,12,USD,1,2024-01-10,,"])
    qd("load", files, "--workspace", root)
    build, _ = _build_and_compare(root, date(2024, 6, 3))
    assert (build.mode, build.reason) == ("full", "first build")
    later = tmp_path / "later"
    write_csv(later, "subscriptions", SUBS, ["s2,a1,seats,5,10,USD,1,2024-05-20,,"])  # backdated
    qd("load", later, "--workspace", root)
    build, rows = _build_and_compare(root, date(2024, 6, 4))
    assert (build.mode, build.accounts) == ("incremental", 1), build
    assert rows[("a1", date(2024, 6, 1))]["mrr"] == Decimal("170.00")


def test_a_full_build_in_parts_equals_one_built_at_once(ws: Path, monkeypatch):
    import quarterdeck.warehouse.incremental_daily as inc

    monkeypatch.setattr(inc, "PART_ACCOUNTS", 3)  # the fixture's 8 accounts: 3 parts
    parts = []
    built = inc.account_daily

    def counted(*args, **kwargs):
        parts.append(kwargs.get("floors"))
        return built(*args, **kwargs)

    monkeypatch.setattr(inc, "account_daily", counted)
    build, rows = _build_and_compare(ws, date(2024, 6, 4))
    assert build.mode == "full" and len(parts) == 3 and all(f is not None for f in parts)
    assert {a for a, _ in rows} == {f"a{i}" for i in (1, 2, 3, 5, 6, 7, 8, 9)}
    build, _ = _build_and_compare(ws, date(2024, 6, 5))  # and the next day from it
    assert build.mode == "incremental"


def test_a_crash_in_a_later_part_keeps_the_table_before_it(ws: Path, monkeypatch):
    import quarterdeck.warehouse.incremental_daily as inc

    _, before = _build_and_compare(ws, date(2024, 6, 3))
    monkeypatch.setattr(inc, "PART_ACCOUNTS", 3)
    calls = []
    built = inc.account_daily

    def fails_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("out of memory")
        return built(*args, **kwargs)

    monkeypatch.setattr(inc, "account_daily", fails_third)
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        with pytest.raises(RuntimeError):  # a day earlier than the last: a full build
            build_daily_tables(con, canonical_tables(con), as_of=date(2024, 6, 2),
                               base_currency="USD", landing_dir=ws / "data" / "landing")
        kept = con.to_pyarrow(con.table("account_daily")).to_pylist()
        assert {(r["account_id"], r["date"]) for r in kept} == set(before)
        assert not [t for t in con.list_tables() if t.startswith("_quarterdeck_daily_parts")
                    or t.endswith("__new")]
    finally:
        con.disconnect()
    monkeypatch.undo()
    build, _ = _build_and_compare(ws, date(2024, 6, 4))
    assert (build.mode, build.reason) == ("full", "first build")
