"""The book as JSON: a person's home, alerts and tasks to list and act on, notes, playbooks
started by hand, and the operations metrics.

Every change goes through `quarterdeck.appdb.book_actions` (the CLI's functions), is made in
the caller's name, audited, and allowed only on what the caller may change: a CSM their own
accounts, alerts and tasks; a manager their team's; ops and admin everything; a viewer
nothing (`quarterdeck.app.permissions`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from quarterdeck.app.book_queries import (
    AccountBook,
    AlertItem,
    CsmHome,
    TaskItem,
    account_book,
    alerts_of,
    book_day,
    csm_home,
    ops_rows,
    tasks_of,
)
from quarterdeck.app.params import RowId
from quarterdeck.app.permissions import Forbidden, may_change_account_id
from quarterdeck.appdb import book_actions
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import User
from quarterdeck.appdb.operations_models import Alert, Task, TeamMember
from quarterdeck.errors import QuarterdeckError

router = APIRouter(tags=["book"])
MAX_ITEMS = 500


class Change(BaseModel):
    id: int
    account_id: str
    before: str
    after: str


class AlertChange(BaseModel):
    note: str | None = Field(None, max_length=5000, description="What was done or why.")


class TaskClose(BaseModel):
    outcome: str = Field(min_length=1, max_length=5000, description="What came of it.")
    skip: bool = Field(False, description="Skipped, not done.")


class NoteIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=200)
    kind: Literal["note", "meeting", "call"] = "note"
    body: str = Field(min_length=1, max_length=20000)
    occurred_on: date | None = None


class PlaybookStart(BaseModel):
    account_id: str = Field(min_length=1, max_length=200)
    anchor: date | None = Field(None, description="Anchor date; else the one the playbook "
                                "names, from the latest published stages.")


class Created(BaseModel):
    id: int


def owners_for(engine: Engine, user: User, owner: str | None = None) -> list[str] | None:
    """Whose book a person sees by default: a CSM their own, a manager their team's and
    their own; others everyone (None). `owner` asks for one person's book instead."""
    if owner:
        return [owner.lower()]
    if user.role == "csm":
        return [user.email]
    if user.role == "manager":
        with session(engine) as db:
            team = list(db.scalars(select(TeamMember.email).where(
                TeamMember.manager_email == user.email)))
        return [user.email, *team]
    return None


def _user(request: Request) -> User:
    return request.state.user


def may_act(engine: Engine, user: User, account_id: str, item_owner: str | None) -> bool:
    """Whether `user` may change an alert or task owned by `item_owner` on `account_id`."""
    if user.role == "viewer":
        return False
    if item_owner and item_owner.lower() == user.email and user.role in ("csm", "manager"):
        return True
    return may_change_account_id(engine, user, account_id)


def _guard(request: Request, model: type[Alert] | type[Task], item_id: int) -> None:
    engine = request.app.state.engine
    with session(engine) as db:
        item = db.get(model, item_id)
        found = None if item is None else (item.account_id, item.owner_email)
    if found is None:
        raise HTTPException(404, f"No {model.__tablename__[:-1]} {item_id}.")
    if not may_act(engine, _user(request), *found):
        raise Forbidden(f"You may not change {model.__tablename__[:-1]} {item_id}: it is "
                        "neither yours nor on an account you may change.")


