"""What employers declare: their units, single hires and departures, and uploaded staff lists in waiting."""
from __future__ import annotations

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal import fieldcrypt
from portal.files import private_folder
from portal.models import (
    Address,
    Draft,
    Employment,
    IdType,
    Person,
    RecordStatus,
    StaffImport,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Unit,
    UnitType,
    User,
)
from portal.models import SpecialTrade as Trade
from portal.models.base import utcnow
from portal.services import addresses, audit, declarations, drafts, filing, flags, identity, review, staff_import
from portal.services.errors import FieldError, NotFound, StateConflict, ValidationFailed
from portal.services.filing import Filed, filed_before, local_today
from portal.services.occupants import Occupant, check_event_date
from portal.services.reporting import person_for

REGISTRABLE_AGAIN = (RecordStatus.withdrawn, RecordStatus.rejected)
GONE = (RecordStatus.withdrawn, RecordStatus.superseded)
UPLOAD_DRAFT = "staff_upload"

UNIT_TYPE_NAMES, SPECIAL_TRADE_NAMES = declarations.UNIT_TYPE_NAMES, declarations.SPECIAL_TRADE_NAMES
UNIT_STATUS_NAMES = {
    "pending": _l("Waiting for the police"),
    "verified": _l("Verified by the police"),
    "rejected": _l("Rejected"),
    "superseded": _l("Replaced by a correction"),
    "withdrawn": _l("Withdrawn"),
    "ended": _l("Left"),
}


# --- scoping: an employer reaches only their own units; anything else does not exist ---------------

def units_of(session: Session, owner: User) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.owner_id == owner.id, Unit.status.not_in(GONE))
                                .order_by(Unit.id)))


def unit_of(session: Session, owner: User, unit_id: int) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.id == unit_id, Unit.owner_id == owner.id))
    if unit is None:
        raise NotFound()
    return unit


def import_of(session: Session, owner: User, import_id: int) -> StaffImport:
    found = session.scalar(select(StaffImport).join(Unit).where(StaffImport.id == import_id,
                                                                Unit.owner_id == owner.id))
    if found is None:
        raise NotFound()
    return found


def pending_departures(session: Session, unit: Unit) -> dict[int, Submission]:
    """Open departure reports of this unit, by the employment they end."""
    subs = session.scalars(select(Submission).where(Submission.unit_id == unit.id,
                                                    Submission.kind == SubmissionKind.departure,
                                                    Submission.is_open.is_(True)))
    return {s.employment_id: s for s in subs}


def imports_of(session: Session, unit: Unit, limit: int = 50) -> list[StaffImport]:
    return list(session.scalars(select(StaffImport).where(StaffImport.unit_id == unit.id)
                                .order_by(StaffImport.created_at.desc(), StaffImport.id.desc()).limit(limit)))


def submissions_of_unit(session: Session, unit: Unit, *, staff_import_id: int | None = None,
                        limit: int = 100) -> list[Submission]:
    query = select(Submission).where(Submission.unit_id == unit.id)
    if staff_import_id is not None:
        query = query.where(Submission.staff_import_id == staff_import_id)
    query = query.order_by(Submission.submitted_at.desc(), Submission.id.desc()).limit(limit)
    return list(session.scalars(query))


@dataclass
class UnitSummary:
    unit: Unit
    staff: int
    open_items: int


def summaries(session: Session, owner: User) -> list[UnitSummary]:
    """The employer's home page: each unit with its head count and what still waits for the police."""
    units = units_of(session, owner)
    ids = [u.id for u in units]
    if not ids:
        return []
    staff = dict(session.execute(
        select(Employment.unit_id, func.count())
        .where(Employment.unit_id.in_(ids), Employment.departure_date.is_(None),
               Employment.status.in_(RecordStatus.ACTIVE))
        .group_by(Employment.unit_id)).all())
    waiting = dict(session.execute(
        select(Submission.unit_id, func.count())
        .where(Submission.unit_id.in_(ids), Submission.is_open.is_(True))
        .group_by(Submission.unit_id)).all())
    return [UnitSummary(u, staff.get(u.id, 0), waiting.get(u.id, 0)) for u in units]


