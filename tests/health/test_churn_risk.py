"""Churn risk per paying account: no look-ahead, horizons, reasons in words, saved models."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from test_churn_model import T, churn_world

from quarterdeck.health.churn_model import train_churn_model
from quarterdeck.health.churn_risk import backtest_auc, backtest_churn_risk, churn_risk
from quarterdeck.health.model_store import (
    NoSavedModel,
    load_model,
    read_card,
    save_model,
    saved_dates,
)
from quarterdeck.testing.point_in_time import as_it_stood


@pytest.fixture(scope="module")
def data() -> dict:
    return churn_world()[0]


def test_churn_risk_as_of_t_on_full_data_equals_on_the_data_as_it_stood(duck, data):
    cut = {name: as_it_stood(name, table, T) for name, table in data.items()}
    now = churn_risk(duck.load(data), as_of=T, base_currency="USD")
    then = churn_risk(duck.load(cut), as_of=T, base_currency="USD")
    assert now.num_rows > 50
    assert now.to_pylist() == then.to_pylist()


def test_one_row_per_paying_account_with_its_horizon_and_reasons(duck, data):
    risk = {r["account_id"]: r for r in churn_risk(duck.load(data), as_of=T,
                                                   base_currency="USD").to_pylist()}
    assert risk["m1"]["horizon"] == date(2024, 7, 1)  # monthly: the next term end
    contract = [r for a, r in risk.items() if a != "m1"]
    assert all(T < r["horizon"] <= date(2025, 6, 30) for r in contract)  # the next renewal
    assert all(0 <= r["churn_probability"] <= 1 for r in risk.values())
    worst = max(contract, key=lambda r: r["churn_probability"])
    best = min(contract, key=lambda r: r["churn_probability"])
    assert worst["churn_probability"] > 0.5 > best["churn_probability"]
    assert worst["reason_1"].startswith("latest NPS ")
    assert worst["reasons"].split("; ")[0] == worst["reason_1"]
    assert {r["model"] for r in risk.values()} <= {"logistic", "boosted"}
    assert {r["model_version"] for r in risk.values()} == {"2024-06-30"}


def test_the_backtest_scores_each_decision_with_a_model_trained_before_it(duck, data):
    start, end = date(2024, 1, 1), date(2024, 6, 30)
    bt = backtest_churn_risk(duck.load(data), base_currency="USD", start=start, end=end,
                             as_of=date(2024, 7, 15))
    rows = bt.to_pylist()
    assert {r["term"] for r in rows} == {"contract", "monthly"}
    assert all(start <= r["decision_date"] <= end for r in rows)
    assert all(r["model_as_of"] <= r["score_date"] < r["decision_date"] for r in rows)
    monthly = sorted(r["decision_date"] for r in rows if r["term"] == "monthly")
    assert monthly == [date(2024, m, 1) for m in range(1, 7)]  # m1's term ends
    a = backtest_auc(bt)
    assert a["contract"] > 0.7 and a["all"] is not None
    assert a["monthly"] is None  # m1 never churns: no pair to rank


def test_a_saved_model_scores_the_same_and_cannot_look_ahead(duck, data, tmp_path):
    tables = duck.load(data)
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    folder = save_model(model, tmp_path)
    save_model(model, tmp_path)  # saving the same day again replaces it
    assert folder == tmp_path / "2024-06-30" and saved_dates(tmp_path) == [T]
    assert read_card(tmp_path)["training"] == model.card["training"]
    loaded = load_model(tmp_path, date(2024, 7, 15))
    x = np.array([[5.0] * len(model.features), [np.nan] * len(model.features)])
    assert np.array_equal(loaded.probability(x), model.probability(x))
    later = churn_risk(tables, as_of=date(2024, 7, 15), base_currency="USD", model=loaded)
    assert set(later["model_version"].to_pylist()) == {"2024-06-30"}
    with pytest.raises(NoSavedModel, match="on or before 2024-06-29"):
        load_model(tmp_path, date(2024, 6, 29))
    with pytest.raises(ValueError, match="look ahead"):
        churn_risk(tables, as_of=date(2024, 6, 1), base_currency="USD", model=model)


def test_the_pipeline_skips_the_churn_model_of_a_young_company_and_says_why(duck, tmp_path):
    from quarterdeck.pipeline import churn_stage
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    init_workspace(tmp_path)
    young = churn_world(n=8)[0]
    risk, notes = churn_stage(open_workspace(tmp_path), duck.load(young), date(2022, 6, 30))
    assert risk is None
    assert notes[0].startswith("churn model skipped: ") and "at least 30 decisions" in notes[0]
    assert not (tmp_path / "data" / "models").exists()


def test_the_pipeline_retrains_the_churn_model_on_its_schedule(duck, data, tmp_path):
    """churn.retrain_days = 7: a model trained as of T scores T + 6 without training again;
    T + 7, or another attribute setting, trains a new one."""
    from datetime import timedelta

    from quarterdeck.health.model_store import churn_models_dir
    from quarterdeck.pipeline import churn_stage
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    init_workspace(tmp_path)
    ws = open_workspace(tmp_path)
    assert ws.settings.churn.retrain_days == 7
    tables = duck.load(data)
    root = churn_models_dir(ws.data_dir)
    first, notes = churn_stage(ws, tables, T)
    assert "trained on" in notes[0] and saved_dates(root) == [T]
    later, notes = churn_stage(ws, tables, T + timedelta(days=6))
    assert f"trained as of {T} reused (retrained every 7 days" in notes[0]
    assert saved_dates(root) == [T]
    # scored as of the later day (its horizons), by the model of T
    assert set(later["model_version"].to_pylist()) == {T.isoformat()}
    assert set(later["as_of"].to_pylist()) == {T + timedelta(days=6)}
    _, notes = churn_stage(ws, tables, T + timedelta(days=7))
    assert "trained on" in notes[0] and saved_dates(root) == [T, T + timedelta(days=7)]
    (tmp_path / "quarterdeck.yml").write_text(
        (tmp_path / "quarterdeck.yml").read_text() + "\nchurn:\n  attributes: []\n")
    _, notes = churn_stage(open_workspace(tmp_path), tables, T + timedelta(days=8))
    assert "trained on" in notes[0]  # another setting: the kept model does not match


def test_a_run_computes_the_days_features_once_for_every_model_and_scores_the_same(duck,
                                                                                   data):
    from quarterdeck.health.churn_model import MODEL_FEATURES
    from quarterdeck.health.churn_risk import DayScoring, scoring_rows

    tables = duck.load(data)
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    other = [f for f in MODEL_FEATURES if f not in model.features][:2]
    assert other
    scoring = DayScoring(tables, as_of=T, base_currency="USD", features=other)
    shared = churn_risk(tables, as_of=T, base_currency="USD", model=model, scoring=scoring)
    assert shared == churn_risk(tables, as_of=T, base_currency="USD", model=model)
    some = sorted(shared["account_id"].to_pylist())[:5]
    wanted = [*model.features[:1], *other]
    alone = scoring_rows(tables, as_of=T, base_currency="USD", features=wanted,
                         accounts=some)
    given = scoring.rows(wanted, some)
    assert given.select(alone.column_names) == alone
    assert scoring.computed == 1  # the first request computed every feature declared
    late = next(f for f in MODEL_FEATURES if f not in scoring.features)
    assert late in scoring.rows([late]).column_names
    assert scoring.computed == 2  # a feature nobody declared: computed again, not missing
