"""`definitions/playbooks.yml`: playbooks as templates of tasks due relative to an anchor.

A playbook starts once per trigger: entering a lifecycle stage (`stage`), an alert of a signal
(`signal`), a condition on the account's facts (`when`/`when_any`, keyed by the facts in
`key_by`, e.g. the renewal date, so each renewal gets its own run), or by hand (`manual`). Each
task is due `due` days after the anchor (negative: before), optionally counted in business
days, and may depend on other tasks of the playbook (no cycles). A task may close itself on
evidence: a milestone reached, or an activity of a kind logged within `within_days` of its
due date.

Example: load_playbooks(folder, stages=[...], signals=[...]).playbook("renewal").tasks[0].due
→ -120.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quarterdeck.errors import WorkspaceError
from quarterdeck.rules.account_facts import FACTS
from quarterdeck.rules.conditions import Condition
from quarterdeck.signals.definitions import check_owner
from quarterdeck.workspace.yaml_source import line_of, load_model, read_yaml

PLAYBOOKS_FILE = "playbooks.yml"
DEFAULT_PLAYBOOKS_PATH = Path(__file__).with_name("default_playbooks.yml")
ANCHORS = ("contract_start", "renewal_date", "alert_date", "stage_entry", "start_date")
NAME = r"^[a-z][a-z0-9_]*$"

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

class Trigger(Condition):
    stage: str | None = Field(None, description="Start when an account enters this stage.")
    signal: str | None = Field(None, description="Start when this signal opens an alert.")
    key_by: list[str] = Field(default_factory=list, description="With a condition: facts "
                              "whose values make one trigger (e.g. [renewal_date]).")
    manual: bool = Field(False, description="Started only by hand.")

    @model_validator(mode="after")
    def _one(self) -> Trigger:
        has_condition = bool(self.when or self.when_any)
        given = sum([self.stage is not None, self.signal is not None, has_condition,
                     self.manual])
        if given != 1:
            raise ValueError("give exactly one trigger: `stage`, `signal`, a condition "
                             "(`when`/`when_any`) or `manual: true`")
        if self.key_by and not has_condition:
            raise ValueError("`key_by` goes with a condition trigger")
        for name in self.key_by:
            if name not in FACTS:
                raise ValueError(f"unknown fact {name!r} in key_by (see docs/operations.md)")
        return self

    @property
    def kind(self) -> str:
        if self.stage is not None:
            return "stage"
        if self.signal is not None:
            return "signal"
        return "manual" if self.manual else "condition"

class DoneWhen(_Strict):
    milestone: str | None = Field(None, description="Done once this milestone is reached.")
    activity: str | None = Field(None, description="Done once an activity of this kind is "
                                 "logged, from `within_days` before the due date on.")
    within_days: int = Field(30, ge=0, description="How long before the due date an activity "
                             "counts.")

    @model_validator(mode="after")
    def _one(self) -> DoneWhen:
        if (self.milestone is None) == (self.activity is None):
            raise ValueError("give exactly one of `milestone` or `activity`")
        return self

class TaskTemplate(_Strict):
    key: str = Field(pattern=NAME, description="The task's name within the playbook.")
    title: str = Field(description="What to do, as the CSM reads it.")
    due: int = Field(description="Days after the anchor (negative: before).")
    owner: str = Field("account_owner", description="account_owner, owner_manager, "
                       "role:<role> or an email address.")
    depends_on: list[str] = Field(default_factory=list, description="Tasks to finish first.")
    outcome: str = Field("", description="The expected outcome.")
    done_when: DoneWhen | None = Field(None, description="Evidence that closes the task.")

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        return check_owner(value)

class Playbook(_Strict):
    name: str = Field(pattern=NAME, description="Playbook name.")
    description: str = ""
    trigger: Trigger
    anchor: str = Field(description="contract_start, renewal_date, alert_date, stage_entry "
                        "or start_date (the day it starts).")
    business_days: bool | Literal["count", "roll"] = Field(
        False, description="`true` (or `count`): count `due` in business days (Monday to "
        "Friday, not a holiday); `roll`: `due` calendar days, moved back to the business day "
        "before when it is not one (day 0 forward to the next); `false`: calendar days, any "
        "day.")
    cancel_when_trigger_clears: bool = Field(False, description="Cancel the open tasks when "
                                             "the trigger no longer holds.")
    catch_up_days: int = Field(14, ge=0, description="A task already due when the playbook "
                               "starts stays open if it fell due within this many days; an "
                               "older one is skipped.")
    tasks: list[TaskTemplate] = Field(min_length=1)

    @field_validator("business_days", mode="before")
    @classmethod
    def _business_days(cls, value: object) -> object:
        if isinstance(value, bool) or value in ("count", "roll"):
            return value
        raise ValueError(f"{value!r} is not a business-day rule: write true (count business "
                         "days), roll (calendar days moved to a business day) or false")

    @field_validator("anchor")
    @classmethod
    def _anchor(cls, value: str) -> str:
        if value not in ANCHORS:
            raise ValueError(f"unknown anchor {value!r}; anchors: {', '.join(ANCHORS)}")
        return value

    @field_validator("tasks")
    @classmethod
    def _graph(cls, tasks: list[TaskTemplate]) -> list[TaskTemplate]:
        keys = [t.key for t in tasks]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"task listed twice: {', '.join(twice)}")
        for t in tasks:
            for d in t.depends_on:
                if d not in keys:
                    raise ValueError(f"task {t.key!r} depends on unknown task {d!r}")
        cycle = _cycle({t.key: t.depends_on for t in tasks})
        if cycle:
            raise ValueError("tasks depend on each other in a cycle: " + " → ".join(cycle))
        return tasks

    @model_validator(mode="after")
    def _anchor_fits(self) -> Playbook:
        if self.anchor == "alert_date" and self.trigger.kind != "signal":
            raise ValueError("anchor alert_date needs a `signal` trigger")
        if self.anchor == "stage_entry" and self.trigger.kind != "stage":
            raise ValueError("anchor stage_entry needs a `stage` trigger")
        return self

def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """A dependency cycle as a path (first node repeated at the end), or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []

