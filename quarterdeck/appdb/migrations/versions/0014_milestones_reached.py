"""Each account's onboarding milestones and the day each was reached, published with its stage
(the lifecycle_stages export showed only whether onboarding was complete and the first value).

Revision ID: 0014_milestones_reached
Revises: 0013_forecast_window_index
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014_milestones_reached"
down_revision: str | None = "0013_forecast_window_index"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("lifecycle_stages", sa.Column("milestones_reached", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("lifecycle_stages", "milestones_reached")
