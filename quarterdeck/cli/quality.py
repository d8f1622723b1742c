"""`quarterdeck quality`: the data-quality report of the warehouse, per source and entity.

A thin layer over `quarterdeck.quality`; documented in docs/cli.md and docs/quality.md.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quarterdeck.cli.options import AsOfOpt, WorkspaceOpt

console = Console()


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


def quality(
    html: Annotated[Path | None, typer.Option(help="Also write the report as a "
                                              "self-contained HTML page here.")] = None,
    fail_on: Annotated[FailOn | None, typer.Option(
        help="Exit with status 1 when a check ends at this level or worse (error, or "
        "warning: warnings and errors).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List the checks that pass too.")
                        ] = False,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check completeness, accuracy rules, freshness, orphans and duplicates per source."""
    from quarterdeck.cli.main import friendly_errors

    @friendly_errors
    def _run() -> None:
        from quarterdeck.cli.main import parse_as_of
        from quarterdeck.pipeline import quality_stage
        from quarterdeck.quality.rendering import render_quality_html, render_quality_rich
        from quarterdeck.warehouse.connection import open_warehouse
        from quarterdeck.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        day = parse_as_of(as_of, ws.settings.timezone)
        con = open_warehouse(ws, read_only=True)
        try:
            with console.status(f"Checking data quality as of {day}…"):
                report = quality_stage(ws, con, day)
        finally:
            con.disconnect()
        render_quality_rich(report, console, show_all=show_all)
        if html is not None:
            html.write_text(render_quality_html(report), encoding="utf-8")
            console.print(f"HTML report written to {html}")
        if fail_on is not None and report.failing(fail_on.value):
            raise typer.Exit(1)

    _run()

