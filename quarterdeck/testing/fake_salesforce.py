"""A local Salesforce REST API for tests and benchmarks: SOQL queries over fixture records.

It answers the query resources the way Salesforce documents them — `query` and `queryAll`
(`/services/data/vXX.X/query/?q=SELECT …`), batches of `batchSize` records
(`Sforce-Query-Options` header) with `done`, `totalSize` and a `nextRecordsUrl` to the next
batch, errors as `[{"message": …, "errorCode": …}]` — over HTTPS with a certificate of its
own, because simple-salesforce only speaks HTTPS. Point a client at it with
`instance_url=fake.url` and trust `fake.ca_file` (e.g. `REQUESTS_CA_BUNDLE`).

The SOQL it understands is a small subset: `SELECT fields FROM Object [WHERE condition]
[ORDER BY fields] [LIMIT n]`, where a condition combines `field op value` (`=`, `!=`, `<`,
`<=`, `>`, `>=`, `IN (…)`) with AND, OR, NOT and parentheses over strings, dateTimes,
numbers, TRUE, FALSE and NULL. A field a record set never had is an INVALID_FIELD error, as
it is in an org without it.

Example::

    with FakeSalesforce.from_fixtures(folder) as fake:
        fake.fail(500, after=1)            # the second request fails
        sf = Salesforce(instance_url=fake.url, session_id=fake.token)
        fake.queries("Account")            # the SOQL it was sent
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from quarterdeck.testing.tls import certificates

Record = dict[str, Any]
DEFAULT_BATCH = 2000
ERROR_BODIES = {
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests."),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if "
                               "you contact support: 1538947615-18640 (-1120695712)"),
    503: ("SERVER_UNAVAILABLE", "Server unavailable."),
}


class SoqlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- SOQL ----------------------------------------------------------------------------------

_QUERY = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)"
                    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
                    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$", re.I | re.S)
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|=|<|>)|"
                    r"(?P<punct>[(),])|(?P<word>[^\s(),'<>=!]+))")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


def _datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and _DATETIME.match(value):
        return _datetime(value)
    return value


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, _comparable(value) if value is not None else 0)


def _lookup(record: Record, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class _Where:
    """A recursive-descent parser of a WHERE condition into a record predicate."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        self.fields: set[str] = set()  # the fields the condition reads
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                if text[pos:].strip():
                    raise SoqlError("MALFORMED_QUERY", f"unexpected token at {text[pos:]!r}")
                break
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", "unexpected end of WHERE")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self):
        predicate = self.disjunction()
        if self.peek() is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token {self.peek()!r}")
        return predicate

    def disjunction(self):
        parts = [self.conjunction()]
        while (self.peek() or "").upper() == "OR":
            self.take()
            parts.append(self.conjunction())
        return lambda r: any(p(r) for p in parts)

    def conjunction(self):
        parts = [self.factor()]
        while (self.peek() or "").upper() == "AND":
            self.take()
            parts.append(self.factor())
        return lambda r: all(p(r) for p in parts)

    def factor(self):
        if self.peek() == "(":
            self.take()
            inner = self.disjunction()
            if self.take()[1] != ")":
                raise SoqlError("MALFORMED_QUERY", "expected )")
            return inner
        if (self.peek() or "").upper() == "NOT":
            self.take()
            inner = self.factor()
            return lambda r: not inner(r)
        return self.comparison()

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        upper = text.upper()
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
        if upper == "NULL":
            return None
        if _DATETIME.match(text):
            return _datetime(text)
        try:
            return Decimal(text)
        except ArithmeticError:
            raise SoqlError("MALFORMED_QUERY", f"not a value: {text!r}") from None

    def comparison(self):
        kind, name = self.take()
        if kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"expected a field, got {name!r}")
        self.fields.add(name)
        if (self.peek() or "").upper() == "IN":
            self.take()
            if self.take()[1] != "(":
                raise SoqlError("MALFORMED_QUERY", "expected ( after IN")
            values = [self.value()]
            while self.peek() == ",":
                self.take()
                values.append(self.value())
            if self.take()[1] != ")":
                raise SoqlError("MALFORMED_QUERY", "expected ) after the IN list")
            return lambda r: _comparable(_lookup(r, name)) in values
        kind, op = self.take()
        if kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"expected an operator after {name}")
        expected = self.value()

        def compare(record: Record) -> bool:
            actual = _comparable(_lookup(record, name))
            if isinstance(actual, float | int) and not isinstance(actual, bool):
                actual = Decimal(str(actual))
            if op == "=":
                return actual == expected
            if op == "!=":
                return actual != expected
            if actual is None or expected is None:
                return False
            return {"<": actual < expected, "<=": actual <= expected,
                    ">": actual > expected, ">=": actual >= expected}[op]

        return compare


