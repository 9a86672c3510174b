"""What landlords declare: houses, move-ins and move-outs. Each declaration is a Submission."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.fieldcrypt import sealed_columns
from portal.models import (
    Address,
    AddressLevel,
    AddressStatus,
    Beat,
    House,
    HouseUse,
    Person,
    RecordStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Tenancy,
    User,
)
from portal.models.address import TEXT_COLUMNS, address_text
from portal.models.base import utcnow
from portal.services import addresses, audit, declarations, filing, flags, receipts, residence, review
from portal.services.errors import FieldError, NotFound, StateConflict, ValidationFailed
from portal.services.filing import Filed, due_at, local_today  # noqa: F401 - what the pages and the API name
from portal.services.occupants import Occupant, check_event_date, check_occupant

MAX_OCCUPANTS_LIMIT = declarations.MAX_OCCUPANTS_LIMIT
MAX_PEOPLE_PER_REPORT = declarations.MAX_PEOPLE_PER_REPORT


# --- scoping: a reporter reaches only their own objects; anything else does not exist --------------

def house_of(session: Session, owner: User, house_id: int) -> House:
    """The owner's house (its address loaded with it); read once per session, then from its identity map."""
    house = session.get(House, house_id, options=[joinedload(House.address)])
    if house is None or house.owner_id != owner.id:
        raise NotFound()
    return house


# A move-in is the portal's most frequent write (agencies send hundreds a second through the API), so what
# it reads and writes goes as Core statements, built once, on the session's connection: about 35 µs a
# statement here against 300-700 µs for the same read through the ORM (bench/README.md).

def _run(session: Session, statement, params: dict | list | None = None):
    return session.connection().execute(statement, params)


_HOUSE, _ADDRESS, _BEAT = House.__table__, Address.__table__, Beat.__table__
_SUBMISSION, _TENANCY, _PERSON = Submission.__table__, Tenancy.__table__, Person.__table__
# The house, its address and station, and one row per person living there now (none: one row of NULLs).
_REPORTABLE_HOUSE = (
    select(_HOUSE.c.id, _HOUSE.c.beat_id, _HOUSE.c.max_occupants, _BEAT.c.station_id, _HOUSE.c.address_id,
           _ADDRESS.c.status.label("address_status"), *(_ADDRESS.c[name] for name in TEXT_COLUMNS),
           _TENANCY.c.submission_id, _PERSON.c.id_type, _PERSON.c.id_index, _PERSON.c.row_key,
           _PERSON.c.birth_date_sealed,
           residence.moving_out(_TENANCY.c.id).label("moving_out"))
    .join_from(_HOUSE, _ADDRESS, _ADDRESS.c.id == _HOUSE.c.address_id)
    .join(_BEAT, _BEAT.c.id == _HOUSE.c.beat_id)
    .outerjoin(_TENANCY, and_(*residence.standing(_HOUSE.c.id)))
    .outerjoin(_PERSON, _PERSON.c.id == _TENANCY.c.person_id)  # not a nested join: SQLite would scan tenancy
    .where(_HOUSE.c.id == bindparam("house_id"), _HOUSE.c.owner_id == bindparam("owner_id"))
    .order_by(_TENANCY.c.id))


@dataclass(frozen=True, slots=True)
class Resident:
    """Someone standing in a house now (residence.standing), as a move-in is checked and flagged against
    them; `moving_out`: a move-out of theirs is waiting for the police (they count no more as living there)."""

    submission_id: int
    id_type: str
    id_index: bytes  # the blind index of the ID number (fieldcrypt.py): compared, never shown
    birth_date: date | None
    moving_out: bool = False


@dataclass(frozen=True, slots=True)
class ReportableHouse:
    """What a report on a house needs of it: the house, where its reports go, and who lives there now."""

    id: int
    beat_id: int
    station_id: int
    max_occupants: int | None
    address_text: str
    residents: tuple[Resident, ...]
    address_id: int
    address_active: bool  # False: retired or merged, no new reports (addresses.not_reportable says why)


