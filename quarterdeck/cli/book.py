"""`quarterdeck alert|task|playbook|ops`: work the book from the command line.

A thin layer over `quarterdeck.appdb.book_actions` and `quarterdeck.appdb.ops_metrics`;
documented in docs/cli.md and docs/operations.md. Changes are made in the name of `--as`
(default: $QUARTERDECK_USER, else the login name) and audited.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.options import AsOfOpt, WorkspaceOpt

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
alert_app = typer.Typer(help="Alerts raised by signals: list, acknowledge, resolve.",
                        no_args_is_help=True)
task_app = typer.Typer(help="Playbook tasks: list, close with an outcome.", no_args_is_help=True)
playbook_app = typer.Typer(help="Playbooks: list them, start one by hand.", no_args_is_help=True)

ActorOpt = Annotated[str | None, typer.Option(
    "--as", help="Who makes the change (default $QUARTERDECK_USER, else the login name).",
    show_default=False)]
NoteOpt = Annotated[str | None, typer.Option(help="A note kept with the change.")]


def _actor(value: str | None) -> str:
    return value or os.environ.get("QUARTERDECK_USER") or f"cli:{getpass.getuser()}"


def _guarded(fn: Callable[[], None]) -> None:
    from quarterdeck.cli.main import friendly_errors

    friendly_errors(fn)()


@contextmanager
def _book(workspace: Any, as_of: str | None) -> Iterator[tuple[Any, Engine, date]]:
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.cli.main import parse_as_of
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    day = parse_as_of(as_of, ws.settings.timezone)
    engine = make_engine(ws.app_database_url)
    try:
        migrate(engine)
        yield ws, engine, day
    finally:
        engine.dispose()


def _print(table: Any, columns: list[str], title: str) -> None:
    out = Table(title=title)
    for c in columns:
        out.add_column(c.replace("_", " "))
    for row in table.select(columns).to_pylist():
        out.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(out)


@alert_app.command("list")
def alert_list(
    state: Annotated[str, typer.Option(help="open, acknowledged, resolved, auto_resolved or "
                                       "all.")] = "open",
    owner: Annotated[str | None, typer.Option(help="Only this owner's alerts.")] = None,
    as_of: AsOfOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Alerts fired on or before the date, newest first."""
    def run() -> None:
        import pyarrow.compute as pc

        from quarterdeck.appdb.operations_exports import operations_table

        with _book(workspace, as_of) as (_, engine, day):
            t = operations_table(engine, "alerts", day)
            if t.num_rows and state != "all":
                t = t.filter(pc.equal(t["state"], state))
            if t.num_rows and owner:
                t = t.filter(pc.equal(t["owner_email"], owner))
            t = t.sort_by([("fired_on", "descending"), ("id", "descending")]) if t.num_rows else t
            _print(t, ["id", "fired_on", "signal", "severity", "account_id", "owner_email",
                       "state", "evidence"], f"Alerts as of {day} ({state})")
    _guarded(run)


def _alert_change(action: str, alert_id: int, note: str | None, actor: str | None,
                  as_of: str | None, workspace: Any) -> None:
    def run() -> None:
        from quarterdeck.appdb import book_actions

        with _book(workspace, as_of) as (_, engine, day):
            change = getattr(book_actions, f"{action}_alert")(
                engine, alert_id, actor=_actor(actor), note=note, on=day)
            console.print(f"alert {alert_id} ({change['account_id']}): {change['before']} → "
                          f"{change['after']}")
    _guarded(run)


@alert_app.command("ack")
def alert_ack(alert_id: Annotated[int, typer.Argument(help="The alert's id.")],
              note: NoteOpt = None, actor: ActorOpt = None, as_of: AsOfOpt = None,
              workspace: WorkspaceOpt = None) -> None:
    """Acknowledge an open alert: you have seen it and own the next step."""
    _alert_change("acknowledge", alert_id, note, actor, as_of, workspace)


@alert_app.command("resolve")
def alert_resolve(alert_id: Annotated[int, typer.Argument(help="The alert's id.")],
                  note: NoteOpt = None, actor: ActorOpt = None, as_of: AsOfOpt = None,
                  workspace: WorkspaceOpt = None) -> None:
    """Resolve an open or acknowledged alert, with what was done."""
    _alert_change("resolve", alert_id, note, actor, as_of, workspace)


