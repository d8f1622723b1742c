"""The account page's detail as known on a date, on a world small enough to check by hand.

One account, "a", as of 2024-06-30 (a Sunday):
- sub-1: 10 seats × 100.00 USD monthly from 2024-01-01 → MRR 1,000.00; its cancellation is
  recorded on 2024-06-20, service ends 2024-07-31 → status cancelling;
- sub-2: 1,200.00 EUR a year from 2023-01-01 to 2024-01-01 at 1.10 → MRR 110.00, ended;
- sub-3: recorded on 2024-07-05 as cancelled (after the date): active as of the date;
- a ticket opened 2024-06-01 and solved 2024-06-03 12:00 → 2.5 days; one opened 2024-06-29
  and solved after the date → not solved by the day; one opened 2024-07-02 → not seen;
- an NPS of 9 on 2024-05-10; a QBR on 2024-04-15; a renewal won on 2024-03-01 for 12,000;
- the champion left on 2024-06-10; the admin leaves 2024-08-01 (after the date).
"""

from __future__ import annotations

from datetime import date

import pytest

from quarterdeck.testing.worlds import world
from quarterdeck.warehouse.account_daily import account_usage_daily
from quarterdeck.warehouse.account_detail import (
    account_contacts,
    account_opportunities,
    account_subscriptions,
    account_timeline,
    account_usage_weekly,
)

AS_OF = date(2024, 6, 30)


def _world():
    return world(
        accounts=[{"account_id": "a", "name": "A", "created_at": "2023-01-01T00:00:00"}],
        subscriptions=[
            {"subscription_id": "sub-1", "account_id": "a", "plan": "Pro", "quantity": "10",
             "unit_price": "100", "currency": "USD", "interval_months": 1,
             "start_date": "2024-01-01", "end_date": "2024-07-31",
             "canceled_at": "2024-06-20T09:00:00"},
            {"subscription_id": "sub-2", "account_id": "a", "plan": "Old", "quantity": "1",
             "unit_price": "1200", "currency": "EUR", "interval_months": 12,
             "start_date": "2023-01-01", "end_date": "2024-01-01"},
            {"subscription_id": "sub-3", "account_id": "a", "plan": "Addon", "quantity": "1",
             "unit_price": "50", "currency": "USD", "interval_months": 1,
             "start_date": "2024-02-01", "end_date": "2024-09-01",
             "canceled_at": "2024-07-05T00:00:00"},
        ],
        fx_rates=[{"date": "2022-01-01", "currency": "EUR", "rate_to_base": "1.1"}],
        tickets=[
            {"ticket_id": "t1", "account_id": "a", "created_at": "2024-06-01T00:00:00",
             "solved_at": "2024-06-03T12:00:00", "priority": "urgent"},
            {"ticket_id": "t2", "account_id": "a", "created_at": "2024-06-29T10:00:00",
             "solved_at": "2024-07-01T10:00:00", "priority": "normal"},
            {"ticket_id": "t3", "account_id": "a", "created_at": "2024-07-02T00:00:00"},
        ],
        surveys=[{"response_id": "r1", "account_id": "a", "kind": "nps", "score": 9,
                  "comment": "Great", "responded_at": "2024-05-10T08:00:00"}],
        activities=[{"activity_id": "q1", "account_id": "a", "kind": "qbr",
                     "occurred_at": "2024-04-15T15:00:00", "subject": "Q2 review"}],
        opportunities=[
            {"opportunity_id": "o1", "account_id": "a", "kind": "renewal",
             "amount_arr": "12000", "currency": "USD", "stage": "Closed Won",
             "close_date": "2024-03-01", "outcome": "won"},
            {"opportunity_id": "o2", "account_id": "a", "kind": "expansion",
             "amount_arr": "3000", "currency": "USD", "stage": "Proposal",
             "close_date": "2024-08-15", "outcome": "open"},
        ],
        contacts=[
            {"contact_id": "c1", "account_id": "a", "name": "Cara", "persona": "champion",
             "created_at": "2023-01-01T00:00:00", "left_at": "2024-06-10T00:00:00"},
            {"contact_id": "c2", "account_id": "a", "name": "Dan", "persona": "admin",
             "created_at": "2023-01-01T00:00:00", "left_at": "2024-08-01T00:00:00"},
            {"contact_id": "c3", "account_id": "a", "name": "Later", "persona": "user",
             "created_at": "2024-07-10T00:00:00"},
        ],
        users=[{"user_id": "u1", "account_id": "a"}, {"user_id": "u2", "account_id": "a"}],
        events=[
            # Monday 2024-06-24: u1 and u2; Tuesday: u1; Sunday 2024-06-30: u1 twice.
            {"event_id": "e1", "timestamp": "2024-06-24T09:00:00", "event": "x", "user_id": "u1"},
            {"event_id": "e2", "timestamp": "2024-06-24T10:00:00", "event": "x", "user_id": "u2"},
            {"event_id": "e3", "timestamp": "2024-06-25T10:00:00", "event": "x", "user_id": "u1"},
            {"event_id": "e4", "timestamp": "2024-06-30T10:00:00", "event": "x", "user_id": "u1"},
            {"event_id": "e5", "timestamp": "2024-06-30T11:00:00", "event": "x", "user_id": "u1"},
            # Wednesday 2024-06-19 (the week before): u2; and one event after the date.
            {"event_id": "e6", "timestamp": "2024-06-19T10:00:00", "event": "x", "user_id": "u2"},
            {"event_id": "e7", "timestamp": "2024-07-01T10:00:00", "event": "x", "user_id": "u2"},
        ],
    )


