"""`task_evidence`: the first activity that closes each open task, found in the warehouse.

A task that closes on an activity is done on the first day, from its window start (its due
date less `within_days`) to T, that an activity of its kind was logged for its account.

Example: a task "value review" due 2026-06-30 with {activity: qbr, within_days: 45} is done on
2026-06-02 when a QBR was logged that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import ibis.expr.types as ir

from quarterdeck.warehouse.schema import entity_table
from quarterdeck.warehouse.subscription_mrr import day_after


def task_evidence(tables: Mapping[str, ir.Table], tasks: ir.Table, *, as_of: date) -> ir.Table:
    """(task_id, evidence_on) for the tasks (task_id, account_id, kind, window_start) that an
    activity closes by `as_of`."""
    a = entity_table(tables, "activities")
    a = a.filter(a.occurred_at < day_after(as_of)).select(
        "account_id", "kind", on=a.occurred_at.date())
    j = tasks.join(a, ["account_id", "kind", a.on >= tasks.window_start])
    return j.group_by("task_id").agg(evidence_on=j.on.min())
