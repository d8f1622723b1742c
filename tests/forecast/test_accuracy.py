"""Accuracy figures of a hand-made backtest: APE, coverage, Brier, calibration, the CSM's call,
the trailing-share baseline, and which periods are complete."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from quarterdeck.forecast.accuracy import (
    ALL,
    _summary,
    accuracy_by_period,
    calibration_by_decile,
    complete_periods,
    trailing_renewal_share,
)
from quarterdeck.metrics.periods import period_of


def _backtest(rows):
    cols = ["renewal_id", "segment", "renewal_date", "arr_at_stake", "p_renew", "renewed",
            "category", "baseline_p_renew"]
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    data["days_before"] = [30] * len(rows)
    return pa.table(data).cast(pa.schema([
        ("renewal_id", pa.string()), ("segment", pa.string()), ("renewal_date", pa.date32()),
        ("arr_at_stake", pa.float64()), ("p_renew", pa.float64()), ("renewed", pa.bool_()),
        ("category", pa.string()), ("baseline_p_renew", pa.float64()),
        ("days_before", pa.int64())]))


ROWS = [  # Q1: expected 100×0.9 + 300×0.5 = 240, actual 100 → APE 1.4
    ("a@1", "SMB", date(2026, 1, 10), 100.0, 0.9, True, "commit", 0.8),
    ("b@1", "ENT", date(2026, 2, 10), 300.0, 0.5, False, None, 0.8),
    # Q2: expected 200×0.5 + 200×0.5 = 200, actual 200 → APE 0
    ("c@1", "SMB", date(2026, 4, 10), 200.0, 0.5, True, "commit", 0.8),
    ("d@1", "SMB", date(2026, 5, 10), 200.0, 0.5, False, "at_risk", 0.8),
]


def test_ape_coverage_and_brier_per_period_and_segment():
    periods = [period_of(date(2026, 1, 1), "quarter"), period_of(date(2026, 4, 1), "quarter")]
    rows = accuracy_by_period(_backtest(ROWS), periods).to_pylist()
    q1 = next(r for r in rows if r["period"] == "2026-Q1" and r["segment"] == ALL)
    assert (q1["expected_arr"], q1["actual_renewed_arr"], q1["ape"]) == (240.0, 100.0, 1.4)
    # outcomes 0 (0.05), 100 (0.45), 300 (0.05), 400 (0.45): P(≤ 0) reaches 5%, so [0, 400]
    assert (q1["low_arr"], q1["high_arr"], q1["covered"]) == (0.0, 400.0, True)
    assert q1["brier"] == pytest.approx(((1 - 0.9) ** 2 + 0.5 ** 2) / 2, abs=1e-4)
    assert q1["baseline_expected_arr"] == 320.0 and q1["baseline_ape"] == 2.2
    q2 = next(r for r in rows if r["period"] == "2026-Q2" and r["segment"] == ALL)
    assert q2["ape"] == 0.0
    assert {(r["period"], r["segment"]) for r in rows} == {
        ("2026-Q1", ALL), ("2026-Q1", "ENT"), ("2026-Q1", "SMB"), ("2026-Q2", ALL),
        ("2026-Q2", "SMB")}
    [summary] = _summary(accuracy_by_period(_backtest(ROWS), periods)).to_pylist()
    assert (summary["periods"], summary["mean_ape"], summary["max_ape"]) == (2, 0.7, 1.4)


def test_the_committed_figure_is_judged_on_the_decisions_that_had_a_call():
    periods = [period_of(date(2026, 4, 1), "quarter")]
    [q2, *_] = accuracy_by_period(_backtest(ROWS), periods).to_pylist()
    # commit: c (200); called: c and d, of which c renewed (200) → committed APE 0
    assert (q2["committed_arr"], q2["categorised_renewed_arr"], q2["committed_ape"]) == (
        200.0, 200.0, 0.0)


def test_calibration_splits_decisions_into_ten_groups_by_p_renew():
    rows = [(f"r{i}", "SMB", date(2026, 1, 1), 1.0, i / 20, i % 2 == 0, None, 1.0)
            for i in range(20)]
    cal = calibration_by_decile(_backtest(rows)).to_pylist()
    assert [c["decisions"] for c in cal] == [2] * 10
    assert cal[0]["mean_p_renew"] == 0.025 and cal[-1]["mean_p_renew"] == 0.925


def test_only_periods_whose_decisions_are_all_known_are_backtested():
    periods = complete_periods(date(2026, 9, 30), grain="quarter", count=4)
    assert [p.label for p in periods] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert [p.label for p in complete_periods(date(2026, 10, 7), count=1)] == ["2026-Q3"]


def test_the_baseline_reads_only_outcomes_known_on_the_score_date():
    outcomes = pa.table({
        "decision_date": pa.array([date(2025, 3, 1), date(2025, 6, 1), date(2025, 6, 20)],
                                  pa.date32()),
        "term": ["contract", "contract", "contract"],
        "arr_at_stake": [100.0, 300.0, 600.0],
        "result": ["renewed", "churned", "churned"],
    })
    # on 2025-06-10 the 2025-06-01 churn is known (grace 7 days), the 06-20 one is not
    share = trailing_renewal_share(outcomes, ["contract", "monthly"],
                                   [date(2025, 6, 10), date(2025, 6, 10)])
    assert list(share) == [0.25, 1.0]
