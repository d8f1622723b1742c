"""`lifecycle_stages`: each account's lifecycle stage and CS segment as of a date, by rule.

The stage is the first of the workspace's stages whose condition holds on the account's facts
(`quarterdeck.rules.account_facts`); `stage_rule` says in words why the account is there. The
segment is chosen the same way from the segment rules. The day a stage was entered comes from
the published history (the app database), not from here: this is the stage of one day.

Example: an active account with red health → stage at_risk, stage_rule "status = active and
(health_band = red or churn_probability_window ≥ 0.3)".
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from quarterdeck.lifecycle.definitions import LifecycleDefinitions, Rule


def _first_match(facts: ir.Table, rules: list[Rule], *, text: bool) -> ir.StringValue:
    cases = [(r.predicate(facts), r.text() if text else r.name) for r in rules[:-1]]
    last = rules[-1].text() if text else rules[-1].name
    return ibis.cases(*cases, else_=last) if cases else ibis.literal(last)


def lifecycle_stages(facts: ir.Table, definitions: LifecycleDefinitions) -> ir.Table:
    """`facts` with stage, stage_rule and cs_segment (NULL without segment rules) added."""
    stages = definitions.stages
    segment = (_first_match(facts, definitions.segments, text=False) if definitions.segments
               else ibis.null("string"))
    return facts.mutate(stage=_first_match(facts, stages, text=False),
                        stage_rule=_first_match(facts, stages, text=True),
                        cs_segment=segment)