def reportable_house(session: Session, owner: User, house_id: int) -> ReportableHouse:
    """The owner's house as a report needs it, in one statement; anyone else's house does not exist."""
    rows = _run(session, _REPORTABLE_HOUSE, {"house_id": house_id, "owner_id": owner.id}).all()
    if not rows:
        raise NotFound()
    first = rows[0]
    connection = session.connection()
    residents = tuple(Resident(r.submission_id, r.id_type, r.id_index,
                               Person.birth_date.open_stored(connection, r.row_key, r.birth_date_sealed),
                               bool(r.moving_out))
                      for r in rows if r.submission_id is not None)
    return ReportableHouse(first.id, first.beat_id, first.station_id, first.max_occupants, address_text(first),
                           residents, first.address_id, first.address_status == AddressStatus.active)


def houses_of(session: Session, owner: User) -> list[House]:
    return list(session.scalars(select(House).where(House.owner_id == owner.id,
                                                    House.status.not_in([RecordStatus.withdrawn,
                                                                         RecordStatus.superseded]))
                                .order_by(House.id)))


def submission_of(session: Session, reporter: User, submission_id: int) -> Submission:
    sub = session.scalar(select(Submission).where(Submission.id == submission_id,
                                                  Submission.reporter_id == reporter.id))
    if sub is None:
        raise NotFound()
    return sub


def tenancy_of(session: Session, owner: User, tenancy_id: int) -> Tenancy:
    tenancy = session.scalar(select(Tenancy).join(House).where(Tenancy.id == tenancy_id,
                                                               House.owner_id == owner.id))
    if tenancy is None:
        raise NotFound()
    return tenancy


def submissions_of(session: Session, reporter: User, *, house_id: int | None = None, limit: int = 100
                   ) -> list[Submission]:
    query = select(Submission).where(Submission.reporter_id == reporter.id)
    if house_id is not None:
        query = query.where(Submission.house_id == house_id)
    return list(session.scalars(query.order_by(Submission.submitted_at.desc(), Submission.id.desc()).limit(limit)))


def occupants_of(session: Session, house: House) -> list[Tenancy]:
    """Who lives there now (residence.living): declared or verified, and no move-out reported."""
    return list(session.scalars(
        select(Tenancy).options(joinedload(Tenancy.person)).where(*residence.living(house.id))
        .order_by(Tenancy.move_in_date, Tenancy.id)))


def moving_out_of(session: Session, house: House) -> list[tuple[Tenancy, Submission]]:
    """Who the landlord said moved out, with that move-out, while it waits for the police."""
    return list(session.execute(
        select(Tenancy, Submission).options(joinedload(Tenancy.person))
        .join(Submission, and_(Submission.tenancy_id == Tenancy.id, Submission.kind == SubmissionKind.move_out,
                               Submission.is_open.is_(True)))
        .where(*residence.standing(house.id)).order_by(Tenancy.move_in_date, Tenancy.id)))


def tenancy_ids_of(session: Session, filed: Filed) -> list[int]:
    """The tenancies a move-in declared."""
    if filed.tenancy_ids:
        return filed.tenancy_ids
    return list(session.scalars(select(Tenancy.id).where(Tenancy.submission_id == filed.submission.id)
                                .order_by(Tenancy.id)))


def pending_move_out(session: Session, tenancy: Tenancy) -> Submission | None:
    return session.scalar(select(Submission).where(
        Submission.kind == SubmissionKind.move_out, Submission.status.in_(SubmissionStatus.OPEN),
        Submission.tenancy_id == tenancy.id))


# --- submitting, idempotently -------------------------------------------------------------------

# --- houses -------------------------------------------------------------------------------------

@dataclass
class HouseDetails:
    use: HouseUse
    max_occupants: int
    certificate_no: str | None


def check_house_details(use: str | None, max_occupants: object, certificate_no: str | None) -> HouseDetails:
    """The house's details by its declaration (the address is checked apart: registrable_address)."""
    checked, errors = declarations.check(declarations.HouseRegistration, {
        "use": use, "max_occupants": max_occupants, "certificate_no": certificate_no}, today=local_today())
    if errors:
        raise ValidationFailed(errors)
    return HouseDetails(HouseUse(checked.use), checked.max_occupants, checked.certificate_no)


