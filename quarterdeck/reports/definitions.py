"""`definitions/reports.yml`: retention targets, the account page address, and scheduled
reports (which report, to whom, when, by which channel).

Example: load_report_definitions(ws.definitions_dir).targets.nrr → 1.05
"""

from __future__ import annotations

import calendar
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quarterdeck.errors import WorkspaceError
from quarterdeck.workspace.yaml_source import line_of, load_model, read_yaml

REPORTS_FILE = "reports.yml"
DEFAULT_REPORTS_PATH = Path(__file__).with_name("default_reports.yml")
WEEKDAYS = tuple(d.lower() for d in calendar.day_name)
FORMATS = ("html", "pdf", "md")

DEFAULT_ACTIONS = {
    "usage_drop": "Call the champion of {account} about the drop in usage",
    "champion_left": "Find and win a new champion at {account}",
    "invoice_overdue": "Settle the overdue invoice with {account}'s billing contact",
    "qbr_missing": "Book a QBR with {account}",
    "renewal_at_risk": "Build a save plan for {account}'s renewal",
    "ticket_surge": "Review the open tickets of {account} with support",
    "high_churn_risk": "Call the executive sponsor of {account} about the risk of churn",
    "seats_full": "Offer {account} more seats",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Targets(_Strict):
    """Retention targets over the trailing 12 months, as fractions (1.05 = 105%)."""

    nrr: Decimal = Field(default=Decimal("1.05"), gt=0, le=5)
    grr: Decimal = Field(default=Decimal("0.90"), gt=0, le=1)


class Audience(_Strict):
    """Who receives a report: every team member of a role, the CSMs of a manager (a team,
    named by the manager's email), and named people."""

    roles: list[Literal["admin", "manager", "ops", "csm", "viewer"]] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)


class Schedule(_Strict):
    """When a report is due: every day, every week on `day`, or every month on `day_of_month`."""

    every: Literal["day", "week", "month"] = "week"
    day: str = "monday"
    day_of_month: int = Field(default=1, ge=1, le=28)

    @model_validator(mode="after")
    def _known_day(self) -> Schedule:
        if self.day.lower() not in WEEKDAYS:
            raise ValueError(f"day must be one of {', '.join(WEEKDAYS)}")
        return self

    def is_due(self, day: date) -> bool:
        """Whether the report falls due on `day`."""
        if self.every == "day":
            return True
        if self.every == "week":
            return WEEKDAYS[day.weekday()] == self.day.lower()
        return day.day == self.day_of_month


class ScheduledReport(_Strict):
    """One report sent on a schedule to an audience through named channels."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    report: Literal["weekly"] = "weekly"
    format: Literal["html", "pdf", "md"] = "html"
    audience: Audience = Field(default_factory=Audience)
    schedule: Schedule = Field(default_factory=Schedule)
    channels: list[str] = Field(min_length=1)


class SmtpChannel(_Strict):
    """Email through an SMTP server; credentials come from the environment only."""

    kind: Literal["smtp"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    sender: str
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)


class WebhookChannel(_Strict):
    """A Slack-compatible incoming webhook: `url`, or the environment variable `url_env` that
    holds it (webhook addresses are secrets)."""

    kind: Literal["webhook"]
    url: str | None = None
    url_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_address(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self

    def address(self) -> str:
        if self.url is not None:
            return self.url
        value = os.environ.get(self.url_env or "")
        if not value:
            raise WorkspaceError(REPORTS_FILE, None, "url_env",
                                 f"environment variable {self.url_env} is not set")
        return value


class RetryPolicy(_Strict):
    """How often a failed delivery is tried again, and how long to wait between tries."""

    attempts: int = Field(default=3, ge=1, le=10)
    wait_seconds: float = Field(default=2.0, ge=0)


class ReportDefinitions(_Strict):
    """`definitions/reports.yml` (see docs/reports.md)."""

    targets: Targets = Field(default_factory=Targets)
    account_url: str = "http://127.0.0.1:8000/accounts/{account_id}"
    actions_per_owner: int = Field(default=10, ge=1, le=100)
    reports: list[ScheduledReport] = Field(default_factory=list)
    channels: dict[str, Annotated[SmtpChannel | WebhookChannel, Field(discriminator="kind")]] = \
        Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    # Risk of an account with no published churn probability, by health band.
    band_risk: dict[str, float] = Field(
        default_factory=lambda: {"red": 0.5, "yellow": 0.2, "green": 0.05})
    # What to do about an alert of each signal; {account} is the account's name.
    actions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ACTIONS))

    @model_validator(mode="after")
    def _channels_defined(self) -> ReportDefinitions:
        names = [r.name for r in self.reports]
        if len(names) != len(set(names)):
            raise ValueError("report names must be unique")
        if "{account_id}" not in self.account_url:
            raise ValueError("account_url must contain {account_id}")
        return self

    def undefined_channel(self) -> tuple[int, int, str] | None:
        """The first (report index, channel index, name) naming an undefined channel."""
        for i, report in enumerate(self.reports):
            for j, channel in enumerate(report.channels):
                if channel not in self.channels:
                    return i, j, channel
        return None

    def report(self, name: str) -> ScheduledReport:
        for report in self.reports:
            if report.name == name:
                return report
        raise WorkspaceError(REPORTS_FILE, None, "reports",
                             f"no report called {name!r}; defined: "
                             f"{', '.join(r.name for r in self.reports) or 'none'}")


def load_report_definitions(folder: Path) -> ReportDefinitions:
    """`folder/reports.yml` validated (the shipped default when the file is absent)."""
    path = folder / REPORTS_FILE
    if not path.exists():
        path = DEFAULT_REPORTS_PATH
    defs = load_model(path, ReportDefinitions)
    undefined = defs.undefined_channel()
    if undefined is not None:
        i, j, name = undefined
        _, node = read_yaml(path)
        raise WorkspaceError(str(path), line_of(node, ("reports", i, "channels", j)),
                             f"reports.{i}.channels.{j}",
                             f"report {defs.reports[i].name!r} names channel {name!r}, "
                             "which is not defined under channels")
    return defs
