"""Charts drawn on the server as inline SVG: no JavaScript, readable in any browser and PDF."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from quarterdeck.app.formatting import compact_money, money

# Drawn at about the width it is shown at, so 12-unit text reads as 12 px.
WIDTH, HEIGHT = 1000, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 34
MAX_X_LABELS = 7


def nice_step(span: float, intervals: int = 4) -> float:
    """A round gridline step (1, 2, 2.5 or 5 × 10ⁿ) that splits `span` into about `intervals`.

    >>> nice_step(100_000)
    25000.0
    """
    raw = span / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def arr_line_chart(points: Sequence[tuple[date, Decimal]], currency: str) -> Markup:
    """An SVG line chart of monthly ARR; each point has a tooltip with the month and amount."""
    return line_chart(
        points, label="ARR by month",
        axis_text=lambda v: compact_money(v, currency),
        point_text=lambda d, v: f"{d.strftime('%B %Y')}: {money(v, currency)} ARR",
        date_format="%b %Y")


def line_chart(points: Sequence[tuple[date, Decimal | float | int]], *, label: str,
               axis_text: Callable[[float], str],
               point_text: Callable[[date, Decimal | float | int], str],
               date_format: str = "%b %Y") -> Markup:
    """An SVG line chart over dates from zero up; each point has a tooltip (`point_text`)."""
    if not points:
        return Markup("")
    values = [float(v) for _, v in points]
    step = nice_step(max(max(values), 1.0))
    top_value = step * max(1, math.ceil(max(values) / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top_value)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    tick = 0.0
    while tick <= top_value + step / 2:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="axis" x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape(axis_text(tick))}</text>"
        )
        tick += step
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    for i, (day, _) in enumerate(points):
        if (len(points) - 1 - i) % every == 0:
            # The newest point is always labelled, flush with the right edge.
            anchor = "end" if i == len(points) - 1 and len(points) > 1 else "middle"
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}">'
                f"{day.strftime(date_format)}</text>"
            )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    baseline = y(0)
    parts.append(
        f'<polygon class="area" points="{x(0):.1f},{baseline:.1f} {line} '
        f'{x(len(values) - 1):.1f},{baseline:.1f}"/>'
        f'<polyline class="line" points="{line}"/>'
    )
    for i, (day, value) in enumerate(points):
        last = " last" if i == len(points) - 1 else ""
        parts.append(
            f'<circle class="point{last}" cx="{x(i):.1f}" cy="{y(float(value)):.1f}" r="4">'
            f"<title>{escape(point_text(day, value))}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
