"""Next best actions: one concrete action per account that needs one, with its evidence,
ranked by ARR at stake × risk.

An active account needs an action when it has a live alert (open or acknowledged), an
overdue task, a health band that worsened in the week, a red band, or a renewal in the next
90 days while not green. The title comes from the strongest reason, in this order: the most
severe live alert (its signal's phrase in reports.yml `actions`), the oldest overdue task,
the renewal, the health. Risk is the published `churn_probability_window` when there is one,
else the band's risk in reports.yml `band_risk`. Pure: it reads only what it is given.

Example: an account of 180,000 ARR with a usage-drop alert, renewal in 42 days and a 0.4
churn probability → "Call the champion of Acme about the drop in usage", priority 72,000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from quarterdeck.reports.definitions import ReportDefinitions
from quarterdeck.reports.formatting import chance
from quarterdeck.reports.weekly_report import Action, HealthMove

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
BAND_ORDER = {"green": 0, "yellow": 1, "red": 2}
RENEWAL_DAYS = 90


@dataclass
class AccountBook:
    """What the report knows about one account on the date."""

    snapshot: Mapping[str, Any]
    band: str | None = None
    churn: Mapping[str, Any] | None = None
    alerts: list[Mapping[str, Any]] = field(default_factory=list)
    overdue_tasks: list[Mapping[str, Any]] = field(default_factory=list)
    move: HealthMove | None = None


def evidence_value(key: str, value: Any) -> str:
    """An evidence fact in words: `active_users_trend_30d: -0.57` → "active users trend 30d
    −57%"."""
    label = key.replace("_", " ")
    if isinstance(value, float) and ("trend" in key or "probability" in key):
        return f"{label} {value:+.0%}" if "trend" in key else f"{label} {value:.0%}"
    if isinstance(value, float) and key == "arr":
        return f"ARR {value:,.0f}"
    return f"{label} {value}"


def _alert_evidence(alert: Mapping[str, Any], description: str) -> str:
    facts = alert.get("evidence") or {}
    if isinstance(facts, str):
        import json

        facts = json.loads(facts)
    shown = [evidence_value(k, v) for k, v in sorted(facts.items())
             if k not in ("status", "arr", "days_to_renewal")]
    what = description or alert["signal"].replace("_", " ")
    return f"alert {alert['signal']} since {alert['fired_on']}: {what}" + (
        f" ({', '.join(shown)})" if shown else "")


def _title(book: AccountBook, name: str, days: int | None, defs: ReportDefinitions) -> str:
    if book.alerts:
        top = min(book.alerts, key=lambda a: SEVERITY_ORDER.get(a["severity"], 9))
        phrase = defs.actions.get(top["signal"])
        if phrase:
            return phrase.format(account=name)
        return f"Act on the {top['signal'].replace('_', ' ')} alert at {name}"
    if book.overdue_tasks:
        task = min(book.overdue_tasks, key=lambda t: t["due_on"])
        return f"Close the overdue task '{task['title']}' at {name} (due {task['due_on']})"
    if days is not None and days <= RENEWAL_DAYS:
        return f"Secure the renewal of {name}"
    return f"Review the health of {name} with the account team"


def action_for(book: AccountBook, as_of: date, defs: ReportDefinitions,
               descriptions: Mapping[str, str]) -> Action | None:
    """The account's next best action, or None when nothing calls for one."""
    snap = book.snapshot
    if snap.get("status") != "active":
        return None
    renewal = snap.get("renewal_date")
    days = (renewal - as_of).days if renewal and renewal >= as_of else None
    worsened = book.move is not None and (BAND_ORDER.get(book.move.band_now, 0)
                                         > BAND_ORDER.get(book.move.band_before, 0))
    renewing = days is not None and days <= RENEWAL_DAYS and book.band != "green"
    if not (book.alerts or book.overdue_tasks or worsened or book.band == "red" or renewing):
        return None
    name, arr = snap["name"], Decimal(str(snap["arr"]))
    evidence = [_alert_evidence(a, descriptions.get(a["signal"], "")) for a in book.alerts]
    evidence += [f"task '{t['title']}' due {t['due_on']} is overdue" for t in book.overdue_tasks]
    if book.move is not None:
        parts = ", ".join(f"{c.component.replace('_', ' ')} {_pts(c.points_before)} → "
                          f"{_pts(c.points_now)} points" for c in book.move.components[:3])
        evidence.append(f"health {book.move.band_before} → {book.move.band_now}"
                        + (f" ({parts})" if parts else ""))
    elif book.band:
        evidence.append(f"health {book.band}")
    if days is not None and days <= RENEWAL_DAYS:
        evidence.append(f"renewal in {days} days ({renewal})")
    risk, source = _risk(book, defs)
    if book.churn and book.churn.get("reasons") and book.churn.get("reasons_direction") != "lowers":
        reasons = book.churn["reasons"]
        evidence.append(f"churn probability {chance(risk)} within {book.churn.get('window_days')} "
                        f"days: {'; '.join(reasons[:2]) if isinstance(reasons, list) else reasons}")
    evidence.append(f"{arr:,.0f} ARR at stake")
    return Action(owner_email=snap.get("owner_email"), account_id=snap["account_id"],
                  account_name=name, title=_title(book, name, days, defs), evidence=evidence,
                  arr_at_stake=arr, risk=risk, risk_source=source,
                  priority=(arr * Decimal(str(risk))).quantize(Decimal("0.01")),
                  url=defs.account_url.format(account_id=snap["account_id"]))


def _pts(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _risk(book: AccountBook, defs: ReportDefinitions) -> tuple[float, str]:
    if book.churn and book.churn.get("churn_probability_window") is not None:
        return float(book.churn["churn_probability_window"]), "churn_probability_window"
    return defs.band_risk.get(book.band or "yellow", defs.band_risk.get("yellow", 0.2)), \
        f"health band {book.band or 'unknown'}"


def rank_actions(books: Sequence[AccountBook], as_of: date, defs: ReportDefinitions,
                 descriptions: Mapping[str, str]) -> list[Action]:
    """Every account's action, highest priority first, at most `actions_per_owner` per owner."""
    found = [a for b in books if (a := action_for(b, as_of, defs, descriptions)) is not None]
    found.sort(key=lambda a: (-a.priority, a.account_id))
    kept: list[Action] = []
    per_owner: dict[str | None, int] = {}
    for action in found:
        if per_owner.get(action.owner_email, 0) < defs.actions_per_owner:
            per_owner[action.owner_email] = per_owner.get(action.owner_email, 0) + 1
            kept.append(action)
    return kept
