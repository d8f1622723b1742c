"""`playbook_triggers`: which playbooks' triggers hold for which accounts on a date.

For a condition trigger the key is the values of its `key_by` facts (a renewal playbook keyed
by renewal date starts once per renewal); for a stage trigger the account's stage of the day
(the day it entered the stage completes the key where the history is kept); signal triggers
follow the alerts and are matched where alerts are kept. The anchor date is read from the
facts: contract_start is customer_since, renewal_date the next renewal, start_date the as-of
day; stage_entry and alert_date are known only with the history (NULL here).

Example: an active account with days_to_renewal 100 and renewal_date 2027-01-08 → renewal,
key "renewal_date=2027-01-08", anchor 2027-01-08.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.playbooks.definitions import Playbook, PlaybookDefinitions

TRIGGERS_SCHEMA = ibis.schema({"playbook": "string", "trigger": "string",
                               "account_id": "string", "trigger_key": "string",
                               "anchor_date": "date"})


def _anchor(t: ir.Table, p: Playbook) -> ir.DateValue:
    return {
        "contract_start": t.customer_since,
        "renewal_date": t.renewal_date,
        "start_date": t.as_of,
    }.get(p.anchor, ibis.null(dt.date))


def _rows(t: ir.Table, p: Playbook) -> ir.Table | None:
    trigger = p.trigger
    if trigger.kind == "condition":
        hit = t.filter(trigger.predicate(t))
        key = ibis.literal("")
        for i, name in enumerate(trigger.key_by):
            value = hit[name]
            text = value.strftime("%Y-%m-%d") if value.type().is_date() else value.cast(dt.string)
            key = key + ("," if i else "") + name + "=" + text.fill_null("")
    elif trigger.kind == "stage":
        hit = t.filter(t.stage == trigger.stage)
        key = ibis.literal(f"stage={trigger.stage}")
    else:
        return None
    return hit.select(playbook=ibis.literal(p.name), trigger=ibis.literal(trigger.kind),
                      account_id=hit.account_id, trigger_key=key,
                      anchor_date=_anchor(hit, p).cast(dt.date))


def playbook_triggers(stages: ir.Table, definitions: PlaybookDefinitions) -> ir.Table:
    """Rows (playbook, trigger, account_id, trigger_key, anchor_date) of the stage and condition
    triggers holding on the day of `stages` (the lifecycle_stages table)."""
    parts = [r for p in definitions.playbooks if (r := _rows(stages, p)) is not None]
    if not parts:
        return ibis.memtable(TRIGGERS_SCHEMA.to_pyarrow().empty_table())
    return ibis.union(*parts) if len(parts) > 1 else parts[0]
