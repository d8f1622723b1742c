"""Zendesk Support through zenpy: organizations, tickets and satisfaction ratings, incrementally.

Each object is read through the Zendesk API built for keeping a copy current, oldest change
first, one zenpy call per page:

- **organizations**: the time-based incremental export
  (`/api/v2/incremental/organizations.json?start_time=T`, `organizations.incremental`). The
  next page starts at the newest change of the last one, so the records of that second come
  again; the cursor `{"start_time": T, "seen": [ids changed in T]}` skips them.
- **tickets**: the cursor-based incremental export
  (`/api/v2/incremental/tickets/cursor.json`, `tickets.incremental`), with each ticket's
  metric set side-loaded (`include=metric_sets`) for when it was solved. The cursor is the
  export's own `after_cursor`; it keeps working after `end_of_stream`, so the next sync asks
  only for what changed since.
- **satisfaction_ratings**: the answered ratings (`/api/v2/satisfaction_ratings.json?
  score=received&start_time=T`, cursor pagination through `links.next`), with a cursor like
  the organizations'. A rating names its ticket only, so the tickets of each page are asked
  for in one `show_many` call to find their organizations (the accounts).

Credentials (environment `QUARTERDECK_<SOURCE>_<KEY>` or `secrets.yml`): `email` and
`api_token`, or `oauth_token`. The option `subdomain` names the account, unless the source's
`base_url` gives the address.

Retries are ours alone: zenpy's session would retry 503s through urllib3 and sleep out every
429's Retry-After itself, so the connector hands zenpy a plain session whose response hook
turns a 429 into an error before zenpy sees it, and `call_with_retries` waits (honouring
Retry-After) and retries up to `max_retries`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from pydantic import ValidationError
from zenpy import Zenpy
from zenpy.lib.exception import APIException
from zenpy.lib.generator import BaseResultGenerator

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.config import Source
from quarterdeck.sources.connector import Connector, Cursor, Page
from quarterdeck.sources.credentials import Credentials, MissingCredential, env_name
from quarterdeck.sources.retry import Classification, RetryPolicy, call_with_retries
from quarterdeck.sources.zendesk_mapping import (
    ZendeskOptions,
    account_row,
    parse_datetime,
    survey_row,
    ticket_row,
    time_cursor,
    unseen,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
ZENDESK_DOMAIN = "zendesk.com"
EXPORT_PAGE = 1000  # the incremental exports' default and largest page
LIST_PAGE = 100  # cursor pagination's largest page (and show_many's most ids)
REQUEST_TIMEOUT_SECONDS = 120


def retry_after(value: str | None) -> float | None:
    """Seconds of a Retry-After header (Zendesk sends whole seconds)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def zendesk_status(exc: BaseException) -> Classification:
    """HTTP status and Retry-After of an error answer: zenpy's `APIException` (4xx/5xx with a
    JSON body) or the `HTTPError` raised for a 429 by `refuse_rate_limits`."""
    response = getattr(exc, "response", None)
    if isinstance(exc, APIException | requests.HTTPError) and response is not None:
        return response.status_code, retry_after(response.headers.get("Retry-After"))
    return None, None


def refuse_rate_limits(response: requests.Response, *args: Any, **kwargs: Any
                       ) -> requests.Response:
    """A session response hook: a 429 becomes an `HTTPError` before zenpy would sleep out its
    Retry-After on its own, so `call_with_retries` alone decides how long to wait."""
    if response.status_code == 429:
        raise requests.HTTPError(f"429 Too Many Requests ({response.reason})",
                                 response=response)
    return response


def page_json(result: Any) -> dict[str, Any]:
    """The JSON of the page a zenpy call returned. zenpy hands back a result generator over
    deserialized objects; its page's JSON also holds what the objects do not: the
    side-loaded `metric_sets`, `after_cursor`, `end_of_stream`, `meta`."""
    if not isinstance(result, BaseResultGenerator):
        raise QuarterdeckError(f"zenpy returned {type(result).__name__}, not a page")
    return result._response_json


