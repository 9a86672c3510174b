"""The jurisdiction tree (Bureau > Station > Beat): which part of the city an officer may see, and how
administrators shape it: create and rename its parts, move a community or a building to another beat.

An administrator of no station manages every bureau; one whose account has a station manages that station's
bureau only, and anything outside it does not exist for them (NotFound). These functions add and flush; the
caller commits once.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Address, AddressLevel, Beat, Bureau, House, Role, Station, Submission, Unit, User
from portal.services import audit
from portal.services.errors import FieldError, NotFound, ValidationFailed

CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}", re.ASCII)
NAME_MAX = 100
PLACES_PAGE = 50
# The components that name a place (a door plate of a road, or of a community): register.py's PLACE.
PLACE = ("division_code", "township", "road", "door_no", "community")


def beat_ids_for(session: Session, user: User) -> list[int]:
    """A beat officer sees the beat; a station officer every beat of the station; an officer of a bureau's own
    staff every beat of the bureau's stations; others nothing."""
    if user.role != Role.officer:
        return []
    if user.beat_id is not None:
        return [user.beat_id]
    if user.station_id is not None:
        return list(session.scalars(select(Beat.id).where(Beat.station_id == user.station_id)))
    if user.bureau_id is not None:
        return list(session.scalars(select(Beat.id).join(Station, Station.id == Beat.station_id)
                                    .where(Station.bureau_id == user.bureau_id).order_by(Beat.id)))
    return []


def describe(user: User) -> str:
    if user.beat is not None:
        return f"{user.beat.station.name} · {user.beat.name}"
    if user.station is not None:
        return user.station.name
    return user.bureau.name if user.bureau is not None else ""


def beats_for(session: Session, user: User) -> list[Beat]:
    ids = beat_ids_for(session, user)
    return list(session.scalars(select(Beat).where(Beat.id.in_(ids)).order_by(Beat.code))) if ids else []


# --- the administrator's scope ------------------------------------------------------------------------

def managed_bureau_id(session: Session, admin: User) -> int | None:
    """The one bureau an administrator of a station (or of a bureau) manages; None for an administrator of every
    bureau (one placed nowhere)."""
    if admin.bureau_id is not None:
        return admin.bureau_id
    if admin.station_id is None:
        return None
    return session.scalar(select(Station.bureau_id).where(Station.id == admin.station_id))


def manages_everything(admin: User) -> bool:
    return admin.role == Role.admin and admin.station_id is None and admin.bureau_id is None


def get(session: Session, model, object_id: int | None):
    """One row by id; None for an id no INTEGER column can hold (PostgreSQL would refuse the query)."""
    if object_id is None or not 0 < object_id < 2**31:
        return None
    return session.get(model, object_id)


def _require_admin(admin: User) -> None:
    if admin.role != Role.admin:
        raise NotFound()


def bureaus(session: Session, admin: User) -> list[Bureau]:
    """The bureaus this administrator manages, by code, each with its stations and their beats."""
    _require_admin(admin)
    query = select(Bureau).order_by(Bureau.code)
    scope = managed_bureau_id(session, admin)
    if scope is not None:
        query = query.where(Bureau.id == scope)
    return list(session.scalars(query))


def bureau(session: Session, admin: User, bureau_id: int) -> Bureau:
    _require_admin(admin)
    found = get(session, Bureau, bureau_id)
    scope = managed_bureau_id(session, admin)
    if found is None or (scope is not None and found.id != scope):
        raise NotFound()
    return found


def station(session: Session, admin: User, station_id: int) -> Station:
    _require_admin(admin)
    found = get(session, Station, station_id)
    scope = managed_bureau_id(session, admin)
    if found is None or (scope is not None and found.bureau_id != scope):
        raise NotFound()
    return found


def beat(session: Session, admin: User, beat_id: int) -> Beat:
    _require_admin(admin)
    found = get(session, Beat, beat_id)
    scope = managed_bureau_id(session, admin)
    if found is None or (scope is not None and found.station.bureau_id != scope):
        raise NotFound()
    return found


def all_beats(session: Session, admin: User) -> list[Beat]:
    """Every beat the administrator manages, in tree order: the choices of a move or of an account."""
    _require_admin(admin)
    query = select(Beat).join(Station).join(Bureau).order_by(Bureau.code, Station.code, Beat.code)
    scope = managed_bureau_id(session, admin)
    if scope is not None:
        query = query.where(Station.bureau_id == scope)
    return list(session.scalars(query))


# --- codes and names ------------------------------------------------------------------------------------

def check_code(raw: str | None) -> str:
    value = unicodedata.normalize("NFKC", raw or "").strip()
    if not value:
        raise FieldError("required", _l("Enter a code."))
    if not CODE.fullmatch(value):
        raise FieldError("code_format", _l("A code has 1 to 32 letters, digits, hyphens or underscores, and "
                                           "starts with a letter or a digit."))
    return value


