"""`quarterdeck health`: validate health models, train the churn model, show one account.

A thin layer over `quarterdeck.health`; every command is documented in docs/cli.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.options import AsOfOpt, WorkspaceOpt

health_app = typer.Typer(help="Health scores and churn risk: validate, train, show.",
                         no_args_is_help=True)
console = Console()



def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The main command's error handling, looked up when the command runs."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from quarterdeck.cli.main import friendly_errors

        return friendly_errors(fn)(*args, **kwargs)

    return wrapper


def _open(workspace: Path | None, as_of: str | None) -> tuple[Any, date]:
    from quarterdeck.cli.main import parse_as_of
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    return ws, parse_as_of(as_of, ws.settings.timezone)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _change(v: float | None) -> str:
    return "–" if v is None else f"{v:+.1f}"


@health_app.command("validate")
@friendly
def validate(
    model: Annotated[str | None, typer.Option(help="Validate only this health model, applied "
                                              "to every account.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First renewal decision date "
                                              "(default: a year before --to).")] = None,
    to: Annotated[str | None, typer.Option(help="Last renewal decision date (default: the "
                                           "as-of date minus the 7-day grace period).")] = None,
    days_before: Annotated[list[int] | None, typer.Option(
        help="Score each account this many days before its renewal; repeat for several "
        "(default 30).")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write an HTML report with charts "
                                              "here.")] = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Backtest the health models against real renewal outcomes, with no look-ahead."""
    from quarterdeck.cli.main import parse_as_of
    from quarterdeck.health.renewal_outcomes import GRACE_DAYS
    from quarterdeck.health.validation import validate_model
    from quarterdeck.health.validation_report import render_validation_html, render_validation_rich
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse

    ws, day = _open(workspace, as_of)
    end = parse_as_of(to) if to else day - timedelta(days=GRACE_DAYS)
    start = parse_as_of(from_) if from_ else end - timedelta(days=364)
    con = open_warehouse(ws, read_only=True)
    try:
        with console.status("Scoring every renewal as it stood before…"):
            result = validate_model(canonical_tables(con), ws.health_models,
                                    base_currency=ws.settings.base_currency, start=start,
                                    end=end, as_of=day, days_before=tuple(days_before or (30,)),
                                    model=model)
    finally:
        con.disconnect()
    render_validation_rich(result, console)
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_validation_html(result))
        console.print(f"HTML report written to {html}")


def print_card(card: dict[str, Any]) -> None:
    """The churn model's card as Rich tables: summary, candidates, calibration, features."""
    t, v = card["training"], card.get("validation") or {}
    summary = Table(title=f"Churn model {card['name']} (version {card['version']})",
                    show_header=False)
    for label, value in (
        ("trained as of", card["as_of"]),
        ("training window", f"decisions {t['first_decision']} → {t['last_decision']}"
         + (f" ({t['starts']})" if t.get("starts") else "")),
        ("decisions", f"{t['rows']:,} ({t['churned']:,} churned, base rate "
                      f"{_pct(t['base_rate'])})"),
        ("sample", t.get("sample") or "every decision known"),
        ("features as of", f"{card['days_before']} days before each renewal"),
        ("calibration", card["calibration_method"]),
        ("validation", f"{v.get('method', 'time split')}, decisions {v['from']} → "
                       f"{v['to']}: {v['rows']:,} ({v['churned']:,} churned, base rate "
                       f"{_pct(v['base_rate'])})" if v else "none"),
        ("validation note", card.get("validation_note") or "–"),
        ("probability bounds", f"{_pct(card['probability_floor'])} – "
                               f"{_pct(1 - card['probability_floor'])}"
         if "probability_floor" in card else "–"),
        ("validation AUC", _num(v.get("auc"))),
        ("validation Brier score", _num(v.get("brier"))),
    ):
        summary.add_row(label, str(value))
    console.print(summary)
    if card["candidates"]:
        c = Table("candidate", "AUC", "Brier",
                  title=f"Candidates on the {v.get('method', 'time split')}")
        for r in card["candidates"]:
            c.add_row(r["model"], _num(r["auc"]), _num(r["brier"]))
        console.print(c)
    if v:
        cal = Table("decisions", "predicted", "observed",
                    title=f"Calibration on the {v.get('method', 'time split')} (bins by "
                    "predicted probability)")
        for r in v["calibration"]:
            cal.add_row(f"{r['rows']:,}", _pct(r["predicted"]), _pct(r["observed"]))
        console.print(cal)
    f = Table("feature", "mean contribution", title="Features, by weight in the model")
    for r in card["importance"]:
        f.add_row(r["feature"], f"{r['weight']:.4f}")
    console.print(f)
    if card.get("left_out"):
        gone = Table("feature", "why", title="Left out of the model")
        for r in card["left_out"]:
            gone.add_row(r["feature"], r["reason"])
        console.print(gone)


