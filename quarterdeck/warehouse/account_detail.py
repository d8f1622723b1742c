"""What the account page shows beyond the snapshot, as known on a date: the timeline, contacts,
subscriptions, opportunities and weekly usage of every account.

Each function returns an Ibis expression over the canonical tables; nothing after `as_of` is
seen (a ticket opened later, a cancellation recorded later, a contact who left later).

- `account_timeline`: what happened with the account in the `TIMELINE_DAYS` days ending on the
  date, newest first, at most `TIMELINE_PER_ACCOUNT` entries per account. Kinds:
  subscription_started / trial_started (value: the line's MRR in the base currency),
  subscription_ended, cancellation_recorded (related_on: the day service stops),
  ticket_opened (subject: priority; value: days to solve when solved by the date),
  nps_response / csat_response (value: the score; subject: the comment), meeting, qbr, call,
  email, note, milestone (subject: the activity's subject), opportunity_won / opportunity_lost
  (subject: the opportunity's kind; value: ARR in its currency), contact_left (subject: name).
- `account_contacts`: contacts added by the date, with `left_on` when they had left by then.
- `account_subscriptions`: subscription lines started by the date, with their MRR (base
  currency, the reference rule of `subscription_mrr`) and a status on the date: active (a
  fixed term's end is its renewal date), cancelling (a cancellation recorded by the date, its
  end still ahead), ended, trial.
- `account_opportunities`: every opportunity (the contract keeps no point in time for them).
- `account_usage_weekly`: events and the average daily active users per week (Monday to
  Sunday) for the `USAGE_WEEKS` weeks ending with the week holding the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.warehouse.schema import entity_table
from quarterdeck.warehouse.subscription_mrr import day_after, subscription_mrr

TIMELINE_DAYS = 365
TIMELINE_PER_ACCOUNT = 100
USAGE_WEEKS = 26

#: The timeline's columns and types, in order (every kind fills what applies, NULL elsewhere).
TIMELINE_SCHEMA = ibis.schema({
    "account_id": dt.string, "occurred_at": dt.Timestamp(), "kind": dt.string,
    "subject": dt.string, "value": dt.float64, "currency": dt.string,
    "related_on": dt.date, "ref_id": dt.string,
})


def _entry(t: ir.Table, *, occurred_at: ir.Value, kind: ir.Value | str, ref_id: ir.Value,
           subject: ir.Value | None = None, value: ir.Value | None = None,
           currency: ir.Value | str | None = None, related_on: ir.Value | None = None) -> ir.Table:
    """One kind of timeline entry from `t`, in the timeline's columns."""
    def lit(v: ir.Value | str | None, typ: dt.DataType) -> ir.Value:
        if v is None:
            return ibis.null(typ)
        return (ibis.literal(v) if isinstance(v, str) else v).cast(typ)

    return t.select(
        account_id=t.account_id.cast(dt.string),
        occurred_at=occurred_at.cast(dt.Timestamp()),
        kind=lit(kind, dt.string),
        subject=lit(subject, dt.string),
        value=lit(value, dt.float64),
        currency=lit(currency, dt.string),
        related_on=lit(related_on, dt.date),
        ref_id=ref_id.cast(dt.string),
    )


def account_timeline(tables: Mapping[str, ir.Table], *, as_of: date, base_currency: str,
                     days: int = TIMELINE_DAYS,
                     per_account: int = TIMELINE_PER_ACCOUNT) -> ir.Table:
    """Every account's timeline of the `days` days ending on `as_of` (see the module)."""
    since = day_after(as_of - timedelta(days=days))
    until = day_after(as_of)
    first_day = as_of - timedelta(days=days - 1)
    parts: list[ir.Table] = []

    subs = subscription_mrr(entity_table(tables, "subscriptions"), entity_table(tables, "fx_rates"),
                            as_of=as_of, base_currency=base_currency)
    started = subs.filter(subs.start_date >= first_day)
    parts.append(_entry(
        started, occurred_at=started.start_date,
        kind=ibis.ifelse(started.trial, "trial_started", "subscription_started"),
        subject=started.plan, value=started.mrr, currency=base_currency,
        ref_id=started.subscription_id))
    ended = subs.filter(subs.end_date.notnull() & (subs.end_date <= as_of)
                        & (subs.end_date >= first_day))
    parts.append(_entry(ended, occurred_at=ended.end_date, kind="subscription_ended",
                        subject=ended.plan, value=ended.mrr, currency=base_currency,
                        ref_id=ended.subscription_id))
    raw = entity_table(tables, "subscriptions")
    canceled = raw.filter((raw.canceled_at >= since) & (raw.canceled_at < until))
    parts.append(_entry(canceled, occurred_at=canceled.canceled_at,
                        kind="cancellation_recorded", subject=canceled.plan,
                        related_on=canceled.end_date, ref_id=canceled.subscription_id))

    tickets = entity_table(tables, "tickets")
    opened = tickets.filter((tickets.created_at >= since) & (tickets.created_at < until))
    solved_by_then = opened.solved_at.notnull() & (opened.solved_at < until)
    solve_days = (opened.solved_at.epoch_seconds() - opened.created_at.epoch_seconds()) / 86400
    parts.append(_entry(opened, occurred_at=opened.created_at, kind="ticket_opened",
                        subject=opened.priority,
                        value=ibis.ifelse(solved_by_then, solve_days, ibis.null(dt.float64)),
                        ref_id=opened.ticket_id))

    surveys = entity_table(tables, "surveys")
    answered = surveys.filter((surveys.responded_at >= since) & (surveys.responded_at < until))
    parts.append(_entry(answered, occurred_at=answered.responded_at,
                        kind=answered.kind + "_response", subject=answered.comment,
                        value=answered.score, ref_id=answered.response_id))

    activities = entity_table(tables, "activities")
    done = activities.filter((activities.occurred_at >= since) & (activities.occurred_at < until))
    parts.append(_entry(done, occurred_at=done.occurred_at, kind=done.kind, subject=done.subject,
                        ref_id=done.activity_id))

    opps = entity_table(tables, "opportunities")
    closed = opps.filter(opps.outcome.isin(["won", "lost"]) & (opps.close_date >= first_day)
                         & (opps.close_date <= as_of))
    parts.append(_entry(closed, occurred_at=closed.close_date,
                        kind="opportunity_" + closed.outcome, subject=closed.kind,
                        value=closed.amount_arr, currency=closed.currency,
                        ref_id=closed.opportunity_id))

    contacts = entity_table(tables, "contacts")
    left = contacts.filter((contacts.left_at >= since) & (contacts.left_at < until))
    parts.append(_entry(left, occurred_at=left.left_at, kind="contact_left",
                        subject=left.name.fill_null(left.email), ref_id=left.contact_id))

    timeline = ibis.union(*parts)
    ranked = timeline.mutate(rank=ibis.row_number().over(
        group_by="account_id", order_by=[ibis.desc("occurred_at"), "kind", "ref_id"]))
    return ranked.filter(ranked["rank"] < per_account).select(*TIMELINE_SCHEMA.names)


