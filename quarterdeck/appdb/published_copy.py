"""The pipeline's own copy of what it last published to a table set of the app database.

A publish that knows exactly what the app database holds can write only the rows that changed
(`row_changes`). Reading that back from the app database would cost about as much as writing
it, so the publisher keeps a copy beside the workspace's data, as Parquet, under the token of
the publish it matches. The app database records the same token in the publish's own
transaction; the copy is written after that commits. A copy whose token differs from the app
database's (a crash between the two, another app database, a copy deleted) is not used, and
the next publish writes every row.

Example::

    copy = PublishedCopy(ws.data_dir / "published" / "account_detail")
    kept = copy.read(token, names=["timeline", "contacts"])   # None unless it matches
    copy.write({"timeline": rows, "contacts": rows}, token=new_token)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STATE = "state.json"


class PublishedCopy:
    """Parquet copies of published tables in `folder`, with the token they match."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def token(self) -> str | None:
        try:
            return json.loads((self.folder / STATE).read_text())["token"]
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def read(self, token: str | None, names: Collection[str]) -> dict[str, pa.Table] | None:
        """The copies of `names` if they were written under `token`, else None."""
        if token is None or self.token() != token:
            return None
        try:
            return {name: pq.read_table(self.folder / f"{name}.parquet") for name in names}
        except (FileNotFoundError, pa.ArrowInvalid):
            return None

    def forget(self) -> None:
        """Make the copy match no publish (best effort)."""
        try:
            (self.folder / STATE).unlink(missing_ok=True)
        except OSError:
            pass

    def write(self, tables: Mapping[str, pa.Table], *, token: str) -> None:
        """Keep `tables` as the copy of the publish `token` (each file replaced whole; the
        token last, so a copy cut short never matches)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / STATE).unlink(missing_ok=True)
        for name, table in tables.items():
            _replace(self.folder / f"{name}.parquet",
                     lambda tmp, t=table: pq.write_table(t, tmp, compression="zstd"))
        _replace(self.folder / STATE,
                 lambda tmp: tmp.write_text(json.dumps({"token": token})))


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
