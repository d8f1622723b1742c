"""What the leadership page and `/api/leadership` read: where the business stands on a
published day, so the page and the API show the same figures.

Everything comes from what `quarterdeck run` published for the day (docs/leadership.md):

- revenue: the revenue series (`metric_series`), i.e. `quarterdeck export mrr_bridge` and
  `retention` by segment for the 12 months ending on the day; movements are shown as ARR
  (12 × the export's MRR);
- health: the paying accounts of the day's snapshot by band of the health scores published
  on or before it, and the band changes against the scores of 7 and 30 days earlier;
- forecast: the renewal forecast of the day by calendar quarter (`forecast_periods`);
- operations: `ops_metrics` of the book published on or before the day;
- data quality: the day's data-quality report and the data-age warnings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, func, select

from quarterdeck.app.book_queries import book_day
from quarterdeck.app.quality_queries import QualityCheck, get_quality
from quarterdeck.app.queries import BANDS, NO_SCORE, latest_health_as_of
from quarterdeck.appdb.data_age import StaleData
from quarterdeck.appdb.data_versions import NAMES, cached
from quarterdeck.appdb.forecast_models import ForecastDecision, ForecastPeriod
from quarterdeck.appdb.metric_series_models import MetricSeries
from quarterdeck.appdb.models import AccountSnapshot, DataQualityCheck, HealthScore
from quarterdeck.appdb.publish_metrics import RETENTION_WINDOW_MONTHS, series_start
from quarterdeck.forecast.renewal_forecast import PUBLISHED_HORIZON_DAYS
from quarterdeck.metrics.mrr_movements import ALL
from quarterdeck.metrics.retention import months_before

MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn", "fx_adjustment")
CUSTOMER_COUNTS = ("starting_customers", "new_customers", "churned_customers",
                   "reactivated_customers", "ending_customers")
MOVEMENT_WINDOWS = (7, 30)
BAND_RANK = {band: rank for rank, band in enumerate(BANDS)}  # red < yellow < green
TOP_ACCOUNTS = 10


class DayNotPublished(LookupError):
    """Nothing was published for the day asked."""


class ArrBridge(BaseModel):
    """One month of the ARR bridge of one segment ("all" for the company): starting ARR +
    movements = ending ARR. Movements are ARR (12 × the export's MRR columns)."""

    segment: str
    period: str
    period_start: date
    period_end: date = Field(description="The month's last day, or the as-of day for the "
                             "month holding it.")
    starting_arr: Decimal
    new: Decimal
    expansion: Decimal
    reactivation: Decimal
    contraction: Decimal
    churn: Decimal
    fx_adjustment: Decimal
    ending_arr: Decimal
    net_new_arr: Decimal = Field(description="ending_arr − starting_arr.")
    starting_customers: int
    new_customers: int
    churned_customers: int = Field(description="Logos churned in the month.")
    reactivated_customers: int
    ending_customers: int


class Retention(BaseModel):
    """Trailing-12-month retention of one segment at one month end (or the as-of day)."""

    segment: str
    period: str
    period_end: date
    window_start: date
    cohort_customers: int
    churned_customers: int
    nrr: float | None
    grr: float | None
    logo_churn: float | None
    revenue_churn: float | None


class SegmentRevenue(BaseModel):
    """A segment's latest month and trailing-12-month figures."""

    segment: str
    latest: ArrBridge
    retention: Retention | None
    logos_churned_12m: int = Field(description="Logos churned over the 12 months shown.")


class Revenue(BaseModel):
    """The revenue series of the day: the company's months, oldest first, and per segment."""

    series_start: date
    months: list[ArrBridge]
    latest: ArrBridge
    retention: list[Retention] = Field(description="The company's trailing-12-month "
                                       "retention at each month end, oldest first.")
    segments: list[SegmentRevenue] = Field(description="Largest ending ARR first.")
    segment_retention: dict[str, list[Retention]]
    logo_churn: dict[str, list[int]] = Field(description="Logos churned per month (in the "
                                             "order of `months`) by segment.")


class BandCount(BaseModel):
    band: str = Field(description=f"{', '.join(BANDS)}, or '{NO_SCORE}' without a score.")
    accounts: int
    arr: Decimal


class HealthDistribution(BaseModel):
    """The paying accounts of the day by health band, in all and per segment."""

    health_as_of: date | None = Field(description="The health scores read: the latest "
                                      "published on or before the day.")
    accounts: int
    arr: Decimal
    bands: list[BandCount]
    segments: dict[str, list[BandCount]]


class BandMove(BaseModel):
    account_id: str
    name: str | None
    band_before: str
    band_now: str
    arr: Decimal


class HealthMovement(BaseModel):
    """Band changes of the accounts scored both on the day and `days` earlier."""

    days: int
    compared_with: date | None = Field(description="The scores compared with: the latest "
                                       "published on or before `days` days earlier.")
    scored_both: int
    improved: int
    improved_arr: Decimal
    worsened: int
    worsened_arr: Decimal
    to_red: int
    matrix: dict[str, dict[str, int]] = Field(description="Accounts by band before → now.")
    worsened_accounts: list[BandMove] = Field(description=f"The {TOP_ACCOUNTS} largest by "
                                              "ARR.")


class RenewalLine(BaseModel):
    account_id: str
    name: str | None
    renewal_date: date
    arr_at_stake: Decimal
    p_renew: float
    expected_arr: Decimal
    category: str | None


class ForecastQuarter(BaseModel):
    """The renewals due in one calendar quarter, as forecast on the day."""

    period: str
    period_start: date
    period_end: date
    covered_to: date = Field(description="The forecast covers renewals due up to this day.")
    renewals: int
    arr_at_stake: Decimal
    expected_arr: Decimal
    low_arr: Decimal
    high_arr: Decimal
    committed_arr: Decimal
    best_case_arr: Decimal
    expected_gross_renewal_rate: float | None
    largest: list[RenewalLine] = Field(description=f"The {TOP_ACCOUNTS} renewals with the "
                                       "most ARR at stake.")


class DataQualitySummary(BaseModel):
    as_of: date | None
    counts: dict[str, int]
    freshness: list[QualityCheck]
    stale_data: list[str] = Field(description="Entities whose newest data is older than the "
                                  "day, as the banner says.")


class Leadership(BaseModel):
    """Where the business stands on `as_of`; a section is null when nothing of it was
    published for the day (see `notes`)."""

    as_of: date | None
    published_days: list[date] = Field(description="Every published day, newest first.")
    currency: str | None
    revenue: Revenue | None
    health: HealthDistribution | None
    movement: list[HealthMovement]
    forecast: list[ForecastQuarter] | None
    forecast_horizon_days: int = PUBLISHED_HORIZON_DAYS
    operations_as_of: date | None
    operations: list[dict[str, Any]] | None = Field(description="`ops_metrics` by CSM, the "
                                                    "total row last.")
    quality: DataQualitySummary
    notes: list[str]


def published_days(engine: Engine) -> list[date]:
    """Every day with a published account snapshot, newest first."""
    with engine.connect() as conn:
        return list(conn.scalars(select(AccountSnapshot.as_of).distinct()
                                 .order_by(AccountSnapshot.as_of.desc())))


def _money(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _ratio(value: Any) -> float | None:
    return None if value is None else float(value)


def _bridge(segment: str, period: tuple[str, date, date], f: dict[str, Any]) -> ArrBridge:
    twelve = Decimal(12)
    start, end = _money(f.get("starting_arr")), _money(f.get("ending_arr"))
    return ArrBridge(
        segment=segment, period=period[0], period_start=period[1], period_end=period[2],
        starting_arr=start, ending_arr=end, net_new_arr=end - start,
        **{m: _money(Decimal(str(f.get(m) or 0)) * twelve) for m in MOVEMENTS},
        **{c: int(f.get(c) or 0) for c in CUSTOMER_COUNTS})


def _retention(segment: str, period: tuple[str, date, date], f: dict[str, Any]) -> Retention:
    return Retention(
        segment=segment, period=period[0], period_end=period[2],
        window_start=months_before(period[2], RETENTION_WINDOW_MONTHS),
        cohort_customers=int(f.get("cohort_customers") or 0),
        churned_customers=int(f.get("churned_customers") or 0),
        **{k: _ratio(f.get(k)) for k in ("nrr", "grr", "logo_churn", "revenue_churn")})


def revenue(engine: Engine, as_of: date) -> Revenue | None:
    """The revenue series published for `as_of`, or None when that run published none."""
    with engine.connect() as conn:
        rows = conn.execute(select(MetricSeries).where(MetricSeries.as_of == as_of)).all()
    if not rows:
        return None
    cells: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(
        lambda: defaultdict(dict))
    periods: dict[str, tuple[str, date, date]] = {}
    for r in rows:
        export, figure = r.metric.split(".", 1)
        cells[export][(r.segment, r.period)][figure] = r.value
        periods[r.period] = (r.period, r.period_start, r.period_end)
    order = sorted(periods.values(), key=lambda p: p[1])
    bridge, kept = cells["mrr_bridge"], cells["retention"]
    months = [_bridge(ALL, p, bridge.get((ALL, p[0]), {})) for p in order]
    names = sorted({s for s, _ in bridge} - {ALL})
    per_segment = {s: [_bridge(s, p, bridge.get((s, p[0]), {})) for p in order] for s in names}
    retention = {s: [_retention(s, p, kept[(s, p[0])]) for p in order if (s, p[0]) in kept]
                 for s in [ALL, *names]}
    segments = sorted(
        (SegmentRevenue(segment=s, latest=per_segment[s][-1],
                        retention=(retention.get(s) or [None])[-1],
                        logos_churned_12m=sum(m.churned_customers for m in per_segment[s]))
         for s in names), key=lambda s: (-s.latest.ending_arr, s.segment))
    return Revenue(
        series_start=series_start(as_of), months=months, latest=months[-1],
        retention=retention[ALL],
        segments=segments, segment_retention={s: retention[s] for s in names},
        logo_churn={s: [m.churned_customers for m in per_segment[s]] for s in names})


def _bands(rows: list[Any]) -> list[BandCount]:
    counts: dict[str, list[Any]] = {b: [0, Decimal(0)] for b in (*BANDS, NO_SCORE)}
    for r in rows:
        band = r.band if r.score is not None and r.band in BAND_RANK else NO_SCORE
        counts[band][0] += 1
        counts[band][1] += _money(r.arr)
    return [BandCount(band=b, accounts=n, arr=arr) for b, (n, arr) in counts.items()]


def health_distribution(engine: Engine, as_of: date) -> HealthDistribution:
    """The paying accounts (MRR above zero) of `as_of` by band, as the account list counts
    them: the band of the latest health scores on or before the day, or no score."""
    day = latest_health_as_of(engine, as_of)
    s, h = AccountSnapshot, HealthScore
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.segment, s.arr, h.band, h.score)
            .outerjoin(h, and_(h.account_id == s.account_id, h.as_of == day))
            .where(s.as_of == as_of, s.mrr > 0)).all()
    by_segment: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_segment[r.segment or "(none)"].append(r)
    return HealthDistribution(
        health_as_of=day, accounts=len(rows), arr=sum((_money(r.arr) for r in rows),
                                                      Decimal(0)),
        bands=_bands(rows), segments={k: _bands(v) for k, v in sorted(by_segment.items())})


