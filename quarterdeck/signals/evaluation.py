"""`fired_signals`: which signals fire for which accounts on a date, with their evidence.

One query over the account facts of the day: each signal's condition is a predicate, and the
rows where it holds become one row per (signal, account) with its de-duplication key, the
alert's owner and the evidence (the facts of the condition and the signal's `evidence`, as a
JSON object of text values built in the engine, so every backend returns the same plain string;
`evidence_values` turns them back into numbers, flags and dates). What becomes an alert
(de-duplication, cool-down, auto-resolve) is decided where alerts are kept, the app database.

Example: a Enterprise account whose last QBR was 150 days ago fires `qbr_missing` with key
"qbr_missing:acct-7" and evidence '{"days_since_last_qbr_or_start": "150", …}'.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.rules.account_facts import FACTS
from quarterdeck.signals.definitions import Signal, SignalDefinitions

FIRED_SCHEMA = ibis.schema({
    "as_of": "date", "signal": "string", "kind": "string", "severity": "string",
    "account_id": "string", "dedup_key": "string", "owner_email": "string",
    "evidence": "string", "rule": "string",
})


def _text(value: ir.Value) -> ir.StringValue:
    if value.type().is_floating() or value.type().is_decimal():
        return value.cast(dt.float64).round(4).cast(dt.string)
    if value.type().is_date():  # engines may hold date arithmetic as a timestamp
        return value.strftime("%Y-%m-%d")
    return value.cast(dt.string)


def _json_object(values: dict[str, ir.StringValue]) -> ir.StringValue:
    """A JSON object of text values (null when missing), escaped for JSON."""
    out: ir.StringValue = ibis.literal("{")
    for i, (name, value) in enumerate(values.items()):
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out = out + ("" if i == 0 else ", ") + json.dumps(name) + ": " + quoted.fill_null("null")
    return out + "}"


def _owner(facts: ir.Table, rule: str, team: ir.Table | None) -> ir.StringValue:
    if rule == "account_owner":
        return facts.owner_email
    if rule == "owner_manager":
        return facts.owner_manager_email.fill_null(facts.owner_email)
    if rule.startswith("role:"):
        if team is None:
            return ibis.null(dt.string)
        members = team.filter(team.role == rule[5:])
        return members.email.min().as_scalar()
    return ibis.literal(rule)


def _fired(facts: ir.Table, s: Signal, team: ir.Table | None, unowned: str | None
           ) -> ir.Table:
    hit = facts.filter(s.predicate(facts))
    key = ibis.literal(s.name)
    for name in s.dedup_by:
        key = key + ":" + _text(hit[name]).fill_null("")
    evidence = _json_object({n: _text(hit[n]) for n in s.evidence_facts()})
    owner = _owner(hit, s.owner, team)
    if unowned is not None:  # an account nobody owns: the alert still goes to someone
        owner = owner.fill_null(_owner(hit, unowned, team))
    return hit.select(
        as_of=hit.as_of, signal=ibis.literal(s.name), kind=ibis.literal(s.kind),
        severity=ibis.literal(s.severity), account_id=hit.account_id, dedup_key=key,
        owner_email=owner, evidence=evidence, rule=ibis.literal(s.text()))


def fired_signals(facts: ir.Table, definitions: SignalDefinitions, *,
                  team: ir.Table | None = None) -> ir.Table:
    """Every (signal, account) whose condition holds on the facts' day (see the module)."""
    parts = [_fired(facts, s, team, definitions.unowned) for s in definitions.signals]
    if not parts:
        return ibis.memtable(FIRED_SCHEMA.to_pyarrow().empty_table())
    return ibis.union(*parts).cast(FIRED_SCHEMA) if len(parts) > 1 else parts[0]


def evidence_values(evidence: str | Mapping[str, str | None]) -> dict[str, Any]:
    """Evidence text back to typed values by each fact's kind (numbers, flags, dates stay
    ISO text). Example: '{"arr": "1200.0"}' → {"arr": 1200}."""
    if isinstance(evidence, str):
        evidence = json.loads(evidence)
    out: dict[str, Any] = {}
    for name, text in evidence.items():
        kind = FACTS[name].kind if name in FACTS else "text"
        if text is None:
            out[name] = None
        elif kind == "number":
            number = float(text)
            out[name] = int(number) if number.is_integer() else number
        elif kind == "flag":
            out[name] = text.lower() == "true"
        else:
            out[name] = text
    return out
