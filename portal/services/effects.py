"""What a decision does to the register: confirming makes a declaration true, rejecting undoes it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.models import House, RecordStatus, Submission, SubmissionKind, SubmissionStatus, Tenancy

S = SubmissionStatus
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
    if kind == SubmissionKind.house_registration:
        # A corrected registration keeps the house: the correction's own submission is now its truth.
        if to_status != S.superseded:
            session.execute(update(House).where(House.id == submission.house_id).values(status=record))
    elif kind == SubmissionKind.move_in:
        session.execute(update(Tenancy).where(Tenancy.submission_id == submission.id).values(status=record))
    elif kind == SubmissionKind.move_out and to_status == S.confirmed:
        session.execute(update(Tenancy).where(Tenancy.id == submission.tenancy_id).values(
            move_out_date=date.fromisoformat(submission.payload["move_out_date"]), status=RecordStatus.ended))
