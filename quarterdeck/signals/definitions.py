"""`definitions/signals.yml`: signals as rules over account facts, with who acts and how often.

A signal fires for every account whose facts meet its condition (see `quarterdeck.rules`) on
the as-of date. Firing opens an alert (see docs/operations.md) unless one with the same
de-duplication key is still open, or the last one with that key fired less than `cooldown`
ago. `owner` says who gets it: `account_owner` (the CSM), `owner_manager` (their manager in the
team file), `role:<role>` (the first team member with that role) or an email address.

Example: load_signals(folder).signal("usage_drop").cooldown_days → 30.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quarterdeck.rules.account_facts import FACTS
from quarterdeck.rules.conditions import Condition
from quarterdeck.workspace.yaml_source import load_model

SIGNALS_FILE = "signals.yml"
DEFAULT_SIGNALS_PATH = Path(__file__).with_name("default_signals.yml")
SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("threshold", "change", "event", "expansion")
ROLES = ("admin", "manager", "ops", "csm", "viewer")
_DURATION = re.compile(r"^(\d+)\s*([dw])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def duration_days(text: str) -> int:
    """Days of a duration such as "30d" or "2w". Example: duration_days("2w") → 14."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration: write a number of days or weeks, "
                         "e.g. 30d or 2w")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def check_owner(rule: str) -> str:
    """An owner rule: account_owner, owner_manager, role:<role> or an email address."""
    if rule in ("account_owner", "owner_manager") or _EMAIL.match(rule):
        return rule
    if rule.startswith("role:") and rule[5:] in ROLES:
        return rule
    raise ValueError(f"unknown owner {rule!r}: write account_owner, owner_manager, "
                     f"role:<{'|'.join(ROLES)}> or an email address")


class Signal(Condition):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Signal name.")
    description: str = Field("", description="What it means, in words a CSM reads.")
    kind: str = Field("threshold", description="threshold, change, event or expansion.")
    severity: str = Field("medium", description="low, medium, high or critical.")
    owner: str = Field("account_owner", description="Who gets the alert.")
    dedup_by: list[str] = Field(default_factory=lambda: ["account_id"], description="Facts "
                                "that with the signal's name form the de-duplication key.")
    cooldown: str = Field("30d", description="Least time between two alerts with the same "
                          "key (days or weeks: 30d, 2w).")
    auto_resolve: bool = Field(True, description="Resolve the alert when the condition no "
                               "longer holds.")
    evidence: list[str] = Field(default_factory=list, description="Facts recorded on the "
                                "alert besides those of the condition.")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown kind {value!r}; kinds: {', '.join(KINDS)}")
        return value

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        if value not in SEVERITIES:
            raise ValueError(f"unknown severity {value!r}; severities: {', '.join(SEVERITIES)}")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        return check_owner(value)

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: str) -> str:
        duration_days(value)
        return value

    @field_validator("dedup_by", "evidence")
    @classmethod
    def _facts(cls, names: list[str]) -> list[str]:
        for name in names:
            if name != "account_id" and name not in FACTS:
                raise ValueError(f"unknown fact {name!r} (see docs/operations.md)")
        return names

    @model_validator(mode="after")
    def _has_condition(self) -> Signal:
        if not self.when and not self.when_any:
            raise ValueError("a signal needs a condition (`when` or `when_any`)")
        return self

    @property
    def cooldown_days(self) -> int:
        return duration_days(self.cooldown)

    def evidence_facts(self) -> list[str]:
        """The facts recorded on its alerts: those of the condition, then `evidence`."""
        return list(dict.fromkeys([*self.facts(), *self.evidence]))


class SignalDefinitions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unowned: str | None = Field(
        "role:manager", description="Who gets an alert whose owner rule finds nobody (an "
        "account without an owner): an owner rule; empty to leave such alerts unowned.")
    signals: list[Signal] = Field(default_factory=list)

    @field_validator("unowned")
    @classmethod
    def _unowned(cls, value: str | None) -> str | None:
        return None if value is None else check_owner(value)

    @model_validator(mode="after")
    def _unique(self) -> SignalDefinitions:
        names = [s.name for s in self.signals]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"signal listed twice: {', '.join(twice)}")
        return self

    def signal(self, name: str) -> Signal:
        for s in self.signals:
            if s.name == name:
                return s
        raise KeyError(f"no signal {name!r}; signals: {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.signals]

    def facts(self) -> list[str]:
        out: list[str] = []
        for s in self.signals:
            out += [f for f in [*s.evidence_facts(), *s.dedup_by]
                    if f not in out and f != "account_id"]
        return out


def load_signals(folder: Path) -> SignalDefinitions:
    """`folder/signals.yml` validated (the shipped default when the file is absent)."""
    path = Path(folder) / SIGNALS_FILE
    return load_model(path if path.exists() else DEFAULT_SIGNALS_PATH, SignalDefinitions)
