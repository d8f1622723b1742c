"""Freshness: is each source still delivering?

For every entity listed in `freshness.entities` of `definitions/quality.yml` and every source
with rows of it, the newest row (by the entity's point-in-time column, e.g. a ticket's
created_at) is compared with the source's `expected_every` (`definitions/sources.yml`; the
`files` section for files and the tracking API). Age is measured from the start of the as-of
day (00:00 UTC), so with a daily cadence yesterday's rows are fresh and a feed that missed a
day is stale. Only rows known as of the day count, so re-running a past day gives the same
answer.

Example: as of 2026-09-30 the newest ticket from files was created 2026-09-08 18:50, 21 days
and 5 hours earlier: stale against `expected_every: 1d`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.quality.attribution import FILES_SOURCE, known_rows, row_source
from quarterdeck.sources.config import SourcesConfig


@dataclass(frozen=True)
class Freshness:
    """How old one source's newest row of one entity is, against what is expected."""

    source: str
    entity: str
    column: str
    rows: int
    newest: datetime
    age: timedelta
    expected: timedelta

    @property
    def stale(self) -> bool:
        return self.age > self.expected

    @property
    def sentence(self) -> str:
        """"tickets from files are 21 days old (expected every 1d)"."""
        return (f"{self.entity} from {self.source} are {age_text(self.age)} old "
                f"(expected every {duration_text(self.expected)})")


def newest_rows(tables: Mapping[str, ir.Table], entities: Collection[str], *, as_of: date,
                sources: Collection[str]) -> ir.Table:
    """Per entity of `entities` and source with rows known as of `as_of`: entity, source,
    rows, newest (the latest point-in-time value, as a timestamp)."""
    parts = []
    for name in entities:
        column = ENTITIES[name].point_in_time
        t = known_rows(tables[name], name, as_of)
        t = t.filter(t[column].notnull())
        parts.append(t.group_by(source=row_source(t, name, sources)).agg(
            rows=t.count(), newest=t[column].cast(dt.timestamp).max(),
        ).mutate(entity=ibis.literal(name)))
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def expected_every(sources: SourcesConfig, source: str, entity: str) -> timedelta:
    """The cadence expected of `entity` rows from `source` (files: the `files` section)."""
    if source == FILES_SOURCE or source not in sources.sources:
        return sources.files.expected_for(entity)
    return sources.sources[source].expected_for(entity)


def judge_freshness(newest: list[dict], *, as_of: date,
                    sources: SourcesConfig) -> list[Freshness]:
    """The freshness of each row of `newest_rows` (executed), in entity and source order."""
    start = datetime.combine(as_of, time())
    out = []
    for row in sorted(newest, key=lambda r: (r["entity"], r["source"])):
        if row["newest"] is None or not row["rows"]:
            continue
        newest = row["newest"].replace(tzinfo=None)
        out.append(Freshness(row["source"], row["entity"], ENTITIES[row["entity"]].point_in_time
                             or "", int(row["rows"]), newest,
                             max(start - newest, timedelta(0)),
                             expected_every(sources, row["source"], row["entity"])))
    return out


def age_text(age: timedelta) -> str:
    """An age in words: "21 days", "1 day", "5 h", "40 min"."""
    if age >= timedelta(days=1):
        return f"{age.days} day{'s' if age.days != 1 else ''}"
    if age >= timedelta(hours=1):
        return f"{age.seconds // 3600} h"
    return f"{age.seconds // 60} min"


def duration_text(duration: timedelta) -> str:
    """A cadence as sources.yml spells it: 1d, 6h, 30m (weeks as days: 14d)."""
    seconds = int(duration.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"
