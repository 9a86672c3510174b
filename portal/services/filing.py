"""Filing a submission, whatever reports it (a landlord, an employer, the API): its receipt, its station, its
due date and lateness, its flags, its form key and its audit row, added to the caller's transaction and
flushed. The staff-list import files thousands at once (staff_import.py), with the same rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Beat, Submission, Tenancy, User
from portal.models.base import utcnow
from portal.services import audit, flags, receipts
from portal.services.idempotency import ClaimedKey

LOCAL = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    return datetime.now(LOCAL).date()


def due_at(event: date, deadline_days: int) -> datetime:
    """The end of the last local day on which the event may be reported."""
    last_day = event + timedelta(days=deadline_days)
    return datetime.combine(last_day + timedelta(days=1), time(0), LOCAL).astimezone(UTC)


@dataclass
class Filed:
    submission: Submission
    created: bool  # False when the same form was sent again and the first submission is returned
    tenancy_ids: list[int] | None = None  # those a move-in just created


def existing(session: Session, reporter: User, form_key: str | None) -> Submission | None:
    """The reporter's submission filed with this form key, if any."""
    if not form_key:
        return None
    return session.scalar(select(Submission).where(Submission.form_key == form_key,
                                                   Submission.reporter_id == reporter.id))


def filed_before(session: Session, reporter: User, form_key: str | None) -> Filed | None:
    """The submission this form became already (a double click, a retry), if any. A claimed API key
    (idempotency.ClaimedKey) has no submission yet: the claim found no stored response."""
    if isinstance(form_key, ClaimedKey):
        return None
    first = existing(session, reporter, form_key)
    return Filed(first, False) if first is not None else None


def file(session: Session, reporter: User, sub: Submission, actor: audit.Actor, form_key: str | None, *,
         found: list[dict] | None = None, due: datetime | None = None, tenancies: list[Tenancy] | None = None,
         now: datetime | None = None) -> Filed:
    """Add the submission and flush: a fresh receipt, the station of its beat, its flags (`found`, and
    flags.late when `due` has passed), its tenancies (a move-in's) and its audit row. A unique form key turns
    a double submit into a no-op: the first submission is returned."""
    now = now or sub.submitted_at or utcnow()
    sub.submitted_at = now
    if due is not None:
        sub.due_at, sub.late = due, now > due
    sub.flags = flags.late(due, now) + list(found or [])
    sub.flagged = bool(sub.flags)
    sub.receipt = receipts.new_receipt()
    if sub.station_id is None:
        sub.station_id = session.scalar(select(Beat.station_id).where(Beat.id == sub.beat_id))
    sub.form_key = form_key or None
    sub.reporter_id = reporter.id
    sub.tenancies = tenancies or []
    session.flush()  # what the caller changed goes first (a corrected report, a new house): kept on a race
    try:
        with session.begin_nested():  # a race lost on a unique key takes back only this submission
            session.add(sub)
            session.flush()
    except IntegrityError:
        first = existing(session, reporter, form_key)
        if first is None:
            raise
        return Filed(first, False)
    audit.record(session, "submission.create", actor, user=reporter, object_type="submission", object_id=sub.id,
                 detail=str(sub.kind))
    return Filed(sub, True, [t.id for t in sub.tenancies] if tenancies else None)
