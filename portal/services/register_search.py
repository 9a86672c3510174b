"""Officers' search of the register (ID number, name, phone, address, receipt) and the audited full record.

What a query is decides how it is looked up: a receipt number (its check character must hold), a mobile
number, an 18-character resident ID number, another identity-document number (exact), else a name (exact,
whole) together with the address text. Every lookup is limited to the officer's jurisdiction as the queue is
(register._in_scope for people, the beat of a report or address); results are masked. Seeing a person's full
record is audited with a reason and limited per officer and hour. New code of the unit of work: nothing
here commits; the view does.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, House, IdType, Person, Submission, Tenancy, User
from portal.models.address import Address
from portal.models.base import utcnow
from portal.services import addresses, audit, identity, receipts, record_access, register, residence
from portal.services.errors import FieldError, NotFound, ServiceError, ValidationFailed

MIN_CHARS = 2
MAX_CHARS = 100
LIMIT = 50
DOCUMENT = re.compile(r"[A-Z0-9]{5,20}", re.ASCII)
REVEAL_REASONS = {
    "identity_check": _l("Checking the person's identity"),
    "case": _l("A case or an incident"),
    "site_visit": _l("A site visit"),
    "correction": _l("Correcting the register"),
}
# What the full record shows beyond the masked page: what the audit row says was seen.
FULL_FIELDS = "id_number,phone,birth_date"


@dataclass
class PersonHit:
    person_id: int
    name: str  # masked
    id_masked: str
    phone_masked: str
    lives_at: str  # the address of a house of the jurisdiction they live in now, or ""


@dataclass
class ReportHit:
    submission_id: int
    receipt: str
    kind: str
    status: str


@dataclass
class Results:
    kind: str  # receipt, phone, id_number, document, name
    people: list[PersonHit] = field(default_factory=list)
    reports: list[ReportHit] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)


def kind_of(query: str) -> str:
    """What a query (already NFKC-normalised and stripped) is."""
    if receipts.normalise(query):
        return "receipt"
    digits = query.replace(" ", "").replace("-", "")
    if identity.MOBILE.fullmatch(digits.removeprefix("+86")):
        return "phone"
    if identity.RIC_SHAPE.fullmatch(identity.normalise_resident_id(query)):
        return "id_number"
    if DOCUMENT.fullmatch(query.upper()) and any(c.isdigit() for c in query):
        return "document"
    return "name"


def clean(raw: str | None) -> str:
    """The query as it is looked up; ValidationFailed (field q) when too short or too long."""
    query = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if len(query) < MIN_CHARS:
        raise ValidationFailed([FieldError("too_short", _l("Enter at least %(n)d characters to search.",
                                                           n=MIN_CHARS), "q")])
    if len(query) > MAX_CHARS:
        raise ValidationFailed([FieldError("too_long", _l("Use at most %(n)d characters.", n=MAX_CHARS), "q")])
    return query


def search(session: Session, officer: User, raw: str | None) -> Results:
    query = clean(raw)
    kind = kind_of(query)
    beat_ids = register.beats(session, officer)
    found = Results(kind)
    if not beat_ids:
        return found
    if kind == "receipt":
        found.reports = _reports(session, beat_ids, receipts.normalise(query))
    elif kind == "phone":
        found.people = _people(session, beat_ids, Person.phone.matches(identity.check_mobile(query)))
    elif kind == "id_number":
        found.people = _people(session, beat_ids, *_document(identity.normalise_resident_id(query)))
    elif kind == "document":
        found.people = _people(session, beat_ids, *_document(query.upper()))
    else:
        found.people = _people(session, beat_ids, Person.name.matches(query))
        found.addresses = addresses.search(session, query, limit=LIMIT, beat_ids=beat_ids)
    return found


def _document(number: str) -> tuple:
    """A document number of any type, exactly: every type named, so that the unique (type, number) index
    serves the lookup (by the number's blind index: fieldcrypt.py)."""
    return (Person.id_type.in_(list(IdType)), Person.id_number.matches(number))


def _reports(session: Session, beat_ids: list[int], receipt: str) -> list[ReportHit]:
    return [ReportHit(s.id, s.receipt, str(s.kind), str(s.status)) for s in session.scalars(
        select(Submission).where(Submission.receipt == receipt, Submission.beat_id.in_(beat_ids)))]


def _people(session: Session, beat_ids: list[int], *where) -> list[PersonHit]:
    people = list(session.scalars(select(Person).where(*where, register.in_scope(beat_ids))
                                  .order_by(Person.id).limit(LIMIT)))
    homes: dict[int, str] = {}
    if people:
        for pid, a in session.execute(select(Tenancy.person_id, Address).join(House, House.id == Tenancy.house_id)
                                      .join(Address, Address.id == House.address_id)
                                      .where(Tenancy.person_id.in_([p.id for p in people]), *residence.living(),
                                             House.beat_id.in_(beat_ids)).order_by(Tenancy.id)):
            homes.setdefault(pid, a.text)
    return [PersonHit(p.id, identity.mask_name(p.name), identity.mask_id(p.id_number),
                      identity.mask_phone(p.phone), homes.get(p.id, "")) for p in people]


# --- the full record: audited, with a reason, limited per officer ------------------------------------

class TooManyReveals(ServiceError):
    """The officer has seen as many full records as an hour allows."""


REVEAL_ACTIONS = ("id.reveal", "person.reveal")  # an item's full ID number and a person's full record


def reveals_in_last_hour(session: Session, officer: User) -> int:
    """Full ID numbers and full records this officer saw in the last hour: one allowance for both."""
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == officer.id, AuditEvent.at > utcnow() - timedelta(hours=1),
        AuditEvent.action.in_(REVEAL_ACTIONS), AuditEvent.outcome == "success"))


def full_record(session: Session, officer: User, person_id: int, reason: str, actor: audit.Actor, *,
                per_hour: int, investigation: bool = False) -> Person:
    """The person, to be shown whole: audited (who, when, which person, what was seen, why) and written in the
    person's own view (record_access.py; with a request for a hold when part of an investigation). Beyond
    `per_hour` in an hour the refusal is audited and TooManyReveals raised; the caller commits either way."""
    if reason not in REVEAL_REASONS:
        raise ValidationFailed([FieldError("reason", _l("Choose why you need the full record."), "reason")])
    found = register.person(session, officer, person_id)  # NotFound outside the jurisdiction
    if reveals_in_last_hour(session, officer) >= per_hour:
        audit.record(session, "person.reveal", actor, user=officer, object_type="person", object_id=found.id,
                     outcome="refused", detail=f"reason={reason} limit={per_hour}/h")
        raise TooManyReveals()
    event = audit.record(session, "person.reveal", actor, user=officer, object_type="person", object_id=found.id,
                         detail=f"reason={reason} seen={FULL_FIELDS}")
    record_access.note(session, [found.id], kind="record", event=event, officer=officer, reason=reason,
                       investigation=investigation, actor=actor)
    return found


def viewed(session: Session, officer: User, person_id: int, actor: audit.Actor) -> None:
    """A person's (masked) page was opened: who read whose record is audited, as an item's opening is."""
    audit.record(session, "person.view", actor, user=officer, object_type="person", object_id=person_id)


__all__ = ["REVEAL_REASONS", "NotFound", "Results", "TooManyReveals", "full_record", "search", "viewed"]
