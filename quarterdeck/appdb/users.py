"""People who sign in, their passwords (argon2 hashes) and their API tokens (SHA-256 hashes).

An API token is 32 random bytes, so a fast hash is enough to make a stolen database useless
and lets a request find its token with one indexed lookup; passwords are human-chosen and get
argon2, which is deliberately slow.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select

from quarterdeck.appdb.audit import record
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import ROLES, ApiToken, User, utcnow
from quarterdeck.errors import QuarterdeckError

TOKEN_PREFIX = "qd_"
# Writing last_used_at on every API call would turn each read into a write; once a minute is
# precise enough to see which tokens are in use.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email takes as long as a wrong
# password and response times do not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserExistsError(QuarterdeckError):
    """A user with this email already exists."""


class UnknownUserError(QuarterdeckError):
    """No user has this email."""


class InvalidRoleError(QuarterdeckError, ValueError):
    """The role is not one of admin, manager, ops, csm, viewer."""


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively: `Ana@Example.com` is `ana@example.com`."""
    return email.strip().lower()


def add_user(
    engine: Engine, email: str, name: str, role: str, password: str, *, actor: str = "system"
) -> User:
    """Create an active user with an argon2-hashed password.

    >>> add_user(engine, "ana@example.com", "Ana Ruiz", "csm", "correct horse")  # doctest: +SKIP
    User(email='ana@example.com', role='csm', active=True)
    """
    if role not in ROLES:
        raise InvalidRoleError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not password:
        raise ValueError("a password is required")
    email = normalize_email(email)
    with session(engine) as db:
        if db.scalar(select(User.id).where(User.email == email)) is not None:
            raise UserExistsError(f"a user with email {email!r} already exists")
        user = User(
            email=email,
            name=name,
            role=role,
            password_hash=_hasher.hash(password),
            created_at=utcnow(),
            active=True,
        )
        db.add(user)
        record(db, actor, "user.add", email, {"name": name, "role": role})
    return user


def authenticate(engine: Engine, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (whichever of the two is wrong)."""
    with session(engine) as db:
        user = db.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(user.password_hash, password):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            # Hashing parameters got stronger since this password was set; upgrade silently.
            user.password_hash = _hasher.hash(password)
        return user


def get_user(engine: Engine, user_id: int) -> User | None:
    """The active user with this id, or None."""
    with session(engine) as db:
        user = db.get(User, user_id)
        return user if user is not None and user.active else None


def create_token(engine: Engine, email: str, name: str, *, actor: str | None = None) -> str:
    """Create an API token for a user and return it; it is shown this once and never stored.

    >>> create_token(engine, "ana@example.com", "nightly export")  # doctest: +SKIP
    'qd_3q2…'
    """
    email = normalize_email(email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session(engine) as db:
        user = db.scalar(select(User).where(User.email == email))
        if user is None:
            raise UnknownUserError(f"no user has email {email!r}")
        db.add(ApiToken(token_hash=_token_hash(token), user=user, name=name, created_at=utcnow()))
        record(db, actor or email, "token.create", email, {"name": name})
    return token


def user_for_token(engine: Engine, token: str) -> User | None:
    """The active user a bearer token belongs to, or None if the token is unknown."""
    with session(engine) as db:
        found = db.execute(
            select(ApiToken, User)
            .join(User, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _token_hash(token))
        ).first()
        if found is None:
            return None
        api_token, user = found
        if not user.active:
            return None
        now = utcnow()
        if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_TOUCH_INTERVAL:
            api_token.last_used_at = now
        return user


def count_users(engine: Engine) -> int:
    """How many users exist (the CLI offers to create the first admin when there are none)."""
    with session(engine) as db:
        return db.scalar(select(func.count()).select_from(User)) or 0


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
