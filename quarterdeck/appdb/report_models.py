"""The app database's tables for reports: each weekly report built (its data as JSON, so a past
week renders again exactly as it was), and each delivery of a report to a person by a channel
with its outcome (see docs/reports.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
