"""The pipeline: warehouse stages as of a date, then publishing to the app database.

Stages run in data-flow order; each is a pure Ibis computation over the warehouse, and the
only writes are the derived warehouse tables (replaced whole), the churn model trained as of
the date (`data/models/churn/<date>/`), the published snapshot (one transaction) and the
published health scores, churn risk and data-quality report (one transaction) and the
revenue series of the leadership page (one transaction), so re-running a day yields the same
result. With too little renewal history to learn from, the churn model is
skipped and the run result says why. A source that stopped delivering an entity a health model
reads is a note of the run and a warning on every score of that model (see docs/quality.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from sqlalchemy import Engine

from quarterdeck.appdb.data_age import publish_stale_data
from quarterdeck.appdb.database import make_engine, migrate
from quarterdeck.appdb.publish import publish_snapshot
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.appdb.publish_operations import OperationsResult, publish_operations
from quarterdeck.batch_gc import batch_collection
from quarterdeck.health.window_model import WindowModel
from quarterdeck.landing.account_versions import with_account_versions
from quarterdeck.quality.data_age import DataAge, data_warnings
from quarterdeck.quality.incremental_events import kept_newest_day
from quarterdeck.quality.report import QualityReport
from quarterdeck.quality.stale_inputs import with_data_warnings
from quarterdeck.sources.status import source_statuses, sync_warnings
from quarterdeck.warehouse.account_snapshot import account_snapshot, arr_history, figures_window
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import open_warehouse
from quarterdeck.warehouse.incremental_daily import DailyBuild, build_account_daily
from quarterdeck.warehouse.incremental_usage import UsageBuild, build_usage_daily
from quarterdeck.warehouse.shared_results import engine_of, staged
from quarterdeck.warehouse.subscription_mrr import check_rates, subscription_mrr
from quarterdeck.workspace.workspace import Workspace

if TYPE_CHECKING:
    from quarterdeck.health.churn_model import ChurnModel, PastDecisions
    from quarterdeck.health.churn_risk import DayScoring
    from quarterdeck.health.feature_table import DayUsage

Progress = Callable[[str, float], None]
#: Days before the as-of date the health scores are also computed, for their change.
HEALTH_LOOKBACK = (7, 30)


@dataclass
class RunResult:
    as_of: date
    accounts: int
    total_arr: float
    seconds: float
    health_scored: int = 0
    churn_scored: int = 0
    operations: OperationsResult | None = None
    notes: list[str] = field(default_factory=list)
    quality: QualityReport | None = None
    #: The entities whose newest fact is more than a day before `as_of` (the pages warn).
    behind: list[DataAge] = field(default_factory=list)


def build_daily_tables(con: BaseBackend, tables: dict[str, ir.Table], *, as_of: date,
                       base_currency: str, progress: Progress | None = None,
                       landing_dir: Path | None = None
                       ) -> tuple[ir.Table, UsageBuild, DailyBuild]:
    """Materialise `account_usage_daily`, then `account_daily`, in the warehouse.

    The usage aggregation (the biggest: every event) runs on its own so that each step fits
    the warehouse's memory limit, spilling to disk where needed; with the landing area's
    folder it is incremental where it can be (`quarterdeck.warehouse.incremental_usage`),
    and so is `account_daily` after it (`quarterdeck.warehouse.incremental_daily`).
    """
    step = progress or (lambda stage, fraction: None)
    step("account_usage_daily", 0.1)
    usage_build = build_usage_daily(con, tables, as_of=as_of, landing_dir=landing_dir)
    step("account_daily", 0.35)
    daily_build = build_account_daily(con, tables, as_of=as_of, base_currency=base_currency,
                                      usage_since=usage_build.since,
                                      late_days=list(usage_build.touched))
    return con.table("account_daily"), usage_build, daily_build


def run_pipeline(ws: Workspace, as_of: date, *, progress: Progress | None = None) -> RunResult:
    """Compute every stage as of `as_of` and publish the account snapshot (with the garbage
    collector tuned for a batch of work: `quarterdeck.batch_gc`)."""
    with batch_collection():
        return _run_pipeline(ws, as_of, progress=progress)


def _run_pipeline(ws: Workspace, as_of: date, *, progress: Progress | None) -> RunResult:
    from quarterdeck.forecast.renewal_forecast import HORIZONS
    from quarterdeck.health.churn_model import DAYS_BEFORE, PastDecisions
    from quarterdeck.health.churn_risk import DayScoring
    from quarterdeck.health.feature_table import day_usage, reads_usage
    from quarterdeck.health.recent_usage import build_recent_usage, kept_active_users

    step = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    base = ws.settings.base_currency
    con = open_warehouse(ws)
    try:
        tables = canonical_tables(con)
        step("checking exchange rates", 0.05)
        check_rates(con, subscription_mrr(tables["subscriptions"], tables["fx_rates"],
                                          as_of=as_of, base_currency=base), base)
        daily, usage_build, daily_build = build_daily_tables(
            con, tables, as_of=as_of, base_currency=base, progress=step,
            landing_dir=ws.landing_dir)
        usage = con.table("account_usage_daily")
        # Health (with its lookback), scoring and the book read the same days' usage: its
        # facts are computed once, for every account, for the days the health scores and
        # the book need (scoring, on the day, computes its own when they need none).
        # They are counted from the recent usage the warehouse keeps day by day where it can.
        health_usage = reads_usage(ws.health_models.features)
        days = ([as_of, *(as_of - timedelta(days=n) for n in HEALTH_LOOKBACK)] if health_usage
                else [as_of])
        wanted = health_usage or reads_usage(ws.book.facts())
        step("recent usage", 0.6)
        recent = (build_recent_usage(con, tables, as_of=as_of, usage_build=usage_build)
                  if wanted else None)
        step("account_snapshot", 0.62)
        tiers = [(t.name, t.min_arr) for t in ws.tiers.tiers]
        window = figures_window(as_of)  # its users are counted where they are kept
        users = (kept_active_users(recent, *window)
                 if recent is not None and recent.holds(*window) else None)
        snapshot = con.to_pyarrow(account_snapshot(tables, daily, as_of=as_of, base_currency=base,
                                                   tiers=tiers, active_users=users))
        history = con.to_pyarrow(arr_history(daily, as_of=as_of))
        step("usage of the day", 0.63)
        known = (day_usage(tables, dates=days, usage=usage, engine=con, recent=recent)
                 if wanted else None)
        step("health_scores", 0.65)
        scores = health_stage(ws, tables, as_of, usage, known=known)
        step("churn_risk", 0.72)
        versioned = with_account_versions(tables, con, ws.landing_dir)
        # The forecast's models first, so that the day's features are computed once for them
        # and the churn models alike.
        past = PastDecisions(versioned, as_of=as_of, base_currency=base, usage=usage,
                             leads=[DAYS_BEFORE, *HORIZONS])
        forecast_models, forecast_skipped = forecast_models_stage(ws, versioned, as_of, usage,
                                                                  past=past)
        scoring = DayScoring(versioned, as_of=as_of, base_currency=base, usage=usage,
                             features=sorted({f for m in (forecast_models or {}).values()
                                              for f in m.features}), known=known)
        risk, notes = churn_stage(ws, versioned, as_of, usage, scoring=scoring, past=past)
        step("data_quality", 0.76)
        quality = quality_stage(ws, con, as_of, keep=True)
        # Pages warn when the day is later than the data; the newest event was just found by
        # the events' quality checks where they are kept up to date.
        newest_event = kept_newest_day(con, as_of)
        behind = data_warnings(con, as_of, known=None if newest_event is None else {
            ("events", "timestamp"): newest_event})
        step("publishing", 0.8)
        engine = make_engine(ws.app_database_url)
        try:
            migrate(engine)
            publish_snapshot(engine, as_of=as_of, accounts=snapshot, arr_history=history,
                             run_started_at=started_at)
            publish_stale_data(engine, as_of, behind)
            step("account detail", 0.82)
            account_detail_stage(con, tables, as_of, engine, base_currency=base, usage=usage,
                                 copy_dir=published_copy_dir(ws, "account_detail"))
            step("publishing health and risk", 0.84)
            scored, risked = publish_health(
                engine, as_of=as_of, churn_risk=risk, quality=quality,
                health_scores=with_data_warnings(scores, ws.health_models, quality))
            step("revenue series", 0.86)
            metric_series_stage(ws, con, tables, as_of, engine)
            step("lifecycle, signals and playbooks", 0.9)
            operations = operations_stage(ws, con, tables, as_of, engine, health=scores,
                                          churn=risk, daily=daily, usage=usage, known=known)
            notes.append(book_note(operations))
            step("renewal forecast", 0.95)
            notes += ([forecast_skipped] if forecast_models is None else forecast_stage(
                ws, versioned, as_of, engine, usage=usage, models=forecast_models,
                scoring=scoring))
        finally:
            engine.dispose()
    finally:
        con.disconnect()
    total_arr = float(pc.sum(snapshot.column("arr")).as_py() or 0)
    notes.insert(0, f"usage by day: {usage_build.mode} build"
                 + (f" of {usage_build.days} day{'s' if usage_build.days != 1 else ''}"
                    if usage_build.mode == "incremental" else "")
                 + f" ({usage_build.reason})")
    notes.insert(1, f"account_daily: {daily_build.mode} build ({daily_build.reason})")
    if recent is not None:
        notes.insert(2, recent.describe())
    notes += [f"warning: {row.detail}" for row in quality.stale]
    if as_of >= started_at.date():  # today's run: are the synced sources current?
        notes += [f"warning: {text}"
                  for text in sync_warnings(source_statuses(ws), datetime.now(UTC))]
    return RunResult(as_of, snapshot.num_rows, total_arr, time.perf_counter() - started,
                     scored, risked, operations, notes, quality, behind)


def book_note(r: OperationsResult) -> str:
    """What a run changed in the book, in one line of its output."""
    return (f"book: {r.stages:,} accounts in their stages; {r.alerts_opened:,} alerts opened, "
            f"{r.alerts_resolved:,} resolved; {r.playbooks_started:,} playbooks started, "
            f"{r.playbooks_cancelled:,} cancelled; {r.tasks_created:,} tasks created, "
            f"{r.tasks_done:,} closed on evidence")


def operations_stage(ws: Workspace, con: BaseBackend, tables: dict[str, ir.Table], as_of: date,
                     engine: Engine, *, health: pa.Table | None = None,
                     churn: pa.Table | None = None, daily: ir.Table | None = None,
                     usage: ir.Table | None = None,
                     known: DayUsage | None = None) -> OperationsResult:
    """Evaluate stages, signals and playbook triggers as of `as_of` in the warehouse and bring
    the book in the app database forward to that day; `known`: the run's usage facts."""
    import ibis

    from quarterdeck.lifecycle.book import book_from_stages, evaluate_book
    from quarterdeck.playbooks.evidence import task_evidence

    book = ws.book
    day = evaluate_book(
        tables, book, as_of=as_of, base_currency=ws.settings.base_currency,
        tiers=[(t.name, t.min_arr) for t in ws.tiers.tiers],
        health=None if health is None else ibis.memtable(health.select(
            ["account_id", "score", "band", "change_7d", "change_30d"])),
        churn=None if churn is None else ibis.memtable(churn.select(
            [c for c in ("account_id", "churn_probability", "churn_probability_window")
             if c in churn.column_names])),
        daily=daily, usage=usage, known=known)
    stages = con.to_pyarrow(day.stages)
    day = book_from_stages(ibis.memtable(stages), book, team=tables["team"])
    fired = con.to_pyarrow(day.fired)
    triggers = con.to_pyarrow(day.triggers)
    team = con.to_pyarrow(tables["team"])

    def evidence(open_tasks: pa.Table) -> pa.Table:
        return con.to_pyarrow(task_evidence(tables, ibis.memtable(open_tasks), as_of=as_of))

    return publish_operations(engine, as_of=as_of, stages=stages, fired=fired,
                              triggers=triggers, team=team, signals=book.signals,
                              playbooks=book.playbooks, milestone_names=book.milestone_names,
                              evidence=evidence)


