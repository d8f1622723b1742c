"""Account attributes as churn-model features: what the CRM and billing say an account *is*.

An attribute feature is named `attribute_<column>` and holds one value per point (account_id,
as_of), as text:

- from accounts: segment, industry, region, country and every custom column of accounts.csv
  (any column the data contract does not name); never the ids, names, domain, owner or dates
  (`NOT_ATTRIBUTES`).
- from subscriptions: `plan` and `auto_renew` of the account's running paid row with the
  highest MRR at T (rows as known at T), so a plan change is seen from the day it starts.

Point in time: when `tables` holds `account_versions` (the accounts rows of every load with
`known_from`, the time the load was committed), a point at T reads the newest version known
by the end of T. An account whose first version was loaded after T (a history loaded all at
once) reads its earliest version: only today's value is known then, and it may have changed
since T. Without `account_versions` every point reads the accounts table as it stands.

How an attribute is encoded (levels pooled, ids refused, numbers kept as numbers) is decided
on the training rows by `quarterdeck.health.attribute_encoding`.

Example: attributes_at(tables, points, ["attribute_segment", "attribute_plan"]) →
account_id, as_of, attribute_segment, attribute_plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.warehouse.schema import empty_table
from quarterdeck.warehouse.subscription_mrr import subscription_mrr

PREFIX = "attribute_"
NOT_ATTRIBUTES = ("account_id", "name", "domain", "parent_account_id", "owner_email",
                  "created_at", "external_ids", "known_from")
SUBSCRIPTION_ATTRIBUTES = ("plan", "auto_renew")
ACCOUNT_VERSIONS = "account_versions"
_EVERYTHING = date(9998, 12, 31)  # prices every row; what is known when is applied per point


def is_attribute(name: str) -> bool:
    """True for an attribute feature's name. Example: is_attribute("attribute_plan") → True."""
    return name.startswith(PREFIX)


def column_of(name: str) -> str:
    """The source column of an attribute feature. Example: column_of("attribute_plan") →
    "plan"."""
    return name[len(PREFIX):]


def label(name: str) -> str:
    """The attribute in words. Example: label("attribute_payment_method") → "payment method"."""
    return column_of(name).replace("_", " ")


def candidate_attributes(tables: Mapping[str, ir.Table]) -> list[str]:
    """Every attribute feature the tables can give: the accounts columns that describe the
    account (contract ones and custom ones) and the subscription attributes."""
    accounts = tables["accounts"] if "accounts" in tables else empty_table("accounts")
    cols = [c for c in accounts.columns if c not in NOT_ATTRIBUTES and not c.startswith("_")]
    return [PREFIX + c for c in (*cols, *SUBSCRIPTION_ATTRIBUTES)]


def _text(value: ir.Value) -> ir.StringValue:
    text = value.cast(dt.string).strip()
    return ibis.ifelse(text == "", ibis.null(dt.string), text)


def _account_values(tables: Mapping[str, ir.Table], points: ir.Table,
                    columns: list[str]) -> ir.Table:
    if ACCOUNT_VERSIONS not in tables:
        a = tables["accounts"] if "accounts" in tables else empty_table("accounts")
        a = a.select("account_id", **{PREFIX + c: _text(a[c]) for c in columns})
        return points.left_join(a, "account_id").drop("account_id_right")
    v = tables[ACCOUNT_VERSIONS]
    end = (points.as_of + ibis.interval(days=1)).cast(dt.timestamp)
    p = points.mutate(end=end)
    x = p.join(v.select("account_id", "known_from"), "account_id")
    chosen = x.group_by(["account_id", "as_of"]).agg(
        known_from=ibis.coalesce(x.known_from.max(where=x.known_from < x.end),
                                 x.known_from.min()))
    vals = v.select("account_id", "known_from", **{PREFIX + c: _text(v[c]) for c in columns})
    # One row per version time: a load holding an account twice keeps its last row's values.
    vals = vals.group_by(["account_id", "known_from"]).agg(
        **{PREFIX + c: vals[PREFIX + c].max() for c in columns})
    picked = chosen.join(vals, ["account_id", "known_from"]).drop("known_from")
    return points.left_join(picked, ["account_id", "as_of"]).drop(
        "account_id_right", "as_of_right")


def _subscription_values(tables: Mapping[str, ir.Table], points: ir.Table,
                         columns: list[str], base_currency: str) -> ir.Table:
    raw = tables["subscriptions"] if "subscriptions" in tables else empty_table("subscriptions")
    fx = tables["fx_rates"] if "fx_rates" in tables else empty_table("fx_rates")
    mrr = subscription_mrr(raw, fx, as_of=_EVERYTHING, base_currency=base_currency)
    extra = raw.select("subscription_id", "canceled_at", **{f"_{c}": raw[c] for c in columns})
    s = mrr.join(extra, "subscription_id").filter(lambda s: ~s.trial)
    p = points.mutate(end=(points.as_of + ibis.interval(days=1)).cast(dt.timestamp))
    x = p.join(s, ["account_id", s.start_date <= p.as_of])
    end = ibis.ifelse(x.canceled_at.isnull() | (x.canceled_at < x.end), x.end_date,
                      ibis.null(dt.date))
    now = end.isnull() | (end > x.as_of)
    return x.group_by(["account_id", "as_of"]).agg(
        **{PREFIX + c: _text(x[f"_{c}"]).argmax(x.mrr, where=now) for c in columns})


def attributes_at(tables: Mapping[str, ir.Table], points: ir.Table,
                  names: Sequence[str], *, base_currency: str = "USD") -> ir.Table:
    """The attribute features `names` of every point (account_id, as_of), as known at its
    date (see the module): account_id, as_of, one text column per name."""
    points = points.select("account_id", as_of=points.as_of.cast(dt.date)).distinct()
    from_subs = [column_of(n) for n in names if column_of(n) in SUBSCRIPTION_ATTRIBUTES]
    from_accounts = [column_of(n) for n in names if column_of(n) not in SUBSCRIPTION_ATTRIBUTES]
    out = points
    if from_accounts:
        out = _account_values(tables, out, from_accounts)
    if from_subs:
        subs = _subscription_values(tables, points, from_subs, base_currency)
        out = out.left_join(subs, ["account_id", "as_of"]).drop("account_id_right",
                                                                "as_of_right")
    return out.select("account_id", "as_of", *names)
