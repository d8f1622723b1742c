"""The book as tables for `quarterdeck export`: lifecycle stages and their history, alerts and
their events, playbook runs and tasks, each as it stood on an as-of date.

- `lifecycle_stages`: the stages published for the date, with days_in_stage;
- `lifecycle_history`: each stretch an account spent in one stage over the published days up
  to the date: entered_on, left_on (the first published day in another stage; empty while
  current), days_in_stage (to left_on, or to the date), and the rule that placed it there;
- `alerts`, `alert_events`: alerts fired on or before the date, with their current state;
- `playbook_runs`, `tasks`: runs started on or before the date; a task's `status` is its state
  as of the date (done or skipped when closed on or before it), else `overdue` when it was due
  before the date, else `open`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, Select, func, select

from quarterdeck.appdb.operations_models import (
    Alert,
    AlertEvent,
    LifecycleStage,
    PlaybookRun,
    Task,
    task_status,
)
from quarterdeck.errors import UnknownTableError

OPERATIONS_TABLES = ("lifecycle_stages", "lifecycle_history", "alerts", "alert_events",
                     "playbook_runs", "tasks")


def _fetch(engine: Engine, query: Select[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        result = conn.execute(query)
        return list(result.keys()), [tuple(r) for r in result.fetchall()]


def _arrow(columns: list[str], rows: list[tuple[Any, ...]]) -> pa.Table:
    def cell(v: Any) -> Any:
        return json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
    return pa.table({c: [cell(r[i]) for r in rows] for i, c in enumerate(columns)}) if rows \
        else pa.table({c: pa.array([], pa.string()) for c in columns})


def published_days(conn: Any, as_of: date) -> str:
    """What to say when the book of `as_of` was not published: the nearest days that were,
    and how to publish this one."""
    t = LifecycleStage.__table__
    before = conn.execute(select(func.max(t.c.as_of)).where(t.c.as_of < as_of)).scalar()
    latest = conn.execute(select(func.max(t.c.as_of))).scalar()
    if latest is None:
        return f": nothing is published yet; run `quarterdeck run --as-of {as_of}`"
    if before is None:
        return f": the first published day is {latest}; pass --as-of {latest}"
    return (f": the latest published day before it is {before}; pass --as-of {before}, or "
            f"run `quarterdeck run --as-of {as_of}` to publish {as_of}")


def _stages(engine: Engine, as_of: date) -> pa.Table:
    t = LifecycleStage.__table__
    with engine.connect() as conn:
        if conn.execute(select(t.c.as_of).where(t.c.as_of == as_of).limit(1)).first() is None:
            raise UnknownTableError(f"no lifecycle_stages published as of {as_of}"
                                    f"{published_days(conn, as_of)}")
    columns, rows = _fetch(engine, select(t).where(t.c.as_of == as_of)
                           .order_by(t.c.account_id))
    at = columns.index("entered_on")
    return _arrow([*columns, "days_in_stage"], [(*r, (as_of - r[at]).days) for r in rows])


def _history(engine: Engine, as_of: date) -> pa.Table:
    t = LifecycleStage.__table__
    query = (select(t.c.account_id, t.c.as_of, t.c.stage, t.c.stage_rule, t.c.entered_on)
             .where(t.c.as_of <= as_of).order_by(t.c.account_id, t.c.as_of))
    _, rows = _fetch(engine, query)
    out: list[tuple[Any, ...]] = []
    current: list[Any] | None = None
    for account, day, stage, rule, entered in rows:
        if current and current[0] == account and current[1] == stage and current[3] == entered:
            continue
        if current and current[0] == account:
            current[4] = day  # left on the first day seen in another stage
        if current:
            out.append(tuple(current))
        current = [account, stage, rule, entered, None]
    if current:
        out.append(tuple(current))
    columns = ["account_id", "stage", "stage_rule", "entered_on", "left_on", "days_in_stage"]
    return _arrow(columns, [(*r, ((r[4] or as_of) - r[3]).days) for r in out])


def operations_table(engine: Engine, name: str, as_of: date) -> pa.Table:
    """The book's table `name` as it stood on `as_of` (see the module)."""
    if name == "lifecycle_stages":
        return _stages(engine, as_of)
    if name == "lifecycle_history":
        return _history(engine, as_of)
    if name == "alerts":
        a = Alert.__table__
        return _arrow(*_fetch(engine, select(a).where(a.c.fired_on <= as_of).order_by(a.c.id)))
    if name == "alert_events":
        e = AlertEvent.__table__
        return _arrow(*_fetch(engine, select(e).where(e.c.on <= as_of).order_by(e.c.id)))
    if name == "playbook_runs":
        r = PlaybookRun.__table__
        return _arrow(*_fetch(engine, select(r).where(r.c.started_on <= as_of)
                              .order_by(r.c.id)))
    if name == "tasks":
        t, r = Task.__table__, PlaybookRun.__table__
        query = (select(t, r.c.playbook).join(r, r.c.id == t.c.run_id)
                 .where(r.c.started_on <= as_of).order_by(t.c.id))
        columns, rows = _fetch(engine, query)
        state, due, closed = (columns.index(c) for c in ("state", "due_on", "closed_on"))
        return _arrow([*columns, "status"], [
            (*row, task_status(row[state], row[due], row[closed], as_of)) for row in rows])
    raise UnknownTableError(f"no table of the book called {name!r}")
