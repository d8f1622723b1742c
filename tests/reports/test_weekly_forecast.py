"""The weekly report's renewals due carry the published forecast: the expected ARR of each
and, for their sum, the exact 90% interval of the forecast (not a sum of per-renewal bounds)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from quarterdeck.reports.weekly import _exact_total
from quarterdeck.reports.weekly_report import RenewalDue


def _due(account: str, arr: int) -> RenewalDue:
    return RenewalDue(account_id=account, name=account, owner_email=None,
                      renewal_date=date(2026, 10, 1), days_to_renewal=1, arr=Decimal(arr),
                      band=None, churn_probability_window=None)


def test_the_total_is_the_exact_interval_of_the_renewals_due() -> None:
    # a renews 100 with p 0.5, b renews 300 with p 0.9: P(0) = 0.05, P(100) = 0.05,
    # P(300) = 0.45, P(400) = 0.45 → expected 320, 90% interval [0, 400].
    stakes = {"a": (100.0, 0.5, 1.0), "b": (300.0, 0.9, 1.0), "not-due": (1e6, 0.5, 1.0)}
    total = _exact_total([_due("a", 100), _due("b", 300)], stakes)
    assert (total.expected_arr, total.low_arr, total.high_arr) == (
        Decimal("320.00"), Decimal("0.00"), Decimal("400.00"))


def test_renewals_without_a_forecast_add_nothing() -> None:
    total = _exact_total([_due("x", 500)], {"a": (100.0, 0.5, 1.0)})
    assert (total.expected_arr, total.low_arr) == (Decimal(0), None)
