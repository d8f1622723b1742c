"""People who sign in, their passwords (argon2 hashes) and their API tokens (SHA-256 hashes).

An API token is 32 random bytes, so a fast hash is enough to make a stolen database useless
and lets a request find its token with one indexed lookup; passwords are human-chosen and get
argon2, which is deliberately slow.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from quarterdeck.appdb.audit import audit
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import ROLES, ApiToken, User, utcnow
from quarterdeck.appdb.security import UserSession
from quarterdeck.errors import QuarterdeckError

TOKEN_PREFIX = "qd_"
# Writing last_used_at on every API call would turn each read into a write; once a minute is
# precise enough to see which tokens are in use.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
#: What a token may do: `read` calls only safe methods; `write` may also change things, within
#: what its user's role allows.
TOKEN_SCOPES: tuple[str, ...] = ("read", "write")
#: How long a token lives unless told otherwise.
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


@functools.cache
def unknown_email_hash() -> str:
    """The hash a password is verified against when the email is unknown, so that a wrong
    email takes as long as a wrong password and response times do not reveal who has an
    account. Made on first use (a quarter of a second: not on every command's import); the web
    app makes it before it serves, so the first unknown email is no slower than the next."""
    return _hasher.hash(secrets.token_urlsafe(16))


class UserExistsError(QuarterdeckError):
    """A user with this email already exists."""


class UnknownUserError(QuarterdeckError):
    """No user has this email."""


class InvalidRoleError(QuarterdeckError, ValueError):
    """The role is not one of admin, manager, ops, csm, viewer."""


class WeakPasswordError(QuarterdeckError, ValueError):
    """The password is too short."""


class UnknownTokenError(QuarterdeckError):
    """No token has this id (or it belongs to someone else)."""


@dataclass(frozen=True)
class TokenGrant:
    """What a presented API token allows: whose it is and its scope."""

    user: User
    scope: str
    token_id: int


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    id: int
    email: str
    name: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"


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
    _check_role(role)
    _check_password(password)
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
        audit(db, actor, "user.add", email, after={"name": name, "role": role, "active": True})
    return user


def generate_password() -> str:
    """A random password of 24 characters, for `user add` without a terminal."""
    return secrets.token_urlsafe(18)


def set_active(engine: Engine, email: str, active: bool, *, actor: str = "system") -> User:
    """Deactivate (or reactivate) a user; deactivating ends their sessions at once and their
    tokens stop working."""
    with session(engine) as db:
        user = _find(db, email)
        before = user.active
        user.active = active
        if not active:
            db.execute(delete(UserSession).where(UserSession.user_id == user.id))
        audit(db, actor, "user.activate" if active else "user.deactivate", user.email,
              before={"active": before}, after={"active": active})
    return user


def set_role(engine: Engine, email: str, role: str, *, actor: str = "system") -> User:
    """Give a user another role; it applies from their next request."""
    _check_role(role)
    with session(engine) as db:
        user = _find(db, email)
        before = user.role
        user.role = role
        audit(db, actor, "user.set_role", user.email, before={"role": before},
              after={"role": role})
    return user


def reset_password(engine: Engine, email: str, password: str, *, actor: str = "system") -> User:
    """Set a new password and end every session of the user (they sign in again)."""
    _check_password(password)
    with session(engine) as db:
        user = _find(db, email)
        user.password_hash = _hasher.hash(password)
        db.execute(delete(UserSession).where(UserSession.user_id == user.id))
        audit(db, actor, "user.reset_password", user.email)
    return user


def authenticate(engine: Engine, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (whichever of the two is wrong)."""
    with session(engine) as db:
        user = db.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None or not user.active:
            _verify(unknown_email_hash(), password)
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


def create_token(
    engine: Engine,
    email: str,
    name: str,
    *,
    scope: str = "read",
    lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME,
    actor: str | None = None,
) -> str:
    """Create an API token for a user and return it; it is shown this once and only its hash
    is kept. `lifetime` None makes a token that never expires.

    >>> create_token(engine, "ana@example.com", "nightly export", scope="read")  # doctest: +SKIP
    'qd_3q2…'
    """
    if scope not in TOKEN_SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(TOKEN_SCOPES)}")
    email = normalize_email(email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = None if lifetime is None else now + lifetime
    with session(engine) as db:
        user = _find(db, email)
        api_token = ApiToken(token_hash=_token_hash(token), user=user, name=name, scope=scope,
                             created_at=now, expires_at=expires_at)
        db.add(api_token)
        db.flush()
        audit(db, actor or email, "token.create", email,
              after={"token_id": api_token.id, "name": name, "scope": scope,
                     "expires_at": None if expires_at is None else expires_at.isoformat()})
    return token


def list_tokens(engine: Engine, email: str | None = None) -> list[TokenInfo]:
    """Every token (or one user's), newest first, without the tokens themselves."""
    query = select(ApiToken, User.email).join(User, ApiToken.user_id == User.id)
    if email is not None:
        query = query.where(User.email == normalize_email(email))
    with session(engine) as db:
        rows = db.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return [TokenInfo(t.id, owner, t.name, t.scope, t.created_at, t.last_used_at, t.expires_at,
                      t.revoked_at) for t, owner in rows]


def revoke_token(
    engine: Engine, token_id: int, *, actor: str = "system", owner: str | None = None
) -> None:
    """Revoke a token at once. With `owner`, only a token of that user (a user revoking their
    own); revoking twice changes nothing."""
    with session(engine) as db:
        found = db.execute(select(ApiToken, User.email).join(User, ApiToken.user_id == User.id)
                           .where(ApiToken.id == token_id)).first()
        if found is None or (owner is not None and found[1] != normalize_email(owner)):
            raise UnknownTokenError(f"no token has id {token_id}")
        api_token, email = found
        if api_token.revoked_at is not None:
            return
        api_token.revoked_at = utcnow()
        audit(db, actor, "token.revoke", email, before={"token_id": token_id, "revoked": False},
              after={"token_id": token_id, "revoked": True})


def token_grant(engine: Engine, token: str) -> TokenGrant | None:
    """What a bearer token allows, or None if it is unknown, revoked, expired or its user is
    deactivated."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with session(engine) as db:
        found = db.execute(
            select(ApiToken, User)
            .join(User, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _token_hash(token))
        ).first()
        if found is None:
            return None
        api_token, user = found
        now = utcnow()
        if not user.active or api_token.revoked_at is not None or (
            api_token.expires_at is not None and api_token.expires_at <= now
        ):
            return None
        if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_TOUCH_INTERVAL:
            api_token.last_used_at = now
        return TokenGrant(user=user, scope=api_token.scope, token_id=api_token.id)


def user_for_token(engine: Engine, token: str) -> User | None:
    """The active user a live bearer token belongs to, or None."""
    grant = token_grant(engine, token)
    return None if grant is None else grant.user


def count_users(engine: Engine) -> int:
    """How many users exist (the CLI offers to create the first admin when there are none)."""
    with session(engine) as db:
        return db.scalar(select(func.count()).select_from(User)) or 0


def _find(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise UnknownUserError(f"no user has email {normalize_email(email)!r}")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRoleError(f"role {role!r} is not one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
