"""`quarterdeck identity`: resolve accounts into customers, review matches, override them.

A thin layer over `quarterdeck.identity`; every command is documented in docs/cli.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.options import WorkspaceOpt

identity_app = typer.Typer(help="Identity resolution: one company, one customer.",
                           no_args_is_help=True)
console = Console()
DECISIONS = ("merged", "review", "rejected", "confirmed", "split")


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The main command's error handling, looked up when the command runs."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from quarterdeck.cli.main import friendly_errors

        return friendly_errors(fn)(*args, **kwargs)

    return wrapper


def _resolve_and_report(ws: Any, *, full: bool = False) -> None:
    from quarterdeck.ingest import resolve_workspace_identities

    with console.status("Resolving identities…"):
        result = resolve_workspace_identities(ws, full=full)
    decisions = result.decisions()
    merged = result.accounts - result.customers
    console.print(f"{result.accounts:,} accounts → {result.customers:,} customers "
                  f"({merged:,} merged into another account's customer)")
    if result.plan is not None:
        how = "every pair scored" if result.plan.mode == "full" else "incremental"
        console.print(f"Matching: {how}: {result.plan.reason}", highlight=False)
    shown = ", ".join(f"{decisions[d]:,} {d}" for d in DECISIONS if decisions.get(d))
    if shown:
        console.print(f"Pairs: {shown}")
    if decisions.get("review"):
        console.print("Review them with `quarterdeck identity matches --decision review`, "
                      "then `quarterdeck identity confirm` or `split`.")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


@identity_app.command("resolve")
@friendly
def resolve(
    full: Annotated[bool, typer.Option(
        "--full", help="Re-fit the matching model and score every pair, not only the "
        "accounts changed since the last resolution.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Match the loaded accounts into customers (after editing identity.yml)."""
    from quarterdeck.workspace.workspace import open_workspace

    _resolve_and_report(open_workspace(workspace), full=full)


@identity_app.command("matches")
@friendly
def matches(
    decision: Annotated[str | None, typer.Option(
        help="Show only pairs with this decision: merged, review, rejected, confirmed or "
        "split.")] = None,
    account: Annotated[str | None, typer.Option(
        help="Show only pairs involving this account id.")] = None,
    limit: Annotated[int, typer.Option(help="Most pairs shown.", min=1)] = 100,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the matched pairs with their probability, evidence and decision."""
    from quarterdeck.identity.tables import ACCOUNT_MATCHES
    from quarterdeck.warehouse.connection import open_warehouse
    from quarterdeck.workspace.workspace import open_workspace

    if decision is not None and decision not in DECISIONS:
        raise typer.BadParameter(f"use one of {', '.join(DECISIONS)}", param_hint="--decision")
    ws = open_workspace(workspace)
    con = open_warehouse(ws, read_only=True)
    try:
        if ACCOUNT_MATCHES not in con.list_tables():
            console.print("No identity resolution yet: load accounts or run "
                          "`quarterdeck identity resolve`.")
            return
        t = con.table(ACCOUNT_MATCHES)
        if decision is not None:
            t = t.filter(t.decision == decision)
        if account is not None:
            t = t.filter((t.left_account_id == account) | (t.right_account_id == account))
        total = con.execute(t.count())
        order = [t.match_probability.desc(nulls_first=False), t.left_account_id, t.right_account_id]
        rows = con.to_pyarrow(t.order_by(order).limit(limit)).to_pylist()
    finally:
        con.disconnect()
    table = Table("left", "right", "probability", "decision", "evidence",
                  title=f"Account matches ({total:,})")
    for r in rows:
        p = r["match_probability"]
        table.add_row(r["left_account_id"], r["right_account_id"],
                      "–" if p is None else f"{p:.3f}", r["decision"], r["evidence"])
    console.print(table)
    if total > len(rows):
        console.print(f"… {total - len(rows):,} more; raise --limit or export them with "
                      "`quarterdeck export account_matches`.")


def _override(kind: str, a: str, b: str, workspace: Path | None) -> None:
    from quarterdeck.identity.definitions import IDENTITY_FILE
    from quarterdeck.identity.overrides import record_override
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    changed = record_override(ws.definitions_dir, kind, a, b)  # type: ignore[arg-type]
    where = ws.definitions_dir / IDENTITY_FILE
    if not changed:
        console.print(f"[{a}, {b}] is already under {kind} in {where}", markup=False)
        return
    console.print(f"Added [{a}, {b}] to {kind} in {where}", markup=False)
    _resolve_and_report(ws)


@identity_app.command("confirm")
@friendly
def confirm(
    a: Annotated[str, typer.Argument(help="An account id.")],
    b: Annotated[str, typer.Argument(help="Another account id of the same company.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Record that two accounts are the same company, then re-resolve."""
    _override("confirm", a, b, workspace)


@identity_app.command("split")
@friendly
def split(
    a: Annotated[str, typer.Argument(help="An account id.")],
    b: Annotated[str, typer.Argument(help="The account id of a different company.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Record that two accounts are different companies, then re-resolve."""
    _override("split", a, b, workspace)
