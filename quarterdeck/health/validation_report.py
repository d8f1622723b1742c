"""Render a `ValidationResult`: a Rich table for the terminal, a self-contained HTML page.

The page has no external assets: inline CSS and SVG charts (ROC curve per horizon, churn rate
by band, feature ranking). Example: Path("validation.html").write_text(
render_validation_html(validate_model(...))).
"""

from __future__ import annotations

from html import escape
from typing import Any

from rich.console import Console
from rich.table import Table

from quarterdeck.health.validation import ValidationResult

COLOURS = {"red": "#d64545", "yellow": "#e0a526", "green": "#3a9d5d"}
LINES = ("#1f5fa8", "#8a4fbf", "#2a9d8f", "#555555")


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, places: int = 3) -> str:
    return "–" if v is None else f"{v:.{places}f}"


def render_validation_rich(result: ValidationResult, console: Console) -> None:
    """Print the summary, calibration and feature ranking as Rich tables on `console`."""
    title = (f"Health model {result.model}: decisions {result.start} → {result.end}"
             f" ({result.excluded_notified} already notified left out)")
    for r in result.components_without_data:
        console.print(f"[yellow]no data[/] for component {r['feature']} of {r['model']}: "
                      f"{r['reason']}")
    if result.unscored:
        console.print(f"[yellow]{result.unscored:,} decisions could not be scored[/] "
                      f"{result.days_before[0]} days before: no component of their health "
                      "model had a value (their AUC shows as –)")
    t = Table(title=title)
    for col in ("days before", "segment", "decisions", "churned", "AUC", "base rate",
                "red share", "red precision", "lift", "churned ARR in red"):
        t.add_column(col, justify="left" if col == "segment" else "right")
    for r in result.summary:
        t.add_row(str(r["days_before"]), r["segment"], f"{r['decisions']:,}",
                  f"{r['churned']:,}", _num(r["auc"]), _pct(r["base_rate"]),
                  _pct(r["red_share"]), _pct(r["red_precision"]), _num(r["lift"], 2),
                  _pct(r["churned_arr_recall"]))
    console.print(t)
    c = Table(title="Calibration: churn rate by band")
    for col in ("days before", "band", "decisions", "churned", "churn rate", "ARR churn rate"):
        c.add_column(col, justify="left" if col == "band" else "right")
    for r in result.calibration:
        c.add_row(str(r["days_before"]), f"[{COLOURS[r['band']]}]{r['band']}[/]",
                  f"{r['decisions']:,}", f"{r['churned']:,}", _pct(r["churn_rate"]),
                  _pct(r["arr_churn_rate"]))
    console.print(c)
    f = Table(title=f"Candidate features alone, {result.days_before[0]} days before")
    for col in ("feature", "AUC", "direction", "coverage", "keep"):
        f.add_column(col, justify="right" if col in ("AUC", "coverage") else "left")
    for r in result.feature_ranking:
        f.add_row(r["feature"], _num(r["auc"]), r["direction"] or "–", _pct(r["coverage"]),
                  "✔" if r["feature"] in result.recommended else "")
    console.print(f)


def _roc_svg(result: ValidationResult, size: int = 260) -> str:
    pad = 30
    s = size - 2 * pad
    parts = [f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
             f'aria-label="ROC curve">',
             f'<rect x="{pad}" y="{pad}" width="{s}" height="{s}" fill="none" stroke="#999"/>',
             f'<line x1="{pad}" y1="{pad + s}" x2="{pad + s}" y2="{pad}" stroke="#bbb" '
             f'stroke-dasharray="4"/>']
    for i, (n, points) in enumerate(result.roc.items()):
        if not points:
            continue
        path = " ".join(f"{pad + x * s:.1f},{pad + s - y * s:.1f}" for x, y in points)
        colour = LINES[i % len(LINES)]
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"/>')
        parts.append(f'<text x="{pad + s - 70}" y="{pad + s - 10 - 14 * i}" font-size="11" '
                     f'fill="{colour}">{n} days</text>')
    parts.append(f'<text x="{pad}" y="{size - 8}" font-size="11">false positive rate</text>')
    parts.append(f'<text x="4" y="{pad - 10}" font-size="11">true positive rate</text>')
    return "".join(parts) + "</svg>"


