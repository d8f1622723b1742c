"""Which of a feature's sources the company has at all, as of a date.

A source is *absent* as of T when its entity holds no row known by T: no product event, no
ticket, no survey answer, no meeting or QBR, no contact with the champion persona, no invoice.
Its features would only be stand-ins there (days since the last event equal to tenure, zero
tickets for everyone), so the churn model leaves them out and says so on its card, and
validation names the health components that had no data. Subscriptions are never absent: an
account without them is not a customer.

A feature is left out when every one of its sources other than subscriptions is absent
(`csat_90d` reads surveys and ticket ratings: either one is enough).

Example: absent_sources(tables, as_of=date(2026, 9, 30)) → {"tickets": "no tickets known by
2026-09-30", …}.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

import ibis.expr.types as ir

from quarterdeck.health.features import feature
from quarterdeck.warehouse.schema import empty_table

Known = Callable[[ir.Table, datetime], ir.BooleanValue]

#: Per source: the entity read, what its rows are called, and which rows count by T.
SOURCE_ROWS: dict[str, tuple[str, str, Known]] = {
    "usage": ("events", "product events", lambda t, end: t.timestamp < end),
    "tickets": ("tickets", "tickets", lambda t, end: t.created_at < end),
    "surveys": ("surveys", "survey answers", lambda t, end: t.responded_at < end),
    "activities": ("activities", "meetings or QBRs",
                   lambda t, end: (t.occurred_at < end) & t.kind.isin(("meeting", "qbr"))),
    "contacts": ("contacts", "contacts with the champion persona",
                 lambda t, end: t.persona == "champion"),
    "invoices": ("invoices", "invoices", lambda t, end: t.issued_at < end),
}


def absent_sources(tables: Mapping[str, ir.Table], *, as_of: date) -> dict[str, str]:
    """The sources with no row known by `as_of`, each with the reason in words."""
    end = datetime.combine(as_of + timedelta(days=1), time())
    out = {}
    for source, (entity, rows, known) in SOURCE_ROWS.items():
        t = tables[entity] if entity in tables else empty_table(entity)
        if not t.filter(known(t, end)).limit(1).count().to_pyarrow().as_py():
            out[source] = f"no {rows} known by {as_of}"
    return out


def left_out_features(names: Sequence[str], absent: Mapping[str, str]) -> list[dict[str, str]]:
    """The features of `names` whose every source but subscriptions is absent, with why."""
    out = []
    for name in names:
        sources = [s for s in feature(name).sources if s != "subscriptions"]
        if sources and all(s in absent for s in sources):
            out.append({"feature": name, "reason": "; ".join(absent[s] for s in sources)})
    return out
