"""The churn model learns what drives churn in a generated world, from the past only."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest
from health_worlds import account, sub

from quarterdeck.health.churn_model import (
    MODEL_FEATURES,
    NotEnoughHistory,
    fit_churn_model,
    known_by_score_date,
    train_churn_model,
    training_rows,
)
from quarterdeck.health.renewal_outcomes import GRACE_DAYS
from quarterdeck.testing.worlds import world

T = date(2024, 6, 30)


def churn_world(n: int = 160, seed: int = 3, early: float = 0.0
                ) -> tuple[dict, list[tuple[str, date, bool]]]:
    """Annual contracts from 2021 to 2026. Sixty days before each renewal the account answers
    an NPS survey (0–10, uniform); it churns at the renewal with probability 0.8 when the
    answer is 3 or less, 0.05 otherwise, and cancels 20 days before the end (`early`: the
    share of churners that cancel 90 days before instead). Tickets are noise. One monthly
    account pays throughout. Returns the world and every decision (account, date, churned)."""
    rng = np.random.default_rng(seed)
    accounts, subs, surveys, tickets, decisions = [], [], [], [], []
    for i in range(n):
        a = f"a{i:03d}"
        accounts.append(account(a, "SMB"))
        begin = date(2021, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        begin = begin.replace(day=min(begin.day, 28))
        for k in range(6):
            end = begin.replace(year=begin.year + 1)
            nps = int(rng.integers(0, 11))
            churns = bool(rng.random() < (0.8 if nps <= 3 else 0.05))
            notice = 90 if churns and early and rng.random() < early else 20
            subs.append(sub(f"{a}-{k}", a, str(begin), price="1200", months=12,
                            end_date=str(end),
                            canceled_at=f"{end - timedelta(days=notice)}T09:00:00" if churns
                            else None))
            surveys.append({"response_id": f"{a}-{k}", "account_id": a, "kind": "nps",
                            "score": nps, "responded_at": f"{end - timedelta(days=60)}"})
            tickets.append({"ticket_id": f"{a}-{k}", "account_id": a, "priority": "normal",
                            "created_at": f"{end - timedelta(days=int(rng.integers(31, 200)))}"})
            decisions.append((a, end, churns))
            if churns or end > date(2026, 1, 1):
                break
            begin = end
    accounts.append(account("m1", "SMB"))
    subs.append(sub("m1-1", "m1", "2023-01-01", price="50", months=1))
    return world(accounts=accounts, subscriptions=subs, surveys=surveys,
                 tickets=tickets), decisions


@pytest.fixture(scope="module")
def generated() -> tuple[dict, list[tuple[str, date, bool]]]:
    return churn_world()


def test_a_feature_that_drives_churn_is_learnt_and_validated_on_a_time_split(duck, generated):
    data, _ = generated
    model = train_churn_model(duck.load(data), as_of=T, base_currency="USD")
    v = model.card["validation"]
    assert v["auc"] > 0.75
    assert v["from"] > model.card["training"]["first_decision"]
    assert {c["model"] for c in model.card["candidates"]} == {"logistic", "boosted"}
    assert v["auc_by_term"]["contract"] > 0.75
    assert model.card["importance"][0]["feature"] == "latest_nps"
    assert "days_to_renewal" not in model.features
    assert sum(r["rows"] for r in v["calibration"]) == v["rows"]
    assert model.card["calibration_method"] == "sigmoid"  # under 1,000 decisions


def test_training_sees_no_outcome_after_as_of(duck, generated):
    data, decisions = generated
    tables = duck.load(data)
    assert any(d > T for _, d, _ in decisions)  # the world goes on after T
    known = [(a, d) for a, d, _ in decisions if d + timedelta(days=GRACE_DAYS) <= T]
    rows = training_rows(tables, as_of=T, base_currency="USD")
    terms = rows["term"].to_pylist()
    contract = [(a, d) for a, d, t in zip(rows["account_id"].to_pylist(),
                                          rows["decision_date"].to_pylist(), terms,
                                          strict=True) if t == "contract"]
    assert sorted(contract) == sorted(known)
    monthly = [(d, s) for a, d, s in zip(rows["account_id"].to_pylist(),
                                          rows["decision_date"].to_pylist(),
                                          rows["score_date"].to_pylist(), strict=True)
               if a == "m1"]
    # m1 pays monthly from 2023-01-01: a decision at each month's start, 30 days ahead.
    assert [d for d, _ in monthly] == [date(2023 + (k // 12), k % 12 + 1, 1)
                                       for k in range(1, 18)]
    assert all(s == d - timedelta(days=30) for d, s in monthly)
    assert max(rows["decision_date"].to_pylist()) <= T - timedelta(days=GRACE_DAYS)
    assert min(rows["score_date"].to_pylist()) < max(rows["score_date"].to_pylist()) < T
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    assert model.card["training"]["rows"] == rows.num_rows == model.training.num_rows
    assert model.card["training"]["by_term"] == {
        "contract": {"rows": len(known), "churned": sum(
            c for _, d, c in decisions if d + timedelta(days=GRACE_DAYS) <= T)},
        "monthly": {"rows": 17, "churned": 0}}
    assert model.card["training"]["last_decision"] <= str(T - timedelta(days=GRACE_DAYS))
    assert model.explainer.n_features_in_ == len(model.features)
    assert set(model.features) < set(MODEL_FEATURES) and "events_per_seat_30d" not in \
        model.features  # a source the world does not have is left out
    if model.name == "logistic":  # the scaler counts the rows it was fitted on
        assert model.explainer[-2].n_samples_seen_ == rows.num_rows


def test_a_young_company_has_too_little_history(duck):
    data, _ = churn_world(n=8)
    with pytest.raises(NotEnoughHistory, match="needs at least 30 decisions"):
        train_churn_model(duck.load(data), as_of=date(2022, 6, 30), base_currency="USD")


def test_the_forecast_model_learns_only_from_decisions_still_open_on_their_score_date(duck):
    # Half the churners announce it 90 days ahead: known on the 30-day score date, they get
    # P(renew) = 0 in the forecast, which then asks the model only about the others.
    data, _ = churn_world(n=400, early=0.5)
    tables = duck.load(data)
    rows = training_rows(tables, as_of=T, base_currency="USD")
    known = known_by_score_date(rows)
    churned = np.array(rows["churned"].to_pylist())
    assert 20 < known.sum() < churned.sum() and churned[known].all()
    every = train_churn_model(tables, as_of=T, base_currency="USD")
    forecast = train_churn_model(tables, as_of=T, base_currency="USD", open_at_score=True)
    assert forecast.card["training"]["rows"] == rows.num_rows - known.sum()
    assert forecast.card["training"]["left_out_known_cancellations"] == known.sum()
    assert forecast.card["open_at_score"] and not every.card["open_at_score"]
    still_open = rows.filter(~known)
    rate = churned[~known].mean()
    said = forecast.probability(forecast.matrix(still_open)).mean()
    double = every.probability(every.matrix(still_open)).mean()
    assert abs(said - rate) < 0.02  # calibrated on the decisions it is asked about
    assert double > 1.2 * rate  # the announced churn counted a second time


def test_the_forecast_keeps_its_models_apart_from_the_churn_risk_model(duck, generated,
                                                                        tmp_path):
    from quarterdeck.forecast.horizon_store import horizon_dir, models_for
    from quarterdeck.health.model_store import churn_models_dir, recent_model

    tables = duck.load(generated[0])
    [model] = models_for(tables, tmp_path, as_of=T, base_currency="USD", horizons=(30,)).values()
    assert model.card["open_at_score"] and horizon_dir(tmp_path, 30).is_dir()
    assert not churn_models_dir(tmp_path).exists()
    kept = {flag: recent_model(horizon_dir(tmp_path, 30), T, max_age_days=1, attributes=None,
                               days_before=30, open_at_score=flag) for flag in (True, False)}
    assert kept[True].version == model.version and kept[False] is None


def test_when_almost_every_churn_was_announced_early_the_forecast_model_says_so(duck):
    # Every churner gives notice 90 days ahead: on the 30-day score dates no open decision
    # churns, nothing to learn from; the model learns from every decision and its card says
    # why, rather than failing the forecast.
    data, _ = churn_world(n=400, early=1.0)
    tables = duck.load(data)
    rows = training_rows(tables, as_of=T, base_currency="USD")
    churned = np.array(rows["churned"].to_pylist())
    assert known_by_score_date(rows).sum() == churned.sum() > 20
    model = train_churn_model(tables, as_of=T, base_currency="USD", open_at_score=True)
    refused = model.card["open_at_score_refused"]
    assert f"{int(churned.sum())} of the churns were known by their score date" in refused
    every = training_rows(tables, as_of=T, base_currency="USD", since=date.min)
    assert model.card["training"]["rows"] == every.num_rows  # every decision taught it


def test_a_candidate_that_cannot_be_fitted_on_a_validation_fold_is_not_chosen(duck):
    # A source that began recently: its feature has values on the newest decisions only, so
    # the time split's training part has none, which the boosted model cannot bin. The
    # logistic model is chosen and the card says why the other was refused (this stopped
    # `quarterdeck run` on a young workspace with a traceback).
    data, _ = churn_world(n=400)
    tables = duck.load(data)
    rows = training_rows(tables, as_of=T, base_currency="USD", since=date.min)
    dates = rows["decision_date"].to_pylist()
    recent = sorted(dates)[int(0.9 * len(dates))]
    values = [float(i % 7) if d >= recent else None for i, d in enumerate(dates)]
    rows = rows.set_column(rows.column_names.index("latest_nps"), "latest_nps",
                           pa.array(values, pa.float64()))
    model = fit_churn_model(rows, as_of=T, features=["latest_nps", "arr", "tenure_days"])
    assert model.name == "logistic"
    refused = {c["model"]: c for c in model.card["candidates"]}["boosted"]
    assert refused["auc"] is None and refused["refused"]