def _act(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except QuarterdeckError as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/home", response_model=CsmHome)
def home(request: Request, owner: str | None = Query(None, max_length=320),
         as_of: date | None = None,
         limit: int = Query(200, ge=1, le=MAX_ITEMS,
                            description="The first items of each list; `totals` counts all.")
         ) -> CsmHome:
    """A person's book: their paying accounts ranked by churn risk in the window, tasks
    overdue and due this week, renewals in 120 days, health drops, live alerts; each list cut
    to its first `limit` items, with `totals` giving how many each holds."""
    engine = request.app.state.engine
    home = csm_home(engine, owners=owners_for(engine, _user(request), owner), as_of=as_of)
    return home.first(limit)


@router.get("/alerts", response_model=list[AlertItem])
def list_alerts(request: Request,
                state: Literal["live", "open", "acknowledged", "resolved", "auto_resolved",
                               "all"] = "live",
                owner: str | None = Query(None, max_length=320),
                account_id: str | None = Query(None, max_length=200),
                limit: int = Query(100, ge=1, le=MAX_ITEMS),
                offset: int = Query(0, ge=0)) -> list[AlertItem]:
    """Alerts fired on or before the latest book day, newest first: live ones (open or
    acknowledged) by default."""
    wanted = {"live": ("open", "acknowledged"), "all": None}.get(state, (state,))
    return alerts_of(request.app.state.engine, owner=owner, account_id=account_id,
                     states=wanted, limit=limit, offset=offset)


@router.post("/alerts/{alert_id}/acknowledge", response_model=Change,
             responses={403: {}, 404: {}, 409: {"description": "Not open."}})
def acknowledge(request: Request, alert_id: RowId, body: AlertChange) -> Change:
    """open → acknowledged, in the caller's name."""
    _guard(request, Alert, alert_id)
    return Change(**_act(book_actions.acknowledge_alert, request.app.state.engine, alert_id,
                         actor=_user(request).email, note=body.note,
                         on=book_day(request.app.state.engine) or date.today()))


@router.post("/alerts/{alert_id}/resolve", response_model=Change,
             responses={403: {}, 404: {}, 409: {"description": "Already resolved."}})
def resolve(request: Request, alert_id: RowId, body: AlertChange) -> Change:
    """open or acknowledged → resolved, with a note."""
    _guard(request, Alert, alert_id)
    return Change(**_act(book_actions.resolve_alert, request.app.state.engine, alert_id,
                         actor=_user(request).email, note=body.note,
                         on=book_day(request.app.state.engine) or date.today()))


@router.get("/tasks", response_model=list[TaskItem])
def list_tasks(request: Request,
               status: Literal["due", "open", "overdue", "done", "skipped", "all"] = "due",
               owner: str | None = Query(None, max_length=320),
               account_id: str | None = Query(None, max_length=200),
               limit: int = Query(100, ge=1, le=MAX_ITEMS),
               offset: int = Query(0, ge=0)) -> list[TaskItem]:
    """Playbook tasks as of the latest book day, soonest due first: those still to do (open
    or overdue) by default."""
    wanted = {"due": ("open", "overdue"), "all": None}.get(status, (status,))
    return tasks_of(request.app.state.engine, owner=owner, account_id=account_id,
                    statuses=wanted, limit=limit, offset=offset)


@router.post("/tasks/{task_id}/close", response_model=Change,
             responses={403: {}, 404: {}, 409: {"description": "Not open."}})
def close(request: Request, task_id: RowId, body: TaskClose) -> Change:
    """An open task becomes done (or skipped) with an outcome note."""
    _guard(request, Task, task_id)
    return Change(**_act(book_actions.close_task, request.app.state.engine, task_id,
                         actor=_user(request).email, outcome=body.outcome, skip=body.skip,
                         on=book_day(request.app.state.engine) or date.today()))


@router.post("/notes", response_model=Created, status_code=201,
             responses={403: {}, 409: {"description": "Unknown account."}})
def add_note(request: Request, body: NoteIn) -> Created:
    """Log a note, meeting or call on an account you may change."""
    engine = request.app.state.engine
    if not may_change_account_id(engine, _user(request), body.account_id):
        raise Forbidden(f"You may not add notes to {body.account_id}.")
    return Created(id=_act(book_actions.add_note, engine, body.account_id, body.body,
                           actor=_user(request).email, kind=body.kind,
                           on=body.occurred_on or book_day(engine) or date.today()))


@router.get("/book/{account_id:path}", response_model=AccountBook)
def get_account_book(request: Request, account_id: str) -> AccountBook:
    """One account's stage, alerts, playbook tasks and notes."""
    return account_book(request.app.state.engine, account_id)


@router.post("/playbooks/{name}/start", response_model=Created, status_code=201,
             responses={403: {}, 409: {"description": "Unknown playbook or account, or "
                                                      "already started today."}})
def start(request: Request, name: str, body: PlaybookStart) -> Created:
    """Start a playbook for an account by hand."""
    engine = request.app.state.engine
    playbooks = getattr(request.app.state, "playbooks", None)
    if playbooks is None:
        raise HTTPException(409, "This server was started without a workspace's playbooks.")
    if not may_change_account_id(engine, _user(request), body.account_id):
        raise Forbidden(f"You may not start playbooks on {body.account_id}.")
    run = _act(book_actions.start_playbook, engine, playbooks, name, body.account_id,
               actor=_user(request).email, on=book_day(engine) or date.today(),
               anchor=body.anchor)
    return Created(id=run.id)


@router.get("/ops", response_model=list[dict[str, Any]])
def ops(request: Request, by: Literal["csm", "team", "segment"] = "csm",
        as_of: date | None = None) -> list[dict[str, Any]]:
    """The operations metrics of the latest book day (or `as_of`), one row per group and a
    total: the same figures as `quarterdeck ops`."""
    engine = request.app.state.engine
    day = book_day(engine, as_of)
    if day is None:
        return []
    return ops_rows(engine, day, by)