@task_app.command("list")
def task_list(
    status: Annotated[str, typer.Option(help="open, overdue, done, skipped, due (open or "
                                        "overdue) or all.")] = "due",
    owner: Annotated[str | None, typer.Option(help="Only this owner's tasks.")] = None,
    as_of: AsOfOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Tasks of the playbooks started on or before the date, soonest due first."""
    def run() -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        from quarterdeck.appdb.operations_exports import operations_table

        with _book(workspace, as_of) as (_, engine, day):
            t = operations_table(engine, "tasks", day)
            wanted = {"due": ["open", "overdue"], "all": None}.get(status, [status])
            if t.num_rows and wanted:
                t = t.filter(pc.is_in(t["status"], pa.array(wanted)))
            if t.num_rows and owner:
                t = t.filter(pc.equal(t["owner_email"], owner))
            t = t.sort_by([("due_on", "ascending"), ("id", "ascending")]) if t.num_rows else t
            _print(t, ["id", "due_on", "status", "playbook", "account_id", "title",
                       "owner_email"], f"Tasks as of {day} ({status})")
    _guarded(run)


@task_app.command("close")
def task_close(
    task_id: Annotated[int, typer.Argument(help="The task's id.")],
    outcome: Annotated[str, typer.Option(help="What came of it (required).")],
    skip: Annotated[bool, typer.Option(help="Skipped, not done.")] = False,
    actor: ActorOpt = None, as_of: AsOfOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Close an open task as done (or skipped) with an outcome note."""
    def run() -> None:
        from quarterdeck.appdb.book_actions import close_task

        with _book(workspace, as_of) as (_, engine, day):
            change = close_task(engine, task_id, actor=_actor(actor), outcome=outcome,
                                skip=skip, on=day)
            console.print(f"task {task_id} ({change['account_id']}): open → {change['after']}")
    _guarded(run)


@playbook_app.command("list")
def playbook_list(workspace: WorkspaceOpt = None) -> None:
    """The workspace's playbooks: trigger, anchor and tasks."""
    def run() -> None:
        from quarterdeck.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        out = Table(title="Playbooks")
        for c in ("name", "trigger", "anchor", "tasks"):
            out.add_column(c)
        for p in ws.book.playbooks.playbooks:
            trigger = p.trigger
            what = {"stage": f"stage {trigger.stage}", "signal": f"signal {trigger.signal}",
                    "manual": "by hand"}.get(trigger.kind, trigger.text())
            tasks = ", ".join(f"{t.key} ({t.due:+d}d)" for t in p.tasks)
            out.add_row(p.name, what, p.anchor, tasks)
        console.print(out)
    _guarded(run)


@playbook_app.command("start")
def playbook_start(
    name: Annotated[str, typer.Argument(help="The playbook's name.")],
    account: Annotated[str, typer.Argument(help="The account's id.")],
    anchor: Annotated[str | None, typer.Option(help="Anchor date (YYYY-MM-DD) instead of the "
                                               "one the playbook names.")] = None,
    actor: ActorOpt = None, as_of: AsOfOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Start a playbook for an account by hand; its tasks fall due from the anchor."""
    def run() -> None:
        from quarterdeck.appdb.book_actions import start_playbook
        from quarterdeck.cli.main import parse_as_of

        with _book(workspace, as_of) as (ws, engine, day):
            anchor_day = parse_as_of(anchor) if anchor else None
            started = start_playbook(engine, ws.book.playbooks, name, account,
                                     actor=_actor(actor), on=day, anchor=anchor_day)
            console.print(f"started {name} for {account} (run {started.id}, anchor "
                          f"{started.anchor_date})")
    _guarded(run)


def ops(
    by: Annotated[str, typer.Option(help="Group by csm, team or segment.")] = "csm",
    as_of: AsOfOpt = None, workspace: WorkspaceOpt = None,
) -> None:
    """Operations metrics: capacity, playbook execution, overdue tasks, onboarding, QBR
    coverage, alert response and outcome."""
    def run() -> None:
        from quarterdeck.appdb.ops_metrics import ops_metrics

        with _book(workspace, as_of) as (_, engine, day):
            t = ops_metrics(engine, as_of=day, by=by)
            out = Table(title=f"Operations as of {day} by {by}")
            heads = ["", "accounts", "ARR", "util.", "execution", "overdue", "onboarding",
                     "TTV days", "QBR cov.", "alert resp. d", "alert renewed"]
            for h in heads:
                out.add_column(h, justify="left" if not h else "right")
            for r in t.to_pylist():
                out.add_row(
                    r["group"] + (f" ({r['capacity_flag']})" if r["capacity_flag"] not in
                                  (None, "ok") else ""),
                    f"{r['accounts']:,}", f"{r['arr']:,.0f}", _pct(r["utilisation"]),
                    _pct(r["execution_rate"]), f"{r['overdue_tasks']:,}",
                    _pct(r["onboarding_completion_rate"]), _num(r["median_time_to_value_days"]),
                    _pct(r["qbr_coverage"]), _num(r["median_alert_response_days"]),
                    _pct(r["alert_renewal_rate"]))
            console.print(out)
    _guarded(run)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"
