"""Stripe's objects as rows of the data contract: customers, subscription items and invoices.

Pure functions over Stripe's JSON as the API returns it at `API_VERSION`; they also read the
shapes of older API versions that an event may carry (Stripe renders an event's object at
the API version in effect when it happened). Each takes `ids`, the source's id prefixer.

- customer → accounts: name (else description, email, id), domain (`metadata.domain`, else
  the email's domain unless free mail), country, created_at, external_ids from metadata keys.
- subscription → subscriptions: one row per item (`si_…`), plus a trial row (`si_…:trial`)
  for the trialing period; the paid row starts when the trial ends and exists once the
  trial has converted.
- invoice → invoices.

Money: Stripe amounts are integers (or decimal strings) in the currency's minor unit; the
contract's are Decimals in major units, so 5000 USD cents are 50.00 and 3000 JPY are 3000.

Example: major_units(5000, "usd") == Decimal("50.00")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from quarterdeck.identity.normalise import normalise_domain

API_VERSION = "2025-03-31.basil"
Ids = Callable[[Any], str | None]
Row = dict[str, Any]

# Currencies whose Stripe amounts have no minor unit, and those with three decimals
# (docs.stripe.com/currencies). ISK, HUF and TWD are two-decimal in Stripe's API.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())
# A price billed every n weeks or days is priced per month: the contract counts whole months.
MONTHS_IN = {"month": 1, "year": 12}
PER_MONTH = {"week": Decimal(52) / Decimal(12), "day": Decimal(365) / Decimal(12)}
# Subscriptions that never started: the first payment is pending or failed.
NOT_STARTED = frozenset({"incomplete", "incomplete_expired"})
# A trial not (yet) converted: no paid row until it is.
UNCONVERTED = frozenset({"trialing", "paused"})
SIX_PLACES = Decimal("0.000001")


def major_units(amount: Any, currency: str | None) -> Decimal | None:
    """A Stripe minor-unit amount in the currency's major unit."""
    if amount is None or amount == "":
        return None
    code = (currency or "").upper()
    places = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return Decimal(str(amount)).scaleb(-places)


def iso_time(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def utc_date(timestamp: int | None) -> date | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).date()


def object_id(value: Any) -> str | None:
    """The id of a field Stripe returns as an id or, expanded, as the object."""
    return value.get("id") if isinstance(value, dict) else value


# --- customers ---------------------------------------------------------------------------


def account(customer: Mapping[str, Any], ids: Ids,
            external_id_metadata: Mapping[str, str] | None = None) -> Row:
    """A Stripe customer as an account.

    `external_id_metadata` maps a source name to the metadata key holding that source's id
    of the same company, e.g. {"hubspot": "hubspot_company_id"}.
    """
    metadata = customer.get("metadata") or {}
    email = customer.get("email")
    address = customer.get("address") or (customer.get("shipping") or {}).get("address") or {}
    external = {source: str(metadata[key]) for source, key in
                (external_id_metadata or {}).items() if metadata.get(key) not in (None, "")}
    return {
        "account_id": ids(customer["id"]),
        # A customer needs a name to be an account; without one its id stands in, so its
        # subscriptions and invoices still have an account to belong to.
        "name": next((v for v in (customer.get("name"), customer.get("description"), email)
                      if v and str(v).strip()), customer["id"]),
        "domain": normalise_domain(metadata.get("domain")) or normalise_domain(email),
        "country": address.get("country") or None,
        "created_at": iso_time(customer.get("created")),
        "external_ids": orjson.dumps(external).decode() if external else None,
    }


# --- subscriptions -----------------------------------------------------------------------


def subscription_items(subscription: Mapping[str, Any]) -> list[dict]:
    return list((subscription.get("items") or {}).get("data") or [])


def discounts_of(obj: Mapping[str, Any]) -> list[Any]:
    """The discounts of a subscription or item: `discounts` (each an id unless expanded), or
    the single `discount` of API versions before 2025-03-31."""
    if obj.get("discounts") is not None:
        return list(obj["discounts"])
    return [obj["discount"]] if obj.get("discount") else []


def coupon_of(discount: Any) -> dict | None:
    """A discount's coupon: `coupon` up to 2025-08, `source.coupon` since 2025-09-30."""
    if not isinstance(discount, dict):
        return None
    coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
    return coupon if isinstance(coupon, dict) else None


def needs_expansion(subscription: Mapping[str, Any]) -> bool:
    """Whether some discount of the subscription or its items is only an id (as in events)."""
    found = discounts_of(subscription)
    for item in subscription_items(subscription):
        found += discounts_of(item)
    return any(coupon_of(d) is None for d in found)


