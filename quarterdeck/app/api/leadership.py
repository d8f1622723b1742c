"""`/api/leadership`: the leadership page's figures as JSON (see docs/leadership.md)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Query, Request

from quarterdeck.app.leadership_queries import DayNotPublished, Leadership, leadership

router = APIRouter(tags=["leadership"])


@router.get("/leadership", response_model=Leadership)
def leadership_api(request: Request, as_of: date | None = Query(
        None, description="A published day (YYYY-MM-DD); the latest by default.")) -> Leadership:
    """Where the business stands on a published day: the ARR bridge and retention by segment,
    health and its movement, the renewal forecast by quarter, operations and data quality."""
    try:
        return leadership(request.app.state.engine, as_of)
    except DayNotPublished as exc:
        raise HTTPException(404, str(exc)) from exc