@pytest.fixture
def tables(on_backend):
    return on_backend, on_backend.load(_world())


def test_the_timeline_holds_what_was_known_on_the_day_newest_first(tables):
    backend, t = tables
    rows = backend.con.to_pyarrow(account_timeline(t, as_of=AS_OF, base_currency="USD")
                                  .order_by(["occurred_at", "kind", "ref_id"])).to_pylist()
    got = [(r["occurred_at"].date().isoformat(), r["kind"], r["ref_id"]) for r in rows]
    assert got == [
        ("2024-01-01", "subscription_ended", "sub-2"),
        ("2024-01-01", "subscription_started", "sub-1"),
        ("2024-02-01", "subscription_started", "sub-3"),
        ("2024-03-01", "opportunity_won", "o1"),
        ("2024-04-15", "qbr", "q1"),
        ("2024-05-10", "nps_response", "r1"),
        ("2024-06-01", "ticket_opened", "t1"),
        ("2024-06-10", "contact_left", "c1"),
        ("2024-06-20", "cancellation_recorded", "sub-1"),
        ("2024-06-29", "ticket_opened", "t2"),
    ]
    by_ref = {(r["kind"], r["ref_id"]): r for r in rows}
    assert by_ref[("subscription_started", "sub-1")]["value"] == 1000.0
    assert by_ref[("subscription_ended", "sub-2")]["value"] == pytest.approx(110.0)
    assert by_ref[("ticket_opened", "t1")]["value"] == pytest.approx(2.5)
    assert by_ref[("ticket_opened", "t1")]["subject"] == "urgent"
    assert by_ref[("ticket_opened", "t2")]["value"] is None  # solved after the day
    assert by_ref[("cancellation_recorded", "sub-1")]["related_on"] == date(2024, 7, 31)
    assert by_ref[("nps_response", "r1")]["value"] == 9 and by_ref[
        ("nps_response", "r1")]["subject"] == "Great"
    assert by_ref[("contact_left", "c1")]["subject"] == "Cara"


def test_the_timeline_keeps_the_latest_entries_per_account(tables):
    backend, t = tables
    rows = backend.con.to_pyarrow(account_timeline(t, as_of=AS_OF, base_currency="USD",
                                                   per_account=2)).to_pylist()
    assert sorted(r["ref_id"] for r in rows) == ["sub-1", "t2"]


def test_contacts_leave_on_the_day_they_left_and_later_ones_are_unknown(tables):
    backend, t = tables
    rows = {r["contact_id"]: r for r in backend.rows(account_contacts(t, as_of=AS_OF),
                                                     "contact_id")}
    assert set(rows) == {"c1", "c2"}
    assert rows["c1"]["left_on"] == date(2024, 6, 10) and rows["c2"]["left_on"] is None


def test_subscriptions_have_their_mrr_and_status_on_the_day(tables):
    backend, t = tables
    rows = {r["subscription_id"]: r for r in backend.rows(
        account_subscriptions(t, as_of=AS_OF, base_currency="USD"), "subscription_id")}
    assert {k: r["status"] for k, r in rows.items()} == {
        "sub-1": "cancelling", "sub-2": "ended", "sub-3": "active"}
    assert rows["sub-1"]["canceled_on"] == date(2024, 6, 20)
    assert rows["sub-3"]["canceled_on"] is None and rows["sub-3"]["end_date"] is None
    assert str(rows["sub-2"]["mrr"]) == "110.00" and str(rows["sub-2"]["mrr_local"]) == "100.00"


def test_opportunities_are_listed_whatever_their_outcome(tables):
    backend, t = tables
    rows = backend.rows(account_opportunities(t), "opportunity_id")
    assert [(r["opportunity_id"], r["outcome"]) for r in rows] == [("o1", "won"), ("o2", "open")]


def test_weekly_usage_averages_active_users_over_the_days_of_the_week(tables):
    backend, t = tables
    usage = account_usage_daily(t["events"], t["users"], as_of=AS_OF)
    rows = backend.rows(account_usage_weekly(usage, as_of=AS_OF, weeks=2), "week_start")
    # week of 17 June: u2 on one day → 1 / 7; week of 24 June: 2 + 1 + 1 user-days over 7 days
    assert [(r["week_start"], r["events"]) for r in rows] == [
        (date(2024, 6, 17), 1), (date(2024, 6, 24), 5)]
    assert rows[0]["avg_daily_active_users"] == pytest.approx(1 / 7)
    assert rows[1]["avg_daily_active_users"] == pytest.approx(4 / 7)


def test_the_current_week_is_averaged_over_its_days_so_far(tables):
    backend, t = tables
    as_of = date(2024, 6, 25)  # a Tuesday: 2 + 1 user-days over 2 days
    usage = account_usage_daily(t["events"], t["users"], as_of=as_of)
    rows = backend.rows(account_usage_weekly(usage, as_of=as_of, weeks=1), "week_start")
    assert [(r["week_start"], r["avg_daily_active_users"]) for r in rows] == [
        (date(2024, 6, 24), pytest.approx(1.5))]

