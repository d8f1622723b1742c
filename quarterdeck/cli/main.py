"""The `quarterdeck` command: a thin layer over the Python API.

Every command is documented in docs/cli.md (a test keeps the two in step).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quarterdeck.batch_gc import batch_collection, skip_collection_at_exit
from quarterdeck.cli.book import alert_app, ops, playbook_app, task_app
from quarterdeck.cli.errors import err_console, friendly_errors
from quarterdeck.cli.forecast import forecast_app
from quarterdeck.cli.health import health_app
from quarterdeck.cli.identity import identity_app
from quarterdeck.cli.options import AsOfOpt, WorkspaceOpt
from quarterdeck.cli.quality import quality
from quarterdeck.cli.report import report_app
from quarterdeck.cli.source import source_app
from quarterdeck.cli.sync import sync
from quarterdeck.cli.user import user_app

app = typer.Typer(
    help="Quarterdeck: customer success operations from your own data.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
app.add_typer(user_app, name="user")
app.add_typer(health_app, name="health")
app.add_typer(source_app, name="source")
app.add_typer(identity_app, name="identity")
app.command("sync")(sync)
app.add_typer(alert_app, name="alert")
app.add_typer(task_app, name="task")
app.add_typer(playbook_app, name="playbook")
app.command("ops")(ops)
app.command("quality")(quality)
app.add_typer(report_app, name="report")
app.add_typer(forecast_app, name="forecast")


@app.callback()
def _batch(ctx: typer.Context) -> None:
    # Every command but the web server is one batch of work: the garbage collector is tuned
    # for it (`quarterdeck.batch_gc`), as a long-lived server's is not.
    if ctx.invoked_subcommand != "serve":
        ctx.with_resource(batch_collection())
        skip_collection_at_exit()


console = Console()



GrainOpt = Annotated[str, typer.Option(
    help="Period grain: day, week, month, quarter, fiscal_quarter, year, fiscal_year.")]
WindowOpt = Annotated[int, typer.Option(help="Retention window in months (1, 3, 12 …).",
                                        min=1, max=120)]
ByOpt = Annotated[str | None, typer.Option(
    help="Account dimension(s) to break down by, comma-separated (segment, plan, region, "
    "owner, currency, or a custom attribute).")]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def parse_as_of(value: str | None, tz: str = "UTC") -> date:
    if value is None:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(tz)).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)",
                                 param_hint="--as-of") from None


@app.command()
@friendly_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")] = Path("."),
    name: Annotated[str, typer.Option(help="Company or workspace name.")] = "Quarterdeck",
    base_currency: Annotated[str, typer.Option(help="ISO 4217 reporting currency.")] = "USD",
) -> None:
    """Write a new workspace: quarterdeck.yml and default definitions."""
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    config = init_workspace(directory, name=name, base_currency=base_currency)
    open_workspace(directory)  # what init writes must validate
    console.print(f"Workspace written: {config}")


@app.command()
@friendly_errors
def validate(workspace: WorkspaceOpt = None) -> None:
    """Check every workspace file against its schema."""
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    console.print(f"[green]ok[/] {ws.config_path} and its definitions are valid")


@app.command()
@friendly_errors
def demo(
    out: Annotated[Path, typer.Option(help="Folder to write the demo company into.")] = Path(
        "demo-company"),
    accounts: Annotated[int, typer.Option(help="Number of customer accounts.", min=10)] = 2000,
    years: Annotated[int, typer.Option(help="Years of history.", min=1, max=10)] = 3,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    today: Annotated[str, typer.Option(help="The demo's today (YYYY-MM-DD).")] = "2026-09-30",
    sources: Annotated[str, typer.Option(
        help="`all`, or `billing-crm`: a company with billing and a CRM only (no product "
        "usage, tickets or surveys; custom account columns that carry churn).")] = "all",
) -> None:
    """Write a realistic demo B2B SaaS company in the data contract (Parquet)."""
    from quarterdeck.cli.progress import stage_progress
    from quarterdeck.demo import generate_demo

    with stage_progress(console, "Generating the demo company") as progress:
        summary = generate_demo(out, accounts=accounts, years=years, seed=seed,
                                today=date.fromisoformat(today), progress=progress,
                                sources=sources)
    console.print(f"Demo company written to {out / 'data'} (ground truth in {out / 'truth'}), "
                  f"today = {summary.today}")
    for path, rows in summary.rows.items():
        console.print(f"  {path:<32} {rows:>12,} rows")


@app.command()
@friendly_errors
def load(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders in the data contract.")],
    entity: Annotated[str | None, typer.Option(help="Entity of the files, when their names do "
                                               "not say it.")] = None,
    skip_invalid: Annotated[bool, typer.Option(
        help="Load the valid rows of a file that has invalid ones, and write the rejects file.",
    )] = False,
    encoding: Annotated[str | None, typer.Option(
        help="Encoding of CSV and NDJSON files that are not UTF-8 (e.g. cp1252, latin-1); "
        "by default UTF-8, or Windows-1252 when detected.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Validate files against the data contract and load them into the warehouse."""
    from quarterdeck.cli.load_report import print_load_report
    from quarterdeck.ingest import load_into_workspace
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    with console.status("Loading…") as status:
        report = load_into_workspace(
            ws, paths, entity=entity, skip_invalid=skip_invalid, encoding=encoding,
            progress=lambda file, stage: status.update(f"{Path(file).name}: {stage}…"))
    print_load_report(console, report)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@friendly_errors
