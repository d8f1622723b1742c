"""A local Stripe API: customers, subscriptions, invoices and events served as Stripe serves them.

For tests and benchmarks of the Stripe connector without the network. It answers the list
endpoints with Stripe's list object, newest first, `limit` (at most 100), `starting_after`
and `ending_before` cursors and `created[gt|gte|lt|lte]` filters; subscriptions by `status`
(canceled ones only with `status=all`) and with `discounts` collapsed to ids unless expanded
(`expand[]=data.discounts`, `data.items.data.discounts`); events by `types[]`. It checks the
bearer key, counts requests, and can answer 429 (with Retry-After) or 500 on demand.

Example::

    with FakeStripe.from_folder(Path("tests/sources/fixtures/stripe")) as fake:
        client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url})
        fake.fail("/v1/customers", 429, retry_after=1)   # the next customers request
        fake.change(customer, "customer.updated", created=1_735_700_000)
        [r.path for r in fake.requests]
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

COLLECTIONS = ("customers", "subscriptions", "invoices", "events")
OBJECT_COLLECTION = {"customer": "customers", "subscription": "subscriptions",
                     "invoice": "invoices", "event": "events"}
MAX_LIMIT = 100
_BRACKETS = re.compile(r"^([a-z_]+)\[([a-z_]*|\d+)\]$")


@dataclass
class Request:
    """One request the fake answered: path and parsed query; `authorized` whether the key was
    right (the key itself is not kept)."""

    method: str
    path: str
    params: dict[str, Any]
    authorized: bool
    version: str | None = None  # the Stripe-Version header sent

    def param(self, name: str) -> Any:
        return self.params.get(name)


@dataclass
class Failure:
    path: str
    status: int
    times: int | None  # None: every time
    retry_after: int | None = None
    after: int = 0  # matching requests answered normally first
    when: Callable[[Request], bool] | None = None


def parse_query(query: str) -> dict[str, Any]:
    """Stripe's form encoding: `types[0]=a&types[1]=b` → list, `created[gt]=1` → dict."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        match = _BRACKETS.match(key)
        if not match:
            params[key] = value
        elif match.group(2) == "" or match.group(2).isdigit():
            params.setdefault(match.group(1), []).append(value)
        else:
            params.setdefault(match.group(1), {})[match.group(2)] = value
    return params


def collapse_discounts(sub: dict, expand: Iterable[str] = (), prefix: str = "") -> dict:
    """A subscription as Stripe renders it: discounts as ids unless `expand`ed."""
    out = copy.deepcopy(sub)
    expand = set(expand)
    if f"{prefix}discounts" not in expand:
        out["discounts"] = [_id(d) for d in out.get("discounts") or []]
    if f"{prefix}items.data.discounts" not in expand:
        for item in (out.get("items") or {}).get("data") or []:
            item["discounts"] = [_id(d) for d in item.get("discounts") or []]
    return out


def _id(value: Any) -> Any:
    return value["id"] if isinstance(value, dict) else value


def _error(status: int, kind: str, message: str, **extra: Any) -> tuple[int, dict]:
    return status, {"error": {"type": kind, "message": message, **extra}}


