"""The one state machine for submissions. Every transition in the portal goes through `transition`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import Decision, Role, Submission, SubmissionStatus, User
from portal.models.base import utcnow
from portal.services import audit, audit_chain
from portal.services.errors import Conflict, FieldError, NotFound, ValidationFailed

S = SubmissionStatus

# (from, to) -> who may make it. Nothing else exists.
OFFICER_TRANSITIONS = {
    (S.pending, S.confirmed), (S.pending, S.rejected), (S.pending, S.site_visit),
    (S.site_visit, S.confirmed), (S.site_visit, S.rejected),
}
REPORTER_TRANSITIONS = {
    (S.pending, S.superseded), (S.rejected, S.superseded),  # a correction replaces it
    (S.pending, S.withdrawn),
}
TRANSITIONS = OFFICER_TRANSITIONS | REPORTER_TRANSITIONS
OFFICER_TARGETS = {to for _, to in OFFICER_TRANSITIONS}  # confirmed, rejected, site_visit
REPORTER_TARGETS = {to for _, to in REPORTER_TRANSITIONS}  # superseded, withdrawn

REJECT_REASONS = {
    "identity_mismatch": _l("The identity details do not match the person"),
    "not_living_here": _l("The person does not live at this address"),
    "wrong_address": _l("The address is wrong"),
    "duplicate": _l("This was already reported"),
    "incomplete": _l("Information is missing or unreadable"),
    "house_not_verified": _l("The house could not be verified"),
    "not_the_owner": _l("Another reporter is the owner of this house or unit"),  # settling two claims
    "other": _l("Other reason"),
}


@dataclass
class DecidedAlready(Conflict):
    """Someone else moved the submission first; says who, to what and when."""

    by: str
    status: str
    at: datetime | None

    def __post_init__(self) -> None:
        Conflict.__init__(self, f"already {self.status}")


def allowed(from_status: S, to_status: S) -> bool:
    return (S(from_status), S(to_status)) in TRANSITIONS


def transition(
    session: Session,
    submission: Submission,
    to_status: S,
    actor_user: User,
    actor: audit.Actor,
    *,
    expected_version: int | None = None,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> Decision:
    """Move a submission to `to_status` if, and only if, the move is allowed and nobody moved it first.

    The UPDATE is conditional on the status and version the caller saw (optimistic locking): of two
    officers deciding at once, exactly one wins; the other gets DecidedAlready, and both are audited. The
    losing UPDATE changed nothing, and the conflict's audit row is added to the caller's transaction: on
    DecidedAlready the caller commits too, keeping it.
    """
    from_status = S(submission.status)
    to_status = S(to_status)
    officer_move = to_status in OFFICER_TARGETS
    _check_may_move(submission, to_status, actor_user)
    if expected_version is not None and expected_version != submission.version:
        # The caller decided on a page showing an older state: someone moved the item in between.
        raise _conflict(session, submission.id, to_status, actor_user, actor)
    if (from_status, to_status) not in TRANSITIONS:
        raise ValueError(f"no transition {from_status} -> {to_status}")
    if to_status == S.rejected:
        _check_reject_reason(reason_code, reason_text)
    if to_status == S.confirmed:
        from portal.services import flags

        flags.check_confirmable(session, submission)  # two claims on one place: never two owners confirmed

    version = expected_version if expected_version is not None else submission.version
    audit_chain.take_order(session)  # before the row's lock, as every decision does: no deadlock between two
    now = utcnow()
    values = {"status": to_status, "version": version + 1, "is_open": to_status in S.OPEN}
    if officer_move:
        values.update(decided_at=now, decided_by_id=actor_user.id)
    done = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == from_status, Submission.version == version)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise _conflict(session, submission.id, to_status, actor_user, actor)
    decision = Decision(submission_id=submission.id, actor_id=actor_user.id, from_status=str(from_status),
                        to_status=str(to_status), reason_code=reason_code,
                        reason_text=(reason_text or "").strip() or None, at=now)
    session.add(decision)
    audit.record(session, f"submission.{to_status}", actor, user=actor_user, object_type="submission",
                 object_id=submission.id, detail=reason_code)
    session.expire(submission)
    from portal.services import effects

    effects.apply(session, submission, from_status, to_status)
    return decision


def _check_may_move(submission: Submission, to_status: S, actor_user: User) -> None:
    """Officers decide, never on their own reports; only the reporter corrects or withdraws."""
    officer_move = to_status in OFFICER_TARGETS
    if officer_move and actor_user.role != Role.officer:
        raise PermissionError("only officers decide")
    if officer_move and submission.reporter_id == actor_user.id:
        raise PermissionError("the reviewer of a submission is never its submitter")
    if to_status in REPORTER_TARGETS and submission.reporter_id != actor_user.id:
        raise PermissionError("only the reporter corrects or withdraws")


def _check_reject_reason(reason_code: str | None, reason_text: str | None) -> None:
    if reason_code not in REJECT_REASONS:
        raise ValidationFailed([FieldError("required", _l("Choose a reason."), "reason_code")])
    if reason_code == "other" and not (reason_text or "").strip():
        raise ValidationFailed([FieldError("required", _l("Say why the report is rejected."), "reason_text")])


def _conflict(session: Session, submission_id: int, to_status: S, actor_user: User, actor: audit.Actor
              ) -> DecidedAlready:
    """Audit this attempt as a conflict, and say who moved the submission first."""
    audit.record(session, f"submission.{to_status}", actor, user=actor_user, object_type="submission",
                 object_id=submission_id, outcome="conflict")
    return _who_won(session, submission_id)


def _who_won(session: Session, submission_id: int) -> DecidedAlready:
    last = session.scalar(select(Decision).where(Decision.submission_id == submission_id)
                          .order_by(Decision.id.desc()).limit(1))
    current = session.scalar(select(Submission.status).where(Submission.id == submission_id))
    if last is None:
        return DecidedAlready(by="", status=str(current), at=None)
    return DecidedAlready(by=last.actor.name, status=last.to_status, at=last.at)


def history(session: Session, submission_id: int) -> list[Decision]:
    return list(session.scalars(select(Decision).where(Decision.submission_id == submission_id)
                                .order_by(Decision.id)))


__all__ = ["NotFound", "transition", "allowed", "history", "DecidedAlready", "REJECT_REASONS", "TRANSITIONS"]


STATUS_LABELS = {
    "pending": _l("Waiting for the police"),
    "confirmed": _l("Confirmed"),
    "rejected": _l("Rejected"),
    "site_visit": _l("Site visit requested"),
    "superseded": _l("Replaced by a correction"),
    "withdrawn": _l("Withdrawn"),
}
KIND_LABELS = {
    "house_registration": _l("House registration"),
    "move_in": _l("Move-in"),
    "move_out": _l("Move-out"),
    "unit_registration": _l("Unit registration"),
    "hire": _l("Hire"),
    "departure": _l("Departure"),
}


def status_label(status: str):
    return STATUS_LABELS.get(str(status), status)


def kind_label(kind: str):
    return KIND_LABELS.get(str(kind), kind)
