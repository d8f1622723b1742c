"""Child accounts read before their parent: loaded at once without the link, linked at the end.

A sync loads its pages in batches, and a vendor lists records in the order they changed, so a
child account can come a batch before its parent. The loader refuses a `parent_account_id`
no account has, which would lose the child: its page's cursor is stored, so it would not be
read again until it changes. Instead, before each batch loads, a child whose parent is neither
in the batch nor in the warehouse is loaded without its parent link, and its full row is kept
in `data/sources/<name>/deferred-accounts.ndjson` (written durably before the batch loads).
When the sync has read everything, those rows load again with their links; a parent that
still does not exist then is a broken reference, refused with the file, row and field like
any other, and the child stays loaded without it.

A later batch holding the same account again (it changed during the sync) supersedes the kept
row. A sync that fails keeps the file, and the next sync links the rows when it finishes.

Example::

    deferred = DeferredParents.load(folder)
    deferred.hold_back(ws, pending)        # before each batch loads
    report = deferred.settle(ws)           # once everything is read
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.ingest import existing_values, load_into_workspace
from quarterdeck.landing.landing_area import fsync_path
from quarterdeck.landing.loader import LoadReport
from quarterdeck.sources.connector import Row
from quarterdeck.sources.ndjson import write_rows
from quarterdeck.workspace.workspace import Workspace

DEFERRED_FILE = "deferred-accounts.ndjson"
ENTITY, KEY, PARENT = "accounts", "account_id", "parent_account_id"


class DeferredParents:
    """Account rows held back from their parent link, by account id, kept in one file."""

    def __init__(self, folder: Path, rows: dict[str, Row]) -> None:
        self.path = folder / DEFERRED_FILE
        self.rows = rows

    @classmethod
    def load(cls, folder: Path) -> DeferredParents:
        path = folder / DEFERRED_FILE
        rows: dict[str, Row] = {}
        if path.exists():
            for line in path.read_bytes().splitlines():
                if line.strip():
                    row = orjson.loads(line)
                    rows[row[KEY]] = row
        return cls(folder, rows)

    def hold_back(self, ws: Workspace, pending: dict[str, list[list[Row] | pa.Table]]) -> None:
        """Unlink the batch's accounts whose parent is not known yet, keeping their rows."""
        parts = pending.get(ENTITY)
        if not parts:
            return
        in_batch: set[str] = set()
        for part in parts:
            in_batch.update(_column(part, KEY))
        superseded = in_batch & self.rows.keys()
        for account in superseded:  # a newer version of the account is in this batch
            del self.rows[account]
        wanted = {p for part in parts for p in _column(part, PARENT)} - in_batch
        known = existing_values(ws, ENTITY, KEY, wanted) if wanted else set()
        missing = wanted - known
        held: dict[str, Row] = {}
        if missing:
            pending[ENTITY] = [self._unlink(part, missing, held) for part in parts]
        self.rows.update(held)
        if held or superseded:
            self._save()

    def _unlink(self, part: list[Row] | pa.Table, missing: set[str], held: dict[str, Row]
                ) -> list[Row] | pa.Table:
        if isinstance(part, pa.Table):
            if PARENT not in part.column_names:
                return part
            parents = part.column(PARENT)
            orphaned = pc.fill_null(pc.is_in(parents, value_set=pa.array(sorted(missing),
                                                                         parents.type)), False)
            if not pc.any(orphaned).as_py():
                return part
            for row in part.filter(orphaned).to_pylist():
                held[str(row[KEY])] = row
            index = part.column_names.index(PARENT)
            unlinked = pc.if_else(orphaned, pa.scalar(None, parents.type), parents)
            return part.set_column(index, PARENT, unlinked)
        out = []
        for row in part:
            parent = row.get(PARENT)
            if parent is not None and parent in missing and parent != row.get(KEY):
                held[row[KEY]] = row
                row = {**row, PARENT: None}
            out.append(row)
        return out

    def _save(self) -> None:
        if not self.rows:
            self.path.unlink(missing_ok=True)
            fsync_path(self.path.parent)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_rows(self.path, self.rows.values())

    def settle(self, ws: Workspace) -> LoadReport | None:
        """Load the held rows with their parent links; a link still broken is refused."""
        if not self.rows:
            return None
        outbox = self.path.parent / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        final = write_rows(outbox / "accounts-parent-links.ndjson", self.rows.values())
        report = load_into_workspace(ws, [final], skip_invalid=True, resolve=False)
        final.unlink(missing_ok=True)
        self.rows = {}
        self._save()
        return report


def _column(part: list[Row] | pa.Table, name: str) -> set[str]:
    if isinstance(part, pa.Table):
        if name not in part.column_names:
            return set()
        return {str(v) for v in part.column(name).drop_null().to_pylist()}
    return {v for row in part if (v := row.get(name)) is not None}