def account_contacts(tables: Mapping[str, ir.Table], *, as_of: date) -> ir.Table:
    """Contacts known on `as_of`, champions flagged by their persona, leavers with `left_on`."""
    c = entity_table(tables, "contacts")
    c = c.filter(c.created_at.isnull() | (c.created_at < day_after(as_of)))
    left = c.left_at.notnull() & (c.left_at < day_after(as_of))
    return c.select(
        "account_id", "contact_id", "name", "email", "title", "persona",
        created_on=c.created_at.date(),
        left_on=ibis.ifelse(left, c.left_at.date(), ibis.null(dt.date)),
    )


def account_subscriptions(tables: Mapping[str, ir.Table], *, as_of: date,
                          base_currency: str) -> ir.Table:
    """Subscription lines started by `as_of` with their MRR and their status on the date."""
    s = subscription_mrr(entity_table(tables, "subscriptions"), entity_table(tables, "fx_rates"),
                         as_of=as_of, base_currency=base_currency)
    raw = entity_table(tables, "subscriptions").select(
        "subscription_id", "quantity", "contract_id", "auto_renew", "canceled_at")
    s = s.left_join(raw, "subscription_id").drop("subscription_id_right")
    canceled = s.canceled_at.notnull() & (s.canceled_at < day_after(as_of))
    status = ibis.cases(
        (s.end_date.notnull() & (s.end_date <= as_of), "ended"),
        (s.trial, "trial"),
        (canceled, "cancelling"),
        else_="active",
    )
    return s.select(
        "account_id", "subscription_id", "plan", "quantity", "currency", "interval_months",
        "start_date", "end_date", "contract_id", "auto_renew", "trial",
        canceled_on=ibis.ifelse(canceled, s.canceled_at.date(), ibis.null(dt.date)),
        mrr_local=s.mrr_local, mrr=s.mrr, status=status,
    )


def account_opportunities(tables: Mapping[str, ir.Table]) -> ir.Table:
    """Every opportunity (renewal, expansion, new) with its stage, amount and outcome."""
    o = entity_table(tables, "opportunities")
    return o.select("account_id", "opportunity_id", "kind", "amount_arr", "currency", "stage",
                    "close_date", "outcome")


def account_usage_weekly(usage: ir.Table, *, as_of: date, weeks: int = USAGE_WEEKS) -> ir.Table:
    """Per account and week (Monday start): events and average daily active users, for the
    `weeks` weeks ending with the week that holds `as_of` (that week counted to the date).

    `usage` is `account_usage_daily`. A day without a row counts as a day with no one active;
    the current week is averaged over its days up to `as_of`.
    """
    this_monday = as_of - timedelta(days=as_of.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    u = usage.filter((usage.date >= first) & (usage.date <= as_of))
    u = u.mutate(week_start=u.date.truncate("W"))
    weekly = u.group_by("account_id", "week_start").agg(
        events=u.events.sum().cast(dt.int64),
        active_user_days=u.active_users.sum().cast(dt.int64),
    )
    days_in_week = ibis.ifelse(weekly.week_start == ibis.literal(this_monday),
                               as_of.weekday() + 1, 7)
    return weekly.select(
        "account_id", week_start=weekly.week_start.cast(dt.date), events=weekly.events,
        avg_daily_active_users=(weekly.active_user_days / days_in_week).cast(dt.float64),
    )
