"""Retention (SECURITY.md "Data protection"; issue 14, item 7): what the register no longer needs is
anonymised, not kept for ever.

`RETENTION_DAYS` (3 years by default) after a tenancy or an employment ended (moved out, left, or refused
and never standing), the name and phone its reporter declared are removed; a person none of whose tenancies
and employments still stands is anonymised (name, phone, birth date removed; the ID number replaced by a
random token, so that the same person reported again is a new record); and the personal fields of a report
all of whose records are anonymised are removed from its payload. What stays: that a house had an occupant
from one date to another, that a unit employed someone, who decided what and when. Drafts, uploads and
stored API answers go sooner (drafts.purge_old, units.purge_uploads, idempotency.purge_old). Audit rows
are never deleted or changed here: the chain (audit_chain.py) must stay whole, and they are kept at least
180 days.

Each call anonymises at most BATCH rows of each kind and says how many; `flask purge` calls it until
nothing is left, committing each batch, so a large first run neither holds one long transaction nor loses
its work when stopped.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from portal.models import Employment, Person, RecordStatus, Submission, SubmissionKind, Tenancy
from portal.models.base import utcnow
from portal.services import audit
from portal.services.filing import LOCAL

BATCH = 500
# The personal fields of a payload (a move-in's occupants have the same ones).
PERSONAL_KEYS = ("name", "id_number", "phone", "birth_date", "sex", "workplace", "legal_rep_id_number")


@dataclass
class Purged:
    tenancies: int = 0
    employments: int = 0
    persons: int = 0
    submissions: int = 0

    @property
    def total(self) -> int:
        return self.tenancies + self.employments + self.persons + self.submissions


def cutoff(today: date, keep_days: int) -> date:
    return today - timedelta(days=keep_days)


def _over(model, end_column, before: date):
    """Ended before the day (moved out, left), or refused or withdrawn by a report filed before it."""
    filed_before = datetime.combine(before, time(), LOCAL)
    refused = and_(model.status.not_in(RecordStatus.ACTIVE), end_column.is_(None),
                   exists().where(Submission.id == model.submission_id, Submission.submitted_at < filed_before))
    return and_(model.purged_at.is_(None), or_(end_column < before, refused))


def _tenancies(session: Session, before: date, now: datetime) -> int:
    rows = session.scalars(select(Tenancy).where(_over(Tenancy, Tenancy.move_out_date, before))
                           .order_by(Tenancy.id).limit(BATCH)).all()
    for t in rows:
        t.declared_name, t.declared_phone, t.relation, t.occupation, t.workplace = "", None, None, None, None
        t.purged_at = now
    return len(rows)


def _employments(session: Session, before: date, now: datetime) -> int:
    rows = session.scalars(select(Employment).where(_over(Employment, Employment.departure_date, before))
                           .order_by(Employment.id).limit(BATCH)).all()
    for e in rows:
        e.declared_name, e.declared_phone, e.purged_at = "", None, now
    return len(rows)


def _persons(session: Session, before: date, now: datetime) -> int:
    """People whose every tenancy and employment is anonymised, known since before the cutoff."""
    standing_tenancy = exists().where(Tenancy.person_id == Person.id, Tenancy.purged_at.is_(None))
    standing_job = exists().where(Employment.person_id == Person.id, Employment.purged_at.is_(None))
    rows = session.scalars(select(Person).where(
        Person.purged_at.is_(None), Person.created_at < datetime.combine(before, time(), LOCAL),
        ~standing_tenancy, ~standing_job).order_by(Person.id).limit(BATCH)).all()
    for p in rows:
        p.id_number = f"purged-{secrets.token_hex(8)}"
        p.name, p.phone, p.birth_date, p.sex, p.purged_at = "", None, None, None, now
    return len(rows)


def _records_left(kind: SubmissionKind):
    """The report's own records that retention has not anonymised yet."""
    if kind == SubmissionKind.move_in:
        return exists().where(Tenancy.submission_id == Submission.id, Tenancy.purged_at.is_(None))
    if kind == SubmissionKind.move_out:
        return exists().where(Tenancy.id == Submission.tenancy_id, Tenancy.purged_at.is_(None))
    if kind == SubmissionKind.hire:
        return exists().where(Employment.submission_id == Submission.id, Employment.purged_at.is_(None))
    return exists().where(Employment.id == Submission.employment_id, Employment.purged_at.is_(None))


def _submissions(session: Session, before: date, now: datetime) -> int:
    """Reports about people (move-ins, move-outs, hires, departures), decided, whose records are all
    anonymised: their payloads lose every personal field."""
    kinds = (SubmissionKind.move_in, SubmissionKind.move_out, SubmissionKind.hire, SubmissionKind.departure)
    about_nobody_left = or_(*(and_(Submission.kind == kind, ~_records_left(kind)) for kind in kinds))
    rows = session.scalars(select(Submission).where(
        Submission.purged_at.is_(None), Submission.is_open.is_(False),
        Submission.submitted_at < datetime.combine(before, time(), LOCAL), about_nobody_left)
        .order_by(Submission.id).limit(BATCH)).all()
    for sub in rows:
        sub.payload = _without_personal(sub.payload)
        sub.purged_at = now
    return len(rows)


def _without_personal(payload: dict) -> dict:
    kept = {k: v for k, v in payload.items() if k not in PERSONAL_KEYS}
    if "occupants" in kept:
        kept["occupants"] = [{k: v for k, v in o.items() if k not in PERSONAL_KEYS} for o in kept["occupants"]]
    return kept


def purge_batch(session: Session, *, today: date, keep_days: int, now: datetime | None = None) -> Purged:
    """Anonymise one batch of each kind that ended before `keep_days` before `today`; the caller commits.
    Records first, then the people and the reports that only they kept named."""
    before, now = cutoff(today, keep_days), now or utcnow()
    done = Purged(_tenancies(session, before, now), _employments(session, before, now))
    session.flush()
    done.persons = _persons(session, before, now)
    done.submissions = _submissions(session, before, now)
    session.flush()
    return done


def record_run(session: Session, done: Purged, keep_days: int) -> None:
    """One audit row per run of the purge, with its counts."""
    audit.record(session, "retention.purge", audit.SYSTEM, object_type="retention",
                 detail=f"tenancies={done.tenancies} employments={done.employments} persons={done.persons} "
                        f"submissions={done.submissions} keep_days={keep_days}")