def check_name(raw: str | None) -> str:
    value = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not value:
        raise FieldError("required", _l("Enter a name."))
    if len(value) > NAME_MAX:
        raise FieldError("too_long", _l("A name can have at most %(n)d characters.", n=NAME_MAX))
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in value):
        raise FieldError("name_chars", _l("The name holds characters that cannot be shown; type it again."))
    return value


def _checked(code: str | None, name: str | None) -> tuple[str, str]:
    values, errors = {}, []
    for field, check, raw in (("code", check_code, code), ("name", check_name, name)):
        try:
            values[field] = check(raw)
        except FieldError as err:
            errors.append(err.at(field))
    if errors:
        raise ValidationFailed(errors)
    return values["code"], values["name"]


CODE_TAKEN = {
    Bureau: _l("A bureau with this code exists already."),
    Station: _l("A station with this code exists already."),
    Beat: _l("A beat with this code exists already."),
}


def _facts(obj: Bureau | Station | Beat) -> dict:
    facts = {"code": obj.code, "name": obj.name}
    if isinstance(obj, Station):
        facts["bureau"] = obj.bureau.code
    if isinstance(obj, Beat):
        facts["station"] = obj.station.code
    return facts


def _create(session: Session, obj: Bureau | Station | Beat, actor: audit.Actor):
    model = type(obj)
    if session.scalar(select(model.id).where(model.code == obj.code)) is not None:
        raise ValidationFailed([FieldError("code_taken", CODE_TAKEN[model], "code")])
    try:
        with session.begin_nested():
            session.add(obj)
            session.flush()
    except IntegrityError:  # the same code created by someone else at this very moment
        raise ValidationFailed([FieldError("code_taken", CODE_TAKEN[model], "code")]) from None
    audit.record(session, "jurisdiction.create", actor, object_type=model.__tablename__, object_id=obj.id,
                 detail=audit.changes(None, _facts(obj)))
    return obj


def create_bureau(session: Session, admin: User, *, code: str | None, name: str | None,
                  actor: audit.Actor) -> Bureau:
    """Only an administrator of every bureau creates one (to the others the page does not exist)."""
    _require_admin(admin)
    if not manages_everything(admin):
        raise NotFound()
    code, name = _checked(code, name)
    return _create(session, Bureau(code=code, name=name), actor)


def create_station(session: Session, admin: User, bureau_id: int, *, code: str | None, name: str | None,
                   actor: audit.Actor) -> Station:
    parent = bureau(session, admin, bureau_id)
    code, name = _checked(code, name)
    return _create(session, Station(code=code, name=name, bureau_id=parent.id), actor)


def create_beat(session: Session, admin: User, station_id: int, *, code: str | None, name: str | None,
                actor: audit.Actor) -> Beat:
    parent = station(session, admin, station_id)
    code, name = _checked(code, name)
    return _create(session, Beat(code=code, name=name, station_id=parent.id), actor)


def rename(session: Session, obj: Bureau | Station | Beat, name: str | None, actor: audit.Actor) -> None:
    """Give a bureau, station or beat (already loaded in the administrator's scope) a new name; its code,
    which other systems and the address import know it by, stays."""
    try:
        new = check_name(name)
    except FieldError as err:
        raise ValidationFailed([err.at("name")]) from None
    if new == obj.name:
        return
    before = _facts(obj)
    obj.name = new
    session.flush()
    audit.record(session, "jurisdiction.rename", actor, object_type=type(obj).__tablename__, object_id=obj.id,
                 detail=audit.changes(before, _facts(obj)))


# --- places of a beat, and moving them ----------------------------------------------------------------

@dataclass(frozen=True)
class Community:
    name: str
    addresses: int


@dataclass(frozen=True)
class BeatPlaces:
    communities: list[Community]
    buildings: list[Address]  # building-level addresses, one page
    next_after: int | None


def places(session: Session, beat_: Beat, *, after_id: int = 0) -> BeatPlaces:
    """The communities of a beat (with how many addresses each holds) and a page of its buildings."""
    rows = session.execute(
        select(Address.community, func.count()).where(Address.beat_id == beat_.id, Address.community != "")
        .group_by(Address.community).order_by(Address.community).limit(500))
    buildings = list(session.scalars(
        select(Address).where(Address.beat_id == beat_.id, Address.level == AddressLevel.building,
                              Address.id > after_id).order_by(Address.id).limit(PLACES_PAGE + 1)))
    more = len(buildings) > PLACES_PAGE
    buildings = buildings[:PLACES_PAGE]
    return BeatPlaces([Community(name, n) for name, n in rows], buildings,
                      buildings[-1].id if more else None)


@dataclass(frozen=True)
class Place:
    """What moves: every address of one community of a beat, or one building of it with its rooms."""

    beat: Beat
    community: str | None = None
    building: Address | None = None

    def where(self):
        if self.building is not None:
            b = self.building
            return and_(Address.beat_id == self.beat.id,
                        tuple_(*(getattr(Address, c) for c in PLACE)) == tuple(getattr(b, c) for c in PLACE),
                        Address.building == b.building)
        return and_(Address.beat_id == self.beat.id, Address.community == self.community)

    def describe(self) -> dict:
        if self.building is not None:
            return {"building": self.building.code, "address": self.building.text}
        return {"community": self.community}


