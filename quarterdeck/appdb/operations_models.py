"""The app database's tables for running the book: lifecycle stages by day, alerts and their
history, playbook runs and their tasks, and the team as published (see docs/operations.md).

Stages are published per as-of date like the account snapshot; alerts, playbook runs and tasks
are state that lives on between runs and is changed by people (acknowledge, close) and by the
pipeline (open, auto-resolve, start, cancel), each change recorded with who and when.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from quarterdeck.appdb.models import Base, Money, UtcDateTime, utcnow

#: Alert states: open → acknowledged → resolved; resolved by the pipeline when the condition
#: clears (auto_resolved).
ALERT_STATES = ("open", "acknowledged", "resolved", "auto_resolved")
LIVE_ALERT_STATES = ("open", "acknowledged")
#: Task states as stored; "overdue" is an open task past its due date on the day asked about.
TASK_STATES = ("open", "done", "skipped")
RUN_STATES = ("active", "completed", "cancelled")


def task_status(state: str, due_on: date, closed_on: date | None, as_of: date) -> str:
    """A task's status on `as_of`: its state once closed on or before that day (done or
    skipped), else overdue when due before it, else open."""
    if state != "open" and closed_on is not None and closed_on <= as_of:
        return state
    return "overdue" if due_on < as_of else "open"
PIPELINE = "quarterdeck"  # the actor of changes the pipeline makes


class LifecycleStage(Base):
    """An account's lifecycle stage on `as_of`, the rule that placed it there, the day it
    entered the stage (the first of the consecutive published days in it) and the facts the
    operations metrics read."""

    __tablename__ = "lifecycle_stages"
    # The last: an account's rows by its id (a note or a playbook started on it).
    __table_args__ = (Index(None, "as_of", "stage"), Index(None, "as_of", "owner_email"),
                      Index(None, "account_id", "as_of"))

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    stage: Mapped[str] = mapped_column(String(100))
    stage_rule: Mapped[str] = mapped_column(Text)
    entered_on: Mapped[date] = mapped_column(Date)
    cs_segment: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    segment: Mapped[str | None] = mapped_column(String(100))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    arr: Mapped[Decimal] = mapped_column(Money)
    customer_since: Mapped[date | None] = mapped_column(Date)
    renewal_date: Mapped[date | None] = mapped_column(Date)
    term_months: Mapped[int | None] = mapped_column(Integer)
    health_band: Mapped[str | None] = mapped_column(String(10))
    churn_probability: Mapped[float | None] = mapped_column(Float)
    onboarding_complete: Mapped[bool | None] = mapped_column(Boolean)
    onboarding_completed_on: Mapped[date | None] = mapped_column(Date)
    onboarding_on_time: Mapped[bool | None] = mapped_column(Boolean)
    first_value_on: Mapped[date | None] = mapped_column(Date)
    time_to_value_days: Mapped[int | None] = mapped_column(Integer)
    last_qbr_on: Mapped[date | None] = mapped_column(Date)
    # JSON: each onboarding milestone of the workspace → the day it was reached (or null).
    milestones_reached: Mapped[str | None] = mapped_column(Text)


class TeamMember(Base):
    """A person of the team file as of the latest run: role, manager and capacity."""

    __tablename__ = "team_members"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    manager_email: Mapped[str | None] = mapped_column(String(320))
    capacity_accounts: Mapped[int | None] = mapped_column(Integer)
    capacity_arr: Mapped[Decimal | None] = mapped_column(Money)


class Alert(Base):
    """A signal that fired for an account: its evidence, owner and state."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("dedup_key", "fired_on"),
        Index(None, "state", "owner_email"),
        Index(None, "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(200))
    dedup_key: Mapped[str] = mapped_column(String(500))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    fired_on: Mapped[date] = mapped_column(Date, index=True)
    last_seen_on: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(Text)
    evidence: Mapped[Any] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    state_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state_changed_by: Mapped[str] = mapped_column(String(320))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class AlertEvent(Base):
    """One change of an alert's state: who, when, from what to what, and why."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"),
                                          index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    on: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(320))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class PlaybookRun(Base):
    """A playbook started for an account by one trigger; never twice for the same trigger."""

    __tablename__ = "playbook_runs"
    __table_args__ = (UniqueConstraint("playbook", "account_id", "trigger_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    playbook: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    trigger_key: Mapped[str] = mapped_column(String(500))
    anchor_date: Mapped[date] = mapped_column(Date)
    started_on: Mapped[date] = mapped_column(Date)
    started_by: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(20))
    ended_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Task(Base):
    """A task of a playbook run, due on a date, owned by one person."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("run_id", "key"),
        Index(None, "owner_email", "state"),
        Index(None, "state", "due_on"),
        # A page of tasks soonest due first, its status read from the index alone.
        Index(None, "due_on", "id", "state", "closed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("playbook_runs.id", ondelete="CASCADE"),
                                        index=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    due_on: Mapped[date] = mapped_column(Date)
    depends_on: Mapped[Any] = mapped_column(JSON)
    expected_outcome: Mapped[str | None] = mapped_column(Text)
    done_when: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(320))
    outcome_note: Mapped[str | None] = mapped_column(Text)


class AccountNote(Base):
    """A note, meeting or call a person logged on an account."""

    __tablename__ = "account_notes"
    __table_args__ = (Index(None, "account_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # note, meeting or call
    body: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
