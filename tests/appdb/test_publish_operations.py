"""The book's state in the app database moves forward day by day: alerts open once per key,
respect their cool-down and resolve themselves; stages keep their entry day; playbooks start
once per trigger, close tasks on evidence and cancel when their trigger clears."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select

from quarterdeck.appdb.book_actions import (
    BookError,
    acknowledge_alert,
    close_task,
    resolve_alert,
    start_playbook,
)
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import AuditLogEntry
from quarterdeck.appdb.operations_exports import operations_table
from quarterdeck.appdb.operations_models import (
    Alert,
    AlertEvent,
    LifecycleStage,
    PlaybookRun,
    Task,
)
from quarterdeck.appdb.publish_operations import publish_operations
from quarterdeck.lifecycle.book import default_book
from quarterdeck.playbooks.triggers import TRIGGERS_SCHEMA as ENGINE_TRIGGERS
from quarterdeck.signals.evaluation import FIRED_SCHEMA as ENGINE_FIRED

BOOK = default_book()
D1 = date(2026, 6, 1)  # a Monday
CSM, MANAGER = "ana@example.com", "mo@example.com"
TEAM = pa.Table.from_pylist([
    {"email": CSM, "name": "Ana", "role": "csm", "manager_email": MANAGER,
     "capacity_accounts": 2, "capacity_arr": 10000},
    {"email": MANAGER, "name": "Mo", "role": "manager", "manager_email": None,
     "capacity_accounts": None, "capacity_arr": None}])


def stage(account: str, name: str = "mature", **facts: Any) -> dict[str, Any]:
    return {"account_id": account, "stage": name, "stage_rule": "always", "status": "active",
            "owner_email": CSM, "arr": 1200, "segment": "SMB", **facts}


def fired(signal: str, account: str, **more: Any) -> dict[str, Any]:
    s = BOOK.signals.signal(signal)
    return {"signal": signal, "kind": s.kind, "severity": s.severity, "account_id": account,
            "dedup_key": f"{signal}:{account}", "owner_email": CSM,
            "evidence": '{"arr": "1200.0"}', "rule": s.text(), **more}


# What the engine hands to publishing: fired_signals' and playbook_triggers' own shapes.
FIRED_SCHEMA = ENGINE_FIRED.to_pyarrow()
TRIGGER_SCHEMA = ENGINE_TRIGGERS.to_pyarrow()


def publish(engine: Engine, day: date, stages: list[dict[str, Any]],
            alerts: list[dict[str, Any]] = (), triggers: list[dict[str, Any]] = (),
            evidence: Any = None):
    keys = list(dict.fromkeys(k for row in stages for k in row))
    return publish_operations(
        engine, as_of=day, stages=pa.Table.from_pylist([{k: r.get(k) for k in keys}
                                                        for r in stages]),
        fired=pa.Table.from_pylist(list(alerts), schema=FIRED_SCHEMA),
        triggers=pa.Table.from_pylist(list(triggers), schema=TRIGGER_SCHEMA), team=TEAM,
        signals=BOOK.signals, playbooks=BOOK.playbooks, milestone_names=BOOK.milestone_names,
        evidence=evidence)


def alerts(engine: Engine) -> list[Alert]:
    with session(engine) as db:
        return list(db.scalars(select(Alert).order_by(Alert.id)))


def tasks(engine: Engine) -> dict[str, Task]:
    with session(engine) as db:
        return {t.key: t for t in db.scalars(select(Task).order_by(Task.id))}


def test_a_signal_firing_opens_one_alert_and_a_rerun_of_the_day_adds_none(engine) -> None:
    first = publish(engine, D1, [stage("a")], [fired("usage_drop", "a")])
    again = publish(engine, D1, [stage("a")], [fired("usage_drop", "a")])
    assert (first.alerts_opened, again.alerts_opened) == (1, 0)
    [alert] = alerts(engine)
    assert (alert.state, alert.fired_on, alert.evidence) == ("open", D1, {"arr": 1200})
    with session(engine) as db:
        assert db.scalar(select(AlertEvent.to_state)) == "open"


def test_an_alert_seen_again_stays_one_alert_and_resolves_when_the_condition_clears(
        engine) -> None:
    publish(engine, D1, [stage("a")], [fired("usage_drop", "a")])
    publish(engine, D1 + timedelta(days=1), [stage("a")], [fired("usage_drop", "a")])
    [alert] = alerts(engine)
    assert alert.last_seen_on == D1 + timedelta(days=1)
    # A rerun of an earlier day does not move the last sighting back.
    publish(engine, D1, [stage("a")], [fired("usage_drop", "a")])
    [alert] = alerts(engine)
    assert alert.last_seen_on == D1 + timedelta(days=1)
    opened_at = alert.state_changed_at
    result = publish(engine, D1 + timedelta(days=2), [stage("a")])
    [alert] = alerts(engine)
    assert result.alerts_resolved == 1
    assert (alert.state, alert.resolved_on, alert.state_changed_by) == (
        "auto_resolved", D1 + timedelta(days=2), "quarterdeck")
    assert alert.state_changed_at > opened_at


def test_the_cool_down_holds_back_a_new_alert_with_the_same_key(engine) -> None:
    cooldown = BOOK.signals.signal("usage_drop").cooldown_days  # 30
    publish(engine, D1, [stage("a")], [fired("usage_drop", "a")])
    publish(engine, D1 + timedelta(days=1), [stage("a")])  # cleared: auto-resolved
    inside = publish(engine, D1 + timedelta(days=cooldown - 1), [stage("a")],
                     [fired("usage_drop", "a")])
    after = publish(engine, D1 + timedelta(days=cooldown), [stage("a")],
                    [fired("usage_drop", "a")])
    assert (inside.alerts_opened, after.alerts_opened) == (0, 1)
    assert [a.fired_on for a in alerts(engine)] == [D1, D1 + timedelta(days=cooldown)]


def test_a_person_acknowledges_then_resolves_an_alert_and_it_is_audited(engine) -> None:
    publish(engine, D1, [stage("a")], [fired("usage_drop", "a")])
    [alert] = alerts(engine)
    acknowledge_alert(engine, alert.id, actor=CSM, note="called the champion", on=D1)
    with pytest.raises(BookError, match="only an alert that is open"):
        acknowledge_alert(engine, alert.id, actor=CSM, on=D1)
    resolve_alert(engine, alert.id, actor=CSM, note="usage back", on=D1)
    [alert] = alerts(engine)
    assert (alert.state, alert.state_changed_by) == ("resolved", CSM)
    assert alert.acknowledged_at is not None
    with session(engine) as db:
        states = [e.to_state for e in db.scalars(select(AlertEvent).order_by(AlertEvent.id))]
        audit = [e.action for e in db.scalars(select(AuditLogEntry))]
    assert states == ["open", "acknowledged", "resolved"]
    assert audit == ["alert.acknowledged", "alert.resolved"]
    # A resolved alert is not live: the signal firing again the next day opens a new one
    # only after its cool-down.
    assert publish(engine, D1 + timedelta(days=1), [stage("a")],
                   [fired("usage_drop", "a")]).alerts_opened == 0


def test_a_stage_keeps_the_day_it_was_entered(engine) -> None:
    publish(engine, D1, [stage("a", "onboarding")])
    publish(engine, D1 + timedelta(days=7), [stage("a", "onboarding")])
    publish(engine, D1 + timedelta(days=14), [stage("a", "adoption")])
    history = operations_table(engine, "lifecycle_history", D1 + timedelta(days=14))
    assert history.select(["stage", "entered_on", "left_on", "days_in_stage"]).to_pylist() == [
        {"stage": "onboarding", "entered_on": D1, "left_on": D1 + timedelta(days=14),
         "days_in_stage": 14},
        {"stage": "adoption", "entered_on": D1 + timedelta(days=14), "left_on": None,
         "days_in_stage": 0}]
    today = operations_table(engine, "lifecycle_stages", D1 + timedelta(days=7))
    assert today.select(["entered_on", "days_in_stage"]).to_pylist() == [
        {"entered_on": D1, "days_in_stage": 7}]


def test_an_account_without_arr_is_published_with_an_arr_of_zero(
        engine) -> None:
    # Every row without ARR: the column arrives untyped (all nulls).
    publish(engine, D1, [stage("a", arr=None), stage("b", arr=None)])
    with session(engine) as db:
        rows = db.execute(select(LifecycleStage.account_id, LifecycleStage.arr,
                                 LifecycleStage.renewal_date)
                          .order_by(LifecycleStage.account_id)).all()
    assert [(r.account_id, r.arr, r.renewal_date) for r in rows] == [
        ("a", 0, None), ("b", 0, None)]


def onboarding_trigger(account: str = "a") -> dict[str, Any]:
    return {"playbook": "onboarding", "trigger": "stage", "account_id": account,
            "trigger_key": "stage=onboarding", "anchor_date": D1}


def test_a_playbook_starts_once_per_trigger_with_tasks_due_on_business_days(engine) -> None:
    for day in (D1, D1, D1 + timedelta(days=1)):
        publish(engine, day, [stage("a", "onboarding", customer_since=D1)],
                triggers=[onboarding_trigger()])
    with session(engine) as db:
        runs = list(db.scalars(select(PlaybookRun)))
    assert [(r.playbook, r.trigger_key, r.anchor_date) for r in runs] == [
        ("onboarding", f"stage=onboarding:{D1}", D1)]
    due = {k: t.due_on for k, t in tasks(engine).items()}
    # Calendar days from Monday 2026-06-01, a weekend moved back to the Friday: +7 → Monday
    # 06-08, +30 → Wednesday 07-01, +60 → Friday 07-31, +90 → Sunday 08-30, due Friday 08-28.
    assert due == {"kickoff": D1, "technical_setup": date(2026, 6, 8),
                   "first_value_review": date(2026, 7, 1), "adoption_check": date(2026, 7, 31),
                   "graduation": date(2026, 8, 28)}
    assert tasks(engine)["technical_setup"].depends_on == ["kickoff"]


def test_tasks_close_on_their_evidence_and_late_ones_are_skipped(engine) -> None:
    def evidence(open_tasks: pa.Table) -> pa.Table:
        rows = [{"task_id": r["task_id"], "evidence_on": date(2026, 6, 9)}
                for r in open_tasks.to_pylist() if r["kind"] == "call"]
        return pa.Table.from_pylist(rows, schema=pa.schema([("task_id", pa.int64()),
                                                            ("evidence_on", pa.date32())]))
    later = D1 + timedelta(days=60)  # the playbook starts 60 days after its anchor
    publish(engine, later, [stage("a", "onboarding", customer_since=D1,
                                  kickoff_on=date(2026, 6, 2))],
            triggers=[onboarding_trigger()], evidence=evidence)
    t = tasks(engine)
    assert (t["kickoff"].state, t["kickoff"].closed_on) == ("done", date(2026, 6, 2))
    assert (t["technical_setup"].state, t["technical_setup"].closed_on) == (
        "done", date(2026, 6, 9))
    # Due 07-01, 30 days before the start: past the 14 days of catch-up, and no evidence.
    assert (t["first_value_review"].state, t["first_value_review"].outcome_note) == (
        "skipped", "was due before the playbook started")
    assert t["adoption_check"].state == "open"


def test_a_playbook_whose_trigger_clears_is_cancelled_when_it_says_so(engine) -> None:
    renewal = {"playbook": "renewal", "trigger": "condition", "account_id": "a",
               "trigger_key": "renewal_date=2026-09-28", "anchor_date": date(2026, 9, 28)}
    publish(engine, D1, [stage("a", "renewal")], triggers=[renewal])
    result = publish(engine, D1 + timedelta(days=1), [stage("a", "mature")])
    assert result.playbooks_cancelled == 1
    with session(engine) as db:
        run = db.scalar(select(PlaybookRun))
    assert (run.state, run.ended_on) == ("cancelled", D1 + timedelta(days=1))
    assert {t.state for t in tasks(engine).values()} == {"skipped"}


def test_closing_every_task_by_hand_completes_the_run(engine) -> None:
    publish(engine, D1, [stage("a", "at_risk")],
            triggers=[{"playbook": "risk_recovery", "trigger": "stage", "account_id": "a",
                       "trigger_key": "stage=at_risk", "anchor_date": None}])
    t = tasks(engine)
    assert t["executive_call"].owner_email == MANAGER  # owner_manager
    with pytest.raises(BookError, match="outcome note is required"):
        close_task(engine, t["diagnose"].id, actor=CSM, outcome=" ")
    for task in t.values():
        close_task(engine, task.id, actor=CSM, outcome="done", on=D1 + timedelta(days=3))
    with session(engine) as db:
        run = db.scalar(select(PlaybookRun))
    assert (run.state, run.ended_on) == ("completed", D1 + timedelta(days=3))
    status = operations_table(engine, "tasks", D1 + timedelta(days=2)).column("status")
    assert set(status.to_pylist()) == {"open"}  # closed after that day


def test_a_playbook_started_by_hand_is_anchored_on_the_published_facts(engine) -> None:
    publish(engine, D1, [stage("a", "mature", renewal_date=date(2026, 12, 1))])
    run = start_playbook(engine, BOOK.playbooks, "renewal", "a", actor=CSM, on=D1)
    assert (run.anchor_date, run.trigger, run.started_by) == (date(2026, 12, 1), "manual", CSM)
    with pytest.raises(BookError, match="already started"):
        start_playbook(engine, BOOK.playbooks, "renewal", "a", actor=CSM, on=D1)
    with pytest.raises(BookError, match="no account 'zz'"):
        start_playbook(engine, BOOK.playbooks, "renewal", "zz", actor=CSM, on=D1)


def test_a_signal_trigger_starts_its_playbook_from_the_alert_day_once_per_alert(engine) -> None:
    from quarterdeck.playbooks.definitions import PlaybookDefinitions

    playbooks = PlaybookDefinitions.model_validate({"playbooks": [{
        "name": "save_the_champion", "trigger": {"signal": "champion_left"},
        "anchor": "alert_date", "cancel_when_trigger_clears": True,
        "tasks": [{"key": "meet_successor", "title": "Meet the new champion", "due": 5}]}]})

    def day(on: date, alerts: list[dict[str, Any]]) -> Any:
        return publish_operations(
            engine, as_of=on, stages=pa.Table.from_pylist([stage("a")]),
            fired=pa.Table.from_pylist(alerts, schema=FIRED_SCHEMA),
            triggers=pa.Table.from_pylist([], schema=TRIGGER_SCHEMA), team=TEAM,
            signals=BOOK.signals, playbooks=playbooks, milestone_names=[])

    assert day(D1, [fired("champion_left", "a")]).playbooks_started == 1
    assert day(D1 + timedelta(days=1), [fired("champion_left", "a")]).playbooks_started == 0
    [task] = tasks(engine).values()
    assert task.due_on == D1 + timedelta(days=5)
    cleared = day(D1 + timedelta(days=2), [])  # the alert auto-resolves: the run is cancelled
    assert (cleared.alerts_resolved, cleared.playbooks_cancelled) == (1, 1)


@pytest.mark.parametrize(("anchor", "days", "setting", "due"), [
    (date(2026, 6, 1), 90, "roll", date(2026, 8, 28)),   # Sunday → the Friday before
    (date(2026, 10, 4), -30, "roll", date(2026, 9, 4)),  # Saturday 09-05 → Friday
    (date(2026, 6, 6), 0, "roll", date(2026, 6, 8)),     # a Saturday anchor → Monday
    (date(2026, 6, 6), 1, "roll", date(2026, 6, 8)),     # not before the anchor it follows
    (date(2026, 1, 2), -1, True, date(2025, 12, 31)),    # counted, 2026-01-01 a holiday
    (date(2026, 6, 1), 7, "count", date(2026, 6, 10)),   # 7 business days
    (date(2026, 6, 1), 90, False, date(2026, 8, 30)),    # calendar days, any day
])
def test_due_dates_on_business_days(anchor, days, setting, due) -> None:
    from quarterdeck.playbooks.schedule import due_date

    assert due_date(anchor, days, business_days=setting,
                    holidays=[date(2026, 1, 1)]) == due


def test_each_milestone_and_the_day_it_was_reached_are_published_with_the_stage(engine) -> None:
    import json

    names = BOOK.milestone_names
    reached = {f"{names[0]}_on": date(2026, 6, 2)}
    publish(engine, D1, [stage("a", "onboarding", customer_since=D1, **reached)])
    [row] = operations_table(engine, "lifecycle_stages", D1).to_pylist()
    assert json.loads(row["milestones_reached"]) == {
        n: "2026-06-02" if n == names[0] else None for n in names}
