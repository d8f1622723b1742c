"""The server-side ARR chart and the number formats on the pages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from quarterdeck.app.charts import arr_line_chart, nice_step
from quarterdeck.app.formatting import compact_money, money


def test_nice_step_is_round() -> None:
    assert nice_step(100_000) == 25_000
    assert nice_step(120_000) == 50_000
    assert nice_step(7) == 2


def test_chart_has_one_point_per_month_with_a_tooltip() -> None:
    points = [(date(2024, m, 1), Decimal(1000 * m)) for m in range(1, 7)]
    svg = arr_line_chart(points, "EUR")
    assert svg.count("<circle") == 6
    assert "<title>June 2024: €6,000 ARR</title>" in svg
    assert "€0" in svg  # the axis starts at zero


def test_chart_of_a_single_month_or_all_zeros_still_draws() -> None:
    assert "<circle" in arr_line_chart([(date(2024, 1, 1), Decimal(0))], "USD")
    assert arr_line_chart([], "USD") == ""


def test_names_in_tooltips_are_escaped() -> None:
    assert "<script>" not in arr_line_chart([(date(2024, 1, 1), Decimal(5))], "<script>")


def test_money_shows_the_currency() -> None:
    assert money(Decimal("1234567.5"), "USD") == "$1,234,568"
    assert money(Decimal("-12.345"), "EUR", cents=True) == "-€12.35"
    assert money(5, "SEK") == "5 SEK"
    assert compact_money(1_250_000, "USD") == "$1.25M"
    assert compact_money(950, "GBP") == "£950"


def ticks(svg: str) -> list[float]:
    """The values of a chart's gridline labels, bottom up."""
    return [float(v) for v in re.findall(r'text-anchor="end">(-?[\d.]+)</text>', svg)]


def bar(svg: str, kind: str) -> tuple[float, float]:
    """(y, height) of the first bar of a kind."""
    m = re.search(rf'class="bar {kind}" x="[\d.]+" y="([\d.]+)" width="[\d.]+" '
                  rf'height="([\d.]+)"', svg)
    return float(m.group(1)), float(m.group(2))


def test_a_waterfall_floats_each_movement_from_the_running_total() -> None:
    from quarterdeck.app.charts import Step, waterfall_chart

    svg = waterfall_chart(
        [Step("Start", 20.0, "total", "start", total=True),
         Step("New", 20.0, "up", "new <b>", "#def-new"),
         Step("Churn", -10.0, "down", "churn"),
         Step("End", 30.0, "total end", "end", total=True)],
        label="bridge", axis_text=lambda v: f"{v:.0f}", value_text=lambda s: f"{s.value:+.0f}")
    assert svg.count("<rect") == 4 and svg.count('class="connector"') == 3
    assert '<a href="#def-new">' in svg and "new &lt;b&gt;" in svg
    assert ticks(svg) == [0, 10, 20, 30, 40]  # movements as large as the totals: from zero
    (start_y, start_h), (new_y, new_h), (churn_y, churn_h) = (
        bar(svg, "total"), bar(svg, "up"), bar(svg, "down"))
    assert new_y + new_h == pytest.approx(start_y, abs=0.2)  # new starts where start ends
    assert new_h == pytest.approx(start_h, abs=0.2)  # 20 beside 20
    assert churn_y == pytest.approx(new_y, abs=0.2)  # churn hangs from the new total
    assert churn_h == pytest.approx(new_h / 2, abs=0.2)


def test_a_waterfall_of_small_movements_starts_its_axis_below_the_lowest_level() -> None:
    from quarterdeck.app.charts import Step, waterfall_chart

    svg = waterfall_chart(
        [Step("Start", 59_680_000.0, "total", "", total=True),
         Step("New", 937_000.0, "up", ""), Step("End", 60_617_000.0, "total", "", total=True)],
        label="bridge", axis_text=lambda v: f"{v:.0f}", value_text=lambda s: "")
    # Gridlines every 250,000, from one below the round value under the start.
    assert ticks(svg) == [59_250_000 + 250_000 * i for i in range(7)]


def test_a_trend_breaks_its_line_where_a_value_is_missing() -> None:
    from quarterdeck.app.charts import Series, trend_chart

    days = [date(2024, m, 28) for m in range(1, 6)]
    svg = trend_chart([Series("NRR", "nrr", list(zip(days, [1.0, 1.1, None, 0.9, 0.95],
                                                         strict=True)))],
                      label="NRR", axis_text=lambda v: f"{v * 100:.0f}",
                      point_text=lambda name, d, v: f"{name} {d}: {v:.0%}")
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert "<title>NRR 2024-04-28: 90%</title>" in svg
    assert ticks(svg) == [90, 100, 110]  # the axis spans the values, not from zero


def test_stacked_counts_have_whole_gridlines() -> None:
    from quarterdeck.app.charts import stacked_bar_chart

    svg = stacked_bar_chart([(date(2024, 1, 31), [("seg-0", 1.0, "a"), ("seg-1", 2.0, "b")]),
                             (date(2024, 2, 29), [("seg-0", 0.0, "c")])],
                            label="logos", axis_text=lambda v: f"{v:g}")
    assert svg.count("<rect") == 2  # nothing drawn for a zero
    assert ticks(svg) == [0, 1, 2, 3]
