"""The audit log: who changed what, appended in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quarterdeck.appdb.models import AuditLogEntry, utcnow


def record(
    session: Session, actor: str, action: str, target: str | None, detail: Any = None
) -> AuditLogEntry:
    """Append one entry; it commits or rolls back with the change it describes.

    `detail` is any JSON value (usually a dict of what changed); never put a secret in it.

    >>> record(db, "ana@example.com", "user.add", "li@example.com", {"role": "csm"})
    ... # doctest: +SKIP
    """
    entry = AuditLogEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    return entry


def recent(session: Session, limit: int = 100) -> list[AuditLogEntry]:
    """The latest entries, newest first."""
    query = select(AuditLogEntry).order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc())
    return list(session.scalars(query.limit(limit)))
