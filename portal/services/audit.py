"""Writing the audit log. Rows are only ever inserted."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.models import AuditEvent, User
from portal.models.base import utcnow
from portal.services import audit_chain


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
) -> AuditEvent:
    """Add one audit row to the caller's transaction: it is committed, or rolled back, with the work it
    records. Its id and chain value follow the last row's (audit_chain.append); the session's next flush
    writes it (rows that refer to it do so by a relationship, so that the flush writes it first). The row."""
    who = user or actor.user
    row = AuditEvent(
        at=utcnow(),
        actor_id=who.id if who is not None else None,
        actor_role=str(who.role) if who is not None else None,
        ip=actor.ip,
        request_id=actor.request_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        detail=detail,
    )
    audit_chain.append(session, row)
    return row


def changes(before: dict | None, after: dict | None, **more: object) -> str:
    """An audit row's detail for a change: what the object was and what it became (None: did not exist),
    as canonical JSON, so that the auditor's export reads the same whatever wrote it."""
    return json.dumps({"before": before, "after": after, **more}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), default=str)
