"""The tracking API: the Segment HTTP tracking spec (identify, track, group, batch) over a spool.

Authentication is HTTP basic with the write key as the user name and an empty password (a
`writeKey` field in the body is accepted too, as Segment does). A call is answered 200 only
after its messages are appended to the spool and fsync'd (group commit: concurrent requests
share one write and one fsync); see `docs/tracking-api.md`.

The request path is kept lean because it runs for every event: one JSON parse of the body,
plain type checks per message, one serialization per message (which also measures it), and
no thread hop: the request waits on the spool's commit in the event loop.

Example::

    app = create_tracking_app(ws.data_dir / "tracking" / "spool",
                              WriteKeys.for_workspace(ws.data_dir))
    uvicorn.run(app, host="127.0.0.1", port=8090)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from quarterdeck.sources.tracking_spool import Spool, SpoolClosedError, Submitted
from quarterdeck.sources.write_keys import WriteKeys

MAX_REQUEST_BYTES = 500 * 1024  # per request, after decompression (Segment's limit)
MAX_MESSAGE_BYTES = 32 * 1024  # per message, as spooled
MESSAGE_TYPES = ("identify", "track", "group")
OBJECT_FIELDS = ("traits", "properties", "context")
ID_FIELDS = ("userId", "anonymousId", "groupId")
SUCCESS = b'{"success":true}'


class TrackingError(Exception):
    """A refused call: HTTP status, the offending field (if any) and why."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.field = status, field

    def response(self) -> Response:
        body: dict[str, Any] = {"success": False, "error": str(self)}
        if self.field:
            body["field"] = self.field
        return _json(self.status, orjson.dumps(body))


def create_tracking_app(spool_dir: Path, keys: WriteKeys) -> Starlette:
    """An ASGI app answering the Segment tracking calls, spooling to `spool_dir`."""
    spool = Spool(spool_dir)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        spool.close()

    async def accept(request: Request, kind: str | None) -> Response:
        try:
            payload = _parse(await _read_body(request))
            _authenticate(request, payload, keys)
            submitted = spool.submit(*_spool_lines(payload, kind))
        except TrackingError as e:
            return e.response()
        except SpoolClosedError as e:
            return TrackingError(503, str(e)).response()
        try:
            await _durable(submitted)
        except Exception:  # a failed write (an OSError): the client resends
            return TrackingError(500, "the request could not be stored; send it again").response()
        return _json(200, SUCCESS)

    routes = [Route(f"/v1/{kind}", _endpoint(accept, kind), methods=["POST"], name=kind)
              for kind in MESSAGE_TYPES]
    routes.append(Route("/v1/batch", _endpoint(accept, None), methods=["POST"], name="batch"))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.spool = spool
    return app


def _endpoint(accept, kind):  # noqa: ANN001, ANN202 - a closure per route keeps the kind bound
    async def endpoint(request: Request) -> Response:
        return await accept(request, kind)

    return endpoint


