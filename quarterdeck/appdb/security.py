"""Tables that keep signing in safe: server-side sessions and failed sign-in counters.

A session cookie holds 32 random bytes; the database keeps only their SHA-256 hash, so
signing out (or deactivating a user) ends the session everywhere at once, and a stolen
database holds no usable cookie.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from quarterdeck.appdb.models import Base, UtcDateTime, utcnow


class UserSession(Base):
    """One signed-in browser: whose it is, its CSRF token and when it ends."""

    __tablename__ = "user_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    client: Mapped[str | None] = mapped_column(String(100))


class LoginFailure(Base):
    """Failed sign-ins counted for one account or one client address (`key`)."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
