"""Stripe: customers, subscriptions and invoices through the official SDK, kept current by events.

Stripe's list endpoints filter by creation time only, while subscriptions and invoices change
long after they are created. So each object is synced in two phases:

1. **The first sync lists everything** (`limit` = page_size, `starting_after` the last id
   seen). Before listing, it notes the newest event of the object's types: the listing
   reflects every change up to that event. The cursor after each page holds the last id seen
   and that event, so a listing that stops resumes where it stopped.
2. **Later syncs read the Events API** from that event on, oldest first: each request asks
   for the events right after the last one applied (`ending_before` = its id, the page's
   events reversed into the order they happened), keeps each object's newest state
   (`data.object`) in the page, and the cursor moves to the newest event applied. Pages load
   in the order things happened, so an older state never replaces a newer one, and a sync
   that stops resumes after its last loaded page.

An event renders its object at the API version of its time and names a subscription's
discounts by id only; such a subscription is read again, with its discounts expanded.

Stripe keeps events for 30 days. A cursor whose events may be gone (nothing read for 29
days) starts over with a full listing; an event too old to page from is found again by
time (`created[gt]`).

Example (`definitions/sources.yml`)::

    sources:
      stripe:
        kind: stripe
        options: {external_id_metadata: {hubspot: hubspot_company_id}}

with the secret key in `QUARTERDECK_STRIPE_API_KEY`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import stripe

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources import stripe_mapping as mapping
from quarterdeck.sources.connector import Connector, Cursor, Page, Row
from quarterdeck.sources.retry import Classification, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)
API_VERSION = mapping.API_VERSION
MAX_LIMIT = 100  # Stripe's largest page
EVENT_RETENTION_SECONDS = 29 * 86_400  # Stripe keeps events 30 days; a day to spare
SUBSCRIPTION_EXPAND = ["discounts", "items.data.discounts"]


def now() -> float:
    """Seconds since the epoch (the clock that ages cursors)."""
    return time.time()


@dataclass(frozen=True)
class Feed:
    """How one object is listed, which events change it, and how it maps to the contract."""

    service: str  # the StripeClient.v1 service
    entity: str
    list_params: Mapping[str, Any]
    event_types: tuple[str, ...]


FEEDS = {
    "customers": Feed("customers", "accounts", {}, (
        "customer.created", "customer.updated", "customer.deleted")),
    "subscriptions": Feed(
        "subscriptions", "subscriptions",
        # every status (the default leaves out canceled ones), discounts with their coupons
        {"status": "all", "expand": [f"data.{e}" for e in SUBSCRIPTION_EXPAND]}, (
            "customer.subscription.created", "customer.subscription.updated",
            "customer.subscription.deleted", "customer.subscription.paused",
            "customer.subscription.resumed", "customer.subscription.pending_update_applied",
            "customer.subscription.pending_update_expired")),
    "invoices": Feed("invoices", "invoices", {}, (
        "invoice.created", "invoice.updated", "invoice.deleted", "invoice.finalized",
        "invoice.finalization_failed", "invoice.sent", "invoice.paid",
        "invoice.payment_succeeded", "invoice.payment_failed",
        "invoice.payment_action_required", "invoice.overdue", "invoice.marked_uncollectible",
        "invoice.voided")),
}


@dataclass(frozen=True)
class ListPage:
    """One page of a Stripe list: its objects as JSON, and whether more follow."""

    data: list[dict[str, Any]]
    has_more: bool


class StripeRequestFailed(Exception):
    """A Stripe request failed for good (after its retries): which one, and Stripe's answer;
    `code` is Stripe's error code (`resource_missing` …)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def classify(exc: BaseException) -> Classification:
    """The HTTP status of a Stripe SDK error and the Retry-After it sent, if any."""
    if not isinstance(exc, stripe.StripeError):
        return None, None
    retry_after = None
    for name, value in (exc.headers or {}).items():
        if name.lower() == "retry-after":
            try:
                retry_after = float(value)
            except ValueError:
                retry_after = None
    return exc.http_status, retry_after