def place(session: Session, admin: User, beat_id: int, *, community: str | None = None,
          building_id: int | None = None) -> Place:
    """A community or a building of a beat the administrator manages; anything else is NotFound."""
    source = beat(session, admin, beat_id)
    if building_id is not None:
        found = get(session, Address, building_id)
        if found is None or found.beat_id != source.id or found.level != AddressLevel.building:
            raise NotFound()
        return Place(source, building=found)
    if community and session.scalar(select(Address.id).where(Address.beat_id == source.id,
                                                             Address.community == community).limit(1)):
        return Place(source, community=community)
    raise NotFound()


@dataclass(frozen=True)
class Moved:
    addresses: int
    houses: int
    units: int
    items: int
    to_beat: str = ""


def _target_beat(session: Session, admin: User, what: Place, to_beat_id: int | None) -> Beat:
    def refuse(code, message):
        return ValidationFailed([FieldError(code, message, "to_beat")])

    target = get(session, Beat, to_beat_id)
    scope = managed_bureau_id(session, admin)
    if target is None or (scope is not None and target.station.bureau_id != scope):
        raise refuse("required", _l("Choose the beat to move it to."))
    if target.id == what.beat.id:
        raise refuse("same_beat", _l("It is in this beat already: choose another beat."))
    if target.station.bureau_id != what.beat.station.bureau_id:
        raise refuse("other_bureau", _l("%(beat)s belongs to another bureau. A community or a building can move "
                                        "only to a beat of its own bureau, %(bureau)s.",
                                        beat=target.name, bureau=what.beat.station.bureau.name))
    return target


def move(session: Session, admin: User, what: Place, to_beat_id: int | None, actor: audit.Actor) -> Moved:
    """Move a place to another beat of the same bureau: its addresses, the houses and units on them and the
    open queue items about those go with it, in the caller's one transaction. Decided reports keep the beat
    they were decided in (the quality rates of the past stay as they were)."""
    target = _target_beat(session, admin, what, to_beat_id)
    addresses = select(Address.id).where(what.where())
    houses = select(House.id).where(House.address_id.in_(addresses))
    units = select(Unit.id).where(Unit.address_id.in_(addresses))
    plain = {"synchronize_session": False}
    n_items = session.execute(
        update(Submission).where(Submission.is_open.is_(True),
                                 or_(Submission.house_id.in_(houses), Submission.unit_id.in_(units)))
        .values(beat_id=target.id, station_id=target.station_id), execution_options=plain).rowcount
    n_houses = session.execute(update(House).where(House.address_id.in_(addresses)).values(beat_id=target.id),
                               execution_options=plain).rowcount
    n_units = session.execute(update(Unit).where(Unit.address_id.in_(addresses)).values(beat_id=target.id),
                              execution_options=plain).rowcount
    n_addresses = session.execute(update(Address).where(what.where()).values(beat_id=target.id),
                                  execution_options=plain).rowcount
    moved = Moved(n_addresses, n_houses, n_units, n_items, target.name)
    audit.record(session, "jurisdiction.move", actor, object_type="beat", object_id=what.beat.id,
                 detail=audit.changes({"beat": what.beat.code}, {"beat": target.code}, place=what.describe(),
                                      moved={"addresses": n_addresses, "houses": n_houses, "units": n_units,
                                             "open_items": n_items}))
    session.expire_all()  # the rows changed under the session's objects
    return moved


def move_beat(session: Session, admin: User, beat_: Beat, to_station_id: int | None, actor: audit.Actor) -> int:
    """Put a beat under another police station of the same bureau: its officers and its open queue items go
    with it (decided reports keep the station that decided them). Returns the number of open items moved."""
    def refuse(code, message):
        return ValidationFailed([FieldError(code, message, "to_station")])

    target = get(session, Station, to_station_id)
    scope = managed_bureau_id(session, admin)
    if target is None or (scope is not None and target.bureau_id != scope):
        raise refuse("required", _l("Choose the police station to move the beat to."))
    if target.id == beat_.station_id:
        raise refuse("same_station", _l("The beat is in this police station already: choose another one."))
    if target.bureau_id != beat_.station.bureau_id:
        raise refuse("other_bureau", _l("%(station)s belongs to another bureau. A beat can move only to a police "
                                        "station of its own bureau, %(bureau)s.",
                                        station=target.name, bureau=beat_.station.bureau.name))
    before = _facts(beat_)
    plain = {"synchronize_session": False}
    items = session.execute(update(Submission).where(Submission.beat_id == beat_.id, Submission.is_open.is_(True))
                            .values(station_id=target.id), execution_options=plain).rowcount
    session.execute(update(User).where(User.beat_id == beat_.id).values(station_id=target.id),
                    execution_options=plain)
    beat_.station_id = target.id
    session.flush()
    session.expire_all()
    audit.record(session, "jurisdiction.move", actor, object_type="beat", object_id=beat_.id,
                 detail=audit.changes(before, _facts(beat_), moved={"open_items": items}))
    return items