def _unit_amount(price: Mapping[str, Any]) -> Decimal | None:
    value = price.get("unit_amount_decimal")
    if value is None:
        value = price.get("unit_amount")
    return None if value is None else Decimal(str(value))


def _item_amount(item: Mapping[str, Any]) -> Decimal:
    """What the item bills per interval before discounts, in minor units."""
    price = item.get("price") or {}
    unit = _unit_amount(price)
    quantity = item.get("quantity")
    return Decimal(0) if unit is None or quantity is None else unit * Decimal(str(quantity))


def _apply(coupon: Mapping[str, Any], amount: Decimal, base: Decimal, currency: str) -> Decimal:
    """`amount` after one coupon; an amount off is shared in proportion of `base`."""
    if coupon.get("percent_off") is not None:
        return amount * (1 - Decimal(str(coupon["percent_off"])) / 100)
    if coupon.get("amount_off") is not None and base > 0 and \
            (coupon.get("currency") or "").lower() == currency:
        return max(Decimal(0), amount - Decimal(coupon["amount_off"]) * amount / base)
    return amount


def _recurring(discount: Any) -> dict | None:
    """The coupon of a discount that lowers the recurring price; a `once` coupon lowers one
    invoice only and leaves the price as it is."""
    coupon = coupon_of(discount)
    return coupon if coupon and coupon.get("duration") != "once" else None


def discount_fractions(subscription: Mapping[str, Any], items: Iterable[Mapping[str, Any]]
                       ) -> dict[str, Decimal]:
    """Each item's discount as one fraction of its amount: item discounts first, then the
    subscription's, as Stripe applies them; a subscription's amount off is shared by its
    items in proportion of their amounts.

    Example: 20% off the subscription and 10% off an item → 1 − 0.8 × 0.9 = 0.28 for it.
    """
    items = list(items)
    before = {i["id"]: _item_amount(i) for i in items}
    currency = {i["id"]: ((i.get("price") or {}).get("currency") or "").lower() for i in items}
    after = dict(before)
    for item in items:
        for coupon in filter(None, map(_recurring, discounts_of(item))):
            key = item["id"]
            after[key] = _apply(coupon, after[key], after[key], currency[key])
    for coupon in filter(None, map(_recurring, discounts_of(subscription))):
        shared = coupon.get("currency")
        base = sum((v for k, v in after.items() if not shared or currency[k] == shared.lower()),
                   Decimal(0))
        after = {k: _apply(coupon, v, base, currency[k]) for k, v in after.items()}
    return {k: min(Decimal(1), max(Decimal(0), 1 - after[k] / v)).quantize(SIX_PLACES)
            if v > 0 else Decimal(0) for k, v in before.items()}


def billing_interval(recurring: Mapping[str, Any]) -> tuple[int | None, Decimal]:
    """(interval_months, price factor): months and years as they are; weeks and days as a
    monthly price (×52/12 per week, ×365/12 per day, over interval_count).

    Example: every 2 weeks at 10.00 → (1, 52/24), i.e. 21.666667 a month.
    """
    interval = recurring.get("interval") or "month"
    count = int(recurring.get("interval_count") or 1)
    if interval in MONTHS_IN:
        return MONTHS_IN[interval] * count, Decimal(1)
    if interval in PER_MONTH:
        return 1, PER_MONTH[interval] / count
    return None, Decimal(1)  # not an interval Stripe knows: the row is set aside


def _plan(price: Mapping[str, Any]) -> str | None:
    return (price.get("nickname") or price.get("lookup_key") or object_id(price.get("product"))
            or price.get("id"))


def _item_start(subscription: Mapping[str, Any], item: Mapping[str, Any]) -> date:
    """An item starts with its subscription, or the day it was added when that was later."""
    start = utc_date(subscription.get("start_date") or subscription.get("created"))
    added, created = utc_date(item.get("created")), utc_date(subscription.get("created"))
    return added if added and created and added > created else start


def _period_end(subscription: Mapping[str, Any], item: Mapping[str, Any]) -> int | None:
    # Item-level since 2025-03-31.basil; on the subscription before.
    return item.get("current_period_end") or subscription.get("current_period_end")


def _end(subscription: Mapping[str, Any], item: Mapping[str, Any], removed_at: int | None
         ) -> tuple[date | None, int | None]:
    """(end date, when it became known): when it ended or was taken off, else when it is set
    to cancel (`cancel_at`, or the period's end with `cancel_at_period_end`)."""
    ended_at = subscription.get("ended_at")
    if removed_at is not None and (ended_at is None or removed_at < ended_at):
        return utc_date(removed_at), removed_at
    if ended_at is not None:
        return utc_date(ended_at), subscription.get("canceled_at")
    if subscription.get("cancel_at"):
        return utc_date(subscription["cancel_at"]), subscription.get("canceled_at")
    if subscription.get("cancel_at_period_end"):
        return utc_date(_period_end(subscription, item)), subscription.get("canceled_at")
    return None, None


