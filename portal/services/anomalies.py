"""Anomaly lists for officers: where the register looks wrong, scoped to the officer's station or beat.

Each list is defined once here: one function builds its SQL (`_<list>_keys`), a count function counts
the same rows for the officer's home page, and a page function returns 50 rows a page, keyset-paged on
the list's key. Scoping is that of the queue: the beats of jurisdiction.beat_ids_for, never a beat or
station from the request."""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select, text, tuple_, union
from sqlalchemy.orm import Session, aliased

from portal.models import (
    House,
    HouseUse,
    Person,
    RecordStatus,
    StaffImport,
    Submission,
    SubmissionKind,
    Tenancy,
    Unit,
    User,
)
from portal.models.address import Address, AddressLevel
from portal.models.base import utcnow
from portal.services import flags, jurisdiction, planner, residence
from portal.services.filing import local_today
from portal.services.flags import ADULT_AGE, CHILD_AGE

PAGE_SIZE = 50
SILENT_DAYS = 180
STAFF_LIST_DAYS = 90
RENTAL_USES = (HouseUse.whole_rental, HouseUse.shared_rental, HouseUse.owner_occupied_rooms)

TITLES = {
    "two-houses": _l("People living in two houses"),
    "over-capacity": _l("Houses over capacity"),
    "children-alone": _l("Children under 16 with no adult"),
    "overdue": _l("Leases ended, no move-out reported"),
    "silent-houses": _l("Rental houses with no report for 180 days"),
    "no-staff-list": _l("Units with no staff list for 90 days"),
    "conflicting-claims": _l("One address registered by two reporters"),
    "shared-credit-codes": _l("One credit code registered by two employers"),
}
DEFINITIONS = {
    "two-houses": _l("A person living (declared or verified, not moved out, no move-out waiting for the "
                     "police) in a house of your jurisdiction and in another house at the same time."),
    "over-capacity": _l("Houses of your jurisdiction where more people live than the house allows."),
    "children-alone": _l("Houses where a child under 16 lives and nobody aged 18 or more, or of unknown "
                         "age, lives (the rule of the \"child alone\" flag)."),
    "overdue": _l("People still living in a house although their lease ended before today, and whose "
                  "move-out nobody reported."),
    "silent-houses": _l("Rental houses (declared or verified) on which nothing was reported for 180 days."),
    "no-staff-list": _l("Units (declared or verified, registered over 90 days ago) that uploaded no staff "
                        "list for 90 days."),
    "conflicting-claims": _l("Addresses with a house waiting for the police or verified while another "
                             "reporter's house, waiting or verified, stands on the same place: the same address, "
                             "the building that holds it, or a unit or room inside it."),
    "shared-credit-codes": _l("Unified social credit codes under which two or more employers registered a unit "
                              "that is waiting for the police or verified, one of them in your jurisdiction."),
}
KINDS = tuple(TITLES)


class BadCursor(ValueError):
    """A page cursor that this module did not give out."""


# --- cursors: the key of the last row of a page, opaque to the browser ----------------------------

