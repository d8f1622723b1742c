"""A company with billing and a CRM only: the churn model learns from account attributes,
leaves out the sources the company does not have, and judges itself on the history it has."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from health_worlds import account, sub

from quarterdeck.health.churn_model import train_churn_model
from quarterdeck.health.churn_risk import LOWERS, RAISES, churn_risk
from quarterdeck.health.churn_validation import GROUPED_CV, TIME_SPLIT
from quarterdeck.testing.worlds import world

T = date(2026, 9, 30)
METHODS = ("card", "invoice", "direct debit")


def billing_world(n: int = 150, seed: int = 5, churn_from: date = date(2000, 1, 1)) -> dict:
    """Annual contracts from 2021; an account paying by card churns at a renewal with
    probability 0.6, others 0.05 (no churn before `churn_from`). Accounts carry a payment
    method and a CRM record number; there are no events, tickets, surveys or invoices."""
    rng = np.random.default_rng(seed)
    accounts, subs = [], []
    for i in range(n):
        a = f"a{i:03d}"
        method = METHODS[i % 3]
        accounts.append({**account(a, "SMB"), "payment_method": method,
                         "crm_record": f"R-{1000 + i}"})
        begin = date(2021, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        begin = begin.replace(day=min(begin.day, 28))
        while True:
            end = begin.replace(year=begin.year + 1)
            p = 0.6 if method == "card" else 0.05
            churns = end >= churn_from and bool(rng.random() < p)
            subs.append(sub(f"{a}-{begin.year}", a, str(begin), price="1200", months=12,
                            end_date=str(end) if churns or end > T else None,
                            canceled_at=f"{end - timedelta(days=20)}T09:00:00" if churns
                            else None))
            if churns or end > T:
                break
            subs[-1]["end_date"] = str(end)
            begin = end
    return world(accounts=accounts, subscriptions=subs)


@pytest.fixture(scope="module")
def billing(duck_module):
    tables = duck_module.load(billing_world())
    return tables, train_churn_model(tables, as_of=T, base_currency="USD")


@pytest.fixture(scope="module")
def duck_module():
    from health_worlds import Duck

    return Duck()


def test_the_model_uses_the_attribute_that_drives_churn_and_refuses_the_record_number(billing):
    _, model = billing
    assert "attribute_payment_method" in model.features
    assert model.card["importance"][0]["feature"] == "attribute_payment_method"
    assert model.card["attributes"]["attribute_payment_method"]["kind"] == "categorical"
    left = {r["feature"]: r["reason"] for r in model.card["left_out"]}
    assert "identifier" in left["attribute_crm_record"]


def test_features_of_sources_the_company_lacks_are_left_out_never_stand_ins(billing):
    _, model = billing
    left = {r["feature"]: r["reason"] for r in model.card["left_out"]}
    for name in ("days_since_last_event", "tickets_30d", "latest_nps", "overdue_invoices",
                 "days_since_last_meeting", "champion_left_90d"):
        assert name not in model.features
        assert f"known by {T}" in left[name] or name == "champion_left_90d"
    assert left["days_since_last_event"] == f"no product events known by {T}"


def test_reasons_name_the_attribute_in_words_and_low_risk_accounts_say_why(billing):
    tables, _ = billing
    day = date(2023, 6, 30)  # while card payers are still customers
    risk = churn_risk(tables, as_of=day, base_currency="USD").to_pylist()
    card = next(r for r in risk if int(r["account_id"][1:]) % 3 == 0)
    other = next(r for r in risk if int(r["account_id"][1:]) % 3 == 1)
    assert card["reasons_direction"] == RAISES
    assert "payment method: card raises the risk" in card["reasons"]
    assert other["reasons_direction"] == LOWERS
    assert "payment method: invoice lowers the risk" in other["reasons"]
    assert all(0 < r["churn_probability"] < 1 for r in risk)
    assert min(r["churn_probability"] for r in risk) >= 0.001


def test_a_history_whose_churns_are_all_recent_is_judged_by_grouped_cross_validation(duck):
    tables = duck.load(billing_world(churn_from=date(2025, 10, 1)))
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    v = model.card["validation"]
    assert v["method"] == GROUPED_CV
    assert "hold 0 churns" in model.card["validation_note"]
    assert "judged instead by" in model.card["validation_note"]
    assert v["rows"] == model.card["training"]["rows"]  # every decision judged once
    assert v["auc"] > 0.7


def test_a_history_with_churns_on_both_sides_is_judged_on_a_time_split(billing):
    _, model = billing
    assert model.card["validation"]["method"] == TIME_SPLIT
    assert model.card["validation_note"] is None


def test_attributes_can_be_turned_off(duck_module):
    tables = duck_module.load(billing_world(n=60))
    model = train_churn_model(tables, as_of=T, base_currency="USD", attributes=[])
    assert not [f for f in model.features if f.startswith("attribute_")]
    with pytest.raises(ValueError, match="unknown account attributes"):
        train_churn_model(tables, as_of=T, base_currency="USD", attributes=["colour"])