def published_copy_dir(ws: Workspace, name: str) -> Path:
    """Where the run keeps its copy of what it last published as `name` (`PublishedCopy`)."""
    return ws.data_dir / "published" / name


def account_detail_stage(con: BaseBackend, tables: dict[str, ir.Table], as_of: date,
                         engine: Engine, *, base_currency: str, usage: ir.Table,
                         copy_dir: Path | None = None) -> bool:
    """Publish each account's timeline, contacts, subscriptions, opportunities and weekly
    usage for the account page (kept for the latest day only; with `copy_dir`, only the rows
    that changed since the last publish are written)."""
    from quarterdeck.appdb.publish_account_detail import publish_account_detail
    from quarterdeck.warehouse import account_detail as detail

    expressions = {
        "timeline": detail.account_timeline(tables, as_of=as_of, base_currency=base_currency),
        "contacts": detail.account_contacts(tables, as_of=as_of),
        "subscriptions": detail.account_subscriptions(tables, as_of=as_of,
                                                      base_currency=base_currency),
        "opportunities": detail.account_opportunities(tables),
        "usage_weekly": detail.account_usage_weekly(usage, as_of=as_of),
    }
    return publish_account_detail(
        engine, as_of=as_of, tables={name: con.to_pyarrow(e) for name, e in expressions.items()},
        copy_dir=copy_dir)


