"""What a decision does to the register: confirming makes a declaration true, rejecting undoes it."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.models import (
    Employment,
    House,
    Person,
    RecordStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Tenancy,
    Unit,
)
from portal.services import declarations, flags

S = SubmissionStatus
LOCAL = ZoneInfo("Asia/Shanghai")
RECORD_STATUS = {
    S.confirmed: RecordStatus.verified,
    S.rejected: RecordStatus.rejected,
    S.superseded: RecordStatus.superseded,
    S.withdrawn: RecordStatus.withdrawn,
}


def apply(session: Session, submission: Submission, from_status: S, to_status: S) -> None:
    kind = SubmissionKind(submission.kind)
    record = RECORD_STATUS.get(to_status)
    if record is None:  # a site visit changes nothing in the register yet
        return
    effect = _EFFECTS.get(kind)
    if effect is not None:
        effect(session, submission, to_status, record)


def _house_registration(session: Session, submission: Submission, to_status: S, record: RecordStatus) -> None:
    # A corrected registration keeps the house: the correction's own submission is now its truth.
    if to_status != S.superseded:
        session.execute(update(House).where(House.id == submission.house_id).values(status=record))
    if to_status in (S.rejected, S.withdrawn):
        flags.claim_dropped(session, submission)  # another reporter's claim here stands alone now


def _move_in(session: Session, submission: Submission, to_status: S, record: RecordStatus) -> None:
    session.execute(update(Tenancy).where(Tenancy.submission_id == submission.id).values(status=record))
    if to_status == S.confirmed:
        for occupant in submission.payload.get("occupants", []):
            _details_confirmed(session, submission, occupant)


def _move_out(session: Session, submission: Submission, to_status: S, record: RecordStatus) -> None:
    if to_status == S.confirmed:
        session.execute(update(Tenancy).where(Tenancy.id == submission.tenancy_id).values(
            move_out_date=date.fromisoformat(submission.payload["move_out_date"]), status=RecordStatus.ended))


def _unit_registration(session: Session, submission: Submission, to_status: S, record: RecordStatus) -> None:
    # As with houses: the unit stays when its registration is corrected.
    if to_status != S.superseded:
        session.execute(update(Unit).where(Unit.id == submission.unit_id).values(status=record))
    if to_status in (S.rejected, S.withdrawn):
        flags.claim_dropped(session, submission)


def _hire(session: Session, submission: Submission, to_status: S, record: RecordStatus) -> None:
    # The employment a hire declared points at it; an import may also link it from the submission.
    link = Employment.submission_id == submission.id
    if submission.employment_id is not None:
        link = or_(link, Employment.id == submission.employment_id)
    session.execute(update(Employment).where(link).values(status=record))
    if to_status == S.confirmed:
        _details_confirmed(session, submission, submission.payload)


def _departure(session: Session, submission: Submission, to_status: S, record: RecordStatus) -> None:
    if to_status == S.confirmed:
        session.execute(update(Employment).where(Employment.id == submission.employment_id).values(
            departure_date=_departure_date(submission), status=RecordStatus.ended))


# What a decision on each kind of submission does to the register.
_EFFECTS = {
    SubmissionKind.house_registration: _house_registration,
    SubmissionKind.move_in: _move_in,
    SubmissionKind.move_out: _move_out,
    SubmissionKind.unit_registration: _unit_registration,
    SubmissionKind.hire: _hire,
    SubmissionKind.departure: _departure,
}


def _details_confirmed(session: Session, submission: Submission, declared: dict) -> None:
    """The register's person takes the details of a report an officer confirmed, and says which report.

    Until then the person keeps what the register had: what someone merely declares changes nothing."""
    person = session.scalars(select(Person).where(Person.id_type == (declared.get("id_type") or "resident_id"),
                                                  Person.id_number.matches(declared["id_number"]))).first()
    if person is None:
        return
    for name, value in declarations.register_values(declarations.Occupant, declared).items():
        setattr(person, name, value)  # sealed ones sealed again, by their attribute
    person.name, person.details_submission_id = declared["name"], submission.id
    session.flush()


def _departure_date(submission: Submission) -> date:
    """The declared last day, or (a full staff list that just left someone out) the day it was sent."""
    declared = (submission.payload or {}).get("departure_date")
    if declared:
        return date.fromisoformat(declared)
    return submission.submitted_at.astimezone(LOCAL).date()