class PlaybookDefinitions(_Strict):
    holidays: list[date] = Field(default_factory=list, description="Days that are not "
                                 "business days.")
    playbooks: list[Playbook] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> PlaybookDefinitions:
        names = [p.name for p in self.playbooks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"playbook listed twice: {', '.join(twice)}")
        return self

    def playbook(self, name: str) -> Playbook:
        for p in self.playbooks:
            if p.name == name:
                return p
        raise KeyError(f"no playbook {name!r}; playbooks: "
                       f"{', '.join(p.name for p in self.playbooks)}")

    def facts(self) -> list[str]:
        out: list[str] = []
        for p in self.playbooks:
            out += [f for f in [*p.trigger.facts(), *p.trigger.key_by] if f not in out]
        return out

def load_playbooks(folder: Path, *, stages: list[str], signals: list[str],
                   milestones: list[str]) -> PlaybookDefinitions:
    """`folder/playbooks.yml` validated (the shipped default when absent), including that
    every stage, signal and milestone it names exists."""
    path = Path(folder) / PLAYBOOKS_FILE
    path = path if path.exists() else DEFAULT_PLAYBOOKS_PATH
    defs = load_model(path, PlaybookDefinitions)
    _, node = read_yaml(path)

    for i, p in enumerate(defs.playbooks):
        problems = []
        if p.trigger.stage is not None and p.trigger.stage not in stages:
            problems.append((("playbooks", i, "trigger", "stage"),
                             f"unknown stage {p.trigger.stage!r}; stages: {', '.join(stages)}"))
        if p.trigger.signal is not None and p.trigger.signal not in signals:
            problems.append((("playbooks", i, "trigger", "signal"),
                             f"unknown signal {p.trigger.signal!r}; signals: "
                             f"{', '.join(signals)}"))
        for j, t in enumerate(p.tasks):
            if t.done_when and t.done_when.milestone and t.done_when.milestone not in milestones:
                problems.append((("playbooks", i, "tasks", j, "done_when", "milestone"),
                                 f"unknown milestone {t.done_when.milestone!r}; milestones: "
                                 f"{', '.join(milestones) or 'none defined'}"))
        if problems:
            loc, reason = problems[0]
            raise WorkspaceError(str(path), line_of(node, loc),
                                 ".".join(str(x) for x in loc), reason)
    return defs
