"""Writing the audit log. Rows are only ever inserted."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.db import insert_at_commit, stamp_at_commit
from portal.models import AuditEvent, User
from portal.models.base import utcnow
from portal.services import audit_chain

_TABLE = AuditEvent.__table__
stamp_at_commit(_TABLE, audit_chain.stamp)  # each row's id and chain value, given as it is written


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where; built by the web layer, or by the CLI with no IP."""

    user: User | None = None
    ip: str | None = None
    request_id: str | None = None


SYSTEM = Actor()


def record(
    session: Session,
    action: str,
    actor: Actor = SYSTEM,
    *,
    user: User | None = None,
    object_type: str | None = None,
    object_id: object = None,
    outcome: str = "success",
    detail: str | None = None,
) -> None:
    """Add one audit row to the caller's transaction, written when it commits (db.insert_at_commit: an audit
    row is never read back or changed, so it needs no ORM object and can go with the other such rows). Its id
and chain value are given then (audit_chain.stamp)."""
    who = user or actor.user
    insert_at_commit(session, _TABLE, {
        "at": utcnow(),
        "actor_id": who.id if who is not None else None,
        "actor_role": str(who.role) if who is not None else None,
        "ip": actor.ip,
        "request_id": actor.request_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "outcome": outcome,
        "detail": detail,
    })
