"""Scheduled delivery of reports (`quarterdeck report send`): each report of reports.yml that
is due goes to its audience by email (SMTP; each person's copy lists their own actions first)
and to chat channels (a Slack-compatible incoming webhook, one message per channel).

Every delivery is logged in the app database with its outcome. A failed one is tried again
(`retry` in reports.yml), logged as failed with the last error when every try failed, and tried
again by the next `send`; one already sent for the same date is not sent twice.
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from sqlalchemy import Engine, select

from quarterdeck.appdb.database import session
from quarterdeck.appdb.operations_models import TeamMember
from quarterdeck.appdb.report_models import ReportDelivery
from quarterdeck.reports.definitions import (
    ReportDefinitions,
    RetryPolicy,
    ScheduledReport,
    SmtpChannel,
    WebhookChannel,
)
from quarterdeck.reports.render_markdown import render_markdown
from quarterdeck.reports.store import render_report
from quarterdeck.reports.weekly_report import WeeklyReport

pause: Callable[[float], None] = time.sleep  # replaceable, so tests count waits, not seconds


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery."""

    schedule: str
    channel: str
    recipient: str
    status: str  # sent, failed or skipped (already sent for this date)
    attempts: int
    error: str | None = None


def recipients(engine: Engine, scheduled: ScheduledReport) -> list[str]:
    """The audience's email addresses: team members of the roles, the CSMs whose manager
    leads a named team, and the named people; each once, sorted."""
    audience = scheduled.audience
    with session(engine) as s:
        team = list(s.scalars(select(TeamMember)))
    found = {m.email for m in team if m.role in audience.roles}
    found |= {m.email for m in team if m.manager_email in audience.teams}
    found |= set(audience.people)
    return sorted(found)


def _with_retries(policy: RetryPolicy, send: Callable[[], None]) -> tuple[int, str | None]:
    error = None
    for attempt in range(1, policy.attempts + 1):
        try:
            send()
            return attempt, None
        except Exception as exc:  # noqa: BLE001 - any failure is logged and reported, never lost
            error = f"{type(exc).__name__}: {exc}"
            if attempt < policy.attempts:
                pause(policy.wait_seconds)
    return policy.attempts, error


def _email(channel: SmtpChannel, to: str, report: WeeklyReport, fmt: str) -> Callable[[], None]:
    message = EmailMessage()
    message["Subject"] = f"{report.company}: weekly operating report, {report.as_of}"
    message["From"], message["To"] = channel.sender, to
    message.set_content(render_markdown(report, reader=to))
    if fmt == "html":
        message.add_alternative(render_report(report, "html", reader=to), subtype="html")
    elif fmt == "pdf":
        message.add_attachment(render_report(report, "pdf", reader=to), maintype="application",
                               subtype="pdf", filename=f"weekly-report-{report.as_of}.pdf")

    def send() -> None:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_seconds) as smtp:
            if channel.starttls:
                smtp.starttls()
            user = os.environ.get(channel.username_env or "")
            if user:
                smtp.login(user, os.environ.get(channel.password_env or "", ""))
            smtp.send_message(message)
    return send


def _webhook(channel: WebhookChannel, report: WeeklyReport) -> Callable[[], None]:
    body = json.dumps({"text": render_markdown(report)}).encode()

    def send() -> None:
        request = urllib.request.Request(channel.address(), data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=channel.timeout_seconds) as response:
            if response.status >= 300:
                raise OSError(f"webhook answered HTTP {response.status}")
    return send


def _already_sent(engine: Engine, schedule: str, as_of: date) -> set[tuple[str, str]]:
    d = ReportDelivery
    query = select(d.channel, d.recipient).where(
        (d.schedule == schedule) & (d.as_of == as_of) & (d.status == "sent"))
    with session(engine) as s:
        return {(c, r) for c, r in s.execute(query)}


def deliver(engine: Engine, defs: ReportDefinitions, scheduled: ScheduledReport,
            report: WeeklyReport, report_id: int) -> list[Outcome]:
    """Send `report` to every recipient of `scheduled` by each of its channels; log each."""
    done = _already_sent(engine, scheduled.name, report.as_of)
    people = recipients(engine, scheduled)
    outcomes: list[Outcome] = []
    for name in scheduled.channels:
        channel = defs.channels[name]
        targets = people if isinstance(channel, SmtpChannel) else [f"#{name}"]
        for target in targets:
            if (name, target) in done:
                outcomes.append(Outcome(scheduled.name, name, target, "skipped", 0))
                continue
            send = (_email(channel, target, report, scheduled.format)
                    if isinstance(channel, SmtpChannel) else _webhook(channel, report))
            attempts, error = _with_retries(defs.retry, send)
            status = "failed" if error else "sent"
            with session(engine) as s:
                s.add(ReportDelivery(report_id=report_id, schedule=scheduled.name,
                                     as_of=report.as_of, channel=name, recipient=target,
                                     status=status, attempts=attempts, error=error))
            outcomes.append(Outcome(scheduled.name, name, target, status, attempts, error))
    return outcomes
