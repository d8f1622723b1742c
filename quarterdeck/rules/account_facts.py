"""`account_facts`: one row per account known on a date, with every fact a rule can test.

Lifecycle stages, segments, signals and playbook triggers are conditions over this table
(see `quarterdeck.rules.conditions`). It holds who the account is (status, segment, tier,
owner and their manager), its revenue and contract (ARR, customer since, next renewal), health
and churn risk as published for the date, onboarding milestones, a few operational facts
(days an invoice is overdue, champions who left lately, the last QBR) and any registered health
feature (`quarterdeck.health.features`) a rule names. Every fact is as known at the end of the
as-of day T; a fact without a value is NULL and fails every test but `is_null`.

Example: account_facts(tables, as_of=date(2026, 9, 30), base_currency="USD",
tiers=[("Tier 1", 100000), ("Tier 2", 0)], facts=["usage_trend_30d"]).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.health.feature_table import DayUsage, feature_table_at
from quarterdeck.health.features import FEATURES
from quarterdeck.warehouse.schema import entity_table
from quarterdeck.warehouse.subscription_mrr import day_after, subscription_mrr


@dataclass(frozen=True)
class Fact:
    """A fact rules may test: its name, meaning and kind (text, number, flag or date)."""

    name: str
    description: str
    kind: str = "number"


FACTS: dict[str, Fact] = {}


def _register(*facts: Fact) -> None:
    for f in facts:
        FACTS[f.name] = f


_register(
    Fact("status", "active (MRR > 0 on T), trial (a running trial, no MRR), churned (paid "
         "before, not now) or prospect (never paid).", "text"),
    Fact("segment", "The account's segment from the accounts file.", "text"),
    Fact("region", "The account's region from the accounts file.", "text"),
    Fact("industry", "The account's industry from the accounts file.", "text"),
    Fact("tier", "The ARR tier of definitions/tiers.yml.", "text"),
    Fact("owner_email", "The account's CSM.", "text"),
    Fact("owner_manager_email", "The manager of the account's CSM (team file).", "text"),
    Fact("mrr", "MRR on T in the base currency."),
    Fact("customer_since", "Start of the account's first paid subscription row.", "date"),
    Fact("days_since_start", "Days from customer_since to T (0 on the first day)."),
    Fact("renewal_date", "The next renewal: T + days_to_renewal.", "date"),
    Fact("churned_on", "The end date of the last paid row, for a churned account.", "date"),
    Fact("days_since_churn", "Days from churned_on to T, for a churned account."),
    Fact("health_score", "The health score of T (0–100) by the account's health model."),
    Fact("health_band", "red, yellow or green: the band of the health score of T.", "text"),
    Fact("health_change_7d", "Health score of T minus that of 7 days earlier."),
    Fact("health_change_30d", "Health score of T minus that of 30 days earlier."),
    Fact("churn_probability", "The churn model's probability of churn at the next renewal "
         "decision, as of T."),
    Fact("churn_probability_window", "The churn model's probability of churning at any "
         "renewal decision within the churn window (90 days by default) after T: the one to "
         "rank by."),
    Fact("onboarding_complete", "true when every required onboarding milestone was reached "
         "by T.", "flag"),
    Fact("milestones_reached", "Onboarding milestones reached by T."),
    Fact("first_value_on", "The day the first-value milestone was reached.", "date"),
    Fact("days_invoice_overdue", "Days past its due date of the oldest invoice unpaid at T "
         "(NULL when none is overdue)."),
    Fact("champions_left_30d", "Contacts with the champion persona who left in the 30 days "
         "ending on T."),
    Fact("last_qbr_on", "The day of the last QBR on or before T.", "date"),
    Fact("days_since_last_qbr_or_start", "Days since the last QBR, or since customer_since "
         "when there never was one."),
)
#: Facts computed by `account_facts` itself; every other fact is a registered health feature.
BASE_FACTS = tuple(FACTS)
_register(*(Fact(f.name, f.description) for f in FEATURES.values() if f.name not in FACTS))


def _days(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    return later.delta(earlier, unit="day").cast(dt.int64)


def known_accounts(tables: Mapping[str, ir.Table], as_of: date) -> ir.Table:
    """Accounts created on or before `as_of` (or with no creation date)."""
    a = entity_table(tables, "accounts")
    return a.filter(a.created_at.isnull() | (a.created_at < day_after(as_of)))


def revenue_facts(tables: Mapping[str, ir.Table], as_of: date, base_currency: str) -> ir.Table:
    """Per account with subscription rows: mrr (running paid rows), on_trial, customer_since
    (the first paid row's start) and churned_on (the last paid row's end before T)."""
    s = subscription_mrr(entity_table(tables, "subscriptions"), entity_table(tables, "fx_rates"),
                         as_of=as_of, base_currency=base_currency)
    running = s.end_date.isnull() | (s.end_date > as_of)
    paid = ~s.trial & (s.mrr > 0)
    return s.group_by("account_id").agg(
        mrr=s.mrr.sum(where=running & paid),
        on_trial=(running & s.trial).any(),
        customer_since=s.start_date.min(where=paid),
        churned_on=s.end_date.max(where=paid & ~running),
    )


def _operations(tables: Mapping[str, ir.Table], as_of: date) -> list[ir.Table]:
    end = day_after(as_of)
    i = entity_table(tables, "invoices")
    i = i.filter((i.issued_at < end) & (i.paid_at.isnull() | (i.paid_at >= end))
                 & i.due_at.notnull() & (i.due_at.date() < as_of))
    invoices = i.group_by("account_id").agg(
        days_invoice_overdue=_days(ibis.literal(as_of, dt.date), i.due_at.min().date()))
    c = entity_table(tables, "contacts")
    c = c.filter((c.persona == "champion") & (c.left_at < end)
                 & (c.left_at >= day_after(as_of - timedelta(days=30))))
    champions = c.group_by("account_id").agg(champions_left_30d=c.count())
    a = entity_table(tables, "activities")
    a = a.filter((a.kind == "qbr") & (a.occurred_at < end))
    qbrs = a.group_by("account_id").agg(last_qbr_on=a.occurred_at.max().date())
    return [invoices, champions, qbrs]


def account_facts(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                  tiers: Sequence[tuple[str, float]], facts: Sequence[str] = (),
                  health: ir.Table | None = None, churn: ir.Table | None = None,
                  milestones: ir.Table | None = None, usage: ir.Table | None = None,
                  known: DayUsage | None = None) -> ir.Table:
    """Every account known on `as_of` with the base facts and the health features `facts`
    names (see the module). `health` (account_id, score, band, change_7d, change_30d),
    `churn` (account_id, churn_probability) and `milestones` (`onboarding_milestones`) are
    the day's results when the caller has them; their facts are NULL otherwise. `known`:
    the run's usage facts (`day_usage`)."""
    t = ibis.literal(as_of, dt.date)
    accounts = known_accounts(tables, as_of)
    features = sorted({"days_to_renewal", "term_months", *(f for f in facts if f in FEATURES)})
    points = accounts.select("account_id", as_of=t)
    feats = feature_table_at(tables, points, base_currency=base_currency, features=features,
                             usage=usage,
                             usage_facts=None if known is None else known.facts_for([as_of]),
                             ).drop("as_of", "segment")
    team = entity_table(tables, "team").select(owner_email="email",
                                         owner_manager_email="manager_email")
    j = accounts.select("account_id", "name", "segment", "region", "industry", "owner_email")
    parts = [revenue_facts(tables, as_of, base_currency), *_operations(tables, as_of), feats]
    if health is not None:
        parts.append(health.select("account_id", health_score=health.score.cast(dt.float64),
                                   health_band=health.band.cast(dt.string),
                                   health_change_7d=health.change_7d.cast(dt.float64),
                                   health_change_30d=health.change_30d.cast(dt.float64)))
    if churn is not None:
        window = (churn.churn_probability_window if "churn_probability_window" in churn.columns
                  else ibis.null(dt.float64))
        parts.append(churn.select("account_id", churn_probability=churn.churn_probability
                                  .cast(dt.float64),
                                  churn_probability_window=window.cast(dt.float64)))
    if milestones is not None:
        parts.append(milestones.select("account_id", "onboarding_complete",
                                       "milestones_reached", "first_value_on"))
    for part in parts:
        j = j.left_join(part, "account_id").drop("account_id_right")
    j = j.left_join(team, "owner_email").drop("owner_email_right")
    mrr = j.mrr.fill_null(0)
    arr = mrr * 12
    status = ibis.cases((mrr > 0, "active"), (j.on_trial.fill_null(False), "trial"),
                        (j.customer_since.notnull(), "churned"), else_="prospect")
    tier = ibis.cases(*[(arr >= floor, name) for name, floor in tiers], else_=tiers[-1][0])
    null_float, null_text = ibis.null(dt.float64), ibis.null(dt.string)
    out = j.mutate(
        status=status, tier=tier, mrr=mrr.cast(dt.float64),
        days_since_start=_days(t, j.customer_since),
        renewal_date=ibis.ifelse(status == "active",
                                 (t + j.days_to_renewal.cast(dt.int64).as_interval("D"))
                                 .cast(dt.date), ibis.null(dt.date)),
        churned_on=ibis.ifelse(status == "churned", j.churned_on, ibis.null(dt.date)),
        days_since_churn=ibis.ifelse(status == "churned", _days(t, j.churned_on),
                                     ibis.null(dt.int64)),
        champions_left_30d=j.champions_left_30d.fill_null(0),
        days_since_last_qbr_or_start=_days(t, ibis.coalesce(j.last_qbr_on, j.customer_since)),
        **({} if health is not None else {"health_score": null_float,
                                          "health_band": null_text,
                                          "health_change_7d": null_float,
                                          "health_change_30d": null_float}),
        **({} if churn is not None else {"churn_probability": null_float,
                                         "churn_probability_window": null_float}),
        **({} if milestones is not None else {
            "onboarding_complete": ibis.null(dt.boolean),
            "milestones_reached": ibis.null(dt.int64),
            "first_value_on": ibis.null(dt.date)}),
    )
    wanted = ["account_id", "name", *BASE_FACTS,
              *(f for f in features if f not in BASE_FACTS)]
    return out.mutate(as_of=t).select("as_of", *dict.fromkeys(wanted))
