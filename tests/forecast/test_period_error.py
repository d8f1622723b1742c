"""The period error: a quarter whose renewals all go a little better or worse than the model
said, measured on past periods and carried by the interval of the next ones."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from quarterdeck.forecast.accuracy import accuracy_by_period, period_error
from quarterdeck.forecast.period_error import keep_period_error, period_sd_for
from quarterdeck.forecast.renewed_arr_interval import (
    expected_at,
    period_shift,
    renewed_arr_interval,
)
from quarterdeck.metrics.periods import period_of

RNG = np.random.default_rng(4)
ARR = RNG.uniform(1_000, 20_000, 200)
P = RNG.uniform(0.6, 0.97, 200)
IDS = [str(i) for i in range(200)]


def test_without_a_period_error_the_interval_is_the_outcome_interval():
    plain = renewed_arr_interval(IDS, ARR, P, np.ones(200))
    assert renewed_arr_interval(IDS, ARR, P, np.ones(200), period_sd=0.0) == plain
    assert plain.method == "exact"


def test_a_period_error_widens_both_sides_and_grows_with_tau():
    plain = renewed_arr_interval(IDS, ARR, P, np.ones(200))
    small = renewed_arr_interval(IDS, ARR, P, np.ones(200), period_sd=0.1)
    large = renewed_arr_interval(IDS, ARR, P, np.ones(200), period_sd=0.5)
    assert small.method == "exact+period" and small.expected == plain.expected
    assert large.low < small.low < plain.low < plain.high < small.high < large.high
    assert 0 <= large.low and large.high <= ARR.sum()


def test_each_side_widens_by_the_spread_of_the_expected_value_over_the_shift():
    # sd of E[renewed ARR | ε] for ε ~ N(0, τ²), by simulation here (quadrature in the code);
    # each side moves out by what z·sd adds to its distance from E in quadrature.
    tau = 0.8
    chains = [(1.0, ARR[i:i + 1], P[i:i + 1]) for i in range(200)]
    sd = np.std([expected_at(chains, e)
                 for e in np.random.default_rng(0).normal(0, tau, 4000)])
    plain = renewed_arr_interval(IDS, ARR, P, np.ones(200))
    wide = renewed_arr_interval(IDS, ARR, P, np.ones(200), period_sd=tau)
    e, z = plain.expected, 1.6449
    assert wide.high == pytest.approx(np.hypot(plain.high - e, z * sd) + e, rel=0.01)
    assert wide.low == pytest.approx(e - np.hypot(e - plain.low, z * sd), rel=0.01)


@pytest.mark.parametrize("shift", [-1.2, -0.3, 0.0, 0.4, 1.5])
def test_the_shift_that_explains_an_actual_is_recovered(shift):
    chains = [(1.0, ARR[i:i + 1], P[i:i + 1]) for i in range(200)]
    actual = expected_at(chains, shift)
    assert period_shift(ARR, P, actual) == pytest.approx(shift, abs=1e-6)


def test_tau_is_the_root_mean_square_of_the_shifts_and_needs_two_periods():
    assert period_error([0.3, -0.4]) == pytest.approx(np.sqrt((0.09 + 0.16) / 2))
    assert period_error([0.5]) == 0.0 and period_error([]) == 0.0


def test_each_period_is_judged_with_tau_of_the_other_periods():
    """Three quarters of 200 renewals; the model says P, the quarters actually renew at P
    moved by −0.5, +0.2 and +0.1 on the log-odds scale (actuals drawn to match)."""
    rows = []
    for q, (start, shift) in enumerate([(date(2025, 1, 1), -0.5), (date(2025, 4, 1), 0.2),
                                        (date(2025, 7, 1), 0.1)]):
        moved = 1 / (1 + np.exp(-(np.log(P / (1 - P)) + shift)))
        renewed = np.random.default_rng(q).random(200) < moved
        for i in range(200):
            rows.append({"renewal_id": f"{q}-{i}", "segment": "SMB", "days_before": 30,
                         "renewal_date": start, "arr_at_stake": float(ARR[i]),
                         "p_renew": float(P[i]), "renewed": bool(renewed[i]),
                         "category": None, "baseline_p_renew": float(P[i])})
    backtest = pa.Table.from_pylist(rows)
    periods = [period_of(d, "quarter", 1) for d in (date(2025, 1, 1), date(2025, 4, 1),
                                                    date(2025, 7, 1))]
    out = [r for r in accuracy_by_period(backtest, periods).to_pylist() if r["segment"] == "(all)"]
    shifts = [r["period_shift"] for r in out]
    for k, r in enumerate(out):
        others = [s for j, s in enumerate(shifts) if j != k]
        assert r["period_sd"] == pytest.approx(period_error(others), abs=1e-4)
    assert shifts[0] < 0 < shifts[1]  # the bad quarter and a good one, as drawn


def test_the_kept_tau_serves_later_days_only(tmp_path):
    assert period_sd_for(tmp_path, date(2026, 10, 1)) == 0.0  # nothing measured yet
    keep_period_error(tmp_path, date(2026, 9, 30), 0.21, days_before=30, periods=4)
    assert period_sd_for(tmp_path, date(2026, 10, 1)) == 0.21
    assert period_sd_for(tmp_path, date(2026, 9, 29)) == 0.0  # measured after that day


def _expected_one_by_one(chains, shift):
    """The expected renewed ARR account by account: the definition `expected_at` computes
    over every account at once."""
    total = 0.0
    for reach, a, p in chains:
        q = np.clip(p, 1e-9, 1 - 1e-9)
        moved = np.where(p >= 1, 1.0, 1 / (1 + np.exp(-(np.log(q / (1 - q)) + shift))))
        total += float((reach * np.cumprod(moved) * a).sum())
    return total


@pytest.mark.parametrize("seed", range(5))
def test_the_expected_value_over_every_account_at_once_is_the_sum_of_each(seed):
    rng = np.random.default_rng(seed)
    chains = []
    for _ in range(60):
        n = int(rng.integers(1, 6))
        p = rng.choice([0.0, 1.0, 0.5, 0.97], n) if rng.random() < 0.3 else rng.uniform(0, 1, n)
        chains.append((float(rng.choice([1.0, rng.uniform(0.2, 1.0)])),
                       rng.uniform(100, 50_000, n), p))
    for shift in (-3.0, -0.4, 0.0, 0.7, 2.5):
        assert expected_at(chains, shift) == pytest.approx(
            _expected_one_by_one(chains, shift), rel=1e-12)
    assert expected_at([], 0.5) == 0.0