# --- registering a unit --------------------------------------------------------------------------

@dataclass
class UnitDetails:
    uscc: str
    name: str
    unit_type: UnitType
    industry: str
    special_trade: Trade | None
    address: Address
    legal_rep_name: str
    legal_rep_id_number: str
    legal_rep_region_known: bool
    contact_name: str
    contact_phone: str

    def as_payload(self) -> dict:
        trade = str(self.special_trade) if self.special_trade else None
        return {"uscc": self.uscc, "name": self.name, "unit_type": str(self.unit_type),
                "industry": self.industry, "special_trade": trade,
                "address_code": self.address.code, "address": self.address.text,
                "legal_rep_name": self.legal_rep_name, "legal_rep_id_number": self.legal_rep_id_number,
                "contact_name": self.contact_name, "contact_phone": self.contact_phone}


def check_unit(session: Session, owner: User, *, uscc: str | None, name: str | None, unit_type: str | None,
               industry: str | None, special_trade: str | None, address_code: str | None,
               legal_rep_name: str | None, legal_rep_id_number: str | None, contact_name: str | None,
               contact_phone: str | None, today: date | None = None) -> UnitDetails:
    """Validate a whole unit registration by its declaration; every bad field is reported at once, each at
    its field."""
    raw = {"uscc": uscc, "name": name, "unit_type": unit_type, "industry": industry, "special_trade": special_trade,
           "address_code": address_code, "legal_rep_name": legal_rep_name,
           "legal_rep_id_number": legal_rep_id_number, "contact_name": contact_name, "contact_phone": contact_phone}
    checked, errors = declarations.check(declarations.UnitRegistration, raw, today=today or date.today(),
                                         session=session, partial=True)
    values = checked.values
    if "address_code" in values:  # a retired or merged address takes no new reports (addresses.not_reportable)
        refused = addresses.not_reportable(values["address_code"])
        if refused is not None:
            errors.append(refused.at("address_code"))
    if "uscc" in values:
        taken = session.scalar(select(Unit).where(Unit.owner_id == owner.id, Unit.uscc == values["uscc"],
                                                  Unit.status.not_in(REGISTRABLE_AGAIN)))
        if taken is not None:
            errors.append(_unit_exists(taken.name))
    if errors:
        raise StateConflict.or_invalid(errors, {"unit_exists"})
    rid = values["legal_rep_id_number"]
    trade = values["special_trade"]
    return UnitDetails(uscc=values["uscc"], name=values["name"], unit_type=UnitType(values["unit_type"]),
                       industry=values["industry"], special_trade=Trade(trade) if trade else None,
                       address=values["address_code"], legal_rep_name=values["legal_rep_name"],
                       legal_rep_id_number=rid.number, legal_rep_region_known=rid.region_known,
                       contact_name=values["contact_name"], contact_phone=values["contact_phone"])


def _unit_exists(name: str) -> FieldError:
    return FieldError("unit_exists", _l("You have registered a unit with this code already: %(name)s.",
                                        name=name), "uscc")


