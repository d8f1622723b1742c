"""A company with billing and a CRM only: the churn model learns from account attributes,
leaves out the sources the company does not have, and judges itself on the history it has."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from health_worlds import account, sub

from quarterdeck.health.churn_model import FROM_FIRST_CHURN, train_churn_model
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
    # Every decision, the churn-free years included (by default training starts at the first
    # churn, which leaves a time split possible: see the next test).
    model = train_churn_model(tables, as_of=T, base_currency="USD", since=date.min)
    v = model.card["validation"]
    assert v["method"] == GROUPED_CV
    assert "hold 0 churns" in model.card["validation_note"]
    assert "judged instead by" in model.card["validation_note"]
    assert v["rows"] == model.card["training"]["rows"]  # every decision judged once
    assert v["auc"] > 0.7


def test_training_starts_at_the_first_churn_the_data_records(duck):
    tables = duck.load(billing_world(churn_from=date(2025, 10, 1)))
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    everything = train_churn_model(tables, as_of=T, base_currency="USD", since=date.min)
    t = model.card["training"]
    assert t["first_decision"] >= "2025-10-01" > everything.card["training"]["first_decision"]
    assert t["rows"] < everything.card["training"]["rows"]
    assert t["starts"] == FROM_FIRST_CHURN and "starts" not in everything.card["training"]


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


def test_an_account_that_never_had_an_event_is_never_said_to_have_used_the_product(duck):
    from health_worlds import events

    from quarterdeck.health.churn_model import ChurnModel
    from quarterdeck.health.churn_risk import reasons_in_words, scoring_rows
    from quarterdeck.health.feature_table import feature_table_at, points_for

    data = world(accounts=[account("used", "SMB"), account("never", "SMB")],
                 subscriptions=[sub("s1", "used", "2024-01-01"), sub("s2", "never", "2024-01-01")],
                 events=events("used", ["2024-06-20"], "e"))
    tables = duck.load(data)
    day = date(2024, 6, 30)
    rows = scoring_rows(tables, as_of=day, base_currency="USD",
                        features=["days_since_last_event"])
    got = {r["account_id"]: r for r in rows.to_pylist()}
    assert (got["used"]["days_since_last_event"], got["used"]["observed_days_since_last_event"]
            ) == (10, True)
    # The churn model reads no value at all for it (never a stand-in such as its tenure)...
    assert (got["never"]["days_since_last_event"],
            got["never"]["observed_days_since_last_event"]) == (None, False)
    # ...and a reason says so, never "181 days since the last product use".

    class Pushes(ChurnModel):
        def contributions(self, x: np.ndarray) -> np.ndarray:
            return np.ones_like(x)

    model = Pushes("logistic", "v", day, 30, ["days_since_last_event"], None, None,
                   np.zeros(1), {})
    x = np.array([[10.0], [np.nan], [181.0]])
    observed = {"days_since_last_event": [True, False, False]}
    assert reasons_in_words(model, ["used", "never", "stand-in"], x, observed=observed) == [
        ["10 days since the last product use"],
        ["no product use recorded"],
        ["no product use recorded in 181 days as a customer"]]
    # The health scores still read the registry's value: days as a customer without one.
    kept = duck.rows(feature_table_at(tables, points_for(ibis_accounts(["never"]), [day]),
                                      base_currency="USD", features=["days_since_last_event"]))
    assert kept["never"]["days_since_last_event"] == 181


def ibis_accounts(ids: list[str]):
    import ibis
    import pyarrow as pa

    return ibis.memtable(pa.table({"account_id": ids}))


def test_a_saved_model_keeps_its_attribute_encodings(billing, tmp_path):
    from quarterdeck.health.model_store import load_model, read_card, save_model

    tables, model = billing
    save_model(model, tmp_path)
    loaded = load_model(tmp_path, T)
    assert loaded.encodings == model.encodings
    assert read_card(tmp_path, T)["attributes"]["attribute_payment_method"]["levels"] == [
        "card", "direct debit", "invoice"]
    day = date(2026, 9, 30)
    a = churn_risk(tables, as_of=day, base_currency="USD", model=model)
    b = churn_risk(tables, as_of=day, base_currency="USD", model=loaded)
    assert a.to_pylist() == b.to_pylist()
