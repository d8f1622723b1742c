"""Scheduled delivery against a local SMTP server (aiosmtpd) and a local webhook receiver:
each person's copy lists their own actions first, every delivery is logged, a failure is
retried, logged and reported, and nothing is sent twice."""

from __future__ import annotations

import email
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from quarterdeck.appdb.database import make_engine, migrate, session
from quarterdeck.appdb.operations_models import TeamMember
from quarterdeck.appdb.report_models import ReportDelivery
from quarterdeck.reports import delivery
from quarterdeck.reports.definitions import ReportDefinitions
from quarterdeck.reports.delivery import deliver
from quarterdeck.reports.store import list_reports, render_stored, save_report
from quarterdeck.testing.postgres import app_database_url

__all__ = ["app_database_url"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server hook
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def engine(app_database_url):
    """A migrated app database with a small team (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(app_database_url)
    migrate(engine)
    with session(engine) as s:
        s.add_all([TeamMember(email="lead@example.com", name="Lead", role="manager"),
                   TeamMember(email="ana@example.com", name="Ana", role="csm",
                              manager_email="lead@example.com"),
                   TeamMember(email="ben@example.com", name="Ben", role="csm",
                              manager_email="lead@example.com"),
                   TeamMember(email="ops@example.com", name="Ops", role="ops")])
    yield engine
    engine.dispose()


def definitions(smtp_port: int, hook: str) -> ReportDefinitions:
    return ReportDefinitions.model_validate({
        "reports": [{"name": "weekly_team", "format": "html",
                     "audience": {"teams": ["lead@example.com"], "people": ["cro@example.com"]},
                     "channels": ["email", "chat"]}],
        "channels": {"email": {"kind": "smtp", "host": "127.0.0.1", "port": smtp_port,
                               "starttls": False, "sender": "reports@example.com"},
                     "chat": {"kind": "webhook", "url": hook}},
        "retry": {"attempts": 3, "wait_seconds": 0}})


def test_each_person_gets_a_copy_with_their_own_actions_first(engine, smtp, webhook,
                                                              small_report) -> None:
    (inbox, port), (received, hook) = smtp, webhook
    defs = definitions(port, hook)
    report_id = save_report(engine, small_report)
    outcomes = deliver(engine, defs, defs.reports[0], small_report, report_id)
    assert {(o.channel, o.recipient, o.status) for o in outcomes} == {
        ("email", "ana@example.com", "sent"), ("email", "ben@example.com", "sent"),
        ("email", "cro@example.com", "sent"), ("chat", "#chat", "sent")}
    by_person = {m["To"]: m for m in inbox.messages}
    assert set(by_person) == {"ana@example.com", "ben@example.com", "cro@example.com"}
    for person, first in (("ana@example.com", "Account a1"), ("ben@example.com", "Account b1")):
        html = next(p for p in by_person[person].walk() if p.get_content_type() == "text/html")
        body = html.get_payload(decode=True).decode()
        actions = body.split('id="next-best-actions"')[1]
        assert actions.index(first) < min(actions.index(f"Account {a}")
                                          for a in ("a1", "b1") if f"Account {a}" != first)
    assert len(received) == 1 and "weekly report, 2026-09-30" in received[0]["text"]
    with session(engine) as s:
        logged = s.scalars(select(ReportDelivery)).all()
    assert len(logged) == 4 and {d.status for d in logged} == {"sent"}


def test_a_report_sent_is_not_sent_twice(engine, smtp, webhook, small_report) -> None:
    (inbox, port), (received, hook) = smtp, webhook
    defs = definitions(port, hook)
    report_id = save_report(engine, small_report)
    deliver(engine, defs, defs.reports[0], small_report, report_id)
    again = deliver(engine, defs, defs.reports[0], small_report, report_id)
    assert {o.status for o in again} == {"skipped"}
    assert len(inbox.messages) == 3 and len(received) == 1


def test_an_unreachable_smtp_server_is_retried_logged_and_reported(engine, webhook,
                                                                   small_report,
                                                                   monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(delivery, "pause", waits.append)
    closed = free_port()  # nobody listens on it
    received, hook = webhook
    defs = definitions(closed, hook)
    report_id = save_report(engine, small_report)
    outcomes = deliver(engine, defs, defs.reports[0], small_report, report_id)
    failed = [o for o in outcomes if o.status == "failed"]
    assert len(failed) == 3 and all(o.attempts == 3 and "Connection" in o.error for o in failed)
    assert len(waits) == 3 * 2
    with session(engine) as s:
        logged = {(d.recipient, d.status) for d in s.scalars(select(ReportDelivery))}
    assert ("ana@example.com", "failed") in logged and ("#chat", "sent") in logged


def test_stored_reports_are_listed_and_render_again_by_id(engine, small_report) -> None:
    first = save_report(engine, small_report)
    assert save_report(engine, small_report) == first  # the same date is replaced, not added
    listed = list_reports(engine)
    assert [(r.id, r.as_of) for r in listed] == [(first, small_report.as_of)]
    assert render_stored(engine, first, "md") == delivery.render_markdown(small_report)


def test_a_webhook_whose_address_is_not_set_fails_logged_not_lost(engine, small_report,
                                                                  monkeypatch) -> None:
    monkeypatch.delenv("QD_TEST_HOOK", raising=False)
    defs = ReportDefinitions.model_validate({
        "reports": [{"name": "chat_only", "channels": ["chat"]}],
        "channels": {"chat": {"kind": "webhook", "url_env": "QD_TEST_HOOK"}},
        "retry": {"attempts": 2, "wait_seconds": 0}})
    report_id = save_report(engine, small_report)
    [outcome] = deliver(engine, defs, defs.reports[0], small_report, report_id)
    assert outcome.status == "failed" and "QD_TEST_HOOK is not set" in outcome.error
    with session(engine) as s:
        [logged] = s.scalars(select(ReportDelivery)).all()
    assert (logged.status, logged.attempts) == ("failed", 2)