class FakeStripe:
    """The fake API on 127.0.0.1 at a free port, started by `start()` or `with`."""

    def __init__(self, *, customers: Iterable[dict] = (), subscriptions: Iterable[dict] = (),
                 invoices: Iterable[dict] = (), events: Iterable[dict] = (),
                 api_key: str = "sk_test_fake-stripe-key") -> None:
        self.api_key = api_key
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._order: dict[str, int] = {}
        self._store: dict[str, dict[str, dict]] = {c: {} for c in COLLECTIONS}
        self._sorted_cache: dict[str, tuple[list[dict], dict[str, int]]] = {}
        # Events are listed newest first: load the oldest first so ties keep that order.
        for objs in (customers, subscriptions, invoices,
                     sorted(events, key=lambda e: e["created"])):
            for obj in objs:
                self.put(obj)
        self._server: ThreadingHTTPServer | None = None

    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> FakeStripe:
        """Fixtures saved as Stripe list responses: customers.json, subscriptions.json, …"""
        data = {}
        for name in COLLECTIONS:
            path = Path(folder) / f"{name}.json"
            if path.exists():
                data[name] = json.loads(path.read_text(encoding="utf-8"))["data"]
        return cls(**data, **kwargs)

    # --- state ------------------------------------------------------------------------------

    def put(self, obj: dict) -> None:
        """Add an object, or replace the one with its id (it keeps its place in lists)."""
        with self._lock:
            self._order.setdefault(obj["id"], next(self._seq))
            name = OBJECT_COLLECTION[obj["object"]]
            self._store[name][obj["id"]] = copy.deepcopy(obj)
            self._sorted_cache.pop(name, None)

    def remove(self, object_id: str) -> None:
        """Forget an object, as Stripe forgets a deleted customer."""
        with self._lock:
            for objs in self._store.values():
                objs.pop(object_id, None)
            self._sorted_cache.clear()

    def get(self, object_id: str) -> dict:
        for objs in self._store.values():
            if object_id in objs:
                return copy.deepcopy(objs[object_id])
        raise KeyError(object_id)

    def change(self, obj: dict, event_type: str, *, created: int,
               previous_attributes: dict | None = None) -> dict:
        """Store `obj`'s new state and the event announcing it, as Stripe does; the event."""
        self.put(obj)
        shown = collapse_discounts(obj) if obj["object"] == "subscription" else obj
        event = {
            "id": f"evt_1Qfake{next(self._seq):010d}", "object": "event",
            "api_version": "2025-03-31.basil", "created": created,
            "data": {"object": copy.deepcopy(shown),
                     **({"previous_attributes": previous_attributes}
                        if previous_attributes is not None else {})},
            "livemode": False, "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None}, "type": event_type}
        self.put(event)
        return event

    def fail(self, path: str, status: int, *, times: int | None = 1,
             retry_after: int | None = None, after: int = 0,
             when: Callable[[Request], bool] | None = None) -> None:
        """Answer `status` to the next `times` requests under `path` (None: all of them),
        after `after` matching ones answered normally."""
        self.failures.append(Failure(path, status, times, retry_after, after, when))

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # --- server -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- answers ----------------------------------------------------------------------------

    def answer(self, method: str, target: str, authorization: str | None,
               version: str | None = None) -> tuple[int, dict, dict[str, str]]:
        parts = urlsplit(target)
        request = Request(method, parts.path, parse_query(parts.query),
                          authorization == f"Bearer {self.api_key}", version)
        with self._lock:
            self.requests.append(request)
            failure = self._failure(request)
        if not request.authorized:
            given = (authorization or "").removeprefix("Bearer ")
            return (*_error(401, "invalid_request_error",
                            f"Invalid API Key provided: {'*' * max(len(given) - 4, 0)}"
                            f"{given[-4:]}"), {})
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.status == 429:
                return (*_error(429, "invalid_request_error", "Request rate limit exceeded.",
                                code="rate_limit"), headers)
            return (*_error(failure.status, "api_error", "An unknown error occurred"), headers)
        if method != "GET":
            return (*_error(405, "invalid_request_error", "Only GET is served here"), {})
        with self._lock:
            return (*self._route(request), {})

    def _failure(self, request: Request) -> Failure | None:
        for f in self.failures:
            if not request.path.startswith(f.path) or (f.when and not f.when(request)):
                continue
            if f.after > 0:
                f.after -= 1
                continue
            if f.times is None or f.times > 0:
                if f.times is not None:
                    f.times -= 1
                return f
        return None

    def _route(self, request: Request) -> tuple[int, dict]:
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "v1" and parts[1] in COLLECTIONS:
            return self._list(parts[1], request)
        if len(parts) == 3 and parts[0] == "v1" and parts[1] in COLLECTIONS:
            obj = self._store[parts[1]].get(parts[2])
            if obj is None:
                return _error(404, "invalid_request_error", f"No such {parts[1][:-1]}: "
                              f"'{parts[2]}'", code="resource_missing", param="id")
            if parts[1] == "subscriptions":
                obj = collapse_discounts(obj, request.param("expand") or [])
            return 200, obj
        return _error(404, "invalid_request_error",
                      f"Unrecognized request URL (GET: {request.path}).")

    def _list(self, name: str, request: Request) -> tuple[int, dict]:
        p = request.params
        try:
            limit = int(p.get("limit", 10))
        except ValueError:
            limit = -1
        if not 1 <= limit <= MAX_LIMIT:
            return _error(400, "invalid_request_error", "Invalid integer: limit must be "
                          f"between 1 and {MAX_LIMIT}", param="limit")
        if p.get("starting_after") and p.get("ending_before"):
            return _error(400, "invalid_request_error", "Received both starting_after and "
                          "ending_before parameters. Please pass in only one.")
        objs, index = self._sorted(name)
        anchor_id = p.get("starting_after") or p.get("ending_before")
        if anchor_id and anchor_id not in index:
            cursor = "starting_after" if p.get("starting_after") else "ending_before"
            return _error(400, "invalid_request_error", f"No such {name[:-1]}: '{anchor_id}'",
                          code="resource_missing", param=cursor)
        found: list[dict] = []
        if p.get("ending_before"):  # the ones right before (newer than) the anchor
            for obj in reversed(objs[:index[anchor_id]]):
                if self._matches(name, obj, p):
                    found.append(obj)
                    if len(found) > limit:
                        break
            return 200, self._page(name, found[:limit][::-1], len(found) > limit, p)
        start = index[anchor_id] + 1 if anchor_id else 0
        for obj in objs[start:]:
            if self._matches(name, obj, p):
                found.append(obj)
                if len(found) > limit:
                    break
        return 200, self._page(name, found[:limit], len(found) > limit, p)

    def _sorted(self, name: str) -> tuple[list[dict], dict[str, int]]:
        """The collection newest first (ties: the later added first), and each id's place."""
        if name not in self._sorted_cache:
            objs = sorted(self._store[name].values(), reverse=True,
                          key=lambda o: (o["created"], self._order[o["id"]]))
            self._sorted_cache[name] = objs, {o["id"]: n for n, o in enumerate(objs)}
        return self._sorted_cache[name]

    @staticmethod
    def _matches(name: str, obj: dict, p: dict[str, Any]) -> bool:
        created = p.get("created")
        if isinstance(created, str):
            created = {"eq": created}
        for op, value in (created or {}).items():
            limit = int(value)
            ok = {"gt": obj["created"] > limit, "gte": obj["created"] >= limit,
                  "lt": obj["created"] < limit, "lte": obj["created"] <= limit,
                  "eq": obj["created"] == limit}[op]
            if not ok:
                return False
        if name == "subscriptions":
            status = p.get("status")
            if status is None:
                return obj["status"] not in ("canceled", "incomplete_expired")
            return status == "all" or obj["status"] == status
        if name == "events":
            types = p.get("types") or ([p["type"]] if p.get("type") else None)
            return types is None or any(
                obj["type"] == t or (t.endswith("*") and obj["type"].startswith(t[:-1]))
                for t in types)
        return True

    @staticmethod
    def _page(name: str, objs: list[dict], more: bool, p: dict[str, Any]) -> dict:
        if name == "subscriptions":
            objs = [collapse_discounts(o, p.get("expand") or [], prefix="data.") for o in objs]
        return {"object": "list", "data": copy.deepcopy(objs), "has_more": more,
                "url": f"/v1/{name}"}


class _Handler(BaseHTTPRequestHandler):
    api: FakeStripe
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond("GET")

    def _respond(self, method: str) -> None:
        status, body, headers = self.api.answer(method, self.path,
                                                self.headers.get("Authorization"),
                                                self.headers.get("Stripe-Version"))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_fake{len(self.api.requests):06d}")
        self.send_header("Stripe-Version", self.headers.get("Stripe-Version") or "")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # tests read `requests`, not stderr
