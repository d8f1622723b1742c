"""The data-quality page: the published report, grouped by source, problems first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from quarterdeck.app.auth import current_user
from quarterdeck.app.quality_queries import get_quality
from quarterdeck.app.rendering import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
#: Each status shown with the colour of a health band.
STATUS_BANDS = {"error": "red", "warning": "yellow", "ok": "green"}


@router.get("/quality")
def quality_page(request: Request) -> Response:
    """Freshness, completeness, accuracy rules, orphans and duplicates per source."""
    report = get_quality(request.app.state.engine)
    groups = [(source, [c for c in report.checks if c.source == source])
              for source in report.sources]
    return render(request, "quality.html",
                  {"report": report, "groups": groups, "status_bands": STATUS_BANDS})
