"""The load manifest: one row per committed load, kept in the warehouse itself.

Keeping it in the warehouse makes "the rows are in the canonical table" and "the load is
recorded" one transaction: either both happened or neither did.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

TABLE = "_quarterdeck_loads"


class Manifest:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def ensure(self) -> None:
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (load_id BIGINT, entity VARCHAR, "
            "source VARCHAR, sha256 VARCHAR, version VARCHAR, rows_read BIGINT, "
            "rows_loaded BIGINT, rows_rejected BIGINT, loaded_at TIMESTAMP)")

    def has(self, entity: str, digest: str) -> bool:
        return bool(self.con.execute(
            f"SELECT count(*) FROM {TABLE} WHERE entity = ? AND sha256 = ?",
            [entity, digest]).fetchall()[0][0])

    def versions(self, entity: str) -> list[str]:
        """The entity's committed versions (relative to the landing folder), oldest first."""
        return [r[0] for r in self.con.execute(
            f"SELECT version FROM {TABLE} WHERE entity = ? ORDER BY load_id", [entity]).fetchall()]

    def committed_versions(self) -> set[str]:
        return {r[0] for r in self.con.execute(f"SELECT version FROM {TABLE}").fetchall()}

    def record(self, *, entity: str, source: str, digest: str, version: str, rows_read: int,
               rows_loaded: int, rows_rejected: int) -> None:
        self.con.execute(
            f"INSERT INTO {TABLE} SELECT coalesce(max(load_id), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? "
            f"FROM {TABLE}",
            [entity, source, digest, version, rows_read, rows_loaded, rows_rejected,
             datetime.now(UTC).replace(tzinfo=None)])

    def loads(self) -> list[dict]:
        cur = self.con.execute(f"SELECT * FROM {TABLE} ORDER BY load_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