def health_movement(engine: Engine, as_of: date, days: int) -> HealthMovement:
    """Band changes between the health scores of the day and those of `days` earlier (the
    latest published on or before each), over the accounts with a band on both."""
    now_day = latest_health_as_of(engine, as_of)
    before_day = latest_health_as_of(engine, now_day - timedelta(days=days)) if now_day else None
    matrix = {b: dict.fromkeys(BANDS, 0) for b in BANDS}
    empty = HealthMovement(days=days, compared_with=before_day, scored_both=0, improved=0,
                           improved_arr=Decimal(0), worsened=0, worsened_arr=Decimal(0),
                           to_red=0, matrix=matrix, worsened_accounts=[])
    if now_day is None or before_day is None:
        return empty
    h, s = HealthScore, AccountSnapshot
    with engine.connect() as conn:
        def bands(day: date) -> dict[str, str]:
            return {r.account_id: r.band for r in conn.execute(
                select(h.account_id, h.band).where(h.as_of == day, h.score.is_not(None),
                                                   h.band.in_(BANDS)))}

        now, before = bands(now_day), bands(before_day)
        accounts = {r.account_id: r for r in conn.execute(
            select(s.account_id, s.name, s.arr).where(s.as_of == as_of))}
    moves = []
    for account in sorted(now.keys() & before.keys()):
        a, b = before[account], now[account]
        matrix[a][b] += 1
        info = accounts.get(account)
        moves.append(BandMove(account_id=account, name=info.name if info else None,
                              band_before=a, band_now=b, arr=_money(info.arr if info else 0)))
    up = [m for m in moves if BAND_RANK[m.band_now] > BAND_RANK[m.band_before]]
    down = [m for m in moves if BAND_RANK[m.band_now] < BAND_RANK[m.band_before]]
    return empty.model_copy(update={
        "scored_both": len(moves), "matrix": matrix, "improved": len(up),
        "improved_arr": sum((m.arr for m in up), Decimal(0)), "worsened": len(down),
        "worsened_arr": sum((m.arr for m in down), Decimal(0)),
        "to_red": sum(m.band_now == "red" for m in down),
        "worsened_accounts": sorted(down, key=lambda m: (-m.arr, m.account_id))[:TOP_ACCOUNTS]})


