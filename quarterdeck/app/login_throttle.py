"""Failed sign-ins slow down guessing, not other people: after too many failures an account,
or a client address, is locked for a while; everyone else signs in as usual.

Counters live in the app database, so every worker process of the web app sees the same
ones. A locked account or address is refused before any password is checked, so a guessing
attack costs the server no argon2 time at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError

from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.security import LoginFailure


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures within `window` lock an account or an address, and for how long.

    An address gets more tries than an account: several people may share one office address.
    """

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def _keys(email: str, address: str | None) -> list[str]:
    keys = [f"account:{email.strip().lower()[:320]}"]
    if address:
        keys.append(f"address:{address[:64]}")
    return keys


def locked_until(engine: Engine, email: str, address: str | None) -> datetime | None:
    """When the lock on this account or address ends, or None when neither is locked."""
    now = utcnow()
    with session(engine) as db:
        ends = [row.locked_until for key in _keys(email, address)
                if (row := db.get(LoginFailure, key)) is not None
                and row.locked_until is not None and row.locked_until > now]
    return max(ends) if ends else None


def note_failure(engine: Engine, email: str, address: str | None, policy: LoginPolicy) -> None:
    """Count a failed sign-in against the account and the address; lock the one that has had
    too many within the window."""
    limits = {"account": policy.account_failures, "address": policy.address_failures}
    for attempt in range(2):
        try:
            _count(engine, _keys(email, address), limits, policy)
            return
        except IntegrityError:
            # Two failures for a new key at once: the other insert won; count on top of it.
            if attempt:
                raise


def note_success(engine: Engine, email: str) -> None:
    """A correct password clears the account's count (never the address's)."""
    with session(engine) as db:
        db.execute(delete(LoginFailure).where(LoginFailure.key == _keys(email, None)[0]))


def _count(engine: Engine, keys: list[str], limits: dict[str, int], policy: LoginPolicy) -> None:
    now = utcnow()
    with session(engine) as db:
        for key in keys:
            row = db.get(LoginFailure, key, with_for_update=True)
            if row is None:
                row = LoginFailure(key=key, failures=0, first_failed_at=now)
                db.add(row)
            elif now - row.first_failed_at > policy.window and not (
                row.locked_until and row.locked_until > now
            ):
                row.failures, row.first_failed_at, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= limits[key.split(":", 1)[0]]:
                row.locked_until = now + policy.lockout
