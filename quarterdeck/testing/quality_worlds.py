"""Tiny worlds for the data-quality checks, and a one-call way to check one.

Each world's docstring gives the findings to expect as of `AS_OF` (2024-06-30), so a test or
a doc example can be checked by hand. Worlds are written straight into an in-memory DuckDB
(no loader), so they can hold what the loader would refuse: an empty required field, an
unknown account.

Example: check_world(stale_help_desk()).stale[0].detail → "tickets from files are 9 days old
(expected every 1d)".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import ibis
import pyarrow as pa

from quarterdeck.quality.data_quality import data_quality, warehouse_tables
from quarterdeck.quality.definitions import QualityDefinitions
from quarterdeck.quality.report import CheckResult, QualityReport
from quarterdeck.sources.config import SourcesConfig
from quarterdeck.testing.worlds import World, load_world, world

AS_OF = date(2024, 6, 30)


def check_world(data: World, *, as_of: date = AS_OF,
                definitions: QualityDefinitions | Mapping[str, Any] | None = None,
                sources: SourcesConfig | Mapping[str, Any] | None = None,
                resolution: pa.Table | None = None,
                rejects: pa.Table | None = None) -> QualityReport:
    """The data-quality report of `data` (loaded as is into a fresh in-memory DuckDB).

    `definitions` and `sources` may be given as the YAML would (dicts); the default
    definitions check completeness, orphans and freshness of the shipped defaults, with no
    accuracy rules. `resolution` becomes the `account_resolution` table.
    """
    con = ibis.duckdb.connect()
    try:
        load_world(con, data)
        if resolution is not None:
            con.create_table("account_resolution", resolution)
        if not isinstance(definitions, QualityDefinitions):
            definitions = QualityDefinitions.model_validate(definitions or {})
        if not isinstance(sources, SourcesConfig):
            sources = SourcesConfig.model_validate(sources or {})
        return data_quality(con, warehouse_tables(con), as_of=as_of, definitions=definitions,
                            sources=sources, rejects=rejects)
    finally:
        con.disconnect()


def finding(report: QualityReport, **match: Any) -> CheckResult:
    """The one row of `report` whose attributes equal `match` (AssertionError otherwise).

    Example: finding(report, entity="tickets", check="freshness").status → "error".
    """
    rows = [r for r in report.rows if all(getattr(r, k) == v for k, v in match.items())]
    assert len(rows) == 1, f"{len(rows)} rows match {match}: {[r.detail for r in rows]}"
    return rows[0]


def team() -> list[dict[str, Any]]:
    return [{"email": "ana@example.com", "name": "Ana Ruiz", "role": "csm"},
            {"email": "ben@example.com", "name": "Ben Okafor", "role": "csm"}]


def stale_help_desk() -> World:
    """Two accounts (`acme`, `globex`). The help-desk export stopped: the newest ticket was
    created 2024-06-20 14:00, so at the start of 2024-06-30 tickets from files are 9 days (and
    10 hours) old, stale against the default `expected_every: 1d`. A ticket created
    2024-07-02 is not known yet. Meetings run until 2024-06-29 18:00: 6 hours old, fresh."""
    return world(
        team=team(),
        accounts=[
            {"account_id": "acme", "name": "Acme", "owner_email": "ana@example.com",
             "created_at": "2024-01-01"},
            {"account_id": "globex", "name": "Globex", "owner_email": "ben@example.com",
             "created_at": "2024-01-01"},
        ],
        tickets=[
            {"ticket_id": "t1", "account_id": "acme", "created_at": "2024-06-01T09:00:00"},
            {"ticket_id": "t2", "account_id": "globex", "created_at": "2024-06-20T14:00:00"},
            {"ticket_id": "t3", "account_id": "acme", "created_at": "2024-07-02T09:00:00"},
        ],
        activities=[
            {"activity_id": "m1", "account_id": "acme", "kind": "meeting",
             "occurred_at": "2024-06-29T18:00:00", "owner_email": "ana@example.com"},
        ],
    )
