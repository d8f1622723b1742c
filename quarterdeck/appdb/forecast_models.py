"""The app database's tables for the renewal forecast: the CSM's call on each renewal and its
history, and the forecast as it stood each day (see docs/forecast.md).

A call (commit, best_case, at_risk, churn_expected) is state kept per renewal (renewal_id =
account_id@renewal_date) and changed by people, each change recorded with who, when, before,
after and a note. The forecast snapshots are published per as-of date by `quarterdeck run`,
like the account snapshot, and replaced whole when a day is re-run.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quarterdeck.appdb.models import Base, Money, UtcDateTime, utcnow


class RenewalCategory(Base):
    """The CSM's current call on one renewal decision."""

    __tablename__ = "renewal_categories"

    renewal_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    renewal_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RenewalCategoryChange(Base):
    """One change of a call: before (NULL the first time) → after (NULL when cleared)."""

    __tablename__ = "renewal_category_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    renewal_id: Mapped[str] = mapped_column(String(300), index=True)
    account_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(String(20))
    after: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(320))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ForecastDecision(Base):
    """One upcoming renewal decision as the forecast of `as_of` saw it."""

    __tablename__ = "forecast_decisions"
    __table_args__ = (Index(None, "as_of", "renewal_date"), Index(None, "as_of", "owner_email"),
                      # The window's totals are read from the index alone.
                      Index(None, "as_of", "renewal_date", "owner_email", "segment",
                            "arr_at_stake", "expected_arr"))

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    renewal_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str | None] = mapped_column(String(100))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    term: Mapped[str] = mapped_column(String(20))
    term_months: Mapped[int | None] = mapped_column(Integer)
    renewal_date: Mapped[date] = mapped_column(Date)
    arr_at_stake: Mapped[Decimal] = mapped_column(Money)
    cancellation_known: Mapped[bool] = mapped_column(Boolean)
    p_renew: Mapped[float] = mapped_column(Float)
    p_reached: Mapped[float] = mapped_column(Float)
    expected_arr: Mapped[Decimal] = mapped_column(Money)
    model_days_before: Mapped[int] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(20))


class ForecastPeriod(Base):
    """The forecast of `as_of` for one period (by month and quarter) with its interval."""

    __tablename__ = "forecast_periods"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    grain: Mapped[str] = mapped_column(String(20), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    renewals: Mapped[int] = mapped_column(Integer)
    arr_at_stake: Mapped[Decimal] = mapped_column(Money)
    expected_arr_at_stake: Mapped[Decimal] = mapped_column(Money)
    expected_arr: Mapped[Decimal] = mapped_column(Money)
    low_arr: Mapped[Decimal] = mapped_column(Money)
    high_arr: Mapped[Decimal] = mapped_column(Money)
    interval_method: Mapped[str] = mapped_column(String(20))
    committed_arr: Mapped[Decimal] = mapped_column(Money)
    best_case_arr: Mapped[Decimal] = mapped_column(Money)
    expected_gross_renewal_rate: Mapped[float | None] = mapped_column(Float)
    expected_net_renewal_rate: Mapped[float | None] = mapped_column(Float)
    # The period error τ the interval carries (0: outcome randomness alone).
    period_sd: Mapped[float | None] = mapped_column(Float, nullable=True)
