"""Build the weekly operating report of a date from the warehouse and the app database.

Example: build_weekly_report(ws, date(2026, 9, 30)) → WeeklyReport; render it with
`quarterdeck.reports.render_html`, `render_pdf` or `render_markdown`.

The renewal forecast is an optional input (`forecast`: account id → ForecastLine); without
it the renewals section says the forecast is not available.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from quarterdeck.reports import book_figures, warehouse_figures
from quarterdeck.reports.definitions import ReportDefinitions, load_report_definitions
from quarterdeck.reports.next_best_actions import AccountBook, rank_actions
from quarterdeck.reports.weekly_report import (
    ForecastLine,
    ForecastTotal,
    HealthMove,
    RenewalDecided,
    RenewalDue,
    Retention,
    WeeklyReport,
)
from quarterdeck.workspace.workspace import Workspace

RENEWAL_HORIZON_DAYS = 90
Progress = Callable[[str], None]


def build_weekly_report(ws: Workspace, as_of: date, *,
                        forecast: Mapping[str, ForecastLine] | None = None,
                        definitions: ReportDefinitions | None = None,
                        progress: Progress | None = None) -> WeeklyReport:
    """The weekly operating report of `as_of` (see docs/reports.md for every section)."""
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.warehouse.connection import open_warehouse

    defs = definitions or load_report_definitions(ws.definitions_dir)
    step = progress or (lambda _: None)
    engine = make_engine(ws.app_database_url)
    try:
        migrate(engine)  # before the first run the tables are made empty: nothing published
        step("published accounts")
        snaps = book_figures.snapshots(engine, as_of)
        risk = book_figures.churn_risk(engine, as_of)
        all_alerts = book_figures.alerts(engine, as_of)
        all_tasks = book_figures.tasks(engine, as_of)
        step("operations")
        ops = book_figures.operations(engine, as_of)
        quality = book_figures.quality_warnings(engine, as_of)
        stakes: dict[str, tuple[float, float, float]] = {}
        period_sd = 0.0
        if forecast is None:
            from quarterdeck.appdb.forecast_exports import published_period_sd

            forecast, stakes = published_forecast_lines(engine, as_of)
            period_sd = published_period_sd(engine, as_of)
    finally:
        engine.dispose()
    con = open_warehouse(ws, read_only=True)
    try:
        step("ARR bridge")
        week = warehouse_figures.bridge_period(ws, con, as_of, "week")
        quarter = warehouse_figures.bridge_period(ws, con, as_of, "fiscal_quarter")
        step("retention")
        ret = warehouse_figures.trailing_retention(ws, con, as_of)
        step("health")
        changes, health = warehouse_figures.health_week(ws, con, as_of)
        step("renewals")
        decided = warehouse_figures.renewals_known_in_week(ws, con, as_of)
    finally:
        con.disconnect()

    descriptions = {s.name: s.description for s in ws.book.signals.signals}
    moves = [HealthMove(account_id=c.account_id, name=_name(snaps, c.account_id),
                        owner_email=snaps.get(c.account_id, {}).get("owner_email"),
                        arr=_arr(snaps, c.account_id), band_before=c.band_before,
                        band_now=c.band_now, score_before=c.score_before,
                        score_now=c.score_now, components=c.components)
             for c in changes]
    moves.sort(key=lambda m: (-m.arr, m.account_id))
    due = _renewals_due(snaps, health, risk, forecast, as_of)
    step("next best actions")
    books = _books(snaps, health, risk, all_alerts, all_tasks, moves)
    actions = rank_actions(books, as_of, defs, descriptions)
    notes = []
    if not risk:
        notes.append("No churn model was published for this date: actions are ranked by the "
                     "risk of each health band.")
    return WeeklyReport(
        company=ws.settings.name, as_of=as_of, currency=ws.settings.base_currency,
        week=week, quarter=quarter, retention=_retention(ret, defs, as_of),
        health_moves=moves,
        renewals_decided=[RenewalDecided(
            account_id=r["account_id"], name=_name(snaps, r["account_id"]),
            owner_email=snaps.get(r["account_id"], {}).get("owner_email"),
            decision_date=r["decision_date"], arr_at_stake=Decimal(str(r["arr_at_stake"])),
            arr_after=Decimal(str(r["arr_after"])), result=r["result"]) for r in decided],
        renewals_due=due,
        forecast_total=(_exact_total(due, stakes, period_sd) if stakes
                        else _forecast_total(due))
        if forecast else None,
        alerts=book_figures.alerts_fired_in_week(all_alerts, as_of, descriptions),
        ops=ops, quality=quality, actions=actions, notes=notes)


def _name(snaps: Mapping[str, Mapping], account: str) -> str:
    return str(snaps.get(account, {}).get("name") or account)


def _arr(snaps: Mapping[str, Mapping], account: str) -> Decimal:
    return Decimal(str(snaps.get(account, {}).get("arr") or 0))


def _retention(row: Mapping, defs: ReportDefinitions, as_of: date) -> Retention:
    return Retention(window_start=row.get("window_start") or as_of,
                     cohort_customers=row.get("cohort_customers") or 0,
                     nrr=row.get("nrr"), grr=row.get("grr"), logo_churn=row.get("logo_churn"),
                     revenue_churn=row.get("revenue_churn"),
                     target_nrr=float(defs.targets.nrr), target_grr=float(defs.targets.grr))


def _renewals_due(snaps: Mapping[str, Mapping], health: Mapping[str, Mapping],
                  risk: Mapping[str, Mapping], forecast: Mapping[str, ForecastLine] | None,
                  as_of: date) -> list[RenewalDue]:
    out = []
    for account, s in snaps.items():
        renewal = s.get("renewal_date")
        if s.get("status") != "active" or renewal is None:
            continue
        days = (renewal - as_of).days
        if not 0 <= days <= RENEWAL_HORIZON_DAYS:
            continue
        out.append(RenewalDue(
            account_id=account, name=s["name"], owner_email=s.get("owner_email"),
            renewal_date=renewal, days_to_renewal=days, arr=Decimal(str(s["arr"])),
            band=health.get(account, {}).get("band"),
            churn_probability_window=risk.get(account, {}).get("churn_probability_window"),
            forecast=(forecast or {}).get(account)))
    out.sort(key=lambda r: (r.renewal_date, r.account_id))
    return out


def _forecast_total(due: list[RenewalDue]) -> ForecastTotal:
    lines = [r.forecast for r in due if r.forecast is not None]
    lows = [f.low_arr for f in lines]
    highs = [f.high_arr for f in lines]
    return ForecastTotal(
        expected_arr=sum((f.expected_arr for f in lines), Decimal(0)),
        low_arr=None if any(v is None for v in lows) else sum(lows, Decimal(0)),  # type: ignore[arg-type]
        high_arr=None if any(v is None for v in highs) else sum(highs, Decimal(0)))  # type: ignore[arg-type]


def _books(snaps: Mapping[str, Mapping], health: Mapping[str, Mapping],
           risk: Mapping[str, Mapping], alerts: list[dict], tasks: list[dict],
           moves: list[HealthMove]) -> list[AccountBook]:
    live, overdue = defaultdict(list), defaultdict(list)
    for a in alerts:
        if a["state"] in ("open", "acknowledged") and a["kind"] != "expansion":
            live[a["account_id"]].append(a)
    for t in tasks:
        if t["status"] == "overdue":
            overdue[t["account_id"]].append(t)
    moved = {m.account_id: m for m in moves}
    return [AccountBook(snapshot=s, band=health.get(a, {}).get("band"), churn=risk.get(a),
                        alerts=live[a], overdue_tasks=overdue[a], move=moved.get(a))
            for a, s in snaps.items()]


def published_forecast_lines(engine: Any, as_of: date) -> tuple[
        dict[str, ForecastLine] | None, dict[str, tuple[float, float, float]]]:
    """The renewal forecast published by `quarterdeck run` for `as_of`, as the report's input:
    each account's next decision in the 90 days (its P(renew) × P(reached) and expected ARR),
    and its (ARR at stake, P(renew), P(reached)) for the interval. None before any forecast
    was published for the day."""
    from quarterdeck.appdb.forecast_exports import published_forecast

    table = published_forecast(engine, as_of)
    if table.num_rows == 0 or "as_of" not in table.column_names:
        return None, {}
    horizon = as_of + timedelta(days=RENEWAL_HORIZON_DAYS)
    lines: dict[str, ForecastLine] = {}
    stakes: dict[str, tuple[float, float, float]] = {}
    for r in table.to_pylist():  # by renewal date: the first row of an account is its next
        if r["as_of"] != as_of or not as_of <= r["renewal_date"] <= horizon \
                or r["account_id"] in lines:
            continue
        lines[r["account_id"]] = ForecastLine(
            probability=round(r["p_renew"] * r["p_reached"], 4),
            expected_arr=Decimal(str(r["expected_arr"])))
        stakes[r["account_id"]] = (float(r["arr_at_stake"]), r["p_renew"], r["p_reached"])
    return (lines or None), stakes


def _exact_total(due: list[RenewalDue], stakes: dict[str, tuple[float, float, float]],
                 period_sd: float = 0.0) -> ForecastTotal:
    """Expected renewed ARR of the renewals due that have a forecast, with the 90% interval
    of their sum (the forecast's Poisson-binomial widened by the published period error, see
    docs/forecast.md)."""
    from quarterdeck.forecast.renewed_arr_interval import renewed_arr_interval

    chosen = [r.account_id for r in due if r.account_id in stakes]
    if not chosen:
        return ForecastTotal(expected_arr=Decimal(0), low_arr=None, high_arr=None)
    total = renewed_arr_interval(chosen, [stakes[a][0] for a in chosen],
                                 [stakes[a][1] for a in chosen], [stakes[a][2] for a in chosen],
                                 period_sd=period_sd)
    cent = Decimal("0.01")
    return ForecastTotal(expected_arr=Decimal(str(total.expected)).quantize(cent),
                         low_arr=Decimal(str(total.low)).quantize(cent),
                         high_arr=Decimal(str(total.high)).quantize(cent))
