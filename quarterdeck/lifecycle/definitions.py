"""`definitions/lifecycle.yml`: onboarding milestones, lifecycle stages and CS segments as rules.

Stages and segments are ordered lists of conditions over account facts (see
`quarterdeck.rules`): an account takes the first stage (and the first segment) whose condition
holds, and the last entry of each list has no condition, so every account gets one. Milestones
are reached on the first day an activity, a product event or a usage level is seen.

Example: load_lifecycle(DEFAULT_LIFECYCLE_PATH).stage("onboarding").text() →
"status = active and onboarding_complete ≠ true and days_since_start ≤ 90".
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from quarterdeck.rules.conditions import Condition
from quarterdeck.workspace.yaml_source import load_model

LIFECYCLE_FILE = "lifecycle.yml"
DEFAULT_LIFECYCLE_PATH = Path(__file__).with_name("default_lifecycle.yml")
NAME = r"^[a-z][a-z0-9_]*$"
USAGE_METRICS = ("events", "event_value", "active_users")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActivityMatch(_Strict):
    kind: str = Field(description="Activity kind (meeting, qbr, call, email, note, milestone).")
    subject: str | None = Field(None, description="Exact subject, when the kind is not enough.")


class EventMatch(_Strict):
    name: str = Field(description="The product event's name (`event` column).")


class UsageMatch(_Strict):
    metric: str = Field(description="A daily usage figure of account_daily: events, "
                        "event_value or active_users.")
    at_least: float = Field(gt=0, description="Reached on the first day the figure is at "
                            "least this.")

    @model_validator(mode="after")
    def _known(self) -> UsageMatch:
        if self.metric not in USAGE_METRICS:
            raise ValueError(f"unknown usage metric {self.metric!r}; known: "
                             f"{', '.join(USAGE_METRICS)}")
        return self


class Milestone(_Strict):
    name: str = Field(pattern=NAME, description="Milestone name (lower case, underscores).")
    description: str = ""
    activity: ActivityMatch | None = Field(None, description="Reached by an activity.")
    event: EventMatch | None = Field(None, description="Reached by a product event.")
    usage: UsageMatch | None = Field(None, description="Reached by a daily usage level.")
    required: bool = Field(True, description="Needed for onboarding to be complete.")
    first_value: bool = Field(False, description="The milestone that marks first value "
                              "(time to value ends here); at most one.")

    @model_validator(mode="after")
    def _one_source(self) -> Milestone:
        given = [s for s in (self.activity, self.event, self.usage) if s is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `activity`, `event` or `usage`")
        return self


class Onboarding(_Strict):
    target_days: int = Field(90, gt=0, description="Onboarding should be complete within this "
                             "many days of the customer's start.")
    milestones: list[Milestone] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Onboarding:
        names = [m.name for m in self.milestones]
        if len(set(names)) != len(names):
            raise ValueError("milestone names must be unique")
        if sum(m.first_value for m in self.milestones) > 1:
            raise ValueError("only one milestone may be `first_value: true`")
        return self

    @property
    def first_value(self) -> Milestone | None:
        return next((m for m in self.milestones if m.first_value), None)


class Rule(Condition):
    name: str = Field(pattern=NAME, description="Name (lower case, underscores).")
    description: str = ""


def _ordered(rules: list[Rule], what: str) -> None:
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names must be unique")
    last = rules[-1]
    if last.when or last.when_any:
        raise ValueError(f"the last of the {what}s must have no condition: it takes every "
                         "account no other one does")


class LifecycleDefinitions(_Strict):
    onboarding: Onboarding = Field(default_factory=Onboarding)
    stages: list[Rule] = Field(min_length=1, description="Stages, first match wins.")
    segments: list[Rule] = Field(default_factory=list, description="CS segments (coverage "
                                 "model), first match wins; optional.")

    @field_validator("stages", "segments")
    @classmethod
    def _lists(cls, rules: list[Rule], info: ValidationInfo) -> list[Rule]:
        if rules:
            _ordered(rules, str(info.field_name)[:-1])
        return rules

    def stage(self, name: str) -> Rule:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage {name!r}; stages: {', '.join(self.stage_names)}")

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def facts(self) -> list[str]:
        out: list[str] = []
        for rule in [*self.stages, *self.segments]:
            out += [f for f in rule.facts() if f not in out]
        return out


def load_lifecycle(folder: Path) -> LifecycleDefinitions:
    """`folder/lifecycle.yml` validated (the shipped default when the file is absent)."""
    path = Path(folder) / LIFECYCLE_FILE
    return load_model(path if path.exists() else DEFAULT_LIFECYCLE_PATH, LifecycleDefinitions)
