"""The revenue reference rules in plain pandas: the yardstick the metrics benchmark measures
Quarterdeck's engine against.

It follows docs/reference-rules.md with the default settings (a move to a free plan is churn,
no past-due rule, no parent roll-up) and is written the way an analyst would write it:
vectorised pandas over the canonical tables, money as integer cents so that every sum is
exact. Only the per-row price formula uses `Decimal`, because it needs 24 exact decimals.

    tables = read_tables(con)                     # accounts, subscriptions, fx_rates
    result = compute(tables, as_of=date(2026, 9, 30), base_currency="USD")
    result.movements, result.bridge, result.retention

Money columns are integer cents (int64); ratios are float64, NaN for an empty cohort.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import partial

import numpy as np
import pandas as pd

MOVEMENT_TYPES = ("new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment")
TABLES = ("accounts", "subscriptions", "fx_rates")
_CENT = Decimal("0.01")
_NET_PLACES = Decimal("1e-12")


class MissingRate(ValueError):
    """A foreign-currency row with no exchange rate in effect on its start date."""


@dataclass
class Result:
    rows: pd.DataFrame  # one row per subscription row, with mrr_local and mrr in cents
    days: pd.DataFrame  # one row per account and day on which its MRR may change
    movements: pd.DataFrame
    bridge: pd.DataFrame
    retention: pd.DataFrame


def read_tables(con: object, names: tuple[str, ...] = TABLES) -> dict[str, pd.DataFrame]:
    """The canonical tables `names` of an Ibis connection, as pandas frames."""
    return {name: con.table(name).to_pandas() for name in names}  # type: ignore[attr-defined]


def _day(column: pd.Series) -> pd.Series:
    """A date or timestamp column as datetime64 days (NaT for missing)."""
    return pd.to_datetime(column).dt.normalize().astype("datetime64[ns]")


def _cents(value: Decimal) -> int:
    return int((value / _CENT).to_integral_value(ROUND_HALF_UP))


def row_mrr(quantity: Decimal, unit_price: Decimal, discount: Decimal, months: int,
            rate: Decimal) -> tuple[int, int]:
    """(MRR in the row's currency, MRR in the base currency), in cents, rounded half up.

    The net price per interval is carried to 12 decimals, the conversion is exact, and the
    base MRR is rounded once, after the division by the interval.
    """
    with localcontext() as ctx:
        ctx.prec = 80
        net = (quantity * unit_price * (1 - discount)).quantize(_NET_PLACES, ROUND_HALF_UP)
        return _cents(net / months), _cents(net * rate / months)


def subscription_mrr(tables: dict[str, pd.DataFrame], *, as_of: date,
                     base_currency: str) -> pd.DataFrame:
    """Every subscription row known as of `as_of` with its MRR (cents), point in time."""
    as_of_ts = pd.Timestamp(as_of)
    accounts = tables["accounts"]
    created = pd.to_datetime(accounts["created_at"])
    known = accounts.loc[created.isna() | (created < as_of_ts + pd.Timedelta(days=1)),
                         "account_id"]
    s = tables["subscriptions"].copy()
    s["start_date"] = _day(s["start_date"])
    s["end_date"] = _day(s["end_date"])
    s = s[(s["start_date"] <= as_of_ts) & s["account_id"].isin(known)]
    # An end date becomes known on canceled_at; before that the row runs on.
    canceled = pd.to_datetime(s["canceled_at"])
    s.loc[canceled.notna() & (canceled >= as_of_ts + pd.Timedelta(days=1)), "end_date"] = pd.NaT
    s["trial"] = s["trial"].fillna(False).astype(bool)

    # The rate in effect on the start date: the latest fx_rates row on or before it.
    fx = tables["fx_rates"].copy()
    fx["date"] = _day(fx["date"])
    fx = fx.sort_values("date")[["date", "currency", "rate_to_base"]]
    s = s.reset_index(drop=True)
    s["_order"] = np.arange(len(s))
    foreign = s[s["currency"] != base_currency].sort_values("start_date")
    rated = pd.merge_asof(foreign, fx, left_on="start_date", right_on="date", by="currency",
                          direction="backward")
    rates = pd.Series(Decimal(1), index=s.index, dtype=object)
    rates.loc[rated["_order"].to_numpy()] = rated["rate_to_base"].to_numpy()
    missing = s["currency"].ne(base_currency) & ~s["trial"] & pd.isna(rates)
    if missing.any():
        first = s[missing].sort_values(["start_date", "currency"]).iloc[0]
        raise MissingRate(
            f"no exchange rate from {first.currency} to {base_currency} in effect on "
            f"{first.start_date.date()}: add a fx_rates row with currency {first.currency} "
            "dated on or before it")

    zero = Decimal(0)
    pairs = [
        (0, 0) if trial else row_mrr(q, p, zero if pd.isna(d) else d, int(m), r)
        for q, p, d, m, r, trial in zip(s["quantity"], s["unit_price"], s["discount"],
                                        s["interval_months"], rates, s["trial"], strict=True)
    ]
    s["mrr_local"] = np.array([p[0] for p in pairs], dtype=np.int64)
    s["mrr"] = np.array([p[1] for p in pairs], dtype=np.int64)
    return s[["account_id", "subscription_id", "currency", "start_date", "end_date", "trial",
              "mrr_local", "mrr"]]


def _product_over(a: np.ndarray, b: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """a × b / denominator (denominator > 0) rounded half away from zero, in integers."""
    if len(a) and np.abs(a.astype(float) * b.astype(float)).max() > 2.0**61:
        raise OverflowError("a currency change too large for 64-bit cents")
    numerator = a * b
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.sign(numerator) * magnitude


def account_days(rows: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """Per account and day on which a row starts or ends: the base-currency change of MRR
    (`change`), the movement (each currency's change valued at the rate of the MRR it
    replaces), mrr_before, mrr_after and paid_before (MRR > 0 on an earlier day)."""
    keep = ["account_id", "currency", "date", "mrr", "local"]
    starts = rows.rename(columns={"start_date": "date", "mrr_local": "local"})[keep]
    ended = rows[rows["end_date"].notna() & (rows["end_date"] <= pd.Timestamp(as_of))]
    ends = ended.rename(columns={"end_date": "date", "mrr_local": "local"})[keep]
    ends = ends.assign(mrr=-ends["mrr"], local=-ends["local"])
    c = (pd.concat([starts, ends]).groupby(["account_id", "currency", "date"], sort=True)
         [["mrr", "local"]].sum().reset_index())
    per_currency = c.groupby(["account_id", "currency"], sort=False)
    before = (per_currency["mrr"].cumsum() - c["mrr"]).to_numpy()
    local_before = (per_currency["local"].cumsum() - c["local"]).to_numpy()
    replaces = local_before != 0
    valued = _product_over(c["local"].to_numpy(), before, np.where(replaces, local_before, 1))
    c["movement"] = np.where(replaces, valued, c["mrr"].to_numpy())

    d = (c.groupby(["account_id", "date"], sort=True)
         .agg(change=("mrr", "sum"), movement=("movement", "sum")).reset_index())
    per_account = d.groupby("account_id", sort=False)
    d["mrr_after"] = per_account["change"].cumsum()
    d["mrr_before"] = d["mrr_after"] - d["change"]
    paying = (d["mrr_after"] > 0).astype(np.int64)
    d["paid_before"] = (paying.groupby(d["account_id"]).cumsum() - paying) > 0
    return d


def mrr_movements(days: pd.DataFrame) -> pd.DataFrame:
    """One row per account, day and movement type: account_id, date, movement_type, amount,
    mrr_before, mrr_after (cents; churn and contraction negative)."""
    m = days[days["movement"] != 0]
    p = m["mrr_before"].to_numpy()
    q = p + m["movement"].to_numpy()
    kind = np.select(
        [(p == 0) & (q > 0) & m["paid_before"].to_numpy(), (p == 0) & (q > 0),
         (p > 0) & (q == 0), q > p],
        ["reactivation", "new", "churn", "expansion"], default="contraction")
    moves = pd.DataFrame({"account_id": m["account_id"].to_numpy(),
                          "date": m["date"].to_numpy(), "movement_type": kind,
                          "amount": m["movement"].to_numpy(), "mrr_before": p, "mrr_after": q})
    fx = days.assign(amount=days["change"] - days["movement"])
    fx = fx[fx["amount"] != 0]
    fxs = pd.DataFrame({"account_id": fx["account_id"].to_numpy(),
                        "date": fx["date"].to_numpy(), "movement_type": "fx_adjustment",
                        "amount": fx["amount"].to_numpy(),
                        "mrr_before": (fx["mrr_after"] - fx["amount"]).to_numpy(),
                        "mrr_after": fx["mrr_after"].to_numpy()})
    out = pd.concat([moves, fxs], ignore_index=True)
    return out.sort_values(["date", "account_id", "movement_type"], ignore_index=True)


def first_paying_days(days: pd.DataFrame) -> pd.Series:
    """Each paying account's first day with MRR > 0."""
    return days[days["mrr_after"] > 0].groupby("account_id")["date"].min()


def account_mrr_daily(days: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """One row per account per day from its first paying day through `as_of`: account_id,
    date, mrr (cents). After churn the rows go on with MRR 0."""
    first = first_paying_days(days)
    d = days[days["date"] >= days["account_id"].map(first)]
    until = d.groupby("account_id")["date"].shift(-1).fillna(
        pd.Timestamp(as_of) + pd.Timedelta(days=1))
    span = ((until - d["date"]).dt.days).to_numpy()
    starts = np.repeat(d["date"].to_numpy(), span)
    offsets = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    return pd.DataFrame({
        "account_id": np.repeat(d["account_id"].to_numpy(), span),
        "date": starts + offsets.astype("timedelta64[D]"),
        "mrr": np.repeat(d["mrr_after"].to_numpy(), span),
    })


def mrr_on(days: pd.DataFrame, when: list[date]) -> pd.DataFrame:
    """Each paying account's MRR (cents) on each day of `when`: a frame indexed by
    account_id with one column per day (0 before its first paying day)."""
    accounts = first_paying_days(days).index
    stamps = pd.DatetimeIndex(sorted({pd.Timestamp(day) for day in when})).as_unit("ns")
    grid = pd.DataFrame({
        "account_id": np.tile(accounts.to_numpy(), len(stamps)),
        "date": np.repeat(stamps.to_numpy(), len(accounts)),
    })
    found = pd.merge_asof(grid, days[["date", "account_id", "mrr_after"]].sort_values("date"),
                          on="date", by="account_id", direction="backward")
    found["mrr_after"] = found["mrr_after"].fillna(0).astype(np.int64)
    return found.pivot(index="account_id", columns="date", values="mrr_after")


def mrr_on_daily(daily: pd.DataFrame, when: list[date]) -> pd.DataFrame:
    """As `mrr_on`, read from an `account_mrr_daily` frame instead of the change days."""
    stamps = pd.DatetimeIndex(sorted({pd.Timestamp(day) for day in when})).as_unit("ns")
    d = daily[daily["date"].isin(stamps)]
    wide = d.pivot(index="account_id", columns="date", values="mrr")
    accounts = pd.Index(daily["account_id"].unique(), name="account_id").sort_values()
    return wide.reindex(index=accounts, columns=stamps).fillna(0).astype(np.int64)


def month_periods(first: date, as_of: date) -> pd.DataFrame:
    """The months from the one containing `first` through the one containing `as_of`:
    period (YYYY-MM), period_start, period_end (the last day, or `as_of`)."""
    starts = pd.period_range(first, as_of, freq="M")
    return pd.DataFrame({
        "period": starts.strftime("%Y-%m"),
        "period_start": starts.start_time.normalize(),
        "period_end": np.minimum(starts.end_time.normalize(), pd.Timestamp(as_of)),
    })


def months_before(day: date, months: int) -> date:
    """`day` moved back `months` months, a month end to a month end, else clamped."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return date(year, month + 1, last)
    return date(year, month + 1, min(day.day, last))


def mrr_bridge(movements: pd.DataFrame, days: pd.DataFrame, *, as_of: date,
               lookup: Callable | None = None) -> pd.DataFrame:
    """The monthly bridge from the month of the first paying day through `as_of`: starting
    MRR, each movement type, ending MRR, ARR and customer counts. `lookup(days)` gives the
    accounts' MRR on those days (default: `mrr_on` the change days)."""
    lookup = lookup or partial(mrr_on, days)
    first = first_paying_days(days)
    periods = month_periods(first.min().date(), as_of)
    before = periods["period_start"] - pd.Timedelta(days=1)
    mrr = lookup([*before.dt.date, *periods["period_end"].dt.date])
    seen = first.reindex(mrr.index).to_numpy()

    m = movements[(movements["date"] >= periods["period_start"].iloc[0])
                  & (movements["date"] <= pd.Timestamp(as_of))]
    sums = (m.assign(period=m["date"].dt.strftime("%Y-%m"))
            .pivot_table(index="period", columns="movement_type", values="amount",
                         aggfunc="sum", fill_value=0)
            .reindex(index=periods["period"], columns=list(MOVEMENT_TYPES), fill_value=0))

    out = []
    for period, start_day, end_day in zip(periods["period"], before, periods["period_end"],
                                          strict=True):
        s, e = mrr[start_day].to_numpy(), mrr[end_day].to_numpy()
        was, now = s > 0, e > 0
        seen_before = seen <= start_day.to_datetime64()
        out.append({
            "period": period, "starting_mrr": s.sum(),
            **{kind: sums.at[period, kind] for kind in MOVEMENT_TYPES},
            "ending_mrr": e.sum(),
            "starting_customers": was.sum(),
            "new_customers": (~was & now & ~seen_before).sum(),
            "churned_customers": (was & ~now).sum(),
            "reactivated_customers": (~was & now & seen_before).sum(),
            "ending_customers": now.sum(),
        })
    bridge = periods.merge(pd.DataFrame(out), on="period")
    bridge.insert(bridge.columns.get_loc("ending_mrr") + 1, "starting_arr",
                  12 * bridge["starting_mrr"])
    bridge.insert(bridge.columns.get_loc("starting_arr") + 1, "ending_arr",
                  12 * bridge["ending_mrr"])
    money = ["starting_mrr", *MOVEMENT_TYPES, "ending_mrr", "starting_arr", "ending_arr"]
    counts = [c for c in bridge.columns if c.endswith("_customers")]
    return bridge.astype({**dict.fromkeys(money, np.int64), **dict.fromkeys(counts, np.int64)})


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator.astype(float) / denominator.astype(float).where(denominator != 0)


def retention(days: pd.DataFrame, *, as_of: date, window_months: int = 12,
              lookup: Callable | None = None) -> pd.DataFrame:
    """Retention over `window_months` ending at each month end (the as-of date for the
    current month), from the month of the first paying day: cohort = accounts with MRR > 0
    at the window start. `lookup` as in `mrr_bridge`."""
    lookup = lookup or partial(mrr_on, days)
    periods = month_periods(first_paying_days(days).min().date(), as_of)
    periods["window_start"] = [pd.Timestamp(months_before(t.date(), window_months))
                               for t in periods["period_end"]]
    mrr = lookup([*periods["window_start"].dt.date, *periods["period_end"].dt.date])
    out = []
    for start_day, end_day in zip(periods["window_start"], periods["period_end"], strict=True):
        s, e = mrr[start_day], mrr[end_day]
        cohort = s > 0
        s, e = s[cohort], e[cohort]
        kept = e > 0
        out.append({
            "cohort_customers": int(cohort.sum()), "churned_customers": int((~kept).sum()),
            "starting_mrr": s.sum(), "ending_mrr": e.sum(),
            "retained_mrr": np.minimum(s, e).sum(),
            "expansion_mrr": (e - s).clip(lower=0).sum(),
            "contraction_mrr": (s - e)[kept].clip(lower=0).sum(),
            "churned_mrr": s[~kept].sum(),
        })
    r = pd.concat([periods, pd.DataFrame(out).astype(np.int64)], axis=1)
    r.insert(4, "window_months", window_months)
    return r.assign(
        nrr=_ratio(r["ending_mrr"], r["starting_mrr"]),
        grr=_ratio(r["retained_mrr"], r["starting_mrr"]),
        logo_churn=_ratio(r["churned_customers"], r["cohort_customers"]),
        revenue_churn=_ratio(r["churned_mrr"], r["starting_mrr"]),
        expansion_rate=_ratio(r["expansion_mrr"], r["starting_mrr"]),
        contraction_rate=_ratio(r["contraction_mrr"], r["starting_mrr"]),
    )


def compute(tables: dict[str, pd.DataFrame], *, as_of: date, base_currency: str,
            window_months: int = 12, daily: bool = False) -> Result:
    """Movements per account and day, the monthly bridge and trailing retention.

    With `daily`, the bridge and retention read the accounts' MRR from an account-day table
    (`account_mrr_daily`, every account every day) instead of the change days.
    """
    rows = subscription_mrr(tables, as_of=as_of, base_currency=base_currency)
    days = account_days(rows, as_of=as_of)
    movements = mrr_movements(days)
    lookup = partial(mrr_on_daily, account_mrr_daily(days, as_of=as_of)) if daily else None
    return Result(rows, days, movements,
                  mrr_bridge(movements, days, as_of=as_of, lookup=lookup),
                  retention(days, as_of=as_of, window_months=window_months, lookup=lookup))
