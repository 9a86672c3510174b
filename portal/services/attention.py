"""What needs this reporter: the police's answers that ask something of them, and duties coming due.

Both home pages (landlord and employer) list these first, before the houses or units: a rejected report
to correct, a site visit the police asked for (with the officer's note), a lease that ended with no
move-out reported, and how long is left to correct a rejected report on time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased, joinedload

from portal.models import (
    Decision,
    House,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Tenancy,
    User,
)
from portal.models.base import utcnow
from portal.services import residence
from portal.services.filing import LOCAL, local_today

S = SubmissionStatus
K = SubmissionKind
DUE_SOON = timedelta(hours=24)
# Reports a rejection is put right with: a correction that supersedes it (CORRECTABLE), or, for the kinds
# that have none, a new report of the same kind on the same tenancy, employment or unit.
CORRECTABLE = {K.move_in, K.house_registration, K.hire}
REPORTED_AGAIN_ON = {K.move_out: "tenancy_id", K.departure: "employment_id", K.unit_registration: "unit_id"}


@dataclass(frozen=True)
class Answer:
    """A report the police answered with something for its reporter to do or expect."""

    submission: Submission
    decision: Decision | None  # the officer's decision that put it in this state: reason and note
    due_at: datetime | None  # to correct a rejected report on time: the report's own deadline, if still ahead
    now: datetime

    @property
    def correctable(self) -> bool:
        return self.submission.kind in CORRECTABLE

    @property
    def due_soon(self) -> bool:
        return self.due_at is not None and self.due_at - self.now <= DUE_SOON

    @property
    def hours_left(self) -> int:
        return max(int((self.due_at - self.now).total_seconds() // 3600), 0) if self.due_at else 0


@dataclass(frozen=True)
class Needs:
    rejected: list[Answer]
    site_visits: list[Answer]
    leases_ended: list[Tenancy]  # lease ended before today, still living there, no move-out reported

    def __bool__(self) -> bool:
        return bool(self.rejected or self.site_visits or self.leases_ended)

    @property
    def due_soon(self) -> list[Answer]:
        return [a for a in self.rejected if a.due_soon]


def last_day(due_at: datetime | None) -> date | None:
    """The last local day a report may be made on: due_at is the start of the day after it
    (reporting.due_at)."""
    if due_at is None:
        return None
    return (due_at.astimezone(LOCAL) - timedelta(seconds=1)).date()


def for_reporter(session: Session, reporter: User, *, now: datetime | None = None,
                 today: date | None = None) -> Needs:
    """What needs this landlord or employer now, most pressing first within each list."""
    now = now or utcnow()
    answers = _answers(session, reporter, now)
    rejected = sorted((a for a in answers if a.submission.status == S.rejected),
                      key=lambda a: (a.due_at is None, a.due_at or now, -a.submission.id))
    visits = [a for a in answers if a.submission.status == S.site_visit]
    return Needs(rejected, visits, _leases_ended(session, reporter, today or local_today()))


def _answers(session: Session, reporter: User, now: datetime) -> list[Answer]:
    later = aliased(Submission)
    reported_again = [
        and_(Submission.kind == kind, exists().where(
            later.reporter_id == reporter.id, later.kind == kind, later.id > Submission.id,
            getattr(later, column) == getattr(Submission, column)))
        for kind, column in REPORTED_AGAIN_ON.items()]
    query = (select(Submission).where(Submission.reporter_id == reporter.id,
                                      Submission.status.in_([S.rejected, S.site_visit]))
             .order_by(Submission.decided_at.desc(), Submission.id.desc()))
    for clause in reported_again:
        query = query.where(~clause)
    subs = list(session.scalars(query))
    if not subs:
        return []
    decisions: dict[int, Decision] = {}
    for d in session.scalars(select(Decision).where(Decision.submission_id.in_([s.id for s in subs]),
                                                    Decision.to_status.in_([S.rejected, S.site_visit]))
                             .order_by(Decision.id)):
        decisions[d.submission_id] = d  # the latest officer decision of each
    return [Answer(s, decisions.get(s.id), s.due_at if s.due_at and s.due_at > now and s.status == S.rejected
                   else None, now) for s in subs]


def _leases_ended(session: Session, owner: User, today: date) -> list[Tenancy]:
    return list(session.scalars(
        select(Tenancy).join(House, House.id == Tenancy.house_id)
        .options(joinedload(Tenancy.person), joinedload(Tenancy.house).joinedload(House.address))
        .where(House.owner_id == owner.id, *residence.living(), Tenancy.lease_end_date < today)
        .order_by(Tenancy.lease_end_date, Tenancy.id)))


def last_decision(session: Session, submission: Submission) -> Decision | None:
    """The officer's decision behind the submission's current state (rejected, site visit, confirmed)."""
    return session.scalar(select(Decision).where(Decision.submission_id == submission.id,
                                                 Decision.to_status == str(submission.status))
                          .order_by(Decision.id.desc()).limit(1))


def registrations(session: Session, houses: list[House]) -> dict[int, Submission]:
    """The latest registration report of each house: its state in words (a site visit is not waiting)."""
    ids = [h.id for h in houses]
    if not ids:
        return {}
    found: dict[int, Submission] = {}
    for sub in session.scalars(select(Submission).where(Submission.house_id.in_(ids),
                                                        Submission.kind == K.house_registration)
                               .order_by(Submission.id)):
        found[sub.house_id] = sub
    return found

