"""What the renewals page and `/api/renewals` read: the renewal forecast `quarterdeck run`
published for a day (`forecast_decisions`, `forecast_periods`), with each renewal's current
CSM call, its account's name and health band.

The calls are the ones in force now (`renewal_categories`), not those of the day the forecast
was published, so committed and best-case ARR move as soon as a CSM calls a renewal, and equal
`quarterdeck export forecast_periods --as-of DAY --grain quarter --horizon 180` (which reads
the calls in force) for the same day. Everything else is the published forecast as it stood.

Example: renewals(engine, RenewalFilters(horizon=90), owners=["ana@example.com"]).total
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from quarterdeck.appdb.data_versions import FORECAST, cached
from quarterdeck.appdb.forecast_models import ForecastDecision, ForecastPeriod, RenewalCategory
from quarterdeck.appdb.models import AccountSnapshot, HealthScore
from quarterdeck.appdb.operations_models import TeamMember
from quarterdeck.errors import QuarterdeckError
from quarterdeck.forecast.renewal_forecast import CATEGORIES, PUBLISHED_HORIZON_DAYS
from quarterdeck.metrics.periods import Period, period_of

DEFAULT_HORIZON_DAYS = 120
PER_PAGE = 100
MAX_PER_PAGE = 500
#: The category filter's value for renewals nobody has called.
NO_CALL = "none"
CATEGORY_LABELS = {"commit": "Commit", "best_case": "Best case", "at_risk": "At risk",
                   "churn_expected": "Churn expected"}
#: What `/api/renewals/periods` can break the forecast down by (as `forecast_periods`).
BREAKDOWNS = ("segment", "owner", "category", "term")
GRAINS = ("quarter", "month")
_LABELS = {"quarter": re.compile(r"^(\d{4})-Q([1-4])$"), "month": re.compile(r"^(\d{4})-(\d\d)$")}
CENT = Decimal("0.01")
IDS_PER_QUERY = 500


class RenewalQueryError(QuarterdeckError):
    """A renewals filter that cannot be answered (an unknown period, a horizon beyond the
    published forecast, an unknown category)."""


class RenewalFilters(BaseModel):
    """Which renewal decisions a list shows, and which page of them."""

    as_of: date | None = Field(None, description="The forecast published on this day, or the "
                               "newest one before it; the latest by default.")
    horizon: int | None = Field(None, ge=1, le=PUBLISHED_HORIZON_DAYS, description=(
        f"Renewals due within this many days of the forecast's day ({DEFAULT_HORIZON_DAYS} by "
        f"default; with a period, the whole published horizon of {PUBLISHED_HORIZON_DAYS})."))
    owner: str | None = Field(None, max_length=320, description="Only this CSM's (email).")
    segment: str | None = Field(None, max_length=100, description="Only this segment.")
    category: str | None = Field(None, max_length=20, description=(
        f"Only renewals with this current call: {', '.join(CATEGORIES)}, or '{NO_CALL}' for "
        "renewals nobody has called."))
    period: str | None = Field(None, max_length=10, description="Only renewals due in this "
                               "calendar quarter (2026-Q4) or month (2026-11).")
    limit: int = Field(PER_PAGE, ge=1, le=MAX_PER_PAGE)
    offset: int = Field(0, ge=0)


class Renewal(BaseModel):
    """One upcoming renewal decision as forecast on the day, with its current call. Money is
    in the list's `currency` (the workspace base currency)."""

    renewal_id: str = Field(description="account_id@renewal_date: the key of its call.")
    account_id: str
    name: str | None
    owner_email: str | None
    segment: str | None
    term: str
    renewal_date: date
    days_out: int
    arr_at_stake: Decimal
    p_renew: float = Field(description="Probability it renews if the decision is reached.")
    p_reached: float = Field(description="Probability the account is still there to decide.")
    expected_arr: Decimal = Field(description="arr_at_stake × p_reached × p_renew.")
    cancellation_known: bool
    category: str | None = Field(description="The CSM's call in force now.")
    category_note: str | None
    category_set_by: str | None
    category_set_at: datetime | None
    health_band: str | None
    health_score: float | None


