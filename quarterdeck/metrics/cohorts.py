"""Signup-cohort retention: accounts grouped by the month (or quarter) they first paid in.

For a cohort and k = 0, 1, 2 … periods after its own, the reference day is the last day of
the k-th period after the cohort period, or `as_of` for the period containing it. Then

    logo_retention = cohort members that are customers on the reference day / cohort members
    revenue_retention = the members' MRR on the reference day / their new-business MRR

where an account's new-business MRR is its MRR on its first paying day, the amount of its
`new` movement. That choice keeps a cohort reconciled with the MRR bridge (Σ new of the
month = the cohort's new-business MRR) and lets expansion or churn in the first month show
at k = 0 instead of being folded into the base.

Example: an account first paying 100.00 on 2024-03-10 and 150.00 from 2024-05-02 is in
cohort 2024-03 with new_business_mrr 100.00; its revenue_retention is 1.0 at k = 0 and 1
(2024-03-31, 2024-04-30) and 1.5 at k = 2 (2024-05-31).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.metrics.retention import MONEY, flag, grouped_with_all, ratio, with_dimensions

COHORT_GRAINS = {"month": 1, "quarter": 3, "year": 12}


def _label(start: ir.DateValue, grain: str) -> ir.StringValue:
    """2024-03 (month), 2024-Q1 (quarter) or 2024 (year): the labels of `periods`."""
    year = start.year().cast(dt.string)
    if grain == "month":
        return year + "-" + start.month().cast(dt.string).lpad(2, "0")
    if grain == "quarter":
        return year + "-Q" + start.quarter().cast(dt.string)
    return year


def month_index(day: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0: consecutive months differ by 1 (2024-03-… → 24291)."""
    return day.year().cast(dt.int64) * 12 + day.month().cast(dt.int64)


def first_paying_days(daily: ir.Table, *, as_of: date) -> ir.Table:
    """Each account that paid by `as_of`: account_id, first_day (its first day with MRR > 0)
    and new_business_mrr (its MRR that day).

    Example: rows 0.00 on 2024-03-01 and 80.00 from 2024-03-05 → first_day 2024-03-05, 80.00.
    """
    d = daily.filter(daily.date <= as_of)
    paying = d.filter(d.mrr > 0)
    first = paying.group_by("account_id").agg(first_day=paying.date.min())
    j = first.join(d, [first.account_id == d.account_id, first.first_day == d.date])
    return j.select("account_id", "first_day", new_business_mrr=j.mrr.cast(MONEY))


def cohort_retention(daily: ir.Table, *, as_of: date, cohort_grain: str = "month",
                     by: Sequence[str] = (), dimensions: ir.Table | None = None) -> ir.Table:
    """Logo and revenue retention of each signup cohort at k = 0, 1 … periods through `as_of`
    (long format: one row per cohort and k; see the module for the definitions).

    `daily` is account_mrr_daily (account_id, date, mrr, customer); `cohort_grain` is month,
    quarter or year. With `by`, one row per value of the `by` columns of `dimensions` (as
    strings) plus an 'all' row.

    Columns: cohort, cohort_start, periods_since_start, reference_date, <by>,
    cohort_customers, active_customers, logo_retention, new_business_mrr, mrr_k,
    revenue_retention.

    Example: cohort_retention(daily, as_of=date(2024, 6, 30)) → cohort 2024-03 has k = 0 … 3,
    reference days 2024-03-31, 04-30, 05-31 and 06-30.
    """
    if cohort_grain not in COHORT_GRAINS:
        raise ValueError(f"unknown cohort grain {cohort_grain!r}; use one of "
                         f"{', '.join(COHORT_GRAINS)}")
    months = COHORT_GRAINS[cohort_grain]
    unit = {"month": "M", "quarter": "Q", "year": "Y"}[cohort_grain]
    first = first_paying_days(daily, as_of=as_of)
    first = first.mutate(cohort_start=first.first_day.truncate(unit).cast(dt.date))
    first = with_dimensions(first, dimensions, by)

    d = daily.filter(daily.date <= as_of)
    # Reference days: the last day of a period of the grain, or `as_of` itself.
    following = d.date + ibis.interval(days=1)
    period_end = (following.day() == 1) & ((following.month() - 1) % months == 0)
    ref = d.filter(period_end | (d.date == as_of))
    j = ref.join(first, "account_id")
    # Members are counted on each reference day: account_mrr_daily has a row for every
    # account on every day from its first paying day through as_of, churned or not.
    j = j.filter(j.date >= j.first_day)
    j = j.mutate(k=(month_index(j.date) - month_index(j.cohort_start)) // months)
    members = j.select(
        "cohort_start", "k", *by, reference_date=j.date, new_business_mrr=j.new_business_mrr,
        mrr=j.mrr.cast(MONEY), active=flag(j.customer.fill_null(False)),
    )
    per_k = grouped_with_all(
        members, ("cohort_start", "k"), by,
        reference_date=members.reference_date.max(), cohort_customers=members.count(),
        active_customers=members.active.sum(), new_business_mrr=members.new_business_mrr.sum(),
        mrr_k=members.mrr.sum(),
    )
    out = per_k.select(
        cohort=_label(per_k.cohort_start, cohort_grain), cohort_start=per_k.cohort_start,
        periods_since_start=per_k.k.cast(dt.int64), reference_date=per_k.reference_date,
        **{name: per_k[name] for name in by},
        cohort_customers=per_k.cohort_customers.cast(dt.int64),
        active_customers=per_k.active_customers.cast(dt.int64),
        logo_retention=ratio(per_k.active_customers, per_k.cohort_customers),
        new_business_mrr=per_k.new_business_mrr.cast(MONEY),
        mrr_k=per_k.mrr_k.cast(MONEY),
        revenue_retention=ratio(per_k.mrr_k, per_k.new_business_mrr),
    )
    return out.order_by(["cohort_start", *by, "periods_since_start"])


def cohort_matrix(table: Any, value: str = "revenue_retention") -> Any:
    """The long cohort table pivoted for display: one row per cohort (and `by` value), one
    column per k, `value` in the cells. Takes an Ibis or pyarrow table or a pandas frame of
    `cohort_retention` output; returns a small pandas DataFrame.

    Example: cohort_matrix(cohort_retention(daily, as_of=d)).loc["2024-03", 2] → 1.5.
    """
    import pandas as pd

    if isinstance(table, ir.Table):
        table = table.to_pyarrow()
    frame = table if isinstance(table, pd.DataFrame) else table.to_pandas()
    known = {"cohort", "cohort_start", "periods_since_start", "reference_date",
             "cohort_customers", "active_customers", "logo_retention", "new_business_mrr",
             "mrr_k", "revenue_retention"}
    index = [c for c in frame.columns if c not in known] + ["cohort"]
    matrix = frame.pivot(index=index, columns="periods_since_start", values=value)
    matrix.columns.name = "k"
    return matrix
