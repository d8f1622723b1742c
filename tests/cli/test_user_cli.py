"""`quarterdeck user`: adding people without a terminal, deactivating, changing roles,
resetting passwords and managing API tokens, each audited with the account that ran it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from quarterdeck.appdb import authenticate, make_engine, session
from quarterdeck.appdb.models import AuditLogEntry, User
from quarterdeck.appdb.users import token_grant
from quarterdeck.cli.main import app
from quarterdeck.workspace.workspace import open_workspace

runner = CliRunner()


def qd(ws: Path, *args: str, code: int = 0, stdin: str | None = None) -> str:
    result = runner.invoke(app, [*args, "--workspace", str(ws)], input=stdin,
                           catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    runner.invoke(app, ["init", str(tmp_path / "ws")], catch_exceptions=False)
    return tmp_path / "ws"


def _engine(ws: Path):  # noqa: ANN202
    return make_engine(open_workspace(ws).app_database_url)


def test_user_add_without_a_terminal_generates_a_password_and_prints_it_once(ws: Path) -> None:
    out = qd(ws, "user", "add", "ana@example.com", "--role", "csm")
    assert "shown this once" in out
    password = out.strip().splitlines()[-1]
    assert len(password) >= 20
    assert authenticate(_engine(ws), "ana@example.com", password) is not None


def test_user_add_reads_the_password_from_stdin(ws: Path) -> None:
    out = qd(ws, "user", "add", "ben@example.com", "--role", "viewer", "--password-stdin",
             stdin="a password from stdin\n")
    assert "a password from stdin" not in out and "shown this once" not in out
    assert authenticate(_engine(ws), "ben@example.com", "a password from stdin") is not None


def test_a_short_password_or_unknown_role_is_refused(ws: Path) -> None:
    out = qd(ws, "user", "add", "c@example.com", "--password-stdin", stdin="short\n", code=1)
    assert "at least 8 characters" in out
    out = qd(ws, "user", "add", "c@example.com", "--role", "owner", "--generate-password",
             code=1)
    assert "is not one of" in out


def test_deactivate_set_role_and_reset_password(ws: Path) -> None:
    qd(ws, "user", "add", "ana@example.com", "--role", "csm", "--password-stdin",
       stdin="first password\n")
    qd(ws, "user", "set-role", "ana@example.com", "manager")
    qd(ws, "user", "deactivate", "ana@example.com")
    engine = _engine(ws)
    with session(engine) as db:
        user = db.scalar(select(User).where(User.email == "ana@example.com"))
        assert (user.role, user.active) == ("manager", False)
    qd(ws, "user", "activate", "ana@example.com")
    out = qd(ws, "user", "reset-password", "ana@example.com", "--generate-password")
    new_password = out.strip().splitlines()[-1]
    assert authenticate(engine, "ana@example.com", "first password") is None
    assert authenticate(engine, "ana@example.com", new_password) is not None
    listed = qd(ws, "user", "list")
    assert "ana@example.com" in listed and "manager" in listed
    with session(engine) as db:
        actions = [e.action for e in db.scalars(select(AuditLogEntry))]
        actors = set(db.scalars(select(AuditLogEntry.actor)))
    assert actions == ["user.add", "user.set_role", "user.deactivate", "user.activate",
                       "user.reset_password"]
    assert all(a.startswith("cli") for a in actors)


def test_unknown_user_gets_a_clear_error(ws: Path) -> None:
    out = qd(ws, "user", "deactivate", "zed@example.com", code=1)
    assert "no user has email 'zed@example.com'" in out


def test_token_create_list_and_revoke(ws: Path) -> None:
    qd(ws, "user", "add", "ana@example.com", "--role", "csm", "--generate-password")
    out = qd(ws, "user", "token", "create", "ana@example.com", "--name", "sync", "--scope",
             "write", "--expires-days", "30")
    token = out.strip().splitlines()[-1]
    assert token.startswith("qd_")
    grant = token_grant(_engine(ws), token)
    assert grant is not None and grant.scope == "write"
    listed = qd(ws, "user", "token", "list")
    assert "sync" in listed and "write" in listed and "active" in listed and token not in listed
    qd(ws, "user", "token", "revoke", str(grant.token_id))
    assert token_grant(_engine(ws), token) is None
    assert "revoked" in qd(ws, "user", "token", "list", "ana@example.com")
    qd(ws, "user", "token", "create", "ana@example.com", "--name", "x", "--scope", "all",
       code=2)


def test_the_app_database_is_readable_by_its_owner_only(ws: Path) -> None:
    qd(ws, "user", "add", "ana@example.com", "--generate-password")
    database = ws / "data" / "app.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE((ws / "data").stat().st_mode) == 0o700
