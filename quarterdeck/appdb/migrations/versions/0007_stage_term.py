"""Each published stage row keeps the account's term, so renewal lists can leave out
month-to-month customers.

Revision ID: 0007_stage_term
Revises: 0006_account_notes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007_stage_term"
down_revision: str | None = "0006_account_notes"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("lifecycle_stages") as batch:
        batch.add_column(sa.Column("term_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lifecycle_stages") as batch:
        batch.drop_column("term_months")