def _json(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json")


async def _durable(submitted: Submitted) -> None:
    """Wait in the event loop until the request's lines are fsync'd. The commit's future is
    shared by every request of its group, so it is never cancelled from here."""
    future = submitted.durable
    if not future.done():
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()

        def settle(_: object) -> None:
            if not waiter.done():
                waiter.set_result(None)

        future.add_done_callback(lambda _: loop.call_soon_threadsafe(settle, None))
        await waiter
    future.result()  # raises the commit's error, if any


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise TrackingError(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise TrackingError(413, f"request body over {MAX_REQUEST_BYTES} bytes")
        chunks.append(chunk)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_REQUEST_BYTES + 1)
        except zlib.error as e:
            raise TrackingError(400, f"body is not valid gzip: {e}") from e
        if len(body) > MAX_REQUEST_BYTES:
            raise TrackingError(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    return body


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise TrackingError(400, f"body is not valid JSON: {e}") from e
    if type(payload) is not dict:
        raise TrackingError(400, "body must be a JSON object")
    return payload


def _authenticate(request: Request, payload: dict[str, Any], keys: WriteKeys) -> str:
    key = None
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            key = base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            key = None
    if not key and isinstance(payload.get("writeKey"), str):
        key = payload["writeKey"]
    source = keys.source_for(key) if key else None
    if source is None:
        raise TrackingError(401, "unknown or missing write key")
    return source


def _spool_lines(payload: dict[str, Any], kind: str | None) -> tuple[list[str], list[bytes]]:
    """The request's messages checked, stamped and serialized: (messageIds, NDJSON lines).
    Any bad message refuses the whole request, naming the field."""
    received = datetime.now(UTC).isoformat()
    if kind is not None:
        mid, line = _message_line(payload, kind, None, None, received)
        return [mid], [line]
    batch = payload.get("batch")
    if type(batch) is not list:
        raise TrackingError(400, "must be a list of messages", "batch")
    context = payload.get("context")
    context = context if type(context) is dict and context else None
    ids, lines = [], []
    for i, msg in enumerate(batch):
        mid, line = _message_line(msg, None, i, context, received)
        ids.append(mid)
        lines.append(line)
    return ids, lines


def _message_line(msg: Any, kind: str | None, index: int | None,
                  batch_context: dict[str, Any] | None, received: str) -> tuple[str, bytes]:
    """Check one message against the spec, stamp it and serialize it as a spool line.

    The message dict is the request's own parsed JSON, so it is stamped in place.
    """
    if type(msg) is not dict:
        raise TrackingError(400, "must be a JSON object", _where(index, None))
    kind = kind or msg.get("type")
    if kind not in MESSAGE_TYPES:
        raise TrackingError(400, f"must be one of {', '.join(MESSAGE_TYPES)}",
                            _where(index, "type"))
    if not (_present(msg.get("userId")) or _present(msg.get("anonymousId"))):
        raise TrackingError(400, "userId or anonymousId is required", _where(index, "userId"))
    if kind == "track":
        event = msg.get("event")
        if type(event) is not str or not event:
            raise TrackingError(400, "a track call needs an event name", _where(index, "event"))
    elif kind == "group" and not _present(msg.get("groupId")):
        raise TrackingError(400, "a group call needs a groupId", _where(index, "groupId"))
    for name in OBJECT_FIELDS:
        value = msg.get(name)
        if value is not None and type(value) is not dict:
            raise TrackingError(400, "must be a JSON object", _where(index, name))
    timestamp = msg.get("timestamp")
    if timestamp is not None:
        if type(timestamp) is not str:
            raise TrackingError(400, "must be a string", _where(index, "timestamp"))
        if timestamp:
            try:
                datetime.fromisoformat(timestamp)
            except ValueError as e:
                raise TrackingError(400, "must be an ISO 8601 timestamp",
                                    _where(index, "timestamp")) from e
    mid = msg.get("messageId")
    if mid is not None and type(mid) is not str:
        raise TrackingError(400, "must be a string", _where(index, "messageId"))
    msg["type"] = kind
    msg["receivedAt"] = received
    msg["messageId"] = mid = mid or f"qd-{uuid.uuid4()}"
    for name in ID_FIELDS:
        value = msg.get(name)
        if value is not None and type(value) is not str:
            msg[name] = str(value)
    if batch_context is not None:  # batch-level context applies to every message
        msg["context"] = {**batch_context, **(msg.get("context") or {})}
    msg.pop("writeKey", None)
    line = orjson.dumps(msg, option=orjson.OPT_APPEND_NEWLINE)
    if len(line) > MAX_MESSAGE_BYTES:
        raise TrackingError(413, f"message over {MAX_MESSAGE_BYTES} bytes",
                            _where(index, None) or None)
    return mid, line


def _where(index: int | None, name: str | None) -> str | None:
    """The offending field's path as the error names it: `event`, `batch[3].event`."""
    if index is None:
        return name
    return f"batch[{index}].{name}" if name else f"batch[{index}]"


def _present(value: Any) -> bool:
    """A usable id: a non-empty string or a number (not a boolean)."""
    return (type(value) is str and value != "") or type(value) in (int, float)
