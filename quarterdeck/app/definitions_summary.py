"""Each workspace definition in words, as the definitions page shows it: health models with
their components, lifecycle stages and CS segments with their conditions, signals, playbooks
and their steps, scheduled reports, settings, tiers, data-quality rules and identity matching.

Everything here reads validated definitions and returns `Entry` items; nothing opens a file.
A value that may hold a secret (a password in a URL, a webhook address, an option named like a
token) is never put in an entry: only whether it is set.

Example: signal_entries(load_signals(folder))[0].facts["Cool-down"] → "30 days".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, Field

from quarterdeck.health.definitions import Component, HealthModels
from quarterdeck.identity.definitions import IdentityDefinitions
from quarterdeck.lifecycle.definitions import LifecycleDefinitions, Milestone, Rule
from quarterdeck.playbooks.definitions import Playbook, PlaybookDefinitions, TaskTemplate
from quarterdeck.quality.definitions import QualityDefinitions
from quarterdeck.reports.definitions import ReportDefinitions, SmtpChannel, WebhookChannel
from quarterdeck.rules.conditions import Condition
from quarterdeck.signals.definitions import SignalDefinitions
from quarterdeck.workspace.settings import WorkspaceSettings
from quarterdeck.workspace.workspace import (
    ENV_APP_DATABASE_URL,
    ENV_WAREHOUSE_URL,
    TierDefinitions,
)

HIDDEN = "set (hidden)"
_SECRET_NAME = re.compile(r"token|secret|passw|pwd|key|credential|auth|private|cert|signature",
                          re.IGNORECASE)


class Table(BaseModel):
    columns: list[str]
    rows: list[list[str]]


class Entry(BaseModel):
    """One thing a definition file defines: its name, what it means, its settings in words
    and, for things made of parts (a model's components, a playbook's steps), a table."""

    name: str
    description: str = ""
    facts: dict[str, str] = Field(default_factory=dict)
    table: Table | None = None


# -- secrets ------------------------------------------------------------------------------

def is_secret_name(name: str) -> bool:
    """Whether a setting's name says it holds a secret (api_key, access_token, password …)."""
    return bool(_SECRET_NAME.search(str(name)))


