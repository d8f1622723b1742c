"""Charts drawn on the server as inline SVG: no JavaScript, readable in any browser and PDF."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


def _gridlines(floor: float, top: float, step: float, y: Callable[[float], float],
               axis_text: Callable[[float], str], width: int = WIDTH) -> list[str]:
    """A horizontal gridline with its label at every `step` from `floor` up to `top`."""
    parts = []
    tick = floor
    while tick <= top + step / 2:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{width - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="axis" x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape(axis_text(tick))}</text>"
        )
        tick += step
    return parts


def _date_labels(days: Sequence[date], x: Callable[[int], float], date_format: str,
                 height: int = HEIGHT) -> list[str]:
    """At most `MAX_X_LABELS` dates under the plot, counted back from the newest."""
    parts = []
    every = max(1, math.ceil(len(days) / MAX_X_LABELS))
    for i, day in enumerate(days):
        if (len(days) - 1 - i) % every == 0:
            # The newest point is always labelled, flush with the right edge.
            anchor = "end" if i == len(days) - 1 and len(days) > 1 else "middle"
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - 10}" text-anchor="{anchor}">'
                f"{day.strftime(date_format)}</text>"
            )
    return parts


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
    parts += _gridlines(0.0, top_value, step, y, axis_text)
    parts += _date_labels([day for day, _ in points], x, date_format)
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


def _range(low: float, high: float, *, from_zero: bool,
           integer: bool = False) -> tuple[float, float, float]:
    """(floor, top, step) of a value axis showing [low, high] with round gridlines; from zero
    up when `from_zero` (or when zero is close anyway), else from a round value below `low`."""
    low, high = min(low, high), max(low, high)
    if from_zero or low <= 0 or high - low >= high / 2:
        low = min(low, 0.0)
    span = high - low
    step = nice_step(span if span > 0 else abs(high) or 1.0)
    if integer:
        step = max(1.0, math.ceil(step))
    # A hair of tolerance: 0.9 / 0.05 is 17.999… in floating point, not 18.
    floor = step * math.floor(low / step + 1e-9)
    top = step * max(math.ceil(high / step - 1e-9), round(floor / step) + 1)
    return floor, top, step


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: a total from the axis (start, end), or a movement from where
    the previous bar ended; `kind` is its style and `href` where clicking it leads."""

    label: str
    value: float
    kind: str
    title: str
    href: str | None = None
    total: bool = False


