"""As of T, today's data and the data as it stood at T give the same account_daily."""

from __future__ import annotations

from datetime import date

import pytest

from quarterdeck.testing import worlds
from quarterdeck.testing.point_in_time import as_it_stood


@pytest.mark.parametrize("as_of", [date(2024, 1, 14), date(2024, 2, 29), date(2024, 4, 30),
                                   date(2024, 6, 11), date(2024, 7, 10)])
def test_today_data_as_of_t_equals_data_as_it_stood_at_t(duckdb_backend, as_of):
    today = worlds.reference_world()
    then = {name: as_it_stood(name, table, as_of) for name, table in today.items()}
    assert duckdb_backend.daily(today, as_of) == duckdb_backend.daily(then, as_of)


def test_truncation_really_removes_later_facts():
    then = as_it_stood("tickets", worlds.open_tickets()["tickets"], date(2024, 6, 30))
    assert then["solved_at"].null_count == 2  # t1 solved later, t3 never
