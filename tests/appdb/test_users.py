"""Users, argon2 password hashes, API tokens and the audit trail they leave."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from quarterdeck.appdb import add_user, authenticate, create_token, session, user_for_token
from quarterdeck.appdb.audit import recent, record
from quarterdeck.appdb.models import ApiToken, User
from quarterdeck.appdb.users import InvalidRoleError, UnknownUserError, UserExistsError

PASSWORD = "correct horse battery staple"


def test_add_user_stores_an_argon2_hash_not_the_password(engine: Engine) -> None:
    user = add_user(engine, "Ana@Example.com", "Ana Ruiz", "csm", PASSWORD)
    assert user.email == "ana@example.com"
    with session(engine) as db:
        stored = db.scalars(select(User)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert stored.active and stored.created_at.tzinfo is not None


def test_adding_the_same_email_twice_is_refused(engine: Engine) -> None:
    add_user(engine, "ana@example.com", "Ana", "csm", PASSWORD)
    with pytest.raises(UserExistsError):
        add_user(engine, "ANA@example.com", "Ana again", "viewer", PASSWORD)


def test_an_unknown_role_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidRoleError, match="superuser"):
        add_user(engine, "ana@example.com", "Ana", "superuser", PASSWORD)


def test_authenticate_accepts_only_the_right_password(engine: Engine) -> None:
    add_user(engine, "ana@example.com", "Ana", "manager", PASSWORD)
    user = authenticate(engine, "ANA@example.com ", PASSWORD)
    assert user is not None and user.role == "manager"
    assert authenticate(engine, "ana@example.com", "wrong") is None
    assert authenticate(engine, "nobody@example.com", PASSWORD) is None


def test_an_inactive_user_cannot_sign_in_or_use_tokens(engine: Engine) -> None:
    add_user(engine, "ana@example.com", "Ana", "csm", PASSWORD)
    token = create_token(engine, "ana@example.com", "laptop")
    with session(engine) as db:
        db.scalars(select(User)).one().active = False
    assert authenticate(engine, "ana@example.com", PASSWORD) is None
    assert user_for_token(engine, token) is None


def test_token_is_returned_once_and_stored_hashed(engine: Engine) -> None:
    add_user(engine, "ana@example.com", "Ana", "ops", PASSWORD)
    token = create_token(engine, "ana@example.com", "nightly export")
    with session(engine) as db:
        stored = db.scalars(select(ApiToken)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert stored.last_used_at is None

    user = user_for_token(engine, token)
    assert user is not None and user.email == "ana@example.com"
    with session(engine) as db:
        assert db.scalars(select(ApiToken)).one().last_used_at is not None
    assert user_for_token(engine, token + "x") is None


def test_token_for_an_unknown_user_is_refused(engine: Engine) -> None:
    with pytest.raises(UnknownUserError):
        create_token(engine, "nobody@example.com", "x")


def test_user_changes_are_audited_without_secrets(engine: Engine) -> None:
    add_user(engine, "ana@example.com", "Ana", "csm", PASSWORD, actor="admin@example.com")
    token = create_token(engine, "ana@example.com", "laptop")
    with session(engine) as db:
        record(db, "ana@example.com", "account.note", "a1", {"text": "called"})
    with session(engine) as db:
        entries = recent(db)
    assert [e.action for e in entries] == ["account.note", "token.create", "user.add"]
    assert entries[-1].actor == "admin@example.com"
    assert entries[-1].detail == {"after": {"name": "Ana", "role": "csm", "active": True}}
    text = repr([(e.actor, e.action, e.target, e.detail) for e in entries])
    assert PASSWORD not in text and token not in text


def test_an_unknown_email_is_checked_against_a_hash_made_once_not_at_import(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from quarterdeck.appdb import users

    # Importing the module (every command does) makes no hash.
    made = subprocess.run([sys.executable, "-c", (
        "from quarterdeck.appdb import users; "
        "print(users.unknown_email_hash.cache_info().currsize)")],
        capture_output=True, text=True, check=True).stdout.split()
    assert made == ["0"]
    verified = []
    real = users._verify
    monkeypatch.setattr(users, "_verify", lambda h, p: verified.append(h) or real(h, p))
    assert authenticate(engine, "nobody@example.com", PASSWORD) is None
    assert authenticate(engine, "nobody@example.com", "other") is None
    assert verified == [users.unknown_email_hash()] * 2  # a real argon2 hash, the same each time
    assert verified[0].startswith("$argon2")


def test_the_web_app_makes_the_unknown_email_hash_before_it_serves(tmp_path) -> None:
    from quarterdeck.appdb import users
    from quarterdeck.serving import build_app
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    users.unknown_email_hash.cache_clear()
    init_workspace(tmp_path / "ws")
    build_app(open_workspace(tmp_path / "ws"))
    assert users.unknown_email_hash.cache_info().currsize == 1
