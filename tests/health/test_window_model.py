"""The window model: who stops paying within W days, learnt from past windows whose outcome
is known, judged against the churn model's decisions combined, never looking ahead."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from test_churn_model import T, churn_world

from quarterdeck.health.churn_model import train_churn_model
from quarterdeck.health.churn_risk import churn_risk, scoring_rows
from quarterdeck.health.window_model import (
    COMBINED,
    STEP_DAYS,
    NoWindowModel,
    WindowModel,
    snapshot_days,
    train_window_model,
)
from quarterdeck.testing.point_in_time import as_it_stood

W = 90


@pytest.fixture(scope="module")
def world():
    return churn_world()[0]


@pytest.fixture(scope="module")
def tables(world):
    from health_worlds import Duck

    return Duck().load(world)


@pytest.fixture(scope="module")
def window(tables):
    return train_window_model(tables, as_of=T, base_currency="USD", window_days=W)


def test_snapshots_step_back_a_month_and_every_label_is_known_by_the_day(tables):
    days = snapshot_days(tables, as_of=T, window_days=W, base_currency="USD")
    assert days[0] == T - timedelta(days=W)
    assert all(a - b == timedelta(days=STEP_DAYS) for a, b in zip(days, days[1:], strict=False))
    assert len(days) == 3 + 6  # 3 snapshots a 90-day window spans, 6 to train on before them


def test_it_is_judged_on_two_windows_that_do_not_overlap(window):
    judged = window.card["validation"]["snapshots"]
    assert judged == [(T - timedelta(days=W)).isoformat(),
                      (T - timedelta(days=W + 3 * STEP_DAYS)).isoformat()]
    assert {c["model"] for c in window.card["candidates"]} == {"logistic", "boosted"}
    assert window.card["validation"]["decisions_combined_auc"] is not None


def test_trained_on_all_data_it_equals_trained_on_the_data_as_it_stood(world, tables):
    from health_worlds import Duck

    cut = {name: as_it_stood(name, table, T) for name, table in world.items()}
    now = train_window_model(tables, as_of=T, base_currency="USD", window_days=W)
    then = train_window_model(Duck().load(cut), as_of=T, base_currency="USD", window_days=W)
    assert now.name == then.name and now.card == then.card
    if not now.combines_decisions:
        rows = scoring_rows(tables, as_of=T, base_currency="USD", features=now.features)
        assert np.allclose(now.probability(rows), then.probability(rows))


def test_churn_risk_takes_the_window_from_the_window_model_unless_combining_wins(tables, window):
    model = train_churn_model(tables, as_of=T, base_currency="USD")
    plain = churn_risk(tables, as_of=T, base_currency="USD", model=model, window_days=W)
    used = churn_risk(tables, as_of=T, base_currency="USD", model=model, window_days=W,
                      window_model=window)
    assert used["churn_probability"] == plain["churn_probability"]  # the next decision's
    if window.combines_decisions:
        assert window.name == COMBINED and "rank who stopped paying better" in window.card["why"]
        assert used["churn_probability_window"] == plain["churn_probability_window"]
    else:
        rows = scoring_rows(tables, as_of=T, base_currency="USD",
                            features=list(dict.fromkeys([*model.features, *window.features])))
        assert np.allclose(used["churn_probability_window"].to_numpy(),
                           np.round(window.probability(rows), 4))
    # a combining outcome, or another window's model, leaves the combination in place
    combining = WindowModel(COMBINED, T, W, window.features, None, window.card)
    again = churn_risk(tables, as_of=T, base_currency="USD", model=model, window_days=W,
                       window_model=combining)
    assert again["churn_probability_window"] == plain["churn_probability_window"]
    other = churn_risk(tables, as_of=T, base_currency="USD", model=model, window_days=30,
                       window_model=window)
    assert other["window_days"].to_pylist()[0] == 30


def test_where_combining_the_decisions_ranks_better_that_is_kept_and_said(tables):
    # measured on this world: over 180 days the churn model's decisions combined rank the
    # latest window at 0.77 AUC, a window model at 0.68
    kept = train_window_model(tables, as_of=T, base_currency="USD", window_days=180)
    assert kept.combines_decisions and kept.name == COMBINED
    v = kept.card["validation"]
    assert v["decisions_combined_auc"] >= v["auc"]
    assert "combined rank who stopped paying better" in kept.card["why"]


def test_a_young_company_gets_no_window_model_and_says_why(tables):
    with pytest.raises(NoWindowModel, match="fewer than 2 windows"):
        train_window_model(tables, as_of=T, base_currency="USD", window_days=W, snapshots=1)
