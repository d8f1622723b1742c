"""Churn risk as a CSM can trust it: within a window, never certain, formatted, and saying why
a low risk is low."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from test_churn_model import T, churn_world

from quarterdeck.health.churn_model import probability_floor
from quarterdeck.health.churn_risk import (
    LOWERS,
    RAISES,
    churn_risk,
    decisions_within,
    money,
    window_probability,
)


def test_a_monthly_account_faces_a_decision_per_term_end_in_the_window():
    day = date(2024, 6, 30)
    assert decisions_within(date(2024, 7, 10), 1, day, 90) == 3  # Jul 10, Aug 10, Sep 10
    assert decisions_within(date(2024, 7, 31), 1, day, 90) == 2  # Jul 31, Aug 31
    assert decisions_within(date(2025, 1, 16), 12, day, 90) == 0
    assert decisions_within(date(2024, 8, 1), 12, day, 90) == 1
    assert decisions_within(None, 1, day, 90) == 0


def test_a_renewal_next_month_ranks_ahead_of_one_next_year_at_the_same_odds():
    p = np.array([0.2, 0.2, 0.2])
    decisions = np.array([1, 0, 3])
    within = window_probability(p, decisions, 0.001)
    assert within[0] == pytest.approx(0.2)
    assert within[1] == 0.001  # no decision in the window: the floor, never 0
    assert within[2] == pytest.approx(1 - 0.8**3)
    assert within[2] > within[0] > within[1]


def test_the_floor_is_half_a_training_decision_and_at_least_a_tenth_of_a_percent():
    assert probability_floor(100) == 0.005
    assert probability_floor(100_000) == 0.001
    assert probability_floor(0) == 0.001


def test_money_in_reasons_is_formatted_in_the_base_currency():
    assert money(439714.4, "USD") == "$439,714"
    assert money(1250, "EUR") == "€1,250"
    assert money(-99.6, "GBP") == "-£100"
    assert money(5000, "CHF") == "5,000 CHF"


@pytest.fixture(scope="module")
def risk(duck):
    """Scored by the churn model alone: the window combines its decisions (no window model)."""
    from quarterdeck.health.churn_model import train_churn_model

    tables = duck.load(churn_world()[0])
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    return churn_risk(tables, as_of=T, base_currency="USD", model=model).to_pylist()


@pytest.fixture(scope="module")
def duck():
    from health_worlds import Duck

    return Duck()


def test_no_account_is_stated_certain_to_stay_or_to_leave(risk):
    assert all(0 < r["churn_probability"] < 1 for r in risk)
    assert all(0 < r["churn_probability_window"] < 1 for r in risk)


def test_the_window_probability_combines_the_decisions_in_the_next_90_days(risk):
    by_id = {r["account_id"]: r for r in risk}
    monthly = by_id["m1"]
    assert monthly["window_days"] == 90 and monthly["decisions_in_window"] == 3
    p = monthly["churn_probability"]
    assert monthly["churn_probability_window"] == pytest.approx(1 - (1 - p) ** 3, abs=1e-4)
    for r in risk:
        if r["decisions_in_window"] == 0:
            assert r["churn_probability_window"] < r["churn_probability"]
            assert T.toordinal() + 90 < r["horizon"].toordinal()


def test_low_risk_accounts_say_why_their_risk_is_low(risk):
    contracts = [r for r in risk if r["account_id"] != "m1"]  # judged against contracts' rate
    low = [r for r in contracts if r["reasons_direction"] == LOWERS]
    high = [r for r in contracts if r["reasons_direction"] == RAISES]
    assert low and high
    assert max(r["churn_probability"] for r in low) < min(r["churn_probability"] for r in high)
    # In this world a high NPS is what keeps an account.
    assert any(r["reason_1"].startswith("latest NPS ") for r in low)
    nps = [int(r["reason_1"].split()[-1]) for r in low if r["reason_1"].startswith("latest NPS")]
    assert min(nps) >= 4


def test_counts_and_amounts_in_phrases_have_thousands_separators(duck):
    import ibis
    import pyarrow as pa

    from quarterdeck.health.features import FEATURES, thousands

    t = ibis.memtable(pa.table({"v": [0.0, 999.4, 1000.0, 439714.4, -1234567.0, 1.5e9]}))
    got = duck.con.to_pyarrow(t.select(s=thousands(t.v), arr=FEATURES["arr"].phrase(t.v),
                                       days=FEATURES["tenure_days"].phrase(t.v)))
    assert got["s"].to_pylist() == ["0", "999", "1,000", "439,714", "-1,234,567",
                                    "1,500,000,000"]
    assert got["arr"].to_pylist()[3] == "ARR 439,714"
    assert got["days"].to_pylist()[2] == "customer for 1,000 days"
