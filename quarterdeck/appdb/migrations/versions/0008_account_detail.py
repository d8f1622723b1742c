"""What the account page shows beyond the snapshot: timeline, contacts, subscriptions,
opportunities and weekly usage, as of the latest run.

Revision ID: 0008_account_detail
Revises: 0007_stage_term
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_account_detail"
down_revision: str | None = "0007_stage_term"
branch_labels: str | None = None
depends_on: str | None = None

MONEY = sa.Numeric(18, 2)
UTC_TIMESTAMP = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "account_timeline", _id(),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("occurred_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("related_on", sa.Date(), nullable=True),
        sa.Column("ref_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_timeline"),
    )
    op.create_index("ix_account_timeline_account", "account_timeline",
                    ["account_id", "occurred_at"])
    op.create_table(
        "account_contacts", _id(),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("contact_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("persona", sa.String(40), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_contacts"),
    )
    op.create_index("ix_account_contacts_account", "account_contacts", ["account_id"])
    op.create_table(
        "account_subscriptions", _id(),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("subscription_id", sa.String(200), nullable=False),
        sa.Column("plan", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Numeric(18, 6), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("interval_months", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("contract_id", sa.String(200), nullable=True),
        sa.Column("auto_renew", sa.Boolean(), nullable=True),
        sa.Column("trial", sa.Boolean(), nullable=False),
        sa.Column("canceled_on", sa.Date(), nullable=True),
        sa.Column("mrr_local", MONEY, nullable=False),
        sa.Column("mrr", MONEY, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_subscriptions"),
    )
    op.create_index("ix_account_subscriptions_account", "account_subscriptions", ["account_id"])
    op.create_table(
        "account_opportunities", _id(),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("opportunity_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_arr", MONEY, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("stage", sa.String(200), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_opportunities"),
    )
    op.create_index("ix_account_opportunities_account", "account_opportunities",
                    ["account_id"])
    op.create_table(
        "account_usage_weekly",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("avg_daily_active_users", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "week_start", name="pk_account_usage_weekly"),
    )


def downgrade() -> None:
    for table in ("account_usage_weekly", "account_opportunities", "account_subscriptions",
                  "account_contacts", "account_timeline"):
        op.drop_table(table)
