"""The landing area: every accepted file, kept append-only as a validated Parquet version.

A version is written atomically (temporary name, fsync, rename, fsync of the folder), so a
crash leaves either the whole file or none of it. A version becomes part of the data only
when the load that wrote it commits its manifest row in the warehouse; a version left
behind by a crashed load is an orphan and is removed by the next load.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

TMP_PREFIX = ".tmp-"


def version_path(landing_dir: Path, entity: str, digest: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return landing_dir / entity / f"{stamp}-{digest[:16]}.parquet"


def temp_path(final: Path) -> Path:
    return final.with_name(TMP_PREFIX + final.name)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_version(tmp: Path, final: Path) -> None:
    """Make a fully written temporary file durable under its final name."""
    fsync_path(tmp)
    os.replace(tmp, final)
    fsync_path(final.parent)


def remove_orphans(landing_dir: Path, committed: set[str]) -> list[Path]:
    """Delete versions and temporary files no committed load refers to."""
    removed = []
    if not landing_dir.exists():
        return removed
    for path in landing_dir.glob("*/*"):
        rel = str(path.relative_to(landing_dir))
        if path.name.startswith(TMP_PREFIX) or (path.suffix == ".parquet" and rel not in committed):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
