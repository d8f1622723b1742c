"""`feature_table`: every candidate health feature per account as of a date, in one expression.

The engine works on a *snapshot grid*: a table of points (account_id, as_of), any number of
accounts and dates. Each source table is read once: it is joined to the points of its accounts
and aggregated per point over the windows the features need, keeping only facts known at the
point's as-of date T (dated on or before T; a ticket solved, an invoice paid, a contact gone or
a subscription cancelled after T had not been yet). The features of `quarterdeck.health.features`
are then formulas over these per-point facts. So a daily snapshot, its values 7 and 30 days
earlier, and a backtest over a year of renewals are each one query, not a loop.

Example: feature_table(tables, as_of=date(2026, 6, 30), base_currency="USD") → one row per
paying account with account_id, as_of, segment and one column per feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.health.account_attributes import attributes_at, is_attribute
from quarterdeck.health.features import FEATURES, Feature, feature
from quarterdeck.health.recent_usage import RecentUsage, kept_grid_usage
from quarterdeck.health.usage_windows import REACH, grid_usage, point_usage, points_for
from quarterdeck.warehouse.schema import empty_table
from quarterdeck.warehouse.shared_results import holds_results, materialised
from quarterdeck.warehouse.subscription_mrr import subscription_mrr

EVERYTHING = date(9998, 12, 31)  # prices every row; what is known when is applied per point
MEETING_KINDS = ("meeting", "qbr")


def _table(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    return tables[name] if name in tables else empty_table(name)


def _days(n: int) -> ir.IntervalValue:
    return ibis.interval(days=n)


def _with_end(points: ir.Table) -> ir.Table:
    """Points plus `end`: midnight after T (a timestamp is known at T iff it is less)."""
    return points.mutate(end=(points.as_of + _days(1)).cast(dt.timestamp))


@dataclass(frozen=True)
class DayUsage:
    """The usage facts (the windows' counts, active users, days and kinds, the last day with
    usage) of every account with usage, on each of `dates`: computed once and held for the
    stages of a run that read the same days (health with its lookback, scoring, the book),
    each of which would otherwise read the same events again. An account on one of `dates`
    without a row had no usage by then, as `feature_table_at` finds for itself."""

    facts: ir.Table
    dates: frozenset[date]

    def facts_for(self, dates: Iterable[date]) -> ir.Table | None:
        """The facts, when they hold every one of `dates`; None otherwise."""
        return self.facts if set(dates) <= self.dates else None


def reads_usage(names: Iterable[str]) -> bool:
    """Whether any feature of `names` is computed from usage (other names: attributes, the
    book's own facts, are not)."""
    return any("usage" in FEATURES[n].sources for n in names if n in FEATURES)


def day_usage(tables: Mapping[str, ir.Table], *, dates: Iterable[date], usage: ir.Table,
              engine: BaseBackend | None, recent: RecentUsage | None = None) -> DayUsage | None:
    """The usage facts of every account with usage on each of `dates`, held in memory; None
    where the engine does not hold shared results (each stage then computes the facts of its
    own points, which costs less there than every account's).

    `usage` is the run's `account_usage_daily`, built through the latest of `dates`: an
    account with an event by a date has rows there, so the accounts it lists are all the
    accounts with facts (users are mapped as known on the build's day, a superset of those
    known on an earlier date).
    With `recent`, the run's kept recent usage (`quarterdeck.health.recent_usage`), the
    facts are counted from it where it holds every day the dates reach, instead of from the
    events: the same rows.
    Example: day_usage(tables, dates=[as_of, as_of - timedelta(days=7)], usage=u, engine=con).
    """
    if not holds_results(engine):
        return None
    dates = sorted(set(dates))
    # Every account of `usage` (None).
    facts = (kept_grid_usage(recent, None, dates, usage)
             if recent is not None and recent.holds(dates[0] - timedelta(days=REACH - 1),
                                                    dates[-1])
             else grid_usage(tables, None, dates, usage))
    return DayUsage(materialised(facts, engine), frozenset(dates))


def _next_boundary(start: ir.DateValue, months: ir.IntegerValue, t: ir.DateValue) -> ir.DateValue:
    """The first term boundary (start + k × months, k ≥ 1) after `t`."""
    elapsed = (t.year() - start.year()) * 12 + t.month() - start.month()
    k = (elapsed / months).floor().cast(dt.int64)
    at_k = start + (k * months).as_interval("M")
    return ibis.ifelse(at_k > t, at_k, start + ((k + 1) * months).as_interval("M")).cast(dt.date)


def _subscriptions(tables: Mapping[str, ir.Table], points: ir.Table,
                   base_currency: str) -> ir.Table:
    """MRR, seats, renewal and tenure per point from the subscription rows known at T."""
    raw = _table(tables, "subscriptions")
    mrr = subscription_mrr(raw, _table(tables, "fx_rates"), as_of=EVERYTHING,
                           base_currency=base_currency)
    extra = raw.select("subscription_id", quantity=raw.quantity, canceled_at=raw.canceled_at)
    s = mrr.join(extra, "subscription_id").filter(lambda s: ~s.trial)
    p = _with_end(points)
    x = p.join(s, ["account_id", s.start_date <= p.as_of])
    end = ibis.ifelse(x.canceled_at.isnull() | (x.canceled_at < x.end), x.end_date,
                      ibis.null(dt.date))

    def running(day: ir.DateValue) -> ir.BooleanValue:
        return (x.start_date <= day) & (end.isnull() | (end > day))

    now = running(x.as_of)
    renewal = ibis.ifelse(end.notnull(), end,
                          _next_boundary(x.start_date, x.interval_months, x.as_of))
    return x.group_by(["account_id", "as_of"]).agg(
        mrr=x.mrr.sum(where=now).fill_null(0),
        mrr_90d_before=x.mrr.sum(where=running(x.as_of - _days(90))).fill_null(0),
        seats=x.quantity.sum(where=now).cast(dt.float64),
        next_renewal=renewal.min(where=now),
        term_months=x.interval_months.max(where=now),
        customer_since=x.start_date.min(),
    )


def _tickets(tables: Mapping[str, ir.Table], points: ir.Table) -> ir.Table:
    t = _table(tables, "tickets")
    p = _with_end(points)
    x = p.join(t, ["account_id", t.created_at < p.end])
    recent = x.created_at >= x.end - _days(30)
    solved = x.solved_at.notnull() & (x.solved_at < x.end)
    rated = solved & (x.solved_at >= x.end - _days(90)) & x.csat.notnull()
    return x.group_by(["account_id", "as_of"]).agg(
        tickets_30d=x.count(where=recent),
        urgent_tickets_30d=x.count(where=recent & (x.priority == "urgent")),
        open_tickets=x.count(where=~solved),
        ticket_csat_sum=x.csat.sum(where=rated).cast(dt.float64),
        ticket_csat_n=x.count(where=rated),
    )


def _surveys(tables: Mapping[str, ir.Table], points: ir.Table) -> ir.Table:
    s = _table(tables, "surveys")
    p = _with_end(points)
    x = p.join(s, ["account_id", s.responded_at < p.end,
                   s.responded_at >= p.end - _days(365)])
    csat = (x.kind == "csat") & (x.responded_at >= x.end - _days(90))
    return x.group_by(["account_id", "as_of"]).agg(
        latest_nps=x.score.argmax(x.responded_at, where=x.kind == "nps").cast(dt.float64),
        survey_csat_sum=x.score.sum(where=csat).cast(dt.float64),
        survey_csat_n=x.count(where=csat),
    )


def _activities(tables: Mapping[str, ir.Table], points: ir.Table) -> ir.Table:
    a = _table(tables, "activities")
    a = a.filter(a.kind.isin(MEETING_KINDS))
    p = _with_end(points)
    x = p.join(a, ["account_id", a.occurred_at < p.end])
    return x.group_by(["account_id", "as_of"]).agg(
        last_meeting_date=x.occurred_at.max().date(),
        last_qbr_date=x.occurred_at.max(where=x.kind == "qbr").date(),
    )


def _contacts(tables: Mapping[str, ir.Table], points: ir.Table) -> ir.Table:
    c = _table(tables, "contacts")
    c = c.filter((c.persona == "champion") & c.left_at.notnull())
    p = _with_end(points)
    x = p.join(c, ["account_id", c.left_at < p.end, c.left_at >= p.end - _days(90)])
    return x.group_by(["account_id", "as_of"]).agg(champions_left_90d=x.count())


def _invoices(tables: Mapping[str, ir.Table], points: ir.Table) -> ir.Table:
    i = _table(tables, "invoices")
    p = _with_end(points)
    x = p.join(i, ["account_id", i.issued_at < p.end])
    unpaid = x.paid_at.isnull() | (x.paid_at >= x.end)
    overdue = unpaid & x.due_at.notnull() & (x.due_at < x.as_of.cast(dt.timestamp))
    return x.group_by(["account_id", "as_of"]).agg(overdue_invoices=x.count(where=overdue))


_PASSES = {
    "tickets": _tickets, "surveys": _surveys, "activities": _activities,
    "contacts": _contacts, "invoices": _invoices,
}


def feature_table_at(tables: Mapping[str, ir.Table], points: ir.Table, *, base_currency: str,
                     features: Sequence[str] | None = None,
                     usage: ir.Table | None = None, stand_ins: bool = True,
                     observed: bool = False, usage_facts: ir.Table | None = None) -> ir.Table:
    """The features of every point (account_id, as_of) of `points`, each as known at its date.

    Columns: account_id, as_of, segment, then one column per feature (all registered ones when
    `features` is None); a name `attribute_<column>` is an account attribute, as text (see
    `quarterdeck.health.account_attributes`). `usage` may be a materialised
    `account_usage_daily` (used for the last day with usage). With `stand_ins=False` a
    feature that stands in for an account with no rows of its own (days since the last event
    of one that never had an event) is NULL there instead. With `observed=True` each such
    feature also gets `observed_<name>`: false where its value is the stand-in (reasons then
    say so instead of stating it as an observation). `usage_facts`: the usage facts of
    every account on each date of `points`, already computed (`DayUsage.facts_for`).
    Example: feature_table_at(tables, points, base_currency="USD").
    """
    names = list(features) if features is not None else list(FEATURES)
    chosen = [feature(n) for n in names if not is_attribute(n)]
    sources = {s for f in chosen for s in f.sources}
    points = points.select("account_id", as_of=points.as_of.cast(dt.date)).distinct()
    facts = points
    parts: list[ir.Table] = []
    if "usage" in sources:
        # Facts of more accounts than `points` are dropped by the join below.
        parts.append(point_usage(tables, points, usage) if usage_facts is None
                     else usage_facts)
    if "subscriptions" in sources:
        parts.append(_subscriptions(tables, points, base_currency))
    parts += [_PASSES[s](tables, points) for s in sorted(sources & set(_PASSES))]
    for part in parts:
        facts = facts.left_join(part, ["account_id", "as_of"]).drop(
            "account_id_right", "as_of_right")
    accounts = _table(tables, "accounts").select("account_id", "segment")
    facts = facts.left_join(accounts, "account_id").drop("account_id_right")
    def value(f: Feature) -> ir.Value:
        if stand_ins or f.observed is None:
            return f.expr(facts)
        return ibis.ifelse(f.observed(facts), f.expr(facts), ibis.null())

    flags = {f"observed_{f.name}": f.observed(facts) for f in chosen
             if observed and f.observed is not None}
    out = facts.select("account_id", "as_of", "segment", **{f.name: value(f) for f in chosen},
                       **flags)
    attributes = [n for n in names if is_attribute(n)]
    if attributes:
        a = attributes_at(tables, points, attributes, base_currency=base_currency)
        out = out.left_join(a, ["account_id", "as_of"]).drop("account_id_right", "as_of_right")
        out = out.select("account_id", "as_of", "segment", *names, *flags)
    return out


def paying_accounts(tables: Mapping[str, ir.Table], *, as_of: date,
                    base_currency: str) -> ir.Table:
    """Accounts with MRR > 0 on `as_of` (running paid rows as known then): account_id, mrr.

    Example: paying_accounts(tables, as_of=date(2026, 6, 30), base_currency="USD").
    """
    s = subscription_mrr(_table(tables, "subscriptions"), _table(tables, "fx_rates"),
                         as_of=as_of, base_currency=base_currency)
    s = s.filter((s.start_date <= as_of) & (s.end_date.isnull() | (s.end_date > as_of)))
    per = s.group_by("account_id").agg(mrr=s.mrr.sum())
    return per.filter(per.mrr > 0)


def feature_table(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                  features: Sequence[str] | None = None, lookback: Sequence[int] = (),
                  usage: ir.Table | None = None, known: DayUsage | None = None) -> ir.Table:
    """Features of the accounts paying on `as_of`, one row per account (see the module).

    With `lookback` (days, e.g. (7, 30)) the same accounts also get rows as of those days
    earlier, which `health_scores` uses for the change of the score. `known`: the run's
    usage facts (`day_usage`), read instead of the events when they hold these days.
    Example: feature_table(tables, as_of=date(2026, 6, 30), base_currency="USD").
    """
    paying = paying_accounts(tables, as_of=as_of, base_currency=base_currency)
    dates = [as_of, *(as_of - timedelta(days=n) for n in lookback)]
    return feature_table_at(tables, points_for(paying, dates), base_currency=base_currency,
                            features=features, usage=usage,
                            usage_facts=None if known is None else known.facts_for(dates))
