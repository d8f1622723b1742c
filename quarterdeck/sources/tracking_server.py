"""Running the tracking API: one server process, or several sharing the port.

Each process builds its own app and spool (`spool-<start>-<pid>.ndjson`), so processes never
share a file or a lock; what one process accepted is invisible to another until conversion,
which is why messageIds are de-duplicated exactly at conversion and load, not only at ingest
(see `docs/tracking-api.md`).

Example::

    serve_tracking(ws, host="127.0.0.1", port=8088, workers=2)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from quarterdeck.no_delay_http import NO_DELAY_HTTP
from quarterdeck.sources.tracking_api import create_tracking_app
from quarterdeck.sources.tracking_spool import tracking_spool_dir
from quarterdeck.sources.write_keys import WriteKeys

if TYPE_CHECKING:
    from quarterdeck.workspace.workspace import Workspace

# How the serving command tells each server process the workspace's data folder. (Opening the
# workspace itself would load the whole engine into every process.)
DATA_DIR_ENV = "QUARTERDECK_TRACKING_DATA_DIR"


def tracking_app_from_environment() -> Starlette:
    """The app each server process builds when several serve, for the data folder named in
    `$QUARTERDECK_TRACKING_DATA_DIR`."""
    data_dir = Path(os.environ[DATA_DIR_ENV])
    return create_tracking_app(tracking_spool_dir(data_dir), WriteKeys.for_workspace(data_dir))


def serve_tracking(ws: Workspace, *, host: str, port: int, workers: int = 1) -> None:
    """Serve the tracking API until interrupted, with `workers` processes on one port."""
    import uvicorn

    options = {"host": host, "port": port, "log_level": "warning", "access_log": False,
               "http": NO_DELAY_HTTP}
    if workers == 1:
        keys = WriteKeys.for_workspace(ws.data_dir)
        uvicorn.run(create_tracking_app(tracking_spool_dir(ws.data_dir), keys), **options)
        return
    os.environ[DATA_DIR_ENV] = str(ws.data_dir)
    uvicorn.run(f"{__name__}:tracking_app_from_environment", factory=True, workers=workers,
                **options)
