"""The officers' register: places, buildings, rooms, houses, people and units of the officer's jurisdiction.

Scoping is the queue's: the beats of jurisdiction.beat_ids_for, never a beat or station from the request. An
object outside them does not exist for the officer (NotFound). Lists are keyset-paged on their sort key with
an opaque cursor (BadCursor for one not given out here). Who lives in a house is residence.living.
New code of the unit of work: these functions add and flush, never commit; the view commits.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from portal.models import (
    Decision,
    Employment,
    House,
    Person,
    RecordStatus,
    StaffImport,
    Submission,
    SubmissionKind,
    Tenancy,
    Unit,
    User,
)
from portal.models.address import Address
from portal.services import flags, jurisdiction, residence
from portal.services.errors import NotFound
from portal.services.identity import mask_id, mask_name, mask_phone

PAGE_SIZE = 50
PLACE = (Address.division_code, Address.township, Address.road, Address.door_no, Address.community)
STANDING = RecordStatus.ACTIVE  # declared or verified: the record stands


class BadCursor(ValueError):
    """A page cursor that this module did not give out."""


def encode_cursor(key: tuple) -> str:
    raw = json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str | None, shape: tuple[type, ...]) -> tuple | None:
    """The key a cursor holds, of the types in `shape`; None for the first page; BadCursor otherwise."""
    if not value:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8"))
        if not isinstance(key, list) or len(key) != len(shape):
            raise ValueError(value)
        for part, kind in zip(key, shape, strict=True):
            if type(part) is not kind:  # noqa: E721 - a bool is not an int here
                raise ValueError(value)
            if kind is int and not 0 <= part < 2**31:  # beyond an INTEGER column: PostgreSQL would refuse
                raise ValueError(value)
            if kind is str and len(part) > 100:
                raise ValueError(value)
        if encode_cursor(tuple(key)) != value:  # one spelling per key
            raise ValueError(value)
        return tuple(key)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadCursor(value) from None


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def _keyset(session: Session, query, key: tuple, after: tuple | None, size: int, *, descending=False):
    """Rows of `query` after the key `after`, in key order, and the key of the last one if more follow."""
    if after is not None:
        if descending:
            query = query.where(tuple_(*key) < tuple_(*after)) if len(key) > 1 else query.where(key[0] < after[0])
        else:
            query = query.where(tuple_(*key) > tuple_(*after)) if len(key) > 1 else query.where(key[0] > after[0])
    order = [k.desc() for k in key] if descending else list(key)
    rows = list(session.execute(query.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    last = tuple(rows[-1][i] for i in range(len(key))) if more and rows else None
    return rows, (encode_cursor(last) if last is not None else None)


def beats(session: Session, officer: User) -> list[int]:
    return jurisdiction.beat_ids_for(session, officer)


# --- browsing: places (road + door, community) > buildings > rooms ----------------------------------

@dataclass
class PlaceRow:
    address_id: int  # the first address of the place: the link to its page
    text: str
    addresses: int


def places(session: Session, officer: User, cursor: str | None = None, *, size: int = PAGE_SIZE) -> Page:
    """The door plates and communities of the jurisdiction, in address order."""
    after = decode_cursor(cursor, (str,) * len(PLACE))
    beat_ids = beats(session, officer)
    if not beat_ids:
        return Page([], None)
    query = (select(*PLACE, func.min(Address.id), func.count(), func.min(Address.division_name))
             .where(Address.beat_id.in_(beat_ids)).group_by(*PLACE))
    if after is not None:
        query = query.having(tuple_(*PLACE) > tuple_(*after))
    found = list(session.execute(query.order_by(*PLACE).limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    rows = [PlaceRow(r[5], " ".join(p for p in (r[7], r[1], r[2] + r[3], r[4]) if p), r[6]) for r in found]
    return Page(rows, encode_cursor(tuple(found[-1][:5])) if more and found else None)


def address(session: Session, officer: User, address_id: int) -> Address:
    """An address of the jurisdiction; anything else does not exist for the officer."""
    found = session.scalar(select(Address).where(Address.id == address_id,
                                                 Address.beat_id.in_(beats(session, officer) or [0])))
    if found is None:
        raise NotFound()
    return found


def _same_place(anchor: Address) -> tuple:
    return tuple(col == getattr(anchor, col.key) for col in PLACE)


@dataclass
class BuildingRow:
    address_id: int
    building: str
    rooms: int
    houses: int


def buildings(session: Session, officer: User, anchor: Address, cursor: str | None = None, *,
              size: int = PAGE_SIZE) -> Page:
    """The buildings of a place (the door plate's own addresses under an empty name), with their counts."""
    after = decode_cursor(cursor, (str,))
    beat_ids = beats(session, officer)
    houses = (select(func.count()).select_from(House).where(House.address_id == Address.id)
              .correlate(Address).scalar_subquery())
    query = (select(Address.building, func.min(Address.id), func.count(), func.sum(houses))
             .where(*_same_place(anchor), Address.beat_id.in_(beat_ids)).group_by(Address.building))
    if after is not None:
        query = query.having(Address.building > after[0])
    found = list(session.execute(query.order_by(Address.building).limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    rows = [BuildingRow(r[1], r[0], r[2], int(r[3] or 0)) for r in found]
    return Page(rows, encode_cursor((found[-1][0],)) if more and found else None)


@dataclass
class HouseCell:
    house_id: int
    owner: str  # masked
    owner_name: str  # whole: for a full export only, never shown on the page
    owner_phone: str  # whole: likewise
    use: str
    status: str
    living: int
    capacity: int


@dataclass
class RoomRow:
    address: Address
    houses: list[HouseCell] = field(default_factory=list)
    claimed: bool = False  # another reporter's house stands on this place too (flags "claimed_by_another")


def rooms(session: Session, officer: User, anchor: Address, cursor: str | None = None, *,
          size: int = PAGE_SIZE) -> Page:
    """The addresses of one building (of the anchor's), by unit and room number, each with its houses."""
    after = decode_cursor(cursor, (str, int, str, int))
    beat_ids = beats(session, officer)
    key = (Address.unit_key, func.length(Address.room_key), Address.room_key, Address.id)
    query = select(*key, Address).where(*_same_place(anchor), Address.building == anchor.building,
                                        Address.beat_id.in_(beat_ids))
    found, next_cursor = _keyset(session, query, key, after, size)
    rows = {r[4].id: RoomRow(r[4]) for r in found}
    # The register holds the houses that stand (declared or verified): a refused or withdrawn claim is only
    # in the house's history. Two standing houses on one room are two claims for the officer to settle.
    # How many live in each: the summary the triggers keep (residence.living(), anomaly_summaries), read as a
    # column so that it is the database's figure even for a house already in the session.
    houses = list(session.execute(select(House, House.anom_living_count, User.name, User.phone)
                                  .join(User, User.id == House.owner_id).where(
        House.address_id.in_(list(rows)), House.beat_id.in_(beat_ids), House.status.in_(STANDING))
        .order_by(House.id))) if rows else []
    for house, living, owner, phone in houses:
        rows[house.address_id].houses.append(HouseCell(house.id, mask_name(owner), owner, phone or "", str(house.use),
                                                       str(house.status), living, house.max_occupants))
    claimed = set(session.scalars(select(House.address_id).where(
        House.id.in_([h.id for h, *_ in houses]), flags.rivalled(House)))) if houses else set()
    for row in rows.values():
        row.claimed = row.address.id in claimed
    return Page(list(rows.values()), next_cursor)


# --- a house ---------------------------------------------------------------------------------------

@dataclass
class Occupant:
    person_id: int
    name: str
    id_masked: str
    since: date
    confirmed: bool
    lease_end: date | None = None


@dataclass
class UnitHere:
    unit_id: int
    name: str
    status: str
    staff: int


@dataclass
class HistoryRow:
    submission: Submission
    reporter: str  # masked
    names: list[str]  # masked
    decisions: list[Decision]


@dataclass
class HouseView:
    house: House
    owner_name: str
    owner_phone: str  # masked
    occupants: list[Occupant]
    moving_out: list[Occupant]
    units: list[UnitHere]
    history: Page
    claims: list[Claim] = field(default_factory=list)  # other reporters' houses at this address


def house(session: Session, officer: User, house_id: int) -> House:
    found = session.scalar(select(House).where(House.id == house_id,
                                               House.beat_id.in_(beats(session, officer) or [0])))
    if found is None:
        raise NotFound()
    return found


def _occupants(session: Session, *where) -> list[Occupant]:
    return [Occupant(p.id, p.name, mask_id(p.id_number), t.move_in_date, t.status == RecordStatus.verified,
                     t.lease_end_date)
            for t, p in session.execute(select(Tenancy, Person).join(Person, Person.id == Tenancy.person_id)
                                        .where(*where).order_by(Tenancy.move_in_date, Tenancy.id).limit(200))]


def staff_counts(session: Session, unit_ids: list[int]) -> dict[int, int]:
    if not unit_ids:
        return {}
    return dict(session.execute(select(Employment.unit_id, func.count()).where(
        Employment.unit_id.in_(unit_ids), *_employed()).group_by(Employment.unit_id)).all())


def _employed() -> tuple:
    """Employments declared or verified and not ended: a unit's current staff."""
    return (Employment.departure_date.is_(None), Employment.status.in_(STANDING))


def house_view(session: Session, officer: User, house_id: int, cursor: str | None = None) -> HouseView:
    found = house(session, officer, house_id)
    owner = session.get(User, found.owner_id)
    living = _occupants(session, *residence.living(found.id))
    leaving = _occupants(session, *residence.standing(found.id), residence.moving_out())
    units = list(session.execute(select(Unit.id, Unit.name, Unit.status).where(
        Unit.address_id == found.address_id, Unit.beat_id.in_(beats(session, officer))).order_by(Unit.id)))
    staff = staff_counts(session, [u.id for u in units])
    return HouseView(found, owner.name, mask_phone(owner.phone), living, leaving,
                     [UnitHere(u.id, u.name, str(u.status), staff.get(u.id, 0)) for u in units],
                     history(session, officer, Submission.house_id == found.id, cursor),
                     rival_claims(session, officer, house=found))


def history(session: Session, officer: User, where, cursor: str | None = None, *, size: int = PAGE_SIZE) -> Page:
    """Reports matching `where` in the jurisdiction, newest first, each with its reporter and decisions."""
    after = decode_cursor(cursor, (int,))
    query = select(Submission.id, Submission).where(where, Submission.beat_id.in_(beats(session, officer)))
    found, next_cursor = _keyset(session, query, (Submission.id,), after, size, descending=True)
    subs = [r[1] for r in found]
    reporters = dict(session.execute(select(User.id, User.name).where(
        User.id.in_(list({s.reporter_id for s in subs})))).all()) if subs else {}
    decisions: dict[int, list[Decision]] = {}
    if subs:
        for d in session.scalars(select(Decision).where(Decision.submission_id.in_([s.id for s in subs]))
                                 .order_by(Decision.at, Decision.id)):
            decisions.setdefault(d.submission_id, []).append(d)
    from portal.services.queue import names_in

    return Page([HistoryRow(s, mask_name(reporters.get(s.reporter_id)), [mask_name(n) for n in names_in(s.payload)],
                            decisions.get(s.id, [])) for s in subs], next_cursor)


# --- a person ----------------------------------------------------------------------------------------

@dataclass
class Place:
    """A house or unit a person lives or works at: its address, or nothing when outside the jurisdiction."""

    in_scope: bool
    text: str = ""
    house_id: int | None = None
    unit_id: int | None = None
    name: str = ""  # a unit's name
    since: date | None = None
    until: date | None = None
    confirmed: bool = False
    status: str = ""
    leaving: bool = False  # a move-out (or departure) is waiting for the police


@dataclass
class PersonView:
    person: Person
    living: list[Place]
    lived: list[Place]
    work: list[Place]
    reports: Page


def in_scope(beat_ids: list[int]):
    """A person with a tenancy (of any state) in a house, or an employment at a unit, of these beats."""
    beat_ids = beat_ids or [0]
    return or_(exists().where(Tenancy.person_id == Person.id, House.id == Tenancy.house_id,
                              House.beat_id.in_(beat_ids)),
               exists().where(Employment.person_id == Person.id, Unit.id == Employment.unit_id,
                              Unit.beat_id.in_(beat_ids)))


def person(session: Session, officer: User, person_id: int) -> Person:
    """A person who lives, lived or works (or was reported to) in the jurisdiction; nobody else exists here."""
    found = session.scalar(select(Person).where(Person.id == person_id, in_scope(beats(session, officer))))
    if found is None:
        raise NotFound()
    return found


def _tenancy_places(session: Session, person_id: int, beat_ids: list[int]) -> tuple[list[Place], list[Place]]:
    living_ids = set(session.scalars(select(Tenancy.id).where(Tenancy.person_id == person_id,
                                                              *residence.living())))
    now, past = [], []
    for t, h, a in session.execute(select(Tenancy, House, Address).join(House, House.id == Tenancy.house_id)
                                   .join(Address, Address.id == House.address_id)
                                   .where(Tenancy.person_id == person_id,
                                          Tenancy.status.in_((*STANDING, RecordStatus.ended)))
                                   .order_by(Tenancy.move_in_date.desc(), Tenancy.id.desc()).limit(200)):
        inside = h.beat_id in beat_ids
        leaving = t.id not in living_ids and t.status in STANDING and t.move_out_date is None
        place = (Place(True, a.text, h.id, since=t.move_in_date, until=t.move_out_date,
                       confirmed=t.status != RecordStatus.pending, status=str(t.status), leaving=leaving)
                 if inside else Place(False, since=t.move_in_date, until=t.move_out_date, status=str(t.status),
                                      leaving=leaving))
        (now if t.id in living_ids else past).append(place)
    return now, past


def _work_places(session: Session, person_id: int, beat_ids: list[int]) -> list[Place]:
    out = []
    for e, u, a in session.execute(select(Employment, Unit, Address).join(Unit, Unit.id == Employment.unit_id)
                                   .join(Address, Address.id == Unit.address_id)
                                   .where(Employment.person_id == person_id,
                                          Employment.status.in_((*STANDING, RecordStatus.ended)))
                                   .order_by(Employment.id.desc()).limit(200)):
        if u.beat_id in beat_ids:
            out.append(Place(True, a.text, unit_id=u.id, name=u.name, since=e.hire_date, until=e.departure_date,
                             confirmed=e.status != RecordStatus.pending, status=str(e.status)))
        else:
            out.append(Place(False, since=e.hire_date, until=e.departure_date, status=str(e.status)))
    return out


def naming(session: Session, person_id: int) -> list[int]:
    """The reports that name a person: their move-ins and hires, and the move-outs and departures of those.
    Found through the person's few tenancies and employments, each by an index (an OR over the submission
    table's columns would read the whole table)."""
    tenancies = list(session.execute(select(Tenancy.id, Tenancy.submission_id).where(Tenancy.person_id == person_id)))
    jobs = list(session.execute(select(Employment.id, Employment.submission_id)
                                .where(Employment.person_id == person_id)))
    ids = {sub for _t, sub in tenancies} | {sub for _e, sub in jobs}
    if tenancies:
        ids |= set(session.scalars(select(Submission.id).where(Submission.tenancy_id.in_([t for t, _s in tenancies]))))
    if jobs:
        ids |= set(session.scalars(select(Submission.id).where(Submission.employment_id.in_([e for e, _s in jobs]))))
    return sorted(ids)


def person_view(session: Session, officer: User, person_id: int, cursor: str | None = None) -> PersonView:
    found = person(session, officer, person_id)
    beat_ids = beats(session, officer)
    now, past = _tenancy_places(session, found.id, beat_ids)
    return PersonView(found, now, past, _work_places(session, found.id, beat_ids),
                      history(session, officer, Submission.id.in_(naming(session, found.id)), cursor))


# --- a unit ------------------------------------------------------------------------------------------

@dataclass
class StaffRow:
    person_id: int
    name: str
    id_masked: str
    position: str | None
    since: date | None
    confirmed: bool
    leaving: bool  # a departure is waiting for the police


@dataclass
class UnitView:
    unit: Unit
    address: str
    staff_total: int
    staff: Page
    uploads: list[StaffImport]
    claims: list[Claim] = field(default_factory=list)  # other employers' units with this USCC


def unit(session: Session, officer: User, unit_id: int) -> Unit:
    found = session.scalar(select(Unit).where(Unit.id == unit_id, Unit.beat_id.in_(beats(session, officer) or [0])))
    if found is None:
        raise NotFound()
    return found


def unit_view(session: Session, officer: User, unit_id: int, cursor: str | None = None, *,
              size: int = PAGE_SIZE) -> UnitView:
    found = unit(session, officer, unit_id)
    after = decode_cursor(cursor, (int,))
    query = (select(Employment.id, Employment, Person).join(Person, Person.id == Employment.person_id)
             .where(Employment.unit_id == found.id, *_employed()))
    rows, next_cursor = _keyset(session, query, (Employment.id,), after, size)
    ids = [r[1].id for r in rows]
    leaving = set(session.scalars(select(Submission.employment_id).where(
        Submission.employment_id.in_(ids), Submission.kind == SubmissionKind.departure,
        Submission.is_open.is_(True)))) if ids else set()
    staff = [StaffRow(p.id, p.name, mask_id(p.id_number), e.position, e.hire_date,
                      e.status == RecordStatus.verified, e.id in leaving) for _i, e, p in rows]
    uploads = list(session.scalars(select(StaffImport).where(StaffImport.unit_id == found.id)
                                   .order_by(StaffImport.id.desc()).limit(20)))
    return UnitView(found, session.get(Address, found.address_id).text,
                    staff_counts(session, [found.id]).get(found.id, 0), Page(staff, next_cursor), uploads,
                    rival_claims(session, officer, unit=found))


# --- two claims on one place: the other reporters' houses at an address, units with a USCC ------------

@dataclass
class Claim:
    """Another reporter's claim on the place of a house (its address) or a unit (its USCC)."""

    house_id: int | None
    unit_id: int | None
    owner: str  # masked
    status: str  # the record's: pending, verified (the claim stands), rejected, withdrawn
    item_id: int | None  # its latest registration report, for the officer's item page
    standing: bool


def rival_claims(session: Session, officer: User, *, house: House | None = None, unit: Unit | None = None,
                 limit: int = 20) -> list[Claim]:
    """Every other reporter's house on a place overlapping the house's address (unit with the unit's USCC),
    standing claims first, within the officer's jurisdiction only (flags.rivals_at is the rule of the flag)."""
    beat_ids = beats(session, officer) or [0]
    if house is not None:
        model, column, kind = House, Submission.house_id, SubmissionKind.house_registration
        where = flags.rivals_at(house.address, house.owner_id)
    elif unit is not None:
        model, column, kind = Unit, Submission.unit_id, SubmissionKind.unit_registration
        where = (Unit.uscc == unit.uscc, Unit.owner_id != unit.owner_id)
    else:
        return []
    found = session.execute(select(model.id, model.status, User.name).join(User, User.id == model.owner_id)
                            .where(*where, model.beat_id.in_(beat_ids)).order_by(model.id).limit(limit)).all()
    ids = [r.id for r in found]
    items = dict(session.execute(select(column, func.max(Submission.id)).where(
        column.in_(ids), Submission.kind == kind, Submission.beat_id.in_(beat_ids)).group_by(column)).all()
                 ) if ids else {}
    claims = [Claim(r.id if house is not None else None, r.id if unit is not None else None, mask_name(r.name),
                    str(r.status), items.get(r.id), r.status in STANDING) for r in found]
    return sorted(claims, key=lambda c: not c.standing)


def claims_for_item(session: Session, officer: User, sub: Submission) -> list[Claim]:
    """The other claims on the place of a registration report (its house's address, its unit's USCC)."""
    if sub.kind == SubmissionKind.house_registration and sub.house_id is not None:
        return rival_claims(session, officer, house=session.get(House, sub.house_id))
    if sub.kind == SubmissionKind.unit_registration and sub.unit_id is not None:
        return rival_claims(session, officer, unit=session.get(Unit, sub.unit_id))
    return []


# --- links from an item of the queue -----------------------------------------------------------------

@dataclass
class ItemLinks:
    house_id: int | None
    unit_id: int | None
    people: list[int | None]  # per person the declaration names, in its order: their register page


def links_for_item(session: Session, officer: User, sub: Submission) -> ItemLinks:
    """Register pages of what a queue item is about (the item is in the jurisdiction, so its house is)."""
    from portal.services.queue import persons_named

    ids = [p.id if p else None for p in persons_named(session, sub.payload)]
    shown = set(session.scalars(select(Person.id).where(Person.id.in_([i for i in ids if i]), in_scope(
        beats(session, officer))))) if any(ids) else set()
    return ItemLinks(sub.house_id, sub.unit_id, [i if i in shown else None for i in ids])