def register_unit(session: Session, owner: User, *, uscc: str | None, name: str | None, unit_type: str | None,
                  industry: str | None, special_trade: str | None, address_code: str | None,
                  legal_rep_name: str | None, legal_rep_id_number: str | None, contact_name: str | None,
                  contact_phone: str | None, actor: audit.Actor, form_key: str | None = None,
                  today: date | None = None) -> Filed:
    """A new unit, pending until an officer verifies its registration submission."""
    again = filed_before(session, owner, form_key)
    if again:
        return again
    d = check_unit(session, owner, uscc=uscc, name=name, unit_type=unit_type, industry=industry,
                   special_trade=special_trade, address_code=address_code, legal_rep_name=legal_rep_name,
                   legal_rep_id_number=legal_rep_id_number, contact_name=contact_name,
                   contact_phone=contact_phone, today=today)
    flags.hold_claims(session, "unit_id", d.uscc)  # another employer's registration of this code waits
    # A rejected or withdrawn registration of the same code is registered again on the same row.
    unit = session.scalar(select(Unit).where(Unit.owner_id == owner.id, Unit.uscc == d.uscc)) or \
        Unit(owner_id=owner.id, uscc=d.uscc)
    unit.name, unit.unit_type, unit.industry = d.name, d.unit_type, d.industry
    unit.special_trade = d.special_trade
    unit.address_id, unit.beat_id = d.address.id, d.address.beat_id
    unit.legal_rep_name, unit.legal_rep_id_number = d.legal_rep_name, d.legal_rep_id_number
    unit.contact_name, unit.contact_phone = d.contact_name, d.contact_phone
    unit.status = RecordStatus.pending
    session.add(unit)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same code registered a moment ago, in another tab or by a double click
        if unit in session:
            session.expunge(unit)
        again = filed_before(session, owner, form_key)
        if again:
            return again
        raise StateConflict([_unit_exists(d.name)]) from None
    sub = Submission(kind=SubmissionKind.unit_registration, beat_id=unit.beat_id, unit_id=unit.id,
                     payload=d.as_payload(), submitted_at=utcnow())
    found = flags.for_unit(d.legal_rep_region_known) + flags.for_unit_code(session, d.uscc, owner.id)
    filed = filing.file(session, owner, sub, actor, form_key, found=found)
    if filed.created:
        flags.tell_rivals(session, filed.submission)
    return filed


def uscc_claimed_by_another(session: Session, owner: User, raw_uscc: str | None) -> bool:
    """Whether another employer's unit with this USCC stands (for the check page: the police will check)."""
    try:
        code = identity.check_uscc(raw_uscc)
    except (FieldError, ValidationFailed):
        return False
    return bool(flags.rival_units(session, code, owner.id))


# --- staff: single hires and departures, with the rules the staff-list import uses -----------------

roster = staff_import.roster  # who works there now: employments pending or verified, not ended


def ensure_active(unit: Unit, field: str | None = None) -> None:
    """Staff are reported for a registered unit (pending or verified), not a rejected or withdrawn one."""
    if unit.status not in RecordStatus.ACTIVE:
        message = _l("This unit's registration was rejected or withdrawn: register it again first.")
        raise ValidationFailed([FieldError("unit_not_active", message, field)])


def check_staff_member(raw: dict, *, today: date) -> staff_import.StaffRow:
    """One worker from the single hire form, checked by the very code that checks an uploaded row."""
    columns = {c: i for i, c in enumerate(staff_import.COLUMNS)}
    cells = ["" if raw.get(c) is None else str(raw.get(c)) for c in staff_import.COLUMNS]
    checked = staff_import.check_row(0, cells, columns, list(staff_import.COLUMNS), today=today)
    errors = [FieldError(e.code, e.message, e.column) for e in checked.errors]
    if not (raw.get("hire_date") or "").strip():  # optional in a list, but a single hire says when
        errors.append(FieldError("required", _l("Enter the date they started."), "hire_date"))
    if errors:
        raise ValidationFailed(errors)
    return checked.row


def current_employment(session: Session, unit: Unit, *, employment_id: int | None = None,
                       id_number: str | None = None, id_type: str = IdType.resident_id) -> Employment | None:
    """One person on the roster (see `roster`), by employment or by document (a resident ID by default)."""
    query = select(Employment).where(Employment.unit_id == unit.id, Employment.departure_date.is_(None),
                                     Employment.status.in_(RecordStatus.ACTIVE))
    if employment_id is not None:
        query = query.where(Employment.id == employment_id)
    if id_number is not None:
        query = query.join(Employment.person).where(Person.id_type == id_type,
                                                    Person.id_number.matches(id_number))
    return session.scalars(query.limit(1)).first()


