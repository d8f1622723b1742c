"""The tracking API: the Segment HTTP tracking spec (identify, track, group, batch) over a spool.

Authentication is HTTP basic with the write key as the user name and an empty password (a
`writeKey` field in the body is accepted too, as Segment does). A call is answered 200 only
after its messages are appended to the spool and fsync'd; see `docs/tracking-api.md`.

Example::

    app = create_tracking_app(ws.data_dir / "tracking" / "spool",
                              WriteKeys.for_workspace(ws.data_dir))
    uvicorn.run(app, host="127.0.0.1", port=8090)
"""

from __future__ import annotations

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
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from quarterdeck.sources.tracking_spool import Spool
from quarterdeck.sources.write_keys import WriteKeys

MAX_REQUEST_BYTES = 500 * 1024  # per request, after decompression (Segment's limit)
MAX_MESSAGE_BYTES = 32 * 1024  # per message
MESSAGE_TYPES = ("identify", "track", "group")


class TrackingError(Exception):
    """A refused call: HTTP status, the offending field (if any) and why."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.field = status, field

    def response(self) -> JSONResponse:
        body = {"success": False, "error": str(self)}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, status_code=self.status)


def create_tracking_app(spool_dir: Path, keys: WriteKeys) -> FastAPI:
    """A FastAPI app answering the Segment tracking calls, spooling to `spool_dir`."""
    spool = Spool(spool_dir)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        spool.close()

    app = FastAPI(title="Quarterdeck tracking API", docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.spool = spool

    async def accept(request: Request, kind: str | None) -> JSONResponse:
        try:
            body = await _read_body(request)
            payload = _parse(body)
            _authenticate(request, payload, keys)
            received = datetime.now(UTC).isoformat()
            if kind is None:
                batch = payload.get("batch")
                if not isinstance(batch, list):
                    raise TrackingError(400, "must be a list of messages", "batch")
                messages = [_message(m, None, f"batch[{i}]", payload, received)
                            for i, m in enumerate(batch)]
            else:
                messages = [_message(payload, kind, "", payload, received)]
        except TrackingError as e:
            return e.response()
        await run_in_threadpool(spool.append, messages)
        return JSONResponse({"success": True})

    for kind in MESSAGE_TYPES:
        app.add_api_route(f"/v1/{kind}", _route(accept, kind), methods=["POST"], name=kind)
    app.add_api_route("/v1/batch", _route(accept, None), methods=["POST"], name="batch")
    return app


def _route(accept, kind):  # noqa: ANN001, ANN202 - a closure per route keeps the kind bound
    async def endpoint(request: Request) -> JSONResponse:
        return await accept(request, kind)

    return endpoint


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
    body = b"".join(chunks)
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
    if not isinstance(payload, dict):
        raise TrackingError(400, "body must be a JSON object")
    return payload


def _authenticate(request: Request, payload: dict[str, Any], keys: WriteKeys) -> str:
    key = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
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


def _message(msg: Any, kind: str | None, where: str, payload: dict[str, Any],
             received: str) -> dict[str, Any]:
    """Check one message against the spec and stamp it; raises naming the bad field."""

    def name(field: str) -> str:
        return f"{where}.{field}" if where else field

    if not isinstance(msg, dict):
        raise TrackingError(400, "must be a JSON object", where or None)
    if len(orjson.dumps(msg)) > MAX_MESSAGE_BYTES:
        raise TrackingError(413, f"message over {MAX_MESSAGE_BYTES} bytes", where or None)
    kind = kind or msg.get("type")
    if kind not in MESSAGE_TYPES:
        raise TrackingError(400, f"must be one of {', '.join(MESSAGE_TYPES)}", name("type"))
    if not _text_or_number(msg.get("userId")) and not _text_or_number(msg.get("anonymousId")):
        raise TrackingError(400, "userId or anonymousId is required", name("userId"))
    if kind == "track" and not (isinstance(msg.get("event"), str) and msg["event"]):
        raise TrackingError(400, "a track call needs an event name", name("event"))
    if kind == "group" and not _text_or_number(msg.get("groupId")):
        raise TrackingError(400, "a group call needs a groupId", name("groupId"))
    for field in ("traits", "properties", "context"):
        if msg.get(field) is not None and not isinstance(msg[field], dict):
            raise TrackingError(400, "must be a JSON object", name(field))
    for field in ("timestamp", "messageId"):
        if msg.get(field) is not None and not isinstance(msg[field], str):
            raise TrackingError(400, "must be a string", name(field))
    if msg.get("timestamp"):
        try:
            datetime.fromisoformat(msg["timestamp"].replace("Z", "+00:00"))
        except ValueError as e:
            raise TrackingError(400, "must be an ISO 8601 timestamp", name("timestamp")) from e
    out = dict(msg, type=kind, receivedAt=received)
    for field in ("userId", "anonymousId", "groupId"):
        if out.get(field) is not None:
            out[field] = str(out[field])
    if isinstance(payload.get("context"), dict) and where:  # batch-level context applies to all
        out["context"] = {**payload["context"], **(msg.get("context") or {})}
    out.pop("writeKey", None)
    out["messageId"] = msg.get("messageId") or f"qd-{uuid.uuid4()}"
    return out


def _text_or_number(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (
        isinstance(value, int | float) and not isinstance(value, bool))

