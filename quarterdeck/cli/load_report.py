"""How `quarterdeck load` shows what it did: a table per file and every problem found."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from quarterdeck.landing.loader import LoadReport

SHOWN = 50


def print_load_report(console: Console, report: LoadReport) -> None:
    table = Table(title="Load")
    table.add_column("file", overflow="fold", ratio=1)
    table.add_column("entity", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for col in ("rows read", "loaded", "rejected"):
        table.add_column(col, justify="right", no_wrap=True)
    for f in report.files:
        colour = {"loaded": "green", "unchanged": "dim", "rejected": "red"}[f.status]
        status = f.status if not (f.status == "loaded" and f.rows_rejected) else "loaded (partly)"
        table.add_row(Path(f.file).name, f.entity, f"[{colour}]{status}[/]", f"{f.rows_read:,}",
                      f"{f.rows_loaded:,}", f"{f.rows_rejected:,}")
    console.print(table)
    for f in report.files:
        if f.encoding:
            how = "detected" if f.encoding_detected else "as asked"
            console.print(f"{Path(f.file).name} was read as {f.encoding} ({how}), not UTF-8",
                          highlight=False)
    for f in report.files:
        if not f.problems:
            continue
        verdict = ("refused: nothing of it was loaded" if f.status == "rejected"
                   else "its invalid rows were skipped")
        console.print(f"\n[bold red]{f.file}[/]: {f.total_problems:,} problem(s), {verdict}",
                      highlight=False)
        for p in f.problems[:SHOWN]:
            console.print(f"  {p}", highlight=False, soft_wrap=True)
        if f.total_problems > SHOWN:
            console.print(f"  … {f.total_problems - SHOWN:,} more", highlight=False)
        if f.rejects_file:
            console.print(f"  every problem is listed in {f.rejects_file}", highlight=False,
                          soft_wrap=True)