def renewal_forecast(engine: Engine, as_of: date) -> list[ForecastQuarter] | None:
    """The forecast of `as_of` by calendar quarter with its largest renewals, or None when
    that run published no forecast."""
    p, d, s = ForecastPeriod, ForecastDecision, AccountSnapshot
    horizon_end = as_of + timedelta(days=PUBLISHED_HORIZON_DAYS)
    with engine.connect() as conn:
        periods = conn.execute(select(p).where(p.as_of == as_of, p.grain == "quarter")
                               .order_by(p.period_start)).all()
        if not periods:
            return None
        decisions = conn.execute(
            select(d.account_id, s.name, d.renewal_date, d.arr_at_stake, d.p_renew,
                   d.expected_arr, d.category)
            .outerjoin(s, and_(s.account_id == d.account_id, s.as_of == d.as_of))
            .where(d.as_of == as_of).order_by(d.arr_at_stake.desc(), d.renewal_date,
                                              d.account_id)).all()
    out = []
    for q in periods:
        due = [RenewalLine(account_id=r.account_id, name=r.name, renewal_date=r.renewal_date,
                           arr_at_stake=_money(r.arr_at_stake), p_renew=r.p_renew,
                           expected_arr=_money(r.expected_arr), category=r.category)
               for r in decisions if q.period_start <= r.renewal_date <= q.period_end]
        out.append(ForecastQuarter(
            period=q.period, period_start=q.period_start, period_end=q.period_end,
            covered_to=min(q.period_end, horizon_end), renewals=q.renewals,
            **{k: _money(getattr(q, k)) for k in ("arr_at_stake", "expected_arr", "low_arr",
                                                  "high_arr", "committed_arr",
                                                  "best_case_arr")},
            expected_gross_renewal_rate=q.expected_gross_renewal_rate,
            largest=due[:TOP_ACCOUNTS]))
    return out


