"""HubSpot through hubspot-api-client: companies, contacts and deals, read incrementally.

Each object is read in three phases, each page's cursor resuming after it:

1. **The first sync lists everything** with the objects API (`GET /crm/v3/objects/<obj>`,
   `limit`, `after`), contacts and deals with their company associations. The server time of
   the first answer (its `Date` header), less a minute, is noted: the listing holds every
   change up to then.
2. **Later syncs search for what changed** (`POST /crm/v3/objects/<obj>/search`) with the
   filter `hs_lastmodifieddate GT <cursor>` (contacts: `lastmodifieddate`), oldest change
   first. Every page is a new search from the last record read (keyset paging) rather than
   the search's `after` offset: a record changed while a sync pages would shift every later
   record down one offset and one of them would be skipped for good, and no search ever
   reaches HubSpot's cap of 10,000 results per query. The search sorts by one property only,
   so records changed in one millisecond come in no set order: the cursor keeps the ids
   already read at its time, and a millisecond holding more records than a page is read on
   its own in id order (`tie_after`). Search results carry no associations: the companies of
   a page's contacts and deals come from one v4 associations batch read.
3. **Archived records** (HubSpot's recycle bin, kept 90 days) are listed with
   `archived=true` after each phase above; those archived since the last such listing load
   with `is_deleted: true`.

Company owners (`hubspot_owner_id`) become emails through the owners API, read once per sync.

Credentials (environment `QUARTERDECK_<SOURCE>_ACCESS_TOKEN` or `secrets.yml`): the access
token of a private app with the scopes `crm.objects.companies.read`,
`crm.objects.contacts.read`, `crm.objects.deals.read` and `crm.objects.owners.read`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import hubspot.crm.associations.v4 as associations_v4
import hubspot.crm.companies as companies_api
import hubspot.crm.contacts as contacts_api
import hubspot.crm.deals as deals_api
import hubspot.crm.owners as owners_api
from hubspot import HubSpot
from pydantic import ValidationError
from urllib3.util.retry import Retry

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.config import Source
from quarterdeck.sources.connector import Connector, Cursor, Page, Row
from quarterdeck.sources.credentials import Credentials
from quarterdeck.sources.hubspot_mapping import (
    MAX_TIE_IDS,
    OBJECTS,
    CrmObject,
    HubSpotOptions,
    account_row,
    contact_row,
    embedded_company,
    millis,
    modified_at,
    opportunity_row,
    parse_datetime,
    primary_companies,
    search_request,
)
from quarterdeck.sources.retry import Classification, RetryPolicy, call_with_retries

T = TypeVar("T")
Phase = Generator[Page, None, dict[str, Any]]  # a phase's pages; it returns the next cursor
log = logging.getLogger(__name__)
MAX_LIST_LIMIT = 100  # the objects and owners APIs' largest page
MAX_SEARCH_LIMIT = 200  # the search API's largest page
REQUEST_TIMEOUT_SECONDS = 120
# How far before the server's clock a listing counts as current: changes HubSpot stamped a
# moment before the listing began are searched for again (an upsert: harmless).
LISTING_MARGIN = timedelta(minutes=1)
API_EXCEPTIONS: tuple[type[Exception], ...] = (
    companies_api.ApiException, contacts_api.ApiException, deals_api.ApiException,
    owners_api.ApiException, associations_v4.ApiException)
# urllib3 under the SDK would retry a 429 or 503 with Retry-After on its own, unlogged and
# unbounded by the source's settings: answers are retried by `call_with_retries` only, and
# urllib3 keeps to re-trying a connection that could not be opened.
NO_STATUS_RETRIES = Retry(total=3, connect=3, read=0, status=0, other=0,
                          respect_retry_after_header=False, raise_on_status=False)
SDK_PACKAGES = {"companies": companies_api, "contacts": contacts_api, "deals": deals_api}


class HubSpotRequestFailed(Exception):
    """A HubSpot request failed for good (after its retries): which one, and HubSpot's
    answer (status, category and message; never the request's headers)."""


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value
    return None


def hubspot_status(exc: BaseException) -> Classification:
    """The HTTP status of an SDK error and the Retry-After it sent, if any."""
    if not isinstance(exc, API_EXCEPTIONS):
        return None, None
    retry_after = None
    if (value := _header(getattr(exc, "headers", None), "retry-after")) is not None:
        try:
            retry_after = float(value)
        except ValueError:
            retry_after = None
    return getattr(exc, "status", None) or None, retry_after


def error_message(exc: Exception) -> str:
    """HubSpot's own words from an error answer (`{"status": "error", "message": …,
    "category": …}`)."""
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None)
    try:
        data = json.loads(body) if body else {}
    except (TypeError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    category = data.get("category") or data.get("errorType")
    message = data.get("message") or getattr(exc, "reason", None) or "no message"
    head = f"HTTP {status}" if status else "no answer"
    return f"{head}: {category}: {message}" if category else f"{head}: {message}"


def server_time(headers: Any) -> datetime:
    """The answer's `Date` (HubSpot's clock), else this machine's."""
    value = _header(headers, "date")
    try:
        return parsedate_to_datetime(value).astimezone(UTC) if value else datetime.now(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


class HubSpotConnector(Connector):
    kind = "hubspot"
    objects = tuple(OBJECTS)
    secrets = ("access_token",)
    object_entities = {name: o.entity for name, o in OBJECTS.items()}

    def __init__(self, name: str, source: Source, credentials: Credentials) -> None:
        super().__init__(name, source, credentials)
        try:
            self.options = HubSpotOptions.model_validate(source.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors())
            raise QuarterdeckError(f"source {name!r}: options: {problems}") from None
        if source.base_url and not source.base_url.startswith(("https://", "http://")):
            raise QuarterdeckError(f"source {name!r}: base_url must be an http(s):// address")
        self.policy = RetryPolicy.of(source)
        self.list_limit = min(source.page_size, MAX_LIST_LIMIT)
        self.search_limit = min(source.page_size, MAX_SEARCH_LIMIT)
        self._client: HubSpot | None = None
        self._apis: dict[str, Any] = {}
        self._owners: dict[str, str] | None = None

    # --- the SDK -----------------------------------------------------------------------------

    @property
    def client(self) -> HubSpot:
        if self._client is None:
            settings: dict[str, Any] = {}
            if self.source.base_url:
                # each API client's Configuration(host=…), set by the SDK from this setting
                settings["host"] = self.source.base_url.rstrip("/")
            self._client = HubSpot(access_token=self.credentials.require("access_token"),
                                   retry=NO_STATUS_RETRIES, **settings)
        return self._client

    def _api(self, name: str, make: Callable[[], T]) -> T:
        """One SDK API object per kind (each holds its own connection pool)."""
        if name not in self._apis:
            self._apis[name] = make()
        return self._apis[name]

    def _call(self, what: str, call: Callable[[], T]) -> T:
        what = f"{self.name} {what}"
        try:
            return call_with_retries(call, classify=hubspot_status, policy=self.policy,
                                     what=what)
        except API_EXCEPTIONS as exc:
            raise HubSpotRequestFailed(f"{what}: {error_message(exc)}") from None

    @staticmethod
    def _json(api: Any, data: Any) -> Any:
        """An SDK model as the API's JSON (camelCase keys, ISO datetimes)."""
        return api.api_client.sanitize_for_serialization(data)

    def _list_page(self, obj: CrmObject, after: str | None, archived: bool
                   ) -> tuple[dict[str, Any], Any]:
        """One page of the objects API, and the answer's headers."""
        api = self._api(f"{obj.name} basic", lambda: getattr(self.client.crm, obj.name).basic_api)
        params: dict[str, Any] = {"limit": self.list_limit, "properties": obj.properties(
            self.options), "archived": archived, "_request_timeout": REQUEST_TIMEOUT_SECONDS}
        if obj.needs_company:
            params["associations"] = ["companies"]
        if after:
            params["after"] = after
        what = f"{obj.name} list" + (" (archived)" if archived else "")
        data, _, headers = self._call(what, lambda: api.get_page_with_http_info(**params))
        return self._json(api, data), headers

    def _search(self, obj: CrmObject, body: dict[str, Any]) -> dict[str, Any]:
        api = self._api(f"{obj.name} search",
                        lambda: getattr(self.client.crm, obj.name).search_api)
        request = SDK_PACKAGES[obj.name].PublicObjectSearchRequest(**{
            "filter_groups": body["filterGroups"], "sorts": body["sorts"],
            "properties": body["properties"], "limit": body["limit"]})
        data = self._call(f"{obj.name} search", lambda: api.do_search(
            request, _request_timeout=REQUEST_TIMEOUT_SECONDS))
        return self._json(api, data)

    def _associated_companies(self, obj: CrmObject, ids: list[str]) -> dict[str, str]:
        """Record id → primary company id, by one v4 associations batch read."""
        if not ids:
            return {}
        api = self._api("associations", lambda: self.client.crm.associations.v4.batch_api)
        batch = associations_v4.BatchInputPublicFetchAssociationsBatchRequest(inputs=[
            associations_v4.PublicFetchAssociationsBatchRequest(id=i) for i in ids])
        data = self._call(f"{obj.name} companies", lambda: api.get_page(
            obj.name, "companies", batch, _request_timeout=REQUEST_TIMEOUT_SECONDS))
        return primary_companies(self._json(api, data), obj.name)

    def owners(self) -> dict[str, str]:
        """Owner id → email, of active and deactivated owners (read once)."""
        if self._owners is None:
            api = self._api("owners", lambda: self.client.crm.owners.owners_api)
            found: dict[str, str] = {}
            for archived in (True, False):  # an active owner's email wins
                after = None
                while True:
                    params: dict[str, Any] = {"limit": MAX_LIST_LIMIT, "archived": archived,
                                              "_request_timeout": REQUEST_TIMEOUT_SECONDS}
                    if after:
                        params["after"] = after
                    data = self._json(api, self._call(
                        "owners", lambda p=params: api.get_page(**p)))
                    for owner in data.get("results") or []:
                        if owner.get("email"):
                            found[str(owner["id"])] = owner["email"]
                    after = _next_after(data)
                    if not after:
                        break
            self._owners = found
        return self._owners

    # --- phases ------------------------------------------------------------------------------

    def pages(self, obj: str, cursor: Cursor) -> Iterator[Page]:
        spec = OBJECTS[obj]
        state = dict(cursor or {"phase": "list"})
        if state["phase"] == "list":
            state = yield from self._listing(spec, state)
        elif state["phase"] == "search":
            state = yield from self._changes(spec, state)
        yield from self._archived(spec, state)

    def _listing(self, obj: CrmObject, state: dict[str, Any]) -> Phase:
        """Every live record, in HubSpot's order; the last page hands over to archived."""
        after, since = state.get("after"), state.get("since")
        while True:
            data, headers = self._list_page(obj, after, archived=False)
            if since is None:
                since = millis(server_time(headers) - LISTING_MARGIN)
            records = data.get("results") or []
            after = _next_after(data)
            if after:
                state = {"phase": "list", "after": after, "since": since}
            else:
                state = {"phase": "archived", "after": None, "until": None,
                         "archived_since": None, "changes": {"modified": since, "ids": []}}
            yield self.page(obj, records, state, embedded=True)
            if not after:
                return state

    def _changes(self, obj: CrmObject, state: dict[str, Any]) -> Phase:
        """What changed after the cursor, oldest first, one search per page."""
        changes = dict(state["changes"])
        while True:
            data = self._search(obj, search_request(obj, self.options, changes,
                                                    self.search_limit))
            results = data.get("results") or []
            more = _next_after(data) is not None
            # a crowded millisecond read to its end: the search goes on after it
            done = not more and "tie_after" not in changes
            fresh, changes = advance(obj, changes, results, more)
            state = {"phase": "archived" if done else "search", "after": None, "until": None,
                     "archived_since": state.get("archived_since"), "changes": changes}
            yield self.page(obj, fresh, state, embedded=False)
            if done:
                return state

    def _archived(self, obj: CrmObject, state: dict[str, Any]) -> Iterator[Page]:
        """Records archived since the last listing of archived ones, as deleted rows."""
        after, until = state.get("after"), state.get("until")
        since = state.get("archived_since")
        while True:
            data, headers = self._list_page(obj, after, archived=True)
            if until is None:
                until = millis(server_time(headers) - LISTING_MARGIN)
            records = [r for r in data.get("results") or []
                       if since is None or millis(r.get("archivedAt") or r.get("updatedAt"))
                       >= since]
            after = _next_after(data)
            if after:
                state = {**state, "phase": "archived", "after": after, "until": until}
            else:
                state = {"phase": "search", "changes": state["changes"],
                         "archived_since": until}
            yield self.page(obj, records, state, embedded=False)
            if not after:
                return

    # --- rows --------------------------------------------------------------------------------

    def page(self, obj: CrmObject, records: list[dict[str, Any]], cursor: dict[str, Any], *,
             embedded: bool) -> Page:
        """Records as a page of rows. `embedded`: the records carry their associations (a
        listing); else the companies of those without are read in one batch."""
        rows: list[Row] = []
        if obj.name == "companies":
            owners = self.owners() if records else {}
            rows = [account_row(r, self.options, owners, self.id) for r in records]
        elif records:
            companies = {r["id"]: embedded_company(r, obj.name) for r in records}
            missing = [] if embedded else [i for i, c in companies.items() if c is None]
            companies.update(self._associated_companies(obj, missing))
            make = contact_row if obj.name == "contacts" else opportunity_row
            rows = [row for r in records
                    if (row := make(r, companies.get(r["id"]), self.options, self.id))]
        newest = max((parse_datetime(modified_at(r, obj)) for r in records), default=None)
        return Page({obj.entity: rows}, cursor, newest=newest, records=len(records))


def _next_after(data: Mapping[str, Any]) -> str | None:
    return (((data.get("paging") or {}).get("next")) or {}).get("after") or None


def advance(obj: CrmObject, changes: dict[str, Any], results: list[dict[str, Any]],
            more: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records of a search answer not read before, and the cursor after them.

    Normal searches skip the cursor's `ids` (read at its very millisecond) and move the
    cursor to the last record's time, keeping the ids read at that time. A full page all
    at the cursor's time means that millisecond holds more records than a page: it is then
    read alone in id order (`tie_after`), and after it the search goes on past it.
    """
    t = changes["modified"]
    if "tie_after" in changes:
        after = results[-1]["id"] if results else changes["tie_after"]
        if more:
            return results, {"modified": t, "tie_after": after}
        return results, {"modified": t, "ids": []}
    seen = set(changes.get("ids") or [])
    fresh = [r for r in results if not (modified_at(r, obj) == t and r["id"] in seen)]
    if not results:
        return fresh, changes
    if more and all(modified_at(r, obj) == t for r in results):
        return fresh, {"modified": t, "tie_after": None}
    last = modified_at(results[-1], obj)
    at_last = [r["id"] for r in results if modified_at(r, obj) == last]
    kept = [*(changes.get("ids") or []), *at_last] if last == t else at_last
    return fresh, {"modified": last, "ids": list(dict.fromkeys(kept))[-MAX_TIE_IDS:]}
