"""MRR of every subscription row, in its own currency and in the base currency, as of a date.

The reference rule: a subscription row's MRR is

    quantity × unit_price × (1 − discount) / interval_months      (0 while it is a trial)

converted to the base currency at the rate in effect on the row's start date (the latest
`fx_rates` row for its currency dated on or before it; 1 for the base currency). A renewal is a
new row, so it re-prices; a rate change alone never changes a running row's MRR.

Rounding, the one rule: each row's base-currency MRR is rounded half up to the cent from the
exact value (quantity × unit_price × (1 − discount) carried to 12 decimals, times the rate,
divided by the interval); an account's MRR is the sum of its rounded rows, so every sum is exact
to the cent. Example: 3 seats × 333.33 EUR per year at 1.1 → 3 × 333.33 × 1.1 / 12 = 91.66575,
MRR 91.67.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.errors import MissingRateError

MONEY = dt.Decimal(38, 2)
RATE = dt.Decimal(24, 12)
# A line's net price per interval keeps 12 decimals: far below a cent, and leaves 26 integer
# digits so that the multiplication by a 12-decimal rate still fits 38 digits.
_NET = dt.Decimal(38, 12)
_CONVERTED = dt.Decimal(38, 24)
_WIDE = dt.Decimal(38, 6)


def day_after(as_of: date) -> datetime:
    """Midnight (UTC) at the end of `as_of`: a timestamp is on or before `as_of` iff it is less.

    Comparing a timestamp column with a literal, not its date, lets backends prune and index.
    """
    return datetime.combine(as_of + timedelta(days=1), time())


def as_decimal(value: ir.NumericValue, to: dt.Decimal) -> ir.DecimalValue:
    """`value` cast to the decimal type `to`, rounding half up at its scale."""
    # Ibis drops a cast to the type it infers, but engines infer other decimal types (DuckDB
    # adds the scales of a product), so the cast goes through a wider type to reach the SQL.
    if value.type() == to:
        value = value.cast(dt.Decimal(38, min(to.scale + 6, 38)))
    return value.cast(to)


def approximate_quotient(numerator: ir.NumericValue, divisor: ir.IntegerValue,
                         places: int = 2) -> ir.DecimalValue:
    """`numerator / divisor` in floating point, cast to `places` decimals: at most one unit
    off the exact half-up quotient (`nudged` corrects it). `numerator` may already be a
    float (a product computed in floating point)."""
    return (numerator.cast(dt.float64) / divisor.cast(dt.float64)).cast(dt.Decimal(38, places))


def nudged(numerator: ir.DecimalValue, divisor: ir.IntegerValue, approx: ir.DecimalValue,
           places: int = 2) -> ir.DecimalValue:
    """The exact half-up quotient from its approximation `approx`, checked with exact
    decimal products in the numerator's own type (so the comparison is exact on every
    engine) and moved one unit where it is off; for numerator ≥ 0."""
    target = dt.Decimal(38, places)
    unit = Decimal(1).scaleb(-places)
    half = ibis.literal(unit / 2, dt.Decimal(38, places + 1))
    step = ibis.literal(unit, target)
    exact = numerator.type()
    low = as_decimal((approx - half) * divisor, exact)  # least numerator rounding to `approx`
    high = as_decimal((approx + half) * divisor, exact)  # least numerator rounding above it
    return (
        ibis.cases(
            (numerator < low, approx - step),
            (numerator >= high, approx + step),
            else_=approx,
        )
        .cast(target)
    )


def divide_half_up(numerator: ir.DecimalValue, divisor: ir.IntegerValue,
                   places: int = 2) -> ir.DecimalValue:
    """`numerator / divisor` rounded half up to `places` decimals, exactly, for numerator ≥ 0.

    Example: 1000 / 12 → 83.33, 1.5 / 12 = 0.125 → 0.13.
    """
    # Some engines (DuckDB) divide decimals in floating point. The float quotient is at most
    # one unit off after rounding, so it is checked and nudged with exact decimal products.
    return nudged(numerator, divisor, approximate_quotient(numerator, divisor, places), places)


def _rates_at_start(keys: ir.Table, fx_rates: ir.Table) -> ir.Table:
    """For each (currency, start_date) in `keys`, the rate in effect on that date (if any)."""
    fx = fx_rates.select("currency", rate_date=fx_rates.date, rate_to_base=fx_rates.rate_to_base)
    latest = (
        keys.join(fx, [keys.currency == fx.currency, fx.rate_date <= keys.start_date])
        .group_by([keys.currency, keys.start_date])
        .agg(rate_date=fx.rate_date.max())
    )
    return latest.join(fx, ["currency", "rate_date"]).select(
        "currency", "start_date", fx_rate=fx.rate_to_base.cast(RATE)
    )


def subscription_mrr(subscriptions: ir.Table, fx_rates: ir.Table, *, as_of: date,
                     base_currency: str) -> ir.Table:
    """One row per subscription row started by `as_of`, with its MRR as known then.

    Columns: account_id, subscription_id, plan, currency, interval_months, start_date, end_date
    (NULL while unknown: a row canceled after `as_of` still runs as of then; a row with an end
    date and no canceled_at had that end in its terms from the start), trial, mrr_local (in the
    row's currency, to the cent, 0 for trials), fx_rate (NULL when no rate is in effect), mrr
    (base currency, to the cent; NULL when the rate is missing, see `check_rates`).

    Example: 1 × 1200.00 USD every 12 months, base USD → mrr_local 100.00, fx_rate 1, mrr 100.00.
    """
    s = subscriptions.filter(subscriptions.start_date <= as_of)
    canceled_later = s.canceled_at.notnull() & (s.canceled_at >= day_after(as_of))
    # Widen before multiplying: engines may multiply two 18-digit decimals in 64 bits
    # (DuckDB does), which overflows for ordinary seats × prices at 6 decimals.
    gross = as_decimal(s.quantity.cast(_WIDE) * s.unit_price.cast(_WIDE), _NET)
    discount = s.discount.fill_null(0).cast(_WIDE)
    s = s.mutate(
        end_date=ibis.ifelse(canceled_later, ibis.null(dt.date), s.end_date),
        trial=s.trial.fill_null(False),
        # Seats × price has 12 decimals exactly; only a discount adds decimals to round off,
        # half up (the price is never negative). A 38-digit rounding costs about a
        # microsecond a row on DuckDB (`round` less than a cast): only where needed.
        net=ibis.ifelse(discount == 0, gross, (gross * (1 - discount)).round(12).cast(_NET)),
    )
    foreign = s.filter(s.currency != base_currency).select("currency", "start_date").distinct()
    rates = _rates_at_start(foreign, fx_rates)
    s = s.left_join(rates, ["currency", "start_date"]).drop("currency_right", "start_date_right")
    fx_rate = ibis.ifelse(
        s.currency == base_currency, ibis.literal(Decimal(1), RATE), s.fx_rate
    ).cast(RATE)
    # Each step a column of its own, computed once per row: the rounding reads the converted
    # amount and the approximate quotients three to five times each, and 38-digit decimals
    # are the costliest arithmetic here (a conversion to floating point included).
    s = s.mutate(fx_rate=fx_rate, converted=as_decimal(s.net * fx_rate, _CONVERTED))
    months = s.interval_months
    # The approximate quotients from the net price and the rate in floating point: a
    # 24-decimal amount is slow to convert (it does not fit 64 bits), and the product of the
    # two conversions is as close (a few units in the 16th digit, far below half a cent).
    s = s.mutate(local_approx=approximate_quotient(s.net, months),
                 approx=approximate_quotient(
                     s.net.cast(dt.float64) * s.fx_rate.cast(dt.float64), months))
    zero = ibis.literal(Decimal(0), MONEY)
    mrr_local = ibis.ifelse(s.trial, zero, nudged(s.net, months, s.local_approx))
    # A trial needs no conversion, so a missing rate does not make its (zero) MRR unknown.
    mrr = ibis.ifelse(s.trial, zero, nudged(s.converted, months, s.approx))
    return s.select(
        "account_id", "subscription_id", "plan", "currency", "interval_months", "start_date",
        "end_date", "trial",
        mrr_local=mrr_local.cast(MONEY),
        fx_rate=s.fx_rate,
        mrr=mrr.cast(MONEY),
    )


def missing_rates(subscription_mrr_table: ir.Table) -> ir.Table:
    """The (currency, start_date) pairs whose MRR cannot be converted: no rate in effect then.

    Example: a EUR row starting 2024-01-05 when the first EUR rate is dated 2024-02-01.
    """
    t = subscription_mrr_table
    return (
        t.filter(t.mrr.isnull())
        .select("currency", "start_date")
        .distinct()
        .order_by(["start_date", "currency"])
    )


def check_rates(con: BaseBackend, table: ir.Table, base_currency: str) -> None:
    """Raise MissingRateError for the earliest row of `table` (a subscription_mrr table) whose
    currency has no rate in effect on its start date; do nothing when every row converts.
    """
    first = con.to_pyarrow(missing_rates(table).limit(1)).to_pylist()
    if first:
        row = first[0]
        raise MissingRateError(row["currency"], row["start_date"].isoformat(), base_currency)
