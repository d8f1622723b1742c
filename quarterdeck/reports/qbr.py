"""The facts of one account's quarterly business review (QBR), as of a date, from the same
tables `quarterdeck export` writes: its published snapshot, ARR history, lifecycle stage,
churn risk, alerts and tasks (app database) and its health, usage, milestones, tickets and
surveys (warehouse).

Example: build_qbr(ws, "acct-000042", date(2026, 9, 30)).support.tickets_90d
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

import ibis
from pydantic import BaseModel

from quarterdeck.reports import book_figures
from quarterdeck.reports.errors import UnknownAccountError
from quarterdeck.workspace.workspace import Workspace

SUPPORT_DAYS, USAGE_DAYS = 90, 365


class SupportSummary(BaseModel):
    """Tickets opened in the 90 days ending on the date, those still open on it, the median
    hours to solve those solved, average CSAT and the latest NPS (surveys by then)."""

    tickets_90d: int
    open_tickets: int
    median_hours_to_solve: float | None
    csat_average: float | None
    latest_nps: float | None


class QbrTask(BaseModel):
    title: str
    owner_email: str | None
    due_on: date
    status: str
    playbook: str


class Qbr(BaseModel):
    """Everything one account's QBR deck shows."""

    account_id: str
    name: str
    as_of: date
    currency: str
    owner_email: str | None
    owner_name: str | None
    segment: str | None
    arr: Decimal
    customer_since: date | None
    renewal_date: date | None
    stage: str | None
    onboarding_complete: bool | None
    time_to_value_days: int | None
    milestones: list[tuple[date, str]]
    arr_by_month: list[tuple[date, Decimal]]
    usage_by_month: list[tuple[date, int]]
    active_users_30d: int
    support: SupportSummary
    health_score: float | None
    health_band: str | None
    health_reasons: list[str]
    churn_probability_window: float | None
    churn_window_days: int | None
    churn_reasons: list[str]
    live_alerts: list[str]
    open_tasks: list[QbrTask]


def build_qbr(ws: Workspace, account_id: str, as_of: date) -> Qbr:
    """The QBR of `account_id` as of `as_of`; an account not published that day is refused."""
    return build_qbrs(ws, [account_id], as_of)[0]


def build_qbrs(ws: Workspace, account_ids: Sequence[str], as_of: date) -> list[Qbr]:
    """The QBRs of several accounts as of `as_of`, each table read once for all of them; an
    account not published that day is refused before anything is computed."""
    from quarterdeck.appdb.database import make_engine
    from quarterdeck.appdb.exports import published_table
    from quarterdeck.appdb.operations_exports import operations_table

    wanted = set(account_ids)
    engine = make_engine(ws.app_database_url)
    try:
        snaps = book_figures.snapshots(engine, as_of)
        unknown = sorted(wanted - set(snaps))
        if unknown:
            raise UnknownAccountError(
                f"no account {', '.join(map(repr, unknown[:5]))} was published as of {as_of} "
                f"({len(snaps):,} accounts were; see `quarterdeck export account_snapshots "
                f"--as-of {as_of}`)")
        history: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        for r in published_table(engine, "account_arr_history", as_of).to_pylist():
            if r["account_id"] in wanted:
                history[r["account_id"]].append((r["month"], Decimal(str(r["arr"]))))
        risks = book_figures.churn_risk(engine, as_of)
        stages = {r["account_id"]: r for r in
                  operations_table(engine, "lifecycle_stages", as_of).to_pylist()
                  if r["account_id"] in wanted}
        alerts = defaultdict(list)
        for a in book_figures.alerts(engine, as_of):
            if a["account_id"] in wanted and a["state"] in ("open", "acknowledged"):
                alerts[a["account_id"]].append(a)
        tasks = defaultdict(list)
        for t in book_figures.tasks(engine, as_of):
            if t["account_id"] in wanted and t["status"] in ("open", "overdue"):
                tasks[t["account_id"]].append(t)
    finally:
        engine.dispose()
    facts = _warehouse_facts(ws, sorted(wanted), as_of)
    descriptions = {s.name: s.description for s in ws.book.signals.signals}
    return [_qbr(snaps[a], as_of, sorted(history[a]), risks.get(a) or {}, stages.get(a) or {},
                 alerts[a], tasks[a], facts[a], descriptions) for a in account_ids]