class RenewalList(BaseModel):
    """A page of renewal decisions, soonest first, and the totals of every match."""

    as_of: date | None = Field(description="The day of the forecast shown.")
    currency: str | None
    window_start: date | None = Field(description="First renewal date included.")
    window_end: date | None = Field(description="Last renewal date included.")
    period: str | None
    total: int = Field(description="Renewals matching the filters, on every page.")
    arr_at_stake: Decimal = Field(description="Their ARR at stake, all pages.")
    expected_arr: Decimal = Field(description="Their expected renewed ARR, all pages.")
    limit: int
    offset: int
    renewals: list[Renewal]


class PeriodForecast(BaseModel):
    """The forecast of one period (and group) with its 90% interval, as `forecast_periods`."""

    period: str
    period_start: date
    period_end: date
    covered_to: date = Field(description="The forecast covers renewals due up to this day.")
    group: str | None = Field(description="The value of the `by` dimension, if any.")
    renewals: int
    arr_at_stake: Decimal
    expected_arr_at_stake: Decimal
    expected_arr: Decimal
    low_arr: Decimal
    high_arr: Decimal
    interval_method: str
    committed_arr: Decimal = Field(description="ARR at stake of the renewals called commit.")
    best_case_arr: Decimal = Field(description="Of those called commit or best_case.")
    categorised: int
    expected_gross_renewal_rate: float | None = Field(description="Published per period "
                                                      "only: null in a breakdown.")
    expected_net_renewal_rate: float | None


class PeriodList(BaseModel):
    as_of: date | None
    currency: str | None
    grain: str
    by: str | None
    horizon_days: int = PUBLISHED_HORIZON_DAYS
    periods: list[PeriodForecast]


def forecast_day(engine: Engine, as_of: date | None = None) -> date | None:
    """The newest day a forecast was published on or before `as_of` (any day when None)."""
    query = select(func.max(ForecastDecision.as_of))
    if as_of is not None:
        query = query.where(ForecastDecision.as_of <= as_of)
    with engine.connect() as conn:
        return conn.scalar(query)


def parse_period(label: str) -> Period:
    """A calendar quarter (2026-Q4) or month (2026-11) from its label.

    >>> parse_period("2026-Q4").end
    datetime.date(2026, 12, 31)
    """
    for grain, pattern in _LABELS.items():
        if match := pattern.match(label):
            year, part = int(match[1]), int(match[2])
            month = (part - 1) * 3 + 1 if grain == "quarter" else part
            if 1 <= month <= 12:
                return period_of(date(year, month, 1), grain)
    raise RenewalQueryError(f"period {label!r} is neither a quarter (2026-Q4) nor a month "
                            "(2026-11)")


def check_category(category: str | None) -> str | None:
    """A category filter, refused with the known ones."""
    if category not in (None, NO_CALL, *CATEGORIES):
        raise RenewalQueryError(f"unknown category {category!r}; use "
                                f"{', '.join(CATEGORIES)} or {NO_CALL}")
    return category


def _latest(conn: Any, column: Any, day: date) -> date | None:
    return conn.scalar(select(func.max(column)).where(column <= day))


def window(day: date, filters: RenewalFilters) -> tuple[date, date, Period | None]:
    """The renewal dates a filter covers: (first, last, period)."""
    period = parse_period(filters.period) if filters.period else None
    horizon = filters.horizon or (PUBLISHED_HORIZON_DAYS if period else DEFAULT_HORIZON_DAYS)
    first, last = day + timedelta(days=1), day + timedelta(days=horizon)
    if period is not None:
        first, last = max(first, period.start), min(last, period.end)
    return first, last, period


