"""Account snapshots carry the owner's name from the team file.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_snapshots") as batch:
        batch.add_column(sa.Column("owner_name", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account_snapshots") as batch:
        batch.drop_column("owner_name")
