"""The officers' verification queue and item pages, scoped to their jurisdiction."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from portal.models import (
    AuditEvent,
    Employment,
    House,
    Person,
    RecordStatus,
    StaffImport,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Tenancy,
    Unit,
    User,
)
from portal.models.base import utcnow
from portal.services import audit, jurisdiction, record_access, residence
from portal.services.errors import NotFound, ServiceError, ValidationFailed

PAGE_SIZE = 25


@dataclass
class Filters:
    kind: str | None = None
    beat_id: int | None = None
    flagged_only: bool = False
    late_only: bool = False
    staff_import_id: int | None = None  # the rows of one staff-list upload


@dataclass
class Page:
    items: list[Submission]
    next_cursor: str | None


def encode_cursor(sub: Submission) -> str:
    return f"{sub.submitted_at.timestamp():.6f}_{sub.id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw:
        return None
    try:
        stamp, ident = raw.split("_")
        from datetime import UTC

        return datetime.fromtimestamp(float(stamp), UTC), int(ident)
    except (ValueError, OverflowError, OSError):
        return None


def _scope(officer: User, beat_ids: list[int], filters: Filters):
    """The one place that decides what an officer's queue may contain."""
    if filters.beat_id is not None:
        if filters.beat_id not in beat_ids:
            return None
        return Submission.beat_id == filters.beat_id
    if officer.beat_id is not None:
        return Submission.beat_id == officer.beat_id
    if officer.station_id is not None:
        return Submission.station_id == officer.station_id
    return Submission.beat_id.in_(beat_ids)  # the bureau's own staff: every beat of its stations


def _open_items(session: Session, officer: User, filters: Filters) -> list | None:
    """The conditions of the officer's queue with these filters; None when it is empty by scope."""
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    where = _scope(officer, beat_ids, filters)
    if where is None or not beat_ids:
        return None
    conditions = [where, Submission.is_open.is_(True)]
    if filters.kind:
        conditions.append(Submission.kind == SubmissionKind(filters.kind))
    if filters.flagged_only:
        conditions.append(Submission.flagged.is_(True))
    if filters.late_only:
        conditions.append(Submission.late.is_(True))
    if filters.staff_import_id is not None:
        conditions.append(Submission.staff_import_id == filters.staff_import_id)
    return conditions


def _after(cursor: str | None) -> list:
    after = decode_cursor(cursor)
    return [] if after is None else [tuple_(Submission.submitted_at, Submission.id) > tuple_(*after)]