def renewals(engine: Engine, filters: RenewalFilters,
             owners: list[str] | None = None) -> RenewalList:
    """The renewal decisions of the forecast of `filters.as_of` (the latest by default) in the
    window, owned by `owners` (everyone's when None) and matching the filters, soonest first."""
    check_category(filters.category)
    day = forecast_day(engine, filters.as_of)
    empty = RenewalList(as_of=day, currency=None, window_start=None, window_end=None,
                        period=filters.period, total=0, arr_at_stake=Decimal(0),
                        expected_arr=Decimal(0), limit=filters.limit, offset=filters.offset,
                        renewals=[])
    if day is None:
        return empty
    first, last, period = window(day, filters)
    d, c = ForecastDecision, RenewalCategory
    with engine.connect() as conn:
        snap_day = _latest(conn, AccountSnapshot.as_of, day)
        health_day = _latest(conn, HealthScore.as_of, day)
        s = select(AccountSnapshot).where(AccountSnapshot.as_of == snap_day).subquery()
        h = select(HealthScore).where(HealthScore.as_of == health_day).subquery()
        joined = (d.__table__.outerjoin(c.__table__, c.renewal_id == d.renewal_id)
                  .outerjoin(s, s.c.account_id == d.account_id)
                  .outerjoin(h, h.c.account_id == d.account_id))
        where = _conditions(day, first, last, filters, owners)
        # The totals need the call only to filter by it, never the account's name or health.
        counted = (d.__table__.outerjoin(c.__table__, c.renewal_id == d.renewal_id)
                   if filters.category else d.__table__)
        total, arr, expected = conn.execute(
            select(func.count(), func.coalesce(func.sum(d.arr_at_stake), 0),
                   func.coalesce(func.sum(d.expected_arr), 0)).select_from(counted)
            .where(*where)).one()
        rows = conn.execute(
            select(d, c.category.label("call"), c.note, c.set_by, c.set_at, s.c.name,
                   h.c.band, h.c.score).select_from(joined).where(*where)
            .order_by(d.renewal_date, d.account_id).limit(filters.limit)
            .offset(filters.offset)).mappings().all()
        currency = conn.scalar(select(AccountSnapshot.currency)
                               .where(AccountSnapshot.as_of == snap_day).limit(1))
    return empty.model_copy(update={
        "currency": currency, "window_start": first, "window_end": last,
        "period": period.label if period else None, "total": total,
        "arr_at_stake": Decimal(arr).quantize(CENT), "expected_arr": Decimal(expected)
        .quantize(CENT), "renewals": [_renewal(r, day) for r in rows]})


def _conditions(day: date, first: date, last: date, filters: RenewalFilters,
                owners: list[str] | None) -> list[ColumnElement[bool]]:
    d, c = ForecastDecision, RenewalCategory
    where = [d.as_of == day, d.renewal_date >= first, d.renewal_date <= last]
    if owners is not None:
        where.append(func.lower(d.owner_email).in_([o.lower() for o in owners]))
    if filters.segment:
        where.append(d.segment == filters.segment)
    if filters.category == NO_CALL:
        where.append(c.category.is_(None))
    elif filters.category:
        where.append(c.category == filters.category)
    return where


def _renewal(r: Any, day: date) -> Renewal:
    return Renewal(
        renewal_id=r["renewal_id"], account_id=r["account_id"], name=r["name"],
        owner_email=r["owner_email"], segment=r["segment"], term=r["term"],
        renewal_date=r["renewal_date"], days_out=(r["renewal_date"] - day).days,
        arr_at_stake=Decimal(r["arr_at_stake"]).quantize(CENT), p_renew=r["p_renew"],
        p_reached=r["p_reached"], expected_arr=Decimal(r["expected_arr"]).quantize(CENT),
        cancellation_known=r["cancellation_known"], category=r["call"],
        category_note=r["note"], category_set_by=r["set_by"], category_set_at=r["set_at"],
        health_band=r["band"], health_score=r["score"])


