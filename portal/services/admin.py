"""What administrators and auditors see and do."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, User
from portal.models.base import utcnow
from portal.services import audit, throttle
from portal.services import auth as auth_service
from portal.services.errors import NotFound

PAGE = 50


def list_accounts(session: Session, *, after_id: int = 0) -> list[User]:
    """Accounts by id, one keyset page at a time."""
    return list(session.scalars(select(User).where(User.id > after_id).order_by(User.id).limit(PAGE)))


def accounts_under_attack(session: Session, limits: throttle.Throttle) -> list[User]:
    """The accounts with many failed sign-ins in a row lately, for the notice on the administrators' home."""
    return throttle.under_attack(session, limits, utcnow())


def unlock_account(session: Session, user_id: int, actor: audit.Actor) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    auth_service.unlock(session, user, actor)
    return user


def audit_log(session: Session, *, before_id: int | None = None) -> list[AuditEvent]:
    """Newest first, keyset paged; read-only."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))
