"""Probabilities as every page, report and deck shows them: never certain unless they are."""

from __future__ import annotations

import pytest

from quarterdeck.app.pages.accounts import probability
from quarterdeck.reports.formatting import chance


@pytest.mark.parametrize(("value", "shown"), [
    (0.62, "62%"), (0.004, "<1%"), (0.001, "<1%"), (0.999, ">99%"), (0.995, ">99%"),
    (0.994, "99%"), (0.005, "<1%"), (0.006, "1%"), (0.0, "0%"), (1.0, "100%"), (None, "–"),
])
def test_a_probability_short_of_certain_never_reads_0_or_100_percent(value, shown):
    assert chance(value) == shown


def test_the_web_app_shows_probabilities_the_same_way():
    assert [probability(v) for v in (0.999, 0.001, 0.5, None)] == [">99%", "<1%", "50%", "—"]
