"""Each published forecast period keeps the period error its interval carries.

Revision ID: 0011_forecast_period_sd
Revises: 0009_qbr_decks
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011_forecast_period_sd"
down_revision: str | None = "0009_qbr_decks"
branch_labels: str | None = None
depends_on: str | None = "0005_forecast"  # the table it alters


def upgrade() -> None:
    with op.batch_alter_table("forecast_periods") as batch:
        batch.add_column(sa.Column("period_sd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecast_periods") as batch:
        batch.drop_column("period_sd")
