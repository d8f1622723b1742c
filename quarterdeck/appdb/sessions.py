"""Signed-in sessions kept on the server: started at sign-in, checked on every request, ended
at sign-out, when they expire, or when their user is deactivated or changes password.

The browser holds a random session id; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, Executable, delete, select, update

from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import User, utcnow
from quarterdeck.appdb.security import UserSession

#: A session not used for this long ends; signing in again starts a new one.
IDLE_TIMEOUT = timedelta(hours=12)
#: No session lives longer than this, however busy.
ABSOLUTE_TIMEOUT = timedelta(days=14)
# Writing last_seen_at on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class ActiveSession:
    """A live session: its user and the CSRF token its forms must carry."""

    user: User
    csrf_token: str


def start_session(engine: Engine, user_id: int, client: str | None = None) -> str:
    """Start a session for the user and return the id the browser keeps (shown this once).

    >>> cookie = start_session(engine, user.id, "203.0.113.9")  # doctest: +SKIP
    """
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    with session(engine) as db:
        # Ended sessions are dropped as new ones start, so the table holds live ones only.
        db.execute(delete(UserSession).where((UserSession.expires_at <= now) | (
            UserSession.last_seen_at < now - IDLE_TIMEOUT)))
        db.add(UserSession(id_hash=_hash(session_id), user_id=user_id,
                           csrf_token=secrets.token_urlsafe(32), created_at=now,
                           last_seen_at=now, expires_at=now + ABSOLUTE_TIMEOUT,
                           client=(client or "")[:100] or None))
    return session_id


def find_session(engine: Engine, session_id: str) -> ActiveSession | None:
    """The live session with this id and its active user, or None (unknown, ended, expired,
    idle too long, or its user deactivated)."""
    if not session_id or len(session_id) > 100:
        return None
    now = utcnow()
    hashed = _hash(session_id)
    with session(engine) as db:
        found = db.execute(
            select(UserSession.last_seen_at, UserSession.expires_at, UserSession.csrf_token, User)
            .join(User, UserSession.user_id == User.id)
            .where(UserSession.id_hash == hashed)
        ).first()
    if found is None:
        return None
    last_seen, expires, csrf_token, user = found
    if not user.active or expires <= now or now - last_seen > IDLE_TIMEOUT:
        _write(engine, delete(UserSession).where(UserSession.id_hash == hashed))
        return None
    if now - last_seen > TOUCH_INTERVAL:
        _write(engine, update(UserSession).where(UserSession.id_hash == hashed)
               .values(last_seen_at=now))
    return ActiveSession(user=user, csrf_token=csrf_token)


def _write(engine: Engine, statement: Executable) -> None:
    # A transaction of its own that starts by writing. A read turned into a write fails at
    # once on SQLite when another connection wrote in between (a session touched by another
    # request), whatever the busy timeout; a write that comes first waits its turn.
    with engine.begin() as connection:
        connection.execute(statement)


def end_session(engine: Engine, session_id: str) -> None:
    """End one session (signing out): its cookie opens nothing from now on."""
    with session(engine) as db:
        db.execute(delete(UserSession).where(UserSession.id_hash == _hash(session_id)))


def end_user_sessions(engine: Engine, user_id: int) -> int:
    """End every session of a user (deactivated, role or password changed); how many ended."""
    with session(engine) as db:
        result = db.execute(delete(UserSession).where(UserSession.user_id == user_id))
        return result.rowcount or 0


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
