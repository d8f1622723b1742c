"""Users changed, tokens listed and revoked, sessions started and ended: each audited with
before and after, none leaking a secret."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from quarterdeck.appdb import add_user, session
from quarterdeck.appdb.audit import audit, recent
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.security import UserSession
from quarterdeck.appdb.sessions import end_session, find_session, start_session
from quarterdeck.appdb.users import (
    UnknownTokenError,
    UnknownUserError,
    WeakPasswordError,
    authenticate,
    create_token,
    list_tokens,
    reset_password,
    revoke_token,
    set_active,
    set_role,
    token_grant,
)

PASSWORD = "security tests password"


@pytest.fixture
def ana(engine: Engine) -> int:
    return add_user(engine, "ana@example.com", "Ana", "csm", PASSWORD).id


def test_user_changes_are_audited_with_before_and_after(engine: Engine, ana: int) -> None:
    set_role(engine, "ana@example.com", "manager", actor="admin@example.com")
    set_active(engine, "ana@example.com", False, actor="admin@example.com")
    reset_password(engine, "Ana@Example.com", "another long password", actor="admin@example.com")
    with session(engine) as db:
        entries = {e.action: e for e in recent(db)}
    assert entries["user.set_role"].detail == {"before": {"role": "csm"},
                                               "after": {"role": "manager"}}
    assert entries["user.deactivate"].detail == {"before": {"active": True},
                                                 "after": {"active": False}}
    assert entries["user.reset_password"].actor == "admin@example.com"
    assert "another long password" not in repr([e.detail for e in entries.values()])


def test_a_deactivated_user_cannot_sign_in_or_use_a_token(engine: Engine, ana: int) -> None:
    token = create_token(engine, "ana@example.com", "laptop")
    set_active(engine, "ana@example.com", False)
    assert authenticate(engine, "ana@example.com", PASSWORD) is None
    assert token_grant(engine, token) is None
    set_active(engine, "ana@example.com", True)
    assert token_grant(engine, token) is not None


def test_changes_to_unknown_users_and_weak_passwords_are_refused(engine: Engine, ana: int) -> None:
    with pytest.raises(UnknownUserError, match="zed@example.com"):
        set_role(engine, "zed@example.com", "csm")
    with pytest.raises(WeakPasswordError, match="8 characters"):
        reset_password(engine, "ana@example.com", "short")
    with pytest.raises(ValueError, match="is not one of"):
        set_role(engine, "ana@example.com", "owner")


def test_tokens_are_listed_without_the_token_with_scope_and_expiry(
    engine: Engine, ana: int
) -> None:
    read = create_token(engine, "ana@example.com", "dashboard")
    write = create_token(engine, "ana@example.com", "sync", scope="write", lifetime=None)
    listed = {t.name: t for t in list_tokens(engine)}
    assert {t.scope for t in listed.values()} == {"read", "write"}
    assert listed["sync"].expires_at is None
    expires = listed["dashboard"].expires_at
    assert expires is not None and timedelta(days=89) < expires - utcnow() <= timedelta(days=90)
    assert read not in repr(listed) and write not in repr(listed)
    grant = token_grant(engine, write)
    assert grant is not None and grant.scope == "write" and grant.user.email == "ana@example.com"


def test_a_token_scope_must_be_read_or_write(engine: Engine, ana: int) -> None:
    with pytest.raises(ValueError, match="scope 'admin'"):
        create_token(engine, "ana@example.com", "x", scope="admin")


def test_revoking_is_audited_once_and_only_the_owner_may_revoke_their_own(
    engine: Engine, ana: int
) -> None:
    add_user(engine, "ben@example.com", "Ben", "csm", PASSWORD)
    token = create_token(engine, "ana@example.com", "laptop")
    (info,) = list_tokens(engine, "ana@example.com")
    with pytest.raises(UnknownTokenError):
        revoke_token(engine, info.id, actor="ben@example.com", owner="ben@example.com")
    revoke_token(engine, info.id, actor="ana@example.com", owner="ana@example.com")
    revoke_token(engine, info.id, actor="ana@example.com")
    assert token_grant(engine, token) is None
    assert list_tokens(engine)[0].state == "revoked"
    with session(engine) as db:
        revokes = [e for e in recent(db) if e.action == "token.revoke"]
    assert len(revokes) == 1 and revokes[0].detail["after"] == {"token_id": info.id,
                                                                 "revoked": True}


def test_a_session_ends_when_ended_and_only_its_hash_is_stored(engine: Engine, ana: int) -> None:
    session_id = start_session(engine, ana, "198.51.100.1")
    found = find_session(engine, session_id)
    assert found is not None and found.user.email == "ana@example.com"
    with session(engine) as db:
        stored = db.get(UserSession, _hash(session_id))
        assert stored is not None and session_id not in repr(vars(stored))
    end_session(engine, session_id)
    assert find_session(engine, session_id) is None


@pytest.mark.parametrize("column", ["expires_at", "last_seen_at"])
def test_an_expired_or_idle_session_ends(engine: Engine, ana: int, column: str) -> None:
    session_id = start_session(engine, ana)
    with session(engine) as db:
        db.execute(update(UserSession).values({column: utcnow() - timedelta(days=15)}))
    assert find_session(engine, session_id) is None


def test_audit_drops_secrets_a_caller_passes_by_mistake(engine: Engine) -> None:
    with session(engine) as db:
        audit(db, "ana@example.com", "task.close", "task 7", before={"state": "open"},
              after={"state": "done", "password": "oops"}, token="qd_secret", outcome="renewed")
    with session(engine) as db:
        (entry,) = recent(db)
    assert entry.detail == {"outcome": "renewed", "before": {"state": "open"},
                            "after": {"state": "done"}}


def _hash(session_id: str) -> str:
    import hashlib

    return hashlib.sha256(session_id.encode()).hexdigest()


def test_starting_a_session_drops_ended_ones(engine: Engine, ana: int) -> None:
    old = start_session(engine, ana)
    with session(engine) as db:
        db.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    start_session(engine, ana)
    with session(engine) as db:
        assert db.get(UserSession, _hash(old)) is None
        assert len(db.scalars(select(UserSession)).all()) == 1