def queue_page(session: Session, officer: User, filters: Filters, cursor: str | None = None,
               page_size: int = PAGE_SIZE) -> Page:
    conditions = _open_items(session, officer, filters)
    if conditions is None:
        return Page([], None)
    rows = list(session.scalars(select(Submission).where(*conditions, *_after(cursor))
                                .order_by(Submission.submitted_at, Submission.id).limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else None)


def queue_columns(session: Session, officer: User, filters: Filters, columns: list, *,
                  batch: int = 1000) -> Iterator[list]:
    """The queue_page's items, all of them in its order, as rows of `columns` (they must include
    Submission.submitted_at and Submission.id), `batch` at a time: for an export of tens of thousands of
    items, which needs a few columns and no objects (bench/README.md, the 50,000-row export)."""
    conditions = _open_items(session, officer, filters)
    if conditions is None:
        return
    order = (Submission.submitted_at, Submission.id)
    after: list = []
    while True:
        rows = session.execute(select(*columns, *order).where(*conditions, *after).order_by(*order)
                               .limit(batch)).all()
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = [tuple_(*order) > tuple_(rows[-1][-2], rows[-1][-1])]


def open_count(session: Session, officer: User) -> int:
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    where = _scope(officer, beat_ids, Filters())
    if where is None or not beat_ids:
        return 0
    return session.scalar(select(func.count()).select_from(Submission).where(where, Submission.is_open.is_(True)))


def item(session: Session, officer: User, submission_id: int) -> Submission:
    """An item in the officer's jurisdiction; anything else does not exist for them."""
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    sub = session.scalar(select(Submission).where(Submission.id == submission_id,
                                                  Submission.beat_id.in_(beat_ids)))
    if sub is None:
        raise NotFound()
    return sub


def house_history(session: Session, sub: Submission, limit: int = 50) -> list[Submission]:
    if sub.house_id is None:
        return []
    return list(session.scalars(select(Submission).where(Submission.house_id == sub.house_id,
                                                         Submission.id != sub.id)
                                .order_by(Submission.submitted_at.desc()).limit(limit)))


def other_tenancies(session: Session, sub: Submission) -> list[Tenancy]:
    """Where else the people this submission names live now (residence.living)."""
    ids = [p.id for p in persons_named(session, sub.payload) if p is not None]
    if not ids:
        return []
    return list(session.scalars(
        select(Tenancy).join(House).where(Tenancy.person_id.in_(ids), *residence.living(),
                                          Tenancy.house_id != (sub.house_id or 0))
        .order_by(Tenancy.id).limit(50)))


def view_item(session: Session, officer: User, submission_id: int, actor: audit.Actor) -> Submission:
    """An item, opened to be read: who read which declaration (and so whose personal data) is audited."""
    sub = item(session, officer, submission_id)
    audit.record(session, "item.view", actor, user=officer, object_type="submission", object_id=sub.id)
    return sub


class TooManyReveals(ServiceError):
    """The officer has seen as many full ID numbers as an hour allows."""


def reveal_id(session: Session, officer: User, sub: Submission, person_index: int, actor: audit.Actor, *,
              per_hour: int) -> str:
    """The full ID number, for an officer who asks; the asking is audited, and at most `per_hour` are
    shown to one officer in an hour (a reveal is for checking a person, not for reading the register).
    On TooManyReveals the caller commits too: the refusal is audited."""
    numbers = [number for _kind, number in people_in(sub.payload)]
    if not 0 <= person_index < len(numbers):
        raise NotFound()
    shown = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == officer.id, AuditEvent.at > utcnow() - timedelta(hours=1),
        AuditEvent.action == "id.reveal", AuditEvent.outcome == "success"))
    if shown >= per_hour:
        audit.record(session, "id.reveal", actor, user=officer, object_type="submission", object_id=sub.id,
                     outcome="refused", detail=f"person={person_index} limit={per_hour}/h")
        raise TooManyReveals()
    event = audit.record(session, "id.reveal", actor, user=officer, object_type="submission", object_id=sub.id,
                         detail=f"person={person_index}")
    person = persons_named(session, sub.payload)[person_index]
    if person is not None:  # the person's own view (record_access.py)
        record_access.note(session, [person.id], kind="id", event=event, officer=officer,
                           reason=record_access.CHECKING_A_REPORT)
    return numbers[person_index]


@dataclass
class InRegister:
    """What the register holds for one person a declaration names, and whose confirmed report it came from
    (None: no report naming them is confirmed yet, so the details are the first report's)."""

    name: str
    phone: str | None
    source_receipt: str | None


def register_entries(session: Session, sub: Submission) -> list[InRegister | None]:
    """Per person of the declaration, in its order, the register's details (None: not in the register)."""
    persons = persons_named(session, sub.payload)
    sources = dict(session.execute(select(Submission.id, Submission.receipt).where(
        Submission.id.in_([p.details_submission_id for p in persons if p and p.details_submission_id]))).all())
    return [InRegister(p.name, p.phone, sources.get(p.details_submission_id)) if p is not None else None
            for p in persons]


def names_in(payload: dict) -> list[str]:
    """The names of the people a declaration names, in the order of people_in."""
    if payload.get("occupants"):
        return [o.get("name") or "" for o in payload["occupants"]]
    if payload.get("legal_rep_id_number"):
        return [payload.get("legal_rep_name") or ""]
    if payload.get("id_number"):
        return [payload.get("name") or ""]
    return []


def people_in(payload: dict) -> list[tuple[str, str]]:
    """The (id_type, id_number) of every person a declaration names, in display order: the people
    moving in, the legal representative of a unit, or the one person of a move-out, hire or departure."""
    if payload.get("occupants"):
        return [(o.get("id_type") or "resident_id", o["id_number"]) for o in payload["occupants"]]
    if payload.get("legal_rep_id_number"):
        return [("resident_id", payload["legal_rep_id_number"])]
    if payload.get("id_number"):
        return [(payload.get("id_type") or "resident_id", payload["id_number"])]
    return []