def _qbr(snap: dict, as_of: date, history: list, risk: dict, stage: dict, alerts: list,
         tasks: list, facts: dict, descriptions: dict) -> Qbr:
    reasons = risk.get("reasons") if risk.get("reasons_direction") != "lowers" else None
    return Qbr(
        account_id=snap["account_id"], name=snap["name"], as_of=as_of,
        currency=snap["currency"], owner_email=snap.get("owner_email"),
        owner_name=snap.get("owner_name"), segment=snap.get("segment"),
        arr=Decimal(str(snap["arr"])), customer_since=snap.get("customer_since"),
        renewal_date=snap.get("renewal_date"), stage=stage.get("stage"),
        onboarding_complete=stage.get("onboarding_complete"),
        time_to_value_days=stage.get("time_to_value_days"), arr_by_month=history,
        active_users_30d=snap.get("active_users_30d") or 0,
        churn_probability_window=risk.get("churn_probability_window"),
        churn_window_days=risk.get("window_days"), churn_reasons=list(reasons or []),
        live_alerts=[f"{descriptions.get(a['signal']) or a['signal']} (since {a['fired_on']})"
                     for a in alerts],
        open_tasks=[QbrTask(title=t["title"], owner_email=t["owner_email"], due_on=t["due_on"],
                            status=t["status"], playbook=t["playbook"])
                    for t in sorted(tasks, key=lambda t: t["due_on"])],
        **facts)


def _warehouse_facts(ws: Workspace, accounts: list[str], as_of: date) -> dict[str, dict]:
    """Per account: usage by month, milestones, support summary and health, each table
    filtered to the accounts and read once."""
    from quarterdeck.health import feature_table, health_scores
    from quarterdeck.warehouse.account_daily import account_daily
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse

    con = open_warehouse(ws, read_only=True)
    try:
        tables = canonical_tables(con)
        lit = ibis.literal
        daily = account_daily(tables, as_of=as_of, base_currency=ws.settings.base_currency,
                              start=as_of - timedelta(days=USAGE_DAYS))
        daily = daily.filter(daily.account_id.isin(accounts))
        usage = daily.group_by("account_id", month=daily.date.truncate("M").cast("date")).agg(
            events=daily.events.sum())
        usage_rows = con.to_pyarrow(usage.order_by("account_id", "month")).to_pylist()
        acts = tables["activities"]
        acts = acts.filter(acts.account_id.isin(accounts) & (acts.kind == "milestone")
                           & (acts.occurred_at.date() <= lit(as_of)))
        milestones = con.to_pyarrow(acts.select("account_id", on=acts.occurred_at.date(),
                                                subject=acts.subject).order_by("on")).to_pylist()
        t = tables["tickets"]
        t = t.filter(t.account_id.isin(accounts) & (t.created_at.date() <= lit(as_of)))
        tickets = con.to_pyarrow(t.select("account_id", "created_at", "solved_at")).to_pylist()
        s = tables["surveys"]
        s = s.filter(s.account_id.isin(accounts) & (s.responded_at.date() <= lit(as_of)))
        surveys = con.to_pyarrow(s.select("account_id", "kind", "score", "responded_at")
                                 .order_by("responded_at")).to_pylist()
        f = feature_table(tables, as_of=as_of, base_currency=ws.settings.base_currency,
                          features=ws.health_models.features, lookback=(7, 30))
        f = f.filter(f.account_id.isin(accounts))
        scores = health_scores(f, ws.health_models, as_of=as_of)
        health = {r["account_id"]: r for r in con.to_pyarrow(scores.select(
            "account_id", "score", "band", "reason_1", "reason_2", "reason_3")).to_pylist()}
    finally:
        con.disconnect()
    out: dict[str, dict] = {}
    for account in accounts:
        h = health.get(account, {})
        out[account] = {
            "usage_by_month": [(r["month"], int(r["events"] or 0)) for r in usage_rows
                               if r["account_id"] == account],
            "milestones": [(r["on"], r["subject"] or "milestone") for r in milestones
                           if r["account_id"] == account],
            "support": _support([r for r in tickets if r["account_id"] == account],
                                [r for r in surveys if r["account_id"] == account], as_of),
            "health_score": h.get("score"), "health_band": h.get("band"),
            "health_reasons": [h[k] for k in ("reason_1", "reason_2", "reason_3") if h.get(k)]}
    return out


def _support(tickets: list[dict], surveys: list[dict], as_of: date) -> SupportSummary:
    """Tickets and surveys of one account as known on `as_of` (a ticket solved later is
    open)."""
    since = as_of - timedelta(days=SUPPORT_DAYS)
    recent = [r for r in tickets if r["created_at"].date() > since]
    solved = [r for r in recent if r["solved_at"] is not None and r["solved_at"].date() <= as_of]
    hours = [(r["solved_at"] - r["created_at"]).total_seconds() / 3600 for r in solved]
    still_open = [r for r in tickets if r["solved_at"] is None or r["solved_at"].date() > as_of]
    csat = [float(r["score"]) for r in surveys if r["kind"] == "csat"
            and r["responded_at"].date() > since]
    nps = [float(r["score"]) for r in surveys if r["kind"] == "nps"]
    return SupportSummary(tickets_90d=len(recent), open_tickets=len(still_open),
                          median_hours_to_solve=round(median(hours), 1) if hours else None,
                          csat_average=round(sum(csat) / len(csat), 2) if csat else None,
                          latest_nps=nps[-1] if nps else None)
