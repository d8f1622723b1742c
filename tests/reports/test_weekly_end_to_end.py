"""The weekly report and QBR deck through the CLI on a demo company run on two days: every
figure equals `quarterdeck export` of the same date, each PDF page has content inside its
margins, the deck's slides carry the account's exported figures, and bad input is refused
with nothing written."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from typer.testing import CliRunner

from quarterdeck.cli.main import app

# One worker builds the company for the whole module (the suite runs with --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("weekly_company")]
runner = CliRunner()


def qd(*args: object, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def export(ws: Path, table: str, day: date, *extra: object) -> list[dict[str, str]]:
    out = ws / "exports" / f"{table}-{day}-{len(extra)}.csv"
    qd("export", table, "--as-of", day, "--out", out, "--workspace", ws, *extra)
    return list(csv.DictReader(io.StringIO(out.read_text())))


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[Path, date]:
    out = tmp_path_factory.mktemp("company")
    qd("demo", "--out", out, "--accounts", 80, "--years", 2, "--seed", 5)
    today = date.fromisoformat(json.loads((out / "demo.json").read_text())["today"])
    ws = tmp_path_factory.mktemp("reports") / "ws"
    qd("init", ws)
    qd("load", out / "data", "--workspace", ws)
    qd("run", "--as-of", today - timedelta(days=7), "--workspace", ws)
    qd("run", "--as-of", today, "--workspace", ws)
    return ws, today


@pytest.fixture(scope="module")
def report(company):
    from quarterdeck.reports.weekly import build_weekly_report
    from quarterdeck.workspace.workspace import open_workspace

    ws, day = company
    return build_weekly_report(open_workspace(ws), day)


def money(value: str) -> Decimal:
    return Decimal(value or "0")


def test_the_bridge_and_retention_equal_the_exports(company, report) -> None:
    ws, day = company
    for grain, period in (("week", report.week), ("fiscal_quarter", report.quarter)):
        last = export(ws, "mrr_bridge", day, "--grain", grain)[-1]
        assert last["period"] == period.period
        assert money(last["starting_arr"]) == period.starting_arr
        assert money(last["ending_arr"]) == period.ending_arr
        for move in ("new", "expansion", "contraction", "churn", "reactivation",
                     "fx_adjustment"):
            assert money(last[move]) * 12 == getattr(period, move), (grain, move)
        assert int(last["ending_customers"]) == period.ending_customers
    row = export(ws, "retention", day, "--grain", "day", "--start", day)[-1]
    assert float(row["nrr"]) == pytest.approx(report.retention.nrr)
    assert float(row["grr"]) == pytest.approx(report.retention.grr)
    assert int(row["cohort_customers"]) == report.retention.cohort_customers


def test_health_movement_and_renewals_equal_the_exports(company, report) -> None:
    ws, day = company
    now = {r["account_id"]: r["band"] for r in export(ws, "health_scores", day)}
    before = {r["account_id"]: r["band"]
              for r in export(ws, "health_scores", day - timedelta(days=7))}
    changed = {a for a in now.keys() & before.keys() if now[a] and before[a]
               and now[a] != before[a]}
    assert changed, "the demo week should move some account's band"
    assert {m.account_id for m in report.health_moves} == changed
    for m in report.health_moves:
        assert (m.band_before, m.band_now) == (before[m.account_id], now[m.account_id])
        assert m.components, m.account_id
    snaps = export(ws, "account_snapshots", day)
    due = {r["account_id"] for r in snaps if r["status"] == "active" and r["renewal_date"]
           and 0 <= (date.fromisoformat(r["renewal_date"]) - day).days <= 90}
    assert {r.account_id for r in report.renewals_due} == due
    outcomes = export(ws, "renewal_outcomes", day)
    known = {(r["account_id"], r["decision_date"]) for r in outcomes
             if day - timedelta(days=13) <= date.fromisoformat(r["decision_date"])
             <= day - timedelta(days=7)}
    assert {(r.account_id, str(r.decision_date)) for r in report.renewals_decided} == known
    # The forecast `quarterdeck run` published: each renewal due carries its account's next
    # decision from `export renewal_forecast`, and the total its exact interval.
    forecast = {}
    for r in sorted(export(ws, "renewal_forecast", day), key=lambda r: r["renewal_date"]):
        forecast.setdefault(r["account_id"], r)
    with_forecast = [r for r in report.renewals_due if r.forecast is not None]
    assert with_forecast
    for r in with_forecast:
        assert r.forecast.expected_arr == Decimal(forecast[r.account_id]["expected_arr"])
    total = report.forecast_total
    assert total is not None and total.low_arr <= total.high_arr
    assert total.expected_arr == pytest.approx(
        sum(r.forecast.expected_arr for r in with_forecast), abs=Decimal("0.05"))


def test_alerts_operations_and_actions_equal_the_exports(company, report) -> None:
    ws, day = company
    alerts = export(ws, "alerts", day)
    week = Counter(a["signal"] for a in alerts
                   if day - timedelta(days=6) <= date.fromisoformat(a["fired_on"]) <= day)
    assert {a.signal: a.count for a in report.alerts} == dict(week)
    tasks = export(ws, "tasks", day)
    total = next(o for o in report.ops if o.group == "total")
    assert total.overdue_tasks == sum(t["status"] == "overdue" for t in tasks)
    snaps = {r["account_id"]: r for r in export(ws, "account_snapshots", day)}
    risk = {r["account_id"]: r for r in export(ws, "churn_risk", day)}
    assert report.actions
    for a in report.actions:
        assert a.arr_at_stake == money(snaps[a.account_id]["arr"])
        if a.risk_source == "churn_probability_window":
            assert a.risk == pytest.approx(float(risk[a.account_id]["churn_probability_window"]))
        assert a.url.endswith(a.account_id)
    priorities = [a.priority for a in report.actions]
    assert priorities == sorted(priorities, reverse=True)


def test_each_pdf_page_has_content_and_nothing_overflows_the_margin(company, tmp_path) -> None:
    ws, day = company
    pdf = tmp_path / "weekly.pdf"
    qd("report", "weekly", "--as-of", day, "--format", "pdf", "--out", pdf, "--workspace", ws)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for page in pages:
        image = Image.open(page).convert("L")
        width, height = image.size
        inked = sum(1 for v in image.tobytes() if v < 200)
        assert inked > 0.002 * width * height, f"{page.name} is blank"
        margin = int(width * 10 / 210)  # the right 10 mm of the A4 page
        strip = image.crop((width - margin, 0, width, height))
        assert min(strip.tobytes()) > 240, f"{page.name}: something runs into the margin"


def test_markdown_and_html_through_the_cli(company, tmp_path) -> None:
    ws, day = company
    md = qd("report", "weekly", "--as-of", day, "--format", "md", "--workspace", ws)
    assert len(md) < 4000 and "Next best actions" in md
    html = tmp_path / "weekly.html"
    qd("report", "weekly", "--as-of", day, "--out", html, "--workspace", ws)
    assert html.read_text().count("<svg") == 2


def test_the_qbr_deck_carries_the_accounts_exported_figures(company, tmp_path) -> None:
    ws, day = company
    snaps = [r for r in export(ws, "account_snapshots", day) if r["status"] == "active"]
    account = max(snaps, key=lambda r: money(r["arr"]))
    deck = tmp_path / "qbr.pptx"
    qd("report", "qbr", account["account_id"], "--as-of", day, "--out", deck, "--workspace", ws)
    slides = [" | ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame)
              for s in Presentation(str(deck)).slides]
    assert len(slides) == 6
    assert account["name"] in slides[0]
    assert f"{money(account['arr']):,.0f}" in slides[0]
    tickets = [t for t in export(ws, "tickets", day) if t["account_id"] == account["account_id"]
               and day - timedelta(days=90) < date.fromisoformat(t["created_at"][:10]) <= day]
    assert f"Tickets in the last 90 days: {len(tickets)}" in slides[3]
    health = next(r for r in export(ws, "health_scores", day)
                  if r["account_id"] == account["account_id"])
    if health["score"]:
        assert f"Health: {float(health['score']):.1f} ({health['band']})" in slides[4]
    open_tasks = [t for t in export(ws, "tasks", day) if t["account_id"] == account["account_id"]
                  and t["status"] in ("open", "overdue")]
    for task in open_tasks[:6]:
        assert task["title"] in slides[5]


def test_bad_input_is_refused_and_nothing_is_written(company, tmp_path) -> None:
    ws, day = company
    deck = tmp_path / "deck.pptx"
    out = qd("report", "qbr", "no-such-account", "--as-of", day, "--out", deck,
             "--workspace", ws, code=1)
    assert "no account 'no-such-account'" in out and not deck.exists()
    template = Presentation()
    for layout in list(template.slide_layouts):
        template.slide_layouts.remove(layout)
    template.slide_layouts  # noqa: B018 - an empty layout list is what the company sent
    bare = tmp_path / "bare.pptx"
    template.save(str(bare))
    account = export(ws, "account_snapshots", day)[0]["account_id"]
    out = qd("report", "qbr", account, "--as-of", day, "--out", deck, "--template", bare,
             "--workspace", ws, code=1)
    assert "lacks a title layout" in out and not deck.exists()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (ws / "definitions" / "reports.yml").write_text(
        "reports:\n  - name: weekly_team\n    audience: {people: [cro@example.com]}\n"
        "    schedule: {every: day}\n    channels: [email]\n"
        f"channels:\n  email: {{kind: smtp, host: 127.0.0.1, port: {port}, starttls: false, "
        "sender: reports@example.com}\nretry: {attempts: 2, wait_seconds: 0}\n")
    try:
        out = qd("report", "send", "--due", "--as-of", day, "--workspace", ws, code=1)
    finally:
        (ws / "definitions" / "reports.yml").unlink()
    assert "FAILED after 2 tries" in out and "1 of 1 deliveries failed" in out
