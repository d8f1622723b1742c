"""`quarterdeck forecast`: the renewal forecast, its accuracy, and the CSMs' calls.

A thin layer over `quarterdeck.appdb.forecast_exports` and `quarterdeck.appdb.publish_forecast`;
documented in docs/cli.md and docs/forecast.md. Calls are made in the name of `--as`
(default: $QUARTERDECK_USER, else the login name) and audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.book import ActorOpt, NoteOpt, _actor
from quarterdeck.cli.options import AsOfOpt, WorkspaceOpt

console = Console()
forecast_app = typer.Typer(help="The renewal forecast: by period, its accuracy, CSM calls.",
                           no_args_is_help=False, invoke_without_command=True)
category_app = typer.Typer(help="The CSM's call on a renewal: set, clear, history.",
                           no_args_is_help=True)
forecast_app.add_typer(category_app, name="category")

HorizonOpt = Annotated[int, typer.Option(help="Days ahead to forecast.", min=1, max=730)]
ByOpt = Annotated[str | None, typer.Option(
    help="Break down by segment, owner, category or term (comma-separated).")]
GrainOpt = Annotated[str, typer.Option(help="month, quarter or fiscal_quarter.")]
MONEY_COLUMNS = ("arr_at_stake", "expected_arr", "low_arr", "high_arr", "committed_arr",
                 "actual_renewed_arr")


def _guarded(fn: Callable[[], None]) -> None:
    from quarterdeck.cli.main import friendly_errors

    friendly_errors(fn)()


@contextmanager
def _opened(workspace: Any, as_of: str | None, *, warehouse: bool = True
            ) -> Iterator[tuple[Any, Any, Any, date]]:
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.cli.main import parse_as_of
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    day = parse_as_of(as_of, ws.settings.timezone)
    engine = make_engine(ws.app_database_url)
    con = open_warehouse(ws, read_only=True) if warehouse else None
    try:
        migrate(engine)
        yield ws, con, engine, day
    finally:
        engine.dispose()
        if con is not None:
            con.disconnect()


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in MONEY_COLUMNS or name.endswith("_arr"):
        return f"{float(value):,.0f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print(table: Any, columns: list[str], title: str) -> None:
    out = Table(title=title)
    for c in columns:
        out.add_column(c.replace("_", " "), justify="right" if c.endswith(
            ("arr", "rate", "ape", "renewals", "brier")) else "left")
    for row in table.select(columns).to_pylist():
        out.add_row(*(_cell(c, row[c]) for c in columns))
    console.print(out)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


@forecast_app.callback()
def forecast(ctx: typer.Context, as_of: AsOfOpt = None, horizon: HorizonOpt = 90,
             by: ByOpt = None, grain: GrainOpt = "quarter",
             workspace: WorkspaceOpt = None) -> None:
    """Print the renewal forecast by period: expected renewed ARR with its 90% interval."""
    if ctx.invoked_subcommand is not None:
        return

    def run() -> None:
        from quarterdeck.appdb.forecast_exports import forecast_periods_table

        with _opened(workspace, as_of) as (ws, con, engine, day):
            t = forecast_periods_table(ws, con, engine, as_of=day, horizon_days=horizon,
                                       grain=grain, by=_split(by))
            cols = ["period", *_split(by), "renewals", "arr_at_stake", "expected_arr",
                    "low_arr", "high_arr", "committed_arr", "expected_gross_renewal_rate",
                    "expected_net_renewal_rate"]
            _print(t, cols, f"Renewal forecast as of {day}, next {horizon} days "
                            f"({ws.settings.base_currency}; interval 90%)")

    _guarded(run)


@forecast_app.command("list")
def forecast_list(as_of: AsOfOpt = None, horizon: HorizonOpt = 90,
                  owner: Annotated[str | None, typer.Option(help="Only this CSM's.")] = None,
                  workspace: WorkspaceOpt = None) -> None:
    """List each upcoming renewal with its ARR at stake, P(renew) and call."""

    def run() -> None:
        import pyarrow.compute as pc

        from quarterdeck.appdb.forecast_exports import renewal_forecast_table

        with _opened(workspace, as_of) as (ws, con, engine, day):
            t = renewal_forecast_table(ws, con, engine, as_of=day, horizon_days=horizon)
            if owner:
                t = t.filter(pc.equal(t["owner_email"], owner))
            _print(t, ["renewal_id", "owner_email", "segment", "term", "renewal_date",
                       "arr_at_stake", "p_renew", "expected_arr", "cancellation_known",
                       "category"], f"Renewals as of {day}, next {horizon} days")

    _guarded(run)


@forecast_app.command("accuracy")
def forecast_accuracy(
    as_of: AsOfOpt = None, grain: GrainOpt = "quarter",
    periods: Annotated[int, typer.Option(help="Complete periods to backtest.", min=1)] = 4,
    days_before: Annotated[str, typer.Option(help="Days before each renewal to forecast "
                                             "from (comma-separated).")] = "30,60,90",
    workspace: WorkspaceOpt = None,
) -> None:
    """Backtest the forecast on past periods: APE, interval coverage, Brier, calibration."""

    def run() -> None:
        from quarterdeck.appdb.forecast_exports import forecast_accuracy_result

        with _opened(workspace, as_of) as (ws, con, engine, day):
            result = forecast_accuracy_result(
                ws, con, engine, as_of=day, grain=grain, periods=periods,
                days_before=[int(d) for d in _split(days_before)])
            _print(result.periods, ["days_before", "period", "segment", "renewals",
                                    "expected_arr", "low_arr", "high_arr",
                                    "actual_renewed_arr", "ape", "covered", "brier",
                                    "baseline_ape"],
                   f"Forecast accuracy as of {day}")
            _print(result.summary, result.summary.column_names, "Summary")
            _print(result.calibration, result.calibration.column_names,
                   "Calibration by decile of P(renew)")

    _guarded(run)


@category_app.command("set")
def category_set(
    renewal_id: Annotated[str, typer.Argument(help="account_id@renewal_date.")],
    category: Annotated[str, typer.Argument(
        help="commit, best_case, at_risk or churn_expected.")],
    note: NoteOpt = None, actor: ActorOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Call a renewal (commit, best_case, at_risk, churn_expected), with a note."""

    def run() -> None:
        from quarterdeck.appdb.publish_forecast import set_category

        with _opened(workspace, None, warehouse=False) as (_, _con, engine, _day):
            change = set_category(engine, renewal_id, category, actor=_actor(actor), note=note)
            console.print(f"{renewal_id}: {change['before'] or '(none)'} → {change['after']}")

    _guarded(run)


@category_app.command("clear")
def category_clear(
    renewal_id: Annotated[str, typer.Argument(help="account_id@renewal_date.")],
    note: NoteOpt = None, actor: ActorOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Remove the call on a renewal (kept in its history)."""

    def run() -> None:
        from quarterdeck.appdb.publish_forecast import set_category

        with _opened(workspace, None, warehouse=False) as (_, _con, engine, _day):
            change = set_category(engine, renewal_id, None, actor=_actor(actor), note=note)
            console.print(f"{renewal_id}: {change['before'] or '(none)'} → (none)")

    _guarded(run)


@category_app.command("history")
def category_history(
    renewal_id: Annotated[str | None, typer.Argument(help="One renewal (default all).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Every call made on a renewal: who, when, before, after, note."""

    def run() -> None:
        from quarterdeck.appdb.forecast_exports import renewal_history

        with _opened(workspace, None, warehouse=False) as (_, _con, engine, _day):
            _print(renewal_history(engine, renewal_id), ["renewal_id", "before", "after",
                                                         "note", "changed_by", "changed_at"],
                   "Renewal calls")

    _guarded(run)