def metric_series_stage(ws: Workspace, con: BaseBackend, tables: dict[str, ir.Table],
                        as_of: date, engine: Engine) -> int:
    """Publish the monthly ARR bridge and trailing-12-month retention by segment of the 12
    months ending on `as_of`, computed as `quarterdeck export` computes them."""
    from quarterdeck.appdb.publish_metrics import (
        SERIES_METRICS,
        publish_metric_series,
        series_shape,
    )
    from quarterdeck.exports import metric_options
    from quarterdeck.metrics.registry import MetricInputs, metric

    options = metric_options(ws, as_of, series_shape(as_of))
    inputs = MetricInputs(tables, options)
    return publish_metric_series(engine, as_of=as_of, tables={
        name: con.to_pyarrow(metric(name, inputs, options)) for name in SERIES_METRICS})


def health_stage(ws: Workspace, tables: dict[str, ir.Table], as_of: date,
                 usage: ir.Table | None = None, *, known: DayUsage | None = None) -> pa.Table:
    """The health snapshot of `as_of` by the workspace's health models (`known`: the run's
    usage facts, read instead of the events when they hold the days)."""
    from quarterdeck.health.feature_table import feature_table
    from quarterdeck.health.health_scores import health_scores

    features = feature_table(tables, as_of=as_of, base_currency=ws.settings.base_currency,
                             features=ws.health_models.features, lookback=HEALTH_LOOKBACK,
                             usage=usage, known=known)
    return health_scores(staged(features, engine_of(tables)), ws.health_models,
                         as_of=as_of).to_pyarrow()