def filter_options(engine: Engine, day: date | None) -> dict[str, list[str]]:
    """The owners and segments of the day's forecast, for the page's filters."""
    if day is None:
        return {"owners": [], "segments": []}
    d = ForecastDecision

    def read() -> dict[str, list[str]]:
        with engine.connect() as conn:
            owners = conn.scalars(select(d.owner_email).distinct().where(
                d.as_of == day, d.owner_email.is_not(None)).order_by(d.owner_email)).all()
            segments = conn.scalars(select(d.segment).distinct().where(
                d.as_of == day, d.segment.is_not(None)).order_by(d.segment)).all()
        return {"owners": list(owners), "segments": list(segments)}

    # The same for every look until the next publish (37,000 decisions a day walked: 12 ms).
    return copy.deepcopy(cached(engine, ("renewal filter options", day), (FORECAST,), read))


def renewal_periods(engine: Engine, as_of: date | None = None, *, grain: str = "quarter",
                    by: str | None = None) -> PeriodList:
    """The forecast of the day by period of `grain` (quarter or month), optionally broken
    down `by` segment, owner, category or term, each with its 90% interval; committed and
    best-case ARR from the calls in force."""
    if grain not in GRAINS:
        raise RenewalQueryError(f"unknown grain {grain!r}; use {', '.join(GRAINS)}")
    if by is not None and by not in BREAKDOWNS:
        raise RenewalQueryError(f"cannot break the forecast down by {by!r}; use "
                                f"{', '.join(BREAKDOWNS)}")
    day = forecast_day(engine, as_of)
    out = PeriodList(as_of=day, currency=None, grain=grain, by=by, periods=[])
    if day is None:
        return out
    with engine.connect() as conn:
        out.currency = conn.scalar(select(AccountSnapshot.currency).where(
            AccountSnapshot.as_of == _latest(conn, AccountSnapshot.as_of, day)).limit(1))
    out.periods = (_published(engine, day, grain) if by is None
                   else _breakdown(engine, day, grain, by))
    return out


def _calls_by_period(engine: Engine, day: date, grain: str) -> dict[str, dict[str, Any]]:
    """Per period of the day's decisions: committed and best-case ARR and the count of
    renewals called, from the calls in force."""
    d, c = ForecastDecision, RenewalCategory
    # From the calls to the day's decisions by key: a join lets SQLite walk every decision of
    # the day (37,000 at 20,000 accounts, 40 ms) to find the few hundred called.
    rows = []
    with engine.connect() as conn:
        calls = dict(conn.execute(select(c.renewal_id, c.category).where(
            c.category.is_not(None), c.renewal_date > day)).all())
        ids = sorted(calls)
        for start in range(0, len(ids), IDS_PER_QUERY):
            rows += [(when, arr, calls[rid]) for rid, when, arr in conn.execute(
                select(d.renewal_id, d.renewal_date, d.arr_at_stake).where(
                    d.as_of == day, d.renewal_id.in_(ids[start:start + IDS_PER_QUERY])))]
    out: dict[str, dict[str, Any]] = {}
    for when, arr, call in rows:
        found = out.setdefault(period_of(when, grain).label, {
            "committed_arr": Decimal(0), "best_case_arr": Decimal(0), "categorised": 0})
        found["categorised"] += 1
        if call in ("commit", "best_case"):
            found["best_case_arr"] += Decimal(arr)
        if call == "commit":
            found["committed_arr"] += Decimal(arr)
    return out


def _covered(day: date, end: date) -> date:
    return min(end, day + timedelta(days=PUBLISHED_HORIZON_DAYS))


