"""`quarterdeck source`: write keys for the tracking API, serving it, and loading what it took."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.options import WorkspaceOpt

source_app = typer.Typer(help="Sources of data: tracking API write keys, serving and loading.",
                         no_args_is_help=True)
console = Console()



def _spool_dir(data_dir: Path) -> Path:
    return data_dir / "tracking" / "spool"


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
          workspace: WorkspaceOpt = None) -> None:
    """Serve the Segment-compatible tracking API (/v1/identify, track, group, batch)."""
    import uvicorn

    from quarterdeck.sources.tracking_api import create_tracking_app

    ws, keys = _keys(workspace)
    spool = _spool_dir(ws.data_dir)
    spool.mkdir(parents=True, exist_ok=True)
    console.print(f"Tracking API at [bold]http://{host}:{port}/v1/[/], spooling to {spool}")
    uvicorn.run(create_tracking_app(spool, keys), host=host, port=port, log_level="warning")


@source_app.command("load")
def load_tracking(workspace: WorkspaceOpt = None) -> None:
    """Convert what the tracking API accepted since last time and load it into the warehouse."""
    from quarterdeck.cli.load_report import print_load_report
    from quarterdeck.cli.main import friendly_errors
    from quarterdeck.ingest import load_into_workspace
    from quarterdeck.sources.tracking_spool import convert_spool

    @friendly_errors
    def _run() -> None:
        ws, _ = _keys(workspace)
        outbox = ws.data_dir / "tracking" / "outbox"
        done = convert_spool(_spool_dir(ws.data_dir), outbox)
        if not done.files:
            console.print("Nothing new from the tracking API")
            return
        report = load_into_workspace(ws, sorted(done.files.values()))
        print_load_report(console, report)
        if not report.ok:
            raise typer.Exit(1)

    _run()