def waterfall_chart(steps: Sequence[Step], *, label: str,
                    axis_text: Callable[[float], str],
                    value_text: Callable[[Step], str]) -> Markup:
    """An SVG waterfall: totals stand on the axis, each movement floats from the running
    total, joined by connectors; each bar has its value above it, a tooltip and a link.

    The axis starts at a round value below the lowest level when the movements are small
    beside the totals (its labels say where), so that the movements can be seen."""
    if not steps:
        return Markup("")
    levels, running = [], 0.0
    for s in steps:
        before = s.value if s.total else running
        running = s.value if s.total else running + s.value
        levels.append((before, running))
    floor, top, step = _range(min(min(a, b) for a, b in levels),
                              max(max(a, b) for a, b in levels), from_zero=False)
    if floor > 0:  # totals stand at least a gridline tall
        floor = max(0.0, floor - step)
    levels = [(0.0, b) if s.total else (a, b) for s, (a, b) in zip(steps, levels, strict=True)]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - 14
    slot = plot_w / len(steps)

    def y(v: float) -> float:
        return TOP + 14 + plot_h * (1 - (v - floor) / (top - floor))

    parts = [f'<svg class="chart waterfall" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             *_gridlines(floor, top, step, y, axis_text)]
    for i, (s, (before, after)) in enumerate(zip(steps, levels, strict=True)):
        x0 = LEFT + slot * i + slot * 0.18
        width = slot * 0.64
        low, high = (max(floor, 0.0), after) if s.total else sorted((before, after))
        y_top, y_bottom = y(max(low, high)), y(max(floor, min(low, high)))
        bar = (f'<rect class="bar {escape(s.kind)}" x="{x0:.1f}" y="{y_top:.1f}" '
               f'width="{width:.1f}" height="{max(y_bottom - y_top, 1.0):.1f}">'
               f"<title>{escape(s.title)}</title></rect>")
        if s.href:
            bar = f'<a href="{escape(s.href)}">{bar}</a>'
        parts.append(bar)
        parts.append(f'<text class="value" x="{x0 + width / 2:.1f}" y="{y_top - 5:.1f}" '
                     f'text-anchor="middle">{escape(value_text(s))}</text>'
                     f'<text class="axis" x="{x0 + width / 2:.1f}" y="{HEIGHT - 10}" '
                     f'text-anchor="middle">{escape(s.label)}</text>')
        if i + 1 < len(steps):  # the connector to the next bar, at this bar's end
            parts.append(f'<line class="connector" x1="{x0 + width:.1f}" '
                         f'x2="{x0 + slot:.1f}" y1="{y(after):.1f}" y2="{y(after):.1f}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: its name, style and a value per date (None: no value)."""

    name: str
    kind: str
    points: Sequence[tuple[date, float | None]]


def trend_chart(series: Sequence[Series], *, label: str, axis_text: Callable[[float], str],
                point_text: Callable[[str, date, float], str], date_format: str = "%b %Y",
                from_zero: bool = False, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """An SVG chart of several lines over the same dates, each point with a tooltip; the
    axis spans the values (from zero only when asked), a missing value breaks its line.
    A chart shown at half the page's width is drawn `width` 560 or so, so its text reads
    at the size of the others'."""
    days = sorted({d for s in series for d, _ in s.points})
    values = [float(v) for s in series for _, v in s.points if v is not None]
    if not values:
        return Markup("")
    floor, top, step = _range(min(values), max(values), from_zero=from_zero)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    index = {d: i for i, d in enumerate(days)}

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - floor) / (top - floor))

    parts = [f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             *_gridlines(floor, top, step, y, axis_text, width),
             *_date_labels(days, x, date_format, height)]
    for s in series:
        runs: list[list[str]] = [[]]
        for day, value in sorted(s.points):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(index[day]):.1f},{y(float(value)):.1f}")
        parts += [f'<polyline class="line {escape(s.kind)}" points="{" ".join(r)}"/>'
                  for r in runs if len(r) > 1]
        parts += [f'<circle class="point {escape(s.kind)}" cx="{x(index[day]):.1f}" '
                  f'cy="{y(float(value)):.1f}" r="4">'
                  f"<title>{escape(point_text(s.name, day, float(value)))}</title></circle>"
                  for day, value in s.points if value is not None]
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(columns: Sequence[tuple[date, Sequence[tuple[str, float, str]]]], *,
                      label: str, axis_text: Callable[[float], str],
                      date_format: str = "%b %Y", height: int = HEIGHT) -> Markup:
    """An SVG column per date, stacked from zero by its parts (style, value, tooltip), for
    counts: gridlines at whole numbers."""
    if not columns:
        return Markup("")
    totals = [sum(v for _, v, _ in parts) for _, parts in columns]
    floor, top, step = _range(0.0, max(max(totals), 1.0), from_zero=True, integer=True)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / len(columns)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    parts = [f'<svg class="chart stacked" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             *_gridlines(floor, top, step, y, axis_text),
             *_date_labels([d for d, _ in columns], x, date_format, height)]
    for i, (_, stack) in enumerate(columns):
        base = 0.0
        for kind, value, title in stack:
            if value <= 0:
                continue
            parts.append(f'<rect class="bar {escape(kind)}" x="{x(i) - slot * 0.3:.1f}" '
                         f'y="{y(base + value):.1f}" width="{slot * 0.6:.1f}" '
                         f'height="{y(base) - y(base + value):.1f}">'
                         f"<title>{escape(title)}</title></rect>")
            base += value
    parts.append("</svg>")
    return Markup("".join(parts))
