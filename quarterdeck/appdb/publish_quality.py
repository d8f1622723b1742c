"""Publishing one day's data-quality report into the app database.

`publish_quality` replaces the report of its `as_of` date in one transaction: the web app
sees the previous report of that day or the new one, never a mix, and a failure leaves the
previous rows as they were.

Example: publish_quality(engine, report) → 91.
"""

from __future__ import annotations

import math
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert

from quarterdeck.appdb.data_versions import QUALITY, bump
from quarterdeck.appdb.models import DataQualityCheck
from quarterdeck.quality.report import CheckResult, QualityReport


def _share(row: CheckResult) -> float | None:
    share = row.share
    return None if share is None or not math.isfinite(share) else share


def quality_rows(report: QualityReport) -> list[dict[str, Any]]:
    """The report's rows as app database rows."""
    return [{"as_of": report.as_of, "source": r.source, "entity": r.entity, "check": r.check,
             "rule": r.rule, "field": r.field or "", "status": r.status,
             "severity": r.severity, "passed": r.passed, "failed": r.failed,
             "share": _share(r), "threshold": r.threshold, "detail": r.detail,
             "examples": list(r.examples) or None,
             # the warehouse's timestamps are naive UTC
             "newest_at": r.newest_at.replace(tzinfo=r.newest_at.tzinfo or UTC)
             if r.newest_at else None}
            for r in report.rows]


def replace_quality(connection: Connection, report: QualityReport) -> int:
    """Within the caller's transaction, replace the published report of `report.as_of`."""
    connection.execute(delete(DataQualityCheck).where(DataQualityCheck.as_of == report.as_of))
    rows = quality_rows(report)
    if rows:
        connection.execute(insert(DataQualityCheck), rows)
    bump(connection, QUALITY)
    return len(rows)


def publish_quality(engine: Engine, report: QualityReport) -> int:
    """Replace the published data-quality report of `report.as_of` (see the module); returns
    the rows published."""
    with engine.begin() as connection:
        return replace_quality(connection, report)