def _one_day_at_least(start: date, end: date | None) -> date | None:
    """The contract's end is exclusive and after the start: service within one day counts for
    that day (and so replaces any row loaded while it was ongoing)."""
    return None if end is None else max(end, start + timedelta(days=1))


def item_rows(subscription: Mapping[str, Any], item: Mapping[str, Any], discount: Decimal,
              ids: Ids, removed_at: int | None = None) -> list[Row]:
    """The rows of one subscription item: its trial, then its paid service.

    `removed_at` is when an update took the item off a subscription that goes on.
    """
    price = item.get("price") or {}
    recurring = price.get("recurring") or {}
    months, factor = billing_interval(recurring)
    currency = price.get("currency") or subscription.get("currency")
    unit = major_units(_unit_amount(price), currency)
    if unit is not None and factor != 1:
        unit = (unit * factor).quantize(SIX_PLACES)
    metered = recurring.get("usage_type") == "metered"
    quantity = Decimal(0) if metered or item.get("quantity") is None \
        else Decimal(str(item["quantity"]))
    status = subscription.get("status")
    end, canceled_at = _end(subscription, item, removed_at)
    common = {
        "account_id": ids(object_id(subscription.get("customer"))),
        "plan": _plan(price),
        "quantity": quantity,
        "unit_price": unit,
        "discount": discount,
        "currency": currency.upper() if currency else None,
        "interval_months": months,
        "contract_id": ids(subscription["id"]),
        "auto_renew": end is None,
        "status": status,
    }
    rows = []
    start = _item_start(subscription, item)
    trial_start, trial_end = (utc_date(subscription.get("trial_start")),
                              utc_date(subscription.get("trial_end")))
    paid_start = start
    if trial_start and trial_end and start < trial_end:
        start = max(start, trial_start)
        during = end is not None and end <= trial_end
        rows.append({**common, "subscription_id": ids(f"{item['id']}:trial"), "trial": True,
                     "start_date": start,
                     "end_date": _one_day_at_least(start, end if during else trial_end),
                     "canceled_at": iso_time(canceled_at) if during else None})
        if during:
            return rows
        paid_start = trial_end
    if status in UNCONVERTED:
        return rows
    rows.append({**common, "subscription_id": ids(item["id"]), "trial": False,
                 "start_date": paid_start, "end_date": _one_day_at_least(paid_start, end),
                 "canceled_at": iso_time(canceled_at) if end is not None else None})
    return rows


def subscription_rows(subscription: Mapping[str, Any], ids: Ids) -> list[Row]:
    """Every row of a subscription's items; none for one that never started."""
    if subscription.get("status") in NOT_STARTED:
        return []
    items = subscription_items(subscription)
    fractions = discount_fractions(subscription, items)
    return [row for item in items
            for row in item_rows(subscription, item, fractions[item["id"]], ids)]


def removed_item_rows(subscription: Mapping[str, Any], previous_items: list[Mapping[str, Any]],
                      removed_at: int, ids: Ids, kept: Iterable[str] | None = None) -> list[Row]:
    """Rows ending the items an update took off the subscription: those of the event's
    `previous_attributes.items` not `kept` (default: not in the subscription any more)."""
    if subscription.get("status") in NOT_STARTED:
        return []
    kept = set(kept if kept is not None else (i["id"] for i in subscription_items(subscription)))
    fractions = discount_fractions(subscription, previous_items)
    return [row for item in previous_items if item["id"] not in kept
            for row in item_rows(subscription, item, fractions[item["id"]], ids, removed_at)]


# --- invoices ----------------------------------------------------------------------------


def invoice(inv: Mapping[str, Any], ids: Ids, deleted: bool = False) -> Row:
    """A Stripe invoice; `deleted` for a draft Stripe deleted (status `deleted`)."""
    moments = inv.get("status_transitions") or {}
    currency = inv.get("currency")
    return {
        "invoice_id": ids(inv["id"]),
        "account_id": ids(object_id(inv.get("customer"))),
        "issued_at": iso_time(moments.get("finalized_at") or inv.get("created")),
        "due_at": iso_time(inv.get("due_date")),
        "paid_at": iso_time(moments.get("paid_at")),
        "amount": major_units(inv.get("total"), currency),
        "currency": currency.upper() if currency else None,
        "status": "deleted" if deleted else inv.get("status"),
        "amount_due": major_units(inv.get("amount_due"), currency),
        "amount_remaining": major_units(inv.get("amount_remaining"), currency),
    }
