"""Each feature computed by hand on a one-account world, as of 2024-06-30 (T)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from health_worlds import account, events, sub

from quarterdeck.testing.worlds import world


def _days(first: date, n: int) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def test_usage_drop_is_events_now_vs_the_30_days_before(duck):
    # 20 events on May 2–21 (the 30 days before the window), 11 on Jun 1–11.
    w = world(accounts=[account("a")], subscriptions=[sub("s", "a", "2024-01-01")],
              events=events("a", _days(date(2024, 5, 2), 20), "old")
              + events("a", _days(date(2024, 6, 1), 11), "new"))
    f = duck.features(w)["a"]
    assert round(f["usage_trend_30d"], 4) == -0.45  # 11 / 20 − 1
    assert f["events_per_seat_30d"] == 1.1  # 11 events / 10 seats
    assert f["features_used_30d"] == 1
    assert f["days_since_last_event"] == 19  # last event Jun 11


def test_weekly_active_users_per_seat_and_their_trend(duck):
    users = [{"user_id": f"u{i}", "account_id": "a"} for i in range(4)]
    recent = [{"event_id": f"r{i}", "timestamp": "2024-06-28T09:00:00", "event": "report",
               "user_id": f"u{i}"} for i in range(2)]  # 2 users this week
    before = [{"event_id": f"b{i}", "timestamp": "2024-05-28T09:00:00", "event": "login",
               "user_id": f"u{i}"} for i in range(4)]  # 4 users in the week 30 days ago
    w = world(accounts=[account("a")], users=users,
              subscriptions=[sub("s", "a", "2024-01-01", seats=8)], events=recent + before)
    f = duck.features(w)["a"]
    assert f["active_users_per_seat"] == 0.25  # 2 / 8
    assert f["active_users_trend_30d"] == -0.5  # 2 / 4 − 1



def test_short_windows_and_depth_of_use(duck):
    # Weeks ending on T: Jun 24–30 ("7 days"), Jun 17–23 (the 7 before); Jun 17–30 ("14
    # days"), Jun 3–16 (the 14 before); Jun 1–30 ("30 days").
    users = [{"user_id": f"u{i}", "account_id": "a"} for i in range(4)]
    used = [("2024-06-28", "u0", "login"), ("2024-06-28", "u1", "report"),
            ("2024-06-29", "u0", "login"),  # last 7 days: 3 events, 2 users, 2 kinds
            ("2024-06-20", "u0", "login"), ("2024-06-20", "u1", "login"),
            ("2024-06-20", "u2", "login"), ("2024-06-18", "u3", "export"),  # 4, 4 users
            ("2024-06-05", "u0", "login"), ("2024-06-05", "u0", "login"),  # the 14 before
            ("2024-05-20", "u0", "login")]  # outside the 30 days
    evs = [{"event_id": f"e{i}", "timestamp": f"{d}T12:00:00", "event": e, "user_id": u}
           for i, (d, u, e) in enumerate(used)]
    w = world(accounts=[account("a")], users=users, events=evs,
              subscriptions=[sub("s", "a", "2024-01-01", seats=10)])
    f = duck.features(w)["a"]
    assert f["events_per_seat_7d"] == 0.3  # 3 / 10
    assert f["usage_trend_7d"] == -0.25  # 3 / 4 − 1
    assert f["usage_trend_14d"] == 2.5  # 7 / 2 − 1
    assert f["active_users_trend_7d"] == -0.5  # 2 / 4 − 1
    assert f["active_users_30d_per_seat"] == 0.4  # 4 users / 10 seats
    assert f["active_days_30d"] == 5  # Jun 5, 18, 20, 28, 29
    assert f["events_per_active_user_30d"] == 2.25  # 9 events / 4 users
    assert f["features_used_7d"] == 2

def test_champion_left_40_days_ago_counts_and_100_days_ago_does_not(duck):
    w = world(accounts=[account("a"), account("b")],
              subscriptions=[sub("s1", "a", "2024-01-01"), sub("s2", "b", "2024-01-01")],
              contacts=[{"contact_id": "c1", "account_id": "a", "persona": "champion",
                         "left_at": "2024-05-21T10:00:00"},
                        {"contact_id": "c2", "account_id": "b", "persona": "champion",
                         "left_at": "2024-03-22T10:00:00"}])
    f = duck.features(w)
    assert f["a"]["champion_left_90d"] == 1
    assert f["b"]["champion_left_90d"] == 0


def test_overdue_invoice_is_unpaid_at_t_and_due_before_t(duck):
    inv = [
        {"invoice_id": "i1", "account_id": "a", "issued_at": "2024-05-20", "amount": 10,
         "currency": "USD", "due_at": "2024-06-20"},  # unpaid, overdue
        {"invoice_id": "i2", "account_id": "a", "issued_at": "2024-05-20", "amount": 10,
         "currency": "USD", "due_at": "2024-06-10", "paid_at": "2024-07-02"},  # paid later
        {"invoice_id": "i3", "account_id": "a", "issued_at": "2024-06-01", "amount": 10,
         "currency": "USD", "due_at": "2024-06-30T23:59:59"},  # due today: not yet overdue
        {"invoice_id": "i4", "account_id": "a", "issued_at": "2024-05-01", "amount": 10,
         "currency": "USD", "due_at": "2024-05-30", "paid_at": "2024-06-01"},  # paid
    ]
    w = world(accounts=[account("a")], subscriptions=[sub("s", "a", "2024-01-01")],
              invoices=inv)
    assert duck.features(w)["a"]["overdue_invoices"] == 2


def test_days_to_renewal_from_end_date_or_next_term_boundary(duck):
    w = world(accounts=[account("ends"), account("open")], subscriptions=[
        sub("s1", "ends", "2023-09-01", months=12, end_date="2024-09-01"),
        sub("s2", "open", "2024-01-15", months=12)])
    f = duck.features(w)
    assert f["ends"]["days_to_renewal"] == 63  # Jun 30 → Sep 1
    assert f["open"]["days_to_renewal"] == 199  # Jun 30 → 2025-01-15
    assert f["open"]["term_months"] == 12
    assert f["open"]["tenure_days"] == 167  # since 2024-01-15


def test_tickets_surveys_meetings_and_mrr_trend(duck):
    tickets = [
        {"ticket_id": "t1", "account_id": "a", "created_at": "2024-06-10", "priority": "urgent"},
        {"ticket_id": "t2", "account_id": "a", "created_at": "2024-06-12", "priority": "urgent",
         "solved_at": "2024-06-13", "csat": 2},
        {"ticket_id": "t3", "account_id": "a", "created_at": "2024-04-01", "priority": "low",
         "solved_at": "2024-07-03"},  # solved after T: open
    ]
    surveys = [
        {"response_id": "r1", "account_id": "a", "kind": "nps", "score": 9,
         "responded_at": "2024-03-01"},
        {"response_id": "r2", "account_id": "a", "kind": "nps", "score": 4,
         "responded_at": "2024-06-01"},
        {"response_id": "r3", "account_id": "a", "kind": "csat", "score": 4,
         "responded_at": "2024-06-02"},
    ]
    acts = [{"activity_id": "m1", "account_id": "a", "kind": "qbr",
             "occurred_at": "2024-04-01T10:00:00"},
            {"activity_id": "m2", "account_id": "a", "kind": "meeting",
             "occurred_at": "2024-06-20T10:00:00"}]
    w = world(accounts=[account("a")], tickets=tickets, surveys=surveys, activities=acts,
              subscriptions=[sub("s1", "a", "2024-01-01", end_date="2024-05-01"),
                             sub("s2", "a", "2024-05-01", seats=8)])
    f = duck.features(w)["a"]
    assert (f["tickets_30d"], f["urgent_tickets_30d"], f["open_tickets"]) == (2, 2, 2)
    assert f["latest_nps"] == 4
    assert f["csat_90d"] == 3  # (4 + 2) / 2
    assert f["days_since_last_meeting"] == 10
    assert f["days_since_last_qbr"] == 90
    assert f["mrr_trend_90d"] == pytest.approx(-0.2)  # 400 now vs 500 on Apr 1
    assert f["arr"] == 4800


def test_only_paying_accounts_are_listed(duck):
    w = world(accounts=[account("paying"), account("gone"), account("trial")], subscriptions=[
        sub("s1", "paying", "2024-01-01"),
        sub("s2", "gone", "2024-01-01", end_date="2024-06-01"),
        sub("s3", "trial", "2024-06-20", trial=True)])
    assert set(duck.features(w)) == {"paying"}
