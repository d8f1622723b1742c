"""The server-side ARR chart and the number formats on the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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