def _published(engine: Engine, day: date, grain: str) -> list[PeriodForecast]:
    p = ForecastPeriod
    calls = _calls_by_period(engine, day, grain)
    with engine.connect() as conn:
        rows = conn.execute(select(p).where(p.as_of == day, p.grain == grain)
                            .order_by(p.period_start)).mappings().all()
    none = {"committed_arr": Decimal(0), "best_case_arr": Decimal(0), "categorised": 0}
    return [PeriodForecast(
        period=r["period"], period_start=r["period_start"], period_end=r["period_end"],
        covered_to=_covered(day, r["period_end"]), group=None, renewals=r["renewals"],
        interval_method=r["interval_method"],
        **{k: Decimal(r[k]).quantize(CENT) for k in (
            "arr_at_stake", "expected_arr_at_stake", "expected_arr", "low_arr", "high_arr")},
        **{k: Decimal(v).quantize(CENT) if k != "categorised" else v
           for k, v in calls.get(r["period"], none).items()},
        expected_gross_renewal_rate=r["expected_gross_renewal_rate"],
        expected_net_renewal_rate=r["expected_net_renewal_rate"]) for r in rows]


def _breakdown(engine: Engine, day: date, grain: str, by: str) -> list[PeriodForecast]:
    """The engine's own roll-up over the published decisions, so each group's interval is
    the exact one `quarterdeck export forecast_periods --by` computes. The renewal-rate
    factors are not published per decision, so a group's rates are left out."""
    from quarterdeck.forecast.forecast_periods import forecast_periods

    d, c = ForecastDecision, RenewalCategory
    with engine.connect() as conn:
        rows = conn.execute(select(d, c.category.label("call")).outerjoin(
            c, c.renewal_id == d.renewal_id).where(d.as_of == day)
            .order_by(d.account_id, d.renewal_date)).mappings().all()
    if not rows:
        return []
    numbers: dict[str, int] = {}
    decisions = []
    for r in rows:  # an account's decisions in date order: 1, 2, … as the forecast numbers them
        numbers[r["account_id"]] = numbers.get(r["account_id"], 0) + 1
        decisions.append({
            "account_id": r["account_id"], "renewal_date": r["renewal_date"],
            "decision_number": numbers[r["account_id"]], "category": r["call"],
            "cancellation_known": r["cancellation_known"], "segment": r["segment"],
            "owner_email": r["owner_email"], "term": r["term"],
            "arr_at_stake": float(r["arr_at_stake"]), "p_renew": r["p_renew"],
            "p_reached": r["p_reached"], "gross_factor": 1.0, "net_factor": 1.0})
    from quarterdeck.appdb.forecast_exports import published_period_sd

    table = forecast_periods(pa.Table.from_pylist(decisions), grain=grain, by=(by,),
                             period_sd=published_period_sd(engine, day))
    return [PeriodForecast(
        period=r["period"], period_start=r["period_start"], period_end=r["period_end"],
        covered_to=_covered(day, r["period_end"]), group=r[by], renewals=r["renewals"],
        interval_method=r["interval_method"], categorised=r["categorised"],
        **{k: Decimal(str(r[k])).quantize(CENT) for k in (
            "arr_at_stake", "expected_arr_at_stake", "expected_arr", "low_arr", "high_arr",
            "committed_arr", "best_case_arr")},
        expected_gross_renewal_rate=None, expected_net_renewal_rate=None)
        for r in table.to_pylist()]


def renewal_owner(engine: Engine, renewal_id: str) -> tuple[str, str | None, str | None] | None:
    """(account_id, owner, owner's manager) of a renewal, from the newest forecast holding it
    (as `set_category` reads it), or None for a renewal never forecast."""
    d = ForecastDecision
    with engine.connect() as conn:
        found = conn.execute(select(d.account_id, d.owner_email).where(
            d.renewal_id == renewal_id).order_by(d.as_of.desc()).limit(1)).first()
        if found is None:
            return None
        manager = conn.scalar(select(TeamMember.manager_email).where(
            func.lower(TeamMember.email) == (found.owner_email or "").lower()))
    return found.account_id, found.owner_email, manager

