"""Nothing in the demo is dated after its `today`, except contract terms and plans."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from quarterdeck.contract import ENTITIES

# Dates that are plans, not facts: a contract's end, an invoice's due date, an open deal's
# expected close.
FUTURE_ALLOWED = {("subscriptions", "end_date"), ("invoices", "due_at"),
                  ("opportunities", "close_date")}


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_no_fact_is_dated_after_today(tables, demo, name):
    start_of_today = datetime.combine(demo.today, time(), tzinfo=UTC)
    table = tables[name]
    for column in ENTITIES[name].columns:
        if (name, column.name) in FUTURE_ALLOWED or column.type not in ("date", "timestamp"):
            continue
        values = table[column.name].drop_null()
        if not len(values):
            continue
        latest = pc.max(values).as_py()
        if column.type == "date":
            assert latest <= demo.today, f"{name}.{column.name}"
        else:
            assert latest < start_of_today, f"{name}.{column.name}"


def test_only_open_opportunities_close_after_today(tables, demo):
    opps = tables["opportunities"]
    later = opps.filter(pc.greater(opps["close_date"], pa.scalar(demo.today)))
    assert set(later["outcome"].to_pylist()) <= {"open"}
