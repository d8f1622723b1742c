"""The audit log page (admins): who changed what, when, from what to what."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from quarterdeck.app.rendering import render
from quarterdeck.appdb.audit import recent
from quarterdeck.appdb.database import session

router = APIRouter(include_in_schema=False)
PER_PAGE = 100


@router.get("/admin/audit")
def audit_page(
    request: Request,
    action: str | None = Query(None, max_length=100, description="Actions starting with this."),
    actor: str | None = Query(None, max_length=320, description="Only this person's changes."),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    """The latest changes first, filtered by action and actor, 100 a page."""
    with session(request.app.state.engine) as db:
        entries = recent(db, PER_PAGE + 1, offset=(page - 1) * PER_PAGE,
                         action=action or None, actor=(actor or "").strip().lower() or None)

    def link(to_page: int) -> str:
        kept = {k: v for k, v in {"action": action, "actor": actor, "page": to_page}.items()
                if v not in (None, "", 1)}
        return "/admin/audit" + ("?" + urlencode(kept) if kept else "")

    return render(request, "audit.html", {
        "entries": entries[:PER_PAGE], "action": action or "", "actor": actor or "",
        "page": page, "newer": link(page - 1) if page > 1 else None,
        "older": link(page + 1) if len(entries) > PER_PAGE else None,
    })