def quality_stage(ws: Workspace, con: BaseBackend, as_of: date, *,
                  keep: bool = False) -> QualityReport:
    """The data-quality report of `as_of` over the warehouse as loaded, by the workspace's
    quality definitions and sources, with the rows the loader refused as duplicates. With
    `keep` (the daily run, on a writable warehouse) the events' checks are kept up to date
    from run to run (`incremental_events`); otherwise every event is read and nothing is
    written."""
    from quarterdeck.quality.data_quality import data_quality, warehouse_tables
    from quarterdeck.quality.duplicates import read_rejects

    return data_quality(con, warehouse_tables(con), as_of=as_of, definitions=ws.quality,
                        sources=ws.sources, rejects=read_rejects(ws.rejects_dir),
                        landing_dir=ws.landing_dir if keep else None)


def churn_stage(ws: Workspace, tables: dict[str, ir.Table], as_of: date,
                usage: ir.Table | None = None, *, scoring: DayScoring | None = None,
                past: PastDecisions | None = None) -> tuple[pa.Table | None, list[str]]:
    """Train the churn model as of `as_of`, save it, and score the paying accounts; with too
    little history, no risk and a note saying why. `scoring` shares the day's features with
    the run's other models, `past` their training rows."""
    from quarterdeck.health.churn_model import (
        DAYS_BEFORE,
        NotEnoughHistory,
        train_churn_model,
    )
    from quarterdeck.health.churn_risk import churn_risk
    from quarterdeck.health.model_store import churn_models_dir, recent_model, save_model

    base = ws.settings.base_currency
    churn = ws.settings.churn
    root = churn_models_dir(ws.data_dir)
    model = recent_model(root, as_of, max_age_days=churn.retrain_days,
                         attributes=churn.attributes, days_before=DAYS_BEFORE)
    if model is not None:
        note = (f"churn model {model.name} trained as of {model.as_of} reused (retrained every "
                f"{churn.retrain_days} days: churn.retrain_days)")
    else:
        try:
            model = train_churn_model(tables, as_of=as_of, base_currency=base, usage=usage,
                                      attributes=churn.attributes, past=past)
        except NotEnoughHistory as exc:
            return None, [f"churn model skipped: {exc}"]
        folder = save_model(model, root)
        check = model.card["validation"]
        figure = (f"validation AUC {check['auc']:.3f}" if check and check["auc"]
                  else "not validated")
        note = (f"churn model {model.name} trained on {model.card['training']['rows']} "
                f"decisions ({figure}), saved in {folder}")
    window, window_note = window_stage(ws, tables, as_of, usage)
    risk = churn_risk(tables, as_of=as_of, base_currency=base, model=model, usage=usage,
                      window_days=churn.window_days, window_model=window, scoring=scoring)
    return risk, [note, window_note]