def masked_url(url: str) -> str:
    """A connection URL without its secrets: the password (everything between the user's
    name and the last `@`; a web address's whole user part) and the values of secret-named
    query parameters become `***`. Example: masked_url("postgresql://qd:pw@db/prod?sslmode=x")
    → "postgresql://qd:***@db/prod?sslmode=x"."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    if "@" in rest:
        # The last @ ends the user part even when a password holds an unescaped @, ? or #;
        # an @ further on (a query value) only hides more than needed.
        userinfo, _, rest = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if colon:
            userinfo = f"{user}:***"
        elif scheme.startswith("http"):
            userinfo = "***"  # the user part of a web address is a token as often as a name
        rest = f"{userinfo}@{rest}"
    place, question, query = rest.partition("?")
    if question:
        query = "&".join(f"{k}={'***' if is_secret_name(k) else v}"
                         for k, v in parse_qsl(query, keep_blank_values=True))
    return f"{scheme}://{place}{question}{query}"


def shown_value(name: str, value: Any) -> str:
    """An option's value in words, with anything named like a secret hidden."""
    if is_secret_name(name):
        return HIDDEN if value not in (None, "") else "not set"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {shown_value(k, v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(shown_value(name, v) for v in value) or "none"
    if isinstance(value, str) and "://" in value:
        return masked_url(value)
    return _num(value) if isinstance(value, float | int) and not isinstance(value, bool) \
        else str(value).lower() if isinstance(value, bool) else str(value)


def env_state(variable: str | None) -> str:
    """`NAME (set)` or `NAME (not set)` for an environment variable, never its value."""
    if not variable:
        return "not used"
    return f"{variable} ({'set' if os.environ.get(variable) else 'not set'})"


# -- words --------------------------------------------------------------------------------

def _num(value: float | int) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%" if float(round(value * 100, 6)).is_integer() else f"{value:.1%}"


def _condition(rule: Condition, otherwise: str = "always") -> str:
    text = rule.text()
    return otherwise if text == "always" else text


def _business_days_words(setting: bool | str) -> str:
    if setting == "roll":
        return "calendar days, moved back to a business day"
    return "counted" if setting else "no"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _listed(values: list[str] | tuple[str, ...], empty: str = "none") -> str:
    return ", ".join(values) or empty


OWNER_WORDS = {"account_owner": "the account's CSM",
               "owner_manager": "the CSM's manager (team file)"}


def owner_words(rule: str) -> str:
    """An owner rule in words. Example: owner_words("role:ops") → "the first ops of the team
    file"."""
    if rule in OWNER_WORDS:
        return OWNER_WORDS[rule]
    if rule.startswith("role:"):
        return f"the first {rule[5:]} of the team file"
    return rule


# -- settings and tiers -------------------------------------------------------------------

def _database(url: str, variable: str) -> str:
    override = os.environ.get(variable)
    if override:
        return f"{masked_url(override)} (from {variable})"
    return masked_url(url)


def settings_entries(settings: WorkspaceSettings) -> list[Entry]:
    churn = settings.churn
    return [
        Entry(name=settings.name, description="Money, time and where the data lives.", facts={
            "Base currency": settings.base_currency,
            "Fiscal year starts": f"month {settings.fiscal_year_start_month}",
            "Time zone": settings.timezone,
            "Warehouse": _database(settings.warehouse.url, ENV_WAREHOUSE_URL),
            "App database": _database(settings.app_database.url, ENV_APP_DATABASE_URL),
            "Server": f"{settings.server.host}:{settings.server.port}, secure cookies "
                      f"{settings.server.secure_cookies}",
            "Zero-priced plan counts as": settings.metrics.free_plan,
            "Unpaid invoice stops MRR": (f"after {settings.metrics.past_due_churn_days} days "
                                         "past due" if settings.metrics.past_due_churn_days
                                         else "never (MRR until cancelled)"),
            "Churn window": f"{churn.window_days} days, models retrained every "
                            f"{churn.retrain_days} days",
            "Churn model attributes": ("every one the data has" if churn.attributes is None
                                       else _listed(churn.attributes)),
        }),
    ]


def tier_entries(tiers: TierDefinitions) -> list[Entry]:
    rows, ceiling = [], None
    for tier in tiers.tiers:
        arr = f"≥ {_num(tier.min_arr)}" if ceiling is None else \
            f"{_num(tier.min_arr)} to under {_num(ceiling)}"
        rows.append([tier.name, arr])
        ceiling = tier.min_arr
    return [Entry(name="Tiers", description="An account takes the first tier its ARR meets.",
                  table=Table(columns=["Tier", "ARR (base currency)"], rows=rows))]


# -- health -------------------------------------------------------------------------------

def scoring_words(component: Component) -> str:
    """How a component turns its value into points. Example: "below 8: 100 · below 15: 50 ·
    higher: 0", or "0 points at 1, 100 at 8"."""
    if component.linear is not None:
        return f"0 points at {_num(component.linear.from_)}, 100 at {_num(component.linear.to)}"
    steps = component.thresholds or []
    return " · ".join(f"below {_num(s.below)}: {_num(s.score)}" if s.below is not None
                      else f"higher: {_num(s.score)}" for s in steps)


def health_entries(models: HealthModels) -> list[Entry]:
    out = []
    for model in models.models:
        total = sum(c.weight for c in model.components)
        bands = model.bands or models.bands
        rows = [[c.feature, f"{_num(c.weight)} ({_pct(c.weight / total)})", scoring_words(c),
                 "skipped" if c.if_missing is None else f"{_num(c.if_missing)} points"]
                for c in model.components]
        out.append(Entry(name=model.name, description=model.description, facts={
            "Segments": _listed(model.segments, "every account no other model takes "
                                "(the default model)"),
            "Bands": f"red below {_num(bands.red)}, yellow below {_num(bands.yellow)}, "
                     "green from there",
            "Least weight with data": _pct(model.min_weight_covered),
        }, table=Table(columns=["Component", "Weight", "Points", "Without data"], rows=rows)))
    return out


# -- lifecycle, signals, playbooks --------------------------------------------------------

def _milestone_source(m: Milestone) -> str:
    if m.activity is not None:
        return f"a {m.activity.kind} activity" + (
            f" with subject {m.activity.subject!r}" if m.activity.subject else "")
    if m.event is not None:
        return f"product event {m.event.name!r}"
    assert m.usage is not None
    return f"a day with {m.usage.metric} ≥ {_num(m.usage.at_least)}"


def _rules_table(rules: list[Rule]) -> Table:
    last = len(rules) - 1
    return Table(columns=["#", "Name", "When", "Meaning"], rows=[
        [str(i + 1), r.name, _condition(r, "every other account" if i == last else "always"),
         r.description] for i, r in enumerate(rules)])


def lifecycle_entries(lifecycle: LifecycleDefinitions) -> list[Entry]:
    onboarding = lifecycle.onboarding
    out = [
        Entry(name="Lifecycle stages", description="An account is in the first stage whose "
              "condition holds, in this order.", table=_rules_table(lifecycle.stages)),
        Entry(name="CS segments", description="The coverage model: the first segment whose "
              "condition holds." if lifecycle.segments else "No CS segments are defined.",
              table=_rules_table(lifecycle.segments) if lifecycle.segments else None),
        Entry(name="Onboarding", facts={
            "Target": f"complete within {onboarding.target_days} days of the start",
            "First value": onboarding.first_value.name if onboarding.first_value else "not set",
        }, table=Table(columns=["Milestone", "Reached by", "Required", "Meaning"], rows=[
            [m.name, _milestone_source(m), _yes(m.required), m.description]
            for m in onboarding.milestones]) if onboarding.milestones else None),
    ]
    return out


def cooldown_words(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def signal_entries(signals: SignalDefinitions) -> list[Entry]:
    return [Entry(name=s.name, description=s.description, facts={
        "Kind": s.kind,
        "Severity": s.severity,
        "When": _condition(s),
        "Alert goes to": owner_words(s.owner),
        "Cool-down": cooldown_words(s.cooldown_days),
        "One alert per": _listed(s.dedup_by),
        "Resolves itself": _yes(s.auto_resolve),
        "Evidence": _listed(s.evidence_facts()),
    }) for s in signals.signals]


ANCHOR_WORDS = {"contract_start": "the contract start", "renewal_date": "the renewal date",
                "alert_date": "the alert's day", "stage_entry": "entering the stage",
                "start_date": "the day it starts"}


def trigger_words(playbook: Playbook) -> str:
    trigger = playbook.trigger
    if trigger.kind == "stage":
        return f"an account enters stage {trigger.stage}"
    if trigger.kind == "signal":
        return f"signal {trigger.signal} opens an alert"
    if trigger.kind == "manual":
        return "started by hand"
    once = f", once per {_listed(trigger.key_by)}" if trigger.key_by else ""
    return f"{_condition(trigger)}{once}"


def due_words(task: TaskTemplate, playbook: Playbook) -> str:
    """When a step is due. Example: "120 business days before the renewal date"."""
    anchor = ANCHOR_WORDS.get(playbook.anchor, playbook.anchor)
    if task.due == 0:
        return f"on {anchor}"
    unit = "business day" if playbook.business_days in (True, "count") else "day"
    n = abs(task.due)
    return f"{n} {unit}{'s' if n != 1 else ''} {'after' if task.due > 0 else 'before'} {anchor}"


def _done_words(task: TaskTemplate) -> str:
    done = task.done_when
    if done is None:
        return "closed by hand"
    if done.milestone:
        return f"milestone {done.milestone} reached"
    return f"a {done.activity} logged from {done.within_days} days before it is due"


def playbook_entries(playbooks: PlaybookDefinitions) -> list[Entry]:
    out = []
    for p in playbooks.playbooks:
        out.append(Entry(name=p.name, description=p.description, facts={
            "Starts when": trigger_words(p),
            "Days counted from": ANCHOR_WORDS.get(p.anchor, p.anchor),
            "Business days": _business_days_words(p.business_days),
            "Cancelled when the trigger clears": _yes(p.cancel_when_trigger_clears),
            "Late steps kept": f"due within the last {p.catch_up_days} days",
        }, table=Table(columns=["Step", "Due", "Owner", "After", "Done when"], rows=[
            [f"{t.title} ({t.key})", due_words(t, p), owner_words(t.owner),
             _listed(t.depends_on, "—"), _done_words(t)] for t in p.tasks])))
    if playbooks.holidays:
        out.append(Entry(name="Holidays", description="Days that are not business days.",
                         facts={"Days": _listed([d.isoformat() for d in playbooks.holidays])}))
    return out


# -- reports, quality, identity -----------------------------------------------------------

def schedule_words(every: str, day: str, day_of_month: int) -> str:
    if every == "day":
        return "every day"
    if every == "week":
        return f"every {day.capitalize()}"
    return f"on day {day_of_month} of every month"


def _channel_facts(channel: SmtpChannel | WebhookChannel) -> dict[str, str]:
    if isinstance(channel, SmtpChannel):
        return {"Kind": "email (SMTP)", "Server": f"{channel.host}:{channel.port}"
                + (" with STARTTLS" if channel.starttls else ""), "Sender": channel.sender,
                "User name": env_state(channel.username_env),
                "Password": env_state(channel.password_env)}
    address = HIDDEN + " in the file" if channel.url else env_state(channel.url_env)
    return {"Kind": "webhook", "Address": address}


def report_entries(reports: ReportDefinitions) -> list[Entry]:
    out = [Entry(name="Targets and actions", facts={
        "NRR target": _pct(float(reports.targets.nrr)),
        "GRR target": _pct(float(reports.targets.grr)),
        "Account page": masked_url(reports.account_url),
        "Actions per owner": str(reports.actions_per_owner),
        "Delivery retries": f"{reports.retry.attempts} tries, {_num(reports.retry.wait_seconds)} "
                            "seconds apart",
    })]
    for r in reports.reports:
        audience = [*(f"every {role}" for role in r.audience.roles),
                    *(f"the team of {t}" for t in r.audience.teams), *r.audience.people]
        out.append(Entry(name=r.name, description=f"The {r.report} report as {r.format}.",
                         facts={"Audience": _listed(audience, "nobody yet"),
                                "Schedule": schedule_words(r.schedule.every, r.schedule.day,
                                                           r.schedule.day_of_month),
                                "Channels": _listed(r.channels)}))
    for name, channel in reports.channels.items():
        out.append(Entry(name=f"Channel {name}", facts=_channel_facts(channel)))
    return out


def quality_entries(quality: QualityDefinitions) -> list[Entry]:
    recommended = quality.completeness.recommended
    rows = [[r.label, r.kind, f"{r.entity}.{', '.join(r.columns)}", r.severity,
             _pct(r.threshold), r.description] for r in quality.rules]
    return [Entry(name="Checks and rules", facts={
        "Recommended fields": f"{sum(len(v) for v in recommended.values())} over "
                              f"{len(recommended)} entities ({quality.completeness.severity} "
                              f"above {_pct(quality.completeness.threshold)} empty)",
        "Freshness checked on": _listed(quality.freshness.entities),
        "Orphans": f"{quality.orphans.severity} above {_pct(quality.orphans.threshold)}",
        "Duplicates": f"{quality.duplicates.severity} above {_pct(quality.duplicates.threshold)}",
    }, table=Table(columns=["Rule", "Kind", "Checks", "Severity", "Allowed failing", "Why"],
                   rows=rows) if rows else None)]


def identity_entries(identity: IdentityDefinitions) -> list[Entry]:
    return [Entry(name="Matching accounts into customers", facts={
        "Merge from": f"{_pct(identity.threshold)} match probability",
        "Listed for review from": _pct(identity.review_floor),
        "Within one source": f"the {identity.tie_break} record's value wins",
        "Two paying accounts merge": "on a probable match too" if
                                     identity.merge_paying_accounts else
                                     "only on shared ids, equal domains or a confirmation",
        "Most trusted sources": _listed(identity.source_priority, "no order set"),
        "Field owners": _listed([f"{f}: {', '.join(s)}" for f, s in
                                 identity.survivorship.items()], "none"),
        "Confirmed and split pairs": f"{len(identity.confirm)} confirmed, "
                                     f"{len(identity.split)} split",
    })]
