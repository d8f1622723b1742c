"""What the book's pages and API read: a CSM's home (their accounts, tasks, renewals, alerts,
health drops) and one account's stage, alerts, playbooks, tasks and notes.

Everything reads the app database only, as published for the latest day on or before the date
asked (`book_day`), so a page and `quarterdeck export` of that day show the same rows. A home
is computed once per change of the book or of the published day, and kept in memory
(`quarterdeck.appdb.data_versions.cached`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, and_, bindparam, false, func, or_, select, true

from quarterdeck.appdb.data_versions import BOOK, HEALTH, SNAPSHOT, cached
from quarterdeck.appdb.models import AccountSnapshot, ChurnRisk, HealthScore
from quarterdeck.appdb.operations_models import (
    LIVE_ALERT_STATES,
    AccountNote,
    Alert,
    LifecycleStage,
    PlaybookRun,
    Task,
    task_status,
)

RENEWAL_DAYS = 120  # renewals of contracts of a year or more; monthly terms renew each month
DUE_SOON_DAYS = 7
HEALTH_DROP_POINTS = 10.0


class AlertItem(BaseModel):
    id: int
    signal: str
    severity: str
    account_id: str
    account_name: str | None = None
    owner_email: str | None
    fired_on: date
    state: str
    evidence: dict[str, Any]
    rule: str


class TaskItem(BaseModel):
    id: int
    playbook: str
    account_id: str
    account_name: str | None = None
    title: str
    owner_email: str | None
    due_on: date
    status: str  # open, overdue, done, skipped
    expected_outcome: str | None
    outcome_note: str | None = None


class BookAccount(BaseModel):
    account_id: str
    name: str
    stage: str
    arr: float
    health_band: str | None
    health_change_7d: float | None
    churn_probability_window: float | None
    renewal_date: date | None
    term_months: int | None = None
    open_alerts: int


class CsmHome(BaseModel):
    as_of: date | None
    owners: list[str] | None
    accounts: list[BookAccount]
    tasks_overdue: list[TaskItem]
    tasks_due_soon: list[TaskItem]
    renewals: list[BookAccount]
    health_drops: list[BookAccount]
    alerts: list[AlertItem]
    #: How many items each list holds in full, when the lists were cut (`first`).
    totals: dict[str, int] | None = None

    @property
    def total_arr(self) -> float:
        return sum(a.arr for a in self.accounts)

    def first(self, n: int) -> CsmHome:
        """A copy with each list cut to its first `n` items and `totals` saying how many each
        holds in full (a whole book has thousands of accounts and renewals)."""
        lists = ("accounts", "tasks_overdue", "tasks_due_soon", "renewals", "health_drops",
                 "alerts")
        return self.model_copy(update={
            **{name: getattr(self, name)[:n] for name in lists},
            "totals": {name: len(getattr(self, name)) for name in lists}})


class NoteItem(BaseModel):
    id: int
    kind: str
    body: str
    occurred_on: date
    author: str


class AccountBook(BaseModel):
    as_of: date | None
    stage: str | None
    stage_rule: str | None
    entered_on: date | None
    cs_segment: str | None
    onboarding_complete: bool | None
    time_to_value_days: int | None
    alerts: list[AlertItem]
    tasks: list[TaskItem]
    notes: list[NoteItem]


def book_day(engine: Engine, as_of: date | None = None) -> date | None:
    """The latest day the book was published on or before `as_of` (any day when None)."""
    query = select(func.max(LifecycleStage.as_of))
    if as_of is not None:
        query = query.where(LifecycleStage.as_of <= as_of)

    def find() -> date | None:
        with engine.connect() as conn:
            return conn.scalar(query)

    return cached(engine, ("book_day", as_of), (BOOK,), find)


def _task_query(as_of: date) -> Any:
    return (select(Task.id, PlaybookRun.playbook, Task.account_id, AccountSnapshot.name,
                   Task.title, Task.owner_email, Task.due_on, Task.state, Task.closed_on,
                   Task.expected_outcome, Task.outcome_note)
            .join(PlaybookRun, PlaybookRun.id == Task.run_id)
            .outerjoin(AccountSnapshot, and_(AccountSnapshot.account_id == Task.account_id,
                                             AccountSnapshot.as_of == as_of))
            .where(PlaybookRun.started_on <= as_of))


def _tasks(rows: Any, as_of: date) -> list[TaskItem]:
    return [TaskItem(id=r.id, playbook=r.playbook, account_id=r.account_id,
                     account_name=r.name, title=r.title, owner_email=r.owner_email,
                     due_on=r.due_on, status=task_status(r.state, r.due_on, r.closed_on, as_of),
                     expected_outcome=r.expected_outcome, outcome_note=r.outcome_note)
            for r in rows]


def _alert_query(as_of: date) -> Any:
    # Columns, not ORM objects: pages read them and change none.
    return (select(Alert.id, Alert.signal, Alert.severity, Alert.account_id,
                   Alert.owner_email, Alert.fired_on, Alert.state, Alert.evidence, Alert.rule,
                   AccountSnapshot.name.label("account_name"))
            .outerjoin(AccountSnapshot, and_(AccountSnapshot.account_id == Alert.account_id,
                                             AccountSnapshot.as_of == as_of))
            .where(Alert.fired_on <= as_of))


def _alerts(rows: Any) -> list[AlertItem]:
    return [AlertItem(id=a.id, signal=a.signal, severity=a.severity, account_id=a.account_id,
                      account_name=a.account_name, owner_email=a.owner_email,
                      fired_on=a.fired_on, state=a.state, evidence=a.evidence or {},
                      rule=a.rule)
            for a in rows]


def csm_home(engine: Engine, *, owners: list[str] | None, as_of: date | None = None) -> CsmHome:
    """The home page of the people `owners` (every account when None) as of the book's day.
    The result is shared between requests: read it, never change it."""
    key = ("csm_home", None if owners is None else tuple(owners), as_of)
    return cached(engine, key, (BOOK, SNAPSHOT, HEALTH), lambda: _home(engine, owners, as_of))


def _home(engine: Engine, owners: list[str] | None, as_of: date | None) -> CsmHome:
    day = book_day(engine, as_of)
    if day is None:
        return CsmHome(as_of=None, owners=owners, accounts=[], tasks_overdue=[],
                       tasks_due_soon=[], renewals=[], health_drops=[], alerts=[])
    mine = LifecycleStage.owner_email.in_(owners) if owners is not None else true()
    live = (select(Alert.account_id, func.count().label("n"))
            .where(Alert.state.in_(LIVE_ALERT_STATES) & (Alert.fired_on <= day))
            .group_by(Alert.account_id).subquery())
    stage = LifecycleStage
    query = (select(stage.account_id, stage.stage, stage.arr, stage.health_band,
                    stage.renewal_date, stage.term_months, AccountSnapshot.name,
                    HealthScore.band, HealthScore.change_7d,
                    ChurnRisk.churn_probability_window, live.c.n)
             .outerjoin(AccountSnapshot, and_(AccountSnapshot.account_id ==
                                              LifecycleStage.account_id,
                                              AccountSnapshot.as_of == day))
             .outerjoin(HealthScore, and_(HealthScore.account_id == LifecycleStage.account_id,
                                          HealthScore.as_of == day))
             .outerjoin(ChurnRisk, and_(ChurnRisk.account_id == LifecycleStage.account_id,
                                        ChurnRisk.as_of == day))
             .outerjoin(live, live.c.account_id == LifecycleStage.account_id)
             .where((LifecycleStage.as_of == day) & (LifecycleStage.status == "active") & mine))
    with engine.connect() as conn:
        accounts = [BookAccount(
            account_id=r.account_id, name=r.name or r.account_id, stage=r.stage,
            arr=float(r.arr), health_band=r.band or r.health_band, health_change_7d=r.change_7d,
            churn_probability_window=r.churn_probability_window,
            renewal_date=r.renewal_date, term_months=r.term_months, open_alerts=r.n or 0)
            for r in conn.execute(query)]
        owned = Task.owner_email.in_(owners) if owners is not None else true()
        tasks = _tasks(conn.execute(_task_query(day).where(
            owned & ((Task.state == "open") | (Task.closed_on > day))
            & (Task.due_on <= day + timedelta(days=DUE_SOON_DAYS)))
            .order_by(Task.due_on, Task.id)), day)
        alert_owned = Alert.owner_email.in_(owners) if owners is not None else true()
        alerts = _alerts(conn.execute(_alert_query(day).where(
            alert_owned & or_(Alert.state.in_(LIVE_ALERT_STATES), Alert.resolved_on > day))
            .order_by(Alert.fired_on.desc(), Alert.id.desc())))
    accounts.sort(key=lambda a: (-(a.churn_probability_window or 0), -a.arr))
    horizon = day + timedelta(days=RENEWAL_DAYS)
    return CsmHome(
        as_of=day, owners=owners, accounts=accounts,
        tasks_overdue=[t for t in tasks if t.status == "overdue"],
        tasks_due_soon=[t for t in tasks if t.status == "open"],
        renewals=sorted((a for a in accounts if a.renewal_date and a.renewal_date <= horizon
                         and (a.term_months or 0) >= 12),
                        key=lambda a: a.renewal_date or horizon),
        health_drops=sorted((a for a in accounts if a.health_change_7d is not None
                             and a.health_change_7d <= -HEALTH_DROP_POINTS),
                            key=lambda a: a.health_change_7d or 0),
        alerts=alerts)


def account_book(engine: Engine, account_id: str, as_of: date | None = None) -> AccountBook:
    """One account's stage, alerts, playbook tasks and notes as of the book's day."""
    day = book_day(engine, as_of)
    given = {"day": day, "account_id": account_id}
    with engine.connect() as conn:
        s = None if day is None else conn.execute(_BOOK_STAGE, given).first()
        alerts = [] if day is None else _alerts(conn.execute(_BOOK_ALERTS, given))
        tasks = [] if day is None else _tasks(conn.execute(_BOOK_TASKS, given), day)
        notes = [NoteItem(id=n.id, kind=n.kind, body=n.body, occurred_on=n.occurred_on,
                          author=n.author) for n in conn.execute(_BOOK_NOTES, given)]
    return AccountBook(
        as_of=day, stage=s.stage if s else None, stage_rule=s.stage_rule if s else None,
        entered_on=s.entered_on if s else None, cs_segment=s.cs_segment if s else None,
        onboarding_complete=s.onboarding_complete if s else None,
        time_to_value_days=s.time_to_value_days if s else None,
        alerts=alerts, tasks=tasks, notes=notes)


# An account's book, built once and run with each account's values.
_LS = LifecycleStage
_BOOK_STAGE = select(_LS.stage, _LS.stage_rule, _LS.entered_on, _LS.cs_segment,
                     _LS.onboarding_complete, _LS.time_to_value_days).where(
    (_LS.as_of == bindparam("day")) & (_LS.account_id == bindparam("account_id")))
_BOOK_ALERTS = (_alert_query(bindparam("day")).where(Alert.account_id == bindparam("account_id"))
                .order_by(Alert.fired_on.desc(), Alert.id.desc()))
_BOOK_TASKS = (_task_query(bindparam("day")).where(Task.account_id == bindparam("account_id"))
               .order_by(Task.due_on, Task.id))
_BOOK_NOTES = (select(AccountNote.id, AccountNote.kind, AccountNote.body,
                      AccountNote.occurred_on, AccountNote.author)
               .where(AccountNote.account_id == bindparam("account_id"))
               .order_by(AccountNote.occurred_on.desc(), AccountNote.id.desc()))


def ops_rows(engine: Engine, day: date, by: str) -> list[dict[str, Any]]:
    """The operations metrics of a book day (`quarterdeck.appdb.ops_metrics`), one row per
    group and a total, computed once per change of the book. Shared: never change a row."""
    from quarterdeck.appdb.ops_metrics import ops_metrics

    return cached(engine, ("ops_rows", day, by), (BOOK,),
                  lambda: ops_metrics(engine, as_of=day, by=by).to_pylist())


def alerts_of(engine: Engine, *, owner: str | None = None, account_id: str | None = None,
              states: tuple[str, ...] | None = None, limit: int | None = None,
              offset: int = 0) -> list[AlertItem]:
    """The alerts fired on or before the book's latest day, newest first, of one owner or
    account and in one of `states` when given; `limit` of them from `offset`."""
    day = book_day(engine)
    if day is None:
        return []
    query = _alert_query(day)
    if owner:
        query = query.where(Alert.owner_email == owner.lower())
    if account_id:
        query = query.where(Alert.account_id == account_id)
    if states is not None:
        query = query.where(Alert.state.in_(states))
    with engine.connect() as db:
        return _alerts(db.execute(query.order_by(Alert.fired_on.desc(), Alert.id.desc())
                                  .limit(limit).offset(offset)))


def tasks_of(engine: Engine, *, owner: str | None = None, account_id: str | None = None,
             statuses: tuple[str, ...] | None = None, limit: int | None = None,
             offset: int = 0) -> list[TaskItem]:
    """The tasks of the playbooks started by the book's latest day, soonest due first, with
    their status that day (`task_status`); of one owner or account and with one of
    `statuses` when given; `limit` of them from `offset`."""
    day = book_day(engine)
    if day is None:
        return []
    query = _task_query(day)
    if owner:
        query = query.where(Task.owner_email == owner.lower())
    if account_id:
        query = query.where(Task.account_id == account_id)
    if statuses is not None:
        query = query.where(or_(false(), *(_with_status(s, day) for s in statuses)))
    with engine.connect() as db:
        return _tasks(db.execute(query.order_by(Task.due_on, Task.id).limit(limit)
                                 .offset(offset)), day)


def _with_status(status: str, day: date) -> Any:
    """The tasks whose `task_status` on `day` is `status`, as a condition the database checks
    (so a page of tasks is cut there, not from every task in memory)."""
    closed = (Task.state != "open") & Task.closed_on.is_not(None) & (Task.closed_on <= day)
    if status in ("done", "skipped"):
        return closed & (Task.state == status)
    if status == "overdue":
        return ~closed & (Task.due_on < day)
    if status == "open":
        return ~closed & (Task.due_on >= day)
    return false()
