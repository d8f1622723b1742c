"""The audit log: who changed what, when, and what it was before and after, appended in the
same transaction as the change itself.

Every change goes through `audit` (users, tokens, failed sign-ins, alerts, tasks, notes,
renewal categories): one call in the unit of work that makes the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quarterdeck.appdb.models import AuditLogEntry, utcnow

#: Keys never written to the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "csrf_token",
                         "session_id", "id_hash"})


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **context: Any,
) -> AuditLogEntry:
    """Append one entry: `actor` did `action` to `target`, changing `before` into `after`.

    It commits or rolls back with the change it describes. Secrets are dropped from `before`,
    `after` and `context` by key, so a caller cannot leak one by accident.

    >>> audit(db, "ana@example.com", "task.close", "task 12",
    ...       before={"state": "open"}, after={"state": "done", "outcome": "renewed"})
    ... # doctest: +SKIP
    """
    detail: dict[str, Any] = {k: v for k, v in context.items() if k not in SECRET_KEYS}
    if before is not None:
        detail["before"] = _clean(before)
    if after is not None:
        detail["after"] = _clean(after)
    return record(session, actor, action, target, detail or None)


def record(
    session: Session, actor: str, action: str, target: str | None, detail: Any = None
) -> AuditLogEntry:
    """Append one entry with a free-form JSON `detail` (prefer `audit` for changes).

    >>> record(db, "ana@example.com", "user.add", "li@example.com", {"role": "csm"})
    ... # doctest: +SKIP
    """
    entry = AuditLogEntry(at=utcnow(), actor=actor[:320], action=action[:100],
                          target=None if target is None else target[:500], detail=detail)
    session.add(entry)
    return entry


def recent(
    session: Session,
    limit: int = 100,
    *,
    offset: int = 0,
    action: str | None = None,
    actor: str | None = None,
) -> list[AuditLogEntry]:
    """The latest entries, newest first; `action` matches its prefix ("user." or
    "login.failed"), `actor` an exact email."""
    query = select(AuditLogEntry)
    if action:
        query = query.where(AuditLogEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditLogEntry.actor == actor)
    query = query.order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc())
    return list(session.scalars(query.offset(offset).limit(limit)))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in SECRET_KEYS}