def encode_cursor(key: tuple) -> str:
    raw = "|".join(v.isoformat() if isinstance(v, date) else str(int(v)) for v in key)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str | None, shape: tuple[type, ...]) -> tuple | None:
    """The key a cursor holds, of the types in `shape`; None for the first page; BadCursor otherwise."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        parts = raw.split("|")
        if len(parts) != len(shape):
            raise ValueError(raw)
        key = []
        for part, kind in zip(parts, shape, strict=True):
            if kind is date:
                key.append(date.fromisoformat(part))
            else:
                number = int(part)
                if not 0 <= number < 2**31:  # beyond an INTEGER column: PostgreSQL would refuse the query
                    raise ValueError(part)
                key.append(number)
        if encode_cursor(tuple(key)) != value:  # one spelling per key: base64's ignored characters too
            raise ValueError(value)
        return tuple(key)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadCursor(value) from None


# --- each list's definition: the keys of its rows, in key order ---------------------------------

# The lists read the summaries that database triggers keep (services/anomaly_summaries.py: who lives in each
# house and where each person lives, by residence.living; when a house was last reported on; who claims an
# address), so that each is an index range. The conditions of partial indexes are written out, as
# STANDING_TENANCY's is.
LIVING_IN_TWO = text("person.anom_living_count > 1")


def _two_houses_keys(beat_ids: list[int], today: date, now: datetime) -> tuple[Select, tuple]:
    """People living in two houses or more (a person's tenancies standing at once are in different houses:
    the partial unique index), one of them in the jurisdiction."""
    in_scope = exists().where(House.id == Tenancy.house_id, House.beat_id.in_(beat_ids))
    here = exists().where(Tenancy.person_id == Person.id, *residence.living(), in_scope)
    query = select(Person.id).where(LIVING_IN_TWO, here)
    return query, (Person.id,)


def _over_capacity_keys(beat_ids, today, now):
    query = select(House.id).where(House.beat_id.in_(beat_ids), House.max_occupants.is_not(None),
                                   House.anom_living_count > House.max_occupants)
    return query, (House.id,)


def _children_alone_keys(beat_ids, today, now):
    # By the birth year, the part of a birth date kept in the clear (the date is sealed): a child is born in
    # a year that makes them under 16 all this year; a possible adult is 18 or more by the end of it, or has
    # no birth date (no flag without evidence: the eldest birth year counts an unknown one as 0). Someone
    # turning 18 later this year counts as a possible adult.
    query = select(House.id).where(House.beat_id.in_(beat_ids), House.anom_eldest_birth_year > today.year - ADULT_AGE,
                                   House.anom_youngest_birth_year > today.year - CHILD_AGE)
    return query, (House.id,)


# The condition of the partial index ix_tenancy_lease_end_standing, written out: a planner uses a partial
# index only when the query states its condition, and bound parameters (residence.standing's) do not.
STANDING_TENANCY = text("tenancy.move_out_date IS NULL AND tenancy.status IN ('pending', 'verified')")


def _overdue_keys(beat_ids, today, now):
    # SQLite is to walk the lease ends in order (the partial index of STANDING_TENANCY) and check the house's
    # beat per row, not start from the houses' beat index (83,000 houses of a station, then sorted: 390 ms at
    # 1,000,000 persons); PostgreSQL chooses by its statistics (forced to walk, a beat's first page took 264 ms).
    query = (select(Tenancy.lease_end_date, Tenancy.id).join(House, House.id == Tenancy.house_id)
             .where(planner.not_from_index(House.beat_id).in_(beat_ids), *residence.living(), STANDING_TENANCY,
                    Tenancy.lease_end_date < today))
    return query, (Tenancy.lease_end_date, Tenancy.id)


def _silent_houses_keys(beat_ids, today, now):
    since = now - timedelta(days=SILENT_DAYS)
    query = select(House.id).where(House.beat_id.in_(beat_ids), House.use.in_(RENTAL_USES),
                                   House.status.in_(RecordStatus.ACTIVE),
                                   or_(House.anom_last_report_at.is_(None), House.anom_last_report_at < since))
    return query, (House.id,)


def _no_staff_list_keys(beat_ids, today, now):
    since = now - timedelta(days=STAFF_LIST_DAYS)
    uploaded = exists().where(StaffImport.unit_id == Unit.id, StaffImport.created_at >= since)
    query = select(Unit.id).where(Unit.beat_id.in_(beat_ids), Unit.status.in_(RecordStatus.ACTIVE),
                                  Unit.created_at < since, ~uploaded)
    return query, (Unit.id,)


CLAIMED_TWICE = text("address.anom_claimant_count > 1")


def _conflicting_claims_keys(beat_ids, today, now):
    """Addresses where another reporter's house overlaps a house of the jurisdiction (flags.overlapping): the same
    address (one grouping, of the few addresses that two owners claim: a summary the triggers keep), or a
    building-level house (a whole building, or a unit of it) and a house inside it. Wider houses are few, so the
    second part starts from them: checking the overlap for every house of a station took 11 s at 1,000,000
    persons (bench/README.md)."""
    here, standing = House.beat_id.in_(beat_ids), House.status.in_(RecordStatus.ACTIVE)
    # From the few addresses two owners' standing houses claim anywhere (a partial index), those where two owners
    # of the jurisdiction's houses do: never from the jurisdiction's many houses.
    owners_here = (select(func.count(func.distinct(House.owner_id)))
                   .where(House.address_id == Address.id, here, standing).scalar_subquery())
    same = select(Address.id.label("address_id")).where(CLAIMED_TWICE, owners_here > 1)
    wide, inside = aliased(House), aliased(House)
    wide_at, inside_at = aliased(Address), aliased(Address)
    # Buildings are few among the addresses, which SQLite is told: its statistics average 300,000 rows a level,
    # so it scanned all 600,000 addresses for them (527 ms at 1,000,000 persons; 0.4 ms from ix_address_level).
    # The wide houses that may concern the jurisdiction, found first (a CTE materialised, so that the planner
    # cannot walk every wide house's rooms before it looks): those of the jurisdiction, and those outside it whose
    # building has an address inside it (one probe of ix_address_building_beat each).
    somewhere_here = aliased(Address)
    building_here = exists().where(*(getattr(somewhere_here, c) == getattr(wide_at, c) for c in flags.BUILDING),
                                   somewhere_here.beat_id.in_(beat_ids))
    near = (select(wide.address_id, wide.owner_id, wide.beat_id).join(wide_at, wide_at.id == wide.address_id)
            .where(planner.rarely(wide_at.level == AddressLevel.building), wide.status.in_(RecordStatus.ACTIVE),
                   or_(wide.beat_id.in_(beat_ids), building_here))
            .cte("near").prefix_with("MATERIALIZED"))
    # The rooms' houses probed per room (an EXISTS): as a join SQLite built a Bloom filter of all 600,000 houses first.
    inside_claimed = exists().where(inside.address_id == inside_at.id, inside.status.in_(RecordStatus.ACTIVE),
                                    inside.owner_id != near.c.owner_id,
                                    or_(near.c.beat_id.in_(beat_ids), inside.beat_id.in_(beat_ids)))
    pairs = (select(near.c.address_id.label("wide"), inside_at.id.label("inside"))
             .join(wide_at, wide_at.id == near.c.address_id)
             .join(inside_at, flags.overlapping(inside_at, wide_at))
             .where(inside_claimed)).cte("pairs")
    # `pairs` is a CTE, read twice below and computed once: as a subquery PostgreSQL computed it for each use (2 x 78
    # ms for the 14,000 pairs of a city with 100 whole buildings claimed over others' rooms).
    # A pair's address is in scope with a standing house of the jurisdiction there: probed per pair (they are
    # few), not as a list of every house of the station (SQLite built that list: 270 ms at 1,000,000 persons).
    def in_scope(address_id):
        return exists().where(House.address_id == address_id, here, standing)

    keys = union(same, select(pairs.c.wide).where(in_scope(pairs.c.wide)),
                 select(pairs.c.inside).where(in_scope(pairs.c.inside))).subquery()
    return select(keys.c.address_id), (keys.c.address_id,)


def _shared_credit_codes_keys(beat_ids, today, now):
    """One row per credit code: its first unit in the jurisdiction, when another employer's unit has the code."""
    other, earlier = aliased(Unit), aliased(Unit)
    shared = exists().where(other.uscc == Unit.uscc, other.owner_id != Unit.owner_id,
                            other.status.in_(RecordStatus.ACTIVE))
    first_here = ~exists().where(earlier.uscc == Unit.uscc, earlier.id < Unit.id, earlier.beat_id.in_(beat_ids),
                                 earlier.status.in_(RecordStatus.ACTIVE))
    query = select(Unit.id).where(Unit.beat_id.in_(beat_ids), Unit.status.in_(RecordStatus.ACTIVE), shared,
                                  first_here)
    return query, (Unit.id,)