def persons_named(session: Session, payload: dict) -> list[Person | None]:
    """The register's person for every person a declaration names (people_in), in its order; None for
    one the register does not hold. Found by blind index (fieldcrypt.py): one index search per person."""
    people = people_in(payload)
    if not people:
        return []
    # OR of equalities rather than a tuple IN: SQLite plans the latter as a scan of the whole person index
    # as soon as there are two people (bench/README.md), the former as one index search per person.
    found = {(str(p.id_type), p.id_index): p for p in session.scalars(select(Person).where(
        or_(*(and_(Person.id_type == t, Person.id_number.matches(n)) for t, n in people))))}
    return [found.get((str(t), Person.id_number.index_of(n))) for t, n in people]


# --- staff-list uploads: one upload's rows together, the clean ones confirmed in one action ---------

@dataclass
class UploadGroup:
    staff_import: StaffImport
    unit: Unit
    registration: Submission | None  # the unit's latest registration, when it is in the officer's area
    items: list[Submission]  # the first `limit` rows of the upload, in file order
    total: int
    by_status: dict[str, int]
    clean: int  # waiting, without flags: what "confirm all clean rows" would confirm
    flagged_open: int  # open, with flags: to be decided one by one


def _upload_in_scope(session: Session, officer: User, staff_import_id: int) -> tuple[StaffImport, list[int]]:
    """An upload of a unit in the officer's jurisdiction; anything else does not exist for them."""
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    found = session.scalar(select(StaffImport).join(Unit, Unit.id == StaffImport.unit_id)
                           .where(StaffImport.id == staff_import_id, Unit.beat_id.in_(beat_ids)))
    if found is None:
        raise NotFound()
    return found, beat_ids


def _upload_rows(staff_import_id: int, beat_ids: list[int]) -> tuple:
    return (Submission.staff_import_id == staff_import_id, Submission.beat_id.in_(beat_ids))


def _clean_rows(staff_import_id: int, beat_ids: list[int]) -> tuple:
    # Waiting rows only: a row sent for a site visit waits for what the visit finds.
    return (*_upload_rows(staff_import_id, beat_ids), Submission.status == SubmissionStatus.pending,
            Submission.flagged.is_(False))


def _count(session: Session, *where) -> int:
    return session.scalar(select(func.count()).select_from(Submission).where(*where))


def upload_group(session: Session, officer: User, staff_import_id: int, *, limit: int = 500) -> UploadGroup:
    imp, beat_ids = _upload_in_scope(session, officer, staff_import_id)
    rows = _upload_rows(imp.id, beat_ids)
    by_status = {str(status): n for status, n in session.execute(
        select(Submission.status, func.count()).where(*rows).group_by(Submission.status))}
    items = list(session.scalars(select(Submission).where(*rows).order_by(Submission.id).limit(limit)))
    registration = session.scalar(select(Submission).where(
        Submission.unit_id == imp.unit_id, Submission.kind == SubmissionKind.unit_registration,
        Submission.beat_id.in_(beat_ids)).order_by(Submission.id.desc()).limit(1))
    return UploadGroup(imp, session.get(Unit, imp.unit_id), registration, items, sum(by_status.values()),
                       by_status, clean=_count(session, *_clean_rows(imp.id, beat_ids)),
                       flagged_open=_count(session, *rows, Submission.is_open.is_(True),
                                           Submission.flagged.is_(True)))


@dataclass
class BulkOutcome:
    confirmed: int
    conflicts: int  # rows someone else decided in the meantime: left as they decided
    flagged_left: int


def confirm_clean(session: Session, officer: User, staff_import_id: int, actor: audit.Actor, *,
                  batch: int = 200) -> BulkOutcome:
    """Confirm every waiting, unflagged row of one upload, each through review.transition, in the caller's
    transaction (the caller commits). A row another officer decided first is left as they decided it,
    counted and audited as a conflict (a losing transition changes nothing); the others are confirmed.
    """
    from portal.services import review

    imp, beat_ids = _upload_in_scope(session, officer, staff_import_id)
    ids = list(session.scalars(select(Submission.id).where(*_clean_rows(imp.id, beat_ids))
                               .order_by(Submission.id)))
    confirmed = conflicts = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        for sub in list(session.scalars(select(Submission).where(Submission.id.in_(chunk)).order_by(Submission.id))):
            try:
                review.transition(session, sub, SubmissionStatus.confirmed, officer, actor)
                confirmed += 1
            except review.DecidedAlready:
                conflicts += 1
    flagged_left = _count(session, *_upload_rows(imp.id, beat_ids), Submission.is_open.is_(True),
                          Submission.flagged.is_(True))
    audit.record(session, "staff_import.confirm_clean", actor, user=officer, object_type="staff_import",
                 object_id=imp.id,
                 detail=f"confirmed={confirmed} conflicts={conflicts} flagged_left={flagged_left}")
    return BulkOutcome(confirmed, conflicts, flagged_left)