@health_app.command("train")
@friendly
def train(as_of: AsOfOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Train the churn model on the renewals known by a date, save it and print its card."""
    from quarterdeck.health.churn_model import train_churn_model
    from quarterdeck.health.model_store import churn_models_dir, save_model
    from quarterdeck.landing.account_versions import with_account_versions
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse

    ws, day = _open(workspace, as_of)
    con = open_warehouse(ws, read_only=True)
    try:
        with console.status(f"Training the churn model as of {day}…"):
            tables = with_account_versions(canonical_tables(con), con, ws.landing_dir)
            model = train_churn_model(tables, as_of=day,
                                      base_currency=ws.settings.base_currency,
                                      attributes=ws.settings.churn.attributes)
    finally:
        con.disconnect()
    folder = save_model(model, churn_models_dir(ws.data_dir))
    print_card(model.card)
    console.print(f"Saved in {folder}")


@health_app.command("show")
@friendly
def show(
    account_id: Annotated[str, typer.Argument(help="The account to show.")],
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """One account's health score, band, reasons and churn probability."""
    from quarterdeck.health.churn_model import NotEnoughHistory
    from quarterdeck.health.churn_risk import churn_risk
    from quarterdeck.health.model_store import NoSavedModel, churn_models_dir, load_model
    from quarterdeck.landing.account_versions import with_account_versions
    from quarterdeck.pipeline import health_stage
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import open_warehouse

    ws, day = _open(workspace, as_of)
    con = open_warehouse(ws, read_only=True)
    try:
        tables = with_account_versions(canonical_tables(con), con, ws.landing_dir)
        scores = [r for r in health_stage(ws, tables, day).to_pylist()
                  if r["account_id"] == account_id]
        if not scores:
            console.print(f"{account_id} is not a paying account as of {day}")
            raise typer.Exit(1)
        note = ""
        try:
            model = load_model(churn_models_dir(ws.data_dir), day)
        except NoSavedModel:
            model = None  # trained as of the day, not saved
        try:
            risk = churn_risk(tables, as_of=day, base_currency=ws.settings.base_currency,
                              model=model, accounts=[account_id],
                              window_days=ws.settings.churn.window_days,
                              attributes=ws.settings.churn.attributes).to_pylist()
        except NotEnoughHistory as exc:
            risk, note = [], str(exc)
    finally:
        con.disconnect()
    s = scores[0]
    t = Table(title=f"{account_id} as of {day}", show_header=False)
    t.add_row("health model", s["model"] or "–")
    t.add_row("score", "–" if s["score"] is None else f"{s['score']:.1f}")
    t.add_row("band", s["band"] or "no score")
    t.add_row("change 7 / 30 days", f"{_change(s['change_7d'])} / {_change(s['change_30d'])}")
    t.add_row("why", s["reasons"] or "–")
    if risk:
        r = risk[0]
        t.add_row("churn probability", f"{_pct(r['churn_probability'])} at the decision on "
                  f"{r['horizon'] or 'an unknown date'}")
        t.add_row(f"churn within {r['window_days']} days",
                  f"{_pct(r['churn_probability_window'])} ({r['decisions_in_window']} "
                  "renewal decision(s) in the window)")
        why = "why the risk is low" if r["reasons_direction"] == "lowers" else "churn reasons"
        t.add_row(why, r["reasons"] or "–")
        t.add_row("churn model", f"{r['model']} (version {r['model_version']})")
    else:
        t.add_row("churn probability", f"– ({note})")
    console.print(t)