KEYS: dict[str, Callable] = {
    "two-houses": _two_houses_keys,
    "over-capacity": _over_capacity_keys,
    "children-alone": _children_alone_keys,
    "overdue": _overdue_keys,
    "silent-houses": _silent_houses_keys,
    "no-staff-list": _no_staff_list_keys,
    "conflicting-claims": _conflicting_claims_keys,
    "shared-credit-codes": _shared_credit_codes_keys,
}
CURSOR_SHAPES = {kind: ((date, int) if kind == "overdue" else (int,)) for kind in KINDS}


# Lists whose every row belongs to one beat (a house's, a unit's): each beat is read on its own, an index range
# on (beat_id, ..., id), and the beats' pages are merged. With the beats in one `beat_id IN (...)` the planner
# walks the primary key instead when the jurisdiction's rows lie far along it (bench/README.md).
BY_BEAT = frozenset({"over-capacity", "children-alone", "silent-houses"})


def _build(session: Session, officer: User, kind: str, today: date | None, now: datetime | None) -> list[tuple]:
    """The list's statements, one per beat for BY_BEAT, else one: [(query, key)]; [] outside any jurisdiction."""
    if kind not in KEYS:
        raise KeyError(kind)
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    parts = [[b] for b in beat_ids] if kind in BY_BEAT else [beat_ids] if beat_ids else []
    return [KEYS[kind](part, today or local_today(), now or utcnow()) for part in parts]


