"""Reports built and their deliveries.

Revision ID: 0005_reports
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_reports"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("kind", "as_of", name=op.f("uq_reports_kind_as_of")),
    )
    op.create_index(op.f("ix_reports_as_of"), "reports", ["as_of"])
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_deliveries_report_id_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
    )
    op.create_index(op.f("ix_report_deliveries_report_id"), "report_deliveries",
                    ["report_id"])
    op.create_index(op.f("ix_report_deliveries_schedule_as_of"), "report_deliveries",
                    ["schedule", "as_of"])


def downgrade() -> None:
    op.drop_table("report_deliveries")
    op.drop_table("reports")
