"""The definitions page (`/settings/definitions`): every definition file of the workspace as
loaded now, with its status and, for a problem, the file, line and field."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from quarterdeck.app.api.definitions import workspace_definitions
from quarterdeck.app.auth import current_user
from quarterdeck.app.rendering import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
#: Each status shown with the colour of a health band.
STATUS_BANDS = {"error": "red", "warning": "yellow", "ok": "green"}


@router.get("/settings/definitions")
def definitions_page(request: Request) -> Response:
    """Health models, lifecycle, signals, playbooks, reports, sources, the team and the
    workspace settings: problems first in each, then what is defined, in words."""
    return render(request, "definitions.html", {"report": workspace_definitions(request),
                                                "status_bands": STATUS_BANDS})