HOME_CAP = 100  # the home page counts up to this many rows of a list, then says "more than 100"


def count(session: Session, officer: User, kind: str, *, cap: int | None = None, today: date | None = None,
          now: datetime | None = None) -> int:
    """The rows of a list; with `cap`, at most cap + 1 (a count that stops early costs what a page costs)."""
    total = 0
    for query, _key in _build(session, officer, kind, today, now):
        if cap is not None:
            if total > cap:
                break
            query = query.limit(cap + 1 - total)
        total += session.scalar(select(func.count()).select_from(query.subquery()))
    return total


def counts(session: Session, officer: User, *, cap: int | None, **when) -> dict[str, int]:
    """Every list's count for the officer's home page, each up to `cap` + 1 (more than `cap`: cap + 1)."""
    return {kind: count(session, officer, kind, cap=cap, **when) for kind in KINDS}


# --- pages: keys first, then what each row shows -----------------------------------------------

@dataclass
class Place:
    address: str
    item_id: int | None  # the best item page of it: /officer/items/<id>; None outside the jurisdiction
    owner: str = ""  # masked
    status: str = ""
    in_scope: bool = True
    house_id: int | None = None  # its register page (services/register.py), inside the jurisdiction
    unit_id: int | None = None


@dataclass
class Row:
    key: tuple
    name: str = ""  # masked
    places: list[Place] = field(default_factory=list)
    number: int | None = None  # living count, or the like
    limit: int | None = None  # the house's capacity
    on: date | None = None  # the lease's end
    at: datetime | None = None  # the last report or staff list
    person_id: int | None = None  # the person's register page


@dataclass
class Page:
    kind: str
    rows: list[Row]
    next_cursor: str | None


def page(session: Session, officer: User, kind: str, cursor: str | None = None, *, size: int = PAGE_SIZE,
         today: date | None = None, now: datetime | None = None) -> Page:
    """One page of a list (BadCursor for a cursor not given out here; KeyError for an unknown list)."""
    after = decode_cursor(cursor, CURSOR_SHAPES[kind])
    keys = []
    for query, key in _build(session, officer, kind, today, now):
        if after is not None:
            query = query.where(tuple_(*key) > tuple_(*after)) if len(key) > 1 else query.where(key[0] > after[0])
        keys += [tuple(r) for r in session.execute(query.order_by(*key).limit(size + 1))]
    keys.sort()  # the beats' pages merged (one part: already in key order)
    keys = keys[:size + 1]
    more = len(keys) > size
    keys = keys[:size]
    beat_ids = jurisdiction.beat_ids_for(session, officer)
    rows = ROWS[kind](session, keys, beat_ids)
    return Page(kind, rows, encode_cursor(keys[-1]) if more and keys else None)


