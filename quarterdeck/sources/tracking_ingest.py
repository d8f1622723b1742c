"""Tracked events into the warehouse: convert the spool, then load what is waiting.

`ingest_tracking(ws)` is what `quarterdeck source load` and `quarterdeck run` call. It
converts what the tracking API accepted since the last conversion into contract files in the
outbox (`data/tracking/outbox/`), then loads every file waiting there. A file leaves the
outbox once it is loaded (its rows then live in the landing area, and the spool keeps the
calls as received); a file the loader refused stays and is tried again on the next call, so
nothing converted is skipped, even when a load was interrupted or refused.

Example::

    ingested = ingest_tracking(ws)
    if ingested is not None and ingested.report is not None:
        print(ingested.report.ok)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quarterdeck.ingest import load_into_workspace
from quarterdeck.landing.landing_area import TMP_PREFIX, fsync_path
from quarterdeck.landing.loader import LoadReport, Progress
from quarterdeck.sources.tracking_conversion import Conversion, convert_spool
from quarterdeck.sources.tracking_spool import tracking_spool_dir
from quarterdeck.workspace.workspace import Workspace


def tracking_outbox_dir(data_dir: Path) -> Path:
    """Where converted tracking calls wait, as contract files, to be loaded."""
    return data_dir / "tracking" / "outbox"


@dataclass
class TrackingIngest:
    """What one ingestion did: the conversion, and the load of the outbox (None when nothing
    was waiting)."""

    conversion: Conversion
    report: LoadReport | None

    @property
    def events_loaded(self) -> int:
        if self.report is None:
            return 0
        return sum(f.rows_loaded for f in self.report.files if f.entity == "events")


def ingest_tracking(ws: Workspace, *, skip_invalid: bool = False,
                    progress: Progress | None = None) -> TrackingIngest | None:
    """Convert and load what the tracking API accepted; None when it never accepted anything.

    With `skip_invalid`, the valid rows of a file with invalid ones load and the rest are set
    aside in the rejects file, as `quarterdeck sync` does.
    """
    spool = tracking_spool_dir(ws.data_dir)
    if not spool.is_dir():
        return None
    outbox = tracking_outbox_dir(ws.data_dir)
    conversion = convert_spool(spool, outbox)
    waiting = sorted(p for p in outbox.glob("*.ndjson") if not p.name.startswith(TMP_PREFIX))
    if not waiting:
        return TrackingIngest(conversion, None)
    report = load_into_workspace(ws, waiting, skip_invalid=skip_invalid, progress=progress)
    for f in report.files:
        if f.status != "rejected":
            Path(f.file).unlink(missing_ok=True)
    fsync_path(outbox)
    return TrackingIngest(conversion, report)
