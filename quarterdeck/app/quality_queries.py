"""What the data-quality page and `/api/quality` read: the published data-quality report.

Both call `get_quality`, so the page and the API show the same rows. The report is the one
published by `quarterdeck run` for the latest date (or a given one); see docs/quality.md for
every check's definition. A report is read once per publish and kept in memory.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine, case, func, select

from quarterdeck.appdb.data_versions import QUALITY, cached
from quarterdeck.appdb.models import DataQualityCheck

STATUSES = ("error", "warning", "ok")  # worst first
CHECKS = ("freshness", "completeness", "accuracy", "orphans", "duplicates")


class QualityCheck(BaseModel):
    """One line of the report: a check of one source's rows of one entity."""

    source: str = Field(description="The source the rows came from (`files` for files and "
                        "the tracking API), by the prefix of their id.")
    entity: str
    check: str = Field(description=f"One of {', '.join(CHECKS)}.")
    rule: str = Field(description="required or recommended (completeness), the rule's name "
                      "(accuracy), unknown_account … (orphans), merged or refused_on_load "
                      "(duplicates), expected_every (freshness).")
    field: str = Field(description="The column checked; empty for whole rows.")
    status: str = Field(description="ok, warning or error.")
    severity: str = Field(description="What a failure of this check is: warning or error.")
    passed: int | None = Field(description="Rows that pass; null for freshness.")
    failed: int | None = Field(description="Rows that fail; null for freshness.")
    share: float | None = Field(description="failed / (passed + failed).")
    threshold: float | None = Field(description="The largest failing share still ok.")
    detail: str
    examples: list[str] = Field(description="A few ids of failing rows.")
    newest_at: datetime | None = Field(description="Freshness: the newest row's time (UTC).")


class DataQuality(BaseModel):
    """The data-quality report published for `as_of`, worst first within each source."""

    as_of: date | None = Field(description="The date of the report; null before any.")
    counts: dict[str, int] = Field(description="Checks per status (error, warning, ok).")
    sources: list[str]
    checks: list[QualityCheck]


def latest_quality_as_of(engine: Engine) -> date | None:
    """The latest date with a published data-quality report."""
    with engine.connect() as connection:
        return connection.execute(select(func.max(DataQualityCheck.as_of))).scalar()


def get_quality(engine: Engine, as_of: date | None = None, *, status: str | None = None,
                source: str | None = None) -> DataQuality:
    """The report of `as_of` (default the latest), optionally only one status or source.
    The result is shared between requests: read it, never change it."""
    return cached(engine, ("quality", as_of, status, source), (QUALITY,),
                  lambda: _quality(engine, as_of, status, source))


def _quality(engine: Engine, as_of: date | None, status: str | None,
             source: str | None) -> DataQuality:
    day = as_of or latest_quality_as_of(engine)
    q = DataQualityCheck
    if day is None:
        return DataQuality(as_of=None, counts=dict.fromkeys(STATUSES, 0), sources=[], checks=[])
    worst = case({s: i for i, s in enumerate(STATUSES)}, value=q.status, else_=len(STATUSES))
    kind = case({c: i for i, c in enumerate(CHECKS)}, value=q.check, else_=len(CHECKS))
    conditions = [q.as_of == day]
    if status:
        conditions.append(q.status == status)
    if source:
        conditions.append(q.source == source)
    with engine.connect() as connection:
        counts = dict(connection.execute(
            select(q.status, func.count()).where(q.as_of == day).group_by(q.status)).all())
        sources = connection.scalars(
            select(q.source).where(q.as_of == day).distinct().order_by(q.source)).all()
        rows = connection.execute(
            select(*q.__table__.c).where(*conditions)
            .order_by(q.source, worst, q.entity, kind, q.rule, q.field)).mappings().all()
    return DataQuality(
        as_of=day, counts={s: counts.get(s, 0) for s in STATUSES}, sources=list(sources),
        checks=[QualityCheck.model_validate({**row, "examples": list(row["examples"] or [])})
                for row in rows])
