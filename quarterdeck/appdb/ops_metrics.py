"""Operations metrics: how well the CS team runs the book, as of a date, by CSM, team or
segment (definitions with a worked example in docs/operations.md).

Read from the published book (lifecycle_stages of the date, team_members, tasks, alerts):

- capacity: paying accounts and their ARR per CSM against the team file's capacity_accounts and
  capacity_arr; utilisation is the larger of the two ratios, flagged `over` above 120% and
  `under` below 80%;
- playbook execution rate: of the tasks due in the 90 days ending on the date and not skipped,
  the share done on or before their due date;
- overdue tasks: tasks open on the date and due before it;
- onboarding completion rate: of the customers who started in the 365 days before the date
  and whose onboarding is decided (complete, or past its target), the share complete on time;
  median time to value: over those that reached first value, the median days to it;
- QBR coverage: share of paying accounts with a QBR in the 120 days ending on the date;
- alert response time: median days from the day an alert fired to the day it was
  acknowledged (the as-of day of the acknowledgement), over alerts fired in the 90 days ending
  on the date and acknowledged by then;
- alert outcome: of the risk alerts (severity high or critical, not expansion) whose account's
  renewal, as known when they fired, fell on or before the date, the share whose account still
  pays on the date.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, func, select

from quarterdeck.appdb.operations_exports import published_days
from quarterdeck.appdb.operations_models import (
    Alert,
    AlertEvent,
    LifecycleStage,
    PlaybookRun,
    Task,
    TeamMember,
    task_status,
)
from quarterdeck.errors import UnknownTableError

GROUPINGS = ("csm", "team", "segment")
OVER, UNDER = 1.2, 0.8
EXECUTION_WINDOW, ONBOARDING_WINDOW, QBR_WINDOW, ALERT_WINDOW = 90, 365, 120, 90


@dataclass
class _Group:
    accounts: int = 0
    arr: Decimal = Decimal(0)
    capacity_accounts: int | None = None
    capacity_arr: Decimal | None = None
    tasks_due: int = 0
    tasks_done_on_time: int = 0
    overdue_tasks: int = 0
    onboardings_decided: int = 0
    onboardings_on_time: int = 0
    ttv: list[int] | None = None
    qbr_covered: int = 0
    responses: list[int] | None = None
    risk_alerts_decided: int = 0
    risk_alerts_renewed: int = 0


def _ratio(num: float | Decimal, den: float | Decimal | None) -> float | None:
    return round(float(num) / float(den), 4) if den else None


def _median(values: list[int] | None) -> float | None:
    return float(statistics.median(values)) if values else None


def ops_metrics(engine: Engine, *, as_of: date, by: str = "csm") -> pa.Table:
    """One row per CSM, team (the CSMs' manager) or segment, plus a `total` row (see the
    module). Example: ops_metrics(engine, as_of=date(2026, 9, 30), by="segment")."""
    if by not in GROUPINGS:
        raise UnknownTableError(f"cannot group operations metrics by {by!r}; "
                                f"by one of {', '.join(GROUPINGS)}")
    with engine.connect() as conn:
        ls = LifecycleStage
        stages = [r._asdict() for r in conn.execute(select(
            ls.account_id, ls.owner_email, ls.segment, ls.status, ls.arr, ls.last_qbr_on,
            ls.customer_since, ls.onboarding_on_time, ls.time_to_value_days, ls.first_value_on)
            .where(ls.as_of == as_of))]
        if not stages:
            raise UnknownTableError(f"nothing of the book published as of {as_of}"
                                    f"{published_days(conn, as_of)}")
        team = {m.email: m for m in conn.execute(select(TeamMember))}
        tasks = conn.execute(select(Task.owner_email, Task.account_id, Task.due_on, Task.state,
                                    Task.closed_on)
                             .join(PlaybookRun, PlaybookRun.id == Task.run_id)
                             .where(PlaybookRun.started_on <= as_of)).all()
        acknowledged = (select(AlertEvent.alert_id, func.min(AlertEvent.on).label("on"))
                        .where(AlertEvent.to_state == "acknowledged")
                        .group_by(AlertEvent.alert_id).subquery())
        alerts = conn.execute(select(Alert.owner_email, Alert.account_id, Alert.fired_on,
                                     acknowledged.c.on, Alert.severity, Alert.kind)
                              .outerjoin(acknowledged, acknowledged.c.alert_id == Alert.id)
                              .where(Alert.fired_on <= as_of)).all()
        # The renewal each alert's account had on the day it fired: that day's stage row of
        # the account only (found by key from the alerts), not every account of every day.
        fired = (select(Alert.account_id, Alert.fired_on).where(Alert.fired_on <= as_of)
                 .distinct().subquery())
        renewal_then = {(account, day): renewal for account, day, renewal in conn.execute(
            select(fired.c.account_id, fired.c.fired_on, ls.renewal_date)
            .join(ls, (ls.as_of == fired.c.fired_on) & (ls.account_id == fired.c.account_id)))}
    segment_of = {s["account_id"]: s["segment"] for s in stages}
    status_of = {s["account_id"]: s["status"] for s in stages}

    def key(owner: str | None, account: str) -> str:
        if by == "segment":
            return segment_of.get(account) or "(none)"
        if by == "team":
            manager = team[owner].manager_email if owner in team else None
            return manager or "(no manager)"
        return owner or "(unowned)"

    groups: dict[str, _Group] = defaultdict(_Group)
    _accounts(groups, stages, key, as_of)
    _capacity(groups, team, by)
    _tasks(groups, tasks, key, as_of)
    _alerts(groups, alerts, key, as_of, renewal_then, status_of)
    total = _Group()
    for g in groups.values():
        for name in ("accounts", "tasks_due", "tasks_done_on_time", "overdue_tasks",
                     "onboardings_decided", "onboardings_on_time", "qbr_covered",
                     "risk_alerts_decided", "risk_alerts_renewed"):
            setattr(total, name, getattr(total, name) + getattr(g, name))
        total.arr += g.arr
        total.ttv = (total.ttv or []) + (g.ttv or [])
        total.responses = (total.responses or []) + (g.responses or [])
    rows = [_row(by, k, groups[k], as_of) for k in sorted(groups)]
    rows.append(_row(by, "total", total, as_of))
    return pa.Table.from_pylist(rows)


def _accounts(groups: dict[str, _Group], stages: Iterable[dict[str, Any]],
              key: Callable[[str | None, str], str], as_of: date) -> None:
    for s in stages:
        g = groups[key(s["owner_email"], s["account_id"])]
        if s["status"] == "active":
            g.accounts += 1
            g.arr += Decimal(str(s["arr"]))
            if s["last_qbr_on"] and s["last_qbr_on"] > as_of - timedelta(days=QBR_WINDOW):
                g.qbr_covered += 1
        started = s["customer_since"]
        if started and as_of - timedelta(days=ONBOARDING_WINDOW) < started <= as_of:
            if s["onboarding_on_time"] is not None:
                g.onboardings_decided += 1
                g.onboardings_on_time += bool(s["onboarding_on_time"])
            if s["time_to_value_days"] is not None and s["first_value_on"] is not None:
                g.ttv = (g.ttv or []) + [max(0, s["time_to_value_days"])]


def _capacity(groups: dict[str, _Group], team: dict[str, Any], by: str) -> None:
    if by == "segment":
        return
    for email, m in team.items():
        if m.role != "csm":
            continue
        k = email if by == "csm" else (m.manager_email or "(no manager)")
        g = groups[k]
        if m.capacity_accounts is not None:
            g.capacity_accounts = (g.capacity_accounts or 0) + m.capacity_accounts
        if m.capacity_arr is not None:
            g.capacity_arr = (g.capacity_arr or Decimal(0)) + Decimal(str(m.capacity_arr))


def _tasks(groups: dict[str, _Group], tasks: Iterable[Any],
           key: Callable[[str | None, str], str], as_of: date) -> None:
    window = as_of - timedelta(days=EXECUTION_WINDOW)
    for owner, account, due, state, closed in tasks:
        status = task_status(state, due, closed, as_of)
        g = groups[key(owner, account)]
        g.overdue_tasks += status == "overdue"
        if window < due <= as_of and status != "skipped":
            g.tasks_due += 1
            g.tasks_done_on_time += status == "done" and closed <= due


def _alerts(groups: dict[str, _Group], alerts: Iterable[Any],
            key: Callable[[str | None, str], str], as_of: date,
            renewal_then: dict[tuple[str, date], date | None],
            status_of: dict[str, str]) -> None:
    window = as_of - timedelta(days=ALERT_WINDOW)
    for owner, account, fired, acknowledged, severity, kind in alerts:
        g = groups[key(owner, account)]
        if acknowledged is not None and fired > window and acknowledged <= as_of:
            g.responses = (g.responses or []) + [max(0, (acknowledged - fired).days)]
        renewal = renewal_then.get((account, fired))
        if severity in ("high", "critical") and kind != "expansion" and renewal \
                and renewal <= as_of:
            g.risk_alerts_decided += 1
            g.risk_alerts_renewed += status_of.get(account) == "active"


def _row(by: str, name: str, g: _Group, as_of: date) -> dict[str, Any]:
    util = [u for u in (_ratio(g.accounts, g.capacity_accounts),
                        _ratio(g.arr, g.capacity_arr)) if u is not None]
    utilisation = max(util) if util else None
    flag = None if utilisation is None else (
        "over" if utilisation > OVER else "under" if utilisation < UNDER else "ok")
    return {
        "as_of": as_of, "by": by, "group": name, "accounts": g.accounts,
        "arr": float(g.arr), "capacity_accounts": g.capacity_accounts,
        "capacity_arr": None if g.capacity_arr is None else float(g.capacity_arr),
        "utilisation": utilisation, "capacity_flag": flag,
        "tasks_due_90d": g.tasks_due, "tasks_done_on_time": g.tasks_done_on_time,
        "execution_rate": _ratio(g.tasks_done_on_time, g.tasks_due),
        "overdue_tasks": g.overdue_tasks,
        "onboardings_decided": g.onboardings_decided,
        "onboarding_completion_rate": _ratio(g.onboardings_on_time, g.onboardings_decided),
        "median_time_to_value_days": _median(g.ttv),
        "qbr_coverage": _ratio(g.qbr_covered, g.accounts),
        "median_alert_response_days": _median(g.responses),
        "risk_alerts_decided": g.risk_alerts_decided,
        "alert_renewal_rate": _ratio(g.risk_alerts_renewed, g.risk_alerts_decided),
    }
