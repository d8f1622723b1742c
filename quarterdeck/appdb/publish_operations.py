"""Publishing a day of the book: lifecycle stages, alerts, playbook runs and their tasks.

`publish_operations` takes what the engine found as of T (each account's stage and facts, the
signals that fired, the playbook triggers that hold) and brings the state in the app database
forward to T, in one transaction:

- **stages**: the day's rows replace any earlier publish of T; an account keeps the
  `entered_on` of the previous published day when its stage is the same, else enters on T;
- **alerts**: a fired signal opens an alert unless one with its de-duplication key is still
  open or acknowledged (it is then seen again), or the last one with that key fired less than
  the signal's cool-down before T; a live alert whose condition no longer holds is
  auto-resolved (when the signal says so). Re-running a day creates nothing twice;
- **playbooks**: a trigger that holds starts its playbook once per trigger key (stage entry,
  alert, or the `key_by` facts), with its tasks due relative to the anchor; a run whose
  trigger no longer holds is cancelled when the playbook says so (its open tasks skipped);
- **tasks**: an open task is done on the day its evidence appears (a milestone reached, an
  activity logged in its window, found by `evidence` in the warehouse); one that was due more
  than the playbook's `catch_up_days` before the playbook started is skipped; a run with no
  open task left is completed.

Every change the pipeline makes is recorded with the actor "quarterdeck".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from quarterdeck.appdb.data_versions import BOOK, bump
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.operations_models import (
    LIVE_ALERT_STATES,
    PIPELINE,
    Alert,
    AlertEvent,
    LifecycleStage,
    PlaybookRun,
    Task,
    TeamMember,
)
from quarterdeck.appdb.publish import insert_arrow
from quarterdeck.playbooks.definitions import Playbook, PlaybookDefinitions
from quarterdeck.playbooks.schedule import due_date
from quarterdeck.signals.definitions import SignalDefinitions
from quarterdeck.signals.evaluation import evidence_values

#: (open tasks: task_id, account_id, kind, milestone, window_start) → (task_id, evidence_on)
Evidence = Callable[[pa.Table], pa.Table]
STAGE_COLUMNS = [c.name for c in LifecycleStage.__table__.columns
                 if c.name not in ("as_of", "entered_on", "milestones_reached")]


@dataclass
class OperationsResult:
    """What one publish changed: counts the run prints."""

    stages: int = 0
    alerts_opened: int = 0
    alerts_resolved: int = 0
    playbooks_started: int = 0
    playbooks_cancelled: int = 0
    tasks_created: int = 0
    tasks_done: int = 0
    notes: list[str] = field(default_factory=list)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def owner_for(rule: str, owner: str | None, team: dict[str, dict[str, Any]]) -> str | None:
    """The email an owner rule names for an account owned by `owner` (see signals.yml)."""
    if rule == "account_owner":
        return owner
    if rule == "owner_manager":
        manager = team.get(owner or "", {}).get("manager_email")
        return manager or owner
    if rule.startswith("role:"):
        members = sorted(e for e, m in team.items() if m["role"] == rule[5:])
        return members[0] if members else owner
    return rule


def _publish_team(db: Session, team: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    db.execute(delete(TeamMember))
    keep = ("email", "name", "role", "manager_email", "capacity_accounts", "capacity_arr")
    rows = [{k: m.get(k) for k in keep} for m in team]
    if rows:
        db.execute(insert(TeamMember), rows)
    return {m["email"]: m for m in rows}


def _publish_stages(db: Session, as_of: date, stages: pa.Table,
                    milestones: dict[str, dict[str, date | None]] | None) -> dict[str, date]:
    """Replace the stages of `as_of` (`milestones`: each account's day per milestone, None
    when the workspace has none); returns each account's entered_on. The rows go to the
    database by the bulk path of `insert_arrow` (tens of thousands of accounts a day)."""
    previous_day = db.scalar(select(func.max(LifecycleStage.as_of))
                             .where(LifecycleStage.as_of < as_of))
    before: dict[str, tuple[str, date]] = {}
    if previous_day is not None:
        for account, stage, entered in db.execute(
                select(LifecycleStage.account_id, LifecycleStage.stage,
                       LifecycleStage.entered_on).where(LifecycleStage.as_of == previous_day)):
            before[account] = (stage, entered)
    db.execute(delete(LifecycleStage).where(LifecycleStage.as_of == as_of))
    accounts = stages.column("account_id").to_pylist()
    entered: dict[str, date] = {}
    for account, stage in zip(accounts, stages.column("stage").to_pylist(), strict=True):
        prior = before.get(account)
        entered[account] = prior[1] if prior and prior[0] == stage else as_of
    columns = {c: _column(stages, c) for c in STAGE_COLUMNS}
    arr = columns["arr"]
    arr = arr.cast(pa.int64()) if pa.types.is_null(arr.type) else arr
    columns["arr"] = pc.fill_null(arr, pa.scalar(0, arr.type))
    columns["entered_on"] = pa.array([entered[a] for a in accounts], pa.date32())
    columns["milestones_reached"] = pa.array(
        [json.dumps({m: _iso(day) for m, day in milestones[a].items()}) for a in accounts]
        if milestones is not None else [None] * len(accounts), pa.string())
    insert_arrow(db.connection(), LifecycleStage.__table__, pa.table(columns), as_of)
    return entered


def _column(table: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    """A column of `table`, or nulls when it has none by that name (typed int64 for `arr`,
    whose nulls are published as 0)."""
    if name in table.column_names:
        return table.column(name)
    return pa.nulls(table.num_rows, pa.int64() if name == "arr" else pa.null())


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _event(alert_id: int, on: date, actor: str, before: str | None, after: str,
           note: str | None = None) -> dict[str, Any]:
    return {"alert_id": alert_id, "on": on, "actor": actor, "from_state": before,
            "to_state": after, "note": note}


@dataclass
class _LiveAlert:
    """What the day's publish needs of a live alert (an ORM object each costs too much for
    thousands of them)."""

    id: int | None
    signal: str
    account_id: str
    fired_on: date
    state: str
    last_seen_on: date


def _ids_in_chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start:start + 500] for start in range(0, len(ids), 500)]


def _publish_alerts(db: Session, as_of: date, fired: list[dict[str, Any]],
                    signals: SignalDefinitions,
                    result: OperationsResult) -> dict[str, list[_LiveAlert]]:
    """Open, re-see and auto-resolve alerts (see the module); returns the live alerts of the
    day by signal, for signal-triggered playbooks. Each change is one statement for every
    alert it concerns."""
    known = {s.name: s for s in signals.signals}
    # Only what can matter today: the live alerts, and the last firing of each key within the
    # longest cool-down (older ones cannot hold a new alert back).
    longest = max((s.cooldown_days for s in signals.signals), default=0)
    live = {r.dedup_key: _LiveAlert(r.id, r.signal, r.account_id, r.fired_on, r.state,
                                    r.last_seen_on)
            for r in db.execute(select(Alert.id, Alert.signal, Alert.account_id,
                                       Alert.dedup_key, Alert.fired_on, Alert.state,
                                       Alert.last_seen_on).where(
                (Alert.fired_on <= as_of) & Alert.state.in_(LIVE_ALERT_STATES)))}
    last_fired: dict[str, date] = {key: day for key, day in db.execute(
        select(Alert.dedup_key, func.max(Alert.fired_on))
        .where((Alert.fired_on <= as_of) & (Alert.fired_on > as_of - timedelta(days=longest)))
        .group_by(Alert.dedup_key))}
    fired_keys = set()
    seen: list[int] = []
    opened: list[tuple[_LiveAlert, dict[str, Any]]] = []
    for row in fired:
        key = row["dedup_key"]
        fired_keys.add(key)
        if key in live:
            alert = live[key]
            if alert.last_seen_on < as_of:  # an alert opened today was seen today
                seen.append(alert.id)
                alert.last_seen_on = as_of
            continue
        last = last_fired.get(key)
        if last is not None and (last == as_of or as_of - last < timedelta(
                days=known[row["signal"]].cooldown_days)):
            continue
        alert = _LiveAlert(None, row["signal"], row["account_id"], as_of, "open", as_of)
        opened.append((alert, {
            "signal": row["signal"], "kind": row["kind"], "severity": row["severity"],
            "account_id": row["account_id"], "dedup_key": key,
            "owner_email": row["owner_email"], "fired_on": as_of, "last_seen_on": as_of,
            "rule": row["rule"], "evidence": evidence_values(row["evidence"] or "{}"),
            "state": "open", "state_changed_by": PIPELINE}))
        live[key] = alert
        last_fired[key] = as_of
        result.alerts_opened += 1
    if opened:
        ids = db.scalars(insert(Alert).returning(Alert.id, sort_by_parameter_order=True),
                         [values for _, values in opened]).all()
        for (alert, _), new_id in zip(opened, ids, strict=True):
            alert.id = new_id
    for chunk in _ids_in_chunks(seen):
        db.execute(update(Alert).where(Alert.id.in_(chunk)).values(last_seen_on=as_of)
                   .execution_options(synchronize_session=False))
    events = [_event(alert.id, as_of, PIPELINE, None, "open") for alert, _ in opened]
    resolved: list[int] = []
    for key, alert in list(live.items()):
        if key in fired_keys:
            continue
        signal = known.get(alert.signal)
        if signal is not None and not signal.auto_resolve:
            continue
        note = ("the condition no longer holds" if signal is not None
                else "the signal is no longer defined")
        events.append(_event(alert.id, as_of, PIPELINE, alert.state, "auto_resolved", note))
        resolved.append(alert.id)
        del live[key]
        result.alerts_resolved += 1
    for chunk in _ids_in_chunks(resolved):
        db.execute(update(Alert).where(Alert.id.in_(chunk)).values(
            state="auto_resolved", state_changed_by=PIPELINE, state_changed_at=utcnow(),
            resolved_on=as_of).execution_options(synchronize_session=False))
    if events:
        db.execute(insert(AlertEvent), events)
    by_signal: dict[str, list[_LiveAlert]] = {}
    for alert in live.values():
        by_signal.setdefault(alert.signal, []).append(alert)
    return by_signal


@dataclass(frozen=True)
class _Trigger:
    playbook: Playbook
    account_id: str
    key: str
    anchor: date | None


def _triggers(as_of: date, playbooks: PlaybookDefinitions, triggers: list[dict[str, Any]],
              entered: dict[str, date], alerts: dict[str, list[_LiveAlert]]
              ) -> list[_Trigger]:
    out = []
    for row in triggers:
        p = playbooks.playbook(row["playbook"])
        key, anchor = row["trigger_key"], row["anchor_date"]
        if p.trigger.kind == "stage":
            since = entered.get(row["account_id"], as_of)
            key = f"{key}:{since.isoformat()}"
            anchor = since if p.anchor == "stage_entry" else anchor
        out.append(_Trigger(p, row["account_id"], key, anchor))
    for p in playbooks.playbooks:
        if p.trigger.kind != "signal":
            continue
        for alert in alerts.get(p.trigger.signal or "", []):
            anchor = alert.fired_on if p.anchor == "alert_date" else (
                as_of if p.anchor == "start_date" else None)
            out.append(_Trigger(p, alert.account_id, f"alert={alert.id}", anchor))
    return out


def _task_rows(p: Playbook, run_id: int, account_id: str, *, anchor: date,
               owner: str | None, team: dict[str, dict[str, Any]],
               holidays: list[date]) -> list[dict[str, Any]]:
    return [{
        "run_id": run_id, "account_id": account_id, "key": t.key, "title": t.title,
        "owner_email": owner_for(t.owner, owner, team),
        "due_on": due_date(anchor, t.due, business_days=p.business_days, holidays=holidays),
        "depends_on": t.depends_on, "expected_outcome": t.outcome or None,
        "done_when": t.done_when.model_dump(exclude_none=True) if t.done_when else None,
        "state": "open"} for t in p.tasks]


def start_run(db: Session, p: Playbook, account_id: str, *, key: str, anchor: date,
              started_on: date, started_by: str, owner: str | None,
              team: dict[str, dict[str, Any]], holidays: list[date]) -> PlaybookRun:
    """Create a run of playbook `p` and its tasks (due dates from `anchor`)."""
    run = PlaybookRun(playbook=p.name, account_id=account_id, trigger=p.trigger.kind,
                      trigger_key=key, anchor_date=anchor, started_on=started_on,
                      started_by=started_by, state="active")
    db.add(run)
    db.flush()
    db.execute(insert(Task), _task_rows(p, run.id, account_id, anchor=anchor, owner=owner,
                                        team=team, holidays=holidays))
    return run


def _start_runs(db: Session, as_of: date, starting: list[_Trigger],
                owners: dict[str, str | None], team: dict[str, dict[str, Any]],
                holidays: list[date]) -> None:
    """`start_run` for each trigger in `starting`, by the pipeline: one statement for the
    runs and one for their tasks."""
    if not starting:
        return
    ids = db.scalars(insert(PlaybookRun).returning(PlaybookRun.id,
                                                   sort_by_parameter_order=True), [{
        "playbook": t.playbook.name, "account_id": t.account_id,
        "trigger": t.playbook.trigger.kind, "trigger_key": t.key, "anchor_date": t.anchor,
        "started_on": as_of, "started_by": PIPELINE, "state": "active"}
        for t in starting]).all()
    tasks = [row for t, run_id in zip(starting, ids, strict=True)
             for row in _task_rows(t.playbook, run_id, t.account_id, anchor=t.anchor,
                                   owner=owners.get(t.account_id), team=team,
                                   holidays=holidays)]
    if tasks:
        db.execute(insert(Task), tasks)


def _publish_runs(db: Session, as_of: date, playbooks: PlaybookDefinitions,
                  triggers: list[_Trigger], owners: dict[str, str | None],
                  team: dict[str, dict[str, Any]], result: OperationsResult) -> None:
    existing = {(p, a, k) for p, a, k in db.execute(
        select(PlaybookRun.playbook, PlaybookRun.account_id, PlaybookRun.trigger_key))}
    runs = db.execute(select(PlaybookRun.id, PlaybookRun.playbook, PlaybookRun.account_id,
                             PlaybookRun.trigger_key).where(
        (PlaybookRun.started_on <= as_of) & (PlaybookRun.state == "active"))).all()
    holding = set()
    starting = []
    for t in triggers:
        holding.add((t.playbook.name, t.account_id, t.key))
        if (t.playbook.name, t.account_id, t.key) in existing or t.anchor is None:
            continue
        starting.append(t)
        existing.add((t.playbook.name, t.account_id, t.key))
        result.playbooks_started += 1
        result.tasks_created += len(t.playbook.tasks)
    _start_runs(db, as_of, starting, owners, team, playbooks.holidays)
    names = {p.name: p for p in playbooks.playbooks}
    cancelled = []
    for run in runs:
        p = names.get(run.playbook)
        if p is None or p.trigger.manual:
            continue
        if p.cancel_when_trigger_clears and (run.playbook, run.account_id,
                                             run.trigger_key) not in holding:
            cancelled.append(run.id)
    for chunk in _ids_in_chunks(cancelled):
        db.execute(update(PlaybookRun).where(PlaybookRun.id.in_(chunk)).values(
            state="cancelled", ended_on=as_of, note="the trigger no longer holds")
            .execution_options(synchronize_session=False))
        db.execute(update(Task).where(Task.run_id.in_(chunk) & (Task.state == "open"))
                   .values(state="skipped", closed_on=as_of, closed_by=PIPELINE,
                           outcome_note="playbook cancelled: the trigger no longer holds")
                   .execution_options(synchronize_session=False))
    result.playbooks_cancelled += len(cancelled)


def _close_tasks(db: Session, as_of: date, playbooks: PlaybookDefinitions,
                 evidence: Evidence | None,
                 milestones: dict[str, dict[str, date | None]], result: OperationsResult) -> None:
    open_tasks = db.execute(
        select(Task.id, Task.account_id, Task.due_on, Task.done_when, PlaybookRun.started_on,
               PlaybookRun.playbook)
        .join(PlaybookRun, PlaybookRun.id == Task.run_id)
        .where((Task.state == "open") & (PlaybookRun.started_on <= as_of))).all()
    done: dict[int, date] = {}
    activity_rows = []
    for task_id, account, due_on, when, _started, _playbook in open_tasks:
        if not when:
            continue
        if "milestone" in when:
            reached = milestones.get(account, {}).get(when["milestone"])
            if reached is not None and reached <= as_of:
                done[task_id] = reached
        else:
            start = due_on - timedelta(days=int(when.get("within_days", 30)))
            activity_rows.append((task_id, account, when["activity"], start))
    if activity_rows and evidence is not None:
        found = evidence(pa.table({
            "task_id": [r[0] for r in activity_rows], "account_id": [r[1] for r in activity_rows],
            "kind": [r[2] for r in activity_rows],
            "window_start": pa.array([r[3] for r in activity_rows], pa.date32())}))
        for row in found.to_pylist():
            if row["evidence_on"] is not None:
                done[row["task_id"]] = row["evidence_on"]
    if done:  # one statement by primary key: no session sync per task
        db.execute(update(Task), [
            {"id": task_id, "state": "done", "closed_on": on, "closed_by": PIPELINE,
             "outcome_note": "closed on evidence"} for task_id, on in done.items()])
    result.tasks_done += len(done)
    catch_up = {p.name: p.catch_up_days for p in playbooks.playbooks}
    late = [t[0] for t in open_tasks if t[0] not in done
            and t[2] < t[4] - timedelta(days=catch_up.get(t[5], 0))]
    for chunk in _ids_in_chunks(late):
        db.execute(update(Task).where(Task.id.in_(chunk)).values(
            state="skipped", closed_on=as_of, closed_by=PIPELINE,
            outcome_note="was due before the playbook started"))
    still_open = select(Task.run_id).where(Task.state == "open").distinct()
    db.execute(update(PlaybookRun).where(
        (PlaybookRun.state == "active") & (PlaybookRun.started_on <= as_of)
        & PlaybookRun.id.not_in(still_open)).values(state="completed", ended_on=as_of))


def publish_operations(engine: Engine, *, as_of: date, stages: pa.Table, fired: pa.Table,
                       triggers: pa.Table, team: pa.Table, signals: SignalDefinitions,
                       playbooks: PlaybookDefinitions, milestone_names: list[str],
                       evidence: Evidence | None = None) -> OperationsResult:
    """Bring stages, alerts, playbook runs and tasks forward to `as_of` (see the module)."""
    result = OperationsResult()
    accounts = stages.column("account_id").to_pylist()
    owners = dict(zip(accounts, _column(stages, "owner_email").to_pylist(), strict=True))
    reached = {m: _column(stages, f"{m}_on").to_pylist() for m in milestone_names}
    milestones = {a: {m: reached[m][i] for m in milestone_names}
                  for i, a in enumerate(accounts)}
    with session(engine) as db:
        members = _publish_team(db, _rows(team))
        entered = _publish_stages(db, as_of, stages,
                                  milestones if milestone_names else None)
        result.stages = stages.num_rows
        live = _publish_alerts(db, as_of, _rows(fired), signals, result)
        found = _triggers(as_of, playbooks, _rows(triggers), entered, live)
        _publish_runs(db, as_of, playbooks, found, owners, members, result)
        _close_tasks(db, as_of, playbooks, evidence, milestones, result)
        bump(db, BOOK)
    return result
