"""The weekly reports kept in the app database, as JSON (see docs/reports.md): the list, and
one report's data as it was built, whatever was published since."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from quarterdeck.app.params import RowId
from quarterdeck.errors import UnknownTableError
from quarterdeck.reports.store import list_reports, load_report
from quarterdeck.reports.weekly_report import WeeklyReport

router = APIRouter(tags=["reports"])
#: What a stored report downloads as: the suffix of its address and its media type.
FORMATS = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
           "pdf": "application/pdf"}


class StoredReportItem(BaseModel):
    id: int
    kind: str
    as_of: date
    created_at: datetime = Field(description="When it was built (last rebuilt).")
    downloads: dict[str, str] = Field(description="Its address in each format: html, md, "
                                      "pdf (the caller's own actions first).")


def stored_items(engine: Engine) -> list[StoredReportItem]:
    """Every weekly report kept, the latest date first."""
    return [StoredReportItem(id=r.id, kind=r.kind, as_of=r.as_of, created_at=r.created_at,
                             downloads={f: f"/reports/{r.id}.{f}" for f in FORMATS})
            for r in list_reports(engine)]


def stored_report(engine: Engine, report_id: int) -> WeeklyReport:
    """Report `report_id` as it was built; 404 when no report has that id."""
    try:
        return load_report(engine, report_id)
    except UnknownTableError:
        raise HTTPException(404, f"No stored report {report_id}: `quarterdeck report "
                            "weekly` keeps one per date.") from None


@router.get("/reports", response_model=list[StoredReportItem])
def reports_api(request: Request) -> list[StoredReportItem]:
    """The weekly reports kept (built by `quarterdeck report weekly` or `report send`),
    the latest date first, with where to download each."""
    return stored_items(request.app.state.engine)


@router.get("/reports/{report_id}", response_model=WeeklyReport, responses={404: {}})
def report_api(request: Request, report_id: RowId) -> WeeklyReport:
    """One weekly report's data, exactly as it was built."""
    return stored_report(request.app.state.engine, report_id)