def _mask(name: str | None) -> str:
    from portal.services.identity import mask_name

    return mask_name(name)


def _latest_items(session: Session, beat_ids: list[int], column, ids: list[int], kind=None) -> dict[int, int]:
    """The newest submission in the jurisdiction per house (or unit) id: the best item page for it."""
    if not ids:
        return {}
    where = [column.in_(ids), Submission.beat_id.in_(beat_ids)]
    if kind is not None:
        where.append(Submission.kind == kind)
    return {owner: item for owner, item in session.execute(
        select(column, func.max(Submission.id)).where(*where).group_by(column))}


def _houses(session: Session, ids: list[int]) -> dict[int, tuple]:
    """Each house with its address, its owner's name (the only thing of the owner that a row shows), and its
    living count and last report time as the database holds them now (a House already in the session may
    have been loaded before a trigger changed them)."""
    if not ids:
        return {}
    return {h.id: (h, a, name, living, last) for h, a, name, living, last in session.execute(
        select(House, Address, User.name, House.anom_living_count, House.anom_last_report_at)
        .join(Address, Address.id == House.address_id)
        .join(User, User.id == House.owner_id).where(House.id.in_(ids)))}


def _two_houses_rows(session, keys, beat_ids):
    person_ids = [k[0] for k in keys]
    if not person_ids:
        return []
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    found = session.execute(select(Tenancy.person_id, Tenancy.house_id, Tenancy.submission_id, House.beat_id)
                            .join(House, House.id == Tenancy.house_id)
                            .where(Tenancy.person_id.in_(person_ids), *residence.living())
                            .order_by(Tenancy.id)).all()
    houses = _houses(session, [f.house_id for f in found if f.beat_id in beat_ids])
    by_person: dict[int, list[Place]] = {}
    for f in found:
        inside = f.beat_id in beat_ids
        place = (Place(houses[f.house_id][1].text, f.submission_id, _mask(houses[f.house_id][2]),
                       house_id=f.house_id)
                 if inside else Place("", None, in_scope=False))
        by_person.setdefault(f.person_id, []).append(place)
    return [Row((pid,), _mask(people[pid].name), by_person.get(pid, []), person_id=pid) for pid in person_ids]


def _house_rows(session, keys, beat_ids, *, number: bool = False, at: bool = False):
    """Each house's row; with `number`, who lives there, with `at`, its last report (the triggers' summaries)."""
    ids = [k[0] for k in keys]
    houses = _houses(session, ids)
    items = _latest_items(session, beat_ids, Submission.house_id, ids)
    rows = []
    for hid in ids:
        house, address, owner, living, last = houses[hid]
        rows.append(Row((hid,), "", [Place(address.text, items.get(hid), _mask(owner), str(house.status),
                                           house_id=hid)],
                        limit=house.max_occupants, number=living if number else None, at=last if at else None))
    return rows


def _over_capacity_rows(session, keys, beat_ids):
    return _house_rows(session, keys, beat_ids, number=True)


def _children_alone_rows(session, keys, beat_ids):
    return _house_rows(session, keys, beat_ids, number=True)


def _silent_houses_rows(session, keys, beat_ids):
    return _house_rows(session, keys, beat_ids, at=True)