@dataclass
class Query:
    """A parsed SOQL query."""

    obj: str
    fields: list[str]
    where: Any = None  # a record predicate, or None
    where_fields: set[str] = field(default_factory=set)
    order: list[str] = field(default_factory=list)
    limit: int | None = None


def parse_soql(text: str) -> Query:
    match = _QUERY.match(text)
    if not match:
        raise SoqlError("MALFORMED_QUERY", "expected SELECT fields FROM object …")
    fields = [f.strip() for f in match["fields"].split(",") if f.strip()]
    query = Query(match["obj"], fields)
    if match["where"]:
        parser = _Where(match["where"])
        query.where = parser.parse()
        query.where_fields = parser.fields
    if match["order"]:
        query.order = [f.strip().split()[0] for f in match["order"].split(",")]
    if match["limit"]:
        query.limit = int(match["limit"])
    return query


# --- the records and the server ------------------------------------------------------------

@dataclass
class LoggedRequest:
    method: str
    path: str
    soql: str | None
    headers: dict[str, str]


@dataclass
class _Failure:
    status: int
    times: int | None  # None: until `recover()`
    after: int
    retry_after: float | None
    error_code: str | None


class FakeSalesforce:
    """Records by object (as the REST API returns them), queried over a local HTTPS server."""

    def __init__(self, records: dict[str, list[Record]], *, token: str = "00DFAKE!session",
                 version: str = "59.0") -> None:
        self.records = {obj: [dict(r) for r in recs] for obj, recs in records.items()}
        self.token = token
        self.version = version
        self.requests: list[LoggedRequest] = []
        self.batch_cap: int | None = None  # Salesforce may answer smaller batches than asked
        self._failures: list[_Failure] = []
        self._cursors: dict[str, tuple[list[Record], int, str]] = {}
        self._queries = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._dir: Path | None = None

    @classmethod
    def from_fixtures(cls, folder: Path, **kwargs: Any) -> FakeSalesforce:
        """Records from `<Object>.json` files, each a query response of that object."""
        records = {}
        for path in sorted(Path(folder).glob("*.json")):
            records[path.stem] = json.loads(path.read_text(encoding="utf-8"))["records"]
        return cls(records, **kwargs)

    # -- control, from the test's side --

    def upsert(self, obj: str, record: Record) -> None:
        """Add a record, or replace the one with its Id (a change in Salesforce)."""
        with self._lock:
            rows = self.records.setdefault(obj, [])
            for i, existing in enumerate(rows):
                if existing["Id"] == record["Id"]:
                    rows[i] = {**existing, **record}
                    return
            rows.append(dict(record))

    def fail(self, status: int, *, times: int | None = 1, after: int = 0,
             retry_after: float | None = None, error_code: str | None = None) -> None:
        """Answer `status` to the next `times` requests (None: until `recover()`), after
        letting `after` requests through."""
        with self._lock:
            self._failures.append(_Failure(status, times, after, retry_after, error_code))

    def expire_queries(self) -> None:
        """Forget every query's remaining batches, as Salesforce does after 15 idle minutes."""
        with self._lock:
            self._cursors.clear()

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    def queries(self, obj: str | None = None) -> list[str]:
        """The SOQL of every query request, optionally only those over `obj`."""
        found = [r.soql for r in self.requests if r.soql]
        if obj is None:
            return found
        return [q for q in found if re.search(rf"\bFROM\s+{re.escape(obj)}\b", q)]

    # -- the REST API --

    def answer(self, method: str, target: str, headers: dict[str, str]
               ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, extra headers) for one request."""
        split = urlsplit(target)
        soql = parse_qs(split.query).get("q", [None])[0]
        with self._lock:
            self.requests.append(LoggedRequest(method, split.path, soql, dict(headers)))
            failure = self._next_failure()
        if failure:
            code, message = ERROR_BODIES.get(failure.status, ("UNKNOWN_EXCEPTION", "error"))
            extra = ({"Retry-After": str(failure.retry_after)}
                     if failure.retry_after is not None else {})
            return failure.status, [{"message": message,
                                     "errorCode": failure.error_code or code}], extra
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, [{"message": "Session expired or invalid",
                          "errorCode": "INVALID_SESSION_ID"}], {}
        match = re.fullmatch(r"/services/data/v(\d+\.\d)/(query|queryAll)/?(?P<more>[^/]*)",
                             split.path)
        if method != "GET" or not match:
            return 404, [{"message": "The requested resource does not exist",
                          "errorCode": "NOT_FOUND"}], {}
        try:
            if match["more"]:
                return 200, self._more(match["more"]), {}
            if not soql:
                raise SoqlError("MALFORMED_QUERY", "the q parameter is missing")
            return 200, self._query(soql, match[2] == "queryAll", self._batch(headers)), {}
        except SoqlError as exc:
            return 400, [{"message": str(exc), "errorCode": exc.code}], {}

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

    def _batch(self, headers: dict[str, str]) -> int:
        match = re.search(r"batchSize=(\d+)", headers.get("sforce-query-options", ""))
        size = int(match.group(1)) if match else DEFAULT_BATCH
        return min(size, self.batch_cap) if self.batch_cap else size

    def _query(self, soql: str, include_deleted: bool, batch: int) -> dict[str, Any]:
        query = parse_soql(soql)
        with self._lock:
            if query.obj not in self.records:
                raise SoqlError("INVALID_TYPE", f"sObject type '{query.obj}' is not supported.")
            rows = [dict(r) for r in self.records[query.obj]]
        known = {"Id", "IsDeleted", "SystemModstamp"} | {k for r in rows for k in r}
        for name in [*query.fields, *query.where_fields, *query.order]:
            if name.split(".")[0] not in known:
                raise SoqlError("INVALID_FIELD", f"No such column '{name}' on entity "
                                f"'{query.obj}'.")
        if not include_deleted:
            rows = [r for r in rows if not r.get("IsDeleted")]
        if query.where:
            rows = [r for r in rows if query.where(r)]
        for name in reversed(query.order):  # NULLS FIRST, as SOQL sorts ascending
            rows.sort(key=lambda r, n=name: _sort_key(_lookup(r, n)))
        if query.limit is not None:
            rows = rows[:query.limit]
        projected = [self._project(query.obj, r, query.fields) for r in rows]
        with self._lock:
            locator = f"01gFAKE{self._queries:08d}"
            self._queries += 1
            self._cursors[locator] = (projected, batch, query.obj)
        return self._batch_of(locator, 0)

    def _more(self, token: str) -> dict[str, Any]:
        locator, _, offset = token.rpartition("-")
        with self._lock:
            known = locator in self._cursors
        if not known or not offset.isdigit():
            raise SoqlError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._batch_of(locator, int(offset))

    def _batch_of(self, locator: str, offset: int) -> dict[str, Any]:
        with self._lock:
            rows, batch, _ = self._cursors[locator]
        end = offset + batch
        body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            body["nextRecordsUrl"] = f"/services/data/v{self.version}/query/{locator}-{end}"
        body["records"] = rows[offset:end]
        return body

    def _project(self, obj: str, record: Record, fields: list[str]) -> Record:
        out: Record = {"attributes": {
            "type": obj, "url": f"/services/data/v{self.version}/sobjects/{obj}/{record['Id']}"}}
        for name in fields:
            head, _, rest = name.partition(".")
            if not rest:
                out[head] = record.get(head)
                continue
            parent = record.get(head)
            if not isinstance(parent, dict):
                out[head] = None
                continue
            kept = out.setdefault(head, {"attributes": parent.get("attributes", {})})
            kept[rest] = parent.get(rest)
        return out

    # -- serving --

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Salesforce is not started")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_file(self) -> str:
        if self._dir is None:
            raise RuntimeError("the fake Salesforce is not started")
        return str(self._dir / "ca.pem")

    def start(self) -> FakeSalesforce:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-salesforce-"))
        cert, key = certificates(self._dir, "Fake Salesforce test CA")
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
                self.send_header("Content-Type", "application/json;charset=UTF-8")
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
        threading.Thread(target=server.serve_forever, name="fake-salesforce",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeSalesforce:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
