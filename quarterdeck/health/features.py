"""The registry of candidate health features: named, documented, each one number per account.

A feature is a definition in domain words plus an Ibis expression over the *facts* of one
account as of one date (the aggregates `feature_table` gathers from each source table, see
`quarterdeck.health.feature_table`). Health models, validation and the churn model look
features up here by name. Every window ends on the as-of day T and includes it: "30 days"
means the days T−29 … T.

Example: FEATURES["urgent_tickets_30d"].description → "Urgent tickets opened in the last 30
days."
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.health.number_phrases import thousands

Expr = Callable[[ir.Table], ir.Value]
Phrase = Callable[[ir.Value], ir.StringValue]


@dataclass(frozen=True)
class Feature:
    """One candidate signal: its name, definition, the source passes it reads and its formula.

    `higher_is_healthier` is the expected direction (validation measures the real one);
    `phrase` turns a raw value into the words of a reason ("2 urgent tickets in 30 days").
    """

    name: str
    description: str
    sources: tuple[str, ...]
    expr: Expr
    phrase: Phrase
    higher_is_healthier: bool
    unit: str = ""
    # When the value is a stand-in for an account with no rows of its own (days since it
    # became a customer for one that never had an event): true where the value is observed.
    observed: Expr | None = None
    # The words for a stand-in value ("no product use recorded in 181 days as a customer").
    unobserved_phrase: Phrase | None = None


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den as a float; NULL when den is 0 or NULL."""
    den = den.cast(dt.float64)
    return ibis.ifelse(den > 0, num.cast(dt.float64) / den, ibis.null(dt.float64))


def _change(now: ir.NumericValue, before: ir.NumericValue) -> ir.FloatingValue:
    """Relative change now vs before (−0.45 = down 45%); NULL when before is 0 or NULL."""
    return _ratio(now, before) - 1


