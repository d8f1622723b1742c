"""How many times each kind of app data has changed: what the web app's kept results are
checked against (see `quarterdeck.appdb.data_versions`).

Revision ID: 0010_data_versions
Revises: 0009_web_indexes
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010_data_versions"
down_revision: str | None = "0009_web_indexes"
branch_labels: str | None = None
depends_on: str | None = None

# As in quarterdeck.appdb.data_versions.NAMES when this migration was written.
NAMES = ("snapshot", "health", "quality", "stale_data", "account_detail", "book")


def upgrade() -> None:
    table = op.create_table(
        "data_versions",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_data_versions"),
    )
    op.bulk_insert(table, [{"name": name, "version": 0, "changed_at": None} for name in NAMES])


def downgrade() -> None:
    op.drop_table("data_versions")