def _bars_svg(rows: list[dict[str, Any]], label: str, value: str, colour_of: Any,
              width: int = 420, bar: int = 18) -> str:
    top = max((r[value] or 0) for r in rows) or 1
    h = bar * len(rows) + 10
    out = [f'<svg width="{width}" height="{h}" role="img">']
    for i, r in enumerate(rows):
        v = r[value] or 0
        w = (width - 200) * v / top
        y = 5 + i * bar
        out.append(f'<text x="0" y="{y + 13}" font-size="11">{escape(str(r[label]))}</text>')
        out.append(f'<rect x="150" y="{y + 2}" width="{w:.1f}" height="{bar - 4}" '
                   f'fill="{colour_of(r)}"/>')
        out.append(f'<text x="{155 + w:.1f}" y="{y + 13}" font-size="11">{v:.3f}</text>')
    return "".join(out) + "</svg>"


def _html_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, Any]]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title, _, _ in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(fmt(r[key]))}</td>" for _, key, fmt in columns)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _gaps_html(result: ValidationResult) -> str:
    """The components without data and the decisions no component could score, in words."""
    lines = [f"No data for component {r['feature']} of {r['model']}: {r['reason']}."
             for r in result.components_without_data]
    if result.unscored:
        lines.append(f"{result.unscored:,} decisions could not be scored "
                     f"{result.days_before[0]} days before: no component of their health "
                     "model had a value (their AUC shows as –).")
    return "".join(f"<p><strong>{escape(line)}</strong></p>" for line in lines)


def render_validation_html(result: ValidationResult) -> str:
    """A self-contained HTML page: summary, ROC curves, calibration bars, feature ranking."""
    summary = _html_table(result.summary, [
        ("days before", "days_before", str), ("segment", "segment", str),
        ("decisions", "decisions", str), ("churned", "churned", str), ("AUC", "auc", _num),
        ("base rate", "base_rate", _pct), ("red share", "red_share", _pct),
        ("red precision", "red_precision", _pct), ("lift", "lift", lambda v: _num(v, 2)),
        ("churned ARR in red", "churned_arr_recall", _pct)])
    calibration = "".join(
        f"<div><h3>{n} days before</h3>" + _bars_svg(
            [{**r, "label": r["band"]} for r in result.calibration if r["days_before"] == n],
            "label", "churn_rate", lambda r: COLOURS[r["band"]]) + "</div>"
        for n in result.days_before)
    ranking = _bars_svg(result.feature_ranking, "feature", "auc",
                        lambda r: "#1f5fa8" if r["feature"] in result.recommended else "#9bb")
    table = _html_table(result.feature_ranking, [
        ("feature", "feature", str), ("AUC", "auc", _num),
        ("direction", "direction", lambda v: v or "–"), ("coverage", "coverage", _pct),
        ("definition", "description", str)])
    keep = ", ".join(result.recommended) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Health model validation: {escape(result.model)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ddd;padding:4px 8px;
text-align:right}}td:first-child,th:first-child{{text-align:left}}.row{{display:flex;gap:2em;
flex-wrap:wrap}}</style></head><body>
<h1>Health model validation: {escape(result.model)}</h1>
<p>Renewal decisions dated {result.start} to {result.end}, each account scored as it stood
{", ".join(str(n) for n in result.days_before)} days before, with only the data known then.
{result.excluded_notified} decision(s) already notified at scoring time are left out.</p>
{_gaps_html(result)}<h2>Does the score predict churn?</h2>{summary}
<div class="row"><div><h2>ROC curve</h2>{_roc_svg(result)}</div>
<div><h2>Churn rate by band</h2>{calibration}</div></div>
<h2>Candidate features, each alone ({result.days_before[0]} days before)</h2>
<p>Recommended to keep: <strong>{escape(keep)}</strong></p>{ranking}{table}
</body></html>
"""