def _days(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    return later.delta(earlier, unit="day").cast(dt.int64)


def _num(value: ir.NumericValue, places: int = 0) -> ir.StringValue:
    """A number as text: a whole number with thousands separators, or rounded to `places`
    decimals."""
    if places == 0:
        return thousands(value)
    return value.cast(dt.float64).round(places).cast(dt.string)


def _pct_change(label: str, window: str) -> Phrase:
    def phrase(v: ir.Value) -> ir.StringValue:
        pct = _num((v * 100).abs())
        way = ibis.ifelse(v < 0, " down ", " up ")
        return label + way + pct + "% " + window
    return phrase


def _count(singular: str, plural: str, tail: str = "") -> Phrase:
    def phrase(v: ir.Value) -> ir.StringValue:
        return _num(v) + ibis.ifelse(v == 1, " " + singular, " " + plural) + tail
    return phrase


def _days_since(what: str) -> Phrase:
    return lambda v: _num(v) + " days since " + what


def _never(what: str) -> Phrase:
    """Words for an account without any such row: with its days as a customer when known."""
    return lambda v: ibis.ifelse(v.isnull(), ibis.literal("no " + what + " recorded"),
                                 "no " + what + " recorded in " + _num(v) + " days as a customer")


def _value(label: str, places: int = 0, suffix: str = "") -> Phrase:
    return lambda v: label + " " + _num(v, places) + suffix


FEATURES: dict[str, Feature] = {}


def _register(*features: Feature) -> None:
    for f in features:
        FEATURES[f.name] = f


_register(
    Feature("active_users_per_seat",
            "Distinct users with an event in the last 7 days, per seat of the running paid "
            "subscriptions (seats = sum of their quantity).",
            ("usage", "subscriptions"), lambda f: _ratio(f.active_users_7d, f.seats),
            _value("weekly active users per seat", 2), True, "users/seat"),
    Feature("active_users_trend_30d",
            "Relative change of weekly active users: the last 7 days vs the 7 days ending 30 "
            "days earlier (−0.4 = down 40%). Missing when nobody was active then.",
            ("usage",), lambda f: _change(f.active_users_7d, f.active_users_7d_before),
            _pct_change("weekly active users", "in 30 days"), True, "ratio"),
    Feature("events_per_seat_30d",
            "Product events in the last 30 days per seat of the running paid subscriptions.",
            ("usage", "subscriptions"), lambda f: _ratio(f.events_30d, f.seats),
            _value("events per seat in 30 days:", 1), True, "events/seat"),
    Feature("usage_trend_30d",
            "Relative change of product events: the last 30 days vs the 30 days before "
            "(−0.45 = down 45%). Missing when there were none before.",
            ("usage",), lambda f: _change(f.events_30d, f.events_prev_30d),
            _pct_change("usage", "in 30 days"), True, "ratio"),
    Feature("events_per_seat_7d",
            "Product events in the last 7 days per seat of the running paid subscriptions.",
            ("usage", "subscriptions"), lambda f: _ratio(f.events_7d, f.seats),
            _value("events per seat in 7 days:", 1), True, "events/seat"),
    Feature("usage_trend_7d",
            "Relative change of product events: the last 7 days vs the 7 days before "
            "(−0.45 = down 45%). Missing when there were none before.",
            ("usage",), lambda f: _change(f.events_7d, f.events_prev_7d),
            _pct_change("usage", "in 7 days"), True, "ratio"),
    Feature("usage_trend_14d",
            "Relative change of product events: the last 14 days vs the 14 days before "
            "(−0.45 = down 45%). Missing when there were none before.",
            ("usage",), lambda f: _change(f.events_14d, f.events_prev_14d),
            _pct_change("usage", "in 14 days"), True, "ratio"),
    Feature("active_users_trend_7d",
            "Relative change of active users: the last 7 days vs the 7 days before "
            "(−0.4 = down 40%). Missing when nobody was active then.",
            ("usage",), lambda f: _change(f.active_users_7d, f.active_users_prev_7d),
            _pct_change("active users", "in 7 days"), True, "ratio"),
    Feature("active_users_30d_per_seat",
            "Distinct users with an event in the last 30 days, per seat.",
            ("usage", "subscriptions"), lambda f: _ratio(f.active_users_30d, f.seats),
            _value("monthly active users per seat", 2), True, "users/seat"),
    Feature("active_days_30d",
            "Days with at least one product event in the last 30 days.",
            ("usage",), lambda f: f.active_days_30d.fill_null(0),
            _count("active day in 30 days", "active days in 30 days"), True, "days"),
    Feature("events_per_active_user_30d",
            "Product events in the last 30 days per user active in them: depth of use.",
            ("usage",), lambda f: _ratio(f.events_30d, f.active_users_30d),
            _value("events per active user in 30 days:", 1), True, "events/user"),
    Feature("features_used_7d",
            "Breadth of use: distinct event names seen in the last 7 days.",
            ("usage",), lambda f: f.event_kinds_7d.fill_null(0),
            _count("feature used in 7 days", "features used in 7 days"), True, "features"),
    Feature("features_used_30d",
            "Breadth of use: distinct event names seen in the last 30 days.",
            ("usage",), lambda f: f.event_kinds_30d.fill_null(0),
            _count("feature used in 30 days", "features used in 30 days"), True, "features"),
    Feature("days_since_last_event",
            "Days since the account's last product event (any user, any event, e.g. a login); "
            "since it became a customer when it never had one.",
            ("usage", "subscriptions"),
            lambda f: _days(f.as_of, ibis.coalesce(f.last_event_date, f.customer_since)),
            _days_since("the last product use"), False, "days",
            lambda f: f.last_event_date.notnull(), _never("product use")),
    Feature("tickets_30d", "Support tickets opened in the last 30 days.",
            ("tickets",), lambda f: f.tickets_30d.fill_null(0),
            _count("ticket in 30 days", "tickets in 30 days"), False, "tickets"),
    Feature("urgent_tickets_30d", "Urgent tickets opened in the last 30 days.",
            ("tickets",), lambda f: f.urgent_tickets_30d.fill_null(0),
            _count("urgent ticket in 30 days", "urgent tickets in 30 days"), False, "tickets"),
    Feature("open_tickets",
            "Tickets open at the end of T: opened by then and not solved by then.",
            ("tickets",), lambda f: f.open_tickets.fill_null(0),
            _count("ticket open", "tickets open"), False, "tickets"),
    Feature("latest_nps",
            "The most recent NPS answer (0–10) from the account in the last 365 days.",
            ("surveys",), lambda f: f.latest_nps, _value("latest NPS"), True, "0–10"),
    Feature("csat_90d",
            "Average satisfaction (1–5) over the last 90 days: CSAT survey answers and ratings "
            "of tickets solved in the window.",
            ("surveys", "tickets"),
            lambda f: _ratio(f.survey_csat_sum.fill_null(0) + f.ticket_csat_sum.fill_null(0),
                             f.survey_csat_n.fill_null(0) + f.ticket_csat_n.fill_null(0)),
            _value("CSAT", 1, " in 90 days"), True, "1–5"),
    Feature("days_since_last_meeting",
            "Days since the last meeting or QBR with the account; since it became a customer "
            "when it never had one.",
            ("activities", "subscriptions"),
            lambda f: _days(f.as_of, ibis.coalesce(f.last_meeting_date, f.customer_since)),
            _days_since("the last meeting"), False, "days",
            lambda f: f.last_meeting_date.notnull(), _never("meeting")),
    Feature("days_since_last_qbr",
            "Days since the last QBR; since it became a customer when it never had one.",
            ("activities", "subscriptions"),
            lambda f: _days(f.as_of, ibis.coalesce(f.last_qbr_date, f.customer_since)),
            _days_since("the last QBR"), False, "days",
            lambda f: f.last_qbr_date.notnull(), _never("QBR")),
    Feature("champion_left_90d",
            "1 when a contact with the champion persona left in the last 90 days, else 0.",
            ("contacts",), lambda f: ibis.ifelse(f.champions_left_90d.fill_null(0) > 0, 1, 0),
            lambda v: ibis.literal("champion left in the last 90 days"), False, "flag"),
    Feature("overdue_invoices",
            "Invoices unpaid at the end of T whose due date was before T.",
            ("invoices",), lambda f: f.overdue_invoices.fill_null(0),
            _count("invoice overdue", "invoices overdue"), False, "invoices"),
    Feature("days_to_renewal",
            "Days from T to the next renewal: the earliest end date of the running paid rows, "
            "or for an open-ended row its next term boundary (start + whole billing intervals).",
            ("subscriptions",), lambda f: _days(f.next_renewal, f.as_of),
            lambda v: "renewal in " + _num(v) + " days", True, "days"),
    Feature("mrr_trend_90d",
            "Relative change of MRR vs 90 days earlier (−0.2 = down 20%); missing when the "
            "account paid nothing then.",
            ("subscriptions",), lambda f: _change(f.mrr, f.mrr_90d_before),
            _pct_change("MRR", "in 90 days"), True, "ratio"),
    Feature("tenure_days", "Days since the account's first paid subscription started.",
            ("subscriptions",), lambda f: _days(f.as_of, f.customer_since),
            lambda v: "customer for " + _num(v) + " days", True, "days"),
    Feature("arr", "ARR on T in the base currency (12 × MRR of the running rows).",
            ("subscriptions",), lambda f: (f.mrr * 12).cast(dt.float64),
            _value("ARR"), True, "base currency"),
    Feature("term_months",
            "Billing interval in months of the longest running paid row (1 = monthly).",
            ("subscriptions",), lambda f: f.term_months, _value("term of", 0, " months"),
            True, "months"),
)


#: The entities each of `Feature.sources` reads, so a stale entity can be traced to the
#: features (and health scores) it feeds.
SOURCE_ENTITIES: dict[str, tuple[str, ...]] = {
    "usage": ("events", "users"), "subscriptions": ("subscriptions",),
    "tickets": ("tickets",), "surveys": ("surveys",), "activities": ("activities",),
    "contacts": ("contacts",), "invoices": ("invoices",),
}


def feature_entities(name: str) -> tuple[str, ...]:
    """The entities feature `name` reads. Example: feature_entities("csat_90d") →
    ("surveys", "tickets")."""
    return tuple(dict.fromkeys(e for s in feature(name).sources for e in SOURCE_ENTITIES[s]))


def feature(name: str) -> Feature:
    """The feature called `name`; KeyError naming the known ones otherwise."""
    try:
        return FEATURES[name]
    except KeyError:
        raise KeyError(f"unknown feature {name!r}; known: {', '.join(FEATURES)}") from None
