"""The pages where the book is run: a person's home, the operations page, and the forms that
acknowledge or resolve an alert, close a task and log a note without leaving the page.

Pages read through `quarterdeck.app.book_queries`; forms change through the same functions as
the API (`quarterdeck.app.api.book`), with the same permission checks, and come back to the
page they were sent from.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from starlette.responses import RedirectResponse, Response

from quarterdeck.app.api.book import (
    AlertChange,
    NoteIn,
    TaskClose,
    acknowledge,
    add_note,
    close,
    owners_for,
    resolve,
)
from quarterdeck.app.auth import current_user, safe_next
from quarterdeck.app.book_queries import book_day, csm_home, ops_rows
from quarterdeck.app.pages.accounts import HELPERS
from quarterdeck.app.params import RowId
from quarterdeck.app.rendering import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
GROUPINGS = {"csm": "CSM", "team": "Team", "segment": "Segment"}
#: The operations metrics' columns: key, label, definition (as in docs/operations.md).
DEFINITIONS = [
    ("utilisation", "Capacity used", "Paying accounts ÷ capacity_accounts and ARR ÷ "
     "capacity_arr from the team file, the larger of the two; over above 120%, under below "
     "80%."),
    ("execution", "Playbook execution", "Of the tasks due in the 90 days ending on the date "
     "and not skipped, the share done on or before their due date."),
    ("overdue", "Overdue tasks", "Tasks open on the date and due before it."),
    ("onboarding", "Onboarding on time", "Of the customers who started in the last 365 days "
     "and whose onboarding is decided, the share that completed every required milestone "
     "within the target."),
    ("ttv", "Median TTV (days)", "Median days from the customer's start to the first-value "
     "milestone, over the customers of the last 365 days who reached it."),
    ("qbr", "QBR coverage", "Share of paying accounts with a QBR in the 120 days ending on "
     "the date."),
    ("response", "Alert response (days)", "Median days from an alert firing to its "
     "acknowledgement, over alerts fired in the last 90 days and acknowledged."),
    ("renewed", "Risk alerts renewed", "Of the high and critical alerts whose account's "
     "renewal (as known when they fired) has come, the share whose account still pays."),
]


def base_currency(request: Request) -> str | None:
    """The currency of the published snapshots (the workspace's base currency)."""
    from sqlalchemy import select

    from quarterdeck.appdb.models import AccountSnapshot

    with request.app.state.engine.connect() as conn:
        return conn.scalar(select(AccountSnapshot.currency).limit(1))


def _back(next_url: str | None, default: str = "/") -> Response:
    return RedirectResponse(safe_next(next_url, default), status_code=303)


def _done(request: Request, action: Any, next_url: str | None, *args: Any) -> Response:
    """Run a change; a refused one shows its reason on an error page, not a raw 409."""
    try:
        action(request, *args)
    except HTTPException as exc:
        return render(request, "error.html", {"status": exc.status_code, "message": exc.detail},
                      status_code=exc.status_code)
    return _back(next_url)


@router.get("/")
def home_page(request: Request, owner: str | None = Query(None, max_length=320)) -> Response:
    """A person's morning: their accounts by risk, tasks overdue and due this week, renewals
    in the next 120 days, accounts whose health dropped this week, and live alerts."""
    engine = request.app.state.engine
    owners = owners_for(engine, request.state.user, owner)
    home = csm_home(engine, owners=owners)
    return render(request, "home.html", {"home": home, "owner": owner, "today": date.today(),
                                         "currency": base_currency(request), **HELPERS})


@router.get("/operations")
def operations_page(request: Request, by: str = Query("csm", max_length=20)) -> Response:
    """How the team runs the book: capacity, playbook execution, overdue tasks, onboarding,
    QBR coverage, alert response and outcome, by CSM, team or segment."""
    if by not in GROUPINGS:
        raise HTTPException(400, f"Group by one of: {', '.join(GROUPINGS)}.")
    engine = request.app.state.engine
    day = book_day(engine)
    rows = ops_rows(engine, day, by) if day else []
    return render(request, "operations.html", {
        "rows": rows, "by": by, "as_of": day, "groupings": GROUPINGS,
        "definitions": DEFINITIONS, "currency": base_currency(request), **HELPERS})


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_form(request: Request, alert_id: RowId, note: str = Form("", max_length=5000),
                     next: str | None = Form(None)) -> Response:  # noqa: A002
    return _done(request, acknowledge, next, alert_id, AlertChange(note=note or None))


@router.post("/alerts/{alert_id}/resolve")
def resolve_form(request: Request, alert_id: RowId, note: str = Form("", max_length=5000),
                 next: str | None = Form(None)) -> Response:  # noqa: A002
    return _done(request, resolve, next, alert_id, AlertChange(note=note or None))


@router.post("/tasks/{task_id}/close")
def close_form(request: Request, task_id: RowId, outcome: str = Form(..., max_length=5000),
               skip: bool = Form(False), next: str | None = Form(None)) -> Response:  # noqa: A002
    if not outcome.strip():
        return render(request, "error.html", {"status": 400, "message":
                      "Say what came of the task: an outcome note is required."},
                      status_code=400)
    return _done(request, close, next, task_id, TaskClose(outcome=outcome, skip=skip))


@router.post("/notes")
def note_form(request: Request, account_id: str = Form(..., max_length=200),
              body: str = Form(..., max_length=20000), kind: str = Form("note", max_length=20),
              next: str | None = Form(None)) -> Response:  # noqa: A002
    if kind not in ("note", "meeting", "call") or not body.strip():
        return render(request, "error.html", {"status": 400, "message":
                      "A note needs some text and a kind: note, meeting or call."},
                      status_code=400)
    return _done(request, add_note, next, NoteIn(account_id=account_id, kind=kind,  # type: ignore[arg-type]
                                                  body=body))
