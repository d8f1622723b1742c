"""The headline a board asks for: ARR, NRR, GRR and logo churn, in total and by a dimension.

ARR and customers are as of the date; the rates are over the trailing window (12 months by
default) ending on it, exactly as `retention` defines them.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from quarterdeck.metrics.registry import MetricInputs
from quarterdeck.metrics.retention import retention

ALL = "all"


def headline(m: MetricInputs, by: str = "segment") -> ir.Table:
    """One row per value of `by` plus an `all` row: customers, arr, nrr, grr, logo_churn,
    revenue_churn. Example: headline(inputs) → the `all` row holds the company's ARR and NRR."""
    o = m.options
    today = m.daily.filter(m.daily.date == o.as_of)
    today = today.join(m.dimensions.select("account_id", dim=m.dimensions[by]), "account_id")
    counted = today.mutate(is_customer=today.customer.ifelse(1, 0))
    totals = [
        counted.group_by("dim").agg(customers=counted.is_customer.sum(),
                                    arr=counted.mrr.sum() * 12),
        counted.agg(customers=counted.is_customer.sum(),
                    arr=counted.mrr.sum() * 12).mutate(dim=ibis.literal(ALL)),
    ]
    current = ibis.union(*[t.select("dim", "customers", "arr") for t in totals])
    rates = retention(m.daily, m.dimensions, as_of=o.as_of, grain="month",
                      window_months=o.window_months, start=o.as_of, by=(by,),
                      fiscal_start_month=o.fiscal_start_month)
    rates = rates.filter(rates.period_end == o.as_of).select(
        dim=rates[by], nrr=rates.nrr, grr=rates.grr, logo_churn=rates.logo_churn,
        revenue_churn=rates.revenue_churn)
    out = current.left_join(rates, "dim").drop("dim_right")
    out = out.order_by([ibis.cases((out.dim == ALL, 1), else_=0), out.dim])
    return out.rename({by: "dim"})
