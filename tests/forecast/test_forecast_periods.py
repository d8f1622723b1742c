"""The forecast of the hand-made world rolled up by quarter, segment and category."""

from __future__ import annotations

import pytest

from quarterdeck.forecast.forecast_periods import forecast_periods
from quarterdeck.testing.forecast_world import EXPECTED_Q4, hand_forecast


def test_the_quarter_expects_the_hand_computed_renewed_arr():
    [q4] = forecast_periods(hand_forecast(), grain="quarter").to_pylist()
    assert q4["period"] == "2026-Q4"
    assert q4["expected_arr"] == pytest.approx(EXPECTED_Q4, abs=0.01)
    assert q4["renewals"] == 6 and q4["cancellations_known"] == 1
    assert q4["arr_at_stake"] == 12000 + 24000 + 6000 + 3 * 1200
    # delta comes up again only if it renewed: 1,200 × (1 + 0.95 + 0.9025)
    assert q4["expected_arr_at_stake"] == pytest.approx(42000 + 3423.0, abs=0.01)
    assert q4["low_arr"] <= q4["expected_arr"] <= q4["high_arr"]


def test_the_quarter_interval_is_the_5th_and_95th_percentile_of_the_outcomes():
    # alpha 12,000 (0.9), bravo 24,000 (0.6), delta 0 / 1,200 / 2,400 / 3,600
    # (0.05, 0.0475, 0.045125, 0.857375): P(renewed ≤ 3,600) = 0.1 × 0.4 = 0.04 and
    # P(≤ 12,000) = 0.04 + 0.9 × 0.4 × 0.05 = 0.058 → low 12,000; P(≥ 39,600) = 0.9 × 0.6 ×
    # 0.857375 = 0.463 → high 39,600.
    [q4] = forecast_periods(hand_forecast(), grain="quarter").to_pylist()
    assert q4["low_arr"] == pytest.approx(12000, abs=12)
    assert q4["high_arr"] == pytest.approx(39600, abs=12)


def test_months_split_the_quarter_and_add_up_to_it():
    months = forecast_periods(hand_forecast(), grain="month").to_pylist()
    assert [m["period"] for m in months] == ["2026-10", "2026-11", "2026-12"]
    assert sum(m["expected_arr"] for m in months) == pytest.approx(EXPECTED_Q4, abs=0.03)
    assert months[0]["expected_arr"] == pytest.approx(1200 * 0.95, abs=0.01)


def test_committed_and_best_case_follow_the_csm_calls():
    calls = {"alpha@2026-11-15": "commit", "bravo@2026-12-01": "best_case",
             "charlie@2026-10-20": "churn_expected"}
    [q4] = forecast_periods(hand_forecast(calls), grain="quarter").to_pylist()
    assert (q4["committed_arr"], q4["best_case_arr"], q4["categorised"]) == (12000, 36000, 3)
    by = forecast_periods(hand_forecast(calls), grain="quarter", by=["category"]).to_pylist()
    assert {r["category"]: r["renewals"] for r in by} == {
        "(none)": 3, "best_case": 1, "churn_expected": 1, "commit": 1}


def test_by_segment_and_fiscal_quarter():
    # a fiscal year from February: August–October is Q3, November–January Q4
    rows = forecast_periods(hand_forecast(), grain="fiscal_quarter", by=["segment"],
                            fiscal_start_month=2).to_pylist()
    assert {(r["period"], r["segment"]) for r in rows} == {
        ("FY2027-Q4", "Enterprise"), ("FY2027-Q3", "SMB"), ("FY2027-Q4", "SMB")}
    smb = [r for r in rows if r["segment"] == "SMB"]
    assert sum(r["expected_arr"] for r in smb) == pytest.approx(3251.85, abs=0.02)


def test_expected_rates_divide_by_the_arr_expected_at_stake():
    [q4] = forecast_periods(hand_forecast(), grain="quarter").to_pylist()
    assert q4["expected_gross_renewal_rate"] == pytest.approx(EXPECTED_Q4 / 45423.0, abs=1e-4)


def test_an_unknown_dimension_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="segment, owner, category, term"):
        forecast_periods(hand_forecast(), by=["plan"])
