"""How `metrics`, `run` and `export` warn that the day asked for is later than the data."""

from __future__ import annotations

from datetime import date

from ibis.backends import BaseBackend
from rich.console import Console

from quarterdeck.quality.data_age import DataAge, data_warnings
from quarterdeck.workspace.workspace import Workspace

# The figures of `metrics` and of metric exports are revenue: they read subscriptions.
REVENUE = ("subscriptions",)


def warn_if_behind(out: Console, ws: Workspace, day: date, *, con: BaseBackend | None = None,
                   entities: tuple[str, ...] | None = None) -> list[DataAge]:
    """Print one warning per entity whose newest fact is more than a day before `day`, and
    how to ask for the data's own last day; returns what it warned about."""
    from quarterdeck.warehouse.connection import open_warehouse

    own = con is None
    con = open_warehouse(ws, read_only=True) if con is None else con
    try:
        behind = data_warnings(con, day, entities=entities)
    finally:
        if own:
            con.disconnect()
    print_behind(out, behind)
    return behind


def print_behind(out: Console, behind: list[DataAge]) -> None:
    """The warnings of `warn_if_behind` for ages already found (a run finds them)."""
    for age in behind:
        out.print(f"[bold yellow]warning:[/] {age.sentence}", highlight=False, soft_wrap=True)
    if behind:
        last = max(a.newest for a in behind)
        out.print(f"  to see the figures as of the data's last day, pass --as-of {last}",
                  highlight=False, soft_wrap=True)
