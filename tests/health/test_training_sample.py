"""A company with more past decisions than a model needs trains on a bounded sample of them:
the same share of churned and other decisions, the same features as the full set has for the
decisions taken, the same sample every time, and a card that says so."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_churn_model import T, churn_world

from quarterdeck.health import churn_model, window_model
from quarterdeck.health.churn_model import (
    MIN_CHURNED,
    PastDecisions,
    calibrated,
    decisions_known,
    sample_of,
    train_churn_model,
    training_rows,
)
from quarterdeck.health.window_model import train_window_model


@pytest.fixture(scope="module")
def tables():
    from health_worlds import Duck

    return Duck().load(churn_world(n=400)[0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=300), st.integers(0, 320), st.integers(0, 3))
def test_a_sample_keeps_the_share_of_positives_and_is_the_same_every_time(flags, limit, seed):
    positive = np.array(flags, dtype=bool)
    picked = sample_of(positive, limit, seed)
    assert len(set(picked.tolist())) == len(picked) and (np.diff(picked) > 0).all()
    expected = positive.sum() * limit / len(positive) if len(positive) else 0
    if len(positive) > limit and round(expected) >= min(MIN_CHURNED, positive.sum()):
        assert len(picked) == limit
        assert abs(positive[picked].sum() - expected) <= 0.5
    else:  # nothing to bound, or the share would leave too few positives: every row
        assert len(picked) == len(positive)
    np.testing.assert_array_equal(picked, sample_of(positive, limit, seed))


def test_a_sample_never_leaves_fewer_churns_than_a_model_needs():
    rare = np.zeros(100_000, dtype=bool)
    rare[[10, 20_000, 40_000, 60_000, 80_000, 99_999]] = True  # 6 churns: 3 at half
    assert len(sample_of(rare, 50_000)) == 100_000
    rare[np.arange(0, 100_000, 5_000)] = True  # 20 or so: 10 at half, enough
    assert len(picked := sample_of(rare, 50_000)) == 50_000
    assert rare[picked].sum() == round(rare.sum() / 2)


def test_sampled_rows_are_full_rows_of_the_decisions_taken(tables):
    every = training_rows(tables, as_of=T, base_currency="USD")
    some = training_rows(tables, as_of=T, base_currency="USD", sample=200)
    assert some.num_rows == 200 < every.num_rows
    assert decisions_known(some) == decisions_known(every) == every.num_rows
    full = {(r["account_id"], r["decision_date"], r["term"]): r for r in every.to_pylist()}
    assert all(full[(r["account_id"], r["decision_date"], r["term"])] == r
               for r in some.to_pylist())
    dates = some["decision_date"].to_pylist()
    assert dates == sorted(dates)
    churned = np.array(every["churned"].to_pylist())
    assert abs(sum(some["churned"].to_pylist()) - churned.mean() * 200) <= 0.5
    again = training_rows(tables, as_of=T, base_currency="USD", sample=200)
    assert again.equals(some)
    assert training_rows(tables, as_of=T, base_currency="USD",
                         sample=every.num_rows).equals(every)


def test_a_model_trained_on_a_sample_says_so_and_still_learns(tables):
    every = training_rows(tables, as_of=T, base_currency="USD")
    model = train_churn_model(tables, as_of=T, base_currency="USD", sample=300)
    training = model.card["training"]
    assert training["rows"] == 300 and training["decisions_known"] == every.num_rows
    assert f"sample of 300 of the {every.num_rows:,} decisions" in training["sample"]
    assert model.card["validation"]["auc"] > 0.7
    whole = train_churn_model(tables, as_of=T, base_currency="USD")
    assert "sample" not in whole.card["training"]
    assert whole.card["training"]["rows"] == every.num_rows


def test_the_window_model_fits_on_a_bounded_sample_of_its_windows(tables, monkeypatch):
    full = train_window_model(tables, as_of=T, base_currency="USD", window_days=90)
    assert "sample" not in full.card["training"]
    monkeypatch.setattr(window_model, "TRAINING_SAMPLE", 500)
    fitted_on: list[int] = []

    def counted(name, y, *args, **kwargs):
        fitted_on.append(len(y))
        return calibrated(name, y, *args, **kwargs)

    monkeypatch.setattr(window_model, "calibrated", counted)
    bounded = train_window_model(tables, as_of=T, base_currency="USD", window_days=90)
    rows = bounded.card["training"]["rows"]
    assert rows == full.card["training"]["rows"] > 500
    assert f"sample of 500 of the {rows:,} account windows" in bounded.card["training"]["sample"]
    assert bounded.card["validation"]["rows"] == full.card["validation"]["rows"]
    assert fitted_on and max(fitted_on) == 500


def test_calibration_in_parallel_processes_gives_the_same_probabilities(tables, monkeypatch):
    rows = training_rows(tables, as_of=T, base_currency="USD", since=date.min)
    features = ["latest_nps", "arr", "tenure_days"]
    x = churn_model.matrix(rows, features)
    y = np.array(rows["churned"].to_pylist())
    serial = calibrated("boosted", y).fit(x, y)
    monkeypatch.setattr(churn_model, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(churn_model, "WORKER_IDLE_SECONDS", 1)
    parallel = calibrated("boosted", y)
    assert parallel.n_jobs is not None and parallel.n_jobs >= 1
    with churn_model.one_thread():
        parallel.fit(x, y)
    np.testing.assert_array_equal(serial.predict_proba(x), parallel.predict_proba(x))
    # The worker processes leave once idle: they hold no memory through the rest of a run.
    for _ in range(100):
        if not _workers():
            break
        time.sleep(0.1)
    assert not _workers()


def _workers() -> list[psutil.Process]:
    """The live loky worker processes of this one (an exited one may linger as a zombie)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "popen_loky" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            continue
    return out


