"""Admins read the audit log: who changed what, when, what it was before and after."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.appdb import add_user
from quarterdeck.appdb.users import set_role
from quarterdeck.testing.web_client import post_login


def test_an_admin_sees_a_role_change_with_before_and_after(
    app: FastAPI, client: TestClient, sign_in_as: Callable[..., TestClient]
) -> None:
    add_user(app.state.engine, "kim-audit@example.com", "Kim", "viewer", "audit page test",
             actor="admin@example.com")
    set_role(app.state.engine, "kim-audit@example.com", "csm", actor="admin@example.com")
    admin = sign_in_as(client, "admin@example.com")
    html = admin.get("/admin/audit", params={"action": "user.set_role"}).text
    row = html.split("kim-audit@example.com", 1)[1].split("</tr>", 1)[0]
    assert "user.set_role" in html and "admin@example.com" in html
    assert "<code>role</code> viewer" in row and "<code>role</code> csm" in row
    assert 'href="/admin/audit"' in admin.get("/accounts").text


def test_failed_sign_ins_are_on_the_page_and_filters_work(
    app: FastAPI, client: TestClient, sign_in_as: Callable[..., TestClient]
) -> None:
    add_user(app.state.engine, "lee-audit@example.com", "Lee", "viewer", "audit filter test",
             actor="admin@example.com")
    post_login(TestClient(app), "nobody-audit@example.com", "wrong")
    admin = sign_in_as(client, "admin@example.com")
    failed = admin.get("/admin/audit", params={"action": "login.failed"}).text
    assert "nobody-audit@example.com" in failed and "wrong credentials" in failed
    assert "<code>user.add</code>" not in failed
    by_actor = admin.get("/admin/audit", params={"actor": "admin@example.com"}).text
    assert "<code>login.failed</code>" not in by_actor and "<td>anonymous</td>" not in by_actor
    assert "<td>admin@example.com</td>" in by_actor
    # The admin signs in in many tests of the session: their own sign-ins fill the first page.
    both = admin.get("/admin/audit", params={"actor": "admin@example.com", "action": "user."}).text
    assert "lee-audit@example.com" in both and "<code>login</code>" not in both


def test_a_csm_may_not_read_the_audit_log(signed_in: TestClient) -> None:
    response = signed_in.get("/admin/audit")
    assert response.status_code == 403 and "may not" in response.text
    assert 'href="/admin/audit"' not in signed_in.get("/accounts").text


def test_the_log_never_shows_a_password(
    app: FastAPI, client: TestClient, sign_in_as: Callable[..., TestClient], password: str
) -> None:
    post_login(TestClient(app), "ben@example.com", "my secret guess")
    html = sign_in_as(client, "admin@example.com").get("/admin/audit").text
    assert password not in html and "my secret guess" not in html


def test_entries_with_plain_values_or_no_detail_are_shown_too(
    app: FastAPI, client: TestClient, sign_in_as: Callable[..., TestClient]
) -> None:
    from quarterdeck.appdb import session
    from quarterdeck.appdb.audit import record

    with session(app.state.engine) as db:
        record(db, "ben@example.com", "alert.acknowledged", "alert 77",
               {"before": "open", "after": "acknowledged", "note": "called"})
        record(db, "ben@example.com", "report.sent", "weekly", ["a", "b"])
    html = sign_in_as(client, "admin@example.com").get(
        "/admin/audit", params={"actor": "ben@example.com"}).text
    row = html.split("alert 77", 1)[1].split("</tr>", 1)[0]
    assert "open" in row and "acknowledged" in row and "called" in row
    assert "weekly" in html
