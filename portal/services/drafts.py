"""Server-side drafts for multi-page journeys; the key doubles as the one-time form key."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.models import Draft, User
from portal.models.base import utcnow
from portal.services.errors import NotFound

KEEP_DAYS = 7
SHOWN = 20  # unfinished drafts listed on one page


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
    session.flush()
    return draft


def discard(session: Session, key: str) -> None:
    """Delete the draft with this key, if it is still there. By key, not by a loaded Draft: a request that
    lost a race to submit the draft has rolled back, and its Draft object may be gone from the database."""
    session.execute(delete(Draft).where(Draft.key == key))


def purge_old(session: Session) -> int:
    return session.execute(delete(Draft).where(Draft.updated_at < utcnow() - timedelta(days=KEEP_DAYS))).rowcount


# --- unfinished drafts: listed, resumed, discarded --------------------------------------------------

def _typed(draft: Draft) -> bool:
    """Whether a draft holds anything its owner chose or typed: a move-in draft before its first person is
    only the tap on "report a move-in" and is used again rather than listed."""
    if draft.kind == "move_in":
        return bool(draft.data.get("people")) or bool(draft.data.get("corrects"))
    return True


def unfinished(session: Session, owner: User, kinds: tuple[str, ...], *, house_id: int | None = None,
               unit_id: int | None = None) -> list[Draft]:
    """The owner's drafts of these kinds that hold something and have not expired, newest first; with
    `house_id` (or `unit_id`) only those for that house (or unit)."""
    found = session.scalars(select(Draft).where(
        Draft.owner_id == owner.id, Draft.kind.in_(kinds),
        Draft.updated_at >= utcnow() - timedelta(days=KEEP_DAYS)).order_by(Draft.updated_at.desc()))
    out = [d for d in found if _typed(d)
           and (house_id is None or d.data.get("house_id") == house_id)
           and (unit_id is None or d.data.get("unit_id") == unit_id)]
    return out[:SHOWN]


def find(session: Session, owner: User, kind: str, **data) -> Draft | None:
    """The owner's newest unexpired draft of this kind whose data has these values (a value None: the key
    is absent), to be offered again instead of starting a second one."""
    for draft in session.scalars(select(Draft).where(
            Draft.owner_id == owner.id, Draft.kind == kind,
            Draft.updated_at >= utcnow() - timedelta(days=KEEP_DAYS)).order_by(Draft.updated_at.desc())):
        if all(draft.data.get(k) == v for k, v in data.items()):
            return draft
    return None


def expires_at(draft: Draft):
    """When the purge may delete the draft if nobody touches it."""
    return draft.updated_at + timedelta(days=KEEP_DAYS)


def next_step(draft: Draft) -> str:
    """The page a resumed draft continues on: the first one not yet answered, or the check page."""
    d = draft.data
    if draft.kind == "move_in":
        if d.get("corrects") or (d.get("people") and d.get("move_in_date")):
            return "check"
        return "another" if d.get("people") else "person"
    if draft.kind == "house":
        if d.get("corrects") or d.get("max_occupants"):
            return "check"
        return "capacity" if d.get("use") else "use"
    if draft.kind == "unit":
        return "check" if d.get("name") else "details"
    return "check"


def discard_own(session: Session, owner: User, key: str, kinds: tuple[str, ...]) -> Draft:
    """Delete one of the owner's drafts (someone else's, or one gone already, is NotFound). Flushes; the
    caller commits."""
    draft = get(session, owner, key, lock=True)
    if draft.kind not in kinds:
        raise NotFound()
    session.delete(draft)
    session.flush()
    return draft
