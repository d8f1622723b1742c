"""Charts as images (matplotlib, no display): the ARR waterfall of a bridge period and simple
trend lines, as inline SVG for HTML and PDF or as PNG for decks."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from quarterdeck.reports.weekly_report import BridgePeriod  # noqa: E402

UP, DOWN, TOTAL = "#2e7d32", "#c62828", "#455a64"
STEPS = ("new", "expansion", "reactivation", "contraction", "churn", "fx_adjustment")


def waterfall(period: BridgePeriod, currency: str) -> Figure:
    """Starting ARR, each movement as a floating bar, ending ARR."""
    labels = ["start", *(s.replace("_", " ") for s in STEPS), "end"]
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    level = float(period.starting_arr)
    ax.bar(0, level, color=TOTAL)
    for i, step in enumerate(STEPS, start=1):
        move = float(getattr(period, step))
        ax.bar(i, move, bottom=level, color=UP if move >= 0 else DOWN)
        level += move
    ax.bar(len(labels) - 1, float(period.ending_arr), color=TOTAL)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_title(f"ARR bridge {period.period} ({currency})", fontsize=10)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    low = min(float(period.starting_arr), float(period.ending_arr))
    ax.set_ylim(bottom=max(0.0, low * 0.9))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def trend(points: Sequence[tuple[date, float | Decimal]], title: str) -> Figure:
    """A line of values by date (ARR by month, usage by week …)."""
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    if points:
        ax.plot([p[0] for p in points], [float(p[1]) for p in points], color=TOTAL, marker="o",
                markersize=3)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title, fontsize=10)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def svg(fig: Figure) -> str:
    """The figure as an inline <svg> element (no XML prolog), then closed."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def png(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes, then closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()