def _overdue_rows(session, keys, beat_ids):
    ids = [k[1] for k in keys]
    if not ids:
        return []
    found = {t.id: (t, p) for t, p in session.execute(
        select(Tenancy, Person).join(Person, Person.id == Tenancy.person_id).where(Tenancy.id.in_(ids)))}
    houses = _houses(session, list({t.house_id for t, _p in found.values()}))
    rows = []
    for tid in ids:
        tenancy, person = found[tid]
        _house, address, owner, _living, _last = houses[tenancy.house_id]
        rows.append(Row((tenancy.lease_end_date, tid), _mask(person.name),
                        [Place(address.text, tenancy.submission_id, _mask(owner), house_id=tenancy.house_id)],
                        on=tenancy.lease_end_date, person_id=person.id))
    return rows


def _no_staff_list_rows(session, keys, beat_ids):
    ids = [k[0] for k in keys]
    if not ids:
        return []
    found = {u.id: (u, a) for u, a in session.execute(
        select(Unit, Address).join(Address, Address.id == Unit.address_id).where(Unit.id.in_(ids)))}
    items = _latest_items(session, beat_ids, Submission.unit_id, ids, SubmissionKind.unit_registration)
    last = dict(session.execute(select(StaffImport.unit_id, func.max(StaffImport.created_at))
                                .where(StaffImport.unit_id.in_(ids)).group_by(StaffImport.unit_id)).all())
    return [Row((uid,), found[uid][0].name, [Place(found[uid][1].text, items.get(uid), "",
                                                   str(found[uid][0].status), unit_id=uid)], at=last.get(uid))
            for uid in ids]


def _conflicting_claims_rows(session, keys, beat_ids):
    ids = [k[0] for k in keys]
    if not ids:
        return []
    found = session.execute(select(House, Address, User.name).join(Address, Address.id == House.address_id)
                            .join(User, User.id == House.owner_id)
                            .where(House.address_id.in_(ids), House.status.in_(RecordStatus.ACTIVE),
                                   House.beat_id.in_(beat_ids))
                            .order_by(House.id)).all()
    items = _latest_items(session, beat_ids, Submission.house_id, [h.id for h, _a, _u in found],
                          SubmissionKind.house_registration)
    by_address: dict[int, Row] = {aid: Row((aid,)) for aid in ids}
    for house, address, owner in found:
        by_address[house.address_id].places.append(
            Place(address.text, items.get(house.id), _mask(owner), str(house.status), house_id=house.id))
    return [by_address[aid] for aid in ids]


def _shared_credit_codes_rows(session, keys, beat_ids):
    """Each code's units, every employer's: those outside the jurisdiction shown as such, owners masked."""
    ids = [k[0] for k in keys]
    if not ids:
        return []
    codes = dict(session.execute(select(Unit.id, Unit.uscc).where(Unit.id.in_(ids))).all())
    found = session.execute(select(Unit, Address, User.name).join(Address, Address.id == Unit.address_id)
                            .join(User, User.id == Unit.owner_id)
                            .where(Unit.uscc.in_(set(codes.values())), Unit.status.in_(RecordStatus.ACTIVE))
                            .order_by(Unit.id)).all()
    items = _latest_items(session, beat_ids, Submission.unit_id, [u.id for u, _a, _n in found],
                          SubmissionKind.unit_registration)
    by_code: dict[str, Row] = {codes[uid]: Row((uid,)) for uid in ids}
    for unit, address, owner in found:
        row = by_code[unit.uscc]
        here = unit.beat_id in beat_ids
        if here and not row.name:  # the name of a unit of the jurisdiction, never of another station's
            row.name = unit.name
        row.places.append(Place(address.text if here else "", items.get(unit.id) if here else None,
                                _mask(owner) if here else "", str(unit.status), in_scope=here,
                                unit_id=unit.id if here else None))
    return [by_code[codes[uid]] for uid in ids]


ROWS: dict[str, Callable] = {
    "two-houses": _two_houses_rows,
    "over-capacity": _over_capacity_rows,
    "children-alone": _children_alone_rows,
    "overdue": _overdue_rows,
    "silent-houses": _silent_houses_rows,
    "no-staff-list": _no_staff_list_rows,
    "conflicting-claims": _conflicting_claims_rows,
    "shared-credit-codes": _shared_credit_codes_rows,
}