def external_id_option(options: Mapping[str, Any]) -> dict[str, str]:
    """`options.external_id_metadata`: source name → the customer metadata key with its id."""
    value = options.get("external_id_metadata") or {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise QuarterdeckError("stripe option external_id_metadata: expected a mapping of "
                               "source name to metadata key, e.g. {hubspot: hubspot_company_id}")
    return value


class StripeConnector(Connector):
    kind = "stripe"
    objects = ("customers", "subscriptions", "invoices")
    secrets = ("api_key",)
    object_entities = {name: feed.entity for name, feed in FEEDS.items()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.external_id_metadata = external_id_option(self.source.options)
        self.policy = RetryPolicy.of(self.source)
        self.limit = min(self.source.page_size, MAX_LIMIT)
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            self._client = stripe.StripeClient(
                self.credentials.require("api_key"), stripe_version=API_VERSION,
                base_addresses={"api": self.source.base_url} if self.source.base_url else None,
                max_network_retries=0)  # retries are ours: call_with_retries
        return self._client

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        what = f"{self.name} {what}"
        try:
            return call_with_retries(call, classify=classify, policy=self.policy, what=what)
        except stripe.StripeError as exc:
            status = f"HTTP {exc.http_status}" if exc.http_status else "no answer"
            raise StripeRequestFailed(f"{what}: {status}: {exc.user_message}",
                                      code=exc.code) from exc

    def _get(self, what: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON of a GET through the SDK's `raw_request`: the SDK authenticates, sets the
        API version and raises its errors, but builds no nested Stripe objects only for the
        connector to flatten them again (that took most of a sync's time)."""
        response = self._call(what, lambda: self.client.raw_request("get", path, **params))
        return orjson.loads(response.body)

    def _list(self, service: str, params: dict[str, Any]) -> ListPage:
        body = self._get(f"{service} list", f"/v1/{service}", params)
        return ListPage(body.get("data") or [], bool(body.get("has_more")))

    # --- phases ------------------------------------------------------------------------------

    def pages(self, obj: str, cursor: Cursor) -> Iterator[Page]:
        feed = FEEDS[obj]
        cursor = dict(cursor or {})
        if cursor and now() - cursor.get("seen_until", 0) > EVENT_RETENTION_SECONDS:
            log.warning("%s %s: last read more than 29 days ago and Stripe keeps events 30 "
                        "days; listing everything again", self.name, obj)
            cursor = {}
        if cursor.get("phase") == "events":
            yield from self._events(feed, cursor)
        else:
            yield from self._listing(feed, cursor)

    def _listing(self, feed: Feed, cursor: dict[str, Any]) -> Iterator[Page]:
        """Every record, newest first, page by page; the last page hands over to events."""
        if not cursor:
            seen_until = now()
            newest = self._list("events", {"limit": 1, "types": list(feed.event_types)}).data
            cursor = {"phase": "list", "starting_after": None, "last_created": None,
                      "created_lte": None, "event": newest[0]["id"] if newest else None,
                      "created": newest[0]["created"] if newest else None,
                      "seen_until": seen_until}
        while True:
            params: dict[str, Any] = {"limit": self.limit, **feed.list_params}
            if cursor["created_lte"] is not None:
                params["created"] = {"lte": cursor["created_lte"]}
            if cursor["starting_after"]:
                params["starting_after"] = cursor["starting_after"]
            try:
                page = self._list(feed.service, params)
            except StripeRequestFailed as exc:
                if not (exc.code == "resource_missing" and cursor["starting_after"]):
                    raise
                # The last record read is gone (a deleted customer): go on from its time,
                # reading again the few created in that same second.
                log.info("%s %s: %s is gone; listing on from its creation time", self.name,
                         feed.service, cursor["starting_after"])
                cursor = {**cursor, "starting_after": None, "created_lte": cursor["last_created"]}
                continue
            records = page.data
            if page.has_more and records:
                after = {**cursor, "starting_after": records[-1]["id"],
                         "last_created": records[-1].get("created")}
            else:
                after = {"phase": "events", "event": cursor["event"],
                         "created": cursor["created"], "seen_until": cursor["seen_until"]}
            yield Page({feed.entity: self._rows(feed, records)}, after,
                       newest=_newest(r.get("created") for r in records),
                       records=len(records))
            if after["phase"] == "events":
                return
            cursor = after

    def _events(self, feed: Feed, cursor: dict[str, Any]) -> Iterator[Page]:
        """The object's events after the cursor's, oldest first, a page at a time."""
        anchor = cursor.get("event")
        if anchor is None or now() - cursor["created"] > EVENT_RETENTION_SECONDS:
            events, drained, read_at = self._oldest_events(feed, cursor.get("created"))
        else:
            try:
                events, drained, read_at = self._events_after(feed, anchor)
            except StripeRequestFailed as exc:
                if exc.code != "resource_missing":
                    raise
                log.info("%s %s: event %s has expired; finding the next ones by time",
                         self.name, feed.service, anchor)
                events, drained, read_at = self._oldest_events(feed, cursor["created"])
        while True:
            last = events[-1] if events else None
            after = {"phase": "events",
                     "event": last["id"] if last else cursor.get("event"),
                     "created": last["created"] if last else cursor.get("created"),
                     # every event before this is applied: the whole feed when drained
                     "seen_until": read_at if drained else last["created"]}
            yield Page({feed.entity: self._event_rows(feed, events)}, after,
                       newest=_newest(e["created"] for e in events), records=len(events))
            if drained:
                return
            cursor = after
            events, drained, read_at = self._events_after(feed, after["event"])

    def _events_after(self, feed: Feed, event_id: str) -> tuple[list[dict], bool, float]:
        """The events right after `event_id`, oldest first; drained when none come after."""
        read_at = now()
        page = self._list("events", {"limit": self.limit, "types": list(feed.event_types),
                                     "ending_before": event_id})
        return page.data[::-1], not page.has_more, read_at

    def _oldest_events(self, feed: Feed, created_after: int | None
                       ) -> tuple[list[dict], bool, float]:
        """The oldest page of events created after `created_after` (all kept ones if None),
        oldest first: Stripe lists newest first, so this pages through to the end."""
        read_at = now()
        params: dict[str, Any] = {"limit": self.limit, "types": list(feed.event_types)}
        if created_after is not None:
            params["created"] = {"gt": created_after}
        page = self._list("events", params)
        first = True
        while page.has_more and page.data:
            page = self._list("events", {**params, "starting_after": page.data[-1]["id"]})
            first = False
        return page.data[::-1], first and not page.has_more, read_at

    # --- rows --------------------------------------------------------------------------------

    def _rows(self, feed: Feed, records: list[dict]) -> list[Row]:
        if feed.entity == "accounts":
            return [mapping.account(r, self.id, self.external_id_metadata) for r in records]
        if feed.entity == "invoices":
            return [mapping.invoice(r, self.id) for r in records]
        return [row for r in records for row in self._subscription_rows(r)]

    def _subscription_rows(self, sub: dict) -> list[Row]:
        sub = self._expanded(sub)
        if (sub.get("items") or {}).get("has_more"):
            log.warning("%s: subscription %s lists only some of its items; the others are "
                        "not synced", self.name, sub["id"])
        return mapping.subscription_rows(sub, self.id)

    def _expanded(self, sub: dict) -> dict:
        """The subscription with its discounts' coupons: read again when it names a discount
        by id only (as events do)."""
        if not mapping.needs_expansion(sub):
            return sub
        return self._get("subscription retrieve", f"/v1/subscriptions/{sub['id']}",
                         {"expand": SUBSCRIPTION_EXPAND})

    def _event_rows(self, feed: Feed, events: list[dict]) -> list[Row]:
        """The rows of a page of events (oldest first): each object's newest state, and for
        subscriptions the items an update took off."""
        newest: dict[str, dict] = {}
        for event in events:
            newest[event["data"]["object"]["id"]] = event
        if feed.entity == "accounts":
            return [mapping.account(e["data"]["object"], self.id, self.external_id_metadata)
                    for e in newest.values()]
        if feed.entity == "invoices":
            return [mapping.invoice(e["data"]["object"], self.id,
                                    deleted=e["type"] == "invoice.deleted")
                    for e in newest.values()]
        states = {key: self._expanded(e["data"]["object"]) for key, e in newest.items()}
        rows: dict[str, Row] = {}
        for event in events:  # items taken off, in the order it happened
            previous = (event["data"].get("previous_attributes") or {}).get("items")
            if previous:
                obj = event["data"]["object"]
                kept = [i["id"] for i in mapping.subscription_items(obj)]
                for row in mapping.removed_item_rows(
                        states[obj["id"]], mapping.subscription_items({"items": previous}),
                        event["created"], self.id, kept):
                    rows[row["subscription_id"]] = row
        for sub in states.values():
            for row in self._subscription_rows(sub):
                rows[row["subscription_id"]] = row
        return list(rows.values())


def _newest(timestamps: Iterable[int | None]) -> datetime | None:
    newest = max(filter(None, timestamps), default=None)
    return None if newest is None else datetime.fromtimestamp(newest, UTC)