def registrable_address(session: Session, code: str) -> Address:
    address = addresses.by_code(session, code)
    if address is None:
        raise ValidationFailed([FieldError("unknown_address", _l("There is no standard address with this code."),
                                           "address_code")])
    addresses.ensure_reportable(address, "address_code")
    if address.level == AddressLevel.door_plate:
        raise ValidationFailed([FieldError("address_level", _l("Choose the room or building, not only the door "
                                                               "plate."), "address_code")])
    return address


def standing_house_at(session: Session, owner: User, address: Address) -> House | None:
    """The owner's house at this address that stands in the way of registering it again (register_house
    refuses then): any but a withdrawn or rejected one."""
    house = session.scalar(select(House).where(House.address_id == address.id, House.owner_id == owner.id))
    if house is None or house.status in (RecordStatus.withdrawn, RecordStatus.rejected):
        return None
    return house


def register_house(session: Session, owner: User, *, address_code: str, use: str, max_occupants: object,
                   certificate_no: str | None, actor: audit.Actor, form_key: str | None = None) -> Filed:
    again = filing.filed_before(session, owner, form_key)
    if again:
        return again
    address = registrable_address(session, address_code)
    details = check_house_details(use, max_occupants, certificate_no)
    flags.hold_claims(session, "house_id", flags.claim_key(address))  # another registration in the building waits
    existing = session.scalar(select(House).where(House.address_id == address.id, House.owner_id == owner.id))
    if existing is not None and existing.status not in (RecordStatus.withdrawn, RecordStatus.rejected):
        raise StateConflict([FieldError("house_exists", _l("You have registered a house at this address "
                                                              "already."), "address_code")])
    house = existing or House(address_id=address.id, owner_id=owner.id, beat_id=address.beat_id)
    house.use, house.max_occupants, house.certificate_no = details.use, details.max_occupants, details.certificate_no
    house.status = RecordStatus.pending
    session.add(house)
    session.flush()
    found = flags.for_house(session, address, owner.id)
    sub = Submission(kind=SubmissionKind.house_registration, beat_id=address.beat_id, house_id=house.id,
                     payload={"address_code": address.code, "address": address.text, "use": str(details.use),
                              "max_occupants": details.max_occupants, "certificate_no": details.certificate_no},
                     submitted_at=utcnow())
    filed = filing.file(session, owner, sub, actor, form_key, found=found)
    if filed.created:
        flags.tell_rivals(session, filed.submission)
    return filed


def claimed_by_another(session: Session, owner: User, address_code: str) -> bool:
    """Whether another reporter's house stands on a place overlapping this address (the building of a room,
    a room of a building...; for the check page: the police will check)."""
    address = addresses.by_code(session, address_code)
    return address is not None and bool(flags.rival_houses(session, address, owner.id))


# --- move-ins -----------------------------------------------------------------------------------

@dataclass
class MoveIn:
    move_in_date: date
    lease_end_date: date | None
    occupants: list[Occupant]


def check_move_in(raw_occupants: list[dict], move_in_date: object, lease_end_date: object, *,
                  today: date) -> MoveIn:
    """Validate a whole move-in report; every error carries its field (occupants-N-field for people)."""
    errors: list[FieldError] = []
    start = end = None
    try:
        start = check_event_date(move_in_date, "move_in_date", today=today)
        if start > today:
            raise FieldError("future_date", _l("The move-in date cannot be in the future."), "move_in_date")
    except FieldError as err:
        errors.append(err)
        start = None
    try:
        end = check_event_date(lease_end_date, "lease_end_date", today=today, required=False)
        if end and start and end < start:
            raise FieldError("before_move_in", _l("The lease cannot end before the move-in date."), "lease_end_date")
    except FieldError as err:
        errors.append(err)
    if not raw_occupants:
        errors.append(FieldError("required", _l("Add at least one person."), "occupants"))
    if len(raw_occupants) > MAX_PEOPLE_PER_REPORT:
        errors.append(FieldError("too_many", _l("Report at most %(n)d people at once.", n=MAX_PEOPLE_PER_REPORT),
                                 "occupants"))
    people: list[Occupant] = []
    seen: dict[tuple, int] = {}
    for index, raw in enumerate(raw_occupants):
        person, person_errors = check_occupant(raw, today=today)
        errors.extend(FieldError(e.code, e.message, f"occupants-{index}-{e.field}") for e in person_errors)
        if person is None:
            continue
        key = (person.id_type, person.id_number)
        if key in seen:
            errors.append(FieldError("duplicate_person", _l("This person is already in this report as person "
                                                            "%(n)d.", n=seen[key] + 1), f"occupants-{index}-id_number"))
            continue
        seen[key] = index
        people.append(person)
    if errors:
        raise ValidationFailed(errors)
    return MoveIn(start, end, people)


