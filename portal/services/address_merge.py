"""Merging duplicate standard addresses, and the clerk's duplicate finder (the virtual-house clean-up).

A merge keeps one address (the survivor) and re-points everything of the other to it in the caller's one
transaction: its houses, units, and through them their tenancies and submissions; the other stays, merged,
as an alias (addresses.by_code finds the survivor by its code, its door-plate page redirects), and the aliases
of the other become the survivor's. When one owner has a house at each address, the two are one house at the
survivor: the one that stands with the police is kept, the other's tenancies and submissions move onto it and
the empty record goes, what it was kept in the audit row. Scoping is address_upkeep's: the clerk's bureau.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import (
    Address,
    AddressPairDismissal,
    AddressStatus,
    House,
    RecordStatus,
    Submission,
    Tenancy,
    Unit,
    User,
)
from portal.services import address_duplicates, address_upkeep, addresses, audit
from portal.services.errors import FieldError, NotFound, StateConflict, ValidationFailed

_RANK = {RecordStatus.verified: 0, RecordStatus.pending: 1}


def _refuse(code: str, message) -> ValidationFailed:
    return ValidationFailed([FieldError(code, message, "survivor")])


def check(survivor: Address, other: Address) -> None:
    """A merge joins two different active addresses of the same kind."""
    if survivor.id == other.id:
        raise _refuse("merge_itself", _l("An address cannot be merged into itself."))
    if survivor.status != AddressStatus.active:
        raise _refuse("merge_into_retired", _l(
            "%(address)s is retired or merged into another: nothing can be merged into it.", address=survivor.text))
    if other.status != AddressStatus.active:
        raise _refuse("merge_not_active", _l(
            "%(address)s is retired or merged already.", address=other.text))
    if address_upkeep.kind_of(survivor) != address_upkeep.kind_of(other):
        raise _refuse("merge_kind", _l("A room merges with a room, a building with a building, a door plate with "
                                       "a door plate."))


@dataclass
class Merged:
    survivor: Address
    other: Address
    houses_moved: list[int]
    houses_joined: list[dict]
    units_moved: list[int]


def merge(session: Session, clerk: User, survivor_id: int, other_id: int, actor: audit.Actor) -> Merged:
    """Merge the other address into the survivor (both of the clerk's bureau): see the module's docstring."""
    survivor = address_upkeep.address(session, clerk, survivor_id)
    other = address_upkeep.address(session, clerk, other_id)
    check(survivor, other)
    _ensure_no_two_tenancies(session, survivor, other)
    # Both rows claimed while still active, in id order (two merges of one pair cannot deadlock): a clerk who
    # merged or retired either meanwhile wins, and this merge is refused. On PostgreSQL the rows stay locked.
    for address_id in sorted((survivor.id, other.id)):
        _claim(session, address_id)
    session.execute(update(Address).where(Address.id == other.id)
                    .values(status=AddressStatus.merged, replaced_by_id=survivor.id))
    moved, joined = _move_houses(session, survivor, other)
    units_moved = _move_units(session, survivor, other)
    session.execute(update(Address).where(Address.replaced_by_id == other.id).values(replaced_by_id=survivor.id))
    session.flush()
    note = {"survivor": survivor.code, "merged": other.code, "houses_moved": moved, "houses_joined": joined,
            "units_moved": units_moved}
    audit.record(session, "address.merge", actor, object_type="address", object_id=other.id,
                 detail=addresses.change_detail({"status": "active"},
                                                {"status": "merged", "replaced_by": survivor.code}, **note))
    audit.record(session, "address.merge_survivor", actor, object_type="address", object_id=survivor.id,
                 detail=addresses.change_detail(None, None, **note))
    return Merged(survivor, other, moved, joined, units_moved)


def _claim(session: Session, address_id: int) -> None:
    held = session.execute(update(Address).where(Address.id == address_id, Address.status == AddressStatus.active)
                           .values(status=AddressStatus.active))
    if held.rowcount != 1:
        raise StateConflict([FieldError("merge_not_active", _l("This address was merged or retired meanwhile."),
                                        "survivor")])


def _standing_people(session: Session, house_id: int) -> set[int]:
    return set(session.scalars(select(Tenancy.person_id).where(
        Tenancy.house_id == house_id, Tenancy.move_out_date.is_(None), Tenancy.status.in_(RecordStatus.ACTIVE))))


def _pairs(session: Session, survivor: Address, other: Address) -> list[tuple[House, House]]:
    """(house at the other address, the same owner's house at the survivor) for every owner with both."""
    theirs = {h.owner_id: h for h in session.scalars(select(House).where(House.address_id == survivor.id))}
    return [(h, theirs[h.owner_id]) for h in session.scalars(select(House).where(House.address_id == other.id)
                                                             .order_by(House.id)) if h.owner_id in theirs]


def _ensure_no_two_tenancies(session: Session, survivor: Address, other: Address) -> None:
    """One house of an owner cannot hold one person twice: such a merge waits until an officer ends one."""
    for mine, theirs in _pairs(session, survivor, other):
        if _standing_people(session, mine.id) & _standing_people(session, theirs.id):
            raise StateConflict([FieldError("merge_same_person", _l(
                "One landlord's houses at these two addresses both have the same person living there: the "
                "police must end one of the two tenancies before the addresses can be merged."), "survivor")])


def _move_houses(session: Session, survivor: Address, other: Address) -> tuple[list[int], list[dict]]:
    joined = []
    for mine, theirs in _pairs(session, survivor, other):
        keep, drop = sorted((theirs, mine), key=lambda h: _RANK.get(h.status, 2))  # stable: the survivor's first
        for model in (Tenancy, Submission):
            session.execute(update(model).where(model.house_id == drop.id).values(house_id=keep.id))
        joined.append({"kept": keep.id, "removed": drop.id, "owner_id": drop.owner_id, "use": str(drop.use),
                       "max_occupants": drop.max_occupants, "status": str(drop.status),
                       "certificate_no": drop.certificate_no})
        session.delete(drop)
        session.flush()
        keep.address_id, keep.beat_id = survivor.id, survivor.beat_id
    moved = []
    for house in session.scalars(select(House).where(House.address_id == other.id)):
        house.address_id, house.beat_id = survivor.id, survivor.beat_id
        moved.append(house.id)
    session.flush()
    kept = [j["kept"] for j in joined]
    _follow_beat(session, Submission.house_id.in_(moved + kept), survivor)
    return moved, joined


def _move_units(session: Session, survivor: Address, other: Address) -> list[int]:
    moved = []
    for unit in session.scalars(select(Unit).where(Unit.address_id == other.id)):
        unit.address_id, unit.beat_id = survivor.id, survivor.beat_id
        moved.append(unit.id)
    session.flush()
    _follow_beat(session, Submission.unit_id.in_(moved), survivor)
    return moved


def _follow_beat(session: Session, which, survivor: Address) -> None:
    """Open reports go to the survivor's beat and station (decided ones stay where they were decided)."""
    station_id = survivor.beat.station_id
    session.execute(update(Submission).where(which, Submission.is_open.is_(True))
                    .values(beat_id=survivor.beat_id, station_id=station_id))


# --- the duplicate finder -------------------------------------------------------------------------------------

@dataclass
class Pair:
    candidate: address_duplicates.Candidate
    first: Address
    second: Address
    houses: dict[int, int]


def candidates(session: Session, clerk: User, *, limit: int = 50) -> list[Pair]:
    """The most likely duplicate pairs of the clerk's bureau, best first, without those said not to be."""
    bureau = address_upkeep.clerk_bureau(session, clerk)
    if bureau is None:
        return []
    dismissed = {(d.first_id, d.second_id) for d in session.scalars(select(AddressPairDismissal))}
    found = address_duplicates.find(session, bureau_code=bureau.code, limit=limit, exclude=dismissed)
    ids = {c.first.id for c in found} | {c.second.id for c in found}
    loaded = {a.id: a for a in session.scalars(select(Address).where(Address.id.in_(ids)))} if ids else {}
    houses = dict(session.execute(select(House.address_id, func.count()).where(House.address_id.in_(ids))
                                  .group_by(House.address_id)).all()) if ids else {}
    return [Pair(c, loaded[c.first.id], loaded[c.second.id], houses) for c in found]


def dismiss(session: Session, clerk: User, first_id: int, second_id: int, actor: audit.Actor) -> None:
    """Remember that two addresses are not the same place: the finder shows the pair no more."""
    a = address_upkeep.address(session, clerk, first_id)
    b = address_upkeep.address(session, clerk, second_id)
    if a.id == b.id:
        raise NotFound()
    low, high = sorted((a.id, b.id))
    try:
        with session.begin_nested():  # a double click: the pair is remembered once
            session.add(AddressPairDismissal(first_id=low, second_id=high, by_id=clerk.id))
            session.flush()
    except IntegrityError:
        return
    for one, another in ((a, b), (b, a)):
        audit.record(session, "address.not_duplicate", actor, object_type="address", object_id=one.id,
                     detail=addresses.change_detail(None, None, not_the_same_as=another.code))
