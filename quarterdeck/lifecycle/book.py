"""The book as of a date: every account's stage and facts, the signals that fire and the
playbook triggers that hold, from the workspace's lifecycle, signal and playbook definitions.

Everything here is one set of Ibis expressions over the warehouse (no loop over accounts);
what becomes an alert, a playbook run or a task is decided where that state is kept, the app
database (`quarterdeck.appdb.publish_operations`).

Example: evaluate_book(tables, definitions, as_of=date(2026, 9, 30), base_currency="USD",
tiers=[("All", 0)]).stages → one row per account known on 2026-09-30.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ibis.expr.types as ir

from quarterdeck.health.feature_table import DayUsage
from quarterdeck.lifecycle.definitions import LifecycleDefinitions, load_lifecycle
from quarterdeck.lifecycle.milestones import onboarding_milestones
from quarterdeck.lifecycle.stages import lifecycle_stages
from quarterdeck.playbooks.definitions import PlaybookDefinitions, load_playbooks
from quarterdeck.playbooks.triggers import playbook_triggers
from quarterdeck.rules.account_facts import account_facts, known_accounts, revenue_facts
from quarterdeck.signals.definitions import SignalDefinitions, load_signals
from quarterdeck.signals.evaluation import fired_signals
from quarterdeck.warehouse.schema import entity_table


@dataclass(frozen=True)
class BookDefinitions:
    """The workspace's lifecycle.yml, signals.yml and playbooks.yml, checked together."""

    lifecycle: LifecycleDefinitions
    signals: SignalDefinitions
    playbooks: PlaybookDefinitions

    @property
    def milestone_names(self) -> list[str]:
        return [m.name for m in self.lifecycle.onboarding.milestones]

    def facts(self) -> list[str]:
        out = self.lifecycle.facts()
        for name in [*self.signals.facts(), *self.playbooks.facts()]:
            if name not in out:
                out.append(name)
        return out


def default_book() -> BookDefinitions:
    """The shipped lifecycle, signals and playbooks (each loader falls back to its shipped
    default for a folder without the file)."""
    return load_book(Path(__file__).parent)


def load_book(folder: Path) -> BookDefinitions:
    """The three definition files of `folder` (shipped defaults for any that is absent)."""
    lifecycle = load_lifecycle(folder)
    signals = load_signals(folder)
    playbooks = load_playbooks(folder, stages=lifecycle.stage_names, signals=signals.names,
                               milestones=[m.name for m in lifecycle.onboarding.milestones])
    return BookDefinitions(lifecycle, signals, playbooks)


@dataclass(frozen=True)
class BookDay:
    stages: ir.Table    # lifecycle_stages: facts, stage, stage_rule, cs_segment, milestones
    fired: ir.Table     # fired_signals
    triggers: ir.Table  # playbook_triggers


def evaluate_book(tables: Mapping[str, ir.Table], definitions: BookDefinitions, *,
                  as_of: date, base_currency: str, tiers: Sequence[tuple[str, float]],
                  health: ir.Table | None = None, churn: ir.Table | None = None,
                  daily: ir.Table | None = None, usage: ir.Table | None = None,
                  known: DayUsage | None = None) -> BookDay:
    """Stages, fired signals and playbook triggers as of `as_of` (see the module); `known`:
    the run's usage facts (`day_usage`)."""
    revenue = revenue_facts(tables, as_of, base_currency)
    starts = known_accounts(tables, as_of).select("account_id").left_join(
        revenue.select("account_id", "customer_since"), "account_id").drop("account_id_right")
    milestones = onboarding_milestones(tables, definitions.lifecycle.onboarding, as_of=as_of,
                                       customer_since=starts, daily=daily)
    facts = account_facts(tables, as_of=as_of, base_currency=base_currency, tiers=tiers,
                          facts=definitions.facts(), health=health, churn=churn,
                          milestones=milestones, usage=usage, known=known)
    extra = milestones.drop("onboarding_complete", "milestones_reached", "first_value_on")
    facts = facts.left_join(extra, "account_id").drop("account_id_right")
    stages = lifecycle_stages(facts, definitions.lifecycle)
    return book_from_stages(stages, definitions,
                            team=entity_table(tables, "team"))


def book_from_stages(stages: ir.Table, definitions: BookDefinitions, *,
                     team: ir.Table) -> BookDay:
    """The signals and triggers of a day whose stages are known: the pipeline materialises
    the stages once and reads both from them, instead of computing the facts three times."""
    return BookDay(stages=stages,
                   fired=fired_signals(stages, definitions.signals, team=team),
                   triggers=playbook_triggers(stages, definitions.playbooks))
