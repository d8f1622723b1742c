"""The weekly report's figures read from the app database, through the same functions as
`quarterdeck export` and `quarterdeck ops`: the published account snapshots and churn risk of
the date, the book's alerts and tasks as they stood on it, the operations metrics by CSM and
the data-quality checks that were not ok.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from quarterdeck.appdb.exports import published_table
from quarterdeck.appdb.models import ChurnRisk, DataQualityCheck
from quarterdeck.appdb.operations_exports import operations_table
from quarterdeck.appdb.ops_metrics import ops_metrics
from quarterdeck.reports.weekly_report import AlertCount, OpsLine, QualityWarning

# The report sections each entity of the data contract feeds (data-quality warnings name them).
SECTIONS_OF_ENTITY = {
    "accounts": ["ARR bridge", "retention", "renewals", "next best actions"],
    "subscriptions": ["ARR bridge", "retention", "renewals", "next best actions"],
    "fx_rates": ["ARR bridge", "retention"],
    "events": ["health movement", "next best actions"],
    "usage_daily": ["health movement", "next best actions"],
    "tickets": ["health movement"],
    "surveys": ["health movement"],
    "contacts": ["health movement", "next best actions"],
    "invoices": ["health movement", "alerts"],
    "activities": ["CS operations", "health movement"],
    "team": ["CS operations", "next best actions"],
    "opportunities": ["renewals"],
}


def snapshots(engine: Engine, as_of: date) -> dict[str, dict[str, Any]]:
    """The published account snapshots of `as_of`, by account id (`account_snapshots`)."""
    return {r["account_id"]: r
            for r in published_table(engine, "account_snapshots", as_of).to_pylist()}


def churn_risk(engine: Engine, as_of: date) -> dict[str, dict[str, Any]]:
    """Published churn risk of `as_of`, by account id (empty when no model was published)."""
    t = ChurnRisk.__table__
    with engine.connect() as conn:
        found = conn.execute(select(t).where(t.c.as_of == as_of)).mappings().all()
    return {r["account_id"]: dict(r) for r in found}


def alerts(engine: Engine, as_of: date) -> list[dict[str, Any]]:
    """The book's alerts as they stood on `as_of` (`quarterdeck export alerts`)."""
    return operations_table(engine, "alerts", as_of).to_pylist()


def tasks(engine: Engine, as_of: date) -> list[dict[str, Any]]:
    """The book's tasks with their status on `as_of` (`quarterdeck export tasks`)."""
    return operations_table(engine, "tasks", as_of).to_pylist()


def alerts_fired_in_week(all_alerts: list[dict[str, Any]], as_of: date,
                         descriptions: dict[str, str]) -> list[AlertCount]:
    """Alerts fired in the seven days ending on `as_of`, counted by signal."""
    first = as_of - timedelta(days=6)
    week = [a for a in all_alerts if first <= a["fired_on"] <= as_of]
    counts = Counter(a["signal"] for a in week)
    live = Counter(a["signal"] for a in week if a["state"] in ("open", "acknowledged"))
    first_of = {a["signal"]: a for a in week}
    return [AlertCount(signal=s, kind=first_of[s]["kind"], severity=first_of[s]["severity"],
                       description=descriptions.get(s, ""), count=n, open=live[s])
            for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def operations(engine: Engine, as_of: date) -> list[OpsLine]:
    """Operations metrics per CSM and in total (`quarterdeck ops --by csm`)."""
    return [OpsLine(group=r["group"], accounts=r["accounts"], arr=Decimal(str(r["arr"])),
                    utilisation=r["utilisation"], capacity_flag=r["capacity_flag"],
                    overdue_tasks=r["overdue_tasks"],
                    playbook_execution_rate=r["execution_rate"],
                    onboarding_completion_rate=r["onboarding_completion_rate"],
                    qbr_coverage=r["qbr_coverage"])
            for r in ops_metrics(engine, as_of=as_of, by="csm").to_pylist()]


def quality_warnings(engine: Engine, as_of: date) -> list[QualityWarning]:
    """Data-quality checks of `as_of` with status warning or error, with the sections their
    entity feeds."""
    t = DataQualityCheck.__table__
    query = (select(t).where((t.c.as_of == as_of) & (t.c.status != "ok"))
             .order_by(t.c.status, t.c.source, t.c.entity, t.c.check, t.c.rule, t.c.field))
    with engine.connect() as conn:
        found = conn.execute(query).mappings().all()
    return [QualityWarning(source=r["source"], entity=r["entity"], check=r["check"],
                           field=r["field"], status=r["status"], detail=r["detail"],
                           affects=SECTIONS_OF_ENTITY.get(r["entity"], []))
            for r in found]
