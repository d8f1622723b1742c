"""Rendering pages: the Jinja2 templates shipped in the package and the filters they use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.responses import HTMLResponse

from quarterdeck.app import formatting
from quarterdeck.app.charts import arr_line_chart
from quarterdeck.app.csrf import csrf_token
from quarterdeck.app.permissions import has_permission
from quarterdeck.appdb.data_age import stale_data_sentences
from quarterdeck.appdb.data_versions import SNAPSHOT, STALE_DATA, cached

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# Templates ship with the package: no need to check each one's file on every page.
templates.env.auto_reload = False
# A list page formats a few hundred amounts, dates and account links, mostly the same ones
# from one view to the next: each is worked out once (same input, same text).
_REMEMBERED = 65_536


@lru_cache(maxsize=_REMEMBERED)
def _path_segment(value: object) -> str:
    # Account ids are free text; "/" and "?" must not end the URL path segment.
    return quote(str(value), safe="")


templates.env.filters.update(
    money=lru_cache(maxsize=_REMEMBERED)(formatting.money),
    compact_money=formatting.compact_money,
    day=lru_cache(maxsize=_REMEMBERED)(formatting.day),
    number=formatting.number,
    path_segment=_path_segment,
)
templates.env.globals.update(days_until=formatting.days_until, arr_line_chart=arr_line_chart,
                             csrf_token=csrf_token, has_permission=has_permission)

# Statuses with a colour of their own; anything else is shown neutral.
STATUS_STYLES = {
    "active": "good",
    "onboarding": "info",
    "trial": "info",
    "at_risk": "warn",
    "churned": "bad",
    "cancelled": "bad",
    "canceled": "bad",
}
templates.env.filters["status_style"] = lambda s: STATUS_STYLES.get((s or "").lower(), "neutral")


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A page from `templates/`, with the workspace name and signed-in user always available,
    and for a signed-in user the warnings that the published day is later than its data."""
    user = getattr(request.state, "user", None)
    base = {
        "workspace_name": request.app.state.workspace_name,
        "user": user,
        "stale_data": _stale_data(request.app.state.engine) if user else [],
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )


def _stale_data(engine: Engine) -> list[str]:
    """The latest run's warnings, read once per publish."""
    return cached(engine, ("stale_data",), (SNAPSHOT, STALE_DATA),
                  lambda: stale_data_sentences(engine))
