"""A person's own view of who read their record (issue 14, item 8; privacy notice, "What you can do").

Each time an officer is shown a person's full record, the full ID number of a report that names them, or a
full export that includes them, one RecordAccess row per person says when, from which station and why,
beside the audit row that names the officer. The person sees those rows (never the officer's name) on a
public page, after proving they hold the phone on their record:

1. They give their document type and number and the phone number on their record. Whatever happens, the
   page answers the same ("if the number and the phone are on our register together, a code was sent") and
   the cookie gets a challenge's token, so that the page tells a stranger nothing about who is registered,
   with which phone. A code goes (through services/messages.py) only to a person on the register whose phone
   on record is the one given, compared by blind index after the same normalising as on the way in; so a
   stranger who knows only the ID number can neither text the person nor use up their codes. The codes
   sent are limited per document (an hour's and a day's: past them, the same answer and no code, audited),
   and every request per network address (an hour's: the only limit the page admits to, since it depends
   on the asker alone; every request makes a challenge row, so that it counts the same whatever happened).
   Requests that matched nothing have no limit per document of their own, on purpose: a wrong phone gets
   nothing (no message, a challenge that no code passes, the same answer, the same count), and a right guess
   is the person's own request as far as anyone can tell, so a cap on misses could only block the person
   (if it stopped checking phones) or answer a miss differently (and tell the guesser which phone is right).
   Requests are serialised by the audit chain's order, so that twenty at once count as twenty: at most
   CODE_ATTEMPTS guesses at each of a day's codes.
2. They type the code: at most CODE_ATTEMPTS tries, within CODE_MINUTES. Right, the page shows the list
   for a short while; wrong, it says so and no more. The view lives in the challenge's row, not only in
   the browser's cookie: once used, `expires_at` is the end of the view, and "Done" ends it there, so a
   copy of the cookie taken before shows nothing afterwards. The cookie names the challenge by a random
   token (kept in the row as its SHA-256), never by the row's id, which would count the requests and could
   be guessed.

An officer may mark a full record or a full export as part of an investigation. Four eyes: the mark is a
request only (the rows stay shown to the person), and an auditor approves it (the rows are then hidden from
the person for ACCESS_HOLD_DAYS from the approval) or refuses it. The auditor, not another officer, because
the auditors already keep the holds (they alone extend one), their role is apart from the police work it
checks, and no officer gets a new power to define and scope; an auditor never approves an act of their own.
A hold only an auditor extends. Requests, approvals, refusals and extensions are audited. Nothing here
commits: the caller does.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal import fieldcrypt
from portal.models import AccessChallenge, AuditEvent, IdType, Person, RecordAccess, User
from portal.models.base import utcnow
from portal.services import audit, audit_chain, declarations, identity, messages, throttle, values
from portal.services.errors import FieldError, ServiceError, ValidationFailed

KINDS = {
    "record": _l("Your full record was shown to an officer"),
    "id": _l("Your full ID number was shown on a report that names you"),
    "export": _l("You were in a full export of a list"),
}
# Why, as the officer chose it (register_search.REVEAL_REASONS, exports.EXPORT_REASONS); an ID number of a
# report is shown to check that report.
CHECKING_A_REPORT = "checking_report"
CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_ATTEMPTS = 5
PURPOSE = "record_access.code"
# How long the old challenges are kept (for the hourly limits) before `flask purge` deletes them.
CHALLENGE_MEMORY = timedelta(days=1)


class TooManyRequests(ServiceError):
    """Too many requests from this network address in the last hour (a document's limits answer as usual)."""


class WrongCode(ServiceError):
    """The code is wrong, expired, used, or tried too often: one answer for all."""


@dataclass(frozen=True)
class Limits:
    per_document_hour: int = 3  # codes sent
    per_document_day: int = 6  # codes sent
    per_source_hour: int = 10  # requests
    view_minutes: int = 15
    hold_days: int = 180

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(per_document_hour=config["ACCESS_CODES_PER_DOCUMENT_HOUR"],
                   per_document_day=config["ACCESS_CODES_PER_DOCUMENT_DAY"],
                   per_source_hour=config["ACCESS_CODES_PER_SOURCE_HOUR"],
                   view_minutes=config["ACCESS_VIEW_MINUTES"], hold_days=config["ACCESS_HOLD_DAYS"])


# --- writing: where the officers' reveals and exports are recorded ---------------------------------

def note(session: Session, person_ids: Iterable[int], *, kind: str, event: AuditEvent, officer: User,
         reason: str | None, investigation: bool = False, actor: audit.Actor = audit.SYSTEM) -> int:
    """One row per person for the audited act `event` (its time, the officer's station or bureau, the reason);
    with `investigation`, the officer asks for the rows to be held (audited): they stay shown until an auditor
    approves (approve_hold). How many."""
    if kind not in KINDS:
        raise ValueError(kind)
    ids = sorted(set(person_ids))
    session.add_all(RecordAccess(person_id=pid, audit_event=event, kind=kind, at=event.at,
                                 station_id=officer.station_id,
                                 bureau_id=None if officer.station_id else officer.bureau_id,
                                 reason=reason, hold_requested_at=event.at if investigation else None)
                    for pid in ids)
    session.flush()
    if investigation and ids:
        audit.record(session, "access.hold_request", actor, user=officer, object_type="audit_event",
                     object_id=event.id, detail=f"persons={len(ids)}")
    return len(ids)


def person_ids_of_documents(session: Session, documents: Iterable[tuple[str, str]]) -> set[int]:
    """The register's persons with these (document type, number), found by blind index in chunks."""
    wanted = list({(str(t), n) for t, n in documents if n})
    found: set[int] = set()
    for start in range(0, len(wanted), 200):
        chunk = wanted[start:start + 200]
        found.update(session.scalars(select(Person.id).where(or_(
            *((Person.id_type == t) & Person.id_number.matches(n) for t, n in chunk)))))
    return found


# --- the person's side: a code to the phone on record, then the list ---------------------------------

def check_document(id_type: str, number: str, today: date) -> tuple[IdType, str]:
    """The document as the register keeps it (the move-in's rules); ValidationFailed at the field."""
    try:
        kind = IdType(id_type)
    except ValueError:
        raise ValidationFailed([FieldError("invalid_choice", _l("Choose the type of document."), "id_type")]) from None
    try:
        checked = values.document_number(declarations.DOC_PATTERNS)(number, values.Context(today=today,
                                                                                            values={"id_type": kind}))
    except FieldError as err:
        raise ValidationFailed([err.at("id_number")]) from None
    return kind, checked


def check_request(id_type: str, number: str, phone: str | None, today: date) -> tuple[IdType, str, str]:
    """The document and the phone as the register keeps them; ValidationFailed with every field's error."""
    errors: list[FieldError] = []
    try:
        kind, checked = check_document(id_type, number, today)
    except ValidationFailed as failure:
        errors += failure.errors
    try:
        mobile = identity.check_mobile(phone)  # the phone's form on the way in: +86, spaces, full-width digits
    except FieldError as err:
        errors.append(err.at("phone"))
    if errors:
        raise ValidationFailed(errors)
    return kind, checked, mobile


def reachable(person: Person | None) -> bool:
    """Whether a code may go to the person's phone on record: only a phone from a report an officer confirmed
    (`details_submission_id`: the register's details are then that report's), never one a reporter's
    unconfirmed declaration alone put there: a landlord must not get his tenant's code by reporting his own
    phone for him."""
    return person is not None and bool(person.phone) and person.details_submission_id is not None


def _code_hash(challenge_id: int, code: str) -> bytes:
    return fieldcrypt.current().blind_index("access_code", f"{challenge_id}:{code}")


def _token_hash(token: str) -> bytes:
    # 256 random bits: a plain hash suffices (nothing to guess), and the row never holds the token itself.
    return hashlib.sha256(token.encode("utf-8")).digest()


def _challenge(session: Session, token: object) -> AccessChallenge | None:
    """The challenge a cookie's token names; None for anything else (no token, not a string, unknown)."""
    if not isinstance(token, str) or not token:
        return None
    return session.scalar(select(AccessChallenge).where(AccessChallenge.token_hash == _token_hash(token)))


@dataclass(frozen=True)
class Requested:
    token: str  # for the view's session (random): there is one whether or not the register holds the number
    message: messages.Message | None  # the code's message to the phone on record, for messages.send_soon


def _matches(person: Person | None, phone: str) -> bool:
    """Whether the phone given is the reachable person's phone on record (by blind index, in constant time)."""
    given = Person.phone.index_of(phone)  # whether or not there is a person to compare it with
    return reachable(person) and person.phone_index is not None and secrets.compare_digest(person.phone_index, given)


def _codes_used_up(session: Session, index: bytes, limits: Limits, now: datetime) -> bool:
    """Whether the document's codes of the hour or of the day are all sent. A challenge has a person only when a
    code went to them, so only those count: strangers' requests never use the person's codes up."""
    sent_hour, sent_day = session.execute(select(
        func.count().filter(AccessChallenge.created_at > now - timedelta(hours=1)), func.count())
        .where(AccessChallenge.id_index == index, AccessChallenge.person_id.is_not(None),
               AccessChallenge.created_at > now - timedelta(days=1))).one()
    return sent_hour >= limits.per_document_hour or sent_day >= limits.per_document_day


def request_code(session: Session, id_type: str, number: str, phone: str | None, *, ip: str | None,
                 limits: Limits, message_text, now: datetime | None = None,
                 actor: audit.Actor = audit.SYSTEM) -> Requested:
    """A challenge and its token for the document whatever happens, and when the register holds it with this
    phone (and the document's codes are not used up: audited as refused otherwise), a code and the message that
    carries it (the caller sends it with messages.send_soon, so that the answer takes as long either way).
    `message_text`: code -> the text of the message (the caller's language). TooManyRequests past the network
    address's limit (audited); messages.NotAvailable when no message can leave at all."""
    now = now or utcnow()
    kind, checked, mobile = check_request(id_type, number, phone, now.date())
    index = Person.id_number.index_of(checked)
    source = throttle.source_key(ip)
    audit_chain.take_order(session)  # requests for one document, at once, are counted one after another
    from_source = session.scalar(select(func.count()).select_from(AccessChallenge).where(
        AccessChallenge.source == source, AccessChallenge.created_at > now - timedelta(hours=1))) if source else 0
    if from_source >= limits.per_source_hour:
        audit.record(session, "access.code", actor, outcome="refused", detail="limit")
        raise TooManyRequests()
    person = session.scalar(select(Person).where(Person.id_type == kind, Person.id_index == index,
                                                 Person.purged_at.is_(None)))
    if not messages.available():
        raise messages.NotAvailable
    # Both asked whatever the answers (the same statements either way); a code only for a match with codes left.
    matched, used_up = _matches(person, mobile), _codes_used_up(session, index, limits, now)
    refused = matched and used_up
    token = secrets.token_urlsafe(32)
    challenge = AccessChallenge(person_id=person.id if matched and not used_up else None,
                                id_index=index, source=source, created_at=now, token_hash=_token_hash(token),
                                expires_at=now + timedelta(minutes=CODE_MINUTES))
    session.add(challenge)
    session.flush()
    # A code and its hash either way (the same statements whether or not the number is known); only a matched
    # person's is sent, and only a challenge with a person can ever be passed.
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    challenge.code_hash = _code_hash(challenge.id, code)
    session.flush()
    message = None
    if challenge.person_id is not None:
        message = messages.Message(phone=person.phone, text=str(message_text(code)), purpose=PURPOSE)
    # The person (when known) is named only by the challenge row, never in the audit detail.
    audit.record(session, "access.code", actor, object_type="access_challenge", object_id=challenge.id,
                 **({"outcome": "refused", "detail": "limit"} if refused else {}))
    return Requested(token, message)


def check_code(session: Session, token: object, code: str, *, view_minutes: int,
               now: datetime | None = None, actor: audit.Actor = audit.SYSTEM) -> int:
    """The person's id when the code is right for the challenge and still valid; the challenge is then used,
    and its `expires_at` becomes the end of the view (`view_minutes` on). WrongCode otherwise (the attempt is
    counted, in SQL, and audited); the caller commits either way."""
    now = now or utcnow()
    code = "".join(c for c in identity.normalise(code or "") if c.isdigit())  # full-width digits too
    challenge = _challenge(session, token)
    # One attempt more, counted in SQL: of twenty tries at once, only CODE_ATTEMPTS are ever compared.
    usable = challenge is not None and session.execute(
        update(AccessChallenge).where(AccessChallenge.id == challenge.id, AccessChallenge.used_at.is_(None),
                                      AccessChallenge.expires_at > now, AccessChallenge.attempts < CODE_ATTEMPTS)
        .values(attempts=AccessChallenge.attempts + 1).returning(AccessChallenge.id)
        .execution_options(synchronize_session=False)).first() is not None
    right = (usable and challenge.person_id is not None and challenge.code_hash is not None
             and len(code) == CODE_DIGITS and secrets.compare_digest(challenge.code_hash,
                                                                      _code_hash(challenge.id, code)))
    if not right:
        audit.record(session, "access.check", actor, object_type="access_challenge",
                     object_id=challenge.id if challenge else None, outcome="failure")
        raise WrongCode()
    challenge.used_at = now
    challenge.expires_at = now + timedelta(minutes=view_minutes)
    audit.record(session, "access.check", actor, object_type="access_challenge", object_id=challenge.id)
    return challenge.person_id


def viewer(session: Session, token: object, *, now: datetime | None = None) -> int | None:
    """The person whose list the holder of this used challenge's token may see now; None once the view has
    ended."""
    now = now or utcnow()
    challenge = _challenge(session, token)
    if challenge is None or challenge.used_at is None or challenge.expires_at <= now:
        return None
    return challenge.person_id


def end_view(session: Session, token: object, *, now: datetime | None = None) -> None:
    """"Done": the view ends now, for every copy of the cookie that names this challenge."""
    challenge = _challenge(session, token)
    if challenge is not None and challenge.used_at is not None:
        challenge.expires_at = now or utcnow()


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    where: str  # the station, or the bureau for its own staff
    reason: str | None


def entries(session: Session, person_id: int, *, now: datetime | None = None,
            actor: audit.Actor = audit.SYSTEM) -> list[Entry]:
    """Who read the person's record, newest first, without the entries an investigation still holds; the
    viewing is audited."""
    now = now or utcnow()
    rows = session.scalars(select(RecordAccess).where(
        RecordAccess.person_id == person_id,
        or_(RecordAccess.hold_until.is_(None), RecordAccess.hold_until <= now))
        .order_by(RecordAccess.at.desc(), RecordAccess.id.desc()))
    out = [Entry(r.at, r.kind, r.station.name if r.station else (r.bureau.name if r.bureau else ""), r.reason)
           for r in rows]
    audit.record(session, "access.view", actor, object_type="person", object_id=person_id,
                 detail=f"entries={len(out)}")
    return out


# --- the auditor's side: holds, and extending them -------------------------------------------------

@dataclass(frozen=True)
class Hold:
    event: AuditEvent
    persons: int
    until: datetime


def holds(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[Hold]:
    """The investigations' holds still running, one per audited act, the soonest to end first."""
    now = now or utcnow()
    rows = session.execute(
        select(RecordAccess.audit_event_id, func.count(), func.max(RecordAccess.hold_until))
        .where(RecordAccess.hold_until > now).group_by(RecordAccess.audit_event_id)
        .order_by(func.max(RecordAccess.hold_until), RecordAccess.audit_event_id).limit(limit)).all()
    events = {e.id: e for e in session.scalars(select(AuditEvent).where(
        AuditEvent.id.in_([r[0] for r in rows])))} if rows else {}
    return [Hold(events[event_id], count, until) for event_id, count, until in rows]


class NoHold(ServiceError):
    """No running hold for this act."""


# --- four eyes: the officer's request, the auditor's approval or refusal ------------------------------------

@dataclass(frozen=True)
class HoldRequest:
    event: AuditEvent  # the officer's act (its actor: the officer who asks)
    persons: int


def _pending(event_id=None):
    where = [RecordAccess.hold_requested_at.is_not(None), RecordAccess.hold_until.is_(None)]
    return where + ([RecordAccess.audit_event_id == event_id] if event_id is not None else [])


def hold_requests(session: Session, *, limit: int = 100) -> list[HoldRequest]:
    """The officers' requests for a hold that no auditor has decided yet, one per act, the oldest first."""
    rows = session.execute(select(RecordAccess.audit_event_id, func.count()).where(*_pending())
                           .group_by(RecordAccess.audit_event_id).order_by(RecordAccess.audit_event_id)
                           .limit(limit)).all()
    events = {e.id: e for e in session.scalars(select(AuditEvent).where(
        AuditEvent.id.in_([r[0] for r in rows])))} if rows else {}
    return [HoldRequest(events[event_id], count) for event_id, count in rows]


class NoRequest(ServiceError):
    """No undecided request for a hold on this act: none was made, or it was approved or refused already."""


class OwnAct(ServiceError):
    """The auditor would decide on a request about an act of their own (an account whose role changed)."""


def _decide(session: Session, auditor: User, event_id: int, actor: audit.Actor, action: str, values: dict,
            detail: str) -> int:
    """Decide every undecided row of the act at once (the second of two decisions finds none): how many."""
    event = session.get(AuditEvent, event_id)
    if event is None:
        raise NoRequest()
    if event.actor_id == auditor.id:
        audit.record(session, action, actor, user=auditor, object_type="audit_event", object_id=event_id,
                     outcome="refused", detail="own act")
        raise OwnAct()
    decided = session.execute(update(RecordAccess).where(*_pending(event_id)).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    if not decided:
        raise NoRequest()
    audit.record(session, action, actor, user=auditor, object_type="audit_event", object_id=event_id,
                 detail=f"persons={decided} officer={event.actor_id}{detail}")
    return decided


def approve_hold(session: Session, auditor: User, event_id: int, *, days: int, actor: audit.Actor,
                 now: datetime | None = None) -> datetime:
    """The second pair of eyes: the officer's request takes effect, the rows hidden for `days` from now
    (auditors only: the view checks the role; never on the auditor's own act). NoRequest when nothing waits."""
    until = (now or utcnow()) + timedelta(days=days)
    _decide(session, auditor, event_id, actor, "access.hold", {"hold_until": until},
            f" until={until.date().isoformat()}")
    return until


def refuse_hold(session: Session, auditor: User, event_id: int, *, actor: audit.Actor) -> None:
    """No hold: the rows stay shown to the people, and the request is gone (audited). NoRequest as above."""
    _decide(session, auditor, event_id, actor, "access.hold_refuse", {"hold_requested_at": None}, "")


class ExtendedAlready(ServiceError):
    """The hold no longer ends where the page that asked to extend it said (`until`): extended meanwhile."""

    def __init__(self, until: datetime) -> None:
        super().__init__()
        self.until = until


def hold_stamp(until: datetime) -> str:
    """How a page names the end of a hold that it asks to extend (extend_hold's `expected`)."""
    return until.isoformat()


def extend_hold(session: Session, auditor: User, event_id: int, *, days: int, actor: audit.Actor,
                now: datetime | None = None, expected: str | None = None) -> datetime:
    """Extend a running hold by `days` from its current end (auditors only: the view checks the role). With
    `expected` (hold_stamp of the end the page showed), ExtendedAlready when it ends elsewhere now: the second
    of two posts of one page (a double click) extends nothing (two at once set the same end)."""
    now = now or utcnow()
    current = _running_until(session, event_id, now)
    if expected is not None and hold_stamp(current) != expected:
        raise ExtendedAlready(current)
    until = current + timedelta(days=days)
    session.execute(update(RecordAccess).where(RecordAccess.audit_event_id == event_id)
                    .values(hold_until=until).execution_options(synchronize_session=False))
    audit.record(session, "access.hold_extend", actor, user=auditor, object_type="audit_event", object_id=event_id,
                 detail=f"from={current.date().isoformat()} until={until.date().isoformat()}")
    return until


def end_hold(session: Session, auditor: User, event_id: int, *, actor: audit.Actor,
             now: datetime | None = None) -> None:
    """End a running hold now (auditors only: the view checks the role): the people see its entries from now on
    (audited). NoHold when it has ended already: the second of two posts of one page ends nothing."""
    now = now or utcnow()
    current = _running_until(session, event_id, now)
    # Counted by the UPDATE itself: of two posts at once, the second waits for the first's rows and ends none.
    ended = session.execute(update(RecordAccess).where(RecordAccess.audit_event_id == event_id,
                                                       RecordAccess.hold_until > now)
                            .values(hold_until=now).execution_options(synchronize_session=False)).rowcount
    if not ended:
        raise NoHold()
    audit.record(session, "access.hold_end", actor, user=auditor, object_type="audit_event", object_id=event_id,
                 detail=f"was_until={current.date().isoformat()}")


def _running_until(session: Session, event_id: int, now: datetime) -> datetime:
    """Where the running hold of an audited act ends; NoHold when none runs."""
    current = session.scalar(select(func.max(RecordAccess.hold_until)).where(
        RecordAccess.audit_event_id == event_id, RecordAccess.hold_until > now))
    if current is None:
        raise NoHold()
    return current


def purge_challenges(session: Session, *, now: datetime | None = None) -> int:
    """Delete challenges older than CHALLENGE_MEMORY (flask purge): they only served the hourly limits."""
    now = now or utcnow()
    return session.execute(delete(AccessChallenge).where(AccessChallenge.created_at < now - CHALLENGE_MEMORY)
                           ).rowcount
