"""The app database's tables for reports: each weekly report built (its data as JSON, so a past
week renders again exactly as it was), each delivery of a report to a person by a channel
with its outcome, and the QBR decks built for accounts, kept so the account page offers them
(see docs/reports.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from quarterdeck.appdb.models import Base, UtcDateTime, utcnow

#: A delivery's outcome: sent, or failed after every retry (with the last error).
DELIVERY_STATUSES = ("sent", "failed")


class StoredReport(Base):
    """A report built for an as-of date; building the same report again replaces its data."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    as_of: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    content: Mapped[Any] = mapped_column(JSON)


class ReportDelivery(Base):
    """One report sent (or not) to one recipient through one channel."""

    __tablename__ = "report_deliveries"
    __table_args__ = (Index(None, "schedule", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    schedule: Mapped[str] = mapped_column(String(100))
    as_of: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QbrDeck(Base):
    """A QBR deck built for an account as of a day (the .pptx itself); building the same
    account and day again replaces it."""

    __tablename__ = "qbr_decks"
    __table_args__ = (UniqueConstraint("account_id", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(320))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

