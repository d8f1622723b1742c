"""An index that answers the totals of a renewals window from itself: `/api/renewals` and the
renewals page summed ARR at stake and expected ARR over every decision of the window by reading
each row (21,000 decisions of a 20,000-account company: 20 ms a look, most of a request), and
0.0025 s from an index holding the window's columns and the amounts.

Revision ID: 0013_forecast_window_index
Revises: 0011_forecast_period_sd
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision: str = "0013_forecast_window_index"
down_revision: str | None = "0011_forecast_period_sd"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ["as_of", "renewal_date", "owner_email", "segment", "arr_at_stake", "expected_arr"]


def upgrade() -> None:
    op.create_index(op.f("ix_forecast_decisions_" + "_".join(COLUMNS)), "forecast_decisions",
                    COLUMNS)


def downgrade() -> None:
    op.drop_index(op.f("ix_forecast_decisions_" + "_".join(COLUMNS)),
                  table_name="forecast_decisions")