def test_the_days_models_share_their_training_rows_computed_once(tables):
    features = ["latest_nps", "arr", "tenure_days", "tickets_30d"]
    past = PastDecisions(tables, as_of=T, base_currency="USD", leads=[30, 60, 90])
    for lead in (30, 60, 90):
        kept = past.rows(as_of=T, days_before=lead, features=features, since=None, sample=150,
                         seed=0)
        alone = training_rows(tables, as_of=T, base_currency="USD", days_before=lead,
                              features=features, sample=150)
        assert kept.equals(alone) and kept.schema.metadata == alone.schema.metadata
    assert past.computed == 1
    # Not for another day or a lead not declared: the model computes its own.
    assert past.rows(as_of=T, days_before=45, features=features, since=None, sample=150,
                     seed=0) is None
    assert past.rows(as_of=date(2024, 1, 1), days_before=30, features=features, since=None,
                     sample=150, seed=0) is None
    assert past.computed == 1
    # Another kind of request (here from every decision) is computed once for every lead too.
    for lead in (90, 30):
        kept = past.rows(as_of=T, days_before=lead, features=features[:2], since=date.min,
                         sample=150, seed=0)
        alone = training_rows(tables, as_of=T, base_currency="USD", days_before=lead,
                              features=features[:2], since=date.min, sample=150)
        assert kept.equals(alone) and kept.schema.metadata == alone.schema.metadata
    assert past.computed == 2


def test_a_young_company_asks_for_its_rows_once_per_kind_however_often_it_retries(
        monkeypatch):
    # Too little history: each model tries from the first churn, then from every decision
    # (the forecast's once more without its open-decision filter), then gives up. The run's
    # four models ask for two kinds of rows, each computed once.
    from health_worlds import Duck
    from test_churn_model import churn_world as world

    from quarterdeck.health.churn_model import NotEnoughHistory

    young = Duck().load(world(n=8)[0])
    as_of = date(2022, 6, 30)
    asked = []
    real = churn_model.training_rows_by_day

    def counted(*args, **kwargs):
        asked.append(kwargs["since"])
        return real(*args, **kwargs)

    monkeypatch.setattr(churn_model, "training_rows_by_day", counted)
    past = PastDecisions(young, as_of=as_of, base_currency="USD", leads=[30, 60, 90])
    for lead, open_at_score in ((30, True), (60, True), (90, True), (90, False)):
        with pytest.raises(NotEnoughHistory):
            train_churn_model(young, as_of=as_of, base_currency="USD", days_before=lead,
                              open_at_score=open_at_score, past=past)
    assert asked == [None, date.min] and past.computed == 2


def test_a_model_trained_on_shared_rows_is_the_model_trained_alone(tables):
    past = PastDecisions(tables, as_of=T, base_currency="USD", leads=[30, 60])
    shared = [train_churn_model(tables, as_of=T, base_currency="USD", days_before=n,
                                open_at_score=True, past=past) for n in (30, 60)]
    alone = [train_churn_model(tables, as_of=T, base_currency="USD", days_before=n,
                               open_at_score=True) for n in (30, 60)]
    assert past.computed == 1
    for a, b in zip(shared, alone, strict=True):
        assert a.card == b.card
        x = b.matrix(b.training)
        np.testing.assert_array_equal(a.probability(x), b.probability(x))


def test_a_request_for_fewer_features_gets_the_rows_computed_with_every_one(tables):
    every = ["latest_nps", "arr", "tenure_days", "tickets_30d"]
    earlier = date(2024, 3, 31)
    past = PastDecisions(tables, as_of=T, also=[earlier], base_currency="USD", leads=[30],
                         features=every)
    for day, features in ((T, every[:2]), (earlier, every[1:]), (T, every)):
        kept = past.rows(as_of=day, days_before=30, features=features, since=None,
                         sample=150, seed=0)
        alone = training_rows(tables, as_of=day, base_currency="USD", features=features,
                              sample=150)
        assert kept.equals(alone) and kept.schema.metadata == alone.schema.metadata
    assert past.computed == 1
    # A feature beyond the ones declared: computed on its own.
    past.rows(as_of=T, days_before=30, features=["term_months"], since=None, sample=150, seed=0)
    assert past.computed == 2


def test_the_window_models_alternatives_share_one_query_and_judge_as_alone(tables,
                                                                            monkeypatch):
    # The alternative (the churn model's decisions combined) is trained as of each judged
    # day; their training rows come from one query for all those days, with the same result.
    shared = train_window_model(tables, as_of=T, base_currency="USD", window_days=90)
    asked = []
    real = churn_model.training_rows_by_day

    def counted(*args, **kwargs):
        asked.append(sorted(kwargs["days"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(churn_model, "training_rows_by_day", counted)
    again = train_window_model(tables, as_of=T, base_currency="USD", window_days=90)
    judged = [date.fromisoformat(d) for d in again.card["validation"]["snapshots"]]
    assert asked == [sorted(judged)] and len(judged) == 2
    monkeypatch.setattr(window_model, "PastDecisions", lambda *args, **kwargs: None)
    alone = train_window_model(tables, as_of=T, base_currency="USD", window_days=90)
    assert len(asked) == 1 + len(judged)  # each alternative its own query
    assert shared.card == again.card == alone.card
    assert alone.card["validation"]["decisions_combined_auc"] is not None
