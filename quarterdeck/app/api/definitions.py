"""`/api/definitions`: the workspace's definitions as loaded, with their problems, as JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from quarterdeck.app.definitions_team import team_definition
from quarterdeck.app.definitions_view import (
    DefinitionsReport,
    kept_definitions,
    unavailable_report,
)

router = APIRouter(tags=["definitions"])


def workspace_definitions(request: Request) -> DefinitionsReport:
    """The definitions of the workspace the app serves as they are on disk now; `unavailable`
    when the app was created without a workspace."""
    root = getattr(request.app.state, "workspace_root", None)
    if root is None:
        return unavailable_report()
    root = Path(root)
    return kept_definitions(root, team=team_definition(request.app.state.engine, root))


@router.get("/definitions", response_model=DefinitionsReport)
def definitions_api(request: Request) -> DefinitionsReport:
    """Every definition file of the workspace (health models, lifecycle stages and CS
    segments, signals, playbooks, reports, sources, the team, settings, tiers, data-quality
    checks, identity resolution), each with its status (ok, warning, error), its problems
    with file, line and field, and what it defines in words. As on disk at each call;
    credentials and secrets are never included, only whether they are set."""
    return workspace_definitions(request)
