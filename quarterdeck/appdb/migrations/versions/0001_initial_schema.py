"""Initial schema: users, API tokens, pipeline runs, account snapshots, ARR history, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types, so later model changes never rewrite history.
UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.Numeric(precision=18, scale=2)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'manager', 'ops', 'csm', 'viewer')",
            name=op.f("ck_users_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_used_at", UTC_TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("finished_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("account_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    op.create_index(op.f("ix_pipeline_runs_as_of"), "pipeline_runs", ["as_of"])

    op.create_table(
        "account_snapshots",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("domain", sa.String(500), nullable=True),
        sa.Column("segment", sa.String(100), nullable=True),
        sa.Column("tier", sa.String(100), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("industry", sa.String(200), nullable=True),
        sa.Column("owner_email", sa.String(320), nullable=True),
        sa.Column("parent_account_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(50), nullable=True),
        sa.Column("mrr", MONEY, nullable=False),
        sa.Column("arr", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer_since", sa.Date(), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("events_30d", sa.Integer(), nullable=False),
        sa.Column("active_users_30d", sa.Integer(), nullable=False),
        sa.Column("open_tickets", sa.Integer(), nullable=False),
        sa.Column("tickets_30d", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("as_of", "account_id", name=op.f("pk_account_snapshots")),
    )
    op.create_index(
        op.f("ix_account_snapshots_as_of_owner_email"),
        "account_snapshots",
        ["as_of", "owner_email"],
    )
    op.create_index(
        op.f("ix_account_snapshots_as_of_segment"), "account_snapshots", ["as_of", "segment"]
    )

    op.create_table(
        "account_arr_history",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("arr", MONEY, nullable=False),
        sa.PrimaryKeyConstraint(
            "as_of", "account_id", "month", name=op.f("pk_account_arr_history")
        ),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("account_arr_history")
    op.drop_table("account_snapshots")
    op.drop_table("pipeline_runs")
    op.drop_table("api_tokens")
    op.drop_table("users")
