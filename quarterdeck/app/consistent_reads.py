"""Each request looks its kept results up at one reading of the data's change counts: a page
is built from one state of the published data, and the counts are read once per request
instead of once per result (see `quarterdeck.appdb.data_versions`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from quarterdeck.appdb.data_versions import one_reading


class ConsistentReads:
    """ASGI middleware: every request runs inside `one_reading`. It reads nothing itself (the
    counts are read by the first lookup, in the worker thread that needs them), so the event
    loop never waits on the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with one_reading():
            await self.app(scope, receive, send)
