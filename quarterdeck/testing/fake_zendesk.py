"""A local Zendesk Support API for tests: the incremental exports and satisfaction ratings
over fixture records.

It answers the resources the Zendesk connector reads the way Zendesk documents them, over
HTTPS with a certificate of its own (zenpy only speaks HTTPS; point a client at it with
`base_url=fake.url` and trust `fake.ca_file`, e.g. through `REQUESTS_CA_BUNDLE`):

- `GET /api/v2/incremental/organizations.json?start_time=T[&per_page=N]` — the time-based
  export: organizations changed at or after T, oldest first, with `end_time` (the newest
  change in the page, the next start_time), `next_page`, `count` and `end_of_stream`. As in
  Zendesk, a page never splits the records of one second, and the records of its last second
  come again at the start of the next page.
- `GET /api/v2/incremental/tickets/cursor.json?start_time=T[&per_page=N]` or `?cursor=C`,
  optionally `&include=metric_sets` — the cursor-based export: `tickets`, `after_cursor`,
  `after_url`, `before_cursor`, `before_url`, `end_of_stream`, and the side-loaded
  `metric_sets`. The opaque cursor keeps the export's page size.
- `GET /api/v2/satisfaction_ratings[.json]?[score=received][&start_time=T]&page[size]=N` —
  cursor pagination (`meta.has_more`, `meta.after_cursor`, `links.next`), oldest change
  first.
- `GET /api/v2/tickets/show_many.json?ids=1,2` — tickets by id.

Errors are JSON `{"error": …, "description": …}` as Zendesk sends them; requests must carry
the API token (`{email}/token:{token}` in Basic auth) or the OAuth token (Bearer).

Example::

    with FakeZendesk.from_fixtures(folder) as fake:
        fake.fail(500, after=1)            # the second request fails
        fake.upsert("tickets", {"id": 35, "status": "solved", "updated_at": …})
        fake.paths()                       # the paths it was asked for
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from quarterdeck.testing.tls import certificates

Record = dict[str, Any]
EXPORT_PAGE = 1000  # the incremental exports' default and largest page
LIST_PAGE = 100  # cursor pagination's largest page
OBJECTS = ("organizations", "tickets", "metric_sets", "satisfaction_ratings")
ERRORS = {
    401: ("Couldn't authenticate you", ""),
    403: ("Forbidden", "You do not have access to this page."),
    404: ("InvalidEndpoint", "Not found"),
    429: ("TooManyRequests", "Rate limit exceeded. Please wait and try again."),
    500: ("InternalServerError", "Something went wrong on our end."),
    503: ("ServiceUnavailable", "Zendesk is temporarily unavailable."),
}
ANSWERED = {"good", "bad", "good_with_comment", "good_without_comment", "bad_with_comment",
            "bad_without_comment"}


def _unix(value: str) -> int:
    return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _order(record: Record) -> tuple[int, int]:
    return _unix(record["updated_at"]), int(record["id"])


def _encode(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    padded = token + "=" * (-len(token) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Failure:
    status: int
    times: int | None  # None: until `recover()`
    after: int
    retry_after: float | None


class BadRequest(ValueError):
    pass


class FakeZendesk:
    """Records by object (as the API returns them), served over a local HTTPS server."""

    def __init__(self, records: dict[str, list[Record]], *, email: str = "ops@acme.example",
                 api_token: str | None = None, oauth_token: str | None = None) -> None:
        self.records = {obj: [dict(r) for r in records.get(obj, [])] for obj in OBJECTS}
        self.email = email
        self.api_token = api_token
        self.oauth_token = oauth_token
        self.requests: list[LoggedRequest] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._dir: Path | None = None

    @classmethod
    def from_fixtures(cls, folder: Path, **kwargs: Any) -> FakeZendesk:
        """Records from `<object>.json` files, each an API response holding that object's
        list (`{"organizations": […]}`; tickets.json also holds `metric_sets`)."""
        records: dict[str, list[Record]] = {}
        for path in sorted(Path(folder).glob("*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            for obj in OBJECTS:
                if obj in body:
                    records.setdefault(obj, []).extend(body[obj])
        return cls(records, **kwargs)

    # -- control, from the test's side --

    def upsert(self, obj: str, record: Record) -> None:
        """Add a record, or change the one with its id (a change in Zendesk). Metric sets are
        matched by their `ticket_id`."""
        key = "ticket_id" if obj == "metric_sets" else "id"
        with self._lock:
            rows = self.records[obj]
            for i, existing in enumerate(rows):
                if existing[key] == record[key]:
                    rows[i] = {**existing, **record}
                    return
            rows.append(dict(record))

    def fail(self, status: int, *, times: int | None = 1, after: int = 0,
             retry_after: float | None = None) -> None:
        """Answer `status` to the next `times` requests (None: until `recover()`), after
        letting `after` requests through."""
        with self._lock:
            self._failures.append(_Failure(status, times, after, retry_after))

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    def paths(self, prefix: str = "") -> list[str]:
        """The path and query of every request (`/api/v2/…?start_time=0`), optionally only
        those whose path starts with `prefix`."""
        return [r.path + ("?" + urlencode(sorted(r.params.items())) if r.params else "")
                for r in self.requests if r.path.startswith(prefix)]

    # -- the API --

    def answer(self, method: str, target: str, headers: dict[str, str]
               ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, extra headers) for one request."""
        split = urlsplit(target)
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(LoggedRequest(method, split.path, params, dict(headers)))
            failure = self._next_failure()
        if failure:
            extra = ({"Retry-After": f"{failure.retry_after:g}"}
                     if failure.retry_after is not None else {})
            return failure.status, self._error(failure.status), extra
        if not self._authorized(headers.get("authorization", "")):
            return 401, self._error(401), {}
        routes = {
            "/api/v2/incremental/organizations": self._organizations,
            "/api/v2/incremental/tickets/cursor": self._tickets,
            "/api/v2/satisfaction_ratings": self._ratings,
            "/api/v2/tickets/show_many": self._show_many,
        }
        route = routes.get(split.path.removesuffix(".json"))  # Zendesk answers both
        if method != "GET" or route is None:
            return 404, self._error(404), {}
        try:
            return 200, route(params), {}
        except BadRequest as exc:
            return 400, {"error": "InvalidPaginationParameter", "description": str(exc)}, {}

    def _error(self, status: int) -> dict[str, str]:
        error, description = ERRORS.get(status, ("Error", "error"))
        return {"error": error, "description": description} if description else {
            "error": error}

    def _authorized(self, header: str) -> bool:
        if self.oauth_token and header == f"Bearer {self.oauth_token}":
            return True
        if self.api_token and header.startswith("Basic "):
            user = f"{self.email}/token:{self.api_token}"
            return base64.b64decode(header[6:]).decode() == user
        return False

    def _next_failure(self) -> _Failure | None:
        for failure in self._failures:
            if failure.after > 0:
                failure.after -= 1
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _sorted(self, obj: str) -> list[Record]:
        with self._lock:
            return sorted((dict(r) for r in self.records[obj]), key=_order)

    def _page_size(self, params: dict[str, str], default: int, largest: int) -> int:
        raw = params.get("per_page") or params.get("page[size]") or str(default)
        if not raw.isdigit() or not 1 <= int(raw) <= largest:
            raise BadRequest(f"page size must be 1 to {largest}")
        return int(raw)

    def _start_time(self, params: dict[str, str]) -> int:
        raw = params.get("start_time", "")
        if not raw.lstrip("-").isdigit():
            raise BadRequest("start_time must be a Unix time")
        return int(raw)

    def _organizations(self, params: dict[str, str]) -> dict[str, Any]:
        start = self._start_time(params)
        size = self._page_size(params, EXPORT_PAGE, EXPORT_PAGE)
        changed = [r for r in self._sorted("organizations") if _order(r)[0] >= start]
        page = changed[:size]
        if page:  # never split a second between two pages
            last = _order(page[-1])[0]
            page = [r for r in changed if _order(r)[0] <= last]
        end_time = _order(page[-1])[0] if page else start
        end_of_stream = len(page) == len(changed)
        return {
            "organizations": page,
            "next_page": self._url("/api/v2/incremental/organizations.json",
                                   {"per_page": size, "start_time": end_time}),
            "end_time": end_time,
            "count": len(page),
            "end_of_stream": end_of_stream,
        }

    def _tickets(self, params: dict[str, str]) -> dict[str, Any]:
        tickets = self._sorted("tickets")
        if "cursor" in params:
            try:
                position = _decode(params["cursor"])
            except ValueError:
                raise BadRequest("invalid cursor") from None
            after = (position["t"], position["id"])
            size = position["n"]
            changed = [r for r in tickets if _order(r) > after]
        else:
            start = self._start_time(params)
            size = self._page_size(params, EXPORT_PAGE, EXPORT_PAGE)
            after = (start, -1)  # just before the first record of the start second
            changed = [r for r in tickets if _order(r)[0] >= start]
        page = changed[:size]
        last = _order(page[-1]) if page else after
        after_cursor = _encode({"t": last[0], "id": last[1], "n": size})
        body: dict[str, Any] = {
            "tickets": page,
            "after_url": self._url("/api/v2/incremental/tickets/cursor.json",
                                   {"cursor": after_cursor}),
            "after_cursor": after_cursor,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": len(page) == len(changed),
        }
        if "metric_sets" in params.get("include", "").split(","):
            ids = {r["id"] for r in page}
            with self._lock:
                body["metric_sets"] = [dict(m) for m in self.records["metric_sets"]
                                       if m["ticket_id"] in ids]
        return body

    def _ratings(self, params: dict[str, str]) -> dict[str, Any]:
        size = self._page_size(params, LIST_PAGE, LIST_PAGE)
        start = self._start_time(params) if "start_time" in params else None
        ratings = self._sorted("satisfaction_ratings")
        if start is not None:
            ratings = [r for r in ratings if _order(r)[0] >= start]
        score = params.get("score")
        if score == "received":
            ratings = [r for r in ratings if r.get("score") in ANSWERED]
        elif score:
            ratings = [r for r in ratings if r.get("score") == score]
        if "page[after]" in params:
            try:
                position = _decode(params["page[after]"])
            except ValueError:
                raise BadRequest("invalid page[after]") from None
            ratings = [r for r in ratings if _order(r) > (position["t"], position["id"])]
        page = ratings[:size]
        has_more = len(ratings) > size
        after = _encode(dict(zip(("t", "id"), _order(page[-1]), strict=True))) if page else None
        query = {k: v for k, v in params.items() if k != "page[after]"}
        return {
            "satisfaction_ratings": page,
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": None},
            "links": {"next": self._url("/api/v2/satisfaction_ratings.json",
                                        {**query, "page[after]": after}) if has_more else None,
                      "prev": None},
        }

    def _show_many(self, params: dict[str, str]) -> dict[str, Any]:
        wanted = {int(i) for i in params.get("ids", "").split(",") if i.strip().isdigit()}
        with self._lock:
            found = [dict(r) for r in self.records["tickets"] if r["id"] in wanted]
        return {"tickets": found, "next_page": None, "previous_page": None,
                "count": len(found)}

    def _url(self, path: str, params: dict[str, Any]) -> str:
        return f"{self.url}{path}?" + "&".join(f"{k}={v}" for k, v in params.items())

    # -- serving --

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Zendesk is not started")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_file(self) -> str:
        if self._dir is None:
            raise RuntimeError("the fake Zendesk is not started")
        return str(self._dir / "ca.pem")

    def start(self) -> FakeZendesk:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-zendesk-"))
        cert, key = certificates(self._dir, "Fake Zendesk test CA")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the http.server hook's name)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body, extra = fake.answer("GET", self.path, headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-zendesk", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeZendesk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