class ZendeskConnector(Connector):
    kind = "zendesk"
    objects = ("organizations", "tickets", "satisfaction_ratings")
    secrets = ("email", "api_token", "oauth_token")
    object_entities = {"organizations": "accounts", "tickets": "tickets",
                       "satisfaction_ratings": "surveys"}

    def __init__(self, name: str, source: Source, credentials: Credentials) -> None:
        super().__init__(name, source, credentials)
        try:
            self.options = ZendeskOptions.model_validate(source.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors())
            raise QuarterdeckError(f"source {name!r}: options: {problems}") from None
        self.subdomain, self.domain = self.address()

    def address(self) -> tuple[str, str]:
        """zenpy's (subdomain, domain): it builds `https://{subdomain}.{domain}/api/v2/…`.

        A `base_url` is split at its host's first dot (`https://zd-proxy.corp.example:8443`
        → `zd-proxy`, `corp.example:8443`), which gives that address back exactly."""
        base_url = self.source.base_url
        if not base_url:
            if not self.options.subdomain:
                raise QuarterdeckError(f"source {self.name!r}: options: subdomain is required "
                                       "(acme for acme.zendesk.com), or set base_url")
            return self.options.subdomain, ZENDESK_DOMAIN
        split = urlsplit(base_url)
        subdomain, dot, domain = split.netloc.partition(".")
        if split.scheme != "https" or "@" in split.netloc or not dot or not subdomain:
            raise QuarterdeckError(f"source {self.name!r}: base_url must be an https:// address "
                                   "whose host has a dot (zenpy only speaks HTTPS to "
                                   "subdomain.domain)")
        if split.path.rstrip("/") not in ("", "/api/v2") or split.query:
            raise QuarterdeckError(f"source {self.name!r}: base_url cannot carry a path "
                                   "(zenpy always asks for /api/v2/…)")
        return subdomain, domain

    def page_size(self, largest: int) -> int:
        """Records asked for per page: `page_size` up to the API's largest, else the largest."""
        if "page_size" not in self.source.model_fields_set:
            return largest
        return min(largest, self.source.page_size)

    def _call(self, call: Callable[[], T], what: str) -> T:
        return call_with_retries(call, classify=zendesk_status,
                                 policy=RetryPolicy.of(self.source), what=what)

    def client(self) -> Zenpy:
        """A zenpy client over a plain session: no urllib3 retries, 429s left to us."""
        session = requests.Session()
        session.hooks["response"].append(refuse_rate_limits)
        oauth = self.credentials.get("oauth_token")
        if oauth is not None and oauth.get_secret_value():
            auth = {"oauth_token": oauth.get_secret_value()}
        else:
            email, token = self.credentials.get("email"), self.credentials.get("api_token")
            if email is None or token is None:
                raise MissingCredential(
                    f"source {self.name!r} needs an API token or an OAuth token: set "
                    f"{env_name(self.name, 'email')} and {env_name(self.name, 'api_token')}, "
                    f"or {env_name(self.name, 'oauth_token')} (or put them in secrets.yml)")
            auth = {"email": self.credentials.require("email"),
                    "token": self.credentials.require("api_token")}
        return Zenpy(subdomain=self.subdomain, domain=self.domain, session=session,
                     timeout=REQUEST_TIMEOUT_SECONDS, disable_cache=True, **auth)

    def pages(self, obj: str, cursor: Cursor) -> Iterator[Page]:
        zenpy = self.client()
        read = {"organizations": self.organizations, "tickets": self.tickets,
                "satisfaction_ratings": self.satisfaction_ratings}[obj]
        try:
            yield from read(zenpy, cursor)
        finally:
            zenpy.tickets.session.close()

    def organizations(self, zenpy: Zenpy, cursor: Cursor) -> Iterator[Page]:
        """The time-based export from the cursor's second; repeated records skipped."""
        start = cursor["start_time"] if cursor else self.options.start_time
        size = self.page_size(EXPORT_PAGE)
        while True:
            body = page_json(self._call(
                partial(zenpy.organizations.incremental, start_time=start, per_page=size),
                "zendesk organizations"))
            fresh = unseen(body.get("organizations") or [], cursor)
            if fresh:
                cursor = time_cursor(fresh, cursor)
                rows = [account_row(r, self.options, self.id) for r in fresh]
                yield Page({"accounts": rows}, cursor, newest=_newest(fresh))
            if body.get("end_of_stream") or not body.get("organizations"):
                return
            if fresh:
                start = cursor["start_time"]
            else:  # a page of one second, all read already: that second is done
                start = max(int(body.get("end_time") or start), start + 1)
                cursor = {"start_time": start, "seen": []}

    def tickets(self, zenpy: Zenpy, cursor: Cursor) -> Iterator[Page]:
        """The cursor-based export, from the stored `after_cursor` or the start time."""
        after = cursor.get("after_cursor") if cursor else None
        size = self.page_size(EXPORT_PAGE)
        while True:
            if after:
                # zenpy puts query values into the URL as they are: quote the opaque cursor
                call = partial(zenpy.tickets.incremental, cursor=quote(after, safe=""),
                               include=["metric_sets"])
            else:
                call = partial(zenpy.tickets.incremental, start_time=self.options.start_time,
                               include=["metric_sets"], per_page=size)
            body = page_json(self._call(call, "zendesk tickets"))
            records = body.get("tickets") or []
            metric_sets = {m.get("ticket_id"): m for m in body.get("metric_sets") or []}
            following = body.get("after_cursor") or after
            if records or following != after:
                rows = [row for r in records
                        if (row := ticket_row(r, metric_sets.get(r["id"]), self.id))]
                yield Page({"tickets": rows}, {"after_cursor": following},
                           newest=_newest(records), records=len(records))
            if body.get("end_of_stream") or not records or following == after:
                return
            after = following

    def satisfaction_ratings(self, zenpy: Zenpy, cursor: Cursor) -> Iterator[Page]:
        """Answered ratings changed since the cursor's second, page by page through
        `links.next`; each mapped to the organization of its ticket."""
        start = cursor["start_time"] if cursor else self.options.start_time
        result = self._call(
            partial(zenpy.satisfaction_ratings, score="received", start_time=start,
                    cursor_pagination=self.page_size(LIST_PAGE)),
            "zendesk satisfaction_ratings")
        while True:
            body = page_json(result)
            fresh = unseen(body.get("satisfaction_ratings") or [], cursor)
            if fresh:
                organizations = self.organizations_of(zenpy, {r["ticket_id"] for r in fresh})
                rows = [row for r in fresh if (row := survey_row(
                    r, organizations.get(r["ticket_id"]), self.id))]
                cursor = time_cursor(fresh, cursor)
                yield Page({"surveys": rows}, cursor, newest=_newest(fresh), records=len(fresh))
            if not (body.get("meta") or {}).get("has_more"):
                return
            try:
                # zenpy follows links.next; a failed request leaves the page as it was
                self._call(result.handle_pagination, "zendesk satisfaction_ratings")
            except StopIteration:  # zenpy's word for "the next page is empty"
                return

    def organizations_of(self, zenpy: Zenpy, ticket_ids: set[int]) -> dict[int, Any]:
        """Ticket id → its organization id, for tickets that still exist."""
        ids = sorted(ticket_ids)
        found: dict[int, Any] = {}
        for i in range(0, len(ids), LIST_PAGE):
            body = page_json(self._call(partial(zenpy.tickets, ids=ids[i:i + LIST_PAGE]),
                                        "zendesk tickets show_many"))
            found.update((t["id"], t.get("organization_id")) for t in body.get("tickets") or [])
        return found


def _newest(records: list[dict[str, Any]]) -> datetime | None:
    times = [t for r in records if (t := parse_datetime(r.get("updated_at")))]
    return max(times) if times else None
