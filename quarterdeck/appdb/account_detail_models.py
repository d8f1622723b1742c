"""The app database's copy of what the account page shows beyond the snapshot: each account's
timeline, contacts, subscriptions, opportunities and weekly usage, as of the latest run.

Only the latest published day is kept (`publish_account_detail` brings the rows to that day,
writing only the rows that changed when it knows what it published last): the page shows the
latest snapshot, and a year of timeline for every account on every day would grow the database
by the size of the warehouse's activity tables each day. The day kept is
`AccountDetailPublished.as_of`; a row's own `as_of` is the day it was written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Float, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quarterdeck.appdb.models import Base, Money, UtcDateTime


class TimelineEntry(Base):
    """Something that happened with an account (see `warehouse.account_detail`)."""

    __tablename__ = "account_timeline"
    __table_args__ = (Index("ix_account_timeline_account", "account_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date)
    account_id: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    related_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ref_id: Mapped[str] = mapped_column(String(200))


class AccountContact(Base):
    """A person at a customer account, with their persona (champion, decision maker, …)."""

    __tablename__ = "account_contacts"
    __table_args__ = (Index("ix_account_contacts_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date)
    account_id: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    persona: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class AccountSubscription(Base):
    """A subscription line with its MRR (base currency) and status on the day."""

    __tablename__ = "account_subscriptions"
    __table_args__ = (Index("ix_account_subscriptions_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date)
    account_id: Mapped[str] = mapped_column(String(200))
    subscription_id: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    currency: Mapped[str] = mapped_column(String(3))
    interval_months: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    contract_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    auto_renew: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    trial: Mapped[bool] = mapped_column(Boolean)
    canceled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    mrr_local: Mapped[Decimal] = mapped_column(Money)
    mrr: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(20))


class AccountOpportunity(Base):
    """A renewal, expansion or new-business opportunity from the CRM."""

    __tablename__ = "account_opportunities"
    __table_args__ = (Index("ix_account_opportunities_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date)
    account_id: Mapped[str] = mapped_column(String(200))
    opportunity_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    amount_arr: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(200), nullable=True)
    close_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)


class AccountUsageWeek(Base):
    """An account's product usage in one week (Monday start)."""

    __tablename__ = "account_usage_weekly"

    as_of: Mapped[date] = mapped_column(Date)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    avg_daily_active_users: Mapped[float] = mapped_column(Float)


class AccountDetailPublished(Base):
    """The day whose account detail is kept, with the publish's token: the pipeline keeps a
    copy of what it published under the same token, and writes only the changes when the two
    agree (see `publish_account_detail`)."""

    __tablename__ = "account_detail_published"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


#: Each table and the columns a publish hands it, in order.
DETAIL_TABLES = (TimelineEntry, AccountContact, AccountSubscription, AccountOpportunity,
                 AccountUsageWeek)