def _worker(name, id_number, phone, position, hire_date, more: dict) -> dict:
    """A hire as its declaration has it (the fields a staff-list row has); any other field is refused."""
    unknown = set(more) - set(declarations.Hire.model_fields)
    if unknown:
        raise TypeError(f"a hire declares no field {', '.join(sorted(unknown))}")
    return {"name": name, "id_number": id_number, "phone": phone, "position": position, "hire_date": hire_date,
            **more}


def report_hire(session: Session, owner: User, unit_id: int, *, name: str | None, id_number: str | None,
                phone: str | None, position: str | None, hire_date: object, actor: audit.Actor,
                form_key: str | None = None, today: date | None = None, supersedes: Submission | None = None,
                **more: str | None) -> Filed:
    """One new worker: a hire submission and a pending employment, flagged as an imported hire is. `more`:
    the hire declaration's other fields (a passport holder's document type, nationality, sex, birth, visa)."""
    again = filed_before(session, owner, form_key)
    if again:
        return again
    unit = unit_of(session, owner, unit_id)
    ensure_active(unit)
    addresses.ensure_reportable(unit.address)
    today = today or local_today()
    row = check_staff_member(_worker(name, id_number, phone, position, hire_date, more), today=today)
    if current_employment(session, unit, id_number=row.id_number, id_type=row.id_type) is not None:
        raise StateConflict([_ALREADY_EMPLOYED])
    person = person_for(session, Occupant({"id_type": row.id_type, "id_number": row.id_number, "name": row.name,
                                           "sex": row.sex, "birth_date": row.birth_date, "phone": row.phone,
                                           "nationality": row.nationality, "visa_kind": row.visa_kind,
                                           "visa_expiry": row.visa_expiry}))
    person_id = person.id
    # The import's own flag rules and payload shape: a single hire reads like an imported one.
    elsewhere = staff_import.employed_elsewhere(session, unit, [person_id])
    values = staff_import.hire_submission(row, person_id, elsewhere, unit, unit.address.text,
                                          {"unit_id": unit.id, "beat_id": unit.beat_id,
                                           "submitted_at": utcnow()}, receipt=None,
                                          differs=person.differs)
    for filed_here in ("receipt", "flagged"):  # filing.file gives the receipt, and flags what it is given
        values.pop(filed_here)
    found = values.pop("flags")
    values["payload"].pop("row")  # no spreadsheet row behind a single hire
    sub = Submission(**values, supersedes_id=supersedes.id if supersedes else None)
    filed = filing.file(session, owner, sub, actor, form_key, found=found)
    if not filed.created:
        return filed
    employment = Employment(unit_id=unit.id, person_id=person_id, submission_id=sub.id,
                            position=row.position, hire_date=row.hire_date, declared_name=row.name,
                            declared_phone=row.phone, status=RecordStatus.pending)
    try:
        with session.begin_nested():
            session.add(employment)
            session.flush()
    except IntegrityError:
        # A hire of this person at this unit won a race (the partial unique index on employment).
        if current_employment(session, unit, id_number=row.id_number, id_type=row.id_type) is None:
            raise
        raise StateConflict([_ALREADY_EMPLOYED]) from None
    # Link it from the submission too, as an import does; a Core UPDATE leaves the version alone.
    table = Submission.__table__
    session.execute(update(table).where(table.c.id == sub.id).values(employment_id=employment.id))
    set_committed_value(sub, "employment_id", employment.id)
    return filed


