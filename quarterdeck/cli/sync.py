"""`quarterdeck sync [SOURCE]`: read what changed in each configured source and load it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from quarterdeck.cli.options import WorkspaceOpt
from quarterdeck.errors import QuarterdeckError

console = Console()
err_console = Console(stderr=True)


def sync(source: Annotated[str | None, typer.Argument(
            help="The source to sync (a name in definitions/sources.yml); default all.")] = None,
         objects: Annotated[str | None, typer.Option(
             help="Only these objects of the source, comma-separated.")] = None,
         workspace: WorkspaceOpt = None) -> None:
    """Sync sources: read what changed since the last sync and load it into the warehouse."""
    from quarterdeck.cli.main import friendly_errors
    from quarterdeck.sources.sync import sync_source
    from quarterdeck.workspace.workspace import open_workspace

    @friendly_errors
    def _run() -> None:
        ws = open_workspace(workspace)
        names = [source] if source else sorted(ws.sources.sources)
        if not names:
            console.print("No sources configured: add them to definitions/sources.yml "
                          "(see docs/sources.md)")
            return
        for name in names:
            ws.sources.source(name)  # an unknown name fails before anything is read
        chosen = [o.strip() for o in objects.split(",") if o.strip()] if objects else None
        failed = []
        table = Table("source", "object", "records read", title="Sync")
        for name in names:
            with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                          TextColumn("{task.completed:,.0f} records"), TimeElapsedColumn(),
                          console=console) as progress:
                task = progress.add_task(f"{name}", total=None)

                def update(obj: str, read: int, task=task, progress=progress, name=name):
                    progress.update(task, description=f"{name}: {obj}", completed=read)

                try:
                    result = sync_source(ws, name, objects=chosen, progress=update)
                except QuarterdeckError as exc:  # report each source; the others still sync
                    failed.append(name)
                    err_console.print(f"[bold red]error:[/] {exc}", highlight=False,
                                      soft_wrap=True)
                    continue
            for obj, n in result.objects.items():
                table.add_row(name, obj, f"{n:,}")
            console.print(f"[green]{name}[/]: {result.records:,} records read, "
                          f"{result.rows_loaded:,} rows loaded"
                          + (f", [yellow]{result.rows_rejected:,} rows set aside[/] (see "
                             f"{', '.join(result.rejects_files)})" if result.rows_rejected
                             else ""), highlight=False)
        if table.rows:
            console.print(table)
        if failed:
            raise typer.Exit(1)

    _run()


def print_source_statuses(ws) -> None:
    """The configured sources' last sync, rows and freshness, as a Rich table."""
    from quarterdeck.sources.status import source_statuses

    statuses = source_statuses(ws)
    if not statuses:
        console.print("No sources configured in definitions/sources.yml")
        return
    now = datetime.now(UTC)
    table = Table("source", "kind", "last sync", "status", "records", "rows loaded",
                  "newest change", "freshness", title="Sources")
    colours = {"fresh": "green", "stale": "red", "never synced": "yellow"}
    for s in statuses:
        fresh = s.freshness(now)
        age = s.age(now)
        rows = ", ".join(f"{e} {n:,}" for e, n in sorted(s.rows.items())) or "-"
        table.add_row(
            s.name, s.kind,
            s.last_sync_at.strftime("%Y-%m-%d %H:%M UTC") if s.last_sync_at else "-",
            (s.last_status or "-") + (f": {s.last_error[:60]}" if s.last_error
                                      and s.last_status == "failed" else ""),
            f"{s.records:,}", rows,
            s.newest.strftime("%Y-%m-%d %H:%M") if s.newest else "-",
            f"[{colours[fresh]}]{fresh}[/]" + (f" ({_age(age)} ago)" if age else ""))
    console.print(table)


def _age(age) -> str:
    seconds = int(age.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
