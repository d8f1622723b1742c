"""Render a `QualityReport`: Rich tables for the terminal, a self-contained HTML page.

Both group the checks by source, worst first, coloured red (error), yellow (warning) and
green (ok). The page (Jinja2 template `quality_report.html`, inline CSS, no external assets)
lists every check with a bar of its failing share; the terminal shows the failing checks
and counts the rest unless asked for all. Example: Path("quality.html").write_text(
render_quality_html(report)).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from quarterdeck.quality.report import STATUSES, CheckResult, QualityReport

COLOURS = {"error": "#d64545", "warning": "#e0a526", "ok": "#3a9d5d"}
RICH_STYLES = {"error": "bold red", "warning": "yellow", "ok": "green"}
MARKS = {"error": "✖", "warning": "▲", "ok": "✔"}

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent),
                         autoescape=select_autoescape(["html"]), trim_blocks=True,
                         lstrip_blocks=True)


def finding(row: CheckResult) -> str:
    """What a check found, in a few words: "127 of 2,040 rows (6.2%)" or the age of a feed."""
    if row.check == "freshness":
        return row.detail.removeprefix(f"{row.entity} from {row.source} are ")
    judged = (row.passed or 0) + (row.failed or 0)
    if not judged:
        return "no rows to judge"
    share = row.share or 0.0
    return f"{row.failed:,} of {judged:,} rows ({share:.1%})" if row.failed else \
        f"all {judged:,} rows pass"


def check_label(row: CheckResult) -> str:
    """The check and its rule in one: "completeness: recommended", "freshness"."""
    return row.check if row.check == "freshness" else f"{row.check}: {row.rule}"


def render_quality_rich(report: QualityReport, console: Console, *,
                        show_all: bool = False) -> None:
    """Print the headline and, per source, the failing checks (every check with
    `show_all`) as Rich tables on `console`."""
    style = RICH_STYLES[report.worst]
    console.print(f"[{style}]Data quality[/]: {report.headline}", highlight=False)
    for source in report.sources:
        rows = [r for r in report.rows if r.source == source]
        shown = rows if show_all else [r for r in rows if r.status != "ok"]
        passing = sum(1 for r in rows if r.status == "ok")
        if shown:
            table = Table(title=f"Source: {source}", title_justify="left")
            table.add_column("status", no_wrap=True)
            table.add_column("entity", no_wrap=True)
            table.add_column("check", overflow="fold")
            table.add_column("field")
            table.add_column("finding", ratio=3)
            table.add_column("examples", ratio=2, overflow="fold")
            for r in shown:
                table.add_row(f"[{RICH_STYLES[r.status]}]{MARKS[r.status]} {r.status}[/]",
                              r.entity, check_label(r), r.field, finding(r),
                              ", ".join(r.examples))
            console.print(table)
        if not show_all:
            console.print(f"[green]{MARKS['ok']}[/] {source}: {passing:,} of {len(rows):,} "
                          "checks ok" + (" (--all lists them)" if passing else ""),
                          highlight=False)


def render_quality_html(report: QualityReport) -> str:
    """A self-contained HTML page of every check, grouped by source."""
    groups = [(source, [r for r in report.rows if r.source == source])
              for source in report.sources]
    return _templates.get_template("quality_report.html").render(
        report=report, groups=groups, statuses=STATUSES, colours=COLOURS, marks=MARKS,
        finding=finding)
