"""`quarterdeck report`: the weekly operating report, QBR decks and their scheduled delivery."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from quarterdeck.cli.options import AsOfOpt, WorkspaceOpt
from quarterdeck.errors import QuarterdeckError

report_app = typer.Typer(help="Reports leaders read: the weekly report, QBR decks, delivery.",
                         no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (QuarterdeckError, FileNotFoundError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    return wrapper


def _day(value: str | None, tz: str, what: str = "--as-of") -> date:
    if value is None:
        return datetime.now(ZoneInfo(tz)).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=what) from None


def write_atomically(out: Path, data: bytes) -> None:
    """Write `data` to `out` through a temporary file renamed into place: never half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@report_app.command("weekly")
@_errors
def weekly(
    as_of: AsOfOpt = None,
    format: Annotated[str, typer.Option("--format", help="html, pdf or md.")] = "html",
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output; "
                                             "a PDF needs a file).")] = None,
    reader: Annotated[str | None, typer.Option(
        "--for", help="Email of the reader whose own actions come first.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Build the weekly operating report as of a date, keep it, and write it."""
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.reports.store import render_report, save_report
    from quarterdeck.reports.weekly import build_weekly_report
    from quarterdeck.workspace.workspace import open_workspace

    if format not in ("html", "pdf", "md"):
        raise typer.BadParameter("use html, pdf or md", param_hint="--format")
    if format == "pdf" and out is None:
        raise typer.BadParameter("a PDF needs --out FILE", param_hint="--out")
    ws = open_workspace(workspace)
    day = _day(as_of, ws.settings.timezone)
    with err_console.status("Building the weekly report…") as status:
        report = build_weekly_report(ws, day, progress=lambda s: status.update(f"{s}…"))
        engine = make_engine(ws.app_database_url)
        try:
            migrate(engine)
            save_report(engine, report)
        finally:
            engine.dispose()
        body = render_report(report, format, reader=reader)
    data = body if isinstance(body, bytes) else body.encode()
    if out is None:
        sys.stdout.write(data.decode())
        return
    write_atomically(out, data)
    err_console.print(f"Weekly report as of {day} written to {out}")


@report_app.command("qbr")
@_errors
def qbr(
    account: Annotated[str, typer.Argument(help="Account id.")],
    out: Annotated[Path, typer.Option(help="The deck to write (.pptx).")],
    as_of: AsOfOpt = None,
    template: Annotated[Path | None, typer.Option(
        help="The company's .pptx template (needs a title and a content layout).")] = None,
    keep: Annotated[bool, typer.Option(
        "--keep/--no-keep", help="Also keep the deck in the app database, where the account "
        "page offers it for download.")] = True,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write an account's quarterly business review deck (PPTX)."""
    import getpass

    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.reports.qbr import build_qbr
    from quarterdeck.reports.render_pptx import render_qbr_deck
    from quarterdeck.reports.store import keep_deck
    from quarterdeck.workspace.workspace import open_workspace

    if out.suffix.lower() != ".pptx":
        raise typer.BadParameter("the deck must be a .pptx file", param_hint="--out")
    ws = open_workspace(workspace)
    day = _day(as_of, ws.settings.timezone)
    render_qbr_deck(build_qbr(ws, account, day), out, template=template)
    console.print(f"QBR deck of {account} as of {day} written to {out}")
    if keep:
        engine = make_engine(ws.app_database_url)
        try:
            migrate(engine)
            keep_deck(engine, account, day, out.read_bytes(), created_by=getpass.getuser())
        finally:
            engine.dispose()
        console.print("kept in the app database: the account page offers it for download")


@report_app.command("send")
@_errors
def send(
    due: Annotated[bool, typer.Option("--due", help="Only the reports whose schedule falls on "
                                      "the sending day.")] = False,
    on: Annotated[str | None, typer.Option(
        "--on", help="The sending day (YYYY-MM-DD; default today in the workspace time zone).",
        show_default=False)] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Report as of this date (default: the latest published run).",
        show_default=False)] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Send the scheduled reports of definitions/reports.yml by email and chat webhook."""
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.appdb.publish import latest_as_of
    from quarterdeck.reports.definitions import load_report_definitions
    from quarterdeck.reports.delivery import deliver
    from quarterdeck.reports.store import save_report
    from quarterdeck.reports.weekly import build_weekly_report
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    defs = load_report_definitions(ws.definitions_dir)
    today = _day(on, ws.settings.timezone, "--on")
    chosen = [r for r in defs.reports if not due or r.schedule.is_due(today)]
    if not chosen:
        console.print("No report is due." if due else "No report is defined in reports.yml.")
        return
    engine = make_engine(ws.app_database_url)
    try:
        migrate(engine)
        day = _day(as_of, ws.settings.timezone) if as_of else latest_as_of(engine)
        if day is None:
            raise typer.BadParameter("nothing published yet: run `quarterdeck run` first",
                                     param_hint="--as-of")
        report = build_weekly_report(ws, day, definitions=defs)
        report_id = save_report(engine, report)
        outcomes = [o for r in chosen for o in deliver(engine, defs, r, report, report_id)]
    finally:
        engine.dispose()
    for o in outcomes:
        mark = {"sent": "[green]sent[/]", "skipped": "already sent"}.get(o.status, "[red]FAILED[/]")
        console.print(f"{o.schedule} → {o.channel} {o.recipient}: {mark}"
                      + (f" after {o.attempts} tries: {o.error}" if o.error else ""))
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        err_console.print(f"[bold red]error:[/] {len(failed)} of {len(outcomes)} deliveries "
                          "failed; they are logged and will be tried again by the next send")
        raise typer.Exit(1)
