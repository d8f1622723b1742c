"""Contract rows as NDJSON files, written durably: temp file, fsync, rename."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from quarterdeck.landing.landing_area import publish_version, temp_path


def json_default(value: object) -> object:
    """Money stays exact: a Decimal is written as its string."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to a contract file")


def write_rows(final: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write `rows` to `final`, one JSON object a line; readers never see half a file."""
    tmp = temp_path(final)
    with tmp.open("wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row, default=json_default, option=orjson.OPT_APPEND_NEWLINE))
    publish_version(tmp, final)
    return final