def correct_hire(session: Session, owner: User, submission_id: int, *, name: str | None, id_number: str | None,
                 phone: str | None, position: str | None, hire_date: object, actor: audit.Actor,
                 form_key: str | None = None, today: date | None = None, **more: str | None) -> Filed:
    """A corrected hire is a new hire that supersedes the rejected (or still waiting) one; both stay."""
    again = filed_before(session, owner, form_key)
    if again:
        return again
    old = session.scalar(select(Submission).where(Submission.id == submission_id, Submission.reporter_id == owner.id))
    if old is None or old.kind != SubmissionKind.hire or old.unit_id is None:
        raise NotFound()
    if not review.allowed(old.status, SubmissionStatus.superseded):
        raise ValidationFailed([FieldError("not_correctable", _l("Only a report that is waiting or was rejected "
                                                                 "can be corrected."))])
    unit = unit_of(session, owner, old.unit_id)
    ensure_active(unit)
    # Check the new report before the old one is touched, so that bad input changes nothing.
    check_staff_member(_worker(name, id_number, phone, position, hire_date, more), today=today or local_today())
    review.transition(session, old, SubmissionStatus.superseded, owner, actor)
    return report_hire(session, owner, unit.id, name=name, id_number=id_number, phone=phone, position=position,
                       hire_date=hire_date, actor=actor, form_key=form_key, today=today, supersedes=old, **more)


_ALREADY_EMPLOYED = FieldError("already_employed", _l("This person is already on the staff list of this unit."),
                               "id_number")


def pending_departure(session: Session, employment: Employment) -> Submission | None:
    return session.scalar(select(Submission).where(
        Submission.kind == SubmissionKind.departure, Submission.status.in_(SubmissionStatus.OPEN),
        Submission.employment_id == employment.id))


def report_departure(session: Session, owner: User, unit_id: int, *, employment_id: object,
                     departure_date: object, actor: audit.Actor, form_key: str | None = None,
                     today: date | None = None) -> Filed:
    """One worker who left: chosen from the current roster, on or after their hire date."""
    again = filed_before(session, owner, form_key)
    if again:
        return again
    unit = unit_of(session, owner, unit_id)
    today = today or local_today()
    errors: list[FieldError] = []
    chosen = str(employment_id or "").strip()
    well_formed = chosen.isascii() and chosen.isdigit() and len(chosen) <= 9  # an id, not any string
    employment = current_employment(session, unit, employment_id=int(chosen)) if well_formed else None
    if employment is None:
        errors.append(FieldError("required", _l("Choose who left."), "employment"))
    elif pending_departure(session, employment) is not None:
        errors.append(FieldError("already_reported", _l("You have already reported that this person left."),
                                 "employment"))
    day = None
    try:
        day = check_event_date(departure_date, "departure_date", today=today)
        if day > today:
            raise FieldError("future_date", _l("The departure date cannot be in the future."))
        if employment is not None and employment.hire_date and day < employment.hire_date:
            raise FieldError("before_hire", _l("The departure date cannot be before the hire date "
                                               "(%(date)s).", date=employment.hire_date.isoformat()))
    except FieldError as err:
        errors.append(err.at("departure_date"))
    if errors:
        raise ValidationFailed(errors)
    person = employment.person
    sub = Submission(kind=SubmissionKind.departure, beat_id=unit.beat_id, unit_id=unit.id,
                     employment_id=employment.id, submitted_at=utcnow(),
                     payload={"name": employment.declared_name, "id_type": str(person.id_type),
                              "id_number": person.id_number, "employment_id": employment.id,
                              "position": employment.position,
                              "hire_date": employment.hire_date.isoformat() if employment.hire_date else None,
                              "departure_date": day.isoformat(), "reason": "reported",
                              "unit_name": unit.name, "address": unit.address.text})
    return filing.file(session, owner, sub, actor, form_key)


# --- staff-list uploads between preview and commit ------------------------------------------------
#
# The uploaded bytes wait in a file named after the upload's draft key, never in the cookie; the draft
# (owner-scoped) is the only way to reach the file, and both go when the list is committed or discarded.

@dataclass
class Upload:
    draft_key: str
    unit: Unit
    filename: str
    full_list: bool
    data: bytes


KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}", re.ASCII)  # drafts' keys: secrets.token_urlsafe(32)


def _path(directory: Path, key: str) -> Path:
    if not KEY_SHAPE.fullmatch(key or ""):  # a key only ever names a file in the folder
        raise NotFound()
    return Path(directory) / key


def _upload_context(key: str) -> bytes:
    """The associated data of a kept upload's file: bound to its draft, so no other draft opens it."""
    return b"staff_upload\x00" + key.encode("ascii")


def keep_upload(session: Session, owner: User, unit_id: int, data: bytes, filename: str, *, full_list: bool,
                directory: Path, actor: audit.Actor = audit.SYSTEM) -> Upload:
    """Keep an upload that previewed without being refused, for the preview page and the commit."""
    unit = unit_of(session, owner, unit_id)
    ensure_active(unit, "file")
    addresses.ensure_reportable(unit.address, "file")
    directory = Path(directory)
    private_folder(directory)  # 0700, and each file in it 0600: personal data waiting for the commit
    name = _safe_filename(filename)
    draft = drafts.start(session, owner, UPLOAD_DRAFT, {"unit_id": unit.id, "filename": name,
                                                        "full_list": bool(full_list)})
    target = _path(directory, draft.key)
    partial = target.with_name(f".{draft.key}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:  # sealed on disk too: the list names every employee
            f.write(fieldcrypt.current().seal_bytes(session.connection(), data, _upload_context(draft.key)))
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        drafts.discard(session, draft.key)
        raise
    audit.record(session, "staff_list.upload", actor, user=owner, object_type="unit", object_id=unit.id,
                 detail=f"{len(data)} bytes")
    return Upload(draft.key, unit, name, bool(full_list), data)


def error_report(session: Session, owner: User, pv: staff_import.Preview, unit: Unit, actor: audit.Actor) -> bytes:
    """The rows in error as a CSV for the employer to fix: an export of personal data, so it is audited."""
    audit.record(session, "staff_list.export_errors", actor, user=owner, object_type="unit", object_id=unit.id,
                 detail=f"{len(pv.errors)} errors")
    return staff_import.error_csv(pv)


def kept_upload(session: Session, owner: User, key: str, directory: Path) -> Upload:
    """The owner's upload waiting under this key; gone, expired or someone else's is NotFound (a draft
    whose file is gone is discarded then: the caller commits that)."""
    draft = drafts.get(session, owner, key, UPLOAD_DRAFT)
    unit = unit_of(session, owner, draft.data["unit_id"])
    try:
        sealed = _path(directory, key).read_bytes()
    except OSError:
        drafts.discard(session, draft.key)
        raise NotFound() from None
    data = fieldcrypt.current().open_bytes(session.connection(), sealed, _upload_context(key))
    return Upload(key, unit, draft.data.get("filename") or "", bool(draft.data.get("full_list", True)), data)


def drop_upload(session: Session, owner: User, key: str, directory: Path) -> None:
    """Forget a kept upload: its file and its draft. Harmless when they are gone already."""
    try:
        draft = drafts.get(session, owner, key, UPLOAD_DRAFT)
    except NotFound:
        return
    try:
        _path(directory, key).unlink(missing_ok=True)
    finally:
        drafts.discard(session, draft.key)


def purge_uploads(session: Session, directory: Path) -> int:
    """Delete kept files whose draft no longer exists (expired drafts are purged by drafts.purge_old)."""
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    keys = set(session.scalars(select(Draft.key).where(Draft.kind == UPLOAD_DRAFT)))
    removed = 0
    for path in directory.iterdir():
        if path.is_file() and path.name not in keys:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _safe_filename(filename: str | None) -> str:
    """Only for display and the import record: the base name, printable, at most 200 characters."""
    base = unicodedata.normalize("NFKC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] not in ("C",)).strip()
    return base[-200:] or "staff"
