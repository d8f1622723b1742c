"""What people do to the book: acknowledge or resolve an alert, close or skip a task, start a
playbook by hand. Each change records who and when on the row, in the alert's history and in
the audit log, in the same transaction; a change that is not allowed raises `BookError`.

Example: acknowledge_alert(engine, 12, actor="ana@example.com", note="called them").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select

from quarterdeck.appdb.audit import record
from quarterdeck.appdb.data_versions import BOOK, bump
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.operations_models import (
    LIVE_ALERT_STATES,
    AccountNote,
    Alert,
    AlertEvent,
    LifecycleStage,
    PlaybookRun,
    Task,
    TeamMember,
)
from quarterdeck.appdb.publish_operations import start_run
from quarterdeck.errors import QuarterdeckError
from quarterdeck.playbooks.definitions import PlaybookDefinitions


class BookError(QuarterdeckError):
    """An alert, task or playbook change that cannot be made (unknown id, wrong state)."""


def _alert_change(engine: Engine, alert_id: int, *, actor: str, to: str, note: str | None,
                  on: date, allowed: tuple[str, ...]) -> dict[str, Any]:
    with session(engine) as db:
        alert = db.get(Alert, alert_id)
        if alert is None:
            raise BookError(f"no alert {alert_id}")
        if alert.state not in allowed:
            raise BookError(f"alert {alert_id} is {alert.state}; only an alert that is "
                            f"{' or '.join(allowed)} can become {to}")
        before = alert.state
        alert.state, alert.state_changed_by, alert.state_changed_at = to, actor, utcnow()
        alert.note = note or alert.note
        if to == "acknowledged":
            alert.acknowledged_at = alert.state_changed_at
        if to == "resolved":
            alert.resolved_on = on
        db.add(AlertEvent(alert_id=alert_id, on=on, actor=actor, from_state=before,
                          to_state=to, note=note))
        record(db, actor, f"alert.{to}", f"alert {alert_id}",
               {"before": before, "after": to, "note": note, "account_id": alert.account_id})
        bump(db, BOOK)
        return {"id": alert_id, "account_id": alert.account_id, "before": before, "after": to}


def acknowledge_alert(engine: Engine, alert_id: int, *, actor: str, note: str | None = None,
                      on: date | None = None) -> dict[str, Any]:
    """open → acknowledged: someone has seen it and owns the next step."""
    return _alert_change(engine, alert_id, actor=actor, to="acknowledged", note=note,
                         on=on or date.today(), allowed=("open",))


def resolve_alert(engine: Engine, alert_id: int, *, actor: str, note: str | None = None,
                  on: date | None = None) -> dict[str, Any]:
    """open or acknowledged → resolved, with what was done."""
    return _alert_change(engine, alert_id, actor=actor, to="resolved", note=note,
                         on=on or date.today(), allowed=LIVE_ALERT_STATES)


def close_task(engine: Engine, task_id: int, *, actor: str, outcome: str, skip: bool = False,
               on: date | None = None) -> dict[str, Any]:
    """An open task becomes done (or skipped) with an outcome note."""
    if not outcome.strip():
        raise BookError("say what came of it: an outcome note is required")
    to = "skipped" if skip else "done"
    with session(engine) as db:
        task = db.get(Task, task_id)
        if task is None:
            raise BookError(f"no task {task_id}")
        if task.state != "open":
            raise BookError(f"task {task_id} is already {task.state}")
        task.state, task.closed_by, task.closed_at = to, actor, utcnow()
        task.closed_on, task.outcome_note = on or date.today(), outcome
        record(db, actor, f"task.{to}", f"task {task_id}",
               {"before": "open", "after": to, "outcome": outcome,
                "account_id": task.account_id})
        if not db.scalar(select(func.count()).select_from(Task).where(
                (Task.run_id == task.run_id) & (Task.state == "open"))):
            run = db.get(PlaybookRun, task.run_id)
            if run is not None and run.state == "active":
                run.state, run.ended_on = "completed", task.closed_on
        bump(db, BOOK)
        return {"id": task_id, "account_id": task.account_id, "before": "open", "after": to}


def start_playbook(engine: Engine, playbooks: PlaybookDefinitions, name: str, account_id: str,
                   *, actor: str, on: date, anchor: date | None = None) -> PlaybookRun:
    """Start playbook `name` for an account by hand, anchored on `anchor` (else the anchor its
    definition names, from the latest published stage row); never twice the same day."""
    try:
        p = playbooks.playbook(name)
    except KeyError as exc:
        raise BookError(exc.args[0]) from None
    with session(engine) as db:
        latest = db.scalar(select(func.max(LifecycleStage.as_of)).where(
            (LifecycleStage.account_id == account_id) & (LifecycleStage.as_of <= on)))
        if latest is None:
            raise BookError(f"no account {account_id!r} published on or before {on}: run "
                            "`quarterdeck run` first, or check the id")
        facts = db.get(LifecycleStage, (latest, account_id))
        assert facts is not None
        if anchor is None:
            anchor = {"contract_start": facts.customer_since, "renewal_date": facts.renewal_date,
                      "stage_entry": facts.entered_on}.get(p.anchor, on)
        if anchor is None:
            raise BookError(f"{account_id} has no {p.anchor.replace('_', ' ')}: pass --anchor")
        key = f"manual:{on.isoformat()}"
        if db.scalar(select(PlaybookRun.id).where(
                (PlaybookRun.playbook == name) & (PlaybookRun.account_id == account_id)
                & (PlaybookRun.trigger_key == key))):
            raise BookError(f"{name} was already started for {account_id} on {on}")
        team = {m.email: {"role": m.role, "manager_email": m.manager_email}
                for m in db.scalars(select(TeamMember))}
        run = start_run(db, p, account_id, key=key, anchor=anchor, started_on=on,
                        started_by=actor, owner=facts.owner_email, team=team,
                        holidays=playbooks.holidays)
        run.trigger = "manual"
        record(db, actor, "playbook.start", f"{account_id}",
               {"playbook": name, "anchor": anchor.isoformat(), "run_id": run.id})
        bump(db, BOOK)
        return run


NOTE_KINDS = ("note", "meeting", "call")


def add_note(engine: Engine, account_id: str, body: str, *, actor: str, kind: str = "note",
             on: date | None = None) -> int:
    """Log a note, meeting or call on an account; returns its id."""
    if kind not in NOTE_KINDS:
        raise BookError(f"unknown kind {kind!r}: a note, meeting or call")
    if not body.strip():
        raise BookError("a note needs some text")
    if len(body) > 20_000:
        raise BookError("a note holds at most 20,000 characters")
    with session(engine) as db:
        known = db.scalar(select(LifecycleStage.account_id).where(
            LifecycleStage.account_id == account_id).limit(1))
        if known is None:
            raise BookError(f"no account {account_id!r} has been published")
        note = AccountNote(account_id=account_id, kind=kind, body=body.strip(),
                           occurred_on=on or date.today(), author=actor)
        db.add(note)
        db.flush()
        record(db, actor, f"note.{kind}", account_id, {"note_id": note.id})
        bump(db, BOOK)
        return note.id
