"""A local HubSpot CRM API for tests and benchmarks: companies, contacts, deals and owners.

It answers the endpoints hubspot-api-client calls, with the shapes of HubSpot's API
reference:

- `GET /crm/v3/objects/{companies|contacts|deals}`: `limit` (at most 100), an opaque
  `after` token, `properties` (repeated or comma-separated; unknown ones ignored),
  `associations=companies` (v3 `{"results": [{"id", "type"}]}`), `archived=true` for the
  recycle bin alone; records in id order, `paging.next.after` while more remain.
- `POST /crm/v3/objects/{obj}/search`: `filterGroups` (OR of ANDed filters: EQ, NEQ, LT, LTE,
  GT, GTE, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY), one sort (`{"propertyName",
  "direction"}`), `limit` (at most 200), a numeric `after` offset; `total`; no associations
  and no archived records; 400 for an `after` at or past `search_cap` (10,000). Records
  that tie on the sort come newest id first: HubSpot promises no order for them.
- `POST /crm/v4/associations/{obj}/companies/batch/read`: v4 labelled associations
  (typeId 1 / 5 for a contact's / deal's primary company, 279 / 341 for others).
- `GET /crm/v3/owners/`: owners, `archived=true` for deactivated ones.

Errors are HubSpot's `{"status": "error", "message", "correlationId", "category"}`. It
serves plain HTTP (the SDK takes any host), checks the bearer token, logs every request
(never its token) and can fail on demand.

Example::

    with FakeHubSpot.from_fixtures(folder) as fake:
        client = HubSpot(access_token=fake.token, host=fake.url)
        fake.fail(429, retry_after=1)               # the next request
        fake.upsert("companies", {"id": "9003", "properties": {"name": "Globex Corp"}})
        [r.path for r in fake.requests]
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

Record = dict[str, Any]
OBJECTS = ("companies", "contacts", "deals")
MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate",
            "deals": "hs_lastmodifieddate"}
DATETIME_PROPERTIES = {"createdate", "hs_lastmodifieddate", "lastmodifieddate", "closedate"}
# v3 association type names → v4 (typeId, label) of HubSpot-defined associations to companies
ASSOCIATION_TYPES = {"contact_to_company": (1, "Primary"),
                     "contact_to_company_unlabeled": (279, None),
                     "deal_to_company": (5, "Primary"), "deal_to_company_unlabeled": (341, None)}
MAX_LIST, MAX_SEARCH = 100, 200
ERRORS = {
    400: ("VALIDATION_ERROR", "There was a problem with the request."),
    401: ("INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports "
                                    "OAuth 2.0 authentication."),
    403: ("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this "
                            "call."),
    404: ("OBJECT_NOT_FOUND", "Resource not found"),
    429: ("RATE_LIMITS", "You have reached your secondly limit."),
    500: ("INTERNAL_ERROR", "internal error"),
    502: ("BAD_GATEWAY", "Bad gateway"),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable"),
}


def now_millis() -> str:
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _millis(value: Any) -> int | None:
    if value is None or value == "":
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _comparable(prop: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if prop in DATETIME_PROPERTIES:
        return _millis(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return str(value).lower()


def _matches(record: Record, flt: dict[str, Any]) -> bool:
    prop, op = flt.get("propertyName"), flt.get("operator", "EQ")
    actual = _comparable(prop, (record.get("properties") or {}).get(prop))
    if op == "HAS_PROPERTY":
        return actual is not None
    if op == "NOT_HAS_PROPERTY":
        return actual is None
    if op in ("IN", "NOT_IN"):
        found = actual in {_comparable(prop, v) for v in flt.get("values") or []}
        return found if op == "IN" else not found
    expected = _comparable(prop, flt.get("value"))
    if op == "NEQ":
        return actual != expected
    if actual is None or expected is None:
        return False
    return {"EQ": actual == expected, "LT": actual < expected, "LTE": actual <= expected,
            "GT": actual > expected, "GTE": actual >= expected}[op]


def _token(record_id: str) -> str:
    return base64.b64encode(record_id.encode()).decode()


@dataclass
class LoggedRequest:
    """One request the fake answered; `authorized` whether the token was right (the token
    itself is not kept)."""

    method: str
    path: str
    params: dict[str, list[str]]
    body: Any
    authorized: bool


@dataclass
class _Failure:
    status: int
    times: int | None  # None: until `recover()`
    after: int
    retry_after: float | None
    path: str | None


class HubSpotApiError(Exception):
    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or ERRORS.get(status, ("ERROR", "error"))[1])
        self.status = status


class FakeHubSpot:
    """CRM records by object (with all their properties), served on 127.0.0.1."""

    def __init__(self, records: dict[str, list[Record]], owners: Iterable[Record] = (), *,
                 token: str = "pat-na1-fake-0000-token") -> None:
        self.records: dict[str, dict[str, Record]] = {
            obj: {str(r["id"]): copy.deepcopy(r) for r in records.get(obj, [])}
            for obj in OBJECTS}
        self.owners = [dict(o) for o in owners]
        self.token = token
        self.requests: list[LoggedRequest] = []
        self.search_cap = 10_000
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @classmethod
    def from_fixtures(cls, folder: Path, **kwargs: Any) -> FakeHubSpot:
        """Records from `<object>.json` (list answers, live and archived records together)
        and owners from `owners.json`."""
        folder = Path(folder)
        records = {obj: json.loads((folder / f"{obj}.json").read_text(encoding="utf-8"))
                   ["results"] for obj in OBJECTS if (folder / f"{obj}.json").exists()}
        owners_file = folder / "owners.json"
        owners = (json.loads(owners_file.read_text(encoding="utf-8"))["results"]
                  if owners_file.exists() else [])
        return cls(records, owners, **kwargs)

    # -- control, from the test's side --

    def upsert(self, obj: str, record: Record) -> Record:
        """Add a record or change the one with its id, as an edit in HubSpot: its last
        modified date becomes now unless the record gives one."""
        stamp = now_millis()
        with self._lock:
            rows = self.records[obj]
            key = str(record["id"])
            current = rows.get(key) or {"id": key, "createdAt": stamp, "archived": False,
                                        "properties": {"hs_object_id": key, "createdate": stamp}}
            merged = {**current, **{k: v for k, v in record.items() if k != "properties"}}
            props = {**current.get("properties", {}), **(record.get("properties") or {})}
            if MODIFIED[obj] not in (record.get("properties") or {}):
                props[MODIFIED[obj]] = stamp
            merged["properties"] = props
            merged["updatedAt"] = props[MODIFIED[obj]]
            rows[key] = merged
            return copy.deepcopy(merged)

    def archive(self, obj: str, record_id: str) -> None:
        """Move a record to the recycle bin, as deleting it in HubSpot does; HubSpot removes
        its associations."""
        stamp = now_millis()
        with self._lock:
            record = self.records[obj][str(record_id)]
            record.update(archived=True, archivedAt=stamp, updatedAt=stamp)
            record.pop("associations", None)

    def fail(self, status: int, *, times: int | None = 1, after: int = 0,
             retry_after: float | None = None, path: str | None = None) -> None:
        """Answer `status` to the next `times` requests (None: until `recover()`), after
        letting `after` through; only requests whose path starts with `path`, if given."""
        with self._lock:
            self._failures.append(_Failure(status, times, after, retry_after, path))

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    def searches(self, obj: str | None = None) -> list[dict[str, Any]]:
        """The bodies of the search requests, optionally of one object."""
        return [r.body for r in self.requests if r.path.endswith("/search")
                and (obj is None or r.path == f"/crm/v3/objects/{obj}/search")]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # -- the API --

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, extra headers) for one request."""
        split = urlsplit(target)
        params = parse_qs(split.query, keep_blank_values=True)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        authorized = headers.get("authorization") == f"Bearer {self.token}"
        with self._lock:
            self.requests.append(LoggedRequest(method, split.path, params, payload,
                                               authorized))
            failure = self._next_failure(split.path)
        if failure:
            extra = ({"Retry-After": f"{failure.retry_after:g}"}
                     if failure.retry_after is not None else {})
            return failure.status, self._error(failure.status), extra
        if not authorized:
            return 401, self._error(401), {}
        try:
            return 200, self._route(method, split.path.rstrip("/"), params, payload), {}
        except HubSpotApiError as exc:
            return exc.status, self._error(exc.status, str(exc)), {}

    def _error(self, status: int, message: str | None = None) -> dict[str, Any]:
        category, default = ERRORS.get(status, ("ERROR", "error"))
        return {"status": "error", "message": message or default,
                "correlationId": str(uuid.uuid4()), "category": category}

    def _next_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path and not path.startswith(failure.path):
                continue
            if failure.after > 0:
                failure.after -= 1
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _route(self, method: str, path: str, params: dict[str, list[str]], body: Any) -> Any:
        parts = path.strip("/").split("/")
        if method == "GET" and parts[:3] == ["crm", "v3", "owners"] and len(parts) == 3:
            return self._owners(params)
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4:
            obj = parts[3]
            if obj not in OBJECTS:
                raise HubSpotApiError(400, f"Unable to infer object type from: {obj}")
            if method == "GET" and len(parts) == 4:
                return self._list(obj, params)
            if method == "POST" and parts[4:] == ["search"]:
                return self._search(obj, body or {})
        if (method == "POST" and parts[:3] == ["crm", "v4", "associations"]
                and parts[5:] == ["batch", "read"]):
            return self._associations(parts[3], parts[4], body or {})
        raise HubSpotApiError(404)

    def _project(self, obj: str, record: Record, properties: list[str],
                 associations: bool) -> Record:
        props = record.get("properties") or {}
        wanted = [*properties, "hs_object_id", "createdate", MODIFIED[obj]]
        out: Record = {"id": record["id"],
                       "properties": {p: props.get(p) for p in dict.fromkeys(wanted)},
                       "createdAt": record.get("createdAt"),
                       "updatedAt": record.get("updatedAt"),
                       "archived": bool(record.get("archived"))}
        if record.get("archived"):
            out["archivedAt"] = record.get("archivedAt")
        if associations and record.get("associations"):
            out["associations"] = copy.deepcopy(record["associations"])
        return out

    @staticmethod
    def _limit(params: dict[str, list[str]] | dict[str, Any], most: int, default: int) -> int:
        raw = params.get("limit")
        value = raw[0] if isinstance(raw, list) else raw
        limit = int(value) if value not in (None, "") else default
        if not 1 <= limit <= most:
            raise HubSpotApiError(400, f"limit must be between 1 and {most}")
        return limit

    def _list(self, obj: str, params: dict[str, list[str]]) -> dict[str, Any]:
        limit = self._limit(params, MAX_LIST, 10)
        archived = (params.get("archived") or ["false"])[0].lower() == "true"
        properties = [p for v in params.get("properties", []) for p in v.split(",") if p]
        with_companies = "companies" in {a for v in params.get("associations", [])
                                         for a in v.split(",")}
        with self._lock:
            rows = sorted((r for r in self.records[obj].values()
                           if bool(r.get("archived")) == archived), key=lambda r: int(r["id"]))
            if params.get("after"):
                last = base64.b64decode(params["after"][0]).decode()
                rows = [r for r in rows if int(r["id"]) > int(last)]
            page = [self._project(obj, r, properties, with_companies) for r in rows[:limit]]
        body: dict[str, Any] = {"results": page}
        if len(rows) > limit:
            token = _token(page[-1]["id"])
            body["paging"] = {"next": {"after": token, "link": f"?after={token}"}}
        return body

    def _search(self, obj: str, request: dict[str, Any]) -> dict[str, Any]:
        limit = self._limit(request, MAX_SEARCH, 10)
        offset = int(request.get("after") or 0)
        if offset >= self.search_cap:
            raise HubSpotApiError(400, f"Paging through more than {self.search_cap} results "
                                  "is not supported")
        sorts = request.get("sorts") or []
        if len(sorts) > 1:
            raise HubSpotApiError(400, "Only one sort is supported")
        groups = request.get("filterGroups") or []
        with self._lock:
            rows = [r for r in self.records[obj].values() if not r.get("archived") and (
                not groups or any(all(_matches(r, f) for f in g.get("filters") or [])
                                  for g in groups))]
        rows.sort(key=lambda r: -int(r["id"]))  # ties on the sort: newest id first
        if sorts:
            sort = sorts[0] if isinstance(sorts[0], dict) else {
                "propertyName": str(sorts[0]).lstrip("-"),
                "direction": "DESCENDING" if str(sorts[0]).startswith("-") else "ASCENDING"}
            prop = sort["propertyName"]
            rows.sort(key=lambda r: (_comparable(prop, r["properties"].get(prop)) is None,
                                     _comparable(prop, r["properties"].get(prop)) or 0),
                      reverse=sort.get("direction") == "DESCENDING")
        else:
            rows.sort(key=lambda r: int(r["id"]))
        chunk = rows[offset:offset + limit]
        body: dict[str, Any] = {
            "total": len(rows),
            "results": [self._project(obj, r, request.get("properties") or [], False)
                        for r in chunk]}
        if offset + limit < len(rows):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return body

    def _associations(self, source: str, target: str, request: dict[str, Any]
                      ) -> dict[str, Any]:
        if source not in OBJECTS or target != "companies":
            raise HubSpotApiError(400, f"Unknown association {source} → {target}")
        stamp = now_millis()
        results, errors = [], []
        with self._lock:
            for item in request.get("inputs") or []:
                record = self.records[source].get(str(item.get("id")))
                listed = ((record or {}).get("associations") or {}).get("companies") or {}
                targets: dict[str, list[dict[str, Any]]] = {}
                for link in listed.get("results") or []:
                    type_id, label = ASSOCIATION_TYPES.get(link["type"], (None, None))
                    targets.setdefault(str(link["id"]), []).append(
                        {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label})
                if record is None or record.get("archived") or not targets:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "message": f"No {target} is associated with {item.get('id')}",
                                   "context": {"fromObjectId": [str(item.get("id"))]}})
                    continue
                results.append({"from": {"id": str(item["id"])}, "to": [
                    {"toObjectId": int(t), "associationTypes": types}
                    for t, types in targets.items()]})
        body: dict[str, Any] = {"status": "COMPLETE", "results": results,
                                "startedAt": stamp, "completedAt": stamp}
        if errors:
            body.update(numErrors=len(errors), errors=errors)
        return body

    def _owners(self, params: dict[str, list[str]]) -> dict[str, Any]:
        limit = self._limit(params, 500, 100)
        archived = (params.get("archived") or ["false"])[0].lower() == "true"
        rows = sorted((o for o in self.owners if bool(o.get("archived")) == archived),
                      key=lambda o: int(o["id"]))
        if params.get("after"):
            last = base64.b64decode(params["after"][0]).decode()
            rows = [o for o in rows if int(o["id"]) > int(last)]
        body: dict[str, Any] = {"results": rows[:limit]}
        if len(rows) > limit:
            token = _token(rows[limit - 1]["id"])
            body["paging"] = {"next": {"after": token, "link": f"?after={token}"}}
        return body

    # -- serving --

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake HubSpot is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHubSpot:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, data, extra = fake.answer(method, self.path, headers, body)
                raw = json.dumps(data).encode()
                self.send_response(status)  # also sends Date, HubSpot's clock
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802 (the http.server hook's name)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-hubspot", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHubSpot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
