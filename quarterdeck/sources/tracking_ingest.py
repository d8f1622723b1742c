"""Tracked events into the warehouse: convert the spool, then load what is waiting.

`ingest_tracking(ws)` is what `quarterdeck source load` and `quarterdeck run` call. It
converts what the tracking API accepted since the last conversion into contract files in the
outbox (`data/tracking/outbox/`), then loads every file waiting there. A file leaves the
outbox once it is loaded (its rows then live in the landing area, and the spool keeps the
calls as received); a file the loader refused whole stays and is tried again on the next
call, so nothing converted is skipped, even when a load was interrupted or refused.

A row the data contract refuses, such as an event naming an account nobody has loaded, is set
aside and never holds back the valid rows around it: its reason goes to the rejects file, and
the row itself to `data/tracking/set_aside/`. Every ingestion tries the rows set aside again
after loading what is new, so an event tracked before its account's `group` call loads once
that call has been loaded.

Example::

    ingested = ingest_tracking(ws)
    if ingested is not None and ingested.report is not None:
        print(ingested.report.ok)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from quarterdeck.ingest import load_into_workspace
from quarterdeck.landing.landing_area import TMP_PREFIX, fsync_path, publish_version, temp_path
from quarterdeck.landing.loader import FileResult, LoadReport, Progress
from quarterdeck.landing.row_checks import literal
from quarterdeck.sources.tracking_conversion import Conversion, convert_spool
from quarterdeck.sources.tracking_spool import tracking_spool_dir
from quarterdeck.workspace.workspace import Workspace


def tracking_outbox_dir(data_dir: Path) -> Path:
    """Where converted tracking calls wait, as contract files, to be loaded."""
    return data_dir / "tracking" / "outbox"


def tracking_set_aside_dir(data_dir: Path) -> Path:
    """Where tracked rows the data contract refused wait, as contract files, to be tried
    again on every ingestion."""
    return data_dir / "tracking" / "set_aside"


@dataclass
class TrackingIngest:
    """What one ingestion did: the conversion, and the load of the outbox (None when nothing
    was waiting)."""

    conversion: Conversion
    report: LoadReport | None
    still_set_aside: int = 0  # rows set aside before, still refused on this try

    @property
    def events_loaded(self) -> int:
        if self.report is None:
            return 0
        return sum(f.rows_loaded for f in self.report.files if f.entity == "events")

    @property
    def rows_set_aside(self) -> int:
        """Rows refused by this ingestion, newly or again, waiting in the set-aside folder."""
        newly = 0 if self.report is None else sum(
            f.rows_rejected for f in self.report.files if f.status == "loaded")
        return newly + self.still_set_aside


def ingest_tracking(ws: Workspace, *, progress: Progress | None = None
                    ) -> TrackingIngest | None:
    """Convert and load what the tracking API accepted; None when it never accepted anything.

    The valid rows of a file with invalid ones load; the invalid ones are set aside (their
    reasons in the rejects file, the rows in `tracking_set_aside_dir`).
    """
    spool = tracking_spool_dir(ws.data_dir)
    if not spool.is_dir():
        return None
    outbox = tracking_outbox_dir(ws.data_dir)
    conversion = convert_spool(spool, outbox)
    aside = tracking_set_aside_dir(ws.data_dir)
    waiting = _ndjson_files(outbox)
    earlier = _ndjson_files(aside)  # set aside by earlier ingestions: tried again below
    if not waiting and not earlier:
        return TrackingIngest(conversion, None)
    report = LoadReport()
    if waiting:
        # The API accepted every call; one the contract refuses must not hold back the rest.
        report = load_into_workspace(ws, waiting, skip_invalid=True, progress=progress)
        _take_loaded(report, aside)
        fsync_path(outbox)
    retried, still = _retry_set_aside(ws, earlier, aside, progress)
    report.files += retried
    return TrackingIngest(conversion, report if report.files else None, still)


def _ndjson_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ndjson") if not p.name.startswith(TMP_PREFIX))


def _take_loaded(report: LoadReport, aside: Path) -> None:
    """Remove the files that loaded (whole or partly), setting their refused rows aside (a
    set-aside file is rewritten with the rows still refused)."""
    for f in report.files:
        if f.status == "rejected":
            continue
        path = Path(f.file)
        if f.rows_rejected and f.rejects_file:
            _set_aside(path, Path(f.rejects_file), aside)
            if path.parent == aside.resolve():
                continue
        path.unlink(missing_ok=True)


def _retry_set_aside(ws: Workspace, files: list[Path], aside: Path, progress: Progress | None
                     ) -> tuple[list[FileResult], int]:
    """Try the rows set aside again: the results of the files that loaded something, and the
    number of rows still refused.

    Tried whole first: a file still wholly refused stays as it is, with nothing recorded (the
    same bytes loaded with `skip_invalid` would be recorded as loaded and never tried again).
    A file of which some rows now pass loads those, and the rest is set aside anew."""
    if not files:
        return [], 0
    whole = load_into_workspace(ws, files, progress=progress, resolve=False)
    done = [f for f in whole.files if f.status != "rejected"]
    for f in done:
        Path(f.file).unlink(missing_ok=True)
    partly = [Path(f.file) for f in whole.files
              if f.status == "rejected" and 0 < f.rows_rejected < f.rows_read]
    still = sum(f.rows_rejected or f.rows_read for f in whole.files
                if f.status == "rejected" and Path(f.file) not in partly)
    if partly:
        split = load_into_workspace(ws, partly, skip_invalid=True, progress=progress,
                                    resolve=False)
        _take_loaded(split, aside)
        done += [f for f in split.files if f.status != "rejected"]  # their rest is counted
        still += sum(f.rows_read for f in split.files if f.status == "rejected")
    fsync_path(aside)
    return done, still


def _set_aside(loaded: Path, rejects: Path, dest: Path) -> Path:
    """Copy the rows of `loaded` that `rejects` names into a file of the same name in `dest`
    (NDJSON rows are numbered from 1 in file order, as the loader numbers them)."""
    dest.mkdir(parents=True, exist_ok=True)
    final = dest / loaded.name
    tmp = temp_path(final)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"COPY (SELECT * EXCLUDE (__n) FROM (SELECT row_number() OVER () AS __n, * FROM "
            f"read_json({literal(str(loaded))}, format = 'newline_delimited', sample_size = -1))"
            f" WHERE __n IN (SELECT DISTINCT CAST(row AS BIGINT) FROM "
            f"read_csv({literal(str(rejects))}, header = true, all_varchar = true))) "
            f"TO {literal(str(tmp))} (FORMAT json)")
    finally:
        con.close()
    publish_version(tmp, final)
    return final