def run(as_of: AsOfOpt = None, workspace: WorkspaceOpt = None,
        timings: Annotated[bool, typer.Option(
            help="Print the seconds each stage of the run took.")] = False) -> None:
    """Run the pipeline as of a date and publish the results to the app database."""
    import time

    from quarterdeck.cli.progress import stage_progress
    from quarterdeck.cli.source import ingest_tracked_calls
    from quarterdeck.pipeline import run_pipeline
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    day = parse_as_of(as_of, ws.settings.timezone)
    ingest_tracked_calls(console, ws)  # what the tracking API accepted since the last run
    marks = [("starting", time.perf_counter())]
    with stage_progress(console, f"Pipeline as of {day}") as progress:
        def step(stage: str, fraction: float) -> None:
            marks.append((stage, time.perf_counter()))
            progress(stage, fraction)

        result = run_pipeline(ws, day, progress=step)
    marks.append(("", time.perf_counter()))
    console.print(f"Published {result.accounts:,} accounts as of {day} "
                  f"(total ARR {result.total_arr:,.2f} {ws.settings.base_currency}) "
                  f"in {result.seconds:.1f} s")
    for note in result.notes:
        console.print(note)
    if timings:
        console.print("stage timings:")
        for (stage, began), (_, ended) in zip(marks, marks[1:], strict=False):
            console.print(f"  {stage:<36} {ended - began:7.2f} s")
    from quarterdeck.cli.staleness import print_behind

    print_behind(err_console, result.behind)  # the run found them: no second look at the data


@app.command()
@friendly_errors
def export(
    table: Annotated[str, typer.Argument(help="Table to export (see docs/cli.md).")],
    as_of: AsOfOpt = None,
    format: Annotated[str, typer.Option("--format", help="csv, parquet or json (NDJSON).")
                      ] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output "
                                             "for csv and json).")] = None,
    grain: GrainOpt = "month",
    window: WindowOpt = 12,
    by: ByOpt = None,
    start: Annotated[str | None, typer.Option(
        help="First day reported by period metrics (default: the first paying day).")] = None,
    roll_up_parents: Annotated[bool, typer.Option(
        help="Roll child accounts up into their top parent account.")] = False,
    horizon: Annotated[int, typer.Option(
        help="Days ahead for renewal_forecast and forecast_periods.", min=1, max=730)] = 90,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write a warehouse, metric or published table, so any number can be checked outside."""
    from quarterdeck.exports import Shape, export_table
    from quarterdeck.workspace.workspace import open_workspace

    if format not in ("csv", "parquet", "json"):
        raise typer.BadParameter("use csv, parquet or json", param_hint="--format")
    ws = open_workspace(workspace)
    day = parse_as_of(as_of, ws.settings.timezone)
    shape = Shape(grain=grain, window_months=window, by=_split(by),
                  start=parse_as_of(start) if start else None, roll_up_parents=roll_up_parents,
                  horizon_days=horizon)
    from quarterdeck.cli.staleness import REVENUE, warn_if_behind
    from quarterdeck.warehouse.connection import open_warehouse

    # One connection for the table and the staleness check after it.
    con = open_warehouse(ws, read_only=True)
    try:
        rows = export_table(ws, table, as_of=day, fmt=format, out=out, shape=shape, con=con)
        if out is not None:
            err_console.print(f"{rows:,} rows written to {out}")
        # On stderr: stdout may be the data.
        warn_if_behind(err_console, ws, day, con=con, entities=REVENUE)
    finally:
        con.disconnect()


@app.command()
@friendly_errors
def metrics(
    as_of: AsOfOpt = None,
    by: Annotated[str, typer.Option(help="Dimension of the breakdown.")] = "segment",
    window: WindowOpt = 12,
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the headline: ARR, NRR, GRR, logo and revenue churn, by segment."""
    from quarterdeck.cli.metrics_table import print_headline
    from quarterdeck.exports import Shape, metric_options
    from quarterdeck.metrics.headline import headline
    from quarterdeck.metrics.registry import MetricInputs
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    day = parse_as_of(as_of, ws.settings.timezone)
    con = open_warehouse(ws, read_only=True)
    try:
        inputs = MetricInputs(canonical_tables(con),
                              metric_options(ws, day, Shape(window_months=window)))
        rows = con.to_pyarrow(headline(inputs, by=by)).to_pylist()
        from quarterdeck.cli.staleness import REVENUE, warn_if_behind

        print_headline(console, rows, by=by, as_of=day, window=window,
                       currency=ws.settings.base_currency)
        warn_if_behind(err_console, ws, day, con=con, entities=REVENUE)
    finally:
        con.disconnect()


@app.command()
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Server processes on the port (default: `server.workers`).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Start the web app."""
    import uvicorn

    from quarterdeck.no_delay_http import NO_DELAY_HTTP
    from quarterdeck.serving import build_app, prepare, settle_memory
    from quarterdeck.workspace.workspace import ENV_WORKSPACE, open_workspace

    ws = open_workspace(workspace)
    host = host or ws.settings.server.host
    port = port or ws.settings.server.port
    workers = workers or ws.settings.server.workers
    options = {"host": host, "port": port, "log_level": "warning", "proxy_headers": True,
               "forwarded_allow_ips": ws.settings.server.trusted_proxies or "127.0.0.1"}
    serving = f"Quarterdeck is serving {ws.settings.name} at [bold]http://{host}:{port}/[/]"
    if workers == 1:
        web = build_app(ws)
        settle_memory()
        console.print(serving)
        sys.stdout.flush()
        uvicorn.run(web, **options)
        return
    prepare(ws)  # once, before the processes start; each builds its own app
    console.print(f"{serving} ({workers} processes)")
    sys.stdout.flush()
    os.environ[ENV_WORKSPACE] = str(ws.root)
    uvicorn.run("quarterdeck.serving:app_from_environment", factory=True, workers=workers,
                http=NO_DELAY_HTTP, **options)


def main() -> None:  # pragma: no cover - console entry point
    app()
