"""Server-side drafts for multi-page journeys; the key doubles as the one-time form key."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.models import Draft, User
from portal.models.base import utcnow
from portal.services.errors import NotFound

KEEP_DAYS = 7


def start(session: Session, owner: User, kind: str, data: dict) -> Draft:
    draft = Draft(key=secrets.token_urlsafe(32), owner_id=owner.id, kind=kind, data=data)
    session.add(draft)
    session.flush()
    return draft


def get(session: Session, owner: User, key: str, kind: str | None = None, *, lock: bool = False) -> Draft:
    """A draft of this owner; anyone else's, or one already submitted and gone, does not exist.

    With `lock` (a request that will change or submit it) the draft's row is held until the transaction
    ends: two requests for one draft (a double click, two tabs) run one after the other, and the second sees
    what the first did, its submission included (PostgreSQL; on SQLite the write transaction, begun with
    BEGIN IMMEDIATE, does the same)."""
    query = select(Draft).where(Draft.key == key, Draft.owner_id == owner.id)
    draft = session.scalar(query.with_for_update() if lock else query)
    if draft is None or (kind is not None and draft.kind != kind):
        raise NotFound()
    return draft


def save(session: Session, draft: Draft, **changes) -> Draft:
    draft.data = {**draft.data, **changes}
    flag_modified(draft, "data")
    session.flush()
    return draft


def discard(session: Session, key: str) -> None:
    """Delete the draft with this key, if it is still there. By key, not by a loaded Draft: a request that
    lost a race to submit the draft has rolled back, and its Draft object may be gone from the database."""
    session.execute(delete(Draft).where(Draft.key == key))


def purge_old(session: Session) -> int:
    return session.execute(delete(Draft).where(Draft.updated_at < utcnow() - timedelta(days=KEEP_DAYS))).rowcount
