"""The officers' verification queue and item pages, scoped to their jurisdiction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from portal.models import House, Person, RecordStatus, Submission, SubmissionKind, Tenancy, User
from portal.services import audit, jurisdiction
from portal.services.errors import NotFound

PAGE_SIZE = 25


@dataclass
class Filters:
    kind: str | None = None
    beat_id: int | None = None
    flagged_only: bool = False
    late_only: bool = False


@dataclass
class Page:
    items: list[Submission]
    next_cursor: str | None


def encode_cursor(sub: Submission) -> str:
    return f"{sub.submitted_at.timestamp():.6f}_{sub.id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw:
        return None
    try:
        stamp, ident = raw.split("_")
        from datetime import UTC

        return datetime.fromtimestamp(float(stamp), UTC), int(ident)
    except (ValueError, OverflowError, OSError):
        return None


def _scope(officer: User, beat_ids: list[int], filters: Filters):
    """The one place that decides what an officer's queue may contain."""
    if filters.beat_id is not None:
        if filters.beat_id not in beat_ids:
            return None
        return Submission.beat_id == filters.beat_id
    if officer.beat_id is not None:
        return Submission.beat_id == officer.beat_id
    return Submission.station_id == officer.station_id


def queue_page(session: Session, officer: User, filters: Filters, cursor: str | None = None,
               page_size: int = PAGE_SIZE) -> Page:
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    where = _scope(officer, beat_ids, filters)
    if where is None or not beat_ids:
        return Page([], None)
    query = select(Submission).where(where, Submission.is_open.is_(True))
    if filters.kind:
        query = query.where(Submission.kind == SubmissionKind(filters.kind))
    if filters.flagged_only:
        query = query.where(Submission.flagged.is_(True))
    if filters.late_only:
        query = query.where(Submission.late.is_(True))
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(tuple_(Submission.submitted_at, Submission.id) > tuple_(*after))
    rows = list(session.scalars(query.order_by(Submission.submitted_at, Submission.id).limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else None)


def open_count(session: Session, officer: User) -> int:
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    where = _scope(officer, beat_ids, Filters())
    if where is None or not beat_ids:
        return 0
    return session.scalar(select(func.count()).select_from(Submission).where(where, Submission.is_open.is_(True)))


def item(session: Session, officer: User, submission_id: int) -> Submission:
    """An item in the officer's jurisdiction; anything else does not exist for them."""
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    sub = session.scalar(select(Submission).where(Submission.id == submission_id,
                                                  Submission.beat_id.in_(beat_ids)))
    if sub is None:
        raise NotFound()
    return sub


def house_history(session: Session, sub: Submission, limit: int = 50) -> list[Submission]:
    if sub.house_id is None:
        return []
    return list(session.scalars(select(Submission).where(Submission.house_id == sub.house_id,
                                                         Submission.id != sub.id)
                                .order_by(Submission.submitted_at.desc()).limit(limit)))


def other_tenancies(session: Session, sub: Submission) -> list[Tenancy]:
    """Active tenancies elsewhere of the people this submission names."""
    people = [(o["id_type"], o["id_number"]) for o in sub.payload.get("occupants", [])]
    if sub.payload.get("id_number"):
        people.append((sub.payload["id_type"], sub.payload["id_number"]))
    if not people:
        return []
    ids = list(session.scalars(select(Person.id).where(tuple_(Person.id_type, Person.id_number).in_(people))))
    return list(session.scalars(
        select(Tenancy).join(House).where(Tenancy.person_id.in_(ids), Tenancy.move_out_date.is_(None),
                                          Tenancy.status.in_((RecordStatus.pending, RecordStatus.verified)),
                                          Tenancy.house_id != (sub.house_id or 0))
        .order_by(Tenancy.id).limit(50)))


def reveal_id(session: Session, officer: User, sub: Submission, person_index: int, actor: audit.Actor) -> str:
    """The full ID number, for an officer who asks; the asking is audited."""
    people = sub.payload.get("occupants") or ([sub.payload] if sub.payload.get("id_number") else [])
    if not 0 <= person_index < len(people):
        raise NotFound()
    audit.record(session, "id.reveal", actor, user=officer, object_type="submission", object_id=sub.id,
                 detail=f"person={person_index}")
    session.commit()
    return people[person_index]["id_number"]
