"""`forecast_periods`: the renewal forecast rolled up by period and by segment, owner, category
or term.

Per period (month, quarter, fiscal_quarter, … of the renewal date) and group:

- renewals, arr_at_stake: the decisions and their ARR at stake as the data stands (a monthly
  account's ARR counts once per monthly decision);
- expected_arr_at_stake = Σ arr_at_stake × p_reached: the ARR expected to come up for renewal;
- expected_arr = Σ arr_at_stake × p_reached × p_renew, with `low_arr` and `high_arr`, its 90%
  interval (`quarterdeck.forecast.renewed_arr_interval`) and how it was computed;
- committed_arr: ARR at stake of the decisions the CSM called `commit`; best_case_arr: of
  those called `commit` or `best_case`; categorised: decisions with any call;
- cancellations_known: decisions whose cancellation is already known (p_renew 0);
- expected_gross_renewal_rate = Σ arr × p_reached × p_renew × gross_factor / expected ARR at
  stake, expected_net_renewal_rate likewise with net_factor.

Example: forecast_periods(renewal_forecast(...), grain="quarter", by=("segment",)).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pyarrow as pa

from quarterdeck.forecast.renewed_arr_interval import LEVEL, renewed_arr_interval
from quarterdeck.metrics.periods import Period, period_of

DIMENSIONS = {"segment": "segment", "owner": "owner_email", "category": "category",
              "term": "term"}
NONE_LABEL = "(none)"


def check_dimensions(by: Sequence[str]) -> tuple[str, ...]:
    """The forecast's breakdown dimensions, refused with the list of known ones."""
    unknown = [b for b in by if b not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot break the forecast down by {', '.join(unknown)}; use "
                         f"{', '.join(DIMENSIONS)}")
    return tuple(by)


def forecast_periods(forecast: pa.Table, *, grain: str = "quarter", by: Sequence[str] = (),
                     fiscal_start_month: int = 1, level: float = LEVEL,
                     period_sd: float = 0.0) -> pa.Table:
    """The rows of `renewal_forecast` rolled up by period of `grain` and `by` (see the module);
    `period_sd` widens each interval by the period error (`renewed_arr_interval`).

    Columns: period, period_start, period_end, one per dimension of `by`, renewals,
    arr_at_stake, expected_arr_at_stake, expected_arr, low_arr, high_arr, interval_level,
    interval_method, committed_arr, best_case_arr, categorised, cancellations_known,
    expected_gross_renewal_rate, expected_net_renewal_rate, period_sd.
    """
    by = check_dimensions(by)
    cols = {c: forecast[c].to_pylist() for c in (
        "account_id", "renewal_date", "decision_number", "category", "cancellation_known",
        *{DIMENSIONS[b] for b in by})}
    arr = np.array([float(v) for v in forecast["arr_at_stake"].to_pylist()])
    p = np.array(forecast["p_renew"].to_pylist(), dtype=float)
    r = np.array(forecast["p_reached"].to_pylist(), dtype=float)
    gross = np.array(forecast["gross_factor"].to_pylist(), dtype=float)
    net = np.array(forecast["net_factor"].to_pylist(), dtype=float)
    periods: dict[date, Period] = {}
    groups: dict[tuple, list[int]] = {}
    for i, day in enumerate(cols["renewal_date"]):
        period = periods.get(day)
        if period is None:  # a few hundred days among tens of thousands of decisions
            period = periods[day] = period_of(day, grain, fiscal_start_month)
        key = (period.start, *(cols[DIMENSIONS[b]][i] or NONE_LABEL for b in by))
        groups.setdefault(key, []).append(i)
    rows = []
    for key in sorted(groups):
        ix = sorted(groups[key], key=lambda i: (cols["account_id"][i],
                                                cols["decision_number"][i]))
        period = period_of(key[0], grain, fiscal_start_month)
        interval = renewed_arr_interval([cols["account_id"][i] for i in ix], arr[ix], p[ix],
                                        r[ix], level=level, period_sd=period_sd)
        at_stake = float((arr[ix] * r[ix]).sum())
        renewed = arr[ix] * r[ix] * p[ix]
        calls = [cols["category"][i] for i in ix]
        rows.append({
            "period": period.label, "period_start": period.start, "period_end": period.end,
            **{b: v for b, v in zip(by, key[1:], strict=True)},
            "renewals": len(ix), "arr_at_stake": round(float(arr[ix].sum()), 2),
            "expected_arr_at_stake": round(at_stake, 2),
            "expected_arr": interval.expected, "low_arr": interval.low,
            "high_arr": interval.high, "interval_level": level,
            "interval_method": interval.method,
            "committed_arr": round(float(sum(a for a, c in zip(arr[ix], calls, strict=True)
                                             if c == "commit")), 2),
            "best_case_arr": round(float(sum(a for a, c in zip(arr[ix], calls, strict=True)
                                             if c in ("commit", "best_case"))), 2),
            "categorised": sum(c is not None for c in calls),
            "cancellations_known": sum(bool(cols["cancellation_known"][i]) for i in ix),
            "expected_gross_renewal_rate": _rate((renewed * gross[ix]).sum(), at_stake),
            "expected_net_renewal_rate": _rate((renewed * net[ix]).sum(), at_stake),
            "period_sd": period_sd,
        })
    return pa.Table.from_pylist(rows, schema=_schema(by))


def _rate(part: float, whole: float) -> float | None:
    return round(float(part) / whole, 4) if whole > 0 else None


def _schema(by: Sequence[str]) -> pa.Schema:
    money = pa.float64()
    return pa.schema([
        ("period", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32()),
        *[(b, pa.string()) for b in by],
        ("renewals", pa.int64()), ("arr_at_stake", money), ("expected_arr_at_stake", money),
        ("expected_arr", money), ("low_arr", money), ("high_arr", money),
        ("interval_level", pa.float64()), ("interval_method", pa.string()),
        ("committed_arr", money), ("best_case_arr", money), ("categorised", pa.int64()),
        ("cancellations_known", pa.int64()), ("expected_gross_renewal_rate", pa.float64()),
        ("expected_net_renewal_rate", pa.float64()), ("period_sd", pa.float64()),
    ])
