"""The data-quality report as JSON."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request

from quarterdeck.app.quality_queries import STATUSES, DataQuality, get_quality

router = APIRouter(tags=["quality"])


@router.get("/quality", response_model=DataQuality)
def quality(
    request: Request,
    as_of: date | None = Query(None, description="The report's date; default the latest."),
    status: str | None = Query(None, description=f"Only checks of this status: "
                               f"{', '.join(STATUSES)}."),
    source: str | None = Query(None, description="Only checks of this source."),
) -> DataQuality:
    """The data-quality report published by the pipeline: per source, entity and check, the
    rows that passed and failed, the status (ok, warning, error) and a few failing ids.
    `counts` covers the whole report, whatever the filters."""
    return get_quality(request.app.state.engine, as_of, status=status, source=source)