def data_quality(engine: Engine, as_of: date) -> DataQualitySummary:
    """The data-quality report published on or before `as_of` (its counts and freshness
    checks, as /quality shows them) and the day's data-age warnings."""
    with engine.connect() as conn:
        day = conn.scalar(select(func.max(DataQualityCheck.as_of))
                          .where(DataQualityCheck.as_of <= as_of))
        stale = list(conn.scalars(select(StaleData.sentence).where(StaleData.as_of == as_of)
                                  .order_by(StaleData.days_behind.desc(), StaleData.entity)))
    report = get_quality(engine, day) if day else None
    return DataQualitySummary(
        as_of=day, counts=report.counts if report else {},
        freshness=[c for c in report.checks if c.check == "freshness"] if report else [],
        stale_data=stale)


def operations(engine: Engine, as_of: date) -> tuple[date | None, list[dict[str, Any]] | None]:
    """`ops_metrics` by CSM of the book published on or before `as_of`."""
    from quarterdeck.appdb.ops_metrics import ops_metrics

    day = book_day(engine, as_of)
    if day is None:
        return None, None
    return day, ops_metrics(engine, as_of=day, by="csm").to_pylist()


def leadership(engine: Engine, as_of: date | None = None) -> Leadership:
    """Every figure of the leadership page for `as_of` (default: the latest published day);
    raises `DayNotPublished` for a day nothing was published for. Computed once per state of
    the data it reads (at 20,000 accounts it takes seconds) and shared: never change it."""
    return cached(engine, ("leadership", as_of), NAMES, lambda: _leadership(engine, as_of))


def _leadership(engine: Engine, as_of: date | None) -> Leadership:
    days = published_days(engine)
    day = as_of or (days[0] if days else None)
    if day is None:
        return Leadership(as_of=None, published_days=[], currency=None, revenue=None,
                          health=None, movement=[], forecast=None, operations_as_of=None,
                          operations=None, quality=DataQualitySummary(
                              as_of=None, counts={}, freshness=[], stale_data=[]),
                          notes=["Nothing has been published yet: run `quarterdeck run`."])
    if day not in days:
        near = ", ".join(str(d) for d in sorted(days, key=lambda d: abs((d - day).days))[:3])
        raise DayNotPublished(f"Nothing was published as of {day}; the nearest published "
                              f"days are {near}.")
    with engine.connect() as conn:
        currency = conn.scalar(select(AccountSnapshot.currency)
                               .where(AccountSnapshot.as_of == day).limit(1))
    notes = []
    money = revenue(engine, day)
    if money is None:
        notes.append(f"The run of {day} published no revenue series: run `quarterdeck run "
                     f"--as-of {day}` again to publish them.")
    forecast = renewal_forecast(engine, day)
    if forecast is None:
        notes.append(f"No renewal forecast was published as of {day} (`quarterdeck run` "
                     "says why: too little renewal history to learn from).")
    ops_day, ops_rows = operations(engine, day)
    return Leadership(
        as_of=day, published_days=days, currency=currency, revenue=money,
        health=health_distribution(engine, day),
        movement=[health_movement(engine, day, n) for n in MOVEMENT_WINDOWS],
        forecast=forecast, operations_as_of=ops_day, operations=ops_rows,
        quality=data_quality(engine, day), notes=notes)