_KNOWN_PERSON = select(_PERSON.c.id, _PERSON.c.name_index, _PERSON.c.phone_index).where(
    _PERSON.c.id_type == bindparam("id_type"), _PERSON.c.id_index == bindparam("id_index"))
# INSERT ... ON CONFLICT DO NOTHING RETURNING id: the id of a new person, nothing for one already known.
_NEW_PERSON = {
    name: dialect_insert(_PERSON).on_conflict_do_nothing(index_elements=["id_type", "id_index"])
    .returning(_PERSON.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


@dataclass(frozen=True, slots=True)
class NamedPerson:
    """The register's person a report names: created by this report, or known, with declared details that
    differ from the register's or not."""

    id: int
    new: bool
    differs: bool = False


def person_for(session: Session, occupant: Occupant) -> NamedPerson:
    """The person with this document, created with the declared details when the register has none (the
    fields the occupant's declaration gives to the register).

    A known person is never changed here: declared details belong to the declaration, and only an
    officer's confirmation (effects.apply) makes them the register's. Created first (most people in a
    move-in are new to the register), read when known."""
    details = {name: occupant.values.get(name) for name, about in declarations.fields(declarations.Occupant)
               if about.register}
    row = sealed_columns(Person, session.connection(), {
        "id_type": occupant.id_type, "id_number": occupant.id_number, **details, "created_at": utcnow()})
    new_id = _run(session, _NEW_PERSON[session.get_bind().dialect.name], row).scalar()
    if new_id is not None:
        return NamedPerson(new_id, True)
    known = _run(session, _KNOWN_PERSON, {"id_type": occupant.id_type, "id_index": row["id_index"]}).one()
    # Compared by blind index: the same normalised text has the same index (fieldcrypt.normalise).
    differs = known.name_index != row["name_index"] or bool(
        occupant.phone and known.phone_index and row["phone_index"] != known.phone_index)
    return NamedPerson(known.id, False, differs)


def report_move_in(session: Session, owner: User, house_id: int, *, occupants: list[dict], move_in_date: object,
                   lease_end_date: object = None, actor: audit.Actor, deadline_days: int,
                   form_key: str | None = None, today: date | None = None, supersedes: Submission | None = None
                   ) -> Filed:
    again = filing.filed_before(session, owner, form_key)
    if again:
        return again
    house = reportable_house(session, owner, house_id)
    if not house.address_active:  # none into a demolished house; the address read only to say why
        addresses.ensure_reportable(session.get(Address, house.address_id))
    today = today or local_today()
    report = check_move_in(occupants, move_in_date, lease_end_date, today=today)
    current = house.residents
    living_here = {(r.id_type, r.id_index) for r in current
                   if supersedes is None or r.submission_id != supersedes.id}
    clash = [i for i, p in enumerate(report.occupants)
             if living_here and (p.id_type, Person.id_number.index_of(p.id_number)) in living_here]
    if clash:
        raise StateConflict([_already_living_here(i) for i in clash])
    due = due_at(report.move_in_date, deadline_days)
    now = utcnow()
    persons = [person_for(session, p) for p in report.occupants]
    found = flags.for_move_in(session, house, report, persons, current, today=today,
                              ignore_submission=supersedes.id if supersedes else None)
    sub = Submission(kind=SubmissionKind.move_in, beat_id=house.beat_id, station_id=house.station_id,
                     house_id=house.id,
                     payload={"address": house.address_text, "move_in_date": report.move_in_date.isoformat(),
                              "lease_end_date": report.lease_end_date.isoformat() if report.lease_end_date else None,
                              "occupants": [declarations.payload(declarations.Occupant, p)
                                            for p in report.occupants]},
                     submitted_at=now,
                     supersedes_id=supersedes.id if supersedes else None)
    tenancies = [Tenancy(house_id=house.id, person_id=person.id, move_in_date=report.move_in_date,
                         lease_end_date=report.lease_end_date, relation=p.relation, occupation=p.occupation,
                         workplace=p.workplace, declared_name=p.name, declared_phone=p.phone,
                         status=RecordStatus.pending)
                 for p, person in zip(report.occupants, persons, strict=True)]
    try:
        return filing.file(session, owner, sub, actor, form_key, found=found, due=due, tenancies=tenancies)
    except IntegrityError:
        # Another report of one of these people in this house won a race (the partial unique index on
        # tenancy): this submission was taken back; say so at the person, as the check above would have.
        raced = _living_in(session, house.id, [person.id for person in persons])
        if not raced:
            raise
        raise StateConflict([_already_living_here(i) for i, person in enumerate(persons) if person.id in raced]
                            ) from None


def _already_living_here(index: int) -> FieldError:
    return FieldError("already_living_here", _l("This person is already reported as living in this house."),
                      f"occupants-{index}-id_number")


def _living_in(session: Session, house_id: int, person_ids: list[int]) -> set[int]:
    """Which of these people stand in the house now (residence.standing)."""
    return set(session.scalars(select(Tenancy.person_id).where(*residence.standing(house_id),
                                                               Tenancy.person_id.in_(person_ids))))


# --- move-outs ----------------------------------------------------------------------------------

def report_move_out(session: Session, owner: User, tenancy_id: int, *, move_out_date: object,
                    actor: audit.Actor, deadline_days: int, form_key: str | None = None,
                    today: date | None = None) -> Filed:
    again = filing.filed_before(session, owner, form_key)
    if again:
        return again
    tenancy = tenancy_of(session, owner, tenancy_id)
    today = today or local_today()
    if tenancy.move_out_date is not None or tenancy.status not in RecordStatus.ACTIVE:
        raise StateConflict([FieldError("not_current", _l("This person does not live here any more."),
                                           "move_out_date")])
    if pending_move_out(session, tenancy) is not None:
        raise StateConflict([FieldError("already_reported", _l("You have already reported that this person "
                                                                  "moved out."), "move_out_date")])
    day = check_event_date(move_out_date, "move_out_date", today=today)
    errors = []
    if day > today:
        errors.append(FieldError("future_date", _l("The move-out date cannot be in the future."), "move_out_date"))
    elif day < tenancy.move_in_date:
        errors.append(FieldError("before_move_in", _l("The move-out date cannot be before the move-in date "
                                                      "(%(date)s).", date=tenancy.move_in_date.isoformat()),
                                 "move_out_date"))
    if errors:
        raise ValidationFailed(errors)
    due = due_at(day, deadline_days)
    now = utcnow()
    sub = Submission(kind=SubmissionKind.move_out, beat_id=tenancy.house.beat_id, house_id=tenancy.house_id,
                     tenancy_id=tenancy.id,
                     payload={"address": tenancy.house.address.text, "tenancy_id": tenancy.id,
                              "move_out_date": day.isoformat(),
                              "name": tenancy.declared_name, "id_type": str(tenancy.person.id_type),
                              "id_number": tenancy.person.id_number},
                     submitted_at=now)
    return filing.file(session, owner, sub, actor, form_key, due=due)


# --- corrections and withdrawals -----------------------------------------------------------------

def withdraw(session: Session, reporter: User, submission_id: int, actor: audit.Actor) -> Submission:
    sub = submission_of(session, reporter, submission_id)
    if not review.allowed(sub.status, SubmissionStatus.withdrawn):
        raise ValidationFailed([FieldError("not_withdrawable", _l("Only a report still waiting for the police can "
                                                                  "be withdrawn."))])
    review.transition(session, sub, SubmissionStatus.withdrawn, reporter, actor)
    return sub


def correct_move_in(session: Session, reporter: User, submission_id: int, *, occupants: list[dict],
                    move_in_date: object, lease_end_date: object, actor: audit.Actor, deadline_days: int,
                    form_key: str | None = None, today: date | None = None) -> Filed:
    """A correction is a new submission that supersedes the old one; both stay in the history."""
    again = filing.filed_before(session, reporter, form_key)
    if again:
        return again
    old = submission_of(session, reporter, submission_id)
    if old.kind != SubmissionKind.move_in or not review.allowed(old.status, SubmissionStatus.superseded):
        raise ValidationFailed([FieldError("not_correctable", _l("Only a report that is waiting or was rejected "
                                                                 "can be corrected."))])
    # Validate the new report before the old one is touched, so that bad input changes nothing.
    check_move_in(occupants, move_in_date, lease_end_date, today=today or local_today())
    review.transition(session, old, SubmissionStatus.superseded, reporter, actor)
    return report_move_in(session, reporter, old.house_id, occupants=occupants, move_in_date=move_in_date,
                          lease_end_date=lease_end_date, actor=actor, deadline_days=deadline_days,
                          form_key=form_key, today=today, supersedes=old)


def correct_house(session: Session, reporter: User, submission_id: int, *, use: str, max_occupants: object,
                  certificate_no: str | None, actor: audit.Actor, form_key: str | None = None) -> Filed:
    again = filing.filed_before(session, reporter, form_key)
    if again:
        return again
    old = submission_of(session, reporter, submission_id)
    if old.kind != SubmissionKind.house_registration or not review.allowed(old.status, SubmissionStatus.superseded):
        raise ValidationFailed([FieldError("not_correctable", _l("Only a report that is waiting or was rejected "
                                                                 "can be corrected."))])
    details = check_house_details(use, max_occupants, certificate_no)
    review.transition(session, old, SubmissionStatus.superseded, reporter, actor)
    house = session.get(House, old.house_id)
    house.use, house.max_occupants, house.certificate_no = details.use, details.max_occupants, details.certificate_no
    house.status = RecordStatus.pending
    sub = Submission(kind=SubmissionKind.house_registration, beat_id=house.beat_id, house_id=house.id,
                     payload={**old.payload, "use": str(details.use), "max_occupants": details.max_occupants,
                              "certificate_no": details.certificate_no},
                     submitted_at=utcnow(), supersedes_id=old.id)
    flags.hold_claims(session, "house_id", flags.claim_key(house.address))
    filed = filing.file(session, reporter, sub, actor, form_key,
                        found=flags.for_house(session, house.address, reporter.id))
    if filed.created:
        flags.tell_rivals(session, filed.submission)
    return filed


def overdue_hint(sub: Submission, now: datetime | None = None) -> bool:
    return sub.status in SubmissionStatus.OPEN and sub.due_at is not None and (now or utcnow()) > sub.due_at


def filed_with_key(session: Session, reporter: User, form_key: str) -> Submission | None:
    """The submission a journey became, for the back button and second clicks."""
    return filing.existing(session, reporter, form_key)


def check_move_in_dates(move_in_date: object, lease_end_date: object, *, today: date) -> None:
    """The date page of the journey: the same date rules as the whole report, without the people."""
    try:
        check_move_in([{}], move_in_date, lease_end_date, today=today)
    except ValidationFailed as failure:
        date_errors = [e for e in failure.errors if e.field in ("move_in_date", "lease_end_date")]
        if date_errors:
            raise ValidationFailed(date_errors) from None


def chain(session: Session, sub: Submission) -> list[Submission]:
    """The corrections history: what this submission replaced, and what replaced it."""
    older, cursor = [], sub
    while cursor.supersedes_id is not None and len(older) < 50:
        cursor = session.get(Submission, cursor.supersedes_id)
        older.append(cursor)
    newer = session.scalar(select(Submission).where(Submission.supersedes_id == sub.id))
    return ([newer] if newer is not None else []) + older


@dataclass
class PublicReceipt:
    receipt: str
    kind: str
    status: str
    submitted_at: datetime
    masked_address: str


def public_receipt(session: Session, raw_number: str) -> PublicReceipt | None:
    """What anyone holding a receipt number may learn: that it exists, when, roughly where, its status."""
    number = receipts.normalise(raw_number)
    if number is None:
        return None
    sub = session.scalar(select(Submission).where(Submission.receipt == number))
    if sub is None:
        return None
    if sub.house_id:
        address = session.get(House, sub.house_id).address
    elif sub.unit_id:
        from portal.models import Unit

        address = session.get(Unit, sub.unit_id).address
    else:
        address = None
    masked = f"{address.division_name} {address.road}" if address else ""
    return PublicReceipt(number, str(sub.kind), str(sub.status), sub.submitted_at, masked)
