"""Running the book: lifecycle stages by day, alerts and their history, playbook runs,
tasks and the team.

Revision ID: 0005_operations
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_operations"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("dedup_key", sa.String(length=500), nullable=False),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("fired_on", sa.Date(), nullable=False),
        sa.Column("last_seen_on", sa.Date(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_changed_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=320), nullable=False),
        sa.Column("acknowledged_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedup_key", "fired_on", name=op.f("uq_alerts_dedup_key_fired_on")),
    )
    op.create_index(op.f("ix_alerts_account_id"), "alerts", ["account_id"], unique=False)
    op.create_index(op.f("ix_alerts_fired_on"), "alerts", ["fired_on"], unique=False)
    op.create_index(
        op.f("ix_alerts_state_owner_email"), "alerts", ["state", "owner_email"], unique=False
    )
    op.create_table(
        "lifecycle_stages",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=False),
        sa.Column("stage_rule", sa.Text(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("cs_segment", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("arr", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("customer_since", sa.Date(), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("health_band", sa.String(length=10), nullable=True),
        sa.Column("churn_probability", sa.Float(), nullable=True),
        sa.Column("onboarding_complete", sa.Boolean(), nullable=True),
        sa.Column("onboarding_completed_on", sa.Date(), nullable=True),
        sa.Column("onboarding_on_time", sa.Boolean(), nullable=True),
        sa.Column("first_value_on", sa.Date(), nullable=True),
        sa.Column("time_to_value_days", sa.Integer(), nullable=True),
        sa.Column("last_qbr_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("as_of", "account_id", name=op.f("pk_lifecycle_stages")),
    )
    op.create_index(
        op.f("ix_lifecycle_stages_as_of_owner_email"),
        "lifecycle_stages",
        ["as_of", "owner_email"],
        unique=False,
    )
    op.create_index(
        op.f("ix_lifecycle_stages_as_of_stage"),
        "lifecycle_stages",
        ["as_of", "stage"],
        unique=False,
    )
    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("trigger_key", sa.String(length=500), nullable=False),
        sa.Column("anchor_date", sa.Date(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("started_by", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_runs")),
        sa.UniqueConstraint(
            "playbook",
            "account_id",
            "trigger_key",
            name=op.f("uq_playbook_runs_playbook_account_id_trigger_key"),
        ),
    )
    op.create_index(
        op.f("ix_playbook_runs_account_id"), "playbook_runs", ["account_id"], unique=False
    )
    op.create_table(
        "team_members",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("manager_email", sa.String(length=320), nullable=True),
        sa.Column("capacity_accounts", sa.Integer(), nullable=True),
        sa.Column("capacity_arr", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_team_members")),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIMESTAMP, nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_events_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("expected_outcome", sa.Text(), nullable=True),
        sa.Column("done_when", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("closed_by", sa.String(length=320), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_tasks_run_id_playbook_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("run_id", "key", name=op.f("uq_tasks_run_id_key")),
    )
    op.create_index(op.f("ix_tasks_account_id"), "tasks", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_tasks_owner_email_state"), "tasks", ["owner_email", "state"], unique=False
    )
    op.create_index(op.f("ix_tasks_run_id"), "tasks", ["run_id"], unique=False)
    op.create_index(op.f("ix_tasks_state_due_on"), "tasks", ["state", "due_on"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tasks_state_due_on"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_run_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_owner_email_state"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_account_id"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_alert_events_alert_id"), table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("team_members")
    op.drop_index(op.f("ix_playbook_runs_account_id"), table_name="playbook_runs")
    op.drop_table("playbook_runs")
    op.drop_index(op.f("ix_lifecycle_stages_as_of_stage"), table_name="lifecycle_stages")
    op.drop_index(op.f("ix_lifecycle_stages_as_of_owner_email"), table_name="lifecycle_stages")
    op.drop_table("lifecycle_stages")
    op.drop_index(op.f("ix_alerts_state_owner_email"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_fired_on"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_account_id"), table_name="alerts")
    op.drop_table("alerts")
