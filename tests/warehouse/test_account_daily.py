"""account_daily: one row per account per day, checked against the hand-built worlds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from quarterdeck.testing import worlds

D = Decimal
JUNE_30 = date(2024, 6, 30)


def test_rows_run_from_the_first_day_through_as_of(on_backend):
    daily = on_backend.daily(worlds.monthly_plan(), JUNE_30)
    days = sorted(d for a, d in daily if a == "monthly")
    assert days[0] == date(2024, 1, 1) and days[-1] == JUNE_30
    assert len(days) == 182 == len(set(days))  # 2024 is a leap year: 31+29+31+30+31+30


def test_monthly_plan_counts_from_its_start_day(on_backend):
    daily = on_backend.daily(worlds.monthly_plan(), JUNE_30)
    assert daily["monthly", date(2024, 1, 14)]["mrr"] == D("0.00")
    assert daily["monthly", date(2024, 1, 14)]["paying"] is False
    day = daily["monthly", date(2024, 1, 15)]
    assert (day["mrr"], day["arr"], day["paying"], day["subscriptions"]) == (
        D("500.00"), D("6000.00"), True, 1)
    assert daily["monthly", JUNE_30]["mrr"] == D("500.00")


def test_annual_and_multi_year_contracts_are_normalised_to_a_month(on_backend):
    world = worlds.merge(worlds.annual_prepaid(), worlds.three_year_contract())
    daily = on_backend.daily(world, JUNE_30)
    assert daily["annual", JUNE_30]["arr"] == D("1200.00")
    assert daily["three_year", JUNE_30]["mrr"] == D("1000.00")


def test_account_mrr_is_the_sum_of_rounded_rows(on_backend):
    daily = on_backend.daily(worlds.discounts(), JUNE_30)
    assert daily["discounted", date(2024, 2, 29)]["mrr"] == D("0.00")
    assert daily["discounted", date(2024, 3, 1)]["mrr"] == D("902.49")


def test_trial_then_paid(on_backend):
    daily = on_backend.daily(worlds.trial_then_paid(), JUNE_30)
    trial = daily["trial", date(2024, 1, 14)]
    assert (trial["mrr"], trial["paying"], trial["on_trial"], trial["subscriptions"]) == (
        D("0.00"), False, True, 0)
    paid = daily["trial", date(2024, 1, 15)]
    assert (paid["mrr"], paid["paying"], paid["on_trial"], paid["subscriptions"]) == (
        D("100.00"), True, False, 1)


def test_a_rate_change_reprices_only_a_new_row(on_backend):
    daily = on_backend.daily(worlds.euro_rate_change(), JUNE_30)
    assert daily["euro", date(2024, 1, 31)]["mrr"] == D("0.00")
    assert daily["euro", date(2024, 4, 1)]["mrr"] == D("110.00")
    assert daily["euro", date(2024, 4, 9)]["mrr"] == D("110.00")
    assert daily["euro", date(2024, 4, 10)]["mrr"] == D("170.00")


def test_a_cancellation_known_later_is_still_active_as_of_before(on_backend):
    world = worlds.cancellation_known_later()
    before = on_backend.daily(world, JUNE_30)
    assert before["canceled", JUNE_30]["mrr"] == D("600.00")
    after = on_backend.daily(world, date(2024, 7, 31))
    assert after["canceled", date(2024, 4, 30)]["mrr"] == D("600.00")
    assert after["canceled", date(2024, 5, 1)]["mrr"] == D("0.00")
    assert after["canceled", JUNE_30]["mrr"] == D("0.00")


def test_churn_is_on_the_end_date_and_reactivation_on_the_new_start(on_backend):
    daily = on_backend.daily(worlds.churn_then_reactivation(), JUNE_30)
    mrr = {d: daily["reactivated", d]["mrr"] for d in (
        date(2024, 2, 29), date(2024, 3, 1), date(2024, 4, 30), date(2024, 5, 1))}
    assert list(mrr.values()) == [D("100.00"), D("0.00"), D("0.00"), D("150.00")]


def test_two_rows_starting_the_same_day_add_up(on_backend):
    daily = on_backend.daily(worlds.two_on_one_day(), JUNE_30)
    assert daily["twin", date(2024, 2, 29)]["mrr"] == D("0.00")
    assert (daily["twin", date(2024, 3, 1)]["mrr"], daily["twin", date(2024, 3, 1)]
            ["subscriptions"]) == (D("30.00"), 2)


def test_leap_day_and_month_end(on_backend):
    daily = on_backend.daily(worlds.leap_day(), date(2024, 3, 31))
    assert len([k for k in daily if k[0] == "leap"]) == 60
    assert daily["leap", date(2024, 2, 28)]["mrr"] == D("0.00")
    assert daily["leap", date(2024, 2, 29)]["mrr"] == D("29.00")
    assert daily["leap", date(2024, 3, 30)]["mrr"] == D("29.00")
    assert daily["leap", date(2024, 3, 31)]["mrr"] == D("0.00")


def test_events_map_to_accounts_through_users_by_utc_day(on_backend):
    daily = on_backend.daily(worlds.usage_through_users(), JUNE_30)
    june_1, june_2, june_3 = (daily["usage", date(2024, 6, d)] for d in (1, 2, 3))
    assert (june_1["events"], june_1["event_value"], june_1["active_users"]) == (4, 8.0, 2)
    assert (june_2["events"], june_2["event_value"], june_2["active_users"]) == (1, 1.0, 1)
    assert (june_3["events"], june_3["survey_responses"], june_3["activities"]) == (0, 1, 1)
    assert sum(r["events"] for r in daily.values()) == 5  # not the one after as_of


def test_a_ticket_solved_after_as_of_is_open(on_backend):
    daily = on_backend.daily(worlds.open_tickets(), JUNE_30)

    def day(d):
        r = daily["support", d]
        return (r["tickets_opened"], r["tickets_solved"], r["open_tickets"],
                r["urgent_open_tickets"])

    assert day(date(2024, 6, 9)) == (0, 0, 0, 0)
    assert day(date(2024, 6, 10)) == (2, 0, 2, 1)
    assert day(date(2024, 6, 11)) == (0, 0, 2, 1)
    assert day(date(2024, 6, 12)) == (0, 1, 1, 0)
    assert day(date(2024, 6, 20)) == (1, 0, 2, 1)
    assert day(JUNE_30) == (0, 0, 2, 1)
    later = on_backend.daily(worlds.open_tickets(), date(2024, 7, 5))
    assert later["support", date(2024, 7, 5)]["open_tickets"] == 1


def test_start_cuts_the_rows_but_keeps_the_running_totals(on_backend):
    world = worlds.merge(worlds.monthly_plan(), worlds.open_tickets())
    daily = on_backend.daily(world, JUNE_30, start=date(2024, 6, 15))
    assert min(d for _, d in daily) == date(2024, 6, 15)
    assert daily["monthly", date(2024, 6, 15)]["mrr"] == D("500.00")
    first = daily["support", date(2024, 6, 15)]
    assert (first["tickets_opened"], first["open_tickets"]) == (0, 1)


def test_first_day_is_the_first_subscription_when_it_precedes_creation(on_backend):
    world = worlds.world(
        accounts=[{"account_id": "early", "name": "Early", "created_at": "2024-03-01T10:00"}],
        subscriptions=[{"subscription_id": "x", "account_id": "early", "plan": "p",
                        "quantity": 1, "unit_price": 10, "currency": "USD",
                        "interval_months": 1, "start_date": "2024-02-20"}],
    )
    daily = on_backend.daily(world, date(2024, 3, 1))
    assert sorted(daily) == [("early", date(2024, 2, 20) + timedelta(days=i)) for i in range(11)]
    assert daily["early", date(2024, 2, 20)]["mrr"] == D("10.00")


def test_accounts_created_after_as_of_are_absent(on_backend):
    daily = on_backend.daily(worlds.leap_day(), date(2024, 1, 31))
    assert daily == {}


def test_a_missing_rate_makes_mrr_unknown_not_zero(on_backend):
    daily = on_backend.daily(worlds.missing_rate(), JUNE_30)
    assert daily["pounds", date(2024, 2, 29)]["mrr"] == D("0.00")
    assert daily["pounds", date(2024, 3, 1)]["mrr"] is None
    assert daily["pounds", date(2024, 3, 1)]["paying"] is None


def test_every_entity_empty_gives_no_rows(on_backend):
    assert on_backend.daily({}, JUNE_30) == {}


def test_the_reference_world_is_deterministic(duckdb_backend):
    world = worlds.reference_world()
    assert duckdb_backend.daily(world, JUNE_30) == duckdb_backend.daily(world, JUNE_30)