def window_stage(ws: Workspace, tables: dict[str, ir.Table], as_of: date,
                 usage: ir.Table | None) -> tuple[WindowModel | None, str]:
    """The window model for `churn.window_days` (reused on the retraining schedule, else
    trained and kept), or None with why the window combines the churn model's decisions."""
    from quarterdeck.health.model_store import (
        recent_window_model,
        save_model,
        window_models_dir,
    )
    from quarterdeck.health.window_model import NoWindowModel, train_window_model

    churn = ws.settings.churn
    root = window_models_dir(ws.data_dir, churn.window_days)
    kept = recent_window_model(root, as_of, max_age_days=churn.retrain_days,
                               attributes=churn.attributes)
    if kept is not None:
        how = ("the churn model's decisions combined" if kept.combines_decisions
               else f"window model {kept.name}")
        return kept, (f"churn within {churn.window_days} days: {how}, as judged on "
                      f"{kept.as_of} (retrained every {churn.retrain_days} days)")
    try:
        window = train_window_model(tables, as_of=as_of, base_currency=ws.settings.base_currency,
                                    window_days=churn.window_days, usage=usage,
                                    attributes=churn.attributes)
    except NoWindowModel as exc:
        return None, (f"churn within {churn.window_days} days: the churn model's decisions in "
                      f"the window combined ({exc})")
    save_model(window, root)
    if window.combines_decisions:
        return window, (f"churn within {churn.window_days} days: the churn model's decisions "
                        f"in the window combined ({window.card['why']})")
    return window, (f"churn within {churn.window_days} days: window model {window.name} "
                    f"(validation AUC {window.card['validation']['auc']:.3f})")


def forecast_models_stage(ws: Workspace, tables: dict[str, ir.Table], as_of: date,
                          usage: ir.Table | None = None, *, past: PastDecisions | None = None
                          ) -> tuple[dict[int, ChurnModel] | None, str]:
    """The renewal forecast's model of each horizon (kept, or trained on the retraining
    schedule), or None and why the forecast is skipped."""
    from quarterdeck.forecast.horizon_store import models_for
    from quarterdeck.health.churn_model import NotEnoughHistory

    try:
        return models_for(tables, ws.data_dir, as_of=as_of,
                          base_currency=ws.settings.base_currency, usage=usage,
                          attributes=ws.settings.churn.attributes,
                          max_age_days=ws.settings.churn.retrain_days, past=past), ""
    except NotEnoughHistory as exc:
        return None, f"renewal forecast skipped: {exc}"


def forecast_stage(ws: Workspace, tables: dict[str, ir.Table], as_of: date, engine: Engine,
                   *, usage: ir.Table | None = None,
                   models: dict[int, ChurnModel] | None = None,
                   scoring: DayScoring | None = None) -> list[str]:
    """Forecast the renewals of the next `FORECAST_HORIZON_DAYS` as of `as_of` with the CSMs'
    calls and publish it; with too little history, a note saying why. `models` are the
    horizons' models when the caller has them (`forecast_models_stage`)."""
    from quarterdeck.appdb.publish_forecast import (
        PUBLISHED_GRAINS,
        categories,
        publish_forecast,
    )
    from quarterdeck.forecast.forecast_periods import forecast_periods
    from quarterdeck.forecast.period_error import period_sd_for
    from quarterdeck.forecast.renewal_forecast import PUBLISHED_HORIZON_DAYS, renewal_forecast

    base = ws.settings.base_currency
    if models is None:
        models, skipped = forecast_models_stage(ws, tables, as_of, usage)
        if models is None:
            return [skipped]
    forecast = renewal_forecast(tables, as_of=as_of, base_currency=base,
                                horizon_days=PUBLISHED_HORIZON_DAYS, models=models,
                                categories=categories(engine), usage=usage, scoring=scoring)
    period_sd = period_sd_for(ws.data_dir, as_of)  # measured by `forecast accuracy`
    periods = {g: forecast_periods(forecast, grain=g,
                                   fiscal_start_month=ws.settings.fiscal_year_start_month,
                                   period_sd=period_sd)
               for g in PUBLISHED_GRAINS}
    published = publish_forecast(engine, as_of=as_of, forecast=forecast, periods=periods)
    return [f"renewal forecast: {published} decisions in the next {PUBLISHED_HORIZON_DAYS} "
            "days published"]