def other_employments(session: Session, sub: Submission) -> list[Employment]:
    """Active employments at other units of the person a hire or departure names."""
    if sub.kind not in (SubmissionKind.hire, SubmissionKind.departure) or not sub.payload.get("id_number"):
        return []
    id_type = sub.payload.get("id_type") or "resident_id"
    person_id = session.scalar(select(Person.id).where(Person.id_type == id_type,
                                                       Person.id_number.matches(sub.payload["id_number"])))
    if person_id is None:
        return []
    return list(session.scalars(
        select(Employment).where(Employment.person_id == person_id, Employment.unit_id != (sub.unit_id or 0),
                                 Employment.departure_date.is_(None),
                                 Employment.status.in_(RecordStatus.ACTIVE))
        .order_by(Employment.id).limit(50)))


def unit_of_item(session: Session, sub: Submission) -> Unit | None:
    return session.get(Unit, sub.unit_id) if sub.unit_id else None


# --- several clean items of the queue confirmed at once ---------------------------------------------

@dataclass
class Conflict:
    submission_id: int
    receipt: str
    by: str
    status: str
    at: datetime | None


@dataclass
class SelectedOutcome:
    confirmed: int = 0
    conflicts: list[Conflict] = field(default_factory=list)  # decided by someone else meanwhile
    not_clean: int = 0  # flagged or sent for a site visit: to be decided one by one
    missing: int = 0  # not in the officer's jurisdiction (or no such item)


def parse_selection(raw: list[str]) -> list[tuple[int, int]]:
    """(id, version) pairs from the queue's checkboxes ("id:version"); anything else is ignored."""
    out = []
    for value in raw[:MAX_SELECTED]:
        ident, _, version = str(value).partition(":")
        if ident.isascii() and ident.isdigit() and version.isascii() and version.isdigit() \
                and int(ident) < 2**31 and int(version) < 2**31:
            out.append((int(ident), int(version)))
    return list(dict.fromkeys(out))


MAX_SELECTED = 100


def confirm_selected(session: Session, officer: User, selected: list[tuple[int, int]], actor: audit.Actor
                     ) -> SelectedOutcome:
    """Confirm each chosen item that is waiting and has no flag, each through review.transition with the
    version the officer saw (optimistic locking), in the caller's transaction (the caller commits): an item
    someone else decided meanwhile is left as they decided, reported back, and audited as a conflict by
    transition (a losing transition changes nothing)."""
    from portal.services import review

    done = SelectedOutcome()
    for submission_id, version in selected[:MAX_SELECTED]:
        try:
            sub = item(session, officer, submission_id)
        except NotFound:
            done.missing += 1
            continue
        # Flags are set at filing (and on a claim when another is filed on its place; only a settled claim
        # is marked resolved), so a flagged item is never clean; one in site visit at
        # the version the officer saw was shown as such. Any other change since is someone else's decision.
        if sub.flagged or (sub.status != SubmissionStatus.pending and sub.version == version):
            done.not_clean += 1
            continue
        try:
            review.transition(session, sub, SubmissionStatus.confirmed, officer, actor, expected_version=version)
            done.confirmed += 1
        except review.DecidedAlready as first:
            done.conflicts.append(Conflict(submission_id, sub.receipt, first.by, first.status, first.at))
        except (ValueError, PermissionError, ValidationFailed):
            done.not_clean += 1
    audit.record(session, "queue.confirm_selected", actor, user=officer, object_type="submission",
                 detail=f"confirmed={done.confirmed} conflicts={len(done.conflicts)} not_clean={done.not_clean} "
                        f"missing={done.missing}")
    return done
