"""The app database's table of revenue series: the figures of the monthly ARR bridge and of
trailing-12-month retention, by segment, as computed on each published day (see
`quarterdeck.appdb.publish_metrics` and docs/leadership.md).

One row is one cell of `quarterdeck export mrr_bridge` or `retention`: `metric` names the
export and its column ("mrr_bridge.new", "retention.nrr"), `segment` the row's segment ("all"
for the whole company), `period` its month ("2026-09"). Money is in the base currency, as in
the export: the bridge's movements are MRR, its starting_arr and ending_arr ARR.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from quarterdeck.appdb.models import Base

#: Money to the cent and ratios to ten decimal places.
SeriesValue = Numeric(28, 10)


class MetricSeries(Base):
    """One figure of one segment and month, as the run of `as_of` computed it; NULL where the
    export has none (a retention ratio of an empty cohort)."""

    __tablename__ = "metric_series"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(80), primary_key=True)
    segment: Mapped[str] = mapped_column(String(100), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(SeriesValue)
