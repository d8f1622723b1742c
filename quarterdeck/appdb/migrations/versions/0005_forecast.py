"""Renewal forecast: the CSM's call per renewal and its history, the forecast by day.

Revision ID: 0005_forecast
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_forecast"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.Numeric(18, 2)


def upgrade() -> None:
    op.create_table(
        "renewal_categories",
        sa.Column("renewal_id", sa.String(length=300), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(length=320), nullable=False),
        sa.Column("set_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("renewal_id", name=op.f("pk_renewal_categories")),
    )
    op.create_index(op.f("ix_renewal_categories_account_id"), "renewal_categories",
                    ["account_id"])
    op.create_table(
        "renewal_category_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("renewal_id", sa.String(length=300), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("before", sa.String(length=20), nullable=True),
        sa.Column("after", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=320), nullable=False),
        sa.Column("changed_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_category_changes")),
    )
    op.create_index(op.f("ix_renewal_category_changes_renewal_id"),
                    "renewal_category_changes", ["renewal_id"])
    op.create_table(
        "forecast_decisions",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("renewal_id", sa.String(length=300), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("arr_at_stake", MONEY, nullable=False),
        sa.Column("cancellation_known", sa.Boolean(), nullable=False),
        sa.Column("p_renew", sa.Float(), nullable=False),
        sa.Column("p_reached", sa.Float(), nullable=False),
        sa.Column("expected_arr", MONEY, nullable=False),
        sa.Column("model_days_before", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("as_of", "renewal_id", name=op.f("pk_forecast_decisions")),
    )
    op.create_index(op.f("ix_forecast_decisions_as_of_renewal_date"), "forecast_decisions",
                    ["as_of", "renewal_date"])
    op.create_index(op.f("ix_forecast_decisions_as_of_owner_email"), "forecast_decisions",
                    ["as_of", "owner_email"])
    op.create_table(
        "forecast_periods",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("grain", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("arr_at_stake", MONEY, nullable=False),
        sa.Column("expected_arr_at_stake", MONEY, nullable=False),
        sa.Column("expected_arr", MONEY, nullable=False),
        sa.Column("low_arr", MONEY, nullable=False),
        sa.Column("high_arr", MONEY, nullable=False),
        sa.Column("interval_method", sa.String(length=20), nullable=False),
        sa.Column("committed_arr", MONEY, nullable=False),
        sa.Column("best_case_arr", MONEY, nullable=False),
        sa.Column("expected_gross_renewal_rate", sa.Float(), nullable=True),
        sa.Column("expected_net_renewal_rate", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("as_of", "grain", "period", name=op.f("pk_forecast_periods")),
    )


def downgrade() -> None:
    op.drop_table("forecast_periods")
    op.drop_index(op.f("ix_forecast_decisions_as_of_owner_email"), table_name="forecast_decisions")
    op.drop_index(op.f("ix_forecast_decisions_as_of_renewal_date"), table_name="forecast_decisions")
    op.drop_table("forecast_decisions")
    op.drop_index(op.f("ix_renewal_category_changes_renewal_id"),
                  table_name="renewal_category_changes")
    op.drop_table("renewal_category_changes")
    op.drop_index(op.f("ix_renewal_categories_account_id"), table_name="renewal_categories")
    op.drop_table("renewal_categories")
