"""`quarterdeck source`: write keys for the tracking API, serving it, and loading what it took."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.options import WorkspaceOpt

if TYPE_CHECKING:
    from quarterdeck.workspace.workspace import Workspace

source_app = typer.Typer(help="Sources of data: tracking API write keys, serving and loading.",
                         no_args_is_help=True)
console = Console()


def _keys(workspace: Path | None):
    from quarterdeck.sources.write_keys import WriteKeys
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    return ws, WriteKeys.for_workspace(ws.data_dir)


@source_app.command("add")
def add(name: Annotated[str, typer.Argument(help="Name of the source, e.g. web-app.")],
        workspace: WorkspaceOpt = None) -> None:
    """Create a write key for the tracking API; it is shown once."""
    from quarterdeck.cli.main import friendly_errors

    @friendly_errors
    def _run() -> None:
        _, keys = _keys(workspace)
        key, plaintext = keys.create(name)
        console.print(f"Write key for source {name!r} (id {key.key_id}), shown once:")
        console.print(plaintext, highlight=False, soft_wrap=True)

    _run()


@source_app.command("list")
def list_sources(workspace: WorkspaceOpt = None) -> None:
    """List the configured sources (last sync, rows loaded, freshness) and the tracking API's
    write keys (never the keys themselves)."""
    from quarterdeck.cli.main import friendly_errors
    from quarterdeck.cli.sync import print_source_statuses

    @friendly_errors
    def _run() -> None:
        ws, keys = _keys(workspace)
        print_source_statuses(ws)
        table = Table("id", "source", "created", "revoked", title="Tracking API write keys")
        for key in keys.list():
            table.add_row(key.key_id, key.source, key.created_at, key.revoked_at or "")
        console.print(table)

    _run()


@source_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="Id of the write key.")],
           workspace: WorkspaceOpt = None) -> None:
    """Revoke a write key: the tracking API refuses it from its next request."""
    from quarterdeck.cli.main import friendly_errors

    @friendly_errors
    def _run() -> None:
        _, keys = _keys(workspace)
        key = keys.revoke(key_id)
        console.print(f"Write key {key.key_id} of source {key.source!r} revoked")

    _run()


@source_app.command("serve")
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8088,
          workers: Annotated[int, typer.Option(
              help="Server processes; each spools to its own file.", min=1)] = 1,
          workspace: WorkspaceOpt = None) -> None:
    """Serve the Segment-compatible tracking API (/v1/identify, track, group, batch)."""
    from quarterdeck.sources.tracking_server import serve_tracking
    from quarterdeck.sources.tracking_spool import tracking_spool_dir

    ws, _ = _keys(workspace)
    spool = tracking_spool_dir(ws.data_dir)
    spool.mkdir(parents=True, exist_ok=True)
    console.print(f"Tracking API at [bold]http://{host}:{port}/v1/[/], spooling to {spool}"
                  + (f" ({workers} processes)" if workers > 1 else ""))
    sys.stdout.flush()
    serve_tracking(ws, host=host, port=port, workers=workers)


@source_app.command("load")
def load_tracking(workspace: WorkspaceOpt = None) -> None:
    """Convert what the tracking API accepted since last time and load it into the warehouse."""
    from quarterdeck.cli.load_report import print_load_report
    from quarterdeck.cli.main import friendly_errors
    from quarterdeck.sources.tracking_ingest import ingest_tracking

    @friendly_errors
    def _run() -> None:
        ws, _ = _keys(workspace)
        done = ingest_tracking(ws)
        if done is None or done.report is None:
            console.print("Nothing new from the tracking API")
            if done is not None:
                _say_set_aside(console, ws, done.rows_set_aside)
            return
        print_load_report(console, done.report)
        _say_set_aside(console, ws, done.rows_set_aside)
        if not done.report.ok:
            raise typer.Exit(1)

    _run()


def _say_set_aside(out: Console, ws: Workspace, rows: int) -> None:
    from quarterdeck.sources.tracking_ingest import tracking_set_aside_dir

    if rows:
        out.print(f"{rows:,} tracked row(s) set aside in {tracking_set_aside_dir(ws.data_dir)} "
                  "(reasons in the rejects files); they are tried again on every load",
                  highlight=False, soft_wrap=True)


def ingest_tracked_calls(out: Console, ws: Workspace) -> None:
    """Before a pipeline run: load what the tracking API accepted since the last conversion.
    Invalid rows are set aside in the rejects file and the rest load, as `quarterdeck sync`
    does; says nothing when the tracking API was never used or nothing is new."""
    from quarterdeck.cli.load_report import print_load_report
    from quarterdeck.sources.tracking_ingest import ingest_tracking

    done = ingest_tracking(ws)
    if done is None or done.report is None:
        return
    report = done.report
    if report.ok and not any(f.problems for f in report.files):
        rows = {f.entity: 0 for f in report.files}
        for f in report.files:
            rows[f.entity] += f.rows_loaded
        counts = ", ".join(f"{n:,} {entity}" for entity, n in rows.items())
        out.print(f"Tracking API: loaded {counts}")
    else:
        print_load_report(out, report)
